"""OntoNotes 5.0 (CoNLL-2012 ``*gold_conll``) and WikiAnn (PAN-X): the two T-NER datasets built from local copies only.

The fixtures under ``tests/fixtures/`` are small files in the real formats: the CoNLL-2012
release's ``{train,development,test}/data/english/annotations/...`` tree and the PAN-X
``{lang}/{train,dev,test}`` files.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from datasets import load_dataset

from dataset_scripts import DATASETS
from dataset_scripts.tner import PANX_LANGUAGES, PANX_XTREME_LANGUAGES, read_panx
from nerbert_hf.builders import build_dataset
from nerbert_hf.cli import main
from nerbert_hf.conll2012 import read_conll2012
from nerbert_hf.iob import IOBFormatError
from nerbert_hf.labels import dataset_labels

FIXTURES = Path(__file__).parent / "fixtures"
ONTONOTES = FIXTURES / "ontonotes5"
WIKIANN = FIXTURES / "wikiann"
XINHUA = "data/english/annotations/nw/xinhua/00"


def decode(ds_split, i):
    names = ds_split.features["ner_tags"].feature.names
    row = ds_split[i]
    return row["tokens"], [names[t] for t in row["ner_tags"]]


# ---------------------------------------------------------------- CoNLL-2012 reader


def test_read_conll2012_split_folder():
    f = read_conll2012(ONTONOTES / "train")
    assert f.report.files == [f"{XINHUA}/chtb_0001.gold_conll", f"{XINHUA}/chtb_0002.gold_conll"]
    assert len(f.sentences) == 7 and f.report.sentences == 7 and f.report.tokens == 88
    # Hand-checked against chtb_0001.gold_conll lines 11-29 (column 11).
    tokens, tags = f.sentences[1]
    assert tokens == ["China", "'s", "exports", "to", "the", "European", "Union", "rose", "12", "percent", "in",
                      "the", "first", "two", "months", "of", "this", "year", "."]
    assert tags == ["B-GPE", "O", "O", "O", "B-ORG", "I-ORG", "I-ORG", "O", "B-PERCENT", "I-PERCENT", "O",
                    "B-DATE", "I-DATE", "I-DATE", "I-DATE", "I-DATE", "I-DATE", "I-DATE", "O"]
    # A one-word entity `(DATE)` right after a multi-word `(ORG*` ... `*)`.
    tokens, tags = f.sentences[5]
    assert tokens[:7] == ["The", "Shanghai", "Stock", "Exchange", "announced", "on", "Monday"]
    assert tags[:7] == ["B-ORG", "I-ORG", "I-ORG", "I-ORG", "O", "O", "B-DATE"]
    assert tags[15:] == ["B-DATE", "I-DATE", "O"]
    # Start lines are lines of each sentence's own file (both files begin with a dateline on line 2).
    assert f.lines == [2, 11, 31, 45, 2, 11, 30]
    r = f.report
    assert (r.separator, r.label_column, r.scheme, r.columns) == ("space", "ne-brackets", "iob2", 14)
    assert r.documents == 2 and r.entities == 17 and r.unannotated_files == []
    assert r.fixes() == [
        "named-entity brackets (column 11) of 2 `*gold_conll` file(s) (2 document part(s)) converted to IOB2"
    ]


def test_read_conll2012_single_file_and_varying_columns():
    one = read_conll2012(ONTONOTES / "train" / XINHUA / "chtb_0001.gold_conll")
    two = read_conll2012(ONTONOTES / "train" / XINHUA / "chtb_0002.gold_conll")
    # chtb_0001 has at most one predicate-argument column per sentence, chtb_0002 two.
    assert (one.report.columns, two.report.columns) == (13, 14)
    assert one.report.files == ["chtb_0001.gold_conll"]
    assert one.sentences[0] == (
        ["Xinhua", "News", "Agency", ",", "Beijing", ",", "March", "2nd"],
        ["B-ORG", "I-ORG", "I-ORG", "O", "B-GPE", "O", "B-DATE", "I-DATE"],
    )
    assert one.sentences[3][0][-5:] == ["8.6", "billion", "US", "dollars", "."]
    assert one.sentences[3][1][-5:] == ["B-MONEY", "I-MONEY", "I-MONEY", "I-MONEY", "O"]


def _line(i, word, ne, *args, doc="nw/xinhua/00/chtb_0099"):
    return "   ".join([doc, "0", str(i), word, "NNP", "*", "-", "-", "-", "-", ne, *(args or ("*",)), "-"])


def _document(*sentences, doc="nw/xinhua/00/chtb_0099"):
    out = [f"#begin document ({doc}); part 000"]
    for sentence in sentences:
        out += [_line(i, word, ne, doc=doc) for i, (word, ne) in enumerate(sentence)] + [""]
    return "\n".join(out + ["#end document", ""])


def test_read_conll2012_languages_and_unannotated_files(tmp_path):
    root = tmp_path / "train"
    files = {
        "data/english/annotations/nw/xinhua/00/chtb_0099.gold_conll": _document([("Paris", "(GPE)"), ("rose", "*")]),
        # The New Testament genre has no name annotation: `*` everywhere.
        "data/english/annotations/pt/nt/40/nt_4001.gold_conll": _document([("Jesus", "*"), ("wept", "*")]),
        "data/chinese/annotations/nw/xinhua/00/chtb_0099.gold_conll": _document([("北京", "(GPE)")]),
        "data/english/annotations/nw/xinhua/00/chtb_0099.gold_skel": "not read",
        "data/english/annotations/nw/xinhua/00/chtb_0099.auto_conll": "not read",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    f = read_conll2012(root)
    assert f.sentences == [(["Paris", "rose"], ["B-GPE", "O"])]
    assert f.report.unannotated_files == ["data/english/annotations/pt/nt/40/nt_4001.gold_conll"]
    assert any("1 file(s) without any named-entity annotation left out" in fix for fix in f.report.fixes())
    kept = read_conll2012(root, skip_unannotated=False)
    assert kept.sentences == [(["Paris", "rose"], ["B-GPE", "O"]), (["Jesus", "wept"], ["O", "O"])]
    # The Chinese folder alone: no data/english/ below it, but a language folder is named, so nothing is read.
    shutil.rmtree(root / "data" / "english")
    with pytest.raises(IOBFormatError, match="no data/english/ files"):
        read_conll2012(root)
    # Pointed at a language folder directly, its files are read.
    assert read_conll2012(root / "data" / "chinese").sentences == [(["北京"], ["B-GPE"])]


def test_read_conll2012_types(tmp_path):
    path = tmp_path / "x.gold_conll"
    path.write_text(_document([("Paris", "(GPE)"), ("Ltd", "(COMPANY)")]), encoding="utf-8")
    assert read_conll2012(path).sentences[0][1] == ["B-GPE", "B-COMPANY"]
    with pytest.raises(IOBFormatError, match="unknown named-entity type 'COMPANY'") as err:
        read_conll2012(path, types={"GPE", "ORG"})
    assert (err.value.path, err.value.line) == (str(path), 3)


GOOD = [("The", "(ORG*"), ("Shanghai", "*"), ("Exchange", "*)"), ("opened", "*"), ("Monday", "(DATE)")]


@pytest.mark.parametrize(
    "text, line, message",
    [
        # Unbalanced: an entity never closed (named at its opening line), a close with nothing open.
        (_document([("The", "(ORG*"), ("Exchange", "*"), ("opened", "*")]), 2,
         "unbalanced brackets: the (ORG* opened here"),
        (_document(GOOD, [("It", "*"), ("rose", "*)")]), 9,
         "unbalanced brackets: '*)' closes a named entity that was never opened"),
        (_document([("The", "(ORG*"), ("Exchange", "*))")]), 3, "unbalanced or nested brackets"),
        # Nested: a bracket opened inside an open entity, two opened in one cell.
        (_document([("The", "(ORG*"), ("Shanghai", "(GPE*)"), ("Exchange", "*)")]), 3,
         "nested named entity: '(GPE*)' opens inside the (ORG* opened at line 2"),
        (_document([("Shanghai", "(ORG(GPE*)"), ("Exchange", "*)")]), 2, "nested named entities"),
        # Not a bracket cell at all.
        (_document([("The", "ORG")]), 2, "invalid named-entity cell 'ORG'"),
        (_document([("The", "(ORG")]), 2, "invalid named-entity cell '(ORG'"),
    ],
)
def test_read_conll2012_bracket_errors(tmp_path, text, line, message):
    path = tmp_path / "bad.gold_conll"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(IOBFormatError) as err:
        read_conll2012(path)
    assert (err.value.path, err.value.line) == (str(path), line)
    assert message in str(err.value) and str(err.value).startswith(f"{path}:{line}: ")


def _mutate(tmp_path, rel, number, replace):
    """A copy of the fixture train folder with line ``number`` of ``rel`` rewritten."""
    root = tmp_path / "train"
    shutil.copytree(ONTONOTES / "train", root)
    path = root / rel
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[number - 1] = replace(lines[number - 1])
    path.write_text("\n".join(lines), encoding="utf-8")
    return root, path


def _ne_cell(value):
    """Rewrite column 11 (the named entities) of a line."""
    def replace(line):
        fields = line.split()
        fields[10] = value
        return "   ".join(fields)
    return replace


@pytest.mark.parametrize(
    "number, replace, line, message",
    [
        # Line 13 of chtb_0002 is `Stock`, inside `(ORG*` (line 11) ... `*)` (line 14): a nested `(GPE*)` there.
        (13, _ne_cell("(GPE*)"), 13, "nested named entity: '(GPE*)' opens inside the (ORG* opened at line 11"),
        # Line 27 (`month`) loses its `*)`: the DATE opened at line 26 runs to the end of the sentence.
        (27, _ne_cell("*"), 26,
         "unbalanced brackets: the (DATE* opened here is not closed before the sentence ends (line 28)"),
        # Line 14 (`Exchange`) loses its `*)`: the next bracket, `(DATE)` on line 17, opens inside the ORG.
        (14, _ne_cell("*"), 17, "nested named entity: '(DATE)' opens inside the (ORG* opened at line 11"),
        # Line 16 (`on`) closes an entity that is not open.
        (16, _ne_cell("*)"), 16, "unbalanced brackets: '*)' closes a named entity that was never opened"),
        # A line cut after the speaker column: no named-entity or coreference column.
        (15, lambda l: " ".join(l.split()[:10]), 15, "10 column(s); a CoNLL-2012 line has at least 12"),
        # A line with a predicate-argument column less than the rest of its sentence.
        (15, lambda l: " ".join(l.split()[:-2] + ["-"]), 15, "13 columns, but the sentence begun at line 11 has 14"),
    ],
)
def test_read_conll2012_errors_name_file_and_line(tmp_path, number, replace, line, message):
    rel = f"{XINHUA}/chtb_0002.gold_conll"
    root, path = _mutate(tmp_path, rel, number, replace)
    with pytest.raises(IOBFormatError) as err:
        read_conll2012(root)
    assert (err.value.path, err.value.line) == (str(path), line), str(err.value)
    assert message in str(err.value)
    # The same file read alone fails the same way.
    with pytest.raises(IOBFormatError, match=f"^{path}:{line}: "):
        read_conll2012(path)


@pytest.mark.parametrize(
    "text, line, message",
    [
        (_line(0, "Paris", "(GPE)") + "\n", 1, "word line outside a `#begin document`"),
        (_document([("Paris", "(GPE)")]).replace("#end document\n", ""), 1, "has no `#end document`"),
        (_document([("Paris", "(GPE)")]) + "#end document\n", 5, "`#end document` without a `#begin document`"),
        (_document([("Paris", "(GPE)")]).replace("#end document", "#begin document (x); part 001"), 4,
         "`#begin document` inside"),
        # Two sentences run together (the blank line between them lost): word numbers restart.
        (_document([("Paris", "(GPE)"), ("rose", "*")]).replace("\n\n", "\n" + _line(0, "It", "*") + "\n\n", 1), 4,
         "word number '0' where 2 was expected"),
        ("#begin document (x); part 000\n# a comment\n", 2, "only `#begin document` and `#end document`"),
        (b"#begin document (x); part 000\n\xff\n", 2, "undecodable byte(s) ff"),
    ],
)
def test_read_conll2012_structure_errors(tmp_path, text, line, message):
    path = tmp_path / "bad.gold_conll"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    with pytest.raises(IOBFormatError) as err:
        read_conll2012(path)
    assert (err.value.path, err.value.line) == (str(path), line)
    assert message in str(err.value)


def test_read_conll2012_empty_inputs(tmp_path):
    with pytest.raises(IOBFormatError, match="no \\*gold_conll files below this folder"):
        read_conll2012(tmp_path)
    with pytest.raises(IOBFormatError, match="no such file or folder"):
        read_conll2012(tmp_path / "missing")
    (tmp_path / "a.gold_conll").write_text(_document([("Jesus", "*")]), encoding="utf-8")
    with pytest.raises(IOBFormatError, match="no sentences with named-entity annotation"):
        read_conll2012(tmp_path)


# ---------------------------------------------------------------- PAN-X reader


def test_read_panx_strips_the_language_prefix(tmp_path):
    path = tmp_path / "train"
    path.write_text("en:See\tO\nen::\tO\nen:http://x.org\tO\nen:Kofi\tB-PER\nen:Annan\tI-PER\n\nen:Paris\tB-LOC\n",
                    encoding="utf-8")
    f = read_panx(path)
    assert f.sentences == [
        (["See", ":", "http://x.org", "Kofi", "Annan"], ["O", "O", "O", "B-PER", "I-PER"]),
        (["Paris"], ["B-LOC"]),
    ]
    assert (f.report.separator, f.report.label_column, f.report.scheme) == ("tab", "last", "iob2")


@pytest.mark.parametrize(
    "text, lang, line, message",
    [
        ("en:Kofi\tB-PER\n\nAnnan\tB-PER\n", None, 3, "token 'Annan' lacks the language prefix 'en:'"),
        ("en:Kofi\tB-PER\nde:Annan\tI-PER\n", None, 2, "lacks the language prefix 'en:'"),
        ("http://x.org\tO\n", "en", 1, "token 'http://x.org' lacks the language prefix 'en:'"),
        ("en:a\tO\nen:\tO\n", "en", 2, "empty token after the language prefix"),
    ],
)
def test_read_panx_errors(tmp_path, text, lang, line, message):
    path = tmp_path / "dev"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(IOBFormatError) as err:
        read_panx(path, lang=lang)
    assert (err.value.path, err.value.line) == (str(path), line)
    assert message in str(err.value)


def test_wikiann_reader_checks_the_folder_language(tmp_path):
    (tmp_path / "de").mkdir()
    (tmp_path / "de" / "train").write_text("en:Berlin\tB-LOC\n", encoding="utf-8")
    with pytest.raises(IOBFormatError, match="lacks the language prefix 'de:'"):
        DATASETS["wikiann"].reader(tmp_path / "de" / "train")


# ---------------------------------------------------------------- specs and builds


def test_specs():
    onto, wiki = DATASETS["ontonotes5"], DATASETS["wikiann"]
    assert onto.base_url is None and not onto.urls and onto.local_only_reason
    assert wiki.base_url is None and not wiki.urls and wiki.local_only_reason
    assert onto.files == {"default": {"train": "train", "validation": "development", "test": "test"}}
    assert wiki.configs[0] == "en" and len(wiki.configs) == 176 == len(set(wiki.configs))
    assert set(PANX_XTREME_LANGUAGES) <= set(PANX_LANGUAGES) and len(PANX_XTREME_LANGUAGES) == 40
    assert wiki.files["de"] == {"train": "de/train", "validation": "de/dev", "test": "de/test"}
    assert wiki.label_key == "wikiann" and onto.label_key == "ontonotes5"
    assert onto.card.license == "other" and "Weischedel" in onto.card.citation and "Pradhan" in onto.card.citation
    assert "Pan, Xiaoman" in wiki.card.citation and "Rahimi" in wiki.card.citation


def test_build_ontonotes5(tmp_path):
    out = build_dataset(DATASETS["ontonotes5"], tmp_path / "out", source=ONTONOTES)
    ds = load_dataset(str(out))
    assert {s: ds[s].num_rows for s in ds} == {"train": 7, "validation": 4, "test": 4}
    assert ds["train"].features["ner_tags"].feature.names == dataset_labels("ontonotes5")
    assert decode(ds["train"], 0) == (
        ["Xinhua", "News", "Agency", ",", "Beijing", ",", "March", "2nd"],
        ["B-ORG", "I-ORG", "I-ORG", "O", "B-GPE", "O", "B-DATE", "I-DATE"],
    )
    money = ["B-MONEY", "I-MONEY", "I-MONEY", "I-MONEY", "I-MONEY"]
    assert decode(ds["validation"], 1)[1][5:13] == [*money, "O", "O", "B-DATE"]
    assert decode(ds["test"], 3) == (
        ["It", "is", "the", "first", "such", "agreement", "between", "the", "two", "countries", "since", "1965", "."],
        ["O", "O", "O", "B-ORDINAL", "O", "O", "O", "O", "B-CARDINAL", "O", "O", "B-DATE", "O"],
    )
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "license: other" in card and "LDC2013T19" in card
    assert "named-entity brackets (column 11) of 2 `*gold_conll` file(s)" in card


def test_build_wikiann(tmp_path):
    out = build_dataset(DATASETS["wikiann"], tmp_path / "out", source=WIKIANN, configs=["en", "de"])
    en = load_dataset(str(out), "en")
    assert {s: en[s].num_rows for s in en} == {"train": 8, "validation": 3, "test": 3}
    assert en["train"].features["ner_tags"].feature.names == dataset_labels("wikiann")
    assert decode(en["train"], 0) == (
        ["It", "is", "located", "in", "the", "Dholpur", "district", "of", "Rajasthan", ",", "India", "."],
        ["O", "O", "O", "O", "O", "B-LOC", "I-LOC", "O", "B-LOC", "O", "B-LOC", "O"],
    )
    assert decode(en["train"], 3)[0][:2] == ["Members", ":"]  # `en::` is the token ':'
    assert decode(en["train"], 6)[0][3] == "3:2"  # only the first prefix goes
    assert decode(en["test"], 2) == (
        ["She", "signed", "with", "Atlantic", "Records", "in", "1985", "."],
        ["O", "O", "O", "B-ORG", "I-ORG", "O", "O", "O"],
    )
    de = load_dataset(str(out), "de")
    assert {s: de[s].num_rows for s in de} == {"train": 3, "validation": 2, "test": 2}
    assert de["train"].features["ner_tags"].feature.names == dataset_labels("wikiann")
    assert decode(de["validation"], 0) == (["Der", "Rhein", "fließt", "durch", "Köln", "."],
                                           ["O", "B-LOC", "O", "O", "B-LOC", "O"])
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "language:\n- multilingual" in card and "Rahimi" in card


def test_build_wikiann_all_configs_names_the_layout(tmp_path):
    with pytest.raises(Exception, match=r"\{lang\}/train, \{lang\}/dev and \{lang\}/test for each of 176 languages"):
        build_dataset(DATASETS["wikiann"], tmp_path / "out", source=WIKIANN)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["ontonotes5", "wikiann"])
def test_cli_without_source_fails_at_once(tmp_path, capsys, name):
    out = tmp_path / "x"
    assert main(["data", "build", name, "--output", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{name} has no public download" in err and "--source" in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_cli_process_without_source(tmp_path):
    out = tmp_path / "x"
    proc = subprocess.run(
        [sys.executable, "-m", "nerbert_hf.cli", "data", "build", "ontonotes5", "--output", str(out)],
        check=False, capture_output=True, text=True,
    )
    assert proc.returncode != 0 and "--source" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_cli_builds_from_source(tmp_path):
    out = tmp_path / "o"
    assert main(["data", "build", "ontonotes5", "--source", str(ONTONOTES), "--output", str(out)]) == 0
    assert load_dataset(str(out))["test"].num_rows == 4
    out = tmp_path / "w"
    assert main(["data", "build", "wikiann", "--config", "de", "--source", str(WIKIANN), "--output", str(out)]) == 0
    assert load_dataset(str(out), "de")["train"].num_rows == 3


def test_data_list_marks_local_only(capsys):
    assert main(["data", "list"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert lines["ontonotes5"].endswith("[--source only]") and lines["wikiann"].endswith("[--source only]")
