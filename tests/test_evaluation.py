"""Checkpoint scoring and the cross-domain matrix, on tiny random BERT checkpoints and hand-made datasets."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from datasets import load_dataset
from transformers import BertConfig, BertForTokenClassification, BertTokenizer

from nerbert_hf.cards import DatasetCardInfo
from nerbert_hf.evaluation import (
    load_checkpoint,
    map_types,
    matrix_markdown,
    parse_dataset_spec,
    predict_word_labels,
    score_checkpoint,
    type_map_via_unified,
    write_matrix,
)
from nerbert_hf.hub_folder import write_hub_folder
from nerbert_hf.schema import ConfigData
from nerbert_hf.labels import labels_for_types
from nerbert_hf.metrics import ner_scores

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "recipes" / "evaluate.py"


def _row(text, tags):
    return text.split(), tags


# CoNLL-style type names in one test set, CrossNER-style in the other: only the unified map pairs them.
NEWS_TYPES = ["PER", "LOC"]
WIKI_TYPES = ["person", "location", "misc"]
NEWS = [
    _row("Ada visited Paris", ["B-PER", "O", "B-LOC"]),
    _row("the rivers of Rome are long", ["O", "O", "O", "B-LOC", "O", "O"]),
    _row("Alan Turing met Ada in New York zzz", ["B-PER", "I-PER", "O", "B-PER", "O", "B-LOC", "I-LOC", "O"]),
    _row("Paris", ["B-LOC"]),
]
WIKI = [
    _row("Turing lived in Rome", ["B-person", "O", "O", "B-location"]),
    _row("the Nobel prize went to Alan Turing", ["O", "B-misc", "I-misc", "O", "O", "B-person", "I-person"]),
    _row("New York rivers", ["B-location", "I-location", "O"]),
]
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _write_dataset(folder: Path, rows, types) -> Path:
    config = ConfigData("default", labels_for_types(types), {"test": rows})
    card = DatasetCardInfo(pretty_name=folder.name, description="test set", source="hand-made", license="cc0-1.0")
    return write_hub_folder(folder, [config], card)


def _write_checkpoint(folder: Path, vocab_file: Path, labels, constant_label: str | None = None) -> Path:
    """A tiny random BERT tagger; with ``constant_label`` its head predicts that label for every token."""
    torch.manual_seed(0)
    tokenizer = BertTokenizer(vocab=str(vocab_file))
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=37, max_position_embeddings=64,
                        id2label=dict(enumerate(labels)), label2id={label: i for i, label in enumerate(labels)})
    model = BertForTokenClassification(config)
    if constant_label is not None:
        with torch.no_grad():
            model.classifier.weight.zero_()
            model.classifier.bias.zero_()
            model.classifier.bias[labels.index(constant_label)] = 1.0
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluation")
    words = sorted({w.lower() for rows in (NEWS, WIKI) for tokens, _ in rows for w in tokens} - {"rivers", "zzz"})
    # "rivers" -> river ##s exercises multi-subword words; "zzz" is out of vocabulary ([UNK]).
    vocab = SPECIALS + words + ["river", "##s"]
    vocab_file = root / "vocab.txt"
    vocab_file.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    news = _write_dataset(root / "news", NEWS, NEWS_TYPES)
    wiki = _write_dataset(root / "wiki", WIKI, WIKI_TYPES)
    const = _write_checkpoint(root / "const-per", vocab_file, labels_for_types(NEWS_TYPES), constant_label="B-PER")
    rand = _write_checkpoint(root / "random-wiki", vocab_file, labels_for_types(WIKI_TYPES))
    return {"root": root, "vocab": vocab, "news": news, "wiki": wiki, "const": const, "rand": rand}


def _gold(rows):
    return [tags for _, tags in rows]


def _run_recipe(argv):
    spec = importlib.util.spec_from_file_location("evaluate_recipe", RECIPE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main(argv)


# --- type mapping ---

def test_map_types_renames_and_drops_unmapped_types():
    tags = [["B-PER", "I-PER", "O", "B-ORG", "B-LOC", "I-LOC"]]
    mapping = {"PER": "person", "LOC": "location"}
    assert map_types(tags, mapping) == [["B-person", "I-person", "O", "O", "B-location", "I-location"]]
    assert map_types(tags, mapping, drop_unmapped=False) == [
        ["B-person", "I-person", "O", "B-ORG", "B-location", "I-location"]]


def test_type_map_via_unified_pairs_canonical_types_and_keeps_equal_names():
    pred = ["PER", "ORG", "LOC", "MISC", "DATE", "band"]
    gold = ["person", "organisation", "location", "misc", "band", "politician"]
    assert type_map_via_unified(pred, gold) == {
        "PER": "person", "ORG": "organisation", "LOC": "location", "MISC": "misc", "band": "band"}
    # CrossNER keeps politician apart from person, so the unified map does not pair them.
    assert type_map_via_unified(["politician"], ["person"]) == {}


def test_parse_dataset_spec():
    assert parse_dataset_spec("data/crossner:politics") == ("data/crossner", "politics")
    assert parse_dataset_spec("data/conll2003") == ("data/conll2003", None)
    assert parse_dataset_spec("C:/data/conll2003") == ("C:/data/conll2003", None)


# --- prediction and scoring ---

def test_checkpoint_loads_with_the_real_vocab(world):
    _, tokenizer = load_checkpoint(str(world["rand"]))
    assert tokenizer.vocab_size == len(world["vocab"])
    assert tokenizer.convert_tokens_to_ids("turing") == world["vocab"].index("turing")
    assert tokenizer.tokenize("rivers") == ["river", "##s"]


def test_predict_word_labels_reads_each_words_first_subword(world):
    model, tokenizer = load_checkpoint(str(world["rand"]))
    test = load_dataset(str(world["news"]))["test"]
    predicted = predict_word_labels(model, tokenizer, test, batch_size=2)

    model.eval()
    expected = []
    for tokens in test["tokens"]:
        encoding = tokenizer(tokens, is_split_into_words=True, return_tensors="pt")
        with torch.no_grad():
            ids = model(**encoding).logits[0].argmax(-1).tolist()
        word_ids = encoding.word_ids(0)
        firsts = [word_ids.index(w) for w in range(len(tokens))]
        expected.append([model.config.id2label[ids[p]] for p in firsts])
    assert predicted == expected
    # Not one label everywhere, or the comparison above would prove little.
    assert len({label for row in predicted for label in row}) > 1


def test_score_checkpoint_equals_ner_scores_of_the_predictions(world):
    model, tokenizer = load_checkpoint(str(world["rand"]))
    test = load_dataset(str(world["wiki"]))["test"]
    predicted = predict_word_labels(model, tokenizer, test)
    expected = ner_scores(_gold(WIKI), predicted)

    scores = score_checkpoint(str(world["rand"]), str(world["wiki"]))
    for key in ("precision", "recall", "f1", "macro_f1", "f1_type_ignored", "per_type"):
        assert scores[key] == expected[key], key
    assert scores["type_map"] is None and scores["sentences"] == len(WIKI)


def test_score_checkpoint_type_maps(world):
    # The const checkpoint tags every word B-PER: a person span only where gold has a one-word span.
    words = sum(len(t) for t, _ in WIKI)
    gold = _gold(WIKI)
    all_b = [["B-ENT"] * len(t) for t, _ in WIKI]

    plain = score_checkpoint(str(world["const"]), str(world["wiki"]))
    assert plain["f1"] == 0.0
    assert plain["f1_type_ignored"] == pytest.approx(ner_scores(gold, all_b)["f1_type_ignored"])

    unified = score_checkpoint(str(world["const"]), str(world["wiki"]), type_map="unified")
    assert unified["type_map"] == {"PER": "person", "LOC": "location"}
    # Of the 5 gold spans only "Turing" is a one-word person: P = 1/words, R = 1/5.
    assert unified["precision"] == pytest.approx(1 / words)
    assert unified["recall"] == pytest.approx(1 / 5)
    assert unified["per_type"]["person"]["f1"] > 0
    # The type-ignored score does not depend on the type map.
    assert unified["f1_type_ignored"] == plain["f1_type_ignored"]

    # A user map naming a type the test set lacks drops those predictions to O.
    to_misc = score_checkpoint(str(world["const"]), str(world["wiki"]), type_map={"PER": "misc"})
    assert to_misc["type_map"] == {"PER": "misc"} and to_misc["recall"] == 0.0
    dropped = score_checkpoint(str(world["const"]), str(world["wiki"]), type_map={"PER": "nope"})
    assert dropped["type_map"] == {} and dropped["dropped_types"] == ["PER", "LOC"]
    assert dropped["precision"] == 0.0
    assert dropped["f1_type_ignored"] == plain["f1_type_ignored"] > 0
    assert dropped["per_type"] == ner_scores(gold, [["O"] * len(t) for t, _ in WIKI])["per_type"]


# --- writing ---

def test_write_matrix_writes_csv_markdown_and_png(tmp_path):
    df = pd.DataFrame([[0.5, 0.25], [1.0, np.nan]], index=pd.Index(["a|b", "c"], name="checkpoint"),
                      columns=pd.Index(["x", "y"], name="test set"))
    paths = write_matrix(df, tmp_path / "out", "m")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["m.csv", "m.md", "m.png"]
    back = pd.read_csv(paths["csv"], index_col=0)
    assert back.shape == (2, 2) and back.loc["a|b", "y"] == 0.25
    assert paths["md"].read_text() == matrix_markdown(df)
    assert matrix_markdown(df).splitlines()[2] == "| a\\|b | 50.0 | 25.0 |"
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_recipe_writes_both_matrices_and_scores(world, tmp_path):
    out = tmp_path / "eval"
    checkpoints = [str(world["const"]), str(world["rand"])]
    rc = _run_recipe(["--checkpoints", *checkpoints, "--datasets", str(world["news"]), str(world["wiki"]),
                      "--type_map", "unified", "--output_dir", str(out), "--batch_size", "2"])
    assert rc == 0
    names = {p.name for p in out.iterdir()}
    assert names == {f"matrix_{kind}.{ext}" for kind in ("type_aware", "type_ignored") for ext in ("csv", "md", "png")
                     } | {"scores.json"}
    for kind in ("type_aware", "type_ignored"):
        df = pd.read_csv(out / f"matrix_{kind}.csv", index_col=0)
        assert df.shape == (2, 2)
        assert list(df.index) == checkpoints and list(df.columns) == ["news", "wiki"]
        assert ((df >= 0) & (df <= 1)).all().all()
        assert len((out / f"matrix_{kind}.md").read_text().splitlines()) == 2 + 2
        png = (out / f"matrix_{kind}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
    payload = json.loads((out / "scores.json").read_text())
    assert len(payload["scores"]) == 4
    cell = next(s for s in payload["scores"] if s["checkpoint"] == checkpoints[0] and s["test_set"] == "wiki")
    direct = score_checkpoint(checkpoints[0], str(world["wiki"]), type_map="unified")
    aware = pd.read_csv(out / "matrix_type_aware.csv", index_col=0)
    assert cell["f1"] == pytest.approx(direct["f1"]) and aware.loc[checkpoints[0], "wiki"] == pytest.approx(direct["f1"])


def test_recipe_names_a_missing_checkpoint_without_traceback(world, tmp_path):
    missing = tmp_path / "no-such-checkpoint"
    result = subprocess.run(
        [sys.executable, str(RECIPE), "--checkpoints", str(world["const"]), str(missing),
         "--datasets", str(world["news"]), "--output_dir", str(tmp_path / "out")],
        check=False, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0
    assert str(missing) in result.stderr and "Traceback" not in result.stderr
    # Inputs are checked before any scoring or writing.
    assert not (tmp_path / "out").exists()


def test_recipe_names_a_missing_dataset(world, tmp_path, capsys):
    missing = tmp_path / "no-such-dataset"
    rc = _run_recipe(["--checkpoints", str(world["const"]), "--datasets", f"{missing}:politics",
                      "--output_dir", str(tmp_path / "out")])
    assert rc != 0
    assert str(missing) in capsys.readouterr().err
