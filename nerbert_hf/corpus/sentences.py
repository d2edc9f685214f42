"""Paragraphs with anchor spans -> sentences of tokens with IOB2 tags (NER-BERT §2.2).

Sentences come from NLTK's punkt, through :class:`PunktSplitter`, which gives
punkt's spans without its per-token objects; words from a Treebank-like regular
expression whose tokens are exact substrings, so anchor character spans map onto
tokens (NLTK's own word tokenizer gives the same splits on most text but is about
ten times slower, and the word pass dominates the build).
"""

from __future__ import annotations

import re
import shutil
import string
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple

from ..errors import NerbertError

ENTITY = "ENTITY"

_NOT_ALTERNATIVES = (
    r"[^\W_]+?(?=n't\b)",  # do|n't, ca|n't
    r"n't\b",
)
_TOKEN_ALTERNATIVES = (
    r"(?:[^\W\d_]\.){2,}",  # initialisms: U.S.A.
    r"\d+(?:[.,:/]\d+)*(?!\w)",  # numbers, times, dates: 3.5, 1,000, 10:30 (not 44th)
    *_NOT_ALTERNATIVES,
    r"'(?:s|re|ve|ll|d|m)\b",  # clitics: 's 're 've 'll 'd 'm
    r"[^\W_]+(?:['’\-][^\W_]+)*",  # words, with inner hyphens or apostrophes
    r"--+|\.\.\.|_+",
    r"[^\w\s]",  # any other symbol on its own
)
TOKEN_RE = re.compile("|".join(_TOKEN_ALTERNATIVES), re.IGNORECASE)
# The n't alternatives can only match where "n't" occurs (IGNORECASE folds no other character
# onto n, ' or t); without them the expression is a third faster, and few paragraphs have one.
_TOKEN_WITHOUT_NOT_RE = re.compile(
    "|".join(a for a in _TOKEN_ALTERNATIVES if a not in _NOT_ALTERNATIVES), re.IGNORECASE)
_NOT_RE = re.compile(r"n't", re.IGNORECASE)
_NON_SPACE_RE = re.compile(r"\S")  # where TOKEN_RE finds a token: it leaves out spaces only


class PunktError(NerbertError):
    """The punkt sentence-splitter data cannot be found or read."""


@dataclass(frozen=True)
class Sentence:
    """One corpus row: tokens, IOB2 tags, and the article it comes from."""

    tokens: list[str]
    tags: list[str]
    title: str
    page_id: int


def _punkt_files(path: Path, language: str) -> dict[str, bytes]:
    """The files of ``language``'s punkt_tab model in a zip or folder, by name."""
    path = Path(path)
    if not path.exists():
        raise PunktError(f"--punkt {path}: no such file or folder")
    try:
        if path.is_file():
            if not zipfile.is_zipfile(path):
                raise PunktError(f"--punkt {path}: not a zip file (expected punkt_tab.zip or a folder)")
            with zipfile.ZipFile(path) as archive:
                members = [n for n in archive.namelist() if f"{language}/" in n and not n.endswith("/")]
                if not any(n.endswith("ortho_context.tab") for n in members):
                    raise PunktError(f"--punkt {path}: no punkt_tab/{language}/ data inside")
                return {Path(n).name: archive.read(n) for n in members}
        candidates = [path / language, path / "punkt_tab" / language, path / "tokenizers" / "punkt_tab" / language]
        folder = next((c for c in candidates if (c / "ortho_context.tab").is_file()), None)
        if folder is None:
            raise PunktError(f"--punkt {path}: no punkt_tab/{language}/ data inside (ortho_context.tab not found)")
        return {f.name: f.read_bytes() for f in folder.iterdir() if f.is_file()}
    except (OSError, zipfile.BadZipFile) as err:
        raise PunktError(f"--punkt {path}: cannot read the punkt parameters: {err}") from None


