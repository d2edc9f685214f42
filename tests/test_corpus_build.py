"""`corpus types` / `corpus build` on the shared Wikipedia excerpt: rows, filters, determinism, resume, errors."""

import bz2
import hashlib
import json
from pathlib import Path

import pytest
from datasets import load_dataset

from nerbert_hf.cli import main
from nerbert_hf.corpus import build as build_module
from nerbert_hf.corpus.build import CorpusError, CorpusOptions, build_corpus
from nerbert_hf.corpus.selection import ENTITY, sentence_types
from nerbert_hf.labels import is_valid_iob2

EXCERPT = "wikipedia/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"


@pytest.fixture(scope="module")
def inputs(shared_data):
    return {
        "dump": shared_data / EXCERPT,
        "ontology": shared_data / "dbpedia" / "dbpedia-ontology-2019-02-21.owl",
        "mappings": shared_data / "dbpedia" / "Mapping_en.xml",
        "punkt": shared_data / "nltk" / "punkt_tab.zip",
    }


def build(inputs, output, **overrides):
    options = dict(inputs, output=output, min_category_count=1, seed=1, shard_articles=40)
    options.update(overrides)
    return build_corpus(CorpusOptions(**options))


def digest(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def corpus(inputs, tmp_path_factory):
    return build(inputs, tmp_path_factory.mktemp("c") / "corpus")


def test_rows_follow_the_filters_and_iob2(corpus):
    ds = load_dataset(str(corpus))
    assert set(ds) == {"train", "validation"}
    names = ds["train"].features["ner_tags"].feature.names
    assert names[0] == "O" and f"B-{ENTITY}" in names
    total = ds["train"].num_rows + ds["validation"].num_rows
    assert ds["validation"].num_rows == round(total * 0.1)
    for row in ds["train"].to_list() + ds["validation"].to_list():
        tags = [names[i] for i in row["ner_tags"]]
        assert is_valid_iob2(tags) and len(tags) == len(row["tokens"])
        types = sentence_types(tags)
        assert any(t != ENTITY for t in types)  # §2.3: no sentence without a typed entity
        assert row["title"] and row["id"] > 0
    card = (corpus / "README.md").read_text()
    assert "NER-BERT Table 1" in card and "before balancing" in card
    assert (corpus / "entities_per_category.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_anchors_to_excerpt_articles_carry_their_infobox_class(corpus):
    ds = load_dataset(str(corpus))["train"]
    names = ds.features["ner_tags"].feature.names
    found = {}
    for row in ds:
        tags = [names[i] for i in row["ner_tags"]]
        for i, tag in enumerate(tags):
            if tag.startswith("B-"):
                j = i + 1
                while j < len(tags) and tags[j] == "I-" + tag[2:]:
                    j += 1
                found.setdefault(" ".join(row["tokens"][i:j]), set()).add(tag[2:])
    # Articles of the excerpt typed by their infoboxes (checked by reading their wikitext).
    assert found.get("Albert Einstein") == {"scientist"}
    assert "country" in found.get("Algeria", set()) | found.get("Albania", set()) | found.get("Andorra", set())


def test_build_is_deterministic_and_resumes(inputs, corpus, tmp_path, monkeypatch):
    again = build(inputs, tmp_path / "again")
    assert digest(again) == digest(corpus)

    # Interrupt after the first shard, then resume: the result is byte-identical.
    original = build_module._finish_shard
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(build_module, "_finish_shard", flaky)
    out = tmp_path / "resumed"
    with pytest.raises(KeyboardInterrupt):
        build(inputs, out)
    assert not out.exists()
    partial = tmp_path / ".resumed.partial"
    assert len(json.loads((partial / "progress.json").read_text())["shards"]) == 1
    monkeypatch.setattr(build_module, "_finish_shard", original)
    resumed = []
    monkeypatch.setattr(build_module, "_tag_batch", lambda batch, f=build_module._tag_batch: resumed.append(len(batch)) or f(batch))
    build(inputs, out)
    assert resumed and sum(resumed) < 98  # the first shard's articles were not tagged again
    assert digest(out) == digest(corpus) and not partial.exists()


def test_the_dump_is_read_once(inputs, corpus, tmp_path, monkeypatch):
    """The typing pass keeps the articles for the tagging pass; the build leaves the collector on."""
    import gc

    reads = []
    original = build_module.iter_pages
    monkeypatch.setattr(build_module, "iter_pages", lambda *a, **k: reads.append(a) or original(*a, **k))
    out = build(inputs, tmp_path / "once")
    assert len(reads) == 1
    assert digest(out) == digest(corpus)
    assert gc.isenabled()


def test_label_schemes(inputs, tmp_path):
    four = build(inputs, tmp_path / "four", label_scheme="4types")
    names = load_dataset(str(four))["train"].features["ner_tags"].feature.names
    assert {n[2:] for n in names if n != "O"} <= {"person", "location", "organisation", ENTITY}


def test_corpus_types_folder_and_reuse(inputs, tmp_path, corpus):
    out = tmp_path / "types"
    assert main(["corpus", "types", "--dump", str(inputs["dump"]), "--ontology", str(inputs["ontology"]),
                 "--mappings", str(inputs["mappings"]), "--output", str(out)]) == 0
    types = load_dataset(str(out))["train"]
    table = dict(zip(types["title"], types["type"]))
    assert table["Albert Einstein"] == "Scientist" and table["Algeria"] == "Country"
    redirects = load_dataset(str(out), "redirects")["train"]
    assert redirects.num_rows == 99  # 100 redirects, one of them in the Wikipedia: namespace
    reused = build(inputs, tmp_path / "reused", mappings=None, types=out)
    assert load_dataset(str(reused))["train"]["tokens"] == load_dataset(str(corpus))["train"]["tokens"]


def test_bad_inputs_fail_cleanly(inputs, tmp_path, capsys):
    raw = inputs["dump"].read_bytes()
    truncated = tmp_path / "cut.xml.bz2"
    truncated.write_bytes(raw[: len(raw) // 2])
    args = ["corpus", "build", "--ontology", str(inputs["ontology"]), "--mappings", str(inputs["mappings"]),
            "--punkt", str(inputs["punkt"])]
    assert main(args + ["--dump", str(truncated), "--output", str(tmp_path / "o1")]) == 1
    assert "cut.xml.bz2" in capsys.readouterr().err
    assert not (tmp_path / "o1").exists()

    not_wiki = tmp_path / "x.xml.bz2"
    not_wiki.write_bytes(bz2.compress(b"<rss><channel/></rss>"))
    assert main(args + ["--dump", str(not_wiki), "--output", str(tmp_path / "o2")]) == 1
    assert "x.xml.bz2" in capsys.readouterr().err

    bad_owl = tmp_path / "o.owl"
    bad_owl.write_text("<rdf:RDF")
    assert main(["corpus", "build", "--dump", str(inputs["dump"]), "--ontology", str(bad_owl), "--mappings",
                 str(inputs["mappings"]), "--output", str(tmp_path / "o3")]) == 1
    assert "o.owl" in capsys.readouterr().err

    no_links = tmp_path / "plain.xml"
    no_links.write_text(
        '<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/"><page><title>A</title><ns>0</ns><id>1</id>'
        "<revision><id>2</id><text>Just text. No links at all.</text></revision></page></mediawiki>")
    with pytest.raises(CorpusError, match="plain.xml: no anchor"):
        build(inputs, tmp_path / "o4", dump=no_links)
    assert not (tmp_path / "o4").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
        "cut.xml.bz2", "o.owl", "plain.xml", "x.xml.bz2"]


def test_streamed_selection_equals_the_in_memory_functions(inputs, tmp_path):
    """The builder's shard-streaming passes make exactly the decisions of `selection`'s in-memory functions."""
    import random

    from nerbert_hf.corpus.build import _shard_table, _write_atomic, select_and_write
    from nerbert_hf.corpus.dbpedia import Ontology
    from nerbert_hf.corpus.selection import balance, drop_scarce_categories, filter_sentences, split_train_validation
    from nerbert_hf.corpus.sentences import Sentence

    rng = random.Random(0)
    categories = ["city", "country", "person", "band", "moon", "comet"]
    sentences = []
    for i in range(3000):
        tags = []
        for _ in range(rng.randint(0, 6)):
            t = rng.choice(categories[: rng.randint(1, len(categories))] + [ENTITY] * 3)
            tags += ["O", f"B-{t}"] + [f"I-{t}"] * rng.randint(0, 2)
        sentences.append(Sentence([f"w{k}" for k in range(len(tags) + 1)], tags + ["O"], f"T{i // 7}", i // 7 + 1))
    shards = []
    for k in range(0, len(sentences), 700):
        path = tmp_path / f"raw-{k:05d}.parquet"
        _write_atomic(_shard_table(sentences[k:k + 700]), path)
        shards.append(path)
    options = CorpusOptions(dump=Path("synthetic.xml"), ontology=inputs["ontology"], output=tmp_path / "out",
                            min_category_count=150, seed=5)
    out = select_and_write(shards, options, Ontology.from_owl(inputs["ontology"]), {"sentences": len(sentences)},
                           shard_rows=500)

    expected, _ = drop_scarce_categories(sentences, 150)
    expected, _, _ = filter_sentences(expected, 5)
    expected, _ = balance(expected, 5)
    train, validation = split_train_validation(expected, 5)
    ds = load_dataset(str(out))
    names = ds["train"].features["ner_tags"].feature.names
    for split, part in (("train", train), ("validation", validation)):
        got = [(r["tokens"], [names[i] for i in r["ner_tags"]], r["title"], r["id"]) for r in ds[split]]
        assert got == [(s.tokens, s.tags, s.title, s.page_id) for s in part]
    assert len(list((out / "data").glob("train-*-of-*.parquet"))) == -(-len(train) // 500)


def test_propagate_mentions_adds_entities(inputs, corpus, tmp_path):
    out = build(inputs, tmp_path / "prop", propagate_mentions=True)
    card = (out / "README.md").read_text()
    added = int(card.split("`--propagate-mentions`: ")[1].split()[0])
    assert added > 0
    names = load_dataset(str(out))["train"].features["ner_tags"].feature.names
    plain_names = load_dataset(str(corpus))["train"].features["ner_tags"].feature.names

    def entities(folder, label_names):
        ds = load_dataset(str(folder))
        return sum(sum(label_names[i].startswith("B-") for i in r) for s in ds.values() for r in s["ner_tags"])

    assert entities(out, names) > entities(corpus, plain_names)
