"""What the Trainer-based recipes share: argument dataclasses, YAML + CLI parsing, data, trainer set-up."""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import yaml
from torch.utils.data import Sampler, SequentialSampler
from transformers import (
    AutoConfig,
    AutoModelForTokenClassification,
    AutoTokenizer,
    DataCollatorForTokenClassification,
    HfArgumentParser,
    Trainer,
)

from .alignment import IGNORE_INDEX, align_dataset, count_windowed, inside_tag_ids, merge_word_predictions
from .errors import NerbertError
from .metrics import ner_scores

logger = logging.getLogger(__name__)

# Byte-level BPE tokenizers only split pre-tokenised words correctly with a prefix space.
_PREFIX_SPACE_MODELS = {"roberta", "xlm-roberta", "camembert", "longformer", "bart", "gpt2", "deberta", "mpnet"}
# Columns the model never sees; the recipes keep them aside to merge predictions back per word.
ALIGNMENT_COLUMNS = ("word_index", "sentence_index", "window_id", "window_count", "num_words", "unaligned_words")


@dataclass
class ModelArguments:
    model_name_or_path: str = field(
        default="bert-base-cased", metadata={"help": "Encoder to fine-tune: a Hub id or a local folder."}
    )
    tokenizer_name: str | None = field(default=None, metadata={"help": "Tokenizer, if not the model's."})
    max_seq_length: int | None = field(
        default=None, metadata={"help": "Window length in tokens (default: the model's, at most 512)."}
    )
    stride: int = field(default=32, metadata={"help": "Most tokens two windows of a long sentence share."})
    length_group_batches: int = field(
        default=50,
        metadata={"help": "With --train_sampling_strategy group_by_length: batches sorted by length together "
                          "(see LengthBucketSampler). 0: transformers' own length-grouped sampler."},
    )
    length_noise: float = field(
        default=2.0,
        metadata={"help": "Uniform noise, in tokens, added to the lengths before a group is sorted: near-equal "
                          "lengths then share batches with different rows each epoch (a small set seen for many "
                          "epochs), at the cost of some padding. 0: equal lengths only."},
    )
    label_inner_pieces: bool = field(
        default=True,
        metadata={"help": "Give the inside tag to the pieces of a word that pipeline('ner') reads as words of "
                          "their own (BERT splits `self-rule` into self, -, rule), so that the pipeline's "
                          "entities match the word-level predictions. false: NER-BERT's strict first-subword "
                          "labels. Scores read the first subword either way."},
    )


@dataclass
class DataArguments:
    dataset_name: str = field(
        default=None, metadata={"help": "Target dataset: a folder from `nerbert-hf data build` or a Hub id."}
    )
    dataset_config_name: str | None = field(default=None, metadata={"help": "Config of the target dataset."})
    setting: str = field(
        default="target",
        metadata={"help": "target | source_then_target | joint (CrossNER's three settings).",
                  "choices": ["target", "source_then_target", "joint"]},
    )
    source_dataset_name: str | None = field(default=None, metadata={"help": "Source dataset (e.g. CoNLL-2003)."})
    source_dataset_config_name: str | None = field(default=None, metadata={"help": "Config of the source dataset."})
    source_num_train_epochs: float | None = field(
        default=None, metadata={"help": "Epochs on the source in source_then_target (default: num_train_epochs)."}
    )
    joint_target_factor: float | None = field(
        default=None, metadata={"help": "Upsampling of the target in joint (default: to the source's size)."}
    )
    train_fraction: float | None = field(default=None, metadata={"help": "Few-shot: keep this share of train."})
    shots_per_type: int | None = field(
        default=None, metadata={"help": "Few-shot: greedy sample with at least k entities per type."}
    )
    max_train_samples: int | None = field(default=None, metadata={"help": "Truncate train (for quick runs)."})
    max_eval_samples: int | None = field(default=None, metadata={"help": "Truncate validation and test."})


@dataclass
class RecipeArguments:
    seeds: list[int] | None = field(
        default=None, metadata={"help": "Run once per seed and report mean and standard deviation."}
    )
    early_stopping_patience: int | None = field(
        default=None, metadata={"help": "Stop after N evaluations without validation F1 gain (off by default)."}
    )
    eval_mode: str = field(default="default", metadata={"help": "seqeval mode: default or strict.",
                                                         "choices": ["default", "strict"]})


def _yaml_to_argv(values: dict) -> list[str]:
    argv = []
    for key, value in values.items():
        if value is None:
            continue
        argv.append(f"--{key}")
        if isinstance(value, (list, tuple)):
            argv += [str(v) for v in value]
        elif isinstance(value, bool):
            argv.append(str(value).lower())
        else:
            argv.append(str(value))
    return argv