def load_punkt(path: str | Path | None = None, language: str = "english"):
    """NLTK's punkt_tab sentence splitter, from ``path`` (a zip or folder) or NLTK's own data lookup."""
    from nltk.tokenize.punkt import PunktTokenizer

    if path is None:
        try:
            return PunktTokenizer(language)
        except LookupError:
            raise PunktError(
                f"NLTK's punkt_tab data for {language!r} is not installed. Offline, pass --punkt PATH "
                "(a punkt_tab.zip or an extracted punkt_tab folder); online, run "
                "`python -m nltk.downloader punkt_tab`"
            ) from None
    import nltk

    files = _punkt_files(path, language)
    # NLTK only reads model files below its own data paths: stage the language's files
    # in a private nltk_data root, on the search path only while the tokenizer reads them
    # (it keeps its parameters in memory).
    root = Path(tempfile.mkdtemp(prefix="nerbert-nltk-"))
    nltk.data.path.insert(0, str(root))
    try:
        staged = root / "tokenizers" / "punkt_tab" / language
        staged.mkdir(parents=True)
        for name, data in files.items():
            (staged / name).write_bytes(data)
        return PunktTokenizer(language)
    except (OSError, ValueError, LookupError) as err:
        raise PunktError(f"--punkt {path}: cannot read the punkt parameters: {err}") from None
    finally:
        nltk.data.path.remove(str(root))
        shutil.rmtree(root, ignore_errors=True)


# What punkt's last-whitespace search looks for: ASCII whitespace only, so a no-break
# space does not end the word before a period.
_PUNKT_WHITESPACE = string.whitespace
# Punkt's orthographic contexts of a word type (bits of its ortho_context value).
_ORTHO_BEG_UC, _ORTHO_MID_UC, _ORTHO_UNK_UC = 1 << 1, 1 << 2, 1 << 3
_ORTHO_BEG_LC, _ORTHO_MID_LC, _ORTHO_UNK_LC = 1 << 4, 1 << 5, 1 << 6
_ORTHO_UC = _ORTHO_BEG_UC | _ORTHO_MID_UC | _ORTHO_UNK_UC
_ORTHO_LC = _ORTHO_BEG_LC | _ORTHO_MID_LC | _ORTHO_UNK_LC


class _PunktExpressions(NamedTuple):
    candidates: re.Pattern  # a possible sentence end and what follows it
    words: re.Pattern  # punkt's word tokens
    realignment: re.Pattern  # closing punctuation after a break
    numeric: re.Pattern
    initial: re.Pattern
    ellipsis: re.Pattern
    sent_end: tuple[str, ...]
    punctuation: tuple[str, ...]


def _nltk_expressions(punkt) -> _PunktExpressions:
    """The expressions of an NLTK punkt tokenizer, out of the timeout wrapper of recent NLTK (``nltk.redos``)."""
    lang, token = punkt._lang_vars, punkt._Token

    def engine(pattern):
        return getattr(pattern, "_rx", pattern)

    return _PunktExpressions(
        engine(lang.period_context_re()), engine(lang._word_tokenizer_re()), engine(lang.re_boundary_realignment),
        engine(token._RE_NUMERIC), engine(token._RE_INITIAL), engine(token._RE_ELLIPSIS),
        tuple(lang.sent_end_chars), tuple(punkt.PUNCTUATION))


def _own_expressions() -> _PunktExpressions:
    """Punkt's expressions as NLTK 3.10 writes them (``PunktLanguageVars``, ``PunktToken``), compiled with
    ``regex``, the engine NLTK runs them on: the build need not import NLTK, a second of start-up.
    ``tests/test_corpus_sentences.py`` holds them equal to the installed NLTK's."""
    import regex

    non_word = r"(?:[)\";}\]\*:@\'\({\[\u2018\u2019\u201c\u201d\xab\xbb!\?])"
    multi_char = r"(?:\-{2,}|\.{2,}|(?:\.\s){2,}\.)"
    word_start = r"[^\(\"\`{\[:;&\#\*@\)}\]\-,]"
    words = rf"""(
        {multi_char}
        |
        (?={word_start})\S+?  # Accept word characters until end is found
        (?= # Sequences marking a word's end
            \s|                                 # White-space
            $|                                  # End-of-string
            {non_word}|{multi_char}|          # Punctuation
            ,(?=$|\s|{non_word}|{multi_char}) # Comma if at end of word
        )
        |
        \S
    )"""
    candidates = rf"""
        [\.\?!]             # a potential sentence ending
        (?=(?P<after_tok>
            {non_word}              # either other punctuation
            |
            \s+(?P<next_tok>\S+)     # or whitespace and some other token
        ))"""
    return _PunktExpressions(
        regex.compile(candidates, regex.UNICODE | regex.VERBOSE),
        regex.compile(words, regex.UNICODE | regex.VERBOSE),
        regex.compile(r'["\')\]}\u2018\u2019\u201c\u201d\xab\xbb]+?(?:\s+|(?=--)|$)', regex.MULTILINE),
        regex.compile(r"^-?[\.,]?\d[\d,\.-]*\.?$"),
        regex.compile(r"[^\W\d]\.$", regex.UNICODE),
        regex.compile(r"\.\.+$"),
        (".", "?", "!"),
        tuple(";:,.!?"),
    )


