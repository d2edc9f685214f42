"""Every dataset built from ../shared/data, loaded with load_dataset, checked against the raw files."""

from pathlib import Path

import pytest
from datasets import load_dataset

from dataset_scripts import DATASETS
from nerbert_hf.builders import build_dataset
from nerbert_hf.labels import dataset_labels, is_valid_iob2

# (name, config, source folder under shared/data, {split: (raw file, sentences)}, label column)
# Counts are the table of ../shared/data/README.md.
CROSSNER_COUNTS = {
    "politics": (200, 541, 651), "science": (200, 450, 543), "music": (100, 380, 465),
    "literature": (100, 400, 416), "ai": (100, 350, 431), "conll2003": (14041, 3250, 3453),
}
CASES = [
    ("crossner", d, "crossner", {"train": (f"{d}/train.txt", n[0]), "validation": (f"{d}/dev.txt", n[1]),
                                  "test": (f"{d}/test.txt", n[2])}, -1)
    for d, n in CROSSNER_COUNTS.items()
] + [
    ("conll2003", None, "conll2003", {"train": ("eng.train", 14041), "validation": ("eng.testa", 3250),
                                      "test": ("eng.testb", 3453)}, -1),
    ("wnut2017", None, "wnut2017", {"train": ("wnut17train.conll", 3394), "validation": ("emerging.dev.conll", 1009),
                                    "test": ("emerging.test.annotated", 1287)}, -1),
    ("fin", None, "fin", {"train": ("FIN5.txt", 1164), "test": ("FIN3.txt", 303)}, -1),
    ("bionlp2004", None, "bionlp2004", {"train": ("train.txt", 8309), "validation": ("val.txt", 963),
                                        "test": ("test.txt", 1928)}, -1),
    ("bc5cdr", None, "bc5cdr", {"train": ("train.tsv", 4560), "validation": ("devel.tsv", 4581),
                                "test": ("test.tsv", 4797)}, -1),
    ("mit_restaurant", None, "mit_restaurant", {"train": ("restauranttrain.bio", 7660),
                                                "validation": ("restaurantvalid.bio", 815),
                                                "test": ("restauranttest.bio", 706)}, 0),
    ("mit_movie", None, "mit_movie", {"train": ("trivia10k13train.bio", 7816), "test": ("trivia10k13test.bio", 1953)}, 0),
    ("twitter", None, "twitter2015", {"train": ("train.txt", 4000), "validation": ("valid.txt", 1000),
                                      "test": ("test.txt", 3257)}, -1),
    ("btc", None, "btc", {"train": ("btc.train", 6338), "validation": ("btc.dev", 1001), "test": ("btc.test", 2001)}, -1),
    ("bionlp13cg", None, "bionlp13cg", {"train": ("train.tsv", 3033), "validation": ("devel.tsv", 1003),
                                        "test": ("test.tsv", 1906)}, -1),
    ("bionlp13pc", None, "bionlp13pc", {"train": ("train.tsv", 2499), "validation": ("devel.tsv", 857),
                                        "test": ("test.tsv", 1695)}, -1),
    ("re3d", None, "re3d", {"train": ("re3d-train.conll", 765), "test": ("re3d-test.conll", 200)}, -1),
]


def raw_sentences(path: Path, label_column: int):
    """An independent, minimal reading of a raw file: (tokens, raw labels) per sentence."""
    sentences, current = [], []
    for line in path.read_text(encoding="utf-8").replace("\r\n", "\n").split("\n"):
        if not line.strip() or line.startswith(("-DOCSTART-", "IMGID:")):
            if current:
                sentences.append(current)
                current = []
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        label = fields[label_column]
        token = fields[-1 if label_column == 0 else 0].replace("\ufeff", "")
        current.append((token, label))
    if current:
        sentences.append(current)
    return [([t for t, _ in s], [lab for _, lab in s]) for s in sentences]


