"""NER-BERT §2.3-2.4 on typed sentences: drop scarce categories, filter sentences, balance, split.

A sentence here is any object with a ``tags`` attribute (IOB2 tags whose types are
lower-cased DBpedia class names or ``ENTITY``, an anchor with no class), such as
:class:`nerbert_hf.corpus.sentences.Sentence`; relabelled copies are made with
``dataclasses.replace``. All randomness comes
from ``numpy`` generators seeded by the caller, so equal inputs give equal outputs.
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


def drop_scarce_categories(sentences, min_count: int) -> tuple[list, list[str]]:
    """Categories with fewer than ``min_count`` entities become ``ENTITY`` (§2.3, first filter).

    Their entities stay entities, only untyped: the anchor is still a name, so
    tagging it ``O`` would teach the model that names are not entities.
    """
    counts = category_counts(sentences)
    scarce = sorted(c for c, n in counts.items() if n < min_count and c != ENTITY)
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
    probability 0.3, 0.5 or 0.7.
    """
    report = FilterReport(input=len(sentences))
    typed = []
    for sentence in sentences:
        if not any(t != ENTITY for t in sentence_types(sentence.tags)):
            report.no_typed_entity += 1
            continue
        typed.append(sentence)
    counts = category_counts(typed)
    top = [c for c, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top_k]]
    top_set = set(top)
    rng = np.random.default_rng(seed)
    draws = rng.random(len(typed))  # one draw per sentence whether used or not: stable under edits
    kept = []
    for sentence, draw in zip(typed, draws):
        types = sentence_types(sentence.tags)
        n_entity = sum(t == ENTITY for t in types)
        if n_entity >= 3 and all(t in top_set for t in types):
            p = DROP_PROBABILITY.get(n_entity, DROP_PROBABILITY_MORE)
            if draw < p:
                report.frequent_with_entity_labels[min(n_entity, 5)] += 1
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
    ``round(n_E * q_E / p_E)`` sentences (at least 1), drawn without replacement when
    shrinking and as whole copies plus a random remainder when growing. The total
    stays close to the input size; rare categories gain, frequent ones lose. Output
    keeps the input order (copies stand next to their original). Returns the
    sentences and each category's rate.
    """
    counts = category_counts(sentences)
    typed = {c: n for c, n in counts.items() if c != ENTITY}
    if not typed:
        return list(sentences), {}
    total = sum(typed.values())
    powered = {c: n ** alpha for c, n in typed.items()}
    z = sum(powered.values())
    rate = {c: (powered[c] / z) / (typed[c] / total) for c in typed}

    groups: dict[str, list[int]] = {}
    for i, sentence in enumerate(sentences):
        types = [t for t in sentence_types(sentence.tags) if t != ENTITY]
        owner = min(types, key=lambda t: (typed[t], t)) if types else ENTITY
        groups.setdefault(owner, []).append(i)

    rng = np.random.default_rng(seed)
    copies = np.zeros(len(sentences), dtype=np.int64)
    for category in sorted(groups):
        members = np.asarray(groups[category])
        r = rate.get(category, 1.0)
        target = max(1, round(len(members) * r))
        whole, remainder = divmod(target, len(members))
        copies[members] += whole
        if remainder:
            copies[rng.choice(members, size=remainder, replace=False)] += 1
    out = [sentences[i] for i in range(len(sentences)) for _ in range(int(copies[i]))]
    return out, rate


def split_train_validation(sentences, seed: int, validation_fraction: float = 0.1) -> tuple[list, list]:
    """A seeded 90/10 split; both parts keep corpus order."""
    n = len(sentences)
    n_val = max(1, round(n * validation_fraction)) if n > 1 else 0
    chosen = np.zeros(n, dtype=bool)
    chosen[np.random.default_rng(seed).choice(n, size=n_val, replace=False)] = True
    return [s for s, c in zip(sentences, chosen) if not c], [s for s, c in zip(sentences, chosen) if c]
