"""recipes/finetune.py end to end on a tiny random BERT: outputs, settings, seeds, YAML, pipeline("ner")."""

import json
import sys
from pathlib import Path

import pytest
import torch
from datasets import load_dataset
from transformers import TrainingArguments, pipeline

from conftest import save_tiny_bert

from dataset_scripts import DATASETS
from nerbert_hf.builders import build_dataset
from nerbert_hf.finetuning import FINETUNE_DEFAULTS
from nerbert_hf.metrics import ner_scores
from nerbert_hf.training import DataArguments, ModelArguments, RecipeArguments, parse_recipe_args

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "recipes"))
import finetune  # noqa: E402


@pytest.fixture(scope="module")
def crossner(shared_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("data") / "crossner"
    return build_dataset(DATASETS["crossner"], out, source=shared_data / "crossner", configs=["politics", "conll2003"])


@pytest.fixture(scope="module")
def tiny_model(crossner, tmp_path_factory):
    """A randomly initialised 2-layer BERT whose WordPiece vocab holds the data's lower-cased words."""
    ds = load_dataset(str(crossner), "politics")
    words = sorted({w.lower() for split in ds.values() for s in split["tokens"][:200] for w in s})
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-bert"), words, num_labels=3)


def run(args):
    assert finetune.main([str(a) for a in args]) == 0


def read_conll(path):
    sentences, current = [], []
    for line in Path(path).read_text(encoding="utf-8").split("\n"):
        if not line:
            if current:
                sentences.append(current)
            current = []
            continue
        current.append(line.split("\t"))
    return sentences


def word_spans(words, tags):
    """Character spans of the entities in word-level tags, as the pipeline groups them."""
    offsets, pos = [], 0
    for w in words:
        offsets.append(pos)
        pos += len(w) + 1
    spans, start, etype = set(), None, None
    for i, tag in enumerate(tags + ["O"]):
        prefix, t = (tag[0], tag[2:]) if tag != "O" else ("O", None)
        if start is not None and (prefix != "I" or t != etype):
            spans.add((offsets[start], offsets[i - 1] + len(words[i - 1]), etype))
            start = None
        if prefix in ("B", "I") and start is None:
            start, etype = i, t
    return spans


def test_target_setting_outputs(tiny_model, crossner, tmp_path):
    out = tmp_path / "run"
    run(["--model_name_or_path", tiny_model, "--dataset_name", crossner, "--dataset_config_name", "politics",
         "--output_dir", out, "--num_train_epochs", 1, "--per_device_train_batch_size", 8,
         "--max_train_samples", 24, "--max_eval_samples", 20, "--seed", 3, "--save_strategy", "no"])
    assert (out / "model.safetensors").exists() and (out / "tokenizer_config.json").exists()
    labels = load_dataset(str(crossner), "politics")["train"].features["ner_tags"].feature.names
    config = json.loads((out / "config.json").read_text())
    assert [config["id2label"][str(i)] for i in range(len(labels))] == labels
    results = json.loads((out / "all_results.json").read_text())
    for key in ("train_runtime", "test_f1", "test_precision", "test_recall", "test_f1_type_ignored"):
        assert key in results
    for key in ("test_f1", "test_precision", "test_recall", "test_f1_type_ignored"):
        assert 0.0 <= results[key] <= 1.0
    assert results["train_sentences"] == 24 and results["train_real_tokens_per_second"] > 0
    assert set(results["test_per_type"]) <= {label[2:] for label in labels if label != "O"}
    # The CoNLL predictions are the test words with gold and predicted tags, and re-score to test_f1.
    predicted = read_conll(out / "test_predictions.conll")
    test = load_dataset(str(crossner), "politics")["test"].select(range(20))
    assert [[row[0] for row in s] for s in predicted] == test["tokens"]
    gold = [[row[1] for row in s] for s in predicted]
    guess = [[row[2] for row in s] for s in predicted]
    assert gold == [[labels[i] for i in tags] for tags in test["ner_tags"]]
    assert ner_scores(gold, guess)["f1"] == pytest.approx(results["test_f1"])
    # The run trained with the recipe's defaults, the papers' constant learning rate among them.
    saved = torch.load(out / "training_args.bin", weights_only=False)
    assert saved.lr_scheduler_type == "constant" and saved.train_sampling_strategy == "group_by_length"


def test_pipeline_agrees_with_recipe_predictions(tiny_model, crossner, tmp_path):
    out = tmp_path / "run"
    run(["--model_name_or_path", tiny_model, "--dataset_name", crossner, "--dataset_config_name", "politics",
         "--output_dir", out, "--num_train_epochs", 1, "--max_train_samples", 16, "--max_eval_samples", 60,
         "--save_strategy", "no"])
    predicted = read_conll(out / "test_predictions.conll")
    ner = pipeline("ner", model=str(out), aggregation_strategy="first")
    tokenizer = ner.tokenizer

    def one_pipeline_word(word):
        # The pipeline splits a word at pieces without "##" (e.g. "self-rule" -> self, -, rule) and at
        # [UNK]; the recipe scores the whole word by its first piece. Compare where both see the same words.
        pieces = tokenizer.tokenize(word)
        return tokenizer.unk_token not in pieces and all(p.startswith("##") for p in pieces[1:])

    checked = compared = 0
    for sentence in predicted:
        words = [row[0] for row in sentence]
        if not all(one_pipeline_word(w) for w in words):
            continue
        compared += 1
        text = " ".join(words)
        ours = word_spans(words, [row[2] for row in sentence])
        theirs = {(e["start"], e["end"], e["entity_group"]) for e in ner(text)}
        assert theirs == ours, text
        checked += len(ours)
    assert compared >= 5 and checked > 0  # the random model predicts entities: there was something to compare


def test_yaml_config_overridden_by_command_line(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("dataset_name: d\nlearning_rate: 1.0e-4\nnum_train_epochs: 7\nseeds: [1, 2]\n"
                   "early_stopping_patience: 8\noutput_dir: o\n")
    types = (ModelArguments, DataArguments, RecipeArguments, TrainingArguments)
    model, data, recipe, training = parse_recipe_args(types, [str(cfg), "--learning_rate", "3e-5"],
                                                      defaults=FINETUNE_DEFAULTS)
    assert training.learning_rate == 3e-5 and training.num_train_epochs == 7 and recipe.seeds == [1, 2]
    assert recipe.early_stopping_patience == 8 and data.dataset_name == "d"
    assert model.model_name_or_path == "bert-base-cased"  # the papers' default
    assert training.train_sampling_strategy == "group_by_length"  # the recipe's defaults
    assert training.lr_scheduler_type == "constant"
    cfg.write_text("lr_scheduler_type: cosine\noutput_dir: o\n")
    *_, training = parse_recipe_args(types, [str(cfg)], defaults=FINETUNE_DEFAULTS)
    assert training.lr_scheduler_type == "cosine"  # a config's value beats the recipe's default
    *_, training = parse_recipe_args(types, [str(cfg), "--lr_scheduler_type", "linear"], defaults=FINETUNE_DEFAULTS)
    assert training.lr_scheduler_type == "linear"
    bad = tmp_path / "bad.yaml"
    bad.write_text("learning_rat: 1\n")
    assert finetune.main([str(bad)]) == 1


def test_seeds_report_mean_and_std(tiny_model, crossner, tmp_path):
    out = tmp_path / "seeds"
    run(["--model_name_or_path", tiny_model, "--dataset_name", crossner, "--dataset_config_name", "politics",
         "--output_dir", out, "--num_train_epochs", 1, "--max_train_samples", 8, "--max_eval_samples", 8,
         "--seeds", 1, 2, "--save_strategy", "no", "--shots_per_type", 1])
    summary = json.loads((out / "all_results.json").read_text())
    assert summary["seeds"] == [1, 2]
    per_seed = [json.loads((out / f"seed-{s}" / "all_results.json").read_text())["test_f1"] for s in (1, 2)]
    assert summary["test_f1_mean"] == pytest.approx(sum(per_seed) / 2)
    assert "test_f1_std" in summary


def test_source_then_target_and_joint(tiny_model, crossner, tmp_path):
    common = ["--model_name_or_path", tiny_model, "--dataset_name", crossner, "--dataset_config_name", "politics",
              "--source_dataset_name", crossner, "--source_dataset_config_name", "conll2003",
              "--num_train_epochs", 1, "--max_train_samples", 16, "--max_eval_samples", 8, "--save_strategy", "no"]
    run(common + ["--setting", "source_then_target", "--output_dir", tmp_path / "stt"])
    source_cfg = json.loads((tmp_path / "stt" / "source_model" / "config.json").read_text())
    target_cfg = json.loads((tmp_path / "stt" / "config.json").read_text())
    assert len(source_cfg["id2label"]) == 9 and len(target_cfg["id2label"]) == 19  # fresh head for the target
    assert "source_train_runtime" in json.loads((tmp_path / "stt" / "all_results.json").read_text())
    run(common + ["--setting", "joint", "--output_dir", tmp_path / "joint"])
    assert json.loads((tmp_path / "joint" / "all_results.json").read_text())["joint_train_sentences"] >= 32


def test_early_stopping_keeps_best(tiny_model, crossner, tmp_path):
    out = tmp_path / "es"
    run(["--model_name_or_path", tiny_model, "--dataset_name", crossner, "--dataset_config_name", "politics",
         "--output_dir", out, "--num_train_epochs", 3, "--max_train_samples", 8, "--max_eval_samples", 8,
         "--early_stopping_patience", 1, "--learning_rate", 1e-3])
    state = json.loads(next(out.glob("checkpoint-*/trainer_state.json")).read_text())
    assert state["best_metric"] is not None and "eval_f1" in state["log_history"][0]


def test_missing_dataset_is_a_clear_error(tmp_path, capsys):
    assert finetune.main(["--dataset_name", str(tmp_path / "nope"), "--output_dir", str(tmp_path / "o")]) == 1
    assert "nope" in capsys.readouterr().err


def test_same_recipe_under_accelerate_launch(tiny_model, crossner, tmp_path):
    import os
    import subprocess

    out = tmp_path / "acc"
    repo = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-m", "accelerate.commands.launch", "--config_file",
         str(repo / "recipes" / "accelerate_configs" / "cpu.yaml"), str(repo / "recipes" / "finetune.py"),
         "--model_name_or_path", str(tiny_model), "--dataset_name", str(crossner), "--dataset_config_name",
         "politics", "--output_dir", str(out), "--num_train_epochs", "1", "--max_train_samples", "8",
         "--max_eval_samples", "8", "--save_strategy", "no"],
        capture_output=True, text=True, env={**os.environ, "ACCELERATE_USE_CPU": "true"}, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert 0.0 <= json.loads((out / "all_results.json").read_text())["test_f1"] <= 1.0
