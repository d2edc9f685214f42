"""Model cards for released checkpoints, written from what the run saved (``huggingface_hub.ModelCard``).

A fine-tuning run (``recipes/finetune.py``) leaves ``config.json`` (labels),
``all_results.json`` (test scores, per-type scores, runtime), ``test_predictions.conll``
(the test words with gold and predicted tags), ``training_args.bin`` (the pickled
``TrainingArguments``) and, with checkpointing, ``checkpoint-*/trainer_state.json``.
:func:`read_checkpoint_run` gathers them without executing any pickled code, and
:func:`render_model_card` turns them into a card: YAML metadata the Hub reads
(``pipeline_tag``, ``library_name``, ``base_model``, ``datasets``, ``license``, ``tags``,
``widget``, ``model-index``) and a body with results, the label table, usage,
training settings and citations.

What a run does not record (the base model's and the dataset's Hub ids) comes from
:class:`CardOptions`; a dataset whose label list the package publishes (CrossNER's
domains, T-NER's collection, ...) is recognised from the checkpoint's labels.
"""

from __future__ import annotations

import io
import json
import logging
import math
import pickle
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from . import __version__
from .errors import NerbertError
from .labels import entity_types, split_tag
from .metrics import MACRO_METRICS, MICRO_METRICS, TYPE_IGNORED_METRICS

logger = logging.getLogger(__name__)

NERBERT_CITATION = """@article{liu2021nerbert,
  title={NER-BERT: A Pre-trained Model for Low-Resource Entity Tagging},
  author={Liu, Zihan and Jiang, Feijun and Hu, Yuxiang and Shi, Chen and Fung, Pascale},
  journal={arXiv preprint arXiv:2112.00405},
  year={2021}
}"""

TNER_CITATION = """@inproceedings{ushio-camacho-collados-2021-ner,
  title={{T}-{NER}: An All-Round Python Library for Transformer-based Named Entity Recognition},
  author={Ushio, Asahi and Camacho-Collados, Jose},
  booktitle={Proceedings of the 16th Conference of the European Chapter of the Association for Computational Linguistics: System Demonstrations},
  pages={53--62},
  year={2021},
  url={https://aclanthology.org/2021.eacl-demos.7}
}"""

# Scores a run records per test set, in the order the card lists them: (key, metric type, display name, config).
SCORE_METRICS = (
    ("f1", "f1", "F1", None),
    ("precision", "precision", "Precision", None),
    ("recall", "recall", "Recall", None),
    ("f1_type_ignored", "f1", "F1 (type-ignored)", "type-ignored"),
    ("precision_type_ignored", "precision", "Precision (type-ignored)", "type-ignored"),
    ("recall_type_ignored", "recall", "Recall (type-ignored)", "type-ignored"),
    ("macro_f1", "f1", "Macro F1", "macro"),
    ("macro_precision", "precision", "Macro precision", "macro"),
    ("macro_recall", "recall", "Macro recall", "macro"),
    ("accuracy", "accuracy", "Accuracy", None),
)
assert {k for k, *_ in SCORE_METRICS} >= set(MICRO_METRICS + MACRO_METRICS + TYPE_IGNORED_METRICS)

# TrainingArguments worth a reader's attention, in the card's order; everything else (paths, logging, the
# hub token) stays out of the card.
HYPERPARAMETERS = (
    "learning_rate", "per_device_train_batch_size", "per_device_eval_batch_size", "gradient_accumulation_steps",
    "num_train_epochs", "max_steps", "seed", "optim", "adam_beta1", "adam_beta2", "adam_epsilon", "weight_decay",
    "lr_scheduler_type", "warmup_steps", "warmup_ratio", "max_grad_norm", "label_smoothing_factor", "bf16", "fp16",
    "train_sampling_strategy", "eval_strategy", "load_best_model_at_end", "metric_for_best_model",
)
# Values that only say "not used": left out of the table.
_UNSET = {"max_steps": -1, "warmup_ratio": 0.0, "label_smoothing_factor": 0.0}

TASK_NAMES = {"token-classification": "Named Entity Recognition", "fill-mask": "Masked Language Modeling"}


@dataclass
class CardOptions:
    """What the card needs that a run does not record."""

    repo_id: str
    base_model: str | None = None
    datasets: list[tuple[str, str | None]] = field(default_factory=list)  # (Hub id, config)
    license: str = "apache-2.0"
    language: list[str] = field(default_factory=lambda: ["en"])
    eval_scores: str | Path | None = None  # scores.json of recipes/evaluate.py


