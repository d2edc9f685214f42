"""`nerbert-hf predict`: text lines in, JSON lines out, batched; no custom code; clear offline errors."""

import io
import json
import sys
from pathlib import Path

import pytest
import torch
from transformers import pipeline

from conftest import save_tiny_bert

from nerbert_hf.cli import main
from nerbert_hf.predict import Tagger, predict_lines

WORDS = ["angela", "merkel", "met", "emmanuel", "macron", "in", "berlin", "and", "paris", ".", ",", "the", "of", "a",
         "to", "was", "born", "visited", "london", "new", "york", "city", "rome", "madrid", "spoke", "with"]
TEXTS = [
    "Angela Merkel met Emmanuel Macron in Berlin.",
    "",
    "Macron visited London and New York City.",
    "   ",
    "Merkel was born in Rome, the city of Paris.",
]


def make_checkpoint(folder: Path, labels: list[str], seed: int = 0, max_positions: int = 64, words=WORDS) -> Path:
    """A randomly initialised 2-layer BERT token classifier with a tiny WordPiece vocab (seeded: reproducible)."""
    torch.manual_seed(seed)
    return save_tiny_bert(folder, [*sorted({w.lower() for w in words}), "##s"], max_positions=max_positions,
                          num_labels=len(labels), id2label=dict(enumerate(labels)),
                          label2id={label: i for i, label in enumerate(labels)})


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return make_checkpoint(tmp_path_factory.mktemp("tiny") / "ner", ["O", "B-person", "I-person", "B-location",
                                                                      "I-location"])


def run_cli(args, capsys):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_lines_with_character_offsets(checkpoint, tmp_path, capsys):
    source = tmp_path / "texts.txt"
    source.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    code, out, _ = run_cli(["predict", "--model", checkpoint, source, "--batch-size", "2"], capsys)
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["line"] for r in records] == [1, 2, 3, 4, 5] and [r["text"] for r in records] == TEXTS
    assert records[1]["entities"] == [] and records[3]["entities"] == []
    found = 0
    for record in records:
        for entity in record["entities"]:
            assert set(entity) == {"entity", "type", "score", "start", "end"}
            assert record["text"][entity["start"]:entity["end"]] == entity["entity"]
            assert entity["entity"] == entity["entity"].strip()
            assert entity["type"] in ("person", "location") and 0.0 <= entity["score"] <= 1.0
            found += 1
    assert found > 0  # the seeded random model does tag something, so offsets were checked

    # The same entities as the pipeline the README shows, on every non-empty line.
    ner = pipeline("ner", model=str(checkpoint), aggregation_strategy="first")
    for record in records:
        if record["text"].strip():
            expected = [(e["start"], e["end"], e["entity_group"]) for e in ner(record["text"])]
            assert [(e["start"], e["end"], e["type"]) for e in record["entities"]] == expected


def test_batches_do_not_change_results_and_stdin_works(checkpoint, monkeypatch, capsys):
    tagger = Tagger(str(checkpoint))
    one = list(predict_lines(tagger, TEXTS, batch_size=1))
    three = list(predict_lines(tagger, TEXTS, batch_size=3))
    assert one == three
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("\n".join(TEXTS[:3]).encode())))
    code, out, _ = run_cli(["predict", "--model", checkpoint], capsys)  # no FILE: stdin
    assert code == 0 and [json.loads(line) for line in out.splitlines()] == one[:3]


def test_long_text_is_tagged_to_its_end(checkpoint):
    """A text longer than the model's 64 positions is read in overlapping windows, not cut off."""
    tagger = Tagger(str(checkpoint))
    sentence = "Angela Merkel met Emmanuel Macron in Berlin."
    text = " ".join([sentence] * 20)
    entities = tagger([text])[0]
    assert len(tagger._pipeline.tokenizer(text)["input_ids"]) > 64
    assert entities and max(e["end"] for e in entities) > len(text) - len(sentence)
    for entity in entities:
        assert text[entity["start"]:entity["end"]] == entity["entity"]


def test_offline_error_names_hf_hub_offline_and_local_paths(monkeypatch, capsys):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # what HF_HUB_OFFLINE=1 sets at import time
    code, _, err = run_cli(["predict", "--model", "acme/not-cached-anywhere", "-"], capsys)
    assert code == 1
    assert "HF_HUB_OFFLINE is set" in err and "local checkpoint folder" in err and "acme/not-cached-anywhere" in err
    assert "Traceback" not in err


def test_bad_inputs_are_one_line_errors(checkpoint, tmp_path, capsys):
    code, _, err = run_cli(["predict", "--model", tmp_path / "missing", "-"], capsys)
    assert code == 1 and "no such folder" in err
    code, _, err = run_cli(["predict", "--model", checkpoint, tmp_path / "none.txt"], capsys)
    assert code == 1 and "none.txt: no such file" in err
    bad = tmp_path / "latin1.txt"
    bad.write_bytes(b"Paris\ncaf\xe9\n")
    code, _, err = run_cli(["predict", "--model", checkpoint, bad], capsys)
    assert code == 1 and "latin1.txt:2: not UTF-8" in err
    code, _, err = run_cli(["predict", "--model", checkpoint, bad, "--batch-size", "0"], capsys)
    assert code == 1 and "--batch-size" in err


def test_custom_code_is_never_run(tmp_path, capsys):
    """A checkpoint whose config asks for its own Python code is refused, and that code never runs."""
    folder = make_checkpoint(tmp_path / "remote", ["O", "B-x", "I-x"])
    marker = tmp_path / "code-ran"
    (folder / "evil.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n"
        "from transformers import BertConfig\nclass EvilConfig(BertConfig):\n    model_type = 'evil-bert'\n")
    config = json.loads((folder / "config.json").read_text())
    config.update(model_type="evil-bert", auto_map={"AutoConfig": "evil.EvilConfig",
                                                    "AutoModelForTokenClassification": "evil.EvilModel"})
    (folder / "config.json").write_text(json.dumps(config))
    code, _, err = run_cli(["predict", "--model", folder, "-"], capsys)
    assert code == 1 and "trust_remote_code" in err
    assert not marker.exists()


def test_not_a_token_classifier(tmp_path, capsys):
    from transformers import BertForMaskedLM

    folder = make_checkpoint(tmp_path / "mlm", ["O", "B-x", "I-x"])
    BertForMaskedLM.from_pretrained(folder).save_pretrained(folder)
    code, _, err = run_cli(["predict", "--model", folder, "-"], capsys)
    assert code == 1 and "not a token-classification" in err
