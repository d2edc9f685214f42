"""Word <-> subword alignment for token classification.

Labelling follows NER-BERT (Liu et al. 2021, §4.4): the first subword of each word
carries the word's tag id; the word's other subwords and the special tokens get
``-100`` so the loss ignores them. Predictions are read back the same way, from each
word's first subword.

One exception keeps ``pipeline("ner", aggregation_strategy="first")`` faithful to
these word-level predictions: the pipeline sees a new word at every piece the
tokenizer does not mark as a continuation (BERT splits ``self-rule`` into ``self``,
``-``, ``rule``: three words to the pipeline, one in the data). With ``inside_ids``
those inner word-starting pieces get the word's inside tag (``I-X`` for ``B-X`` or
``I-X``, ``O`` for ``O``), so the pipeline groups them back into the word's entity.
Predictions are still read at the first subword only.

Long sentences are never truncated. A sentence needing more than ``max_length``
tokens is cut into overlapping windows of whole words (a word's subwords never
straddle two windows). Every word appears in one or more windows; exactly one window
"owns" it and carries its gold label: the one where the word has the most context,
i.e. is farthest (in tokens) from a window edge that cuts the sentence. A window edge
at the sentence's start or end does not count as a cut. :func:`merge_word_predictions`
applies the same rule when reading predictions back, so a word's prediction comes
from the window it was trained/labelled in.

Words with zero subwords: some words vanish in tokenization (BERT's normaliser
deletes control and zero-width characters such as ``"\\u200b"``). Such a word has no
position, so it gets no label and no prediction; it is listed in the
``unaligned_words`` column and :func:`merge_word_predictions` gives it
``default_label_id`` (0, i.e. ``"O"``: label lists always start with ``"O"``). The
word-level output therefore still has one label per word, labels of the other words
are not shifted, and a gold entity on such a word counts as missed at scoring time.

Byte-level BPE tokenizers (RoBERTa, GPT-2) must be loaded with
``add_prefix_space=True``; otherwise every word after the first is encoded as if
glued to its neighbour. :func:`check_tokenizer` rejects them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np

IGNORE_INDEX = -100
# Position-embedding limit of BERT-family encoders; tokenizers without a configured
# model_max_length report a huge sentinel value.
MAX_WINDOW_TOKENS = 512


def check_tokenizer(tokenizer) -> None:
    """Raise if ``tokenizer`` cannot align pre-split words (slow, or byte-level BPE without prefix space)."""
    if not getattr(tokenizer, "is_fast", False):
        raise TypeError(
            f"{type(tokenizer).__name__} is not a fast (Rust-backed) tokenizer; word_ids() needs one"
        )
    pre_tokenizer = json.loads(tokenizer.backend_tokenizer.to_str()).get("pre_tokenizer")
    if _has_byte_level_without_prefix_space(pre_tokenizer):
        raise ValueError(
            f"{type(tokenizer).__name__} uses byte-level BPE without add_prefix_space; pre-split "
            "words would be encoded as if glued together. Load it with "
            "AutoTokenizer.from_pretrained(name, add_prefix_space=True)."
        )


def resolve_max_length(tokenizer, max_length: int | None = None) -> int:
    """Window length in tokens: ``max_length`` or the tokenizer's limit, capped at 512."""
    if max_length is None:
        max_length = min(int(tokenizer.model_max_length), MAX_WINDOW_TOKENS)
    specials = tokenizer.num_special_tokens_to_add(pair=False)
    if max_length <= specials:
        raise ValueError(f"max_length={max_length} leaves no room next to {specials} special tokens")
    return max_length