def _tab_lines(data: bytes) -> list[str]:
    # As NLTK's punkt_tab reader splits and trims lines (str.splitlines, then one "\n" off).
    return [line.removesuffix("\n") for line in data.decode("utf-8-sig").splitlines(True)]


class PunktSplitter:
    """The sentence spans of NLTK's punkt (``span_tokenize``), several times faster.

    Same parameters, same regular expressions, same decisions (``_slices_from_text``,
    ``text_contains_sentbreak`` and ``_realign_boundaries`` of
    ``PunktSentenceTokenizer``), but each candidate period is decided on plain
    strings instead of ``PunktToken`` objects and generators, and the expressions
    run without NLTK's per-call timeout layer (they are punkt's own, not
    caller-supplied). ``tests/test_corpus_sentences.py`` holds it to NLTK's output.
    """

    def __init__(self, abbreviations: set[str], collocations: set[tuple[str, ...]], sent_starters: set[str],
                 ortho_context: dict[str, int], expressions: _PunktExpressions | None = None):
        e = expressions or _own_expressions()
        self._candidates, self._words, self._realignment = e.candidates, e.words, e.realignment
        self._numeric, self._initial, self._ellipsis = e.numeric, e.initial, e.ellipsis
        self._sent_end, self._punctuation = e.sent_end, e.punctuation
        self._abbreviations = abbreviations
        self._collocations = collocations
        self._starters = sent_starters
        self._ortho = dict(ortho_context)

    @classmethod
    def from_nltk(cls, punkt) -> PunktSplitter:
        """The splitter of an NLTK ``PunktSentenceTokenizer``: its parameters and its compiled expressions."""
        params = punkt._params
        return cls(params.abbrev_types, params.collocations, params.sent_starters, params.ortho_context,
                   _nltk_expressions(punkt))

    @classmethod
    def load(cls, path: str | Path | None = None, language: str = "english") -> PunktSplitter:
        """The punkt_tab model of ``language`` from ``path`` (a zip or folder), without NLTK;
        with no path, from NLTK's own data lookup (see :func:`load_punkt`)."""
        if path is None:
            return cls.from_nltk(load_punkt(None, language))
        files = _punkt_files(path, language)
        try:
            tabs = {name: _tab_lines(files[name]) for name in
                    ("collocations.tab", "sent_starters.txt", "abbrev_types.txt", "ortho_context.tab")}
            ortho = {}
            for line in tabs["ortho_context.tab"]:
                word, value = line.split("\t")
                ortho[word] = int(value)
        except (KeyError, ValueError, UnicodeDecodeError) as err:
            raise PunktError(f"--punkt {path}: cannot read the punkt parameters: {err!r}") from None
        return cls(set(tabs["abbrev_types.txt"]), {tuple(line.split("\t")) for line in tabs["collocations.tab"]},
                   set(tabs["sent_starters.txt"]), ortho)

    def span_tokenize(self, text: str) -> list[tuple[int, int]]:
        """``(start, end)`` of each sentence of ``text``, boundaries realigned as punkt does by default."""
        end = len(text.rstrip())
        candidates = self._candidates.finditer(text)
        match = next(candidates, None)
        if match is None:
            return [(0, end)] if end else []
        spaces = [c for c in _PUNKT_WHITESPACE if c in text]
        # Each candidate is decided on its context: the word before it (which starts after the
        # last whitespace since the previous candidate's word), itself and what follows.
        # A candidate whose word overlaps the next candidate's is skipped, as in punkt.
        contexts = []
        previous, word_start, word_stop = None, 0, 0
        while match is not None:
            at = match.start()
            if len(spaces) == 1:
                space = text.rfind(spaces[0], word_stop, at)
            else:
                space = max([text.rfind(c, word_stop, at) for c in spaces], default=-1)
            start = space + 1 if space > word_stop else word_start
            if previous is not None and word_stop <= start:
                contexts.append((previous, word_start, word_stop))
            previous, word_start, word_stop = match, start, at
            match = next(candidates, None)
        contexts.append((previous, word_start, word_stop))
        slices, last_break = [], 0
        for match, start, stop in contexts:
            candidate, after, next_tok = match.group(0, "after_tok", "next_tok")
            if self._has_break(text[start:stop] + candidate + after):
                slices.append((last_break, match.end()))
                last_break = match.start("next_tok") if next_tok else match.end()
        slices.append((last_break, end))
        return self._realign(text, slices)

    def _realign(self, text: str, slices: list[tuple[int, int]]) -> list[tuple[int, int]]:
        # Closing quotes and brackets after a break belong to the sentence before it.
        out, shift, last = [], 0, len(slices) - 1
        for i, (start, stop) in enumerate(slices):
            start += shift
            if i == last:
                if start < stop:
                    out.append((start, stop))
                break
            next_start, next_stop = slices[i + 1]
            m = self._realignment.match(text, next_start, next_stop)
            if m:
                out.append((start, next_start + len(m.group().rstrip())))
                shift = m.end() - next_start
            else:
                shift = 0
                if start < stop:
                    out.append((start, stop))
        return out

    def _has_break(self, context: str) -> bool:
        """Whether some token of ``context`` but its last ends a sentence (punkt's ``text_contains_sentbreak``)."""
        if "\n" in context:
            tokens = [t for line in context.split("\n") if line.strip() for t in self._words.findall(line)]
        else:
            tokens = self._words.findall(context)  # never blank: it holds the candidate
        for i in range(len(tokens) - 1):
            tok = tokens[i]
            if tok[-1] == ".":
                if self._breaks_after(tok, tokens[i + 1]):
                    return True
            elif tok in self._sent_end:
                return True  # "?" or "!": the second pass only revises tokens that end with a period
        return False

    def _is_abbreviation(self, tok: str) -> bool:
        low = tok[:-1].lower()
        return low in self._abbreviations or low.split("-")[-1] in self._abbreviations

    def _type(self, tok: str) -> str:
        low = tok.lower()
        # The numeric expression needs "-", ".", "," or a digit first; of ASCII, \d matches 0-9 only.
        if low[0] < "\x80" and low[0] not in "-.,0123456789":
            return low
        return "##number##" if self._numeric.match(low) else low

    def _breaks_after(self, tok: str, nxt: str) -> bool:
        """Punkt's decision for a token that ends with a period, given the token after it."""
        # First pass, for a token ending with a period: a lone period breaks, a run of periods
        # may be an ellipsis (which does not), a known abbreviation does not, anything else does.
        if tok in self._sent_end:
            brk, abbr_or_ellipsis = True, False
        elif tok.endswith(".."):
            brk, abbr_or_ellipsis = False, bool(self._ellipsis.match(tok))
        else:
            abbr_or_ellipsis = self._is_abbreviation(tok)
            brk = not abbr_or_ellipsis
        typ = self._type(tok)
        if len(typ) > 1 and typ[-1] == ".":
            typ = typ[:-1]
        next_typ = self._type(nxt)
        if len(next_typ) > 1 and next_typ[-1] == "." and (
                nxt in self._sent_end or not nxt.endswith("..") and not self._is_abbreviation(nxt)):
            next_typ = next_typ[:-1]  # the next token's first pass made it a break
        if (typ, next_typ) in self._collocations:
            return False
        initial = len(tok) == 2 and self._initial.match(tok)
        if abbr_or_ellipsis and not initial:
            starts = self._starts_sentence(nxt, next_typ)
            if starts is True:
                return True
            if nxt[0].isupper() and next_typ in self._starters:
                return True
        if initial or typ == "##number##":
            starts = self._starts_sentence(nxt, next_typ)
            if starts is False:
                return False
            if starts is None and initial and nxt[0].isupper() and not self._ortho.get(next_typ, 0) & _ORTHO_LC:
                return False
        return brk

    def _starts_sentence(self, tok: str, typ: str) -> bool | None:
        """Punkt's orthographic heuristic: True, False, or None for unknown."""
        if tok in self._punctuation:
            return False
        context = self._ortho.get(typ, 0)
        if tok[0].isupper() and context & _ORTHO_LC and not context & _ORTHO_MID_UC:
            return True
        if tok[0].islower() and (context & _ORTHO_UC or not context & _ORTHO_BEG_LC):
            return False
        return None


