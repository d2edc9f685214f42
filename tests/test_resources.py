"""Sanity checks for the package-data label resources."""
import json
from importlib.resources import files

import pytest

RESOURCES = files("nerbert_hf") / "resources"


def _load(name):
    return json.loads((RESOURCES / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def label_lists():
    data = _load("label_lists.json")
    return {k: v for k, v in data.items() if not k.startswith("_")}


@pytest.fixture(scope="module")
def unified_types():
    data = _load("unified_types.json")
    return {k: v for k, v in data.items() if not k.startswith("_")}


def _types(labels):
    return {label[2:] for label in labels if label != "O"}


EXPECTED_KEYS = {
    "crossner/politics", "crossner/science", "crossner/music", "crossner/literature",
    "crossner/ai", "crossner/conll2003",
    "conll2003", "wnut2017", "fin", "bionlp2004", "bc5cdr", "mit_restaurant",
    "mit_movie", "ontonotes5", "wikiann",
    "twitter", "btc", "bionlp13cg", "bionlp13pc", "re3d",
}


def test_notes_present():
    assert "_notes" in _load("label_lists.json")
    assert "_notes" in _load("unified_types.json")


def test_expected_keys(label_lists):
    assert EXPECTED_KEYS <= set(label_lists)


def test_lists_start_with_o_and_are_unique(label_lists):
    for key, labels in label_lists.items():
        assert isinstance(labels, list) and labels, key
        assert labels[0] == "O", key
        assert labels.count("O") == 1, key
        assert len(labels) == len(set(labels)), key


def test_lists_are_iob2_with_complete_pairs(label_lists):
    for key, labels in label_lists.items():
        for label in labels[1:]:
            assert label[:2] in ("B-", "I-") and len(label) > 2, (key, label)
        for t in _types(labels):
            assert "B-" + t in labels, (key, t)
            assert "I-" + t in labels, (key, t)


def test_crossner_lists_include_unpublished_types(label_lists):
    assert "B-programlang" in label_lists["crossner/ai"]
    assert "B-literarygenre" in label_lists["crossner/literature"]


def test_aliases_unique_and_canonicals_lowercase(unified_types):
    owner = {}
    for canonical, aliases in unified_types.items():
        assert canonical == canonical.lower(), canonical
        assert isinstance(aliases, list) and aliases, canonical
        for alias in aliases:
            assert alias not in owner, (alias, canonical, owner.get(alias))
            owner[alias] = canonical


def test_every_type_has_a_unified_alias(label_lists, unified_types):
    aliases = {a for al in unified_types.values() for a in al}
    for key, labels in label_lists.items():
        missing = _types(labels) - aliases
        assert not missing, (key, sorted(missing))


def test_no_two_types_of_one_dataset_share_a_canonical(label_lists, unified_types):
    owner = {a: c for c, al in unified_types.items() for a in al}
    for key, labels in label_lists.items():
        canon = [owner[t] for t in _types(labels)]
        assert len(canon) == len(set(canon)), key
