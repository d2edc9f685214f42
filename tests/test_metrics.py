import random
import time

import pytest
from seqeval.metrics import f1_score, precision_score, recall_score
from seqeval.scheme import IOB2

from nerbert_hf.metrics import (
    METRICS,
    _metric_from_counts,
    _span_counts,
    bootstrap_ci,
    ner_scores,
)

GOLD = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG", "I-ORG"]]


def _random_corpus(n_sentences, seed, error_rate=0.3):
    rng = random.Random(seed)
    labels = ["O", "O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC"]
    gold, pred = [], []
    for _ in range(n_sentences):
        sentence = [rng.choice(labels) for _ in range(rng.randint(1, 12))]
        gold.append(sentence)
        pred.append([rng.choice(labels) if rng.random() < error_rate else tag for tag in sentence])
    return gold, pred


@pytest.mark.parametrize("mode", ["default", "strict"])
def test_perfect_prediction_scores_one(mode):
    scores = ner_scores(GOLD, GOLD, mode=mode)
    for name in METRICS:
        assert scores[name] == 1.0, name
    assert scores["per_type"] == {
        "LOC": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1},
        "ORG": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1},
        "PER": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1},
    }


def test_boundary_error_hurts_typed_and_type_ignored():
    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    pred = [["B-PER", "O", "O", "B-LOC"]]  # PER span cut short: 1 of 2 spans right
    scores = ner_scores(gold, pred)
    assert scores["precision"] == scores["recall"] == scores["f1"] == 0.5
    assert scores["f1_type_ignored"] == 0.5
    assert scores["precision_type_ignored"] == scores["recall_type_ignored"] == 0.5


