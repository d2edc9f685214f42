"""Training-set manipulations of the few-shot and cross-domain settings (NER-BERT, CrossNER).

Every function takes and returns a ``datasets.Dataset`` with an IOB2 ``ner_tags`` column
of ``List(ClassLabel)``. Randomness comes only from a ``numpy`` generator seeded with the
``seed`` argument, so results depend on the seed alone, never on global RNG state.
"""

from __future__ import annotations

import logging
import math
from collections import Counter

import numpy as np
from datasets import ClassLabel, Dataset, List, concatenate_datasets

from .labels import entity_types, split_tag

logger = logging.getLogger(__name__)


def _label_names(dataset: Dataset) -> list[str]:
    feature = dataset.features.get("ner_tags")
    inner = getattr(feature, "feature", None)
    if not isinstance(inner, ClassLabel):
        raise ValueError(f"expected a 'ner_tags' column of List(ClassLabel), got {feature!r}")
    return list(inner.names)


def _sentence_counts(dataset: Dataset) -> list[Counter]:
    """Entities per type in each sentence (one per B- tag)."""
    begins = {i: name[2:] for i, name in enumerate(_label_names(dataset)) if name.startswith("B-")}
    return [Counter(begins[t] for t in tags if t in begins) for tags in dataset["ner_tags"]]


def _rng(seed: int) -> np.random.Generator:
    # A private generator: the global numpy / random / torch states are neither read nor advanced.
    return np.random.default_rng(seed)


def _check_number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ValueError(f"{name} must be a number, not {value!r}")
    return float(value)


def entity_counts(dataset: Dataset) -> dict[str, int]:
    """Entities (B- tags) per type over the dataset; every type of the label list, in its order, zeros included."""
    totals: Counter = Counter()
    for counts in _sentence_counts(dataset):
        totals.update(counts)
    return {t: totals[t] for t in entity_types(_label_names(dataset))}


def sample_fraction(dataset: Dataset, fraction: float, seed: int) -> Dataset:
    """A seeded random subset of ``round(fraction * len)`` sentences (at least one), in original order.

    ``fraction`` must lie in (0, 1]; 1 returns ``dataset`` itself.
    """
    value = _check_number("fraction", fraction)
    if not 0 < value <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    if value == 1:
        return dataset
    n = len(dataset)
    size = min(n, max(1, round(value * n)))
    chosen = _rng(seed).choice(n, size=size, replace=False)
    return dataset.select(sorted(chosen.tolist()))