# Recipe defaults that differ from TrainingArguments': batches of similar lengths carry little padding
# (CrossNER politics' random batches are 1.7x their real tokens), and no logging service is assumed.
RECIPE_DEFAULTS = {"train_sampling_strategy": "group_by_length", "report_to": "none"}


def parse_recipe_args(dataclass_types, argv: list[str] | None = None, defaults: dict | None = None):
    """Parse ``[CONFIG.yaml] [--overrides ...]``: recipe defaults < the YAML's values < the command line."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = HfArgumentParser(dataclass_types)
    known = {f.name for t in dataclass_types for f in dataclasses.fields(t)}
    prefix = _yaml_to_argv({k: v for k, v in (RECIPE_DEFAULTS if defaults is None else defaults).items() if k in known})
    if argv and argv[0].endswith((".yaml", ".yml")):
        path = Path(argv.pop(0))
        try:
            values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as err:
            raise NerbertError(f"{path}: cannot read the recipe config: {err}") from None
        if not isinstance(values, dict):
            raise NerbertError(f"{path}: a recipe config is a mapping of argument names to values")
        unknown = sorted(set(values) - known)
        if unknown:
            raise NerbertError(f"{path}: unknown argument(s) {', '.join(unknown)}")
        prefix += _yaml_to_argv(values)
    # argparse keeps the last value given, so the command line overrides the YAML.
    return parser.parse_args_into_dataclasses(args=prefix + argv)


def run_recipe(prog: str, dataclass_types, run, argv: list[str] | None = None, defaults: dict | None = None):
    """A recipe's main: log set-up, ``[CONFIG.yaml] [--overrides]`` parsing, ``run(*parsed)``.

    Returns ``(parsed, run's result)``, or None after printing a user error (bad input
    or arguments) as one line on stderr, without a traceback.
    """
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        parsed = parse_recipe_args(dataclass_types, argv, defaults=defaults)
        return parsed, run(*parsed)
    except (NerbertError, ValueError) as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return None


def load_ner_dataset(name: str, config: str | None = None):
    """A built dataset folder or Hub id, checked to have ``tokens`` and ClassLabel ``ner_tags``."""
    from datasets import load_dataset

    try:
        ds = load_dataset(name, config)
    except (FileNotFoundError, ValueError) as err:
        raise NerbertError(f"cannot load dataset {name!r} (config {config!r}): {err}") from None
    for split, part in ds.items():
        features = part.features
        if "tokens" not in features or "ner_tags" not in features or not hasattr(features["ner_tags"], "feature") \
                or not hasattr(features["ner_tags"].feature, "names"):
            raise NerbertError(
                f"dataset {name!r} split {split!r}: expected columns `tokens` and `ner_tags` (ClassLabel); "
                f"got {list(features)} (build it with `nerbert-hf data build`)"
            )
    return ds


def label_names(dataset) -> list[str]:
    return list(dataset.features["ner_tags"].feature.names)


def load_tokenizer(name: str):
    config = AutoConfig.from_pretrained(name)
    kwargs = {"add_prefix_space": True} if config.model_type in _PREFIX_SPACE_MODELS else {}
    return AutoTokenizer.from_pretrained(name, **kwargs)


def load_model(name: str, labels: list[str]):
    """The encoder with a token-classification head for ``labels``; a head of another size is replaced."""
    return AutoModelForTokenClassification.from_pretrained(
        name,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
        ignore_mismatched_sizes=True,
    )


def _lengths(batch) -> dict:
    return {"length": [len(ids) for ids in batch["input_ids"]]}


def prepare_split(dataset, tokenizer, model_args: ModelArguments, desc: str, *, sort_by_length: bool = False):
    """Tokenise into labelled windows (cached by ``datasets``) with a ``length`` column.

    ``sort_by_length`` orders evaluation rows by length so that batches carry little
    padding; predictions are merged back per word through ``sentence_index``, so
    the row order does not matter to the scores.
    """
    inside = (inside_tag_ids(label_names(dataset))
              if model_args.label_inner_pieces and "ner_tags" in dataset.column_names else None)
    aligned = align_dataset(dataset, tokenizer, max_length=model_args.max_seq_length, stride=model_args.stride,
                            inside_ids=inside, desc=f"Tokenizing {desc}")
    windowed = count_windowed(aligned)
    if windowed:
        logger.info("%s: %d sentence(s) longer than the window were split into overlapping windows", desc, windowed)
    # A batched map, not a Python list of every row's ids: corpus-scale splits stay on disk.
    aligned = aligned.map(_lengths, batched=True, desc=f"Measuring {desc}")
    return aligned.sort("length", reverse=True) if sort_by_length else aligned


def model_inputs(aligned):
    """The aligned rows without the bookkeeping columns the model never sees."""
    return aligned.remove_columns([c for c in ALIGNMENT_COLUMNS if c in aligned.column_names])


def real_tokens(aligned) -> int:
    """Non-pad tokens of an aligned split (its ``length`` column)."""
    return int(sum(aligned["length"]))


def _argmax(logits, labels):
    # Keep only label ids during evaluation: logits of a whole test set need not sit in memory.
    return logits.argmax(dim=-1)


class WordLevelScorer:
    """``compute_metrics`` that scores words (first-subword predictions merged over windows), never subwords."""

    def __init__(self, dataset, aligned, labels: list[str], mode: str = "default"):
        self.gold = [[labels[i] for i in tags] for tags in dataset["ner_tags"]]
        self.lengths = [len(t) for t in dataset["tokens"]]
        self.sentence_index = aligned["sentence_index"]
        self.word_index = aligned["word_index"]
        self.labels = labels
        self.mode = mode
        self.last_predictions: list[list[str]] | None = None

    def predict_words(self, predictions) -> list[list[str]]:
        ids = merge_word_predictions(self.lengths, self.sentence_index, self.word_index, predictions)
        return [[self.labels[i] for i in row] for row in ids]

    def __call__(self, eval_prediction) -> dict:
        self.last_predictions = self.predict_words(eval_prediction.predictions)
        scores = ner_scores(self.gold, self.last_predictions, mode=self.mode)
        flat = {k: v for k, v in scores.items() if k != "per_type"}
        flat.update({f"f1_{t}": v["f1"] for t, v in scores["per_type"].items()})
        return flat


def label_tokens_per_row(aligned, sample: int = 20_000) -> float:
    """Mean labelled positions (label != -100) per row, from up to ``sample`` evenly spaced rows."""
    n = len(aligned)
    if n == 0:
        return 0.0
    rows = aligned.select(np.linspace(0, n - 1, num=min(n, sample), dtype=int)) if n > sample else aligned
    counts = [sum(1 for label in labels if label != IGNORE_INDEX) for labels in rows["labels"]]
    return float(np.mean(counts))


def token_weighted_loss(outputs, labels, num_items_in_batch=None):
    """Summed token cross-entropy over ``num_items_in_batch`` (the batch's own count when not given)."""
    logits = outputs["logits"]
    labels = labels.to(logits.device)
    total = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), labels.reshape(-1),
                                              ignore_index=IGNORE_INDEX, reduction="sum")
    if num_items_in_batch is None:
        num_items_in_batch = labels.ne(IGNORE_INDEX).sum().clamp(min=1)
    return total / num_items_in_batch