def test_type_only_error_hurts_typed_but_not_type_ignored():
    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    pred = [["B-ORG", "I-ORG", "O", "B-LOC"]]  # right span, wrong type
    scores = ner_scores(gold, pred)
    assert scores["f1"] == 0.5
    assert scores["f1_type_ignored"] == 1.0
    assert scores["per_type"]["ORG"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert scores["per_type"]["PER"]["support"] == 1


def test_strict_and_default_differ_on_orphan_inside_tag():
    gold = [["O", "B-PER", "I-PER", "O"]]
    pred = [["O", "I-PER", "I-PER", "O"]]
    # conlleval-like chunking starts a span at the orphan I-PER; IOB2 strict does not.
    assert ner_scores(gold, pred, mode="default")["f1"] == 1.0
    strict = ner_scores(gold, pred, mode="strict")
    assert strict["f1"] == 0.0
    assert strict["recall"] == 0.0
    assert strict["precision"] == 0.0  # no predicted span at all: zero division -> 0


def test_macro_differs_from_micro_on_unbalanced_types():
    gold = [["B-PER", "O", "B-PER"], ["B-PER", "O", "B-LOC"]]
    pred = [["B-PER", "O", "B-PER"], ["B-PER", "O", "O"]]
    scores = ner_scores(gold, pred)
    # micro: tp=3, predicted=3, gold=4
    assert scores["precision"] == 1.0
    assert scores["recall"] == 0.75
    assert scores["f1"] == pytest.approx(6 / 7)
    # macro: PER perfect, LOC all zero
    assert scores["macro_precision"] == 0.5
    assert scores["macro_recall"] == 0.5
    assert scores["macro_f1"] == 0.5
    assert scores["per_type"]["PER"]["support"] == 3
    assert scores["per_type"]["LOC"]["support"] == 1


def test_type_ignored_joins_adjacent_spans_of_different_types():
    gold = [["B-PER", "I-PER"]]
    pred = [["B-PER", "I-LOC"]]  # default chunking: PER(0,0) and LOC(1,1)
    scores = ner_scores(gold, pred)
    assert scores["f1"] == 0.0
    assert scores["f1_type_ignored"] == 1.0


def test_no_entities_anywhere_gives_zeros_not_nan():
    scores = ner_scores([["O", "O"]], [["O", "O"]])
    assert all(scores[name] == 0.0 for name in METRICS)
    assert scores["per_type"] == {}


@pytest.mark.parametrize("mode", ["default", "strict"])
def test_scores_match_seqeval_on_random_corpus(mode):
    gold, pred = _random_corpus(300, seed=1)
    kwargs = {"mode": "strict", "scheme": IOB2} if mode == "strict" else {}
    scores = ner_scores(gold, pred, mode=mode)
    assert scores["f1"] == f1_score(gold, pred, **kwargs)
    assert scores["precision"] == precision_score(gold, pred, **kwargs)
    assert scores["recall"] == recall_score(gold, pred, **kwargs)
    assert scores["macro_f1"] == f1_score(gold, pred, average="macro", **kwargs)


def test_input_validation_names_first_bad_sentence():
    with pytest.raises(ValueError, match="sentence 1:"):
        ner_scores([["O"], ["O", "B-PER"], ["O"]], [["O"], ["O"], ["O", "O"]])
    with pytest.raises(ValueError, match="index is 1"):
        ner_scores([["O"], ["O"]], [["O"]])
    with pytest.raises(ValueError, match="sentence 0:"):
        bootstrap_ci([["O", "O"]], [["O"]])
    with pytest.raises(ValueError, match="mode"):
        ner_scores(GOLD, GOLD, mode="lenient")


@pytest.mark.parametrize("mode", ["default", "strict"])
def test_span_count_point_estimate_equals_seqeval(mode):
    gold, pred = _random_corpus(400, seed=2)
    scores = ner_scores(gold, pred, mode=mode)
    for metric in METRICS:
        _, counts = _span_counts(
            gold, pred, mode=mode, scheme="IOB2", type_ignored=metric.endswith("_type_ignored")
        )
        point = _metric_from_counts(counts.sum(0)[None], metric)[0]
        if metric.startswith("macro_"):
            assert point == pytest.approx(scores[metric], rel=1e-12, abs=0), metric
        else:
            assert point == scores[metric], metric


def test_span_counts_on_a_resample_match_seqeval_including_macro_type_set():
    # A resample can lose every span of a rare type; seqeval's macro then averages
    # over fewer types, and the bootstrap must do the same.
    gold, pred = _random_corpus(60, seed=3)
    gold[0], pred[0] = ["B-RARE", "O"], ["B-RARE", "B-PER"]
    rng = random.Random(4)
    picks = [rng.randrange(1, len(gold)) for _ in range(len(gold))]  # sentence 0 never drawn
    scores = ner_scores([gold[i] for i in picks], [pred[i] for i in picks])
    _, counts = _span_counts(gold, pred, mode="default", scheme="IOB2", type_ignored=False)
    totals = counts[picks].sum(0)[None]
    for metric in ("f1", "macro_f1", "macro_precision", "macro_recall"):
        assert _metric_from_counts(totals, metric)[0] == pytest.approx(scores[metric], rel=1e-12)


def test_bootstrap_interval_brackets_point_and_is_deterministic():
    gold, pred = _random_corpus(500, seed=5)
    point = ner_scores(gold, pred)["f1"]
    low, high = bootstrap_ci(gold, pred, seed=7)
    assert 0.0 <= low < point < high <= 1.0
    assert bootstrap_ci(gold, pred, seed=7) == (low, high)
    assert bootstrap_ci(gold, pred, seed=8) != (low, high)
    narrow = bootstrap_ci(gold, pred, seed=7, confidence=0.5)
    assert low <= narrow[0] <= narrow[1] <= high


@pytest.mark.parametrize("metric", ["macro_f1", "f1_type_ignored", "recall"])
def test_bootstrap_other_metrics_bracket_their_point(metric):
    gold, pred = _random_corpus(400, seed=6)
    point = ner_scores(gold, pred, mode="strict")[metric]
    low, high = bootstrap_ci(gold, pred, metric=metric, mode="strict", n_resamples=500)
    assert low < point < high


def test_bootstrap_of_perfect_prediction_is_degenerate():
    assert bootstrap_ci(GOLD * 10, GOLD * 10, n_resamples=200) == (1.0, 1.0)


def test_bootstrap_is_fast_on_a_few_thousand_sentences():
    gold, pred = _random_corpus(3000, seed=9)
    started = time.perf_counter()
    bootstrap_ci(gold, pred, n_resamples=1000)
    assert time.perf_counter() - started < 5.0


def test_bootstrap_rejects_bad_arguments():
    with pytest.raises(ValueError, match="unknown metric"):
        bootstrap_ci(GOLD, GOLD, metric="accuracy")
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_ci(GOLD, GOLD, confidence=1.0)
    with pytest.raises(ValueError, match="empty"):
        bootstrap_ci([], [])
