"""NER-BERT §2.3-2.4 on typed sentences: drop scarce categories, filter sentences, balance, split.

A sentence here is any object with a ``tags`` attribute (IOB2 tags whose types are
lower-cased DBpedia class names or ``ENTITY``, an anchor with no class), such as
:class:`nerbert_hf.corpus.sentences.Sentence`; relabelled copies are made with
``dataclasses.replace``.

Every step is a per-sentence decision plus corpus-wide counts, so the builder can
stream shards through the same primitives (:func:`drop_probability`,
:func:`owner`, :func:`balance_copies`, :func:`validation_mask`) that the in-memory
functions below compose. Randomness comes from ``numpy`` generators seeded by the
caller, drawn in corpus order: equal inputs give equal outputs, in memory or streamed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np

ENTITY = "ENTITY"
TOP_K = 20
# §2.3: sentences whose entities all lie in the top-20 categories are dropped with
# these probabilities, by how many ENTITY labels they hold (3, 4, more than 4).
DROP_PROBABILITY = {3: 0.3, 4: 0.5}
DROP_PROBABILITY_MORE = 0.7
ALPHA = 0.7


def sentence_types(tags: list[str]) -> list[str]:
    """The type of each entity of a sentence (one per B- tag), in order."""
    return [t[2:] for t in tags if t.startswith("B-")]


def category_counts(sentences) -> Counter:
    counts: Counter = Counter()
    for sentence in sentences:
        counts.update(sentence_types(sentence.tags))
    return counts


def relabel(tags: list[str], mapping: dict[str, str]) -> list[str]:
    """Rename entity types (``mapping[type]``), keeping B-/I- prefixes; unmapped types are kept."""
    return [t if t == "O" else f"{t[:2]}{mapping.get(t[2:], t[2:])}" for t in tags]


# --- primitives ----------------------------------------------------------------------------------------------------


def scarce_categories(counts: Counter, min_count: int) -> list[str]:
    """Categories with fewer than ``min_count`` entities (never ENTITY)."""
    return sorted(c for c, n in counts.items() if n < min_count and c != ENTITY)


def has_typed_entity(types: list[str]) -> bool:
    return any(t != ENTITY for t in types)


def top_categories(counts: Counter, k: int = TOP_K) -> list[str]:
    """The ``k`` most frequent categories, ENTITY included, ties broken by name."""
    return [c for c, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:k]]


def drop_probability(types: list[str], top: set[str]) -> float:
    """§2.3's third filter: 0.3 / 0.5 / 0.7 when all entities are in ``top`` and 3 / 4 / >4 are ENTITY."""
    n_entity = sum(t == ENTITY for t in types)
    if n_entity < 3 or not all(t in top for t in types):
        return 0.0
    return DROP_PROBABILITY.get(n_entity, DROP_PROBABILITY_MORE)


def drop_probabilities(n_entity: np.ndarray, all_in_top: np.ndarray) -> np.ndarray:
    """:func:`drop_probability` of many sentences, from their ENTITY counts and whether all their entities
    lie in the top categories."""
    p = np.where(n_entity > max(DROP_PROBABILITY), DROP_PROBABILITY_MORE, 0.0)
    for n, probability in DROP_PROBABILITY.items():
        p[n_entity == n] = probability
    return np.where((n_entity >= min(DROP_PROBABILITY)) & all_in_top, p, 0.0)


def owner(types: list[str], counts: Counter) -> str:
    """The category a sentence is resampled with: its rarest typed category (ENTITY if it has none)."""
    typed = [t for t in types if t != ENTITY]
    return min(typed, key=lambda t: (counts[t], t)) if typed else ENTITY


def balance_rates(counts: Counter, alpha: float = ALPHA) -> dict[str, float]:
    """``q_E / p_E`` per typed category, with ``p_E ∝ |E|`` and ``q_E ∝ |E|^alpha``."""
    typed = {c: n for c, n in counts.items() if c != ENTITY}
    total = sum(typed.values())
    z = sum(n ** alpha for n in typed.values())
    return {c: (n ** alpha / z) / (n / total) for c, n in typed.items()}


def balance_copies(owners: list[str], rates: dict[str, float], seed: int) -> np.ndarray:
    """How many times each sentence appears after balancing (see :func:`balance`)."""
    groups: dict[str, list[int]] = {}
    for i, category in enumerate(owners):
        groups.setdefault(category, []).append(i)
    rng = np.random.default_rng(seed)
    copies = np.zeros(len(owners), dtype=np.int64)
    for category in sorted(groups):
        members = np.asarray(groups[category])
        target = max(1, round(len(members) * rates.get(category, 1.0)))
        whole, remainder = divmod(target, len(members))
        copies[members] += whole
        if remainder:
            copies[rng.choice(members, size=remainder, replace=False)] += 1
    return copies


