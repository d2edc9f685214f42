"""The IOB reader on small files written here: every layout, every quirk, every error."""

import pytest

from nerbert_hf.iob import IOBFormatError, detect_scheme, read_iob
from nerbert_hf.labels import is_valid_iob2, to_iob2


def write(tmp_path, text, name="train.txt", mode="w"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


def test_tab_token_first_iob2(tmp_path):
    f = read_iob(write(tmp_path, "EU\tB-ORG\nrejects\tO\n\nPeter\tB-PER\nBlackburn\tI-PER\n"))
    assert f.sentences == [(["EU", "rejects"], ["B-ORG", "O"]), (["Peter", "Blackburn"], ["B-PER", "I-PER"])]
    assert f.lines == [1, 4]
    r = f.report
    assert (r.separator, r.label_column, r.scheme, r.sentences, r.tokens) == ("tab", "last", "iob2", 2, 4)
    assert r.fixes() == []


def test_conll2003_columns_iob1_docstart(tmp_path):
    text = (
        "-DOCSTART- -X- -X- O\n\nEU NNP B-NP I-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP I-MISC\n\n"
        "Spanish JJ I-NP I-MISC\nFrench JJ I-NP B-MISC\nfarm NN I-NP O\n"
    )
    f = read_iob(write(tmp_path, text))
    assert f.report.scheme == "iob1" and f.report.columns == 4 and f.report.separator == "space"
    assert f.sentences[0] == (["EU", "rejects", "German"], ["B-ORG", "O", "B-MISC"])
    # IOB1's B- splits two adjacent same-type entities: it must stay a new entity.
    assert f.sentences[1][1] == ["B-MISC", "B-MISC", "O"]
    assert f.report.orphans_repaired == 0  # IOB1 starts are conversions, not repairs
    assert f.report.skipped_lines["-DOCSTART-"] == 1
    assert "tags converted from IOB1 to IOB2" in f.report.fixes()


def test_label_first_crlf(tmp_path):
    f = read_iob(write(tmp_path, "B-Actor\tsteve\r\nI-Actor\tmcqueen\r\nO\tprovided\r\n\r\nO\tx\r\n"))
    assert f.report.label_column == "first" and f.report.crlf
    assert f.sentences == [(["steve", "mcqueen", "provided"], ["B-Actor", "I-Actor", "O"]), (["x"], ["O"])]


def test_label_column_override(tmp_path):
    # Both columns look like tags; the override decides.
    path = write(tmp_path, "O\tB-X\nO\tI-X\n")
    assert read_iob(path).sentences[0] == (["O", "O"], ["B-X", "I-X"])
    assert read_iob(path, label_column="first").sentences[0] == (["B-X", "I-X"], ["O", "O"])


def test_bioes_and_bilou(tmp_path):
    f = read_iob(write(tmp_path, "New\tB-LOC\nYork\tE-LOC\nin\tO\nParis\tS-LOC\nA\tB-ORG\nB\tI-ORG\nC\tE-ORG\n"))
    assert f.report.scheme == "bioes"
    assert f.sentences[0][1] == ["B-LOC", "I-LOC", "O", "B-LOC", "B-ORG", "I-ORG", "I-ORG"]
    g = read_iob(write(tmp_path, "a\tU-PER\nb\tB-PER\nc\tL-PER\n", name="b.txt"), scheme="bilou")
    assert g.sentences[0][1] == ["B-PER", "B-PER", "I-PER"]


def test_orphan_i_repaired_and_reported(tmp_path):
    text = "IMGID:1\nRT\tO\nObama\tI-PER\nsays\tO\n\nIMGID:2\nUN\tB-ORG\nNY\tI-LOC\n"
    f = read_iob(write(tmp_path, text))
    assert f.report.scheme == "iob2"
    assert f.sentences == [(["RT", "Obama", "says"], ["O", "B-PER", "O"]), (["UN", "NY"], ["B-ORG", "B-LOC"])]
    assert f.report.orphans_repaired == 2 and f.report.orphan_lines == [3, 8]
    assert f.report.skipped_lines["IMGID:"] == 2
    assert any("2 orphan I- tags repaired" in fix for fix in f.report.fixes())


def test_whitespace_only_lines_break_sentences(tmp_path):
    f = read_iob(write(tmp_path, "a\tO\n\t\nb\tO\n   \nc\tO\n"))
    assert [s[0] for s in f.sentences] == [["a"], ["b"], ["c"]]


def test_bom_and_feff_removed(tmp_path):
    f = read_iob(write(tmp_path, "\ufeffHi\tO\nDubbz\ufeff\tB-person\n"))
    assert f.sentences[0][0] == ["Hi", "Dubbz"]
    assert f.report.bom_removed and f.report.feff_removed == 1


def test_tokens_kept_exactly(tmp_path):
    # Tab-separated tokens may hold spaces and odd characters; only U+FEFF goes.
    f = read_iob(write(tmp_path, "a b\tO\n\u2028x\tO\n&amp;\tO\n"))
    assert f.sentences[0][0] == ["a b", "\u2028x", "&amp;"]


@pytest.mark.parametrize(
    "text, line, fragment",
    [
        ("a\tO\nb\tO\textra\n", 2, "3 tab-separated column(s)"),
        ("a O\nb\n", 2, "1 space-separated column(s)"),
        ("a\tO\n\tB-X\n", 2, "empty token"),
        ("\ufeff\tO\n", 1, "empty token"),
        ("a\tO\nb\tX-PER\n", 2, "invalid tag 'X-PER'"),
        ("a\tO\nb\tB-\n", 2, "invalid tag 'B-'"),
        ("a\tO\nb\tB-corporation,B-group\n", 2, "invalid tag"),
        ("a\tperson\n", 1, "invalid tag"),
        ("a\n", 1, "one column only"),
    ],
)
def test_malformed_input_names_file_and_line(tmp_path, text, line, fragment):
    path = write(tmp_path, text)
    with pytest.raises(IOBFormatError) as info:
        read_iob(path)
    assert info.value.line == line and info.value.path == str(path)
    assert fragment in str(info.value)
    assert str(info.value).startswith(f"{path}:{line}: ")


def test_undecodable_byte_names_line(tmp_path):
    path = write(tmp_path, b"a\tO\nb\tO\n\xff\xfe\tO\n")
    with pytest.raises(IOBFormatError, match=r":3: undecodable byte\(s\) ff") as info:
        read_iob(path)
    assert info.value.line == 3


def test_scheme_override_rejects_bioes_tags_as_iob2(tmp_path):
    with pytest.raises(IOBFormatError, match=r":2: tag 'E-LOC' is not valid in the IOB2 scheme"):
        read_iob(write(tmp_path, "a\tB-LOC\nb\tE-LOC\n"), scheme="iob2")


def test_empty_file_and_missing_file(tmp_path):
    with pytest.raises(IOBFormatError, match="no token lines"):
        read_iob(write(tmp_path, "\n\n-DOCSTART-\tO\n"))
    with pytest.raises(IOBFormatError, match="cannot read file"):
        read_iob(tmp_path / "nope.txt")


def test_bad_option_values(tmp_path):
    path = write(tmp_path, "a\tO\n")
    with pytest.raises(ValueError, match="separator"):
        read_iob(path, separator="comma")
    with pytest.raises(ValueError, match="scheme"):
        read_iob(path, scheme="bio")


def test_detect_scheme():
    assert detect_scheme([["O", "O"]]) == "iob2"
    assert detect_scheme([["I-A", "I-A", "O", "I-B"]]) == "iob1"
    assert detect_scheme([["I-A", "B-A", "O"]]) == "iob1"
    assert detect_scheme([["B-A", "I-A", "O", "I-B"]]) == "iob2"  # IOB2 with an orphan
    assert detect_scheme([["S-A"]]) == "bioes"


def test_to_iob2_outputs_valid_sequences():
    tags, repaired = to_iob2(["I-A", "I-A", "I-B", "O", "B-A", "I-A"], "iob2")
    assert tags == ["B-A", "I-A", "B-B", "O", "B-A", "I-A"] and repaired == [0, 2]
    assert is_valid_iob2(tags)
    tags, repaired = to_iob2(["S-A", "I-A"], "bioes")
    assert tags == ["B-A", "B-A"] and repaired == [1]
    assert not is_valid_iob2(["O", "I-A"])