@dataclass
class KnownDataset:
    """A dataset whose label list the package publishes, recognised from a checkpoint's labels."""

    name: str
    config: str | None
    pretty_name: str
    license: str
    citation: str


@dataclass
class CheckpointRun:
    """Everything a checkpoint folder says about how it was made."""

    path: Path
    config: dict
    results: dict
    training_args: dict
    trainer_state: dict | None
    seed_summary: dict | None
    test_sentences: list[tuple[list[str], list[str]]]

    @property
    def architecture(self) -> str:
        return (self.config.get("architectures") or ["?"])[0]

    @property
    def pipeline_tag(self) -> str | None:
        if self.architecture.endswith("ForTokenClassification"):
            return "token-classification"
        if self.architecture.endswith("ForMaskedLM"):
            return "fill-mask"
        return None

    @property
    def labels(self) -> list[str]:
        id2label = self.config.get("id2label") or {}
        return [id2label[k] for k in sorted(id2label, key=int)]

    @property
    def setting(self) -> str | None:
        if self.pipeline_tag != "token-classification" or not self.results:
            return None
        if any(k.startswith("source_") for k in self.results) or (self.path / "source_model").is_dir():
            return "source_then_target"
        if "joint_train_sentences" in self.results:
            return "joint"
        return "target"


# ---------------------------------------------------------------------------------------------------------------
# Reading a run


class _Pickled:
    """Stand-in for any class a pickle names: records the arguments and state, runs no code of its own."""

    qualname = "?"

    def __new__(cls, *args, **kwargs):
        obj = object.__new__(cls)
        obj.args, obj.state = args, None
        return obj

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        self.state = state


class _InertUnpickler(pickle.Unpickler):
    """Rebuilds a pickle's data without importing or calling anything it names."""

    def find_class(self, module, name):
        return type(name, (_Pickled,), {"qualname": f"{module}.{name}"})

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("tensors are not expected in training_args.bin")


