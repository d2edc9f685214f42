"""Read the named entities of CoNLL-2012 ``*_conll`` files (OntoNotes 5.0) as IOB2 sentences.

The CoNLL-2012 shared-task release of OntoNotes 5.0 (and its v12 successor,
``conll-formatted-ontonotes-5.0``) stores each document as a ``*gold_conll`` file of
whitespace-aligned columns::

    #begin document (nw/xinhua/00/chtb_0001); part 000
    nw/xinhua/00/chtb_0001  0  0  Xinhua  NNP  (TOP(S(NP*  -  -  -  -  (ORG)  (ARG0*  -
    ...
    #end document

Columns: document id, part number, word number, word, POS, parse bit, predicate
lemma, frameset id, word sense, speaker, **named entities** (column 11), one column
per predicate's arguments (their number varies from sentence to sentence), and
coreference last. Named entities are brackets: ``(PERSON*`` opens a span, ``*)``
closes it, ``(DATE)`` is a one-word span, ``*`` is any other word. Blank lines end
sentences. :func:`read_conll2012` turns the brackets into IOB2 tags, keeps the word
column exactly, and raises :class:`~nerbert_hf.iob.IOBFormatError` naming the file and
line for anything it cannot read (unbalanced or nested brackets, short lines, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from .iob import IOBFile, IOBFormatError, IOBReport, _decode

NE_COLUMN = 10  # 0-based: column 11 of the CoNLL-2012 format
MIN_COLUMNS = 12  # ten fixed columns, the named entities and the coreference column
LANGUAGES = ("english", "chinese", "arabic")
_BEGIN = "#begin document"
_END = "#end document"
_BOM = "\ufeff"
# Any number of opening brackets, an optional '*', any number of closing brackets.
_CELL_RE = re.compile(r"((?:\([^()*\s]+)*)(\*?)(\)*)")
_OPEN_RE = re.compile(r"\(([^()*\s]+)")


@dataclass
class CoNLL2012Report(IOBReport):
    """An :class:`IOBReport` that also says which files were read and which were left out."""

    files: list[str] = field(default_factory=list)
    documents: int = 0
    unannotated_files: list[str] = field(default_factory=list)
    entities: int = 0

    def fixes(self) -> list[str]:
        out = [
            (
                f"named-entity brackets (column 11) of {len(self.files)} `*gold_conll` file(s) "
                f"({self.documents} document part(s)) converted to IOB2"
            )
        ]
        if self.unannotated_files:
            shown = ", ".join(f"`{f}`" for f in self.unannotated_files[:3])
            more = ", ..." if len(self.unannotated_files) > 3 else ""
            out.append(
                f"{len(self.unannotated_files)} file(s) without any named-entity annotation left out "
                f"(their words are not tagged, e.g. the New Testament `pt/` genre): {shown}{more}"
            )
        return out + super().fixes()


def conll2012_files(path: str | Path) -> list[Path]:
    """The ``*gold_conll`` files a path names: the file itself, or all below a folder.

    Files are sorted by their path relative to ``path``. Where some relative path has a
    ``data/<language>`` part (the release's ``data/english/``, ``data/chinese/``,
    ``data/arabic/``), only the ``data/english/`` files are kept.
    """
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise IOBFormatError(path, None, "no such file or folder")
    found = sorted((p for p in path.rglob("*gold_conll") if p.is_file()), key=lambda p: p.relative_to(path).as_posix())
    if not found:
        raise IOBFormatError(path, None, "no *gold_conll files below this folder")

    def language(p: Path) -> str | None:
        parts = p.relative_to(path).parts
        for a, b in pairwise(parts):
            if a == "data" and b in LANGUAGES:
                return b
        return None

    languages = {language(p) for p in found} - {None}
    if languages:
        english = [p for p in found if language(p) == "english"]
        if not english:
            raise IOBFormatError(
                path, None,
                f"no data/english/ files below this folder (found data/{', data/'.join(sorted(languages))}/ only)",
            )
        return english
    return found


def _sentence_tags(path: Path, rows: list[tuple[int, list[str]]], types: frozenset[str] | None) -> list[str]:
    """IOB2 tags of one sentence from its named-entity cells."""
    tags: list[str] = []
    current: str | None = None  # type of the open entity
    opened_at = 0
    for number, fields in rows:
        cell = fields[NE_COLUMN]
        match = _CELL_RE.fullmatch(cell)
        if match is None or not (match.group(2) or (match.group(1) and match.group(3))):
            raise IOBFormatError(
                path, number,
                f"invalid named-entity cell {cell!r} in column 11: expected '*', '(TYPE*', '*)' or '(TYPE)'",
            )
        opens = _OPEN_RE.findall(match.group(1))
        closes = len(match.group(3))
        if len(opens) > 1:
            raise IOBFormatError(path, number, f"nested named entities: {cell!r} opens {len(opens)} at once")
        if opens and current is not None:
            raise IOBFormatError(
                path, number,
                f"nested named entity: {cell!r} opens inside the ({current}* opened at line {opened_at}",
            )
        if closes > 1:
            raise IOBFormatError(
                path, number, f"unbalanced or nested brackets: {cell!r} closes {closes} named entities at once"
            )
        if opens:
            etype = opens[0]
            if types is not None and etype not in types:
                raise IOBFormatError(
                    path, number, f"unknown named-entity type {etype!r} (expected one of {', '.join(sorted(types))})"
                )
            tags.append(f"B-{etype}")
            current, opened_at = (None, 0) if closes else (etype, number)
        elif current is not None:
            tags.append(f"I-{current}")
            if closes:
                current = None
        else:
            if closes:
                raise IOBFormatError(
                    path, number, f"unbalanced brackets: {cell!r} closes a named entity that was never opened"
                )
            tags.append("O")
    if current is not None:
        raise IOBFormatError(
            path, opened_at,
            f"unbalanced brackets: the ({current}* opened here is not closed before the sentence ends "
            f"(line {rows[-1][0]})",
        )
    return tags


def _read_one(
    path: Path, encoding: str, types: frozenset[str] | None
) -> tuple[list[tuple[list[str], list[str]]], list[int], dict]:
    """Sentences, start lines and counts of one ``*_conll`` file."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise IOBFormatError(path, None, f"cannot read file: {err.strerror or err}") from None
    text = _decode(path, raw, encoding)
    stats = {"bom": text.startswith(_BOM), "crlf": False, "documents": 0, "columns": 0, "entities": 0}
    if stats["bom"]:
        text = text[1:]
    lines = text.split("\n")
    if any(line.endswith("\r") for line in lines):
        stats["crlf"] = True
        lines = [line.removesuffix("\r") for line in lines]

    sentences: list[tuple[list[str], list[str]]] = []
    starts: list[int] = []
    rows: list[tuple[int, list[str]]] = []
    begun_at = None  # line of the open '#begin document', None outside documents

    def flush() -> None:
        if rows:
            tags = _sentence_tags(path, rows, types)
            sentences.append(([f[3] for _, f in rows], tags))
            starts.append(rows[0][0])
            stats["entities"] += sum(1 for t in tags if t.startswith("B-"))
            rows.clear()

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            flush()
            continue
        if line.startswith("#"):
            flush()
            if line.startswith(_BEGIN):
                if begun_at is not None:
                    raise IOBFormatError(
                        path, number, f"`#begin document` inside the document begun at line {begun_at} "
                        "(missing `#end document`?)",
                    )
                begun_at = number
                stats["documents"] += 1
            elif line.startswith(_END):
                if begun_at is None:
                    raise IOBFormatError(path, number, "`#end document` without a `#begin document`")
                begun_at = None
            else:
                raise IOBFormatError(
                    path, number, f"unexpected line {line[:40]!r}: only `#begin document` and `#end document` "
                    "lines start with '#'",
                )
            continue
        if begun_at is None:
            raise IOBFormatError(path, number, "word line outside a `#begin document` ... `#end document` block")
        fields = line.split()
        if len(fields) < MIN_COLUMNS:
            raise IOBFormatError(
                path, number,
                f"{len(fields)} column(s); a CoNLL-2012 line has at least {MIN_COLUMNS} (document id, part, "
                "word number, word, POS, parse bit, lemma, frameset, sense, speaker, named entities, ..., coreference)",
            )
        if rows and len(fields) != len(rows[0][1]):
            raise IOBFormatError(
                path, number,
                f"{len(fields)} columns, but the sentence begun at line {rows[0][0]} has {len(rows[0][1])}",
            )
        if fields[2] != str(len(rows)):
            raise IOBFormatError(
                path, number,
                f"word number {fields[2]!r} where {len(rows)} was expected (a missing blank line between sentences?)",
            )
        stats["columns"] = max(stats["columns"], len(fields))
        rows.append((number, fields))
    flush()
    if begun_at is not None:
        raise IOBFormatError(path, begun_at, "the document begun here has no `#end document` (truncated file?)")
    return sentences, starts, stats


