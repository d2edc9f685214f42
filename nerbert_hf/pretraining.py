"""Entity-tagging pre-training (NER-BERT, Liu et al. 2021 §3): an encoder learns to tag every label of a corpus.

The corpus is a folder from ``nerbert-hf corpus build`` (or a Hub id): ``tokens``,
``ner_tags`` (ClassLabel) and a ``validation`` split. The encoder gets a
token-classification head over all the corpus' labels (first-subword labels, as
in fine-tuning); the saved checkpoint carries the corpus' ``id2label`` and feeds
``recipes/finetune.py``, whose :func:`~nerbert_hf.training.load_model` replaces
the head for the target labels.

At scale: ``datasets`` memory-maps the corpus' Arrow cache, tokenisation is a
cached ``Dataset.map`` (done once, by the main process first under Accelerate),
batches are length-grouped (``train_sampling_strategy: group_by_length``), and the
same code runs on one CPU, one or several GPUs and several nodes through the
Accelerate configs in ``recipes/accelerate_configs/``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from transformers import set_seed
from transformers.trainer_utils import get_last_checkpoint

from .errors import NerbertError
from .training import (
    RECIPE_DEFAULTS,
    ModelArguments,
    WordLevelScorer,
    build_trainer,
    label_names,
    load_model,
    load_ner_dataset,
    load_tokenizer,
    model_inputs,
    override,
    prepare_split,
    write_json,
)

logger = logging.getLogger(__name__)

# A pre-training corpus is large and mostly seen once, so every step's rows are a fresh random draw anyway:
# its length groups are sorted exactly (no noise) and are 20x fine-tuning's, which leaves next to no padding
# (real Wikipedia sentences in benchmarks/pretrain_speed.py: 1.02 tokens per real token, 2.03 at random).
PRETRAIN_DEFAULTS = {**RECIPE_DEFAULTS, "length_group_batches": 1000, "length_noise": 0.0}


@dataclass
class CorpusArguments:
    dataset_name: str = field(
        default=None, metadata={"help": "The corpus: a folder from `nerbert-hf corpus build` or a Hub id."}
    )
    dataset_config_name: str | None = field(default=None, metadata={"help": "Config of the corpus, if any."})
    train_split: str = field(default="train", metadata={"help": "Split to pre-train on."})
    validation_split: str = field(default="validation", metadata={"help": "Split to evaluate on (if present)."})
    max_train_samples: int | None = field(default=None, metadata={"help": "Truncate train (for quick runs)."})
    max_eval_samples: int | None = field(default=None, metadata={"help": "Truncate validation."})
    eval_mode: str = field(default="default", metadata={"help": "seqeval mode: default or strict.",
                                                         "choices": ["default", "strict"]})
    per_type_metrics: bool = field(
        default=False, metadata={"help": "Log F1 per entity type at each evaluation (hundreds for `full`)."}
    )


class CorpusScorer(WordLevelScorer):
    """Word-level F1 on the corpus' validation split; per-type F1 only on request (the full scheme has hundreds)."""

    def __init__(self, *args, per_type: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.per_type = per_type

    def __call__(self, eval_prediction) -> dict:
        scores = super().__call__(eval_prediction)
        return scores if self.per_type else {k: v for k, v in scores.items() if not k.startswith("f1_")
                                             or k == "f1_type_ignored"}


def effective_batch_size(training_args) -> int:
    """Sentences (windows) per optimiser step: per-device batch x accumulation x processes."""
    return (training_args.per_device_train_batch_size * training_args.gradient_accumulation_steps
            * max(1, training_args.world_size))


def _resume_target(value, output_dir: str):
    """``--resume_from_checkpoint``: a checkpoint folder, or ``true``/``last`` for the newest in ``output_dir``."""
    if value is None or value is False:
        return None
    if value is True or str(value).lower() in ("true", "last", "latest"):
        last = get_last_checkpoint(output_dir) if Path(output_dir).is_dir() else None
        if last is None:
            raise NerbertError(f"--resume_from_checkpoint {value}: no checkpoint-* folder in {output_dir}")
        return last
    if not Path(value).is_dir():
        raise NerbertError(f"--resume_from_checkpoint: {value} is not a checkpoint folder")
    return str(value)


def _select(split, n):
    return split if n is None else split.select(range(min(len(split), n)))


def run_pretrain(model_args: ModelArguments, corpus_args: CorpusArguments, training_args) -> dict:
    """Pre-train on entity tagging over every label of the corpus; save the checkpoint and ``all_results.json``."""
    if not corpus_args.dataset_name:
        raise ValueError("--dataset_name is required (a folder from `nerbert-hf corpus build` or a Hub id)")
    set_seed(training_args.seed)
    output_dir = Path(training_args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)

    corpus = load_ner_dataset(corpus_args.dataset_name, corpus_args.dataset_config_name)
    if corpus_args.train_split not in corpus:
        raise NerbertError(f"corpus {corpus_args.dataset_name!r} has no {corpus_args.train_split!r} split "
                           f"(splits: {', '.join(corpus)})")
    train = _select(corpus[corpus_args.train_split], corpus_args.max_train_samples)
    labels = label_names(train)
    validation = corpus.get(corpus_args.validation_split)
    if validation is not None:
        if label_names(validation) != labels:
            raise NerbertError("the corpus' train and validation splits have different label lists")
        validation = _select(validation, corpus_args.max_eval_samples)
        if len(validation) == 0:  # --max_eval_samples 0: no evaluation
            validation = None

    tokenizer = load_tokenizer(model_args.tokenizer_name or model_args.model_name_or_path)
    model = load_model(model_args.model_name_or_path, labels)
    # Under Accelerate the main process tokenises first; the others then read the cached result.
    with training_args.main_process_first(desc="tokenizing the corpus"):
        aligned_train = prepare_split(train, tokenizer, model_args, "train")
        aligned_val = (prepare_split(validation, tokenizer, model_args, "validation", sort_by_length=True)
                       if validation is not None else None)

    # Count real (non-pad) tokens for tokens/s (argparse only takes a boolean for this field, so it is set here).
    args = override(training_args, include_num_input_tokens_seen="non_padding")
    scorer = None
    if aligned_val is not None and args.eval_strategy != "no":
        scorer = CorpusScorer(validation, aligned_val, labels, corpus_args.eval_mode,
                              per_type=corpus_args.per_type_metrics)
        # Keep the best checkpoint by validation F1: saves must follow evaluations.
        args = override(args, save_strategy=args.eval_strategy, save_steps=args.eval_steps or args.save_steps,
                        load_best_model_at_end=True, metric_for_best_model=args.metric_for_best_model or "f1",
                        greater_is_better=True if args.metric_for_best_model in (None, "f1") else
                        args.greater_is_better)
    batch = effective_batch_size(args)
    logger.info("effective batch: %d sentence windows per step = %d per device x %d accumulation x %d process(es)",
                batch, args.per_device_train_batch_size, args.gradient_accumulation_steps, max(1, args.world_size))
    logger.info("corpus %s: %d train / %s validation sentences, %d labels (%d types)", corpus_args.dataset_name,
                len(train), len(validation) if validation is not None else 0, len(labels),
                len({label[2:] for label in labels if label != "O"}))

    trainer = build_trainer(model, tokenizer, args, model_inputs(aligned_train),
                            model_inputs(aligned_val) if aligned_val is not None else None, scorer,
                            model_args=model_args)
    resume = _resume_target(args.resume_from_checkpoint, args.output_dir)
    result = trainer.train(resume_from_checkpoint=resume)
    metrics = dict(result.metrics)
    seen = trainer.state.num_input_tokens_seen
    metrics["train_real_tokens"] = int(seen)
    metrics["train_real_tokens_per_second"] = seen / metrics["train_runtime"] if metrics.get("train_runtime") else 0.0
    metrics.update(effective_train_batch_size=batch, train_sentences=len(train), num_labels=len(labels),
                   global_step=trainer.state.global_step)
    if resume:
        metrics["resumed_from"] = resume

    trainer.save_model(str(output_dir))  # safetensors, config with the corpus' id2label
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(str(output_dir))
    if aligned_val is not None:
        if scorer is None:
            scorer = CorpusScorer(validation, aligned_val, labels, corpus_args.eval_mode,
                                  per_type=corpus_args.per_type_metrics)
            trainer.compute_metrics = scorer
        metrics.update(trainer.evaluate())
        if trainer.state.best_metric is not None:
            metrics["best_eval_metric"] = trainer.state.best_metric
            metrics["best_model_checkpoint"] = trainer.state.best_model_checkpoint
    if trainer.is_world_process_zero():
        write_json(output_dir / "all_results.json", metrics)
    logger.info("pre-training done: %d steps, %.0f real tokens/s, validation F1 %s", trainer.state.global_step,
                metrics["train_real_tokens_per_second"], metrics.get("eval_f1", "n/a"))
    return metrics