def _plain(value):
    """A value read through :class:`_InertUnpickler` as JSON-friendly data (enums -> their value)."""
    if isinstance(value, _Pickled):
        if len(value.args) == 1 and isinstance(value.args[0], (str, int, float, bool)):
            return value.args[0]
        return f"<{value.qualname}>"
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def read_training_args(path: str | Path) -> dict:
    """The fields of a ``training_args.bin`` (``torch.save`` of ``TrainingArguments``) as plain values.

    The file is a pickle, which ``torch.load`` would execute; it is read here by an
    unpickler that maps every class to an inert stand-in, so no code in it runs.
    Returns ``{}`` (and logs why) when the file cannot be read that way.
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            name = next(n for n in archive.namelist() if n.endswith("data.pkl"))
            obj = _InertUnpickler(io.BytesIO(archive.read(name))).load()
    except (OSError, StopIteration, zipfile.BadZipFile, pickle.UnpicklingError, EOFError, ValueError,
            TypeError, AttributeError, IndexError, KeyError) as err:
        logger.warning("%s: not read (%s); the card lists no training arguments", path.name, err)
        return {}
    state = obj.state if isinstance(obj, _Pickled) else None
    if not isinstance(state, dict):
        logger.warning("%s: not a pickled TrainingArguments; the card lists no training arguments", path.name)
        return {}
    return {k: _plain(v) for k, v in state.items()}


def _read_json(path: Path) -> dict | None:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise NerbertError(f"{path}: not valid JSON ({err})") from None


def read_conll(path: Path) -> list[tuple[list[str], list[str]]]:
    """(words, gold tags) per sentence of a ``token<TAB>gold<TAB>predicted`` file."""
    sentences, words, tags = [], [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if not line.strip():
            if words:
                sentences.append((words, tags))
            words, tags = [], []
            continue
        columns = line.split("\t")
        if len(columns) < 2:
            raise NerbertError(f"{path}:{number}: expected token<TAB>gold<TAB>predicted")
        words.append(columns[0])
        tags.append(columns[1])
    if words:
        sentences.append((words, tags))
    return sentences


def _latest_trainer_state(folder: Path) -> dict | None:
    def step(p: Path) -> int:
        tail = p.name.rsplit("-", 1)[-1]
        return int(tail) if tail.isdigit() else -1

    checkpoints = sorted((p for p in folder.glob("checkpoint-*") if (p / "trainer_state.json").is_file()), key=step)
    return _read_json(checkpoints[-1] / "trainer_state.json") if checkpoints else None


def read_checkpoint_run(folder: str | Path) -> CheckpointRun:
    """Gather what a checkpoint folder (from finetune.py or pretrain.py) records about its run."""
    folder = Path(folder)
    config = _read_json(folder / "config.json")
    if config is None:
        raise NerbertError(f"{folder}: no config.json; not a checkpoint folder")
    results = _read_json(folder / "all_results.json") or {}
    parent = _read_json(folder.parent / "all_results.json")
    seed_summary = parent if parent and "seeds" in parent and folder.name.startswith("seed-") else None
    conll = folder / "test_predictions.conll"
    return CheckpointRun(
        path=folder,
        config=config,
        results=results,
        training_args=read_training_args(folder / "training_args.bin") if (folder / "training_args.bin").is_file()
        else {},
        trainer_state=_latest_trainer_state(folder),
        seed_summary=seed_summary,
        test_sentences=read_conll(conll) if conll.is_file() else [],
    )


def match_known_dataset(labels: list[str]) -> KnownDataset | None:
    """The built-in dataset (and config) whose published label list is exactly ``labels``, if one is."""
    from dataset_scripts import DATASETS

    from .labels import dataset_labels

    for name, spec in DATASETS.items():
        if not spec.label_key:
            continue
        for config in spec.configs:
            key = spec.label_key.format(config=config)
            try:
                if dataset_labels(key) == labels:
                    return KnownDataset(name=name, config=None if spec.configs == ["default"] else config,
                                        pretty_name=spec.card.pretty_name, license=spec.card.license,
                                        citation=spec.card.citation)
            except KeyError:
                continue
    return None


# ---------------------------------------------------------------------------------------------------------------
# Pieces of the card

_NO_SPACE_BEFORE = re.compile(r" ([,.;:!?%)\]}]|'s\b|n't\b|'re\b|'ve\b|'ll\b|'d\b|'m\b)")
_NO_SPACE_AFTER = re.compile(r"([(\[{$]) ")


def detokenize(words: list[str]) -> str:
    """Words joined as running text: no space before closing punctuation or after opening brackets."""
    text = " ".join(words)
    text = _NO_SPACE_BEFORE.sub(r"\1", text)
    return _NO_SPACE_AFTER.sub(r"\1", text)


def widget_examples(sentences: list[tuple[list[str], list[str]]], k: int = 3) -> list[str]:
    """Up to ``k`` test sentences of readable length that show the most entity types (deterministic)."""
    scored = []
    for index, (words, tags) in enumerate(sentences):
        if not 6 <= len(words) <= 30:
            continue
        types = {split_tag(t)[1] for t in tags if t != "O"}
        if types:
            scored.append((-len(types), -sum(t.startswith("B-") for t in tags), index, detokenize(words)))
    chosen: list[str] = []
    for *_, text in sorted(scored):
        if text not in chosen:
            chosen.append(text)
        if len(chosen) == k:
            break
    return chosen


def entity_examples(sentences: list[tuple[list[str], list[str]]], k: int = 3) -> dict[str, list[str]]:
    """Up to ``k`` distinct gold entities per type, in order of appearance."""
    out: dict[str, list[str]] = {}
    for words, tags in sentences:
        start, current = None, None
        for i, tag in enumerate([*tags, "O"]):
            prefix, etype = split_tag(tag)
            if start is not None and (prefix != "I" or etype != current):
                seen = out.setdefault(current, [])
                text = detokenize(words[start:i])
                if text not in seen and len(seen) < k:
                    seen.append(text)
                start = None
            if prefix in ("B", "I") and start is None:
                start, current = i, etype
    return out


def _pct(value) -> str:
    return f"{100 * value:.2f}" if isinstance(value, (int, float)) and math.isfinite(value) else "–"


_NUMBER = re.compile(r"^(–|-?\d+(\.\d+)?)$")


def _table(header: list[str], rows: list[list]) -> list[str]:
    """A Markdown table; columns of numbers are right-aligned."""
    numeric = [bool(rows) and all(_NUMBER.match(str(row[i])) for row in rows) for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def _hub_link(repo_id: str, kind: str = "model") -> str:
    prefix = "https://huggingface.co/" + ("datasets/" if kind == "dataset" else "")
    return f"[{repo_id}]({prefix}{repo_id})"


@dataclass
class _TestSet:
    dataset_type: str
    dataset_name: str
    config: str | None
    split: str
    scores: dict
    per_type: dict | None = None


def _run_test_set(run: CheckpointRun, options: CardOptions, known: KnownDataset | None) -> list[_TestSet]:
    """The run's own evaluation: its test scores, or its validation scores if it scored no test set."""
    for prefix, split in (("test_", "test"), ("eval_", "validation")):
        scores = {key: run.results[prefix + key] for key, *_ in SCORE_METRICS
                  if isinstance(run.results.get(prefix + key), (int, float))}
        if scores:
            break
    else:
        return []
    if options.datasets:
        dataset_type, config = options.datasets[0]
        config = config or (known.config if known else None)
    elif known:
        dataset_type, config = known.name, known.config
    else:
        dataset_type, config = "custom", None
    if known:
        name = f"{known.pretty_name} ({config})" if config else known.pretty_name
    else:
        name = dataset_type if options.datasets else "custom NER data"
    return [_TestSet(dataset_type, name, config, split, scores, run.results.get(f"{prefix}per_type"))]


