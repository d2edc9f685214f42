"""Score fine-tuned checkpoints on built datasets; the cross-domain F1 matrix of T-NER (Table 3).

Predictions are read per word exactly as in fine-tuning (first subword, long
sentences windowed and merged back), so a checkpoint scored here on its own test
set gets the ``test_f1`` its fine-tuning run reported.

Two scores per (checkpoint, test set) pair, both micro F1 over spans:

* type-aware: the checkpoint's types must match the test set's. Without a type map
  the names are compared as they are. With one (a dict, or ``"unified"`` to pair
  types that share a canonical type in the package's unified type map), predicted
  types are renamed onto the test set's, and predictions of a type with no
  counterpart in the test set become ``O``: the test set cannot reward or punish
  a type it does not annotate.
* type-ignored: every type collapsed to one, so only span boundaries count. It is
  computed on the unmapped predictions and needs no type map.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from transformers import AutoConfig, AutoModelForTokenClassification, TrainingArguments

from .alignment import merge_word_predictions
from .errors import NerbertError
from .labels import entity_types, split_tag, unified_type_map
from .metrics import MACRO_METRICS, MICRO_METRICS, TYPE_IGNORED_METRICS, ner_scores
from .training import (
    ModelArguments,
    build_trainer,
    label_names,
    load_ner_dataset,
    load_tokenizer,
    model_inputs,
    prepare_split,
    write_json,
)

logger = logging.getLogger(__name__)

MATRIX_STEMS = {"f1": "matrix_type_aware", "f1_type_ignored": "matrix_type_ignored"}


@dataclass
class EvaluationArguments:
    checkpoints: list[str] = field(
        default=None, metadata={"help": "Fine-tuned token-classification checkpoints (folders or Hub ids)."}
    )
    datasets: list[str] = field(
        default=None, metadata={"help": "Test sets as PATH[:CONFIG]: folders from `nerbert-hf data build` or Hub ids."}
    )
    split: str = field(default="test", metadata={"help": "Split of every dataset to score on."})
    type_map: str | None = field(
        default=None,
        metadata={"help": "Rename the checkpoints' types onto each test set's: `unified` (the package's unified "
                          "type map) or a JSON file {checkpoint type: test type}. Default: compare names as they are."},
    )
    output_dir: str = field(default="evaluation", metadata={"help": "Where the matrices and scores.json go."})
    batch_size: int = field(default=32, metadata={"help": "Windows per prediction batch."})
    max_seq_length: int | None = field(
        default=None, metadata={"help": "Window length in tokens (default: the tokenizer's, at most 512)."}
    )
    eval_mode: str = field(default="default", metadata={"help": "seqeval mode: default or strict.",
                                                         "choices": ["default", "strict"]})


# ---------------------------------------------------------------------------------------------------------------
# Type mapping


def map_types(tags: Sequence[Sequence[str]], type_map: dict[str, str], *, drop_unmapped: bool = True) -> list[list[str]]:
    """Rename the entity types of tag sequences; a type missing from ``type_map`` becomes ``O`` or stays as it is."""
    out = []
    for sentence in tags:
        renamed = []
        for tag in sentence:
            prefix, etype = split_tag(tag)
            if etype is None:
                renamed.append(tag)
            elif etype in type_map:
                renamed.append(f"{prefix}-{type_map[etype]}")
            else:
                renamed.append("O" if drop_unmapped else tag)
        out.append(renamed)
    return out


def type_map_via_unified(pred_types: Sequence[str], gold_types: Sequence[str]) -> dict[str, str]:
    """Checkpoint type -> test-set type, for equal names or names with the same canonical type.

    Types with no counterpart are left out. Should two test-set types share a canonical
    type (no packaged dataset has such a pair), the first one listed wins.
    """
    unified = unified_type_map()
    gold_by_canonical: dict[str, str] = {}
    for gold in gold_types:
        if gold in unified:
            gold_by_canonical.setdefault(unified[gold], gold)
    mapping = {}
    for pred in pred_types:
        if pred in gold_types:
            mapping[pred] = pred
        elif pred in unified and unified[pred] in gold_by_canonical:
            mapping[pred] = gold_by_canonical[unified[pred]]
    return mapping


def load_type_map(spec: str | None) -> str | dict[str, str] | None:
    """``None``, ``"unified"``, or the ``{checkpoint type: test type}`` dict of a JSON file."""
    if spec is None or spec == "unified":
        return spec
    path = Path(spec)
    try:
        mapping = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise NerbertError(f"--type_map {spec}: not `unified` and not a readable JSON file: {err}") from None
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise NerbertError(f"--type_map {spec}: expected a JSON object of type names to type names")
    return mapping


def _resolve_type_map(type_map, pred_types: list[str], gold_types: list[str]) -> dict[str, str] | None:
    """The mapping actually applied to one pair: only pairs landing on a test-set type are kept."""
    if type_map is None:
        return None
    if type_map == "unified":
        return type_map_via_unified(pred_types, gold_types)
    if not isinstance(type_map, dict):
        raise TypeError(f"type_map must be None, 'unified' or a dict, got {type_map!r}")
    # A user's map lists the renamings; types the two label sets share keep their name.
    full = {t: t for t in pred_types if t in gold_types}
    full.update(type_map)
    return {p: g for p, g in full.items() if p in pred_types and g in gold_types}


# ---------------------------------------------------------------------------------------------------------------
# Prediction and scoring


def checkpoint_labels(model) -> list[str]:
    """The label list of a token-classification model, checked to be IOB2 tags."""
    id2label = model.config.id2label
    labels = [id2label[i] for i in range(model.config.num_labels)]
    bad = [label for label in labels if label != "O" and split_tag(label)[0] not in ("B", "I")]
    if bad:
        raise NerbertError(f"{model.config.name_or_path}: id2label holds non-IOB2 labels {bad[:5]}; "
                           "is this a checkpoint fine-tuned for NER?")
    return labels


def check_checkpoint(checkpoint: str) -> None:
    """Raise :class:`NerbertError` naming ``checkpoint`` unless its config loads (cheap: no weights)."""
    path = Path(checkpoint)
    # A Hub id has at most one slash; anything else that does not exist is a mistyped folder,
    # which the Hub client would only report as a malformed repo id.
    if not path.exists() and (path.is_absolute() or checkpoint.startswith(".") or checkpoint.count("/") > 1):
        raise NerbertError(f"checkpoint {checkpoint!r}: no such folder")
    try:
        AutoConfig.from_pretrained(checkpoint)
    except (OSError, ValueError) as err:
        raise NerbertError(f"cannot load checkpoint {checkpoint!r}: {err}") from None


def load_checkpoint(checkpoint: str):
    """``(model, tokenizer)`` of a fine-tuned checkpoint; a missing one raises :class:`NerbertError` naming it."""
    check_checkpoint(checkpoint)
    try:
        model = AutoModelForTokenClassification.from_pretrained(checkpoint)
        tokenizer = load_tokenizer(checkpoint)
    except (OSError, ValueError) as err:
        raise NerbertError(f"cannot load checkpoint {checkpoint!r}: {err}") from None
    checkpoint_labels(model)
    return model, tokenizer


def predict_word_labels(model, tokenizer, dataset, *, batch_size: int = 32, max_length: int | None = None,
                        stride: int = 32) -> list[list[str]]:
    """Per sentence, per word, the label (from ``model.config.id2label``) predicted at the word's first subword.

    ``dataset`` needs a ``tokens`` column only; its gold tags, if any, are not given to
    the model (they may come from another label set than the model's).
    """
    labels = checkpoint_labels(model)
    if len(dataset) == 0:
        return []
    words = dataset.select_columns(["tokens"])
    aligned = prepare_split(words, tokenizer, ModelArguments(max_seq_length=max_length, stride=stride), "prediction")
    # Length-sorted batches carry little padding; word_index and sentence_index travel with
    # each row, so merging back does not depend on the order.
    order = np.argsort([len(ids) for ids in aligned["input_ids"]], kind="stable")
    aligned = aligned.select(order)
    with tempfile.TemporaryDirectory(prefix="nerbert-predict-") as tmp:
        args = TrainingArguments(output_dir=tmp, per_device_eval_batch_size=batch_size, report_to="none")
        trainer = build_trainer(model, tokenizer, args, train_rows=None)
        output = trainer.predict(model_inputs(aligned))
    lengths = [len(tokens) for tokens in words["tokens"]]
    ids = merge_word_predictions(lengths, aligned["sentence_index"], aligned["word_index"], output.predictions)
    return [[labels[i] for i in row] for row in ids]


def score_predictions(gold: list[list[str]], predicted: list[list[str]], pred_labels: list[str],
                      gold_labels: list[str], *, type_map=None, mode: str = "default") -> dict:
    """Type-aware scores after ``type_map`` (see :func:`score_checkpoint`), type-ignored ones before it."""
    pred_types, gold_types = entity_types(pred_labels), entity_types(gold_labels)
    applied = _resolve_type_map(type_map, pred_types, gold_types)
    if applied is None and not set(pred_types) & set(gold_types):
        logger.warning("no entity type shared by the checkpoint %s and the test set %s: type-aware F1 is 0 "
                       "(pass a type map)", pred_types, gold_types)
    mapped = predicted if applied is None else map_types(predicted, applied)
    aware = ner_scores(gold, mapped, mode=mode)
    ignored = ner_scores(gold, predicted, mode=mode)
    scores = {key: aware[key] for key in MICRO_METRICS + MACRO_METRICS}
    scores.update({key: ignored[key] for key in TYPE_IGNORED_METRICS})
    scores["per_type"] = aware["per_type"]
    scores["type_map"] = applied
    scores["dropped_types"] = [] if applied is None else [t for t in pred_types if t not in applied]
    scores["sentences"] = len(gold)
    return scores


def _test_split(dataset_name: str, config: str | None, split: str):
    dataset = load_ner_dataset(dataset_name, config)
    if split not in dataset:
        raise NerbertError(f"dataset {dataset_name!r} (config {config!r}) has no split {split!r}; "
                           f"it has {', '.join(dataset)}")
    return dataset[split]


def _gold(test) -> tuple[list[list[str]], list[str]]:
    labels = label_names(test)
    return [[labels[i] for i in tags] for tags in test["ner_tags"]], labels


def score_checkpoint(checkpoint_dir: str, dataset_name: str, config: str | None = None, split: str = "test", *,
                     type_map: str | dict[str, str] | None = None, mode: str = "default", batch_size: int = 32,
                     max_length: int | None = None) -> dict:
    """Word-level scores of one checkpoint on one split of a built dataset.

    Returns :func:`~nerbert_hf.metrics.ner_scores`' micro and macro ``precision``/
    ``recall``/``f1`` and ``per_type`` (type-aware, after ``type_map``), its
    ``*_type_ignored`` scores (on the unmapped predictions), ``type_map`` (the mapping
    applied, or None), ``dropped_types`` (predicted types turned to ``O``) and
    ``sentences``. ``type_map``: None compares type names as they are; ``"unified"``
    pairs types through the unified type map; a dict renames checkpoint types to
    test-set types, types both label sets share keeping their name.
    """
    test = _test_split(dataset_name, config, split)
    model, tokenizer = load_checkpoint(checkpoint_dir)
    predicted = predict_word_labels(model, tokenizer, test, batch_size=batch_size, max_length=max_length)
    gold, gold_labels = _gold(test)
    return score_predictions(gold, predicted, checkpoint_labels(model), gold_labels, type_map=type_map, mode=mode)


# ---------------------------------------------------------------------------------------------------------------
# Cross-domain matrix


def parse_dataset_spec(spec: str) -> tuple[str, str | None]:
    """``"PATH[:CONFIG]"`` -> ``(PATH, CONFIG or None)``."""
    path, sep, config = spec.rpartition(":")
    # A colon inside a path (or a Windows drive) is not a config separator.
    if not sep or not path or "/" in config or "\\" in config:
        return spec, None
    return path, config or None


def test_set_names(specs: Sequence[tuple[str, str | None]]) -> list[str]:
    """Short column names (``folder[/config]``), or the full specs where short ones would collide."""
    short = [f"{Path(path).name}/{config}" if config else Path(path).name for path, config in specs]
    if len(set(short)) == len(short):
        return short
    return [f"{path}:{config}" if config else path for path, config in specs]


def cross_domain_scores(checkpoints: Sequence[str], test_sets: Sequence[tuple[str, str, str | None]], *,
                        split: str = "test", type_map=None, mode: str = "default", batch_size: int = 32,
                        max_length: int | None = None) -> list[dict]:
    """:func:`score_checkpoint` for every (checkpoint, test set) pair, each scores dict tagged with its pair.

    ``test_sets`` are ``(name, path, config)``; every test set and checkpoint config is
    loaded before any scoring, so a bad path fails before the long part.
    """
    names = [name for name, _, _ in test_sets]
    for kind, values in (("checkpoint", list(checkpoints)), ("test set name", names)):
        duplicates = sorted({v for v in values if values.count(v) > 1})
        if duplicates:
            raise ValueError(f"duplicate {kind}(s): {', '.join(duplicates)}")
    tests = {name: _test_split(path, config, split) for name, path, config in test_sets}
    for checkpoint in checkpoints:
        check_checkpoint(checkpoint)
    results = []
    for checkpoint in checkpoints:
        model, tokenizer = load_checkpoint(checkpoint)
        labels = checkpoint_labels(model)
        for name, path, config in test_sets:
            logger.info("scoring %s on %s", checkpoint, name)
            predicted = predict_word_labels(model, tokenizer, tests[name], batch_size=batch_size,
                                            max_length=max_length)
            gold, gold_labels = _gold(tests[name])
            scores = score_predictions(gold, predicted, labels, gold_labels, type_map=type_map, mode=mode)
            results.append({"checkpoint": checkpoint, "test_set": name, "dataset": path, "config": config,
                            "split": split, **scores})
    return results


def matrices_from_scores(scores: Sequence[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(type-aware, type-ignored) F1 in [0, 1]: rows = checkpoints, columns = test sets, in first-seen order."""
    rows = list(dict.fromkeys(s["checkpoint"] for s in scores))
    columns = list(dict.fromkeys(s["test_set"] for s in scores))
    out = []
    for metric in MATRIX_STEMS:
        frame = pd.DataFrame(np.nan, index=pd.Index(rows, name="checkpoint"),
                             columns=pd.Index(columns, name="test set"))
        for s in scores:
            frame.loc[s["checkpoint"], s["test_set"]] = s[metric]
        out.append(frame)
    return out[0], out[1]


def cross_domain_matrix(checkpoints: Sequence[str], test_sets: Sequence[tuple[str, str, str | None]],
                        **kwargs) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(type-aware, type-ignored) F1 matrices; keyword arguments as :func:`cross_domain_scores`."""
    return matrices_from_scores(cross_domain_scores(checkpoints, test_sets, **kwargs))


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _percent(value: float) -> str:
    return "–" if np.isnan(value) else f"{100 * value:.1f}"


def matrix_markdown(df: pd.DataFrame, corner: str = "F1 (%)") -> str:
    """A Markdown table of a matrix in percent with one decimal (no ``tabulate`` needed)."""
    def cell(text) -> str:
        return str(text).replace("|", "\\|")

    lines = ["| " + " | ".join([cell(corner)] + [cell(c) for c in df.columns]) + " |",
             "|---|" + "---:|" * len(df.columns)]
    for name, row in df.iterrows():
        lines.append("| " + " | ".join([cell(name)] + [_percent(v) for v in row]) + " |")
    return "\n".join(lines) + "\n"


def _heatmap(df: pd.DataFrame, path: Path, title: str) -> None:
    # Figure + Agg canvas directly: no pyplot global state, no display needed.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    values = 100 * df.to_numpy(dtype=float)
    n_rows, n_cols = values.shape
    fig = Figure(figsize=(2.0 + 1.1 * n_cols, 1.5 + 0.6 * n_rows))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    image = ax.imshow(values, cmap="Blues", vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(n_cols), [str(c) for c in df.columns], rotation=45, ha="right")
    ax.set_yticks(range(n_rows), [str(r) for r in df.index])
    ax.set_xlabel("test set")
    ax.set_ylabel("checkpoint")
    ax.set_title(title)
    for i in range(n_rows):
        for j in range(n_cols):
            v = values[i, j]
            # White text on the dark half of the colour map stays readable.
            ax.text(j, i, "–" if np.isnan(v) else f"{v:.1f}", ha="center", va="center",
                    color="white" if v > 60 else "black")
    fig.colorbar(image, ax=ax, label="F1 (%)")
    fig.savefig(path, format="png", dpi=150, bbox_inches="tight")


def write_matrix(df: pd.DataFrame, out_dir: str | Path, stem: str, title: str | None = None) -> dict[str, Path]:
    """Write ``stem.csv`` (F1 in [0, 1]), ``stem.md`` and a ``stem.png`` heatmap (percent); atomic; return paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {ext: out_dir / f"{stem}.{ext}" for ext in ("csv", "md", "png")}
    _atomic_write(paths["csv"], lambda p: df.to_csv(p))
    _atomic_write(paths["md"], lambda p: p.write_text(matrix_markdown(df), encoding="utf-8"))
    _atomic_write(paths["png"], lambda p: _heatmap(df, p, title or stem.replace("_", " ")))
    return paths


def run_evaluation(args: EvaluationArguments) -> dict:
    """Score every checkpoint on every dataset; write both matrices and ``scores.json``; return the payload."""
    if not args.checkpoints:
        raise ValueError("--checkpoints is required (one or more fine-tuned checkpoints)")
    if not args.datasets:
        raise ValueError("--datasets is required (one or more PATH[:CONFIG])")
    type_map = load_type_map(args.type_map)
    specs = [parse_dataset_spec(spec) for spec in args.datasets]
    test_sets = [(name, path, config) for name, (path, config) in zip(test_set_names(specs), specs)]
    scores = cross_domain_scores(args.checkpoints, test_sets, split=args.split, type_map=type_map,
                                 mode=args.eval_mode, batch_size=args.batch_size, max_length=args.max_seq_length)
    aware, ignored = matrices_from_scores(scores)
    out_dir = Path(args.output_dir)
    write_matrix(aware, out_dir, MATRIX_STEMS["f1"], title=f"type-aware F1 ({args.split})")
    write_matrix(ignored, out_dir, MATRIX_STEMS["f1_type_ignored"], title=f"type-ignored F1 ({args.split})")
    payload = {"checkpoints": list(args.checkpoints),
               "test_sets": [{"name": n, "dataset": p, "config": c} for n, p, c in test_sets],
               "split": args.split, "eval_mode": args.eval_mode, "type_map": args.type_map, "scores": scores}
    write_json(out_dir / "scores.json", payload)
    return payload