def validation_mask(n: int, seed: int, fraction: float = 0.1) -> np.ndarray:
    """A seeded choice of ``round(n * fraction)`` rows (at least one when n > 1) for validation."""
    n_val = max(1, round(n * fraction)) if n > 1 else 0
    mask = np.zeros(n, dtype=bool)
    mask[np.random.default_rng(seed).choice(n, size=n_val, replace=False)] = True
    return mask


# --- in memory -----------------------------------------------------------------------------------------------------


def drop_scarce_categories(sentences, min_count: int) -> tuple[list, list[str]]:
    """Categories with fewer than ``min_count`` entities become ``ENTITY`` (§2.3, first filter).

    Their entities stay entities, only untyped: the anchor is still a name, so
    tagging it ``O`` would teach the model that names are not entities.
    """
    scarce = scarce_categories(category_counts(sentences), min_count)
    if not scarce:
        return list(sentences), []
    mapping = dict.fromkeys(scarce, ENTITY)
    return [replace(s, tags=relabel(s.tags, mapping)) for s in sentences], scarce


@dataclass
class FilterReport:
    """How many sentences each filter of §2.3 removed."""

    input: int = 0
    no_typed_entity: int = 0
    frequent_with_entity_labels: Counter = field(default_factory=Counter)
    kept: int = 0


def filter_sentences(sentences, seed: int, top_k: int = TOP_K) -> tuple[list, FilterReport, list[str]]:
    """§2.3's second and third filters; returns the kept sentences, a report and the top-k categories.

    Second: drop sentences with no entity or only ``ENTITY``. Third: among the rest,
    a sentence whose entities all lie in the ``top_k`` most frequent categories
    (``ENTITY`` included; counted over the sentences entering this step, ties broken
    by name) and that holds 3, 4 or more than 4 ``ENTITY`` labels is dropped with
    probability 0.3, 0.5 or 0.7 (one uniform draw per sentence entering the step).
    """
    report = FilterReport(input=len(sentences))
    typed = [s for s in sentences if has_typed_entity(sentence_types(s.tags))]
    report.no_typed_entity = len(sentences) - len(typed)
    top = top_categories(category_counts(typed), top_k)
    top_set = set(top)
    draws = np.random.default_rng(seed).random(len(typed))
    kept = []
    for sentence, draw in zip(typed, draws):
        types = sentence_types(sentence.tags)
        if draw < drop_probability(types, top_set):
            report.frequent_with_entity_labels[min(sum(t == ENTITY for t in types), 5)] += 1
            continue
        kept.append(sentence)
    report.kept = len(kept)
    return kept, report, top


def balance(sentences, seed: int, alpha: float = ALPHA) -> tuple[list, dict[str, float]]:
    """§2.4: resample sentences so that category E is drawn with probability ``p(E) ∝ |E|^alpha``.

    The algorithm, exactly: each sentence belongs to its rarest typed category (the
    one with the fewest entities corpus-wide; ``ENTITY`` only when it has no other).
    With ``p_E = |E| / Σ|E|`` and ``q_E = |E|^alpha / Σ|E'|^alpha``, the sentences of E
    are resampled at rate ``q_E / p_E``: the group of ``n_E`` sentences becomes
    ``round(n_E * q_E / p_E)`` sentences (at least 1), as whole copies of every member
    plus a seeded random choice of members for the remainder (groups in name order).
    The total stays close to the input size; rare categories gain, frequent ones
    lose. Output keeps the input order (copies stand next to their original).
    Returns the sentences and each category's rate.
    """
    counts = category_counts(sentences)
    if not any(c != ENTITY for c in counts):
        return list(sentences), {}
    rates = balance_rates(counts, alpha)
    copies = balance_copies([owner(sentence_types(s.tags), counts) for s in sentences], rates, seed)
    return [s for s, k in zip(sentences, copies) for _ in range(int(k))], rates


def split_train_validation(sentences, seed: int, validation_fraction: float = 0.1) -> tuple[list, list]:
    """A seeded 90/10 split; both parts keep corpus order."""
    mask = validation_mask(len(sentences), seed, validation_fraction)
    return [s for s, m in zip(sentences, mask) if not m], [s for s, m in zip(sentences, mask) if m]
