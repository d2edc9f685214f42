"""Few-shot and cross-domain training-set sampling, on hand-made datasets and the real CrossNER politics split."""

import logging
import random
from collections import Counter

import numpy as np
import pytest
from datasets import ClassLabel, Dataset, Features, List, Value, load_dataset

from dataset_scripts import DATASETS
from nerbert_hf.builders import build_dataset
from nerbert_hf.labels import is_valid_iob2
from nerbert_hf.sampling import (
    entity_counts,
    joint_training_set,
    remap_labels,
    sample_fraction,
    sample_k_shot,
    upsample,
)

NAMES = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]


def make(tag_rows, names=NAMES):
    """A dataset whose tokens are 's<row>t<i>' (so sentences are identifiable) with the given string tags."""
    ids = {n: i for i, n in enumerate(names)}
    features = Features({"tokens": List(Value("string")), "ner_tags": List(ClassLabel(names=names))})
    return Dataset.from_dict(
        {"tokens": [[f"s{r}t{i}" for i in range(len(tags))] for r, tags in enumerate(tag_rows)],
         "ner_tags": [[ids[t] for t in tags] for tags in tag_rows]},
        features=features)


def row_ids(ds):
    return [int(tokens[0][1:].split("t")[0]) for tokens in ds["tokens"]]


def tags_of(ds):
    names = ds.features["ner_tags"].feature.names
    return [[names[t] for t in tags] for tags in ds["ner_tags"]]


@pytest.fixture
def hundred():
    return make([["B-PER", "O"] if r % 3 else ["O", "B-LOC", "I-LOC"] for r in range(100)])


