"""Read CoNLL-style IOB files of every layout in the wild into IOB2 sentences.

One reader serves all datasets: tab- or space-separated columns, the label in the
first or the last column, extra middle columns, IOB1 / IOB2 / BIOES / BILOU tags,
``-DOCSTART-`` and ``IMGID:`` lines, CRLF, byte-order marks. Anything it cannot
read raises :class:`IOBFormatError` naming the file and line.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .errors import FileError
from .labels import SCHEMES, split_tag, to_iob2

SEPARATORS = {"tab": "\t", "space": " "}
LABEL_COLUMNS = ("first", "last")
# A type is any run of characters without whitespace or commas: commas mark the
# multi-label cells some files carry (WNUT-17's unscored test file), which no
# single-label tagger can learn from.
_TAG_RE = re.compile(r"^(?:O|[BIESLU]-[^\s,]+)$")
_SKIPPED_PREFIXES = ("-DOCSTART-", "IMGID:")
_BOM = "\ufeff"


class IOBFormatError(FileError):
    """A malformed IOB file; ``path`` and ``line`` (1-based, or None) say where."""


@dataclass
class IOBReport:
    """What the reader found and fixed in one file (it goes into dataset cards)."""

    path: str
    separator: str
    columns: int
    label_column: str
    scheme: str
    sentences: int = 0
    tokens: int = 0
    orphans_repaired: int = 0
    orphan_lines: list[int] = field(default_factory=list)
    bom_removed: bool = False
    feff_removed: int = 0
    skipped_lines: Counter = field(default_factory=Counter)
    crlf: bool = False
    blank_token_lines: list[int] = field(default_factory=list)

    def fixes(self) -> list[str]:
        """Human-readable list of the changes made to the source, empty if none."""
        out = []
        if self.scheme != "iob2":
            out.append(f"tags converted from {self.scheme.upper()} to IOB2")
        if self.orphans_repaired:
            shown = ", ".join(map(str, self.orphan_lines[:5]))
            more = ", ..." if self.orphans_repaired > 5 else ""
            out.append(f"{self.orphans_repaired} orphan I- tags repaired to B- (lines {shown}{more})")
        if self.bom_removed:
            out.append("byte-order mark at file start removed")
        if self.feff_removed:
            out.append(f"{self.feff_removed} U+FEFF characters removed from tokens")
        if self.crlf:
            out.append("CRLF line endings read as LF")
        if self.blank_token_lines:
            shown = ", ".join(map(str, self.blank_token_lines[:5]))
            more = ", ..." if len(self.blank_token_lines) > 5 else ""
            out.append(f"{len(self.blank_token_lines)} empty or space-only tokens kept as in the source "
                       f"(lines {shown}{more})")
        for prefix, count in sorted(self.skipped_lines.items()):
            out.append(f"{count} `{prefix}` lines skipped")
        return out


@dataclass
class IOBFile:
    """Sentences of one file as (tokens, IOB2 tags) pairs, the line each starts at, and the report."""

    sentences: list[tuple[list[str], list[str]]]
    lines: list[int]
    report: IOBReport


def _decode(path: Path, raw: bytes, encoding: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        bad = raw[err.start : err.end].hex(" ")
        raise IOBFormatError(path, line, f"undecodable byte(s) {bad} (not valid {encoding})") from None


def _split_fields(line: str, separator: str) -> list[str]:
    if separator == "\t":
        return line.split("\t")
    return [f for f in line.split(" ") if f]


def _detect_separator(path: Path, lines: list[str]) -> str:
    for line in lines:
        if line.strip() and not line.startswith(_SKIPPED_PREFIXES):
            return "\t" if "\t" in line else " "
    raise IOBFormatError(path, None, "no token lines found (empty file?)")


def _detect_label_column(path: Path, rows: list[tuple[int, list[str]]]) -> str:
    last_ok = sum(1 for _, f in rows if _TAG_RE.match(f[-1]))
    first_ok = sum(1 for _, f in rows if _TAG_RE.match(f[0]))
    if last_ok == len(rows):
        return "last"
    if first_ok == len(rows):
        return "first"
    return "first" if first_ok > last_ok else "last"


def detect_scheme(sentences: list[list[str]]) -> str:
    """Guess the tagging scheme of raw tag sequences: 'bioes', 'iob1' or 'iob2'.

    IOB1 is told from IOB2 by its use of ``B-``: only to split two adjacent entities
    of one type, while entities otherwise start with ``I-``.
    """
    prefixes = {t[0] for tags in sentences for t in tags if t != "O"}
    if prefixes & set("ESLU"):
        return "bioes"
    if not prefixes:
        return "iob2"
    starts_with_i = False
    for tags in sentences:
        prev = "O"
        for tag in tags:
            if tag != "O":
                prefix, etype = split_tag(tag)
                continues = prev != "O" and split_tag(prev)[1] == etype
                if prefix == "B" and not continues:
                    return "iob2"
                if prefix == "I" and not continues:
                    starts_with_i = True
            prev = tag
    return "iob1" if starts_with_i else "iob2"


def read_iob(
    path: str | Path,
    *,
    separator: str = "auto",
    label_column: str = "auto",
    scheme: str = "auto",
    encoding: str = "utf-8",
    blank_tokens: str = "error",
) -> IOBFile:
    """Read one IOB file; every option is detected unless given explicitly.

    ``separator``: 'tab', 'space' or 'auto'; ``label_column``: 'first' (MIT corpora),
    'last' or 'auto'; ``scheme``: 'iob1', 'iob2', 'bioes', 'bilou' or 'auto'.
    Tokens are kept exactly as in the file except that U+FEFF is removed. An empty or
    space-only token is an error unless ``blank_tokens='keep'`` (for sources that
    are known to carry them, such as the Broad Twitter Corpus); kept ones are reported.
    """
    path = Path(path)
    if separator not in ("auto", *SEPARATORS):
        raise ValueError(f"separator must be 'auto', 'tab' or 'space', not {separator!r}")
    if label_column not in ("auto", *LABEL_COLUMNS):
        raise ValueError(f"label_column must be 'auto', 'first' or 'last', not {label_column!r}")
    if blank_tokens not in ("error", "keep"):
        raise ValueError(f"blank_tokens must be 'error' or 'keep', not {blank_tokens!r}")
    if scheme not in ("auto", *SCHEMES):
        raise ValueError(f"scheme must be 'auto' or one of {', '.join(SCHEMES)}, not {scheme!r}")
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise IOBFormatError(path, None, f"cannot read file: {err.strerror or err}") from None
    text = _decode(path, raw, encoding)
    bom = text.startswith(_BOM)
    if bom:
        text = text[1:]
    # Not str.splitlines(): it also breaks on U+2028, \x1c and others that can sit inside tokens.
    lines = text.split("\n")
    crlf = any(line.endswith("\r") for line in lines)
    if crlf:
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]

    sep = SEPARATORS[separator] if separator != "auto" else _detect_separator(path, lines)
    report = IOBReport(str(path), "tab" if sep == "\t" else "space", 0, "", "", bom_removed=bom, crlf=crlf)

    # First pass: split fields and group into sentences of (line number, fields).
    groups: list[list[tuple[int, list[str]]]] = []
    current: list[tuple[int, list[str]]] = []
    n_columns = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            if current:
                groups.append(current)
                current = []
            continue
        if line.startswith(_SKIPPED_PREFIXES):
            report.skipped_lines[next(p for p in _SKIPPED_PREFIXES if line.startswith(p))] += 1
            if current:
                groups.append(current)
                current = []
            continue
        fields = _split_fields(line, sep)
        if n_columns is None:
            n_columns = len(fields)
            if n_columns < 2:
                raise IOBFormatError(path, number, f"one column only ({report.separator}-separated): no label")
        elif len(fields) != n_columns:
            raise IOBFormatError(
                path, number,
                f"{len(fields)} {report.separator}-separated column(s), but the file's lines have {n_columns}",
            )
        current.append((number, fields))
    if current:
        groups.append(current)
    if not groups:
        raise IOBFormatError(path, None, "no token lines found (empty file?)")
    report.columns = n_columns

    rows = [row for group in groups for row in group]
    column = label_column if label_column != "auto" else _detect_label_column(path, rows)
    report.label_column = column
    label_at, token_at = (0, -1) if column == "first" else (-1, 0)

    sentences_raw: list[tuple[list[str], list[str], list[int]]] = []
    for group in groups:
        tokens, tags, numbers = [], [], []
        for number, fields in group:
            tag = fields[label_at].strip(" ")
            if not _TAG_RE.match(tag):
                raise IOBFormatError(
                    path, number,
                    f"invalid tag {tag!r} in the {column} column: expected 'O' or a B-/I-/E-/S-/L-/U- prefix plus a type",
                )
            token = fields[token_at]
            if _BOM in token:
                report.feff_removed += token.count(_BOM)
                token = token.replace(_BOM, "")
            # Only ASCII blanks count: a lone no-break space is a real (if odd) source token.
            if not token.strip(" \t"):
                if blank_tokens == "error":
                    raise IOBFormatError(path, number, "empty token")
                report.blank_token_lines.append(number)
            tokens.append(token)
            tags.append(tag)
            numbers.append(number)
        sentences_raw.append((tokens, tags, numbers))

    found = scheme if scheme != "auto" else detect_scheme([t for _, t, _ in sentences_raw])
    report.scheme = "bioes" if found == "bilou" else found
    sentences, starts = [], []
    for tokens, tags, numbers in sentences_raw:
        try:
            iob2, repaired = to_iob2(tags, found)
        except ValueError as err:
            bad = next(i for i, t in enumerate(tags) if t[0] not in "OBI")
            raise IOBFormatError(path, numbers[bad], str(err)) from None
        if repaired:
            report.orphans_repaired += len(repaired)
            report.orphan_lines.extend(numbers[i] for i in repaired)
        sentences.append((tokens, iob2))
        starts.append(numbers[0])
        report.tokens += len(tokens)
    report.sentences = len(sentences)
    return IOBFile(sentences, starts, report)