def tokenize_and_align(
    examples: Mapping[str, Sequence],
    tokenizer,
    *,
    max_length: int | None = None,
    stride: int = 32,
    indices: Sequence[int] | None = None,
    inside_ids: Sequence[int] | None = None,
) -> dict[str, list]:
    """Tokenize a batch of pre-split sentences into labelled windows (one row per window).

    ``examples["tokens"]`` holds word lists and optional ``examples["ner_tags"]`` their
    tag ids. ``stride`` is the most tokens two consecutive windows of a sentence share
    (whole words only). ``indices`` are the sentences' global indices (pass
    ``with_indices=True`` to ``Dataset.map``, or use :func:`align_dataset`); without
    them sentences are numbered from 0 within the batch. ``inside_ids[t]`` is the tag id
    that continues tag id ``t`` (see :func:`inside_tag_ids`); given, the pieces of a word
    that ``pipeline("ner")`` reads as new words carry it (see the module docstring).

    Output columns, one entry per window: ``input_ids``, ``attention_mask``,
    ``token_type_ids`` (if the tokenizer makes them), ``labels`` (if tags were given:
    tag id at the first subword of each word the window owns, -100 elsewhere),
    ``word_index`` (sentence word index at the first subword of every word in the
    window, -100 elsewhere), ``sentence_index``, ``window_id`` (0-based within the
    sentence), ``window_count``, ``num_words`` (words in the sentence) and
    ``unaligned_words`` (indices of words with zero subwords, listed on window 0 only).
    The row count differs from the input's, so ``Dataset.map`` needs ``remove_columns``.
    """
    check_tokenizer(tokenizer)
    max_length = resolve_max_length(tokenizer, max_length)
    budget = max_length - tokenizer.num_special_tokens_to_add(pair=False)
    if not 0 <= stride < budget:
        raise ValueError(f"stride must be in [0, {budget}) for max_length={max_length}, got {stride}")

    sentences = [list(words) for words in examples["tokens"]]
    tags = examples.get("ner_tags")
    if tags is not None:
        for i, (words, sentence_tags) in enumerate(zip(sentences, tags, strict=True)):
            if len(words) != len(sentence_tags):
                raise ValueError(f"sentence {i}: {len(words)} tokens but {len(sentence_tags)} ner_tags")
    if indices is None:
        indices = range(len(sentences))

    # verbose=False: over-long sentences are expected here, they get windowed below.
    inner = tags is not None and inside_ids is not None
    whole = tokenizer(sentences, is_split_into_words=True, truncation=False, verbose=False,
                      return_offsets_mapping=inner)
    columns = [key for key in ("input_ids", "token_type_ids", "attention_mask") if key in whole]

    # Per sentence: (word range, source encoding, row in it) for each window; windowed
    # sentences are re-encoded per slice in one batched call below.
    plans: list[list[tuple[int, int, str, int]]] = []
    unaligned: list[list[int]] = []
    slices: list[list[str]] = []
    for i, words in enumerate(sentences):
        n_subwords = [0] * len(words)
        for word in whole.word_ids(i):
            if word is not None:
                n_subwords[word] += 1
        unaligned.append([w for w, n in enumerate(n_subwords) if n == 0])
        if len(whole["input_ids"][i]) <= max_length:
            plans.append([(0, len(words), "whole", i)])
            continue
        plan = []
        for start, end in plan_windows(n_subwords, budget=budget, stride=stride):
            plan.append((start, end, "slice", len(slices)))
            slices.append(words[start:end])
        plans.append(plan)
    # truncation only ever bites on a window holding a single word longer than the
    # budget; it loses that word's trailing subwords, never its first one.
    sliced = (
        tokenizer(slices, is_split_into_words=True, truncation=True, max_length=max_length, verbose=False,
                  return_offsets_mapping=inner)
        if slices
        else None
    )

    out: dict[str, list] = defaultdict(list)
    for i, plan in enumerate(plans):
        windows = []
        for start, _end, source, row in plan:
            encoding = whole if source == "whole" else sliced
            windows.append((encoding, row, _first_subwords(encoding.word_ids(row), offset=start)))
        owners = _pick_windows([firsts for _, _, firsts in windows])
        for k, (encoding, row, firsts) in enumerate(windows):
            length = len(encoding["input_ids"][row])
            for key in columns:
                out[key].append(encoding[key][row])
            word_index = [IGNORE_INDEX] * length
            for word, position in firsts:
                word_index[position] = word
            out["word_index"].append(word_index)
            if tags is not None:
                labels = [IGNORE_INDEX] * length
                for word, position in firsts:
                    if owners[word] == k:
                        labels[position] = int(tags[i][word])
                if inner:
                    for word, position in _pipeline_inner_starts(tokenizer, encoding, row, sentences[i], plan[k][0]):
                        if owners.get(word) == k:
                            labels[position] = int(inside_ids[int(tags[i][word])])
                out["labels"].append(labels)
            out["sentence_index"].append(int(indices[i]))
            out["window_id"].append(k)
            out["window_count"].append(len(windows))
            out["num_words"].append(len(sentences[i]))
            out["unaligned_words"].append(unaligned[i] if k == 0 else [])
    return dict(out)


def inside_tag_ids(label_names: Sequence[str]) -> list[int]:
    """Per tag id, the id of the tag that continues it inside an entity: ``I-X`` for ``B-X``/``I-X``, else itself."""
    index = {name: i for i, name in enumerate(label_names)}
    return [index.get(f"I-{name[2:]}", i) if name[:2] in ("B-", "I-") else i for i, name in enumerate(label_names)]


