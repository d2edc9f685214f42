"""Word-level NER scores computed locally with seqeval, plus sentence-bootstrap intervals.

``evaluate.load("seqeval")`` is deliberately not used: it fetches the metric script
from the Hub. All scores are fractions in [0, 1]; an undefined ratio (no predicted or
no gold spans) is 0, as with seqeval's ``zero_division=0``.

Span matching modes:

* ``"default"``: seqeval's conlleval-like chunking; an orphan ``I-X`` starts a span.
* ``"strict"``: seqeval's strict mode under a tagging scheme (IOB2 unless told
  otherwise); an orphan ``I-X`` is not a span.

Type-ignored scores (T-NER, Ushio & Camacho-Collados 2021, §4.1.2) collapse every
entity type to one (``B-PER`` -> ``B-ENT``) before matching, so only span boundaries
count. Adjacent spans that differed only in type (``B-PER I-LOC``) merge into one
span after collapsing, exactly as if the tagger had used a single type.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from seqeval import scheme as seqeval_schemes
from seqeval.metrics import sequence_labeling as seqeval_default
from seqeval.metrics import v1 as seqeval_strict

MODES = ("default", "strict")
MICRO_METRICS = ("precision", "recall", "f1")
MACRO_METRICS = ("macro_precision", "macro_recall", "macro_f1")
TYPE_IGNORED_METRICS = ("precision_type_ignored", "recall_type_ignored", "f1_type_ignored")
METRICS = MICRO_METRICS + MACRO_METRICS + TYPE_IGNORED_METRICS

_COLLAPSED_TYPE = "ENT"
# Column order of the per-sentence span-count arrays.
_TP, _PRED, _TRUE = 0, 1, 2
# Bound on the resample-by-sentence weight matrix built at once (entries).
_BOOTSTRAP_CHUNK_ENTRIES = 2_000_000


def ner_scores(
    y_true: Sequence[Sequence[str]],
    y_pred: Sequence[Sequence[str]],
    *,
    mode: str = "default",
    scheme: str | type = "IOB2",
) -> dict:
    """Span-level precision/recall/F1 of word-level BIO label sequences.

    Returns micro ``precision``/``recall``/``f1``, their macro averages over entity
    types (``macro_*``, the unweighted mean over every type seen in gold or
    predictions), type-ignored micro scores (``*_type_ignored``) and ``per_type``:
    ``{type: {"precision", "recall", "f1", "support"}}`` with support = gold spans.
    ``scheme`` (a ``seqeval.scheme`` class or its name) is used only when
    ``mode="strict"``.
    """
    _check_pair(y_true, y_pred)
    _check_mode(mode)
    scheme_cls = _resolve_scheme(scheme)
    y_true = [list(s) for s in y_true]
    y_pred = [list(s) for s in y_pred]

    types = sorted(
        {span[0] for seqs in (y_true, y_pred) for seq in seqs for span in _spans(seq, mode, scheme_cls)}
    )
    p, r, f, _ = _seqeval_prfs(y_true, y_pred, mode, scheme_cls, average="micro")
    scores = {"precision": float(p), "recall": float(r), "f1": float(f)}

    if types:
        mp, mr, mf, _ = _seqeval_prfs(y_true, y_pred, mode, scheme_cls, average="macro")
        tp_, tr_, tf_, ts_ = _seqeval_prfs(y_true, y_pred, mode, scheme_cls, average=None)
    else:
        # seqeval's macro average of zero types is NaN; keep every score in [0, 1].
        mp = mr = mf = 0.0
        tp_ = tr_ = tf_ = ts_ = ()
    scores.update(macro_precision=float(mp), macro_recall=float(mr), macro_f1=float(mf))

    ip, ir, if_, _ = _seqeval_prfs(
        _collapse_types(y_true), _collapse_types(y_pred), mode, scheme_cls, average="micro"
    )
    scores.update(
        precision_type_ignored=float(ip), recall_type_ignored=float(ir), f1_type_ignored=float(if_)
    )
    scores["per_type"] = {
        name: {"precision": float(a), "recall": float(b), "f1": float(c), "support": int(d)}
        for name, a, b, c, d in zip(types, tp_, tr_, tf_, ts_, strict=True)
    }
    return scores


def bootstrap_ci(
    y_true: Sequence[Sequence[str]],
    y_pred: Sequence[Sequence[str]],
    *,
    metric: str = "f1",
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    mode: str = "default",
    scheme: str | type = "IOB2",
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``metric`` over sentences resampled with replacement.

    ``metric`` is any of :data:`METRICS`. Spans are extracted once per sentence with
    seqeval's own chunkers; each resample only re-sums per-sentence span counts, so
    the statistic on the original sample equals :func:`ner_scores` (macro averages up
    to float rounding). A resample's macro average covers the types present in it.
    """
    _check_pair(y_true, y_pred)
    _check_mode(mode)
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {METRICS}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    if len(y_true) == 0:
        raise ValueError("cannot bootstrap an empty evaluation set")

    _, counts = _span_counts(
        y_true, y_pred, mode=mode, scheme=scheme, type_ignored=metric in TYPE_IGNORED_METRICS
    )
    n_sentences, n_types, _ = counts.shape
    flat = counts.reshape(n_sentences, -1).astype(np.float64)
    rng = np.random.default_rng(seed)
    stats = np.empty(n_resamples)
    chunk = max(1, _BOOTSTRAP_CHUNK_ENTRIES // n_sentences)
    for lo in range(0, n_resamples, chunk):
        size = min(chunk, n_resamples - lo)
        picks = rng.integers(0, n_sentences, size=(size, n_sentences))
        # How often each sentence was drawn in each resample; totals are then one matmul
        # (exact: counts are small integers, well inside float64's integer range).
        offsets = (np.arange(size)[:, None] * n_sentences + picks).ravel()
        weights = np.bincount(offsets, minlength=size * n_sentences).reshape(size, n_sentences)
        totals = (weights @ flat).reshape(size, n_types, 3)
        stats[lo : lo + size] = _metric_from_counts(totals, metric)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(stats, [tail, 1.0 - tail])
    return float(low), float(high)


def _span_counts(y_true, y_pred, *, mode, scheme, type_ignored):
    """Per-sentence ``[tp, predicted, gold]`` span counts per type: ``(types, (n, T, 3) array)``."""
    scheme_cls = _resolve_scheme(scheme)
    if type_ignored:
        y_true, y_pred = _collapse_types(y_true), _collapse_types(y_pred)
    per_sentence = []
    for gold_seq, pred_seq in zip(y_true, y_pred, strict=True):
        per_sentence.append((_spans(list(gold_seq), mode, scheme_cls), _spans(list(pred_seq), mode, scheme_cls)))
    types = sorted({span[0] for pair in per_sentence for spans in pair for span in spans})
    column = {name: j for j, name in enumerate(types)}
    counts = np.zeros((len(per_sentence), len(types), 3), dtype=np.int64)
    for i, (gold, pred) in enumerate(per_sentence):
        for span in gold & pred:
            counts[i, column[span[0]], _TP] += 1
        for span in pred:
            counts[i, column[span[0]], _PRED] += 1
        for span in gold:
            counts[i, column[span[0]], _TRUE] += 1
    return types, counts


def _metric_from_counts(totals: np.ndarray, metric: str) -> np.ndarray:
    """``metric`` for each row of summed span counts shaped ``(R, T, 3)``; returns ``(R,)``."""
    tp, pred, true = totals[..., _TP], totals[..., _PRED], totals[..., _TRUE]
    if metric not in MACRO_METRICS:
        tp, pred, true = tp.sum(-1), pred.sum(-1), true.sum(-1)
    precision = _divide(tp, pred)
    recall = _divide(tp, true)
    # Same operation order as seqeval, so the full-sample value matches it bit for bit.
    denom = precision + recall
    f1 = 2.0 * precision * recall / np.where(denom == 0, 1.0, denom)
    value = {"precision": precision, "recall": recall, "f1": f1}[_base_metric(metric)]
    if metric in MACRO_METRICS:
        # A resample's macro average covers the types present in it, as seqeval would.
        present = (pred + true) > 0
        n_present = present.sum(-1)
        value = np.where(n_present > 0, (value * present).sum(-1) / np.maximum(n_present, 1), 0.0)
    return value


def _base_metric(metric: str) -> str:
    """``"macro_f1"`` / ``"f1_type_ignored"`` / ``"f1"`` -> ``"f1"``."""
    return metric.removeprefix("macro_").removesuffix("_type_ignored")


def _divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    return np.where(den == 0, 0.0, num / np.where(den == 0, 1.0, den))


def _spans(seq: list[str], mode: str, scheme_cls: type) -> set[tuple[str, int, int]]:
    """``(type, start, end)`` spans of one sentence as seqeval's ``mode`` sees them."""
    if mode == "strict":
        return {(e.tag, e.start, e.end) for e in seqeval_schemes.Tokens(seq, scheme_cls).entities}
    return set(seqeval_default.get_entities(seq))


def _seqeval_prfs(y_true, y_pred, mode, scheme_cls, *, average):
    if mode == "strict":
        return seqeval_strict.precision_recall_fscore_support(
            y_true, y_pred, average=average, zero_division=0, scheme=scheme_cls
        )
    return seqeval_default.precision_recall_fscore_support(
        y_true, y_pred, average=average, zero_division=0
    )


def _collapse_types(seqs: Sequence[Sequence[str]]) -> list[list[str]]:
    return [[_collapse_label(label) for label in seq] for seq in seqs]


def _collapse_label(label: str) -> str:
    if "-" not in label:
        return label
    return f"{label.split('-', 1)[0]}-{_COLLAPSED_TYPE}"


def _resolve_scheme(scheme: str | type) -> type:
    if isinstance(scheme, str):
        resolved = getattr(seqeval_schemes, scheme, None)
    else:
        resolved = scheme
    if not (isinstance(resolved, type) and issubclass(resolved, seqeval_schemes.Token)):
        raise ValueError(f"unknown seqeval scheme {scheme!r}")
    return resolved


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")


def _check_pair(y_true: Sequence[Sequence[str]], y_pred: Sequence[Sequence[str]]) -> None:
    """Raise ValueError at the first sentence where gold and predictions disagree in shape."""
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"y_true has {len(y_true)} sentences but y_pred has {len(y_pred)}; "
            f"first unmatched sentence index is {min(len(y_true), len(y_pred))}"
        )
    for i, (gold, pred) in enumerate(zip(y_true, y_pred)):
        if isinstance(gold, str) or isinstance(pred, str):
            raise ValueError(f"sentence {i}: expected a list of labels, got a string")
        if len(gold) != len(pred):
            raise ValueError(f"sentence {i}: y_true has {len(gold)} labels but y_pred has {len(pred)}")
