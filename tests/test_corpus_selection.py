"""NER-BERT §2.2-2.4: sentence tagging with anchors, the three filters, balancing, the split."""

from collections import Counter

import pytest

from nerbert_hf.corpus.selection import (
    ENTITY,
    balance,
    category_counts,
    drop_probabilities,
    drop_probability,
    drop_scarce_categories,
    filter_sentences,
    sentence_types,
    split_train_validation,
)
from nerbert_hf.corpus.sentences import TOKEN_RE, PunktError, Sentence, load_punkt, tag_paragraph
from nerbert_hf.labels import is_valid_iob2


def S(*types, n_entity=0, title="T"):
    tags = []
    for t in types:
        tags += [f"B-{t}", f"I-{t}", "O"]
    tags += ["B-ENTITY", "O"] * n_entity
    return Sentence(["w"] * len(tags), tags, title, 0)


@pytest.fixture(scope="module")
def punkt(shared_data):
    return load_punkt(shared_data / "nltk" / "punkt_tab.zip")


def test_tag_paragraph_aligns_anchors_to_tokens(punkt):
    text = "Barack Obama was born in Honolulu, Hawaii. He was the 44th president of the U.S. until 2017."
    anchors = [(0, 12, "Barack Obama"), (25, 33, "Honolulu"), (35, 41, "Hawaii"), (77, 81, "United States")]
    types = {"Barack Obama": "Politician", "Honolulu": "City", "United States": "Country"}
    first, second = tag_paragraph(text, anchors, punkt, types.get, title="Obama", page_id=7)
    assert first.tokens == ["Barack", "Obama", "was", "born", "in", "Honolulu", ",", "Hawaii", "."]
    assert first.tags == ["B-politician", "I-politician", "O", "O", "O", "B-city", "O", "B-ENTITY", "O"]
    assert (first.title, first.page_id) == ("Obama", 7)
    assert second.tokens[3:5] == ["44th", "president"] and "B-country" in second.tags
    assert second.tokens[second.tags.index("B-country")] == "U.S."
    for s in (first, second):
        assert is_valid_iob2(s.tags)
        assert " ".join(s.tokens).replace(" ", "") in text.replace(" ", "")


def test_adjacent_anchors_stay_separate_entities(punkt):
    text = "See New York Boston today."
    anchors = [(4, 12, "New York City"), (13, 19, "Boston")]
    (s,) = tag_paragraph(text, anchors, punkt, {"New York City": "City", "Boston": "City"}.get)
    assert s.tags == ["O", "B-city", "I-city", "B-city", "O", "O"]


def test_tokens_are_exact_substrings():
    text = "Don't stop: the 44th U.S.A. co-op cost $3.5 on 10:30... rock'n'roll -- ok"
    tokens = [m.group() for m in TOKEN_RE.finditer(text)]
    assert tokens == ["Do", "n't", "stop", ":", "the", "44th", "U.S.A.", "co-op", "cost", "$", "3.5", "on",
                      "10:30", "...", "rock'n'roll", "--", "ok"]


def test_punkt_errors(tmp_path):
    with pytest.raises(PunktError, match="no such file"):
        load_punkt(tmp_path / "missing.zip")
    (tmp_path / "bad.zip").write_text("not a zip")
    with pytest.raises(PunktError, match="not a zip"):
        load_punkt(tmp_path / "bad.zip")
    with pytest.raises(PunktError, match="no punkt_tab/english"):
        load_punkt(tmp_path)


def test_scarce_categories_become_entity():
    sentences = [S("city")] * 3 + [S("moon")]
    out, scarce = drop_scarce_categories(sentences, min_count=2)
    assert scarce == ["moon"]
    assert category_counts(out) == Counter({"city": 3, ENTITY: 1})
    assert out[-1].tags[:2] == ["B-ENTITY", "I-ENTITY"]


def test_drop_probabilities_are_drop_probability():
    import numpy as np

    cases = [[ENTITY] * n + typed for n in range(8) for typed in ([], ["city"], ["moon"], ["city", "moon"])]
    top = {ENTITY, "city"}
    n_entity = np.array([sum(t == ENTITY for t in types) for types in cases])
    all_top = np.array([all(t in top for t in types) for types in cases])
    assert drop_probabilities(n_entity, all_top).tolist() == [drop_probability(types, top) for types in cases]