def _pipeline_inner_starts(tokenizer, encoding, row: int, words: Sequence[str], offset: int
                           ) -> list[tuple[int, int]]:
    """``(sentence word index, position)`` of the pieces inside a word (not its first subword) where
    ``pipeline("ner")`` starts a new word.

    The rule is the pipeline's own (``gather_pre_entities``): with a continuation
    prefix (WordPiece ``##``) a piece is a continuation when its text and its span
    differ in length; without one, when no space precedes it; an unknown token
    always starts a word.
    """
    prefix = getattr(tokenizer.backend_tokenizer.model, "continuing_subword_prefix", None)
    word_ids = encoding.word_ids(row)
    ids = encoding["input_ids"][row]
    offsets = encoding["offset_mapping"][row]
    starts = []
    for position in range(1, len(word_ids)):
        word = word_ids[position]
        if word is None or word != word_ids[position - 1]:
            continue
        begin, end = offsets[position]
        if ids[position] == tokenizer.unk_token_id:
            new_word = True
        elif prefix:
            new_word = len(tokenizer.convert_ids_to_tokens(ids[position])) == end - begin
        else:
            new_word = begin > 0 and " " in words[word + offset][begin - 1:begin + 1]
        if new_word:
            starts.append((word + offset, position))
    return starts


def align_dataset(dataset, tokenizer, *, max_length: int | None = None, stride: int = 32,
                  inside_ids: Sequence[int] | None = None, **map_kwargs):
    """``dataset.map`` of :func:`tokenize_and_align` with global sentence indices; drops the input columns."""
    import datasets

    check_tokenizer(tokenizer)
    ids, small, ints = (
        datasets.List(datasets.Value("int32")),
        datasets.List(datasets.Value("int8")),
        datasets.List(datasets.Value("int64")),
    )
    # Explicit features: a batch where no word lost its subwords would otherwise type
    # `unaligned_words` as list<null> and clash with later batches.
    schema = {"input_ids": ids}
    encoded_keys = tokenizer("a")
    schema.update({key: small for key in ("token_type_ids", "attention_mask") if key in encoded_keys})
    schema["word_index"] = ints
    if "ner_tags" in dataset.column_names:
        schema["labels"] = ints
    for key in ("sentence_index", "window_id", "window_count", "num_words"):
        schema[key] = datasets.Value("int64")
    schema["unaligned_words"] = ints
    return dataset.map(
        _align_batch,
        batched=True,
        with_indices=True,
        remove_columns=dataset.column_names,
        features=datasets.Features(schema),
        fn_kwargs={"tokenizer": tokenizer, "max_length": max_length, "stride": stride, "inside_ids": inside_ids},
        **map_kwargs,
    )


def count_windowed(rows) -> int:
    """Number of sentences split into more than one window, from an aligned dataset or column dict."""
    return sum(1 for window_id in rows["window_id"] if window_id == 1)


def plan_windows(n_subwords: Sequence[int], *, budget: int, stride: int) -> list[tuple[int, int]]:
    """Overlapping ``[start, end)`` word ranges whose subword counts fit ``budget``.

    Consecutive windows share at most ``stride`` tokens of whole words, and each
    window adds at least one word not seen before. A single word longer than
    ``budget`` gets a window of its own (the caller truncates its tail).
    """
    n = len(n_subwords)
    cumulative = np.concatenate([[0], np.cumsum(n_subwords, dtype=np.int64)]).tolist()
    windows: list[tuple[int, int]] = []
    start = 0
    while True:
        end = start
        # Take words while they fit; a window with no tokens yet takes the next word regardless.
        while end < n and (
            cumulative[end + 1] - cumulative[start] <= budget or cumulative[end] == cumulative[start]
        ):
            end += 1
        windows.append((start, end))
        if end >= n:
            return windows
        # Step back over whole words for the overlap, leaving room for word `end`, which
        # did not fit, so that the next window makes progress.
        overlap_limit = min(stride, budget - n_subwords[end])
        next_start = end
        while next_start - 1 > start and cumulative[end] - cumulative[next_start - 1] <= overlap_limit:
            next_start -= 1
        start = next_start


