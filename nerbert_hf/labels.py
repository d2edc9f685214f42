"""Tag schemes, IOB2 helpers, per-dataset label lists and the unified type map."""

from __future__ import annotations

import json
from collections import Counter
from functools import lru_cache
from importlib import resources

SCHEMES = ("iob1", "iob2", "bioes", "bilou")

# BILOU is BIOES with other letters.
_BIOES_TO_IOB2 = {"B": "B", "I": "I", "E": "I", "S": "B", "L": "I", "U": "B"}


def split_tag(tag: str) -> tuple[str, str | None]:
    """'B-PER' -> ('B', 'PER'); 'O' -> ('O', None)."""
    if tag == "O":
        return "O", None
    prefix, _, etype = tag.partition("-")
    return prefix, etype


def to_iob2(tags: list[str], scheme: str) -> tuple[list[str], list[int]]:
    """Convert one sentence's tags to IOB2.

    Returns the new tags and the positions of repaired orphans: an inside tag whose
    entity was never begun (``I-X`` after ``O`` or another type). In IOB1 such a tag
    is the normal start of an entity, so it is converted without counting as a repair.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"unknown tag scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
    out: list[str] = []
    repaired: list[int] = []
    prev_type = None
    for i, tag in enumerate(tags):
        if tag == "O":
            out.append(tag)
            prev_type = None
            continue
        prefix, etype = split_tag(tag)
        if scheme in ("bioes", "bilou"):
            prefix = _BIOES_TO_IOB2.get(prefix, prefix)
        if prefix == "I" and prev_type != etype:
            prefix = "B"
            if scheme != "iob1":
                repaired.append(i)
        elif prefix not in ("B", "I"):
            raise ValueError(f"tag {tag!r} is not valid in the {scheme.upper()} scheme")
        out.append(f"{prefix}-{etype}")
        # In BIOES a closing E-/S- tag ends the entity: an I- after it is an orphan.
        closes = scheme in ("bioes", "bilou") and tag[0] in "ESLU"
        prev_type = None if closes else etype
    return out, repaired


def is_valid_iob2(tags: list[str]) -> bool:
    """True when every I-X continues a B-X or I-X of the same type."""
    prev = None
    for tag in tags:
        prefix, etype = split_tag(tag)
        if prefix == "I" and prev != etype:
            return False
        if prefix not in ("O", "B", "I"):
            return False
        prev = etype
    return True


def entity_types(labels) -> list[str]:
    """Entity types of a label list, in order of first appearance."""
    seen: dict[str, None] = {}
    for label in labels:
        _, etype = split_tag(label)
        if etype is not None:
            seen.setdefault(etype, None)
    return list(seen)


def labels_for_types(types) -> list[str]:
    """The IOB2 label list 'O', then 'B-t', 'I-t' for each type in the given order."""
    out = ["O"]
    for t in types:
        out += [f"B-{t}", f"I-{t}"]
    return out


def count_entities(tag_sequences) -> Counter:
    """Entities per type (one per B- tag) over IOB2 tag sequences."""
    counts: Counter = Counter()
    for tags in tag_sequences:
        for tag in tags:
            if tag.startswith("B-"):
                counts[tag[2:]] += 1
    return counts


def _resource(name: str) -> dict:
    return json.loads((resources.files("nerbert_hf") / "resources" / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def _label_lists() -> dict:
    return {k: v for k, v in _resource("label_lists.json").items() if not k.startswith("_")}


def dataset_labels(key: str) -> list[str]:
    """The published label list of a dataset (e.g. 'conll2003', 'crossner/politics')."""
    lists = _label_lists()
    if key not in lists:
        raise KeyError(f"no label list for {key!r}; known: {', '.join(sorted(lists))}")
    return list(lists[key])


@lru_cache(maxsize=None)
def unified_type_map() -> dict[str, str]:
    """Alias -> canonical type, from the package's T-NER-style unified type table."""
    table = {k: v for k, v in _resource("unified_types.json").items() if not k.startswith("_")}
    return {alias: canonical for canonical, aliases in table.items() for alias in aliases}


def unify_labels(labels: list[str], type_map: dict[str, str] | None = None) -> tuple[list[str], list[str]]:
    """Rename the types of a label list through the unified type map.

    Returns the new label list (order kept, duplicates from merged types dropped) and
    the types that had no entry in the map and were kept as they are.
    """
    type_map = unified_type_map() if type_map is None else type_map
    unknown = [t for t in entity_types(labels) if t not in type_map]
    out: dict[str, None] = {}
    for label in labels:
        prefix, etype = split_tag(label)
        out.setdefault(label if etype is None else f"{prefix}-{type_map.get(etype, etype)}", None)
    return list(out), unknown


def rename_tags(tags: list[str], type_map: dict[str, str]) -> list[str]:
    """Apply a type renaming to one tag sequence."""
    out = []
    for tag in tags:
        prefix, etype = split_tag(tag)
        out.append(tag if etype is None else f"{prefix}-{type_map.get(etype, etype)}")
    return out