class LengthBucketSampler(Sampler):
    """Batches of similar lengths, in random order, that change from epoch to epoch.

    Each epoch the rows are shuffled into groups of ``group_batches`` batches; a group
    is sorted by length plus uniform noise of up to ``noise`` tokens (so near-equal
    lengths meet different neighbours each epoch) and cut into batches, and the
    batches of all groups are shuffled (a short last batch stays last). transformers'
    ``LengthGroupedSampler`` instead shrinks its groups to keep four an epoch, which
    leaves a small training set with most of its padding (CrossNER politics: 1.29
    tokens per real token against 1.08 here), and walks each group from its longest
    batch to its shortest. Draws come from torch's global generator, seeded by
    ``set_seed``.
    """

    def __init__(self, lengths, batch_size: int, group_batches: int = 50, noise: float = 2.0):
        self.lengths = np.asarray(lengths, dtype=np.float64)
        self.batch_size = batch_size
        self.group = max(1, group_batches) * batch_size
        self.noise = noise

    def __len__(self):
        return len(self.lengths)

    def __iter__(self):
        rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,)).item()))
        rows = rng.permutation(len(self.lengths))
        full, last = [], []
        for start in range(0, len(rows), self.group):
            group = rows[start:start + self.group]
            keys = self.lengths[group] + rng.uniform(-self.noise, self.noise, len(group))
            group = group[np.argsort(keys, kind="stable")]
            for i in range(0, len(group), self.batch_size):
                (full if len(group[i:i + self.batch_size]) == self.batch_size else last).append(
                    group[i:i + self.batch_size])
        batches = [full[i] for i in rng.permutation(len(full))] + last
        return iter(np.concatenate(batches).tolist() if batches else [])