def class_label(cls: str | None) -> str:
    """An anchor's entity type: the class name in lower case, or ENTITY when it has none."""
    return cls.lower() if cls else ENTITY


@dataclass
class Untyped:
    """Sentences that no typed anchor reaches, counted instead of tagged, and their ``ENTITY`` mentions."""

    sentences: int = 0
    entities: int = 0


def _zones(text: str, anchors: list, first: int, s_start: int, s_end: int) -> list[list[int]]:
    """``[left, right, first anchor, last anchor]`` of the stretches of a sentence that hold anchors.

    Only tokens near an anchor need their offsets. A token never holds a space, and the
    token expression matches the same tokens on either side of a cut at a space, so a
    stretch runs from the last space before its anchors to the first space after them,
    and the text between stretches can be tokenized in one call, all ``O``.
    """
    zones: list[list[int]] = []
    j = first
    while j < len(anchors) and anchors[j][0] < s_end:
        a_start, a_end = anchors[j][0], anchors[j][1]
        if a_end > s_start:
            left = max(text.rfind(" ", s_start, a_start), s_start)
            right = text.find(" ", a_end, s_end)
            right = s_end if right < 0 else right
            if zones and left <= zones[-1][1]:
                zones[-1][1] = max(zones[-1][1], right)
                zones[-1][3] = j
            else:
                zones.append([left, right, j, j])
        j += 1
    return zones