@pytest.fixture(scope="session")
def built(shared_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("built")
    names = sorted({case[0] for case in CASES})
    for name in names:
        build_dataset(DATASETS[name], out / name, source=shared_data / next(c[2] for c in CASES if c[0] == name))
    return out


@pytest.mark.parametrize("name, config, folder, splits, label_column", CASES,
                         ids=[f"{c[0]}-{c[1]}" if c[1] else c[0] for c in CASES])
def test_built_dataset_matches_raw_files(built, shared_data, name, config, folder, splits, label_column):
    ds = load_dataset(str(built / name), config) if config else load_dataset(str(built / name))
    names = ds["train"].features["ner_tags"].feature.names
    assert names == dataset_labels(f"crossner/{config}" if name == "crossner" else name)
    assert set(ds) == {"train", "validation", "test"}
    for split, (filename, count) in splits.items():
        raw = raw_sentences(shared_data / folder / filename, label_column)
        assert len(raw) == count
        if split == "train" and "validation" not in splits:
            # Validation was drawn from train: together they are the raw file, each in file order.
            assert ds["validation"].num_rows == round(count * 0.1)
            parts = [ds["train"].to_list(), ds["validation"].to_list()]
            rows, cursor = [], [0, 0]
            for tokens, _ in raw:
                which = next(k for k in (0, 1) if cursor[k] < len(parts[k]) and parts[k][cursor[k]]["tokens"] == tokens)
                rows.append(parts[which][cursor[which]])
                cursor[which] += 1
        else:
            rows = ds[split].to_list()
        assert len(rows) == count, f"{name}/{split}"
        assert [rows[0]["tokens"], rows[-1]["tokens"]] == [raw[0][0], raw[-1][0]]
        # Every token of every sentence is the source token; every tag sequence is valid IOB2.
        assert [r["tokens"] for r in rows] == [tokens for tokens, _ in raw]
        for r in rows:
            assert len(r["tokens"]) == len(r["ner_tags"])
            assert is_valid_iob2([names[i] for i in r["ner_tags"]])
        if name not in ("conll2003", "fin", "twitter"):  # no IOB conversion or repair needed elsewhere
            assert [[names[i] for i in r["ner_tags"]] for r in rows] == [tags for _, tags in raw]


def test_iob1_converted_against_raw(built, shared_data):
    ds = load_dataset(str(built / "conll2003"))
    names = ds["train"].features["ner_tags"].feature.names
    raw = raw_sentences(shared_data / "conll2003" / "eng.train", -1)
    first = [names[i] for i in ds["train"][0]["ner_tags"]]
    assert raw[0] == (["EU", "rejects", "German", "call", "to", "boycott", "British", "lamb", "."],
                      ["I-ORG", "O", "I-MISC", "O", "O", "O", "I-MISC", "O", "O"])
    assert first == ["B-ORG", "O", "B-MISC", "O", "O", "O", "B-MISC", "O", "O"]
    # Entity spans are unchanged by the conversion: same count of entities as IOB1 starts.
    def iob1_entities(tags):
        return sum(1 for i, t in enumerate(tags) if t != "O" and (t[0] == "B" or i == 0 or tags[i - 1][2:] != t[2:]))
    ours = sum(sum(1 for i in ids if names[i].startswith("B-")) for ids in ds["train"]["ner_tags"])
    assert ours == sum(iob1_entities(tags) for _, tags in raw)


def test_cards_report_counts_and_fixes(built):
    card = (built / "twitter" / "README.md").read_text()
    assert "orphan I- tags repaired to B-" in card and "`IMGID:` lines skipped" in card
    assert "| default | test | 3257 |" in card
    wnut = (built / "wnut2017" / "README.md").read_text()
    assert "1 U+FEFF characters removed from tokens" in wnut
    fin = (built / "fin" / "README.md").read_text()
    assert "the source has no validation split" in fin and "seed 42" in fin
    assert "tags converted from IOB1 to IOB2" in fin
    assert "license: cc-by-3.0" in fin and "@inproceedings{salinas-alvarado" in fin


def test_validation_carve_is_seeded(shared_data, tmp_path):
    a = build_dataset(DATASETS["re3d"], tmp_path / "a", source=shared_data / "re3d", seed=1)
    b = build_dataset(DATASETS["re3d"], tmp_path / "b", source=shared_data / "re3d", seed=1)
    c = build_dataset(DATASETS["re3d"], tmp_path / "c", source=shared_data / "re3d", seed=2)
    va, vb, vc = (load_dataset(str(p))["validation"]["tokens"] for p in (a, b, c))
    assert va == vb and va != vc and len(va) == 76


def test_unify_labels(shared_data, tmp_path):
    out = build_dataset(DATASETS["conll2003"], tmp_path / "u", source=shared_data / "conll2003", unify=True)
    ds = load_dataset(str(out))
    names = ds["test"].features["ner_tags"].feature.names
    assert names == ["O", "B-organization", "B-other", "B-person", "I-person", "B-location",
                     "I-organization", "I-other", "I-location"]
    assert "entity types renamed to the unified type map" in (out / "README.md").read_text()
