"""Fine-tune an encoder for NER in CrossNER's settings, score words on test, save everything a user needs."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from transformers import EarlyStoppingCallback, set_seed

from . import sampling
from .metrics import ner_scores
from .training import (
    RECIPE_DEFAULTS,
    DataArguments,
    ModelArguments,
    RecipeArguments,
    WordLevelScorer,
    build_trainer,
    label_names,
    load_model,
    load_ner_dataset,
    load_tokenizer,
    mean_std,
    model_inputs,
    override,
    prepare_split,
    real_tokens,
    write_json,
    write_predictions_conll,
)

logger = logging.getLogger(__name__)

# Both papers fine-tune with Adam at a constant learning rate (CrossNER's code: torch.optim.Adam, no scheduler;
# NER-BERT §4.4: Adam, 5e-5), not transformers' linear decay to zero. A few hundred steps on a low-resource
# set are undertrained under the decay: on CrossNER politics (MiniLM, 30 epochs, seeds 11-13) validation F1
# is 59.6 constant against 57.0 linear; seed 11 on science 55.8 against 50.7, on music 51.2 against 46.2.
FINETUNE_DEFAULTS = {**RECIPE_DEFAULTS, "lr_scheduler_type": "constant"}


def _few_shot(train, data_args: DataArguments, seed: int):
    if data_args.train_fraction is not None and data_args.shots_per_type is not None:
        raise ValueError("give --train_fraction or --shots_per_type, not both")
    if data_args.train_fraction is not None:
        train = sampling.sample_fraction(train, data_args.train_fraction, seed)
    elif data_args.shots_per_type is not None:
        train = sampling.sample_k_shot(train, data_args.shots_per_type, seed)
    if data_args.max_train_samples is not None:
        train = train.select(range(min(len(train), data_args.max_train_samples)))
    return train


def _train(model_name, tokenizer, train, validation, labels, training_args, model_args, recipe_args, output_dir):
    """One training run; returns (trainer, scorer on validation, train metrics)."""
    model = load_model(model_name, labels)
    args = override(training_args, output_dir=str(output_dir))
    aligned_train = prepare_split(train, tokenizer, model_args, "train")
    aligned_val = (prepare_split(validation, tokenizer, model_args, "validation", sort_by_length=True)
                   if validation is not None else None)
    scorer = WordLevelScorer(validation, aligned_val, labels, recipe_args.eval_mode) if validation is not None else None
    callbacks = []
    if recipe_args.early_stopping_patience is not None:
        if validation is None:
            raise ValueError("early stopping needs a validation split")
        # The save and eval schedules must match for the best checkpoint to be kept.
        strategy = args.eval_strategy if args.eval_strategy != "no" else "epoch"
        args = override(
            args, eval_strategy=strategy, save_strategy=strategy, save_steps=args.eval_steps or args.save_steps,
            load_best_model_at_end=True, metric_for_best_model="f1", greater_is_better=True,
            save_total_limit=args.save_total_limit or 1,
        )
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=recipe_args.early_stopping_patience))
    trainer = build_trainer(
        model, tokenizer, args, model_inputs(aligned_train),
        model_inputs(aligned_val) if aligned_val is not None else None, scorer, callbacks,
        model_args=model_args,
    )
    result = trainer.train(resume_from_checkpoint=args.resume_from_checkpoint)
    metrics = dict(result.metrics)
    tokens = real_tokens(aligned_train) * args.num_train_epochs
    metrics["train_real_tokens_per_second"] = tokens / metrics["train_runtime"] if metrics["train_runtime"] else 0.0
    return trainer, metrics


def run_single(model_args, data_args, recipe_args, training_args, seed: int, output_dir: Path) -> dict:
    """Train with one seed in the chosen setting, evaluate on test, save model, metrics and predictions."""
    set_seed(seed)
    training_args = override(training_args, seed=seed, output_dir=str(output_dir))
    target = load_ner_dataset(data_args.dataset_name, data_args.dataset_config_name)
    labels = label_names(target["train"])
    tokenizer = load_tokenizer(model_args.tokenizer_name or model_args.model_name_or_path)
    train = _few_shot(target["train"], data_args, seed)
    validation, test = target.get("validation"), target.get("test")
    if data_args.max_eval_samples is not None:
        validation = validation.select(range(min(len(validation), data_args.max_eval_samples))) if validation else None
        test = test.select(range(min(len(test), data_args.max_eval_samples))) if test else None
    model_name = model_args.model_name_or_path
    extra = {}

    if data_args.setting != "target":
        if not data_args.source_dataset_name:
            raise ValueError(f"--setting {data_args.setting} needs --source_dataset_name")
        source = load_ner_dataset(data_args.source_dataset_name, data_args.source_dataset_config_name)
        if data_args.max_train_samples is not None:
            source = {split: part.select(range(min(len(part), data_args.max_train_samples)))
                      for split, part in source.items()}
        if data_args.setting == "source_then_target":
            source_dir = output_dir / "source_model"
            source_epochs = data_args.source_num_train_epochs or training_args.num_train_epochs
            source_args = override(training_args, num_train_epochs=source_epochs)
            trainer, source_metrics = _train(
                model_name, tokenizer, source["train"], source.get("validation"), label_names(source["train"]),
                source_args, model_args, dataclasses.replace(recipe_args, early_stopping_patience=None), source_dir,
            )
            trainer.save_model(str(source_dir))
            extra.update({f"source_{k}": v for k, v in source_metrics.items()})
            # The target stage starts from the source-trained encoder with a fresh head for the target labels.
            model_name = str(source_dir)
        else:  # joint
            mapped = sampling.remap_labels(source["train"], labels)
            train = sampling.joint_training_set(mapped, train, target_factor=data_args.joint_target_factor, seed=seed)
            extra["joint_train_sentences"] = len(train)

    trainer, metrics = _train(model_name, tokenizer, train, validation, labels, training_args, model_args,
                              recipe_args, output_dir)
    metrics.update(extra)
    metrics["train_sentences"] = len(train)
    trainer.save_model(str(output_dir))
    tokenizer.save_pretrained(str(output_dir))

    if test is not None:
        aligned_test = prepare_split(test, tokenizer, model_args, "test", sort_by_length=True)
        scorer = WordLevelScorer(test, aligned_test, labels, recipe_args.eval_mode)
        trainer.compute_metrics = None  # the validation scorer; test rows are scored just below
        output = trainer.predict(model_inputs(aligned_test), metric_key_prefix="test")
        predicted = scorer.predict_words(output.predictions)
        scores = ner_scores(scorer.gold, predicted, mode=recipe_args.eval_mode)
        for key, value in scores.items():
            if key != "per_type":
                metrics[f"test_{key}"] = value
        metrics["test_per_type"] = scores["per_type"]
        write_predictions_conll(output_dir / "test_predictions.conll", test, predicted, labels)
    write_json(output_dir / "all_results.json", metrics)
    logger.info("seed %d: test F1 %.4f", seed, metrics.get("test_f1", float("nan")))
    return metrics


def run_finetune(model_args: ModelArguments, data_args: DataArguments, recipe_args: RecipeArguments,
                 training_args) -> dict:
    """Run one seed (``training_args.seed``) or every seed of ``recipe_args.seeds``; return the results."""
    if not data_args.dataset_name:
        raise ValueError("--dataset_name is required (a folder from `nerbert-hf data build` or a Hub id)")
    output_dir = Path(training_args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if not recipe_args.seeds:
        return run_single(model_args, data_args, recipe_args, training_args, training_args.seed, output_dir)
    runs = {seed: run_single(model_args, data_args, recipe_args, training_args, seed, output_dir / f"seed-{seed}")
            for seed in recipe_args.seeds}
    summary = {"seeds": list(runs)}
    for key in sorted({k for r in runs.values() for k, v in r.items() if isinstance(v, (int, float))}):
        values = [r[key] for r in runs.values() if key in r]
        summary[f"{key}_mean"], summary[f"{key}_std"] = mean_std(values)
    write_json(output_dir / "all_results.json", summary)
    return summary