def tag_paragraph(
    text: str,
    anchors,
    punkt,
    type_of: Callable[[str], str | None],
    *,
    title: str = "",
    page_id: int = 0,
    untyped: Untyped | None = None,
) -> list[Sentence]:
    """Split one paragraph into tagged sentences.

    ``punkt`` is anything with punkt's ``span_tokenize`` (a :class:`PunktSplitter`, or
    NLTK's tokenizer). ``anchors`` are ``(start, end, target)`` spans into ``text``
    (sorted, not overlapping); a token overlapping an anchor belongs to it, and the
    anchor's tokens get ``B-``/``I-`` tags of ``type_of(target)`` (lower-cased class)
    or ``ENTITY``. Anchors that cover no token (e.g. only spaces) are skipped.

    With ``untyped``, a sentence that no typed anchor overlaps is not returned but
    counted there: it has no typed entity, so the corpus filters (§2.3) would drop it,
    and most of a dump's sentences are such.
    """
    out = []
    words = TOKEN_RE if ("'t" in text or "'T" in text) and _NOT_RE.search(text) else _TOKEN_WITHOUT_NOT_RE
    findall, finditer = words.findall, words.finditer
    spans = punkt.span_tokenize(text)
    anchors = sorted((a[0], a[1], a[2]) for a in anchors)
    n = len(anchors)
    labels = [class_label(type_of(target)) for _, _, target in anchors]
    begin, inside = [f"B-{label}" for label in labels], [f"I-{label}" for label in labels]
    k = first = 0  # the anchor the current token may overlap; the first that may reach into this sentence
    for s_start, s_end in spans:
        while first < n and anchors[first][1] <= s_start:
            first += 1
        zones = _zones(text, anchors, first, s_start, s_end)
        if untyped is not None and all(labels[j] == ENTITY for zone in zones for j in range(zone[2], zone[3] + 1)):
            k = _count_untyped(text, anchors, zones, k, s_start, s_end, finditer, untyped)
            continue
        tokens: list[str] = []
        tags: list[str] = []
        current = None  # the anchor of the previous token
        at = s_start
        for left, right, _, _ in zones:
            if at < left:
                outside = findall(text, at, left)
                if outside:
                    tokens += outside
                    tags += ["O"] * len(outside)
                    current = None
            for match in finditer(text, left, right):
                t_start, t_end = match.span()
                while k < n and anchors[k][1] <= t_start:
                    k += 1
                tokens.append(match.group())
                if k < n and anchors[k][0] < t_end:
                    tags.append(inside[k] if current == k else begin[k])
                    current = k
                else:
                    tags.append("O")
                    current = None
            at = right
        if at < s_end:
            outside = findall(text, at, s_end)
            tokens += outside
            tags += ["O"] * len(outside)
        if tokens:
            out.append(Sentence(tokens, tags, title, page_id))
    return out