def test_filters_follow_section_2_3():
    frequent = [S("city", n_entity=k) for k in (0, 3, 4, 5, 6) for _ in range(200)]
    rare = [S("moon", n_entity=5) for _ in range(50)]
    only_entity = [S(n_entity=2) for _ in range(30)]
    empty = [Sentence(["a"], ["O"], "T", 0)] * 10
    kept, report, top = filter_sentences(frequent + rare + only_entity + empty, seed=0, top_k=2)
    assert report.no_typed_entity == 40 and top == [ENTITY, "city"]  # ENTITY counts among the top
    by = Counter(sum(t == ENTITY for t in sentence_types(s.tags)) for s in kept if "B-city" in s.tags)
    # 0 ENTITY labels: never dropped; 3, 4, >4: dropped with probability 0.3, 0.5, 0.7.
    assert by[0] == 200
    assert 200 * 0.7 - 30 < by[3] < 200 * 0.7 + 30
    assert 200 * 0.5 - 30 < by[4] < 200 * 0.5 + 30
    assert 400 * 0.3 - 40 < by[5] + by[6] < 400 * 0.3 + 40
    assert sum("B-moon" in s.tags for s in kept) == 50  # not all in the top categories: kept
    again, _, _ = filter_sentences(frequent + rare + only_entity + empty, seed=0, top_k=2)
    assert again == kept


def test_balancing_lifts_rare_categories():
    sentences = [S("city")] * 900 + [S("moon")] * 90 + [S("comet")] * 10
    out, rate = balance(sentences, seed=1)
    before, after = category_counts(sentences), category_counts(out)
    assert rate["comet"] > rate["moon"] > 1 > rate["city"]
    share = {c: after[c] / sum(after.values()) for c in after}
    expected = {c: before[c] ** 0.7 for c in before}
    z = sum(expected.values())
    for c in before:
        assert share[c] == pytest.approx(expected[c] / z, abs=0.01)
    assert abs(len(out) - len(sentences)) < 20
    assert balance(sentences, seed=1)[0] == out


def test_split_is_seeded_and_ordered():
    sentences = [S("city", title=str(i)) for i in range(100)]
    train, val = split_train_validation(sentences, seed=3)
    assert (len(train), len(val)) == (90, 10)
    assert [s.title for s in train] == sorted((s.title for s in train), key=int)
    assert split_train_validation(sentences, seed=3) == (train, val)
    assert split_train_validation(sentences, seed=4)[1] != val


def test_propagate_mentions_tags_later_unlinked_mentions():
    from nerbert_hf.corpus.sentences import propagate_mentions

    first = Sentence(["Albert", "Einstein", "met", "Bohr", "in", "Ulm", "."],
                     ["B-scientist", "I-scientist", "O", "B-ENTITY", "O", "O", "O"], "T", 1)
    later = Sentence(["Einstein", "and", "Albert", "Einstein", "left", "Ulm", "with", "Bohr", "."],
                     ["O", "O", "O", "O", "O", "B-city", "O", "O", "O"], "T", 1)
    out, added = propagate_mentions([later, first, later])
    assert out[0] is later  # nothing known before the first anchor
    # Ulm, typed in the first sentence, is tagged in the second; the anchor itself is kept.
    assert out[1].tags == ["B-scientist", "I-scientist", "O", "B-ENTITY", "O", "B-city", "O"]
    # "Albert Einstein" (the longest known form) is tagged; "Einstein" alone was never an anchor's text,
    # Bohr was only ENTITY, and Ulm keeps its own tag.
    assert out[2].tags == ["O", "O", "B-scientist", "I-scientist", "O", "B-city", "O", "O", "O"]
    assert added == 2 and all(is_valid_iob2(s.tags) for s in out)


def test_propagate_mentions_prefers_the_longest_form_and_the_first_type():
    from nerbert_hf.corpus.sentences import propagate_mentions

    anchors = Sentence(["New", "York", "and", "New", "York", "City", "and", "York", "."],
                       ["B-state", "I-state", "O", "B-city", "I-city", "I-city", "O", "B-city", "O"], "T", 1)
    retyped = Sentence(["New", "York", "."], ["B-place", "I-place", "O"], "T", 1)
    later = Sentence(["New", "York", "City", "then", "New", "York", "then", "York", "New", "."],
                     ["O"] * 10, "T", 1)
    out, added = propagate_mentions([anchors, retyped, later])
    # Forms sharing a first token: the longest that fits wins; a form keeps the first type it was seen with.
    assert out[2].tags == ["B-city", "I-city", "I-city", "O", "B-state", "I-state", "O", "B-city", "O", "O"]
    assert added == 3