def sample_k_shot(dataset: Dataset, k: int, seed: int) -> Dataset:
    """Greedy k-shot support set: every entity type gets at least ``k`` entities, and no sentence is redundant.

    Entities are counted one per ``B-`` tag, types taken from the ClassLabel names.

    1. Shuffle the sentence indices with ``seed``.
    2. Add phase (Yang & Katiyar 2020, Algorithm 1): go through the types in ascending order of
       their entity count in ``dataset`` (ties in label-list order); for each type, while its count in
       the selection is below ``k``, add the next not-yet-selected sentence in the shuffled order that
       contains the type, and add that sentence's entities of *all* types to the counts.
    3. Removal phase (not in Algorithm 1; it makes the set minimal): go through the selected sentences
       in reverse order of addition and drop each one whose removal leaves every type at or above its
       target. A single pass suffices, because counts only fall, so a sentence kept once stays needed.

    The target of a type is ``k``, or its total when the dataset holds fewer than ``k`` of it: such
    rare types get all their sentences, and a warning names them. The result keeps original order.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    per_sentence = _sentence_counts(dataset)
    totals = entity_counts(dataset)
    rare = {t: n for t, n in totals.items() if n < k}
    if rare:
        logger.warning("%d-shot sampling: fewer than %d entities in the whole dataset for %s; all their sentences "
                       "are taken", k, k, ", ".join(f"{t} ({n})" for t, n in rare.items()))
    target = {t: min(k, n) for t, n in totals.items()}

    order = _rng(seed).permutation(len(dataset)).tolist()
    # Each type's sentences in shuffled order: "the next sentence containing the type" is the next one here.
    candidates: dict[str, list[int]] = {t: [] for t in totals}
    for i in order:
        for t in per_sentence[i]:
            candidates[t].append(i)

    selected: list[int] = []
    chosen: set[int] = set()
    count: Counter = Counter()
    # sorted() is stable and totals is in label-list order, which breaks frequency ties.
    for etype in sorted(totals, key=totals.get):
        for i in candidates[etype]:
            if count[etype] >= k:
                break
            if i not in chosen:
                chosen.add(i)
                selected.append(i)
                count.update(per_sentence[i])

    for i in reversed(selected):
        if all(count[t] - n >= target[t] for t, n in per_sentence[i].items()):
            chosen.discard(i)
            count.subtract(per_sentence[i])

    logger.info("%d-shot sample (seed %s): %d of %d sentences, entities %s", k, seed, len(chosen), len(dataset),
                dict(count))
    return dataset.select(sorted(chosen))


def upsample(dataset: Dataset, factor: float, seed: int) -> Dataset:
    """The dataset repeated ``int(factor)`` times, then a seeded random ``factor - int(factor)`` fraction of it.

    The extra part has ``round(remainder * len)`` distinct sentences in original order, after the full
    copies; factor 2.5 on 10 sentences gives 25. ``factor`` must be at least 1 (use
    :func:`sample_fraction` to shrink a dataset).
    """
    value = _check_number("factor", factor)
    if not 1 <= value < math.inf:
        raise ValueError(f"factor must be a finite number >= 1, got {factor!r}")
    n = len(dataset)
    whole = int(value)
    extra = round((value - whole) * n)
    if whole == 1 and extra == 0:
        return dataset
    indices = list(range(n)) * whole
    if extra:
        indices += sorted(_rng(seed).choice(n, size=extra, replace=False).tolist())
    return dataset.select(indices)


def joint_training_set(source: Dataset, target: Dataset, *, target_factor: float | None = None,
                       seed: int) -> Dataset:
    """Source sentences followed by the target upsampled by ``target_factor`` (CrossNER's joint training).

    With ``target_factor=None`` the factor is ``max(1, len(source) / len(target))``, so the small target
    domain contributes about as many sentences as the source. Both datasets must have the same label list
    (names and order); map the source onto the target's with :func:`remap_labels` first.
    """
    source_names, target_names = _label_names(source), _label_names(target)
    if source_names != target_names:
        raise ValueError(
            "source and target have different ner_tags label lists; map the source onto the target's "
            f"with remap_labels first (source: {source_names}, target: {target_names})")
    if len(target) == 0:
        raise ValueError("target dataset is empty")
    factor = max(1.0, len(source) / len(target)) if target_factor is None else target_factor
    upsampled = upsample(target, factor, seed)
    logger.info("joint training set: %d source + %d target sentences (target x%.3g)", len(source), len(upsampled),
                factor)
    return concatenate_datasets([source, upsampled])


def remap_labels(dataset: Dataset, label_names: list[str], type_map: dict[str, str] | None = None) -> Dataset:
    """Re-encode ``ner_tags`` into the label list ``label_names``, matching labels by string.

    Each entity's type goes through ``type_map`` (source type -> new type; unmapped types keep their
    name). An entity whose resulting type has no ``B-``/``I-`` labels in ``label_names`` becomes all
    ``O``, so no orphan ``I-`` is left; the number dropped is logged. ``label_names`` must start with
    "O" and give every type both a ``B-`` and an ``I-`` label.
    """
    label_names = list(label_names)
    if not label_names or label_names[0] != "O":
        raise ValueError(f"label_names must start with 'O', got {label_names[:3]!r}")
    if len(set(label_names)) != len(label_names):
        raise ValueError(f"label_names has duplicates: {sorted(n for n, c in Counter(label_names).items() if c > 1)}")
    bad = [n for n in label_names[1:] if split_tag(n)[0] not in ("B", "I") or not split_tag(n)[1]]
    if bad:
        raise ValueError(f"label_names must be 'O' then IOB2 labels B-<type>/I-<type>; not valid: {bad}")
    new_ids = {name: i for i, name in enumerate(label_names)}
    incomplete = [t for t in entity_types(label_names) if f"B-{t}" not in new_ids or f"I-{t}" not in new_ids]
    if incomplete:
        raise ValueError(f"label_names must have both B- and I- labels for each type; incomplete: {incomplete}")
    kept_types = set(entity_types(label_names))
    type_map = dict(type_map or {})

    old = [split_tag(name) for name in _label_names(dataset)]
    dropped: Counter = Counter()
    kept = 0

    def convert(tags: list[int]) -> list[int]:
        nonlocal kept
        out = []
        source_type = new_type = None  # the entity being read, None outside one; new_type None = dropped
        for tag in tags:
            prefix, etype = old[tag]
            if prefix == "O":
                source_type = new_type = None
                out.append(0)
                continue
            # An I- that does not continue its type starts an entity, as in to_iob2's orphan repair.
            if prefix == "B" or etype != source_type:
                source_type = etype
                mapped = type_map.get(etype, etype)
                if mapped in kept_types:
                    new_type, kept = mapped, kept + 1
                    out.append(new_ids[f"B-{mapped}"])
                else:
                    new_type = None
                    dropped[etype] += 1
                    out.append(0)
            else:
                out.append(new_ids[f"I-{new_type}"] if new_type else 0)
        return out

    features = dataset.features.copy()
    features["ner_tags"] = List(ClassLabel(names=label_names))
    # Converted up front so the tallies count each row once, whatever calls map makes.
    converted = [convert(tags) for tags in dataset["ner_tags"]]
    result = dataset.map(lambda _, i: {"ner_tags": converted[i]}, with_indices=True, features=features,
                         load_from_cache_file=False, desc="remapping labels")
    if dropped:
        logger.warning("remap_labels: dropped %d of %d entities, types absent from the new label list: %s",
                       sum(dropped.values()), kept + sum(dropped.values()),
                       ", ".join(f"{t} ({n})" for t, n in dropped.most_common()))
    else:
        logger.info("remap_labels: all %d entities kept", kept)
    return result