def _evaluation_test_sets(run: CheckpointRun, options: CardOptions, own: list[_TestSet]) -> list[_TestSet]:
    """Further test sets from ``recipes/evaluate.py``'s scores.json that scored this checkpoint."""
    if not options.eval_scores:
        return []
    path = Path(options.eval_scores)
    payload = _read_json(path)
    if payload is None:
        raise NerbertError(f"{path}: no such file (--eval-scores wants the scores.json of recipes/evaluate.py)")
    entries = payload.get("scores") if isinstance(payload, dict) else None
    if not isinstance(entries, list):
        raise NerbertError(f"{path}: no `scores` list; expected the scores.json of recipes/evaluate.py")
    mine = run.path.resolve()
    hub_ids = {config: hub_id for hub_id, config in options.datasets}
    out = []
    for entry in entries:
        checkpoint = Path(str(entry.get("checkpoint", "")))
        if not checkpoint.is_absolute():
            checkpoint = (path.parent / checkpoint) if not checkpoint.exists() else checkpoint
        if checkpoint.resolve() != mine:
            continue
        config, split = entry.get("config"), entry.get("split", "test")
        scores = {key: entry[key] for key, *_ in SCORE_METRICS if isinstance(entry.get(key), (int, float))}
        if any(t.config == config and t.split == split and t.scores.get("f1") == scores.get("f1") for t in own):
            continue  # the run's own test set, already listed
        dataset = str(entry.get("dataset", "custom"))
        if Path(dataset).exists():  # a local folder: the Hub id given for it (same name), else its name
            by_name = {hub_id.split("/")[-1]: hub_id for hub_id, _ in options.datasets}
            dataset = by_name.get(Path(dataset).name, Path(dataset).name)
        dataset_type = hub_ids.get(config) or dataset
        out.append(_TestSet(dataset_type, str(entry.get("test_set", dataset)), config, split, scores,
                            entry.get("per_type")))
    if not out:
        logger.warning("%s: no scores for %s besides its own test set", path, run.path)
    return out


def _eval_results(test_sets: list[_TestSet], task: str) -> list[EvalResult]:
    results = []
    for test_set in test_sets:
        for key, metric_type, metric_name, metric_config in SCORE_METRICS:
            if key in test_set.scores:
                results.append(EvalResult(
                    task_type=task, task_name=TASK_NAMES.get(task, task), dataset_type=test_set.dataset_type,
                    dataset_name=test_set.dataset_name, dataset_config=test_set.config, dataset_split=test_set.split,
                    metric_type=metric_type, metric_name=metric_name, metric_config=metric_config,
                    metric_value=test_set.scores[key],
                ))
    return results


def _hyperparameters(run: CheckpointRun) -> list[list]:
    rows = []
    for key in HYPERPARAMETERS:
        if key in run.training_args:
            value = run.training_args[key]
            if value is None or _UNSET.get(key) == value:
                continue
            rows.append([f"`{key}`", f"`{value}`"])
    callbacks = (run.trainer_state or {}).get("stateful_callbacks") or {}
    patience = ((callbacks.get("EarlyStoppingCallback") or {}).get("args") or {}).get("early_stopping_patience")
    if patience is not None:
        rows.append(["`early_stopping_patience`", f"`{patience}`"])
    return rows