def merge_word_predictions(
    sentence_lengths: Sequence[int],
    sentence_index: Sequence[int],
    word_index: Sequence[Sequence[int]],
    predictions,
    *,
    default_label_id: int = 0,
) -> list[list[int]]:
    """Per sentence, per word, the predicted label id read at the word's first subword.

    ``predictions`` has one entry per window row: token logits ``(seq_len, num_labels)``
    or label ids ``(seq_len,)``; rows may be padded beyond their ``word_index`` length
    (as ``Trainer.predict`` pads them). Label id ``-100`` means "no prediction here".
    A word seen in several windows takes the prediction of the window where it has
    the most context (the rule that chose its owner in :func:`tokenize_and_align`);
    a word with no prediction anywhere gets ``default_label_id``.
    """
    if not len(sentence_index) == len(word_index) == len(predictions):
        raise ValueError(
            f"sentence_index ({len(sentence_index)}), word_index ({len(word_index)}) and "
            f"predictions ({len(predictions)}) must have one entry per window"
        )
    rows_of = defaultdict(list)
    for row, sentence in enumerate(sentence_index):
        if not 0 <= sentence < len(sentence_lengths):
            raise ValueError(f"row {row}: sentence_index {sentence} outside 0..{len(sentence_lengths) - 1}")
        rows_of[int(sentence)].append(row)

    merged = [[default_label_id] * int(length) for length in sentence_lengths]
    for sentence, rows in rows_of.items():
        firsts_per_window = []
        predicted_per_window = []
        for row in rows:
            firsts = _first_subwords_from_index(word_index[row])
            for word, _ in firsts:
                if word >= len(merged[sentence]):
                    raise ValueError(
                        f"row {row}: word index {word} beyond sentence {sentence} "
                        f"of {len(merged[sentence])} words"
                    )
            label_ids = _label_ids(predictions[row])
            if len(label_ids) < len(word_index[row]):
                raise ValueError(
                    f"row {row}: {len(label_ids)} predictions for {len(word_index[row])} positions"
                )
            firsts_per_window.append(firsts)
            predicted_per_window.append(
                {word: int(label_ids[pos]) for word, pos in firsts if label_ids[pos] != IGNORE_INDEX}
            )
        chosen = _pick_windows(firsts_per_window, candidates=[set(p) for p in predicted_per_window])
        for word, window in chosen.items():
            merged[sentence][word] = predicted_per_window[window][word]
    return merged


def _align_batch(examples, indices, tokenizer, max_length, stride, inside_ids=None):
    return tokenize_and_align(examples, tokenizer, max_length=max_length, stride=stride, indices=indices,
                              inside_ids=inside_ids)


def _first_subwords(word_ids: Sequence[int | None], *, offset: int) -> list[tuple[int, int]]:
    """``(sentence word index, position)`` of each word's first subword in one encoding."""
    firsts = []
    previous = None
    for position, word in enumerate(word_ids):
        if word is not None and word != previous:
            firsts.append((word + offset, position))
        previous = word
    return firsts


def _first_subwords_from_index(word_index: Sequence[int]) -> list[tuple[int, int]]:
    return [(int(word), position) for position, word in enumerate(word_index) if word >= 0]


def _pick_windows(
    firsts_per_window: Sequence[Sequence[tuple[int, int]]],
    candidates: Sequence[set[int]] | None = None,
) -> dict[int, int]:
    """Word -> window (list position) giving it the most context, among one sentence's windows.

    Context is the token distance from the word's first subword to the nearer window
    edge, where an edge at the sentence start/end is infinitely far. Ties go to the
    window starting earlier. ``candidates`` restricts, per window, the eligible words.
    """
    spans = [(min(w for w, _ in f), max(w for w, _ in f)) if f else None for f in firsts_per_window]
    present = [s for s in spans if s is not None]
    if not present:
        return {}
    sentence_first = min(lo for lo, _ in present)
    sentence_last = max(hi for _, hi in present)
    # Earlier-starting windows first, so that a strict ">" keeps them on ties.
    order = sorted((k for k, s in enumerate(spans) if s is not None), key=lambda k: spans[k][0])
    best: dict[int, tuple[float, int]] = {}
    for k in order:
        firsts = firsts_per_window[k]
        lo, hi = spans[k]
        left_edge, right_edge = firsts[0][1], firsts[-1][1]
        for word, position in firsts:
            if candidates is not None and word not in candidates[k]:
                continue
            left = np.inf if lo == sentence_first else position - left_edge
            right = np.inf if hi == sentence_last else right_edge - position
            context = min(left, right)
            if word not in best or context > best[word][0]:
                best[word] = (context, k)
    return {word: k for word, (_, k) in best.items()}


def _label_ids(prediction) -> np.ndarray:
    values = np.asarray(prediction)
    if values.ndim == 2:
        return values.argmax(-1)
    if values.ndim == 1:
        return values.astype(np.int64)
    raise ValueError(f"expected per-token logits (seq_len, num_labels) or ids (seq_len,), got shape {values.shape}")


def _has_byte_level_without_prefix_space(component) -> bool:
    """Search a serialized tokenizers pre_tokenizer (possibly a Sequence) for that ByteLevel setting."""
    if isinstance(component, dict):
        if component.get("type") == "ByteLevel" and not component.get("add_prefix_space", False):
            return True
        return any(_has_byte_level_without_prefix_space(value) for value in component.values())
    if isinstance(component, list):
        return any(_has_byte_level_without_prefix_space(value) for value in component)
    return False