def _count_untyped(text: str, anchors: list, zones: list[list[int]], k: int, s_start: int, s_end: int,
                   finditer, untyped: Untyped) -> int:
    """Count a sentence without typed anchors and its ``B-ENTITY`` tags into ``untyped``, as tagging it would
    make them; returns the anchor index tagging would have reached (or one behind: tagging catches up)."""
    if not _NON_SPACE_RE.search(text, s_start, s_end):
        return k  # no token: no sentence
    untyped.sentences += 1
    current = None
    at = s_start
    for left, right, j, last in zones:
        if at < left and _NON_SPACE_RE.search(text, at, left):
            current = None  # tokens tagged O in between
        at = right
        a_start, a_end = anchors[j][0], anchors[j][1]
        if j == last and s_start <= a_start < a_end <= s_end:
            # One anchor: its tokens are those over its non-space characters, one entity if any.
            untyped.entities += _NON_SPACE_RE.search(text, a_start, a_end) is not None
            current = None
            continue
        for match in finditer(text, left, right):
            t_start, t_end = match.span()
            while k < len(anchors) and anchors[k][1] <= t_start:
                k += 1
            if k < len(anchors) and anchors[k][0] < t_end:
                untyped.entities += current != k
                current = k
            else:
                current = None
    return k


def propagate_mentions(sentences: list[Sentence]) -> tuple[list[Sentence], int]:
    """Tag later unlinked mentions of surface forms that a typed anchor of the same article had.

    Wikipedia links an entity's first mention only, so the rest of the article says
    "Einstein" untagged. Going through the article's sentences in order, every typed
    entity (not ``ENTITY``) adds its token sequence and type to the known forms; a later
    run of ``O`` tokens equal to a known form (longest first) gets that type. Returns the
    sentences and how many entities were added.
    """
    # Known forms by their first token, longest first: an O token is only compared with the forms that
    # start with it (a long article knows thousands of forms), and the first that fits is the longest.
    known: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    added = 0
    out = []
    for sentence in sentences:
        tags = list(sentence.tags)
        tokens = sentence.tokens
        i = 0
        while i < len(tokens):
            tag = tags[i]
            if tag.startswith("B-"):
                j = i + 1
                while j < len(tags) and tags[j] == "I-" + tag[2:]:
                    j += 1
                form = tuple(tokens[i:j])
                forms = known.setdefault(form[0], [])
                if tag[2:] != ENTITY and all(f != form for f, _ in forms):
                    forms.append((form, tag[2:]))
                    forms.sort(key=lambda kv: -len(kv[0]))  # stable: the first type seen of a form stays
                i = j
                continue
            match = None
            if tag == "O":
                for form, label in known.get(tokens[i], ()):
                    end = i + len(form)
                    if tuple(tokens[i:end]) == form and all(t == "O" for t in tags[i:end]):
                        match = (end, label)
                        break
            if match:
                end, label = match
                tags[i:end] = [f"B-{label}"] + [f"I-{label}"] * (end - i - 1)
                added += 1
                i = end
            else:
                i += 1
        out.append(Sentence(tokens, tags, sentence.title, sentence.page_id) if tags != sentence.tags else sentence)
    return out, added