def _usage(repo_id: str, task: str | None, example: str) -> list[str]:
    if task is None:
        return ["```python", "from transformers import AutoModel", "",
                f'model = AutoModel.from_pretrained("{repo_id}")', "```"]
    if task == "fill-mask":
        return ["```python", "from transformers import pipeline", "",
                f'fill = pipeline("fill-mask", model="{repo_id}")',
                'print(fill(f"Paris is the {fill.tokenizer.mask_token} of France."))', "```"]
    return [
        "```python",
        "from transformers import pipeline",
        "",
        f'ner = pipeline("ner", model="{repo_id}", aggregation_strategy="first")',
        f"for entity in ner({example!r}):",
        ('    print(entity["entity_group"], entity["word"], round(float(entity["score"]), 3), '
        'entity["start"], entity["end"])'),
        "```",
        "",
        ("`aggregation_strategy=\"first\"` labels each word by its first subword, as the model was trained "
        "(NER-BERT §4.4). The model and tokenizer load on their own too:"),
        "",
        "```python",
        "from transformers import AutoModelForTokenClassification, AutoTokenizer",
        "",
        f'model = AutoModelForTokenClassification.from_pretrained("{repo_id}")',
        f'tokenizer = AutoTokenizer.from_pretrained("{repo_id}")',
        "```",
        "",
        "Or tag a file (one text per line; JSON lines out) with nerbert-hf:",
        "",
        "```bash",
        f"nerbert-hf predict --model {repo_id} texts.txt > entities.jsonl",
        "```",
    ]