@pytest.fixture(scope="module")
def politics(shared_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("crossner") / "c"
    build_dataset(DATASETS["crossner"], out, source=shared_data / "crossner", configs=["politics"])
    return load_dataset(str(out), "politics")


# --- entity_counts ---

def test_entity_counts_counts_b_tags_and_lists_every_type():
    ds = make([["B-PER", "I-PER", "B-PER"], ["O", "B-ORG"], ["O"]])
    assert entity_counts(ds) == {"PER": 2, "ORG": 1, "LOC": 0}


# --- sample_fraction ---

def test_fraction_size_order_and_determinism(hundred):
    sub = sample_fraction(hundred, 0.25, seed=3)
    ids = row_ids(sub)
    assert len(ids) == 25 and len(set(ids)) == 25
    assert ids == sorted(ids)
    assert row_ids(sample_fraction(hundred, 0.25, seed=3)) == ids
    assert row_ids(sample_fraction(hundred, 0.25, seed=4)) != ids
    assert len(sample_fraction(hundred, 0.333, seed=0)) == 33


def test_fraction_ignores_global_rng_state(hundred):
    random.seed(1)
    np.random.seed(1)
    first = row_ids(sample_fraction(hundred, 0.1, seed=7))
    random.seed(2)
    np.random.seed(2)
    random.random()
    np.random.rand(5)
    assert row_ids(sample_fraction(hundred, 0.1, seed=7)) == first


def test_fraction_one_returns_dataset_and_tiny_fraction_keeps_one(hundred):
    assert sample_fraction(hundred, 1.0, seed=0) is hundred
    assert len(sample_fraction(hundred, 0.001, seed=0)) == 1


@pytest.mark.parametrize("bad", [0, -0.1, 1.5, float("nan"), "0.5", True])
def test_fraction_rejects_bad_values(hundred, bad):
    with pytest.raises(ValueError, match="fraction"):
        sample_fraction(hundred, bad, seed=0)


# --- sample_k_shot ---

def removal_breaks_k(ds, k):
    """For each selected sentence: does removing it drop some type below k?"""
    totals = Counter(entity_counts(ds))
    out = []
    for tags in tags_of(ds):
        mine = Counter(t[2:] for t in tags if t.startswith("B-"))
        out.append(any(totals[t] - n < k for t, n in mine.items()))
    return out


def test_k_shot_on_politics_covers_every_type_and_is_minimal(politics):
    train = politics["train"]
    full = entity_counts(train)
    assert all(n >= 5 for n in full.values())  # so k=5 is reachable for every type
    shot = sample_k_shot(train, 5, seed=0)
    counts = entity_counts(shot)
    assert set(counts) == set(full)
    assert all(n >= 5 for n in counts.values()), counts
    assert all(removal_breaks_k(shot, 5))
    assert len(shot) < len(train)
    # Original order: the selected sentences appear in train in the same sequence.
    all_tokens = [tuple(t) for t in train["tokens"]]
    positions = [all_tokens.index(tuple(t)) for t in shot["tokens"]]
    assert positions == sorted(positions)


def test_k_shot_deterministic_per_seed_and_seed_sensitive(politics):
    train = politics["train"]
    a = sample_k_shot(train, 5, seed=1)["tokens"]
    assert sample_k_shot(train, 5, seed=1)["tokens"] == a
    others = [sample_k_shot(train, 5, seed=s)["tokens"] for s in (2, 3, 4)]
    assert any(o != a for o in others)


def test_k_shot_removal_pass_prunes_redundant_sentence():
    # k=2; PER (3 entities) is rarer than LOC (4), so it is served first. When the shuffle puts
    # rows 0 and 1 first, the add phase takes both, then row 2 for LOC, which brings a third PER:
    # the removal pass must then drop row 1, so every seed ends with two sentences including row 2.
    ds = make([["B-PER"], ["B-PER"], ["B-PER", "B-LOC", "B-LOC", "B-LOC", "B-LOC"]],
              names=["O", "B-PER", "I-PER", "B-LOC", "I-LOC"])
    results = {tuple(row_ids(sample_k_shot(ds, 2, seed=seed))) for seed in range(20)}
    assert results == {(0, 2), (1, 2)}


def test_k_shot_minimal_on_random_data():
    rng = random.Random(0)
    types = ["PER", "ORG", "LOC"]
    rows = []
    for _ in range(150):
        tags = []
        for _ in range(rng.randint(1, 6)):
            if rng.random() < 0.4:
                t = rng.choice(types)
                tags += [f"B-{t}"] + [f"I-{t}"] * rng.randint(0, 2)
            else:
                tags.append("O")
        rows.append(tags)
    ds = make(rows)
    for k in (1, 3, 8):
        for seed in range(5):
            shot = sample_k_shot(ds, k, seed=seed)
            assert all(n >= k for n in entity_counts(shot).values())
            assert all(removal_breaks_k(shot, k))


def test_k_shot_rare_type_gets_all_its_sentences_and_a_warning(caplog):
    rows = [["B-PER"]] * 20 + [["B-ORG", "O"]] * 20 + [["O", "B-LOC"], ["B-LOC", "I-LOC", "B-PER"]]
    ds = make(rows)
    with caplog.at_level(logging.WARNING, logger="nerbert_hf.sampling"):
        shot = sample_k_shot(ds, 3, seed=5)
    assert "LOC (2)" in caplog.text and "PER (" not in caplog.text and "ORG (" not in caplog.text
    assert {40, 41} <= set(row_ids(shot))
    counts = entity_counts(shot)
    assert counts["LOC"] == 2 and counts["PER"] >= 3 and counts["ORG"] >= 3
    # Still minimal against the per-type targets (k, or the total for the rare type).
    targets = {"PER": 3, "ORG": 3, "LOC": 2}
    for tags in tags_of(shot):
        mine = Counter(t[2:] for t in tags if t.startswith("B-"))
        assert any(counts[t] - n < targets[t] for t, n in mine.items())


@pytest.mark.parametrize("bad", [0, -1, 2.0, True])
def test_k_shot_rejects_bad_k(hundred, bad):
    with pytest.raises(ValueError, match="k must"):
        sample_k_shot(hundred, bad, seed=0)


# --- upsample ---

@pytest.mark.parametrize("factor,expected", [(1, 10), (2, 20), (2.5, 25), (3.3, 33)])
def test_upsample_lengths(factor, expected):
    ds = make([["B-PER"]] * 10)
    assert len(upsample(ds, factor, seed=0)) == expected


def test_upsample_content_and_determinism():
    ds = make([["O"]] * 10)
    up = upsample(ds, 2.5, seed=0)
    ids = row_ids(up)
    assert ids[:20] == list(range(10)) * 2
    extra = ids[20:]
    assert len(set(extra)) == 5 and extra == sorted(extra)
    assert row_ids(upsample(ds, 2.5, seed=0)) == ids
    assert any(row_ids(upsample(ds, 2.5, seed=s))[20:] != extra for s in range(1, 5))
    assert upsample(ds, 1, seed=0) is ds


@pytest.mark.parametrize("bad", [0.5, 0, float("inf"), "2"])
def test_upsample_rejects_bad_factor(bad):
    with pytest.raises(ValueError, match="factor"):
        upsample(make([["O"]]), bad, seed=0)


# --- joint_training_set ---

def test_joint_default_factor_balances_target_with_source():
    source = make([["B-PER"]] * 100)
    target = make([["B-LOC"]] * 8)
    joint = joint_training_set(source, target, seed=0)
    # factor 100/8 = 12.5 -> 12 copies of 8 plus 4 more.
    assert len(joint) == 100 + 100
    assert tags_of(joint)[:100] == [["B-PER"]] * 100 and tags_of(joint)[100:] == [["B-LOC"]] * 100


def test_joint_explicit_factor_and_large_target():
    source = make([["B-PER"]] * 10)
    target = make([["B-LOC"]] * 20)
    assert len(joint_training_set(source, target, seed=0)) == 10 + 20  # factor floors at 1
    assert len(joint_training_set(source, target, target_factor=2.5, seed=0)) == 10 + 50


def test_joint_refuses_different_label_lists():
    source = make([["B-PER"]], names=["O", "B-PER", "I-PER"])
    target = make([["B-PER"]])
    with pytest.raises(ValueError, match="different ner_tags label lists.*remap_labels"):
        joint_training_set(source, target, seed=0)
    # After remapping onto the target's list they concatenate.
    assert len(joint_training_set(remap_labels(source, NAMES), target, seed=0)) == 2


# --- remap_labels ---

def test_remap_keeps_maps_and_drops_types(caplog):
    source_names = ["O", "B-person", "I-person", "B-org", "I-org", "B-misc", "I-misc", "B-city", "I-city"]
    ds = make([
        ["B-person", "I-person", "O", "B-misc", "I-misc", "I-misc", "B-org"],
        ["B-misc", "B-person", "B-city", "I-city"],
        ["I-misc", "I-misc", "B-org", "I-org"],  # a leading orphan I- is an entity too
    ], names=source_names)
    target = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
    with caplog.at_level(logging.INFO, logger="nerbert_hf.sampling"):
        out = remap_labels(ds, target, {"person": "PER", "org": "ORG", "city": "LOC"})
    assert out.features["ner_tags"].feature.names == target
    assert tags_of(out) == [
        ["B-PER", "I-PER", "O", "O", "O", "O", "B-ORG"],
        ["O", "B-PER", "B-LOC", "I-LOC"],
        ["O", "O", "B-ORG", "I-ORG"],
    ]
    assert all(is_valid_iob2(t) for t in tags_of(out))
    assert out["tokens"] == ds["tokens"]
    assert "dropped 3 of 8 entities" in caplog.text and "misc (3)" in caplog.text


def test_remap_identity_names_and_merging_types():
    ds = make([["B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC"]])
    out = remap_labels(ds, ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"], {"ORG": "PER"})
    # Adjacent entities merged into one type stay two entities.
    assert tags_of(out) == [["B-PER", "I-PER", "B-PER", "I-PER", "B-LOC"]]
    assert entity_counts(out) == {"LOC": 1, "PER": 2}


@pytest.mark.parametrize("bad,match", [
    (["B-PER", "O", "I-PER"], "start with 'O'"),
    (["O", "B-PER"], "both B- and I-"),
    (["O", "X-PER", "I-PER"], "not valid"),
    (["O", "B-PER", "I-PER", "B-PER"], "duplicates"),
])
def test_remap_rejects_bad_label_lists(bad, match):
    with pytest.raises(ValueError, match=match):
        remap_labels(make([["O"]]), bad)


def test_politics_remap_onto_smaller_label_list(politics):
    train = politics["train"]
    before = entity_counts(train)
    out = remap_labels(train, ["O", "B-person", "I-person", "B-politician", "I-politician"],
                       {"politician": "person", "person": "person"})
    assert entity_counts(out) == {"person": before["person"] + before["politician"], "politician": 0}
    assert all(is_valid_iob2(t) for t in tags_of(out))
