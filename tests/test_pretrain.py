"""recipes/pretrain.py (NER-BERT entity-tagging pre-training) on a corpus built from the shared Wikipedia excerpt.

The chain the issue names: corpus -> pre-train (under ``accelerate launch``) -> fine-tune on CrossNER
politics -> ``pipeline("ner")``; plus best-checkpoint selection, resuming, and the YAML configs.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from datasets import load_dataset
from transformers import TrainingArguments, pipeline

from conftest import save_tiny_bert

from dataset_scripts import DATASETS
from nerbert_hf.builders import build_dataset
from nerbert_hf.corpus.build import CorpusOptions, build_corpus
from nerbert_hf.pretraining import CorpusArguments, effective_batch_size
from nerbert_hf.training import ModelArguments, parse_recipe_args

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "recipes"))
import finetune  # noqa: E402
import pretrain  # noqa: E402

EXCERPT = "wikipedia/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"


@pytest.fixture(scope="module")
def corpus(shared_data, tmp_path_factory):
    return build_corpus(CorpusOptions(
        dump=shared_data / EXCERPT, ontology=shared_data / "dbpedia" / "dbpedia-ontology-2019-02-21.owl",
        mappings=shared_data / "dbpedia" / "Mapping_en.xml", punkt=shared_data / "nltk" / "punkt_tab.zip",
        min_category_count=1, seed=1, output=tmp_path_factory.mktemp("corpus") / "nerbert_full"))


@pytest.fixture(scope="module")
def crossner(shared_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("data") / "crossner"
    return build_dataset(DATASETS["crossner"], out, source=shared_data / "crossner", configs=["politics"])


@pytest.fixture(scope="module")
def tiny_model(corpus, crossner, tmp_path_factory):
    """A random 2-layer BERT whose WordPiece vocab holds the corpus' and politics' lower-cased words."""
    words = set()
    for ds in (load_dataset(str(corpus)), load_dataset(str(crossner), "politics")):
        words |= {w.lower() for split in ds.values() for s in split["tokens"][:300] for w in s}
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-bert"), sorted(words), max_positions=256, num_labels=3)


def corpus_labels(corpus):
    return load_dataset(str(corpus))["train"].features["ner_tags"].feature.names


def config_labels(folder):
    config = json.loads((Path(folder) / "config.json").read_text())
    return [config["id2label"][str(i)] for i in range(len(config["id2label"]))]


def test_corpus_pretrain_finetune_pipeline(tiny_model, corpus, crossner, tmp_path):
    """The issue's check, end to end: accelerate launch pretrain.py, then finetune.py from its output, then tag."""
    out = tmp_path / "pretrained"
    result = subprocess.run(
        [sys.executable, "-m", "accelerate.commands.launch", "--config_file",
         str(REPO / "recipes" / "accelerate_configs" / "cpu.yaml"), str(REPO / "recipes" / "pretrain.py"),
         "--model_name_or_path", str(tiny_model), "--dataset_name", str(corpus), "--output_dir", str(out),
         "--max_steps", "3", "--per_device_train_batch_size", "8", "--gradient_accumulation_steps", "2",
         "--seed", "1", "--learning_rate", "1e-3"],
        capture_output=True, text=True, env={**os.environ, "ACCELERATE_USE_CPU": "true"}, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "effective batch: 16 sentence windows per step = 8 per device x 2 accumulation x 1 process" in result.stderr
    assert (out / "model.safetensors").exists() and (out / "tokenizer_config.json").exists()
    assert config_labels(out) == corpus_labels(corpus)  # a head over every label of the corpus
    results = json.loads((out / "all_results.json").read_text())
    assert results["global_step"] == 3 and results["effective_train_batch_size"] == 16
    assert results["train_runtime"] > 0 and results["train_real_tokens_per_second"] > 0
    assert 0 < results["train_real_tokens"] <= 3 * 16 * 256
    assert 0.0 <= results["eval_f1"] <= 1.0  # word-level F1 on the corpus' validation split

    tuned = tmp_path / "politics"
    assert finetune.main([str(a) for a in (
        "--model_name_or_path", out, "--dataset_name", crossner, "--dataset_config_name", "politics",
        "--output_dir", tuned, "--num_train_epochs", 1, "--max_train_samples", 16, "--max_eval_samples", 16,
        "--save_strategy", "no")]) == 0
    politics = load_dataset(str(crossner), "politics")["train"].features["ner_tags"].feature.names
    assert config_labels(tuned) == politics  # the corpus head was replaced by one for the target labels
    assert 0.0 <= json.loads((tuned / "all_results.json").read_text())["test_f1"] <= 1.0

    ner = pipeline("ner", model=str(tuned), aggregation_strategy="first")
    entities = ner("Angela Merkel met Emmanuel Macron in Berlin .")
    assert isinstance(entities, list)
    assert all(e["entity_group"] in {label[2:] for label in politics if label != "O"} for e in entities)


def test_best_checkpoint_by_validation_f1_and_resume(tiny_model, corpus, tmp_path):
    out = tmp_path / "run"
    common = ["--model_name_or_path", tiny_model, "--dataset_name", corpus, "--output_dir", out,
              "--per_device_train_batch_size", 8, "--eval_strategy", "steps", "--eval_steps", 2,
              "--learning_rate", 1e-3, "--seed", 2]
    assert pretrain.main([str(a) for a in common + ["--max_steps", 4]]) == 0
    state = json.loads((out / "checkpoint-4" / "trainer_state.json").read_text())
    assert state["best_metric"] is not None and state["best_model_checkpoint"] is not None
    assert [e["step"] for e in state["log_history"] if "eval_f1" in e] == [2, 4]
    first = json.loads((out / "all_results.json").read_text())
    assert first["best_eval_metric"] == state["best_metric"]
    # `--resume_from_checkpoint true` continues from the newest checkpoint in output_dir.
    assert pretrain.main([str(a) for a in common + ["--max_steps", 6, "--resume_from_checkpoint", "true"]]) == 0
    results = json.loads((out / "all_results.json").read_text())
    assert results["global_step"] == 6 and results["resumed_from"].endswith("checkpoint-4")
    assert pretrain.main([str(a) for a in common + ["--resume_from_checkpoint", tmp_path / "none"]]) == 1


def test_paper_config_and_label_scheme_ablation_by_configuration():
    configs = REPO / "recipes" / "configs"
    _, corpus_args, training = parse_recipe_args(
        (ModelArguments, CorpusArguments, TrainingArguments),
        [str(configs / "nerbert_pretrain.yaml"), "--output_dir", "o", "--report_to", "none"])
    assert training.learning_rate == 5e-5 and training.optim.startswith("adamw")
    assert effective_batch_size(training) == 960 and training.bf16 is False
    assert training.train_sampling_strategy == "group_by_length" and training.eval_strategy == "steps"
    full = yaml.safe_load((configs / "nerbert_pretrain.yaml").read_text())
    for scheme in ("4types", "merged"):
        variant = yaml.safe_load((configs / f"nerbert_pretrain_{scheme}.yaml").read_text())
        assert {k for k in full if full[k] != variant.get(k)} == {"dataset_name"}
        assert variant["dataset_name"].endswith(scheme)
    # The command line overrides the YAML (e.g. bf16 on a GPU).
    _, _, training = parse_recipe_args(
        (ModelArguments, CorpusArguments, TrainingArguments),
        [str(configs / "nerbert_pretrain.yaml"), "--output_dir", "o", "--gradient_accumulation_steps", "15"])
    assert effective_batch_size(training) == 480


def test_pretraining_sorts_larger_length_groups_exactly(monkeypatch, tmp_path):
    seen = {}

    def capture(model_args, corpus_args, training_args):
        seen["model_args"] = model_args
        return {}

    monkeypatch.setattr(pretrain, "run_pretrain", capture)
    assert pretrain.main(["--dataset_name", "c", "--output_dir", str(tmp_path / "o")]) == 0
    assert (seen["model_args"].length_group_batches, seen["model_args"].length_noise) == (1000, 0.0)
    assert pretrain.main(["--dataset_name", "c", "--output_dir", str(tmp_path / "o"), "--length_noise", "1.5"]) == 0
    assert seen["model_args"].length_noise == 1.5
    # Fine-tuning keeps its smaller noisy groups: a small set is seen for many epochs.
    model_args, *_ = parse_recipe_args((ModelArguments, CorpusArguments, TrainingArguments), ["--output_dir", "o"])
    assert (model_args.length_group_batches, model_args.length_noise) == (50, 2.0)


def test_effective_batch_counts_processes():
    args = SimpleNamespace(per_device_train_batch_size=32, gradient_accumulation_steps=30, world_size=1)
    assert effective_batch_size(args) == 960
    args = SimpleNamespace(per_device_train_batch_size=40, gradient_accumulation_steps=3, world_size=8)
    assert effective_batch_size(args) == 960


def test_missing_corpus_is_a_clear_error(tmp_path, capsys):
    assert pretrain.main(["--dataset_name", str(tmp_path / "nope"), "--output_dir", str(tmp_path / "o")]) == 1
    assert "nope" in capsys.readouterr().err


def test_gold_entities_first_words():
    from nerbert_hf.visualization import gold_entities, sample_entities

    labels = ["O", "B-per", "I-per", "B-loc", "I-loc"]
    rows = {"ner_tags": [[1, 2, 0, 3], [4, 4, 0, 1, 1]]}  # an orphan I- starts an entity
    mentions = gold_entities(rows, labels)
    assert [(m.sentence, m.start, m.category) for m in mentions] == [
        (0, 0, "per"), (0, 3, "loc"), (1, 0, "loc"), (1, 3, "per"), (1, 4, "per")]
    assert [m.category for m in sample_entities(mentions, max_types=1, max_per_type=2)] == ["per", "per"]


def test_visualize_side_by_side_png(tiny_model, crossner, tmp_path):
    import visualize

    out = tmp_path / "tsne.png"
    assert visualize.main(["--checkpoints", str(tiny_model), str(tiny_model), "--names", "a", "b",
                           "--dataset", f"{crossner}:politics", "--output", str(out), "--max_types", "4",
                           "--max_per_type", "10"]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    points = json.loads(out.with_suffix(".json").read_text())
    assert set(points["panels"]) == {"a", "b"} and len(points["categories"]) == 4
    assert points["entities"] == len(points["panels"]["a"]) == sum(points["categories"].values()) <= 40
    assert visualize.main(["--checkpoints", str(tiny_model), "--names", "a", "b", "--dataset", f"{crossner}:politics",
                           "--output", str(out)]) == 1