class NERTrainer(Trainer):
    """``Trainer`` for word-level NER: evaluation keeps row order; length-grouped training keeps token weights.

    With ``train_sampling_strategy='group_by_length'`` the stock ``Trainer`` also
    shuffles evaluation rows into length groups, and predictions come back in an
    order that no longer matches the rows they were computed on.

    Length-grouped batches also skew the stock per-batch mean loss: a batch of short
    sentences holds a few labelled words, each of which then weighs several times
    more than a word in a batch of long ones, and training drifts towards short
    sentences. Given ``label_tokens_per_row`` (the training rows' mean), every
    labelled word weighs the same: the summed loss is divided by the batch's rows x
    that mean, the count a random batch would have, not by its own count.
    """

    def __init__(self, *args, label_tokens_per_row: float | None = None, length_group_batches: int | None = None,
                 length_noise: float = 2.0, **kwargs):
        if label_tokens_per_row:
            kwargs.setdefault("compute_loss_func", token_weighted_loss)
        super().__init__(*args, **kwargs)
        self.label_tokens_per_row = label_tokens_per_row or None
        self.length_group_batches = length_group_batches
        self.length_noise = length_noise

    def _get_train_sampler(self, train_dataset=None):
        # The Trainer hands over the training set without the columns the model does not take, `length`
        # among them; the rows are the same, so the lengths are read from the full set.
        source = self.train_dataset
        column = self.args.length_column_name
        if (self.length_group_batches and self.args.train_sampling_strategy == "group_by_length"
                and source is not None and column in getattr(source, "column_names", ())
                and (train_dataset is None or len(train_dataset) == len(source))):
            # One Arrow-to-numpy read of the column, not a Python object per row.
            lengths = source.select_columns([column]).with_format("numpy")[:][column]
            # A batch here is one optimiser step's rows: accumulated micro-batches are slices of it.
            return LengthBucketSampler(lengths, self.args.train_batch_size * self.args.gradient_accumulation_steps,
                                       self.length_group_batches, self.length_noise)
        return super()._get_train_sampler(train_dataset)

    def _get_num_items_in_batch(self, batch_samples, device):
        counted = super()._get_num_items_in_batch(batch_samples, device)
        if self.label_tokens_per_row is None or counted is None or not batch_samples:
            return counted
        real = sum(int(batch["labels"].ne(IGNORE_INDEX).sum()) for batch in batch_samples)
        expected = sum(len(batch["labels"]) for batch in batch_samples) * self.label_tokens_per_row
        # Rescaling the stock count keeps its handling of several devices (gathered, then divided).
        return counted * (expected / max(real, 1))

    def _get_eval_sampler(self, eval_dataset):
        if eval_dataset is None or self.args.world_size > 1:
            return None  # accelerate shards sequentially and gathers back in order
        return SequentialSampler(eval_dataset)


def build_trainer(model, tokenizer, training_args, train_rows, eval_rows=None, compute_metrics=None, callbacks=None,
                  model_args: ModelArguments | None = None):
    """An :class:`NERTrainer` with dynamic padding; length grouping from ``training_args`` and ``model_args``."""
    per_row = label_tokens_per_row(train_rows) if train_rows is not None and "labels" in train_rows.column_names \
        else None
    grouping = ({"length_group_batches": model_args.length_group_batches, "length_noise": model_args.length_noise}
                if model_args is not None else {})
    return NERTrainer(
        model=model,
        args=training_args,
        train_dataset=train_rows,
        eval_dataset=eval_rows,
        processing_class=tokenizer,
        data_collator=DataCollatorForTokenClassification(tokenizer, label_pad_token_id=IGNORE_INDEX),
        compute_metrics=compute_metrics,
        preprocess_logits_for_metrics=_argmax,
        callbacks=callbacks,
        label_tokens_per_row=per_row,
        **grouping,
    )


def override(training_args, **changes):
    """A copy of ``TrainingArguments`` with fields changed (no re-run of its ``__post_init__``)."""
    args = copy.deepcopy(training_args)
    for key, value in changes.items():
        setattr(args, key, value)
    return args


def write_json(path: str | os.PathLike, payload: dict) -> None:
    """Write JSON atomically (temp file, then rename)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, default=float) + "\n", encoding="utf-8")
    tmp.replace(path)


def write_predictions_conll(path, dataset, predictions: list[list[str]], labels: list[str]) -> None:
    """``token<TAB>gold<TAB>predicted`` per word, a blank line between sentences; atomic."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        for tokens, tags, predicted in zip(dataset["tokens"], dataset["ner_tags"], predictions):
            for token, tag, pred in zip(tokens, tags, predicted):
                out.write(f"{token}\t{labels[tag]}\t{pred}\n")
            out.write("\n")
    tmp.replace(path)


def mean_std(values: list[float]) -> tuple[float, float]:
    arr = np.asarray(values, dtype=float)
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else 0.0
