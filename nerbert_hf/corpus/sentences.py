"""Paragraphs with anchor spans -> sentences of tokens with IOB2 tags (NER-BERT §2.2).

Sentences come from NLTK's punkt; words from a Treebank-like regular expression
whose tokens are exact substrings, so anchor character spans map onto tokens
(NLTK's own word tokenizer gives the same splits on most text but is about ten
times slower, and the word pass dominates the build).
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import NerbertError

ENTITY = "ENTITY"

TOKEN_RE = re.compile(
    r"""
    (?:[^\W\d_]\.){2,}                 # initialisms: U.S.A.
  | \d+(?:[.,:/]\d+)*(?!\w)               # numbers, times, dates: 3.5, 1,000, 10:30 (not 44th)
  | [^\W_]+?(?=n't\b)                  # do|n't, ca|n't
  | n't\b
  | '(?:s|re|ve|ll|d|m)\b              # clitics: 's 're 've 'll 'd 'm
  | [^\W_]+(?:['’\-][^\W_]+)*          # words, with inner hyphens or apostrophes
  | --+|\.\.\.|_+
  | [^\w\s]                            # any other symbol on its own
    """,
    re.VERBOSE | re.IGNORECASE,
)


_SENTENCE_END = re.compile(r"[.?!]")


class PunktError(NerbertError):
    """The punkt sentence-splitter data cannot be found or read."""


@dataclass(frozen=True)
class Sentence:
    """One corpus row: tokens, IOB2 tags, and the article it comes from."""

    tokens: list[str]
    tags: list[str]
    title: str
    page_id: int


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

    path = Path(path)
    if not path.exists():
        raise PunktError(f"--punkt {path}: no such file or folder")
    # NLTK only reads model files below its own data paths: stage the language's files
    # in a private nltk_data root and add that root to the search path.
    root = Path(tempfile.mkdtemp(prefix="nerbert-nltk-"))
    staged = root / "tokenizers" / "punkt_tab" / language
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise PunktError(f"--punkt {path}: not a zip file (expected punkt_tab.zip or a folder)")
        with zipfile.ZipFile(path) as archive:
            members = [n for n in archive.namelist() if f"{language}/" in n and not n.endswith("/")]
            if not any(n.endswith("ortho_context.tab") for n in members):
                raise PunktError(f"--punkt {path}: no punkt_tab/{language}/ data inside")
            staged.mkdir(parents=True)
            for name in members:
                (staged / Path(name).name).write_bytes(archive.read(name))
    else:
        candidates = [path / language, path / "punkt_tab" / language, path / "tokenizers" / "punkt_tab" / language]
        folder = next((c for c in candidates if (c / "ortho_context.tab").is_file()), None)
        if folder is None:
            raise PunktError(f"--punkt {path}: no punkt_tab/{language}/ data inside (ortho_context.tab not found)")
        shutil.copytree(folder, staged)
    nltk.data.path.insert(0, str(root))
    try:
        return PunktTokenizer(language)
    except (OSError, ValueError, LookupError) as err:
        raise PunktError(f"--punkt {path}: cannot read the punkt parameters: {err}") from None


def class_label(cls: str | None) -> str:
    """An anchor's entity type: the class name in lower case, or ENTITY when it has none."""
    return cls.lower() if cls else ENTITY


def tag_paragraph(
    text: str,
    anchors,
    punkt,
    type_of: Callable[[str], str | None],
    *,
    title: str = "",
    page_id: int = 0,
) -> list[Sentence]:
    """Split one paragraph into tagged sentences.

    ``anchors`` are ``(start, end, target)`` spans into ``text`` (sorted, not
    overlapping); a token overlapping an anchor belongs to it, and the anchor's
    tokens get ``B-``/``I-`` tags of ``type_of(target)`` (lower-cased class) or
    ``ENTITY``. Anchors that cover no token (e.g. only spaces) are skipped.
    """
    out = []
    anchors = sorted((a[0], a[1], a[2]) for a in anchors)
    labels = [class_label(type_of(target)) for _, _, target in anchors]
    k = 0
    # Punkt only ever breaks after '.', '?' or '!': a paragraph with none is one sentence,
    # and skipping punkt there saves about 40% of its time on Wikipedia text.
    spans = punkt.span_tokenize(text) if _SENTENCE_END.search(text) else [(0, len(text))]
    for s_start, s_end in spans:
        tokens, tags = [], []
        current = None  # index of the anchor the previous token belonged to
        for match in TOKEN_RE.finditer(text, s_start, s_end):
            t_start, t_end = match.span()
            while k < len(anchors) and anchors[k][1] <= t_start:
                k += 1
            tokens.append(match.group())
            if k < len(anchors) and anchors[k][0] < t_end:
                tags.append(("I-" if current == k else "B-") + labels[k])
                current = k
            else:
                tags.append("O")
                current = None
        if tokens:
            out.append(Sentence(tokens, tags, title, page_id))
    return out


def propagate_mentions(sentences: list[Sentence]) -> tuple[list[Sentence], int]:
    """Tag later unlinked mentions of surface forms that a typed anchor of the same article had.

    Wikipedia links an entity's first mention only, so the rest of the article says
    "Einstein" untagged. Going through the article's sentences in order, every typed
    entity (not ``ENTITY``) adds its token sequence and type to the known forms; a later
    run of ``O`` tokens equal to a known form (longest first) gets that type. Returns the
    sentences and how many entities were added.
    """
    known: dict[tuple[str, ...], str] = {}
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
                if tag[2:] != ENTITY:
                    known.setdefault(tuple(tokens[i:j]), tag[2:])
                i = j
                continue
            match = None
            if tag == "O" and known:
                for form, label in sorted(known.items(), key=lambda kv: -len(kv[0])):
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