def read_conll2012(
    path: str | Path,
    *,
    types=None,
    skip_unannotated: bool = True,
    encoding: str = "utf-8",
) -> IOBFile:
    """Read the named entities of one ``*gold_conll`` file, or of every one below a folder.

    A folder is searched recursively for ``*gold_conll`` files (``.gold_conll`` in the v12
    release, ``.v4_gold_conll`` in v4), read in sorted order; where the tree has
    ``data/<language>/`` parts (a split folder of the release, e.g. ``train/``), only
    ``data/english/`` is read. ``types``: the allowed entity types (others are an
    error), or None for any. ``skip_unannotated``: leave out files whose named-entity
    column has no bracket at all: OntoNotes documents without name annotation (the
    whole ``pt/`` genre) carry ``*`` everywhere, which would otherwise read as
    untagged text. The sentences' start lines (``IOBFile.lines``) are lines of the
    file each sentence comes from; ``report.files`` lists the files read.
    """
    path = Path(path)
    allowed = frozenset(types) if types is not None else None
    files = conll2012_files(path)
    report = CoNLL2012Report(str(path), "space", 0, "ne-brackets", "iob2")
    sentences: list[tuple[list[str], list[str]]] = []
    starts: list[int] = []
    base = path if path.is_dir() else path.parent
    for file in files:
        got, lines, stats = _read_one(file, encoding, allowed)
        name = file.relative_to(base).as_posix()
        if skip_unannotated and stats["entities"] == 0:
            report.unannotated_files.append(name)
            continue
        report.files.append(name)
        report.documents += stats["documents"]
        report.entities += stats["entities"]
        report.columns = max(report.columns, stats["columns"])
        report.bom_removed = report.bom_removed or stats["bom"]
        report.crlf = report.crlf or stats["crlf"]
        sentences += got
        starts += lines
    if not sentences:
        why = " with named-entity annotation" if skip_unannotated and report.unannotated_files else ""
        raise IOBFormatError(path, None, f"no sentences{why} found in {len(files)} *gold_conll file(s)")
    report.sentences = len(sentences)
    report.tokens = sum(len(tokens) for tokens, _ in sentences)
    return IOBFile(sentences, starts, report)
