"""benchmarks/low_resource.py: run planning, resuming, and the Table 2 / few-shot report on tiny real runs."""

import json
import sys
from pathlib import Path

import pytest
from datasets import load_dataset

from conftest import save_tiny_bert

from dataset_scripts import DATASETS
from nerbert_hf.builders import build_dataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import low_resource  # noqa: E402


def test_models_need_names_and_a_baseline():
    assert low_resource.parse_models(["BERT=bert-base-cased", "NER-BERT=runs/x"]) == {
        "BERT": "bert-base-cased", "NER-BERT": "runs/x"}
    for bad in (["bert-base-cased", "X=y"], ["A=x"], ["A=x", "A=y"], ["=x", "B=y"]):
        with pytest.raises(SystemExit):
            low_resource.parse_models(bad)


def _summary(f1, std=0.01, sentences=10):
    return {"test_f1_mean": f1, "test_f1_std": std, "train_sentences_mean": sentences}


def test_tables_put_the_paper_beside_ours_and_gains_per_size():
    results = {("target", "BERT", "politics"): _summary(0.5), ("target", "NER-BERT", "politics"): _summary(0.6),
               ("few-shot fin", "BERT", "5-shot"): _summary(0.30, sentences=12),
               ("few-shot fin", "NER-BERT", "5-shot"): _summary(0.42, sentences=12)}
    rows = low_resource.table2(results, ["BERT", "NER-BERT"], ["target"], ["politics", "ai"])
    assert rows[2].startswith("| target | BERT (ours) | 50.00 ± 1.00 | - | -")  # an average needs every domain
    assert "| target | NER-BERT (paper, bert-base-cased) | 73.69 | 60.39 | 67.04 |" in rows
    few = low_resource.few_shot_table(results, ["BERT", "NER-BERT"], "fin", ["5-shot", "fraction 0.1"])
    assert few[0] == "| fin | 5-shot (12 sent.) | fraction 0.1 |"
    assert few[-1] == "| NER-BERT - BERT | +12.00 | - |"


@pytest.fixture(scope="module")
def data_root(shared_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    build_dataset(DATASETS["crossner"], root / "crossner", source=shared_data / "crossner", configs=["politics"])
    build_dataset(DATASETS["fin"], root / "fin", source=shared_data / "fin")
    return root


def test_benchmark_runs_every_model_resumes_and_reports(data_root, tmp_path, capsys):
    words = sorted({w.lower() for name in ("crossner", "fin") for s in
                    load_dataset(str(data_root / name), "politics" if name == "crossner" else None)["train"]["tokens"]
                    for w in s})
    base = save_tiny_bert(tmp_path / "base", words)
    other = save_tiny_bert(tmp_path / "other", words)
    results = tmp_path / "results" / "low_resource.md"
    argv = ["--models", f"BASE={base}", f"PRE={other}", "--crossner", str(data_root / "crossner"),
            "--data_root", str(data_root), "--settings", "target", "--domains", "politics",
            "--few_shot_datasets", "fin", "--fractions", "0.02", "--shots", "--seeds", "1",
            "--output_dir", str(tmp_path / "runs"), "--results", str(results),
            "--", "--num_train_epochs", "1", "--max_train_samples", "16", "--max_eval_samples", "8",
            "--per_device_train_batch_size", "8"]
    assert low_resource.main(argv) == 0
    for model in ("BASE", "PRE"):
        for folder in ("target/politics", "few_shot/fin/fraction-0.02"):
            summary = json.loads((tmp_path / "runs" / model / folder / "all_results.json").read_text())
            assert summary["seeds"] == [1] and 0 <= summary["test_f1_mean"] <= 1
    text = results.read_text()
    assert "| target | BASE (ours) |" in text and "| PRE - BASE |" in text
    assert results.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"
    capsys.readouterr()
    # Resuming: every run's all_results.json exists, so nothing is fine-tuned again.
    assert low_resource.main(argv) == 0
    assert "+ " not in capsys.readouterr().out