def render_model_card(run: CheckpointRun, options: CardOptions) -> ModelCard:
    """The README.md of a released checkpoint."""
    task = run.pipeline_tag
    labels = run.labels if task == "token-classification" else []
    types = entity_types(labels)
    known = match_known_dataset(labels) if labels else None
    own = _run_test_set(run, options, known)
    test_sets = own + _evaluation_test_sets(run, options, own)
    examples = widget_examples(run.test_sentences) if task == "token-classification" else []
    if options.base_model is None:
        logger.warning("no --base-model given: the card names no base model")
    if not options.datasets and task == "token-classification":
        logger.warning("no --dataset given: the card's `datasets` is empty and its model-index names the test set %r",
                       test_sets[0].dataset_type if test_sets else "(none)")

    tags = ["token-classification", "ner", "named-entity-recognition", "nerbert-hf"] if task == "token-classification" \
        else ["nerbert-hf"]
    if known:
        tags.append(known.name)
        if known.config:
            tags.append(known.config)
    if run.setting:
        tags.append(run.setting.replace("_", "-"))
    data = ModelCardData(
        language=options.language,
        license=options.license,
        library_name="transformers",
        pipeline_tag=task,
        base_model=options.base_model,
        datasets=[hub_id for hub_id, _ in options.datasets] or None,
        tags=list(dict.fromkeys(tags)),
        model_name=options.repo_id if test_sets else None,  # the model-index's name
        eval_results=_eval_results(test_sets, task or "token-classification") or None,
        metrics=["f1", "precision", "recall"] if test_sets else None,
        widget=[{"text": text} for text in examples] or None,
    )

    name = options.repo_id.split("/")[-1]
    base = f"{_hub_link(options.base_model)}" if options.base_model else "an encoder"
    if options.datasets:
        data_text = ", ".join(_hub_link(h, "dataset") + (f" (`{c}`)" if c else "") for h, c in options.datasets)
    elif known:
        data_text = f"{known.pretty_name}" + (f" (`{known.config}`)" if known.config else "")
    else:
        data_text = "its NER data"
    body = [f"# {name}", ""]
    if task == "token-classification":
        body += [(f"A named entity recognition model: {base} fine-tuned on {data_text} to tag "
                 f"{len(types)} entity type(s) in IOB2 ({len(labels)} labels). Trained and evaluated with "
                 "nerbert-hf's recipes, which bring together NER-BERT, CrossNER and T-NER."), ""]
    else:
        body += [f"A `{run.architecture}` checkpoint made with nerbert-hf from {base}.", ""]

    if test_sets:
        body += ["## Results", "", ("Span-level scores in % on the words of each test set (seqeval, IOB2; "
                                    "micro-averaged but for macro F1; type-ignored: every type collapsed into one, "
                                    "so only boundaries count, as in T-NER)."), ""]
        rows = [[t.dataset_name + (f" `{t.config}`" if t.config and t.config not in t.dataset_name else ""), t.split,
                 _pct(t.scores.get("f1")), _pct(t.scores.get("precision")), _pct(t.scores.get("recall")),
                 _pct(t.scores.get("f1_type_ignored")), _pct(t.scores.get("macro_f1"))] for t in test_sets]
        body += _table(["test set", "split", "F1", "precision", "recall", "F1 (type-ignored)", "macro F1"], rows)
        if run.seed_summary:
            s = run.seed_summary
            seeds = ", ".join(str(x) for x in s.get("seeds", []))
            body += ["", (f"This checkpoint is one seed of a run over seeds {seeds}; across them, test F1 was "
                     f"{_pct(s.get('test_f1_mean'))} ± {_pct(s.get('test_f1_std'))} and type-ignored F1 "
                     f"{_pct(s.get('test_f1_type_ignored_mean'))} ± {_pct(s.get('test_f1_type_ignored_std'))} "
                     "(mean ± standard deviation).")]
        body.append("")

    if types:
        per_type = own[0].per_type if own and own[0].per_type else {}
        body += ["## Labels", "", f"The model's {len(labels)} labels are `O` plus `B-`/`I-` tags for each type "
                 f"below; scores in % on {own[0].dataset_name if own else 'the test set'} "
                 f"{own[0].split if own else ''}.".rstrip() + " Examples are gold entities of the test set.", ""]
        examples_of = entity_examples(run.test_sentences)
        rows = []
        for etype in types:
            tags_of = " ".join(f"`{lab}`" for lab in labels if split_tag(lab)[1] == etype)
            score = per_type.get(etype) or {}
            shown = ", ".join(f'"{e}"' for e in examples_of.get(etype, [])).replace("|", "\\|") or "–"
            rows.append([etype, tags_of, _pct(score.get("f1")), _pct(score.get("precision")),
                         _pct(score.get("recall")), score.get("support", "–"), shown])
        body += _table(["type", "tags", "F1", "precision", "recall", "support", "examples"], rows) + [""]

    body += ["## Usage", ""] + _usage(options.repo_id, task, examples[0] if examples else
                                      "Angela Merkel met Emmanuel Macron in Berlin.") + [""]

    body += ["## Training", ""]
    facts = []
    if options.base_model:
        facts.append(f"- Base model: {_hub_link(options.base_model)}")
    if options.datasets or known:
        facts.append(f"- Data: {data_text}")
    if run.setting:
        explain = {"target": "trained on the target data only",
                   "source_then_target": "trained on a source dataset first, then on the target with a fresh head",
                   "joint": "trained on source and upsampled target data together"}[run.setting]
        facts.append(f"- Setting: `{run.setting}` (CrossNER's settings: {explain})")
    for key, label in (("train_sentences", "Training sentences"), ("epoch", "Epochs run"),
                       ("train_runtime", "Training time (s)"),
                       ("train_real_tokens_per_second", "Throughput (non-pad tokens/s)")):
        value = run.results.get(key)
        if isinstance(value, (int, float)):
            facts.append(f"- {label}: {value:g}" if isinstance(value, int) else f"- {label}: {value:.1f}")
    state = run.trainer_state or {}
    if state.get("best_metric") is not None:
        facts.append(f"- Best validation {(run.training_args.get('metric_for_best_model') or 'score')}: "
                     f"{state['best_metric']:.4f} at step {state.get('best_global_step', '?')}"
                     + (" (the checkpoint released here)" if run.training_args.get("load_best_model_at_end") else ""))
    if task == "token-classification":
        facts.append("- Labels: the first subword of each word carries its label, the other subwords none; words "
                     "in sentences longer than the model's window are read in overlapping windows.")
    if run.config.get("transformers_version"):
        facts.append(f"- Frameworks: Transformers {run.config['transformers_version']}, nerbert-hf {__version__}")
    body += facts + [""]
    hyper = _hyperparameters(run)
    if hyper:
        body += ["### Hyperparameters", "", "From the run's `TrainingArguments` (batch sizes are per device).", ""]
        body += _table(["argument", "value"], hyper) + [""]

    body += ["## Citation", "", "The methods behind this model:", "", "```bibtex", NERBERT_CITATION, "",
             _crossner_citation(), "", TNER_CITATION, "```", ""]
    if known and known.citation and known.name != "crossner":
        body += ["The data:", "", "```bibtex", known.citation.strip(), "```", ""]
    return ModelCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(body))


def _crossner_citation() -> str:
    from dataset_scripts.crossner import CITATION

    return CITATION
