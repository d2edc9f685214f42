"""Wikitext -> plain text paragraphs, keeping the character span and target of every anchor.

:func:`wikitext_to_text` is a pipeline of linear passes (regular expressions, and
counters for nested braces and brackets, never recursive patterns):

1. comments and the content of ``<ref>``, ``<math>``, ``<gallery>``, ``<code>``,
   ``<pre>``, ``<syntaxhighlight>`` and other non-prose tags are removed;
2. templates ``{{...}}`` (nested, infoboxes included) and tables ``{| ... |}``
   (nested) are removed. A few templates that only wrap prose keep it
   (``{{nowrap|...}}``, ``{{lang|fr|...}}``, ``{{convert|5|km}}`` as ``5 km``, ...:
   see ``TEXT_TEMPLATES``); every other template is dropped with whatever text it
   would have rendered (``{{lang-fr|Paris}}``, ``{{IPA|...}}``, dates, ...);
3. external links ``[http://x label]`` become ``label``; bare URLs are dropped;
4. internal links become anchors (see below); files, images, categories and
   interlanguage links are dropped with everything inside them;
5. HTML tags, ``__MAGIC__`` words, bold/italic quotes go; entities are decoded
   (``&nbsp;`` and other spaces become a plain space); headings, horizontal rules
   and stray table rows are dropped, list and indentation markers stripped.

Paragraphs are separated by ``"\\n"``: lines of running text are joined with a
space, and each list item is a paragraph of its own. Headings are dropped, not
kept as lines: they are not sentences, and a tagger trained on them learns
title case. Where a pass deletes text, anchors inside it go too, so every
returned anchor covers text that is in the output.

Anchors: ``[[A]]``, ``[[A|b]]``, ``[[A#frag|b]]`` and ``[[a]]s`` (the English link
trail ``[a-z]+`` joins the anchor, as MediaWiki renders it) give an
:class:`Anchor` whose target went through
:func:`~nerbert_hf.corpus.dump.normalize_title`. Links to other namespaces or
wikis (``[[Wikipedia:About|about]]``, ``[[wikt:cat|cat]]``, ``[[:Category:X|x]]``)
are not anchors: their label stays in the text so that the sentence around it
stays whole, and without a label they are dropped, as are links to a section of
the same page (``[[#History]]``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import unquote

from .dump import LANGUAGE_PREFIXES, normalize_title, split_namespace


class Anchor(NamedTuple):
    """A link in the plain text: ``text[start:end]`` is its visible text, ``target`` the normalised title."""

    start: int
    end: int
    target: str


# While the passes run, anchors are marked in the text with lone surrogates, which no
# text decoded from UTF-8 (and no decoded HTML entity) can contain. Every mark starts
# with the same character, so that finding them is a fast literal search: a start is
# three characters carrying the anchor's index, an end two. No pass can split a mark.
_MARK, _END_MARK = "\udfff", "\udfff\udffe"
_HI, _LO = 0xD800, 0xDC00  # index = 512 * (hi - _HI) + (lo - _LO)
_MAX_ANCHORS = 1024 * 512
_MARK_SPLIT_RE = re.compile("(\udfff(?:\udffe|[\ud800-\udbff][\udc00-\uddff]))")

# --------------------------------------------------------------------------- 1. tags

_COMMENT_RE = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
# Extension and HTML tags whose content is not prose (names as editors write them: lower
# case), and <nowiki>, whose content is literal text. Attributes are bounded in length
# so that a stray "<ref" costs constant time.
_ELEMENT_NAMES = (
    "ref references gallery math chem ce code syntaxhighlight source pre score timeline imagemap graph mapframe "
    "maplink templatedata inputbox categorytree includeonly hiero charinsert indicator templatestyles section "
    "nowiki"
).split()
_ELEMENT_OPEN_RE = re.compile(rf"<({'|'.join(_ELEMENT_NAMES)})(?:\s[^<>]{{0,1000}})?/?>")
_ELEMENT_CLOSE_RE = {name: re.compile(rf"</{name}\s*>") for name in _ELEMENT_NAMES}
# Inside <nowiki> markup is literal: escape it as entities, which the last pass decodes.
_NOWIKI_ESCAPES = str.maketrans(
    {"[": "&#91;", "]": "&#93;", "{": "&#123;", "}": "&#125;", "|": "&#124;", "'": "&#39;",
     "<": "&lt;", ">": "&gt;", "=": "&#61;", "_": "&#95;", "*": "&#42;", "#": "&#35;", ":": "&#58;"}
)


def _drop_elements(text: str) -> str:
    """Remove the elements of ``_ELEMENT_NAMES`` with their content (a <nowiki>'s content stays, escaped)."""
    out, pos, at = [], 0, 0
    unclosed: set[str] = set()  # names with no closing tag after some point: none after it either
    while True:
        m = _ELEMENT_OPEN_RE.search(text, at)
        if m is None:
            break
        name = m.group(1)
        at = m.end()
        if m.group().endswith("/>"):
            end, kept = m.end(), ""
        elif name in unclosed:
            continue  # an unclosed tag: MediaWiki shows it as text; the tag pass removes it
        else:
            close = _ELEMENT_CLOSE_RE[name].search(text, m.end())
            if close is None:
                unclosed.add(name)
                continue
            end = close.end()
            kept = text[m.end() : close.start()].translate(_NOWIKI_ESCAPES) if name == "nowiki" else ""
        out.append(text[pos : m.start()])
        out.append(kept)
        pos = at = end
    out.append(text[pos:])
    return "".join(out)


# ------------------------------------------------------------------ 2. templates, tables

_OPEN_BRACES_RE = re.compile(r"\{\{+")
_CLOSE_BRACES_RE = re.compile(r"\}\}+")
_OPEN_TABLE_RE = re.compile(r"\{\|")
_CLOSE_TABLE_RE = re.compile(r"\|\}")
_ARG_SPLIT_RE = re.compile(r"\{\{|\}\}|\[\[|\]\]|\|")
_SPACES_RE = re.compile(r"[\s_]+")

# The range words of {{convert|1|to|2|km}}.
_CONVERT_RANGES = frozenset("- – to and or by x × + and(-) to(-)".split())


def _positional(args: list[str]) -> list[str]:
    return [a for a in args if "=" not in a.split("[[", 1)[0].split("{{", 1)[0]]


def _named(args: list[str], name: str) -> str | None:
    for a in args:
        key, eq, value = a.partition("=")
        if eq and key.strip() == name:
            return value
    return None


def _convert(args: list[str]) -> str:
    pos = [a.strip() for a in _positional(args)]
    if len(pos) >= 4 and pos[1] in _CONVERT_RANGES:
        return " ".join(pos[:4])
    return " ".join(pos[:2])


def _interlanguage_link(args: list[str]) -> str:
    pos = _positional(args)
    if not pos or not pos[0].strip():
        return ""
    label = _named(args, "lt")
    return f"[[{pos[0].strip()}|{label}]]" if label else f"[[{pos[0].strip()}]]"


def _arg(index: int):
    def pick(args: list[str]) -> str:
        pos = _positional(args)
        return pos[index] if len(pos) > index else ""

    return pick


def _last(args: list[str]) -> str:
    pos = _positional(args)
    return pos[-1] if pos else ""


def _const(value: str):
    return lambda args: value


TEXT_TEMPLATES = {
    **dict.fromkeys(["nowrap", "nobr", "nobreak", "small", "smaller", "big", "larger", "midsize", "em",
                     "strong", "vanchor", "visible anchor", "nihongo", "abbr", "sic", "keypress"], _arg(0)),
    "lang": _arg(1),
    "transl": _last,
    "convert": _convert,
    "cvt": _convert,
    "ill": _interlanguage_link,
    "interlanguage link": _interlanguage_link,
    "'": _const("'"),
    "'s": _const("'s"),
    "nbsp": _const(" "),
    "·": _const(" · "),
    "snd": _const(" – "),
    "spaced ndash": _const(" – "),
    "spaced en dash": _const(" – "),
    "ndash": _const("–"),
    "en dash": _const("–"),
    "mdash": _const("—"),
    "em dash": _const("—"),
}
"""Templates kept as text: name (lower case) -> the wikitext they stand for, given their arguments.

``{{ill|A|fr}}`` becomes the link ``[[A]]``; ``{{convert|5|km|mi}}`` becomes ``5 km``
(the unit code, not MediaWiki's spelled-out unit name and conversion)."""


def _split_args(inner: str) -> list[str]:
    """Split a template's inside at the pipes that are not inside nested links or templates."""
    parts, depth, last = [], 0, 0
    for m in _ARG_SPLIT_RE.finditer(inner):
        token = m.group()
        if token == "|":
            if depth == 0:
                parts.append(inner[last : m.start()])
                last = m.end()
        elif token in ("{{", "[["):
            depth += 1
        elif depth:
            depth -= 1
    parts.append(inner[last:])
    return parts


def _template_text(inner: str) -> str:
    """What a template stands for in the text: '' unless it is one of ``TEXT_TEMPLATES``."""
    bar = inner.find("|")
    name = inner if bar < 0 else inner[:bar]
    name = _SPACES_RE.sub(" ", name).strip().lower()
    if name.startswith("template:"):
        name = name[9:].lstrip()
    rule = TEXT_TEMPLATES.get(name)
    if rule is None:
        return ""
    return _drop_templates(rule(_split_args(inner)[1:]))


def _tokens(text: str, opening: re.Pattern, closing: re.Pattern) -> list[tuple[int, int, bool]]:
    """(start, end, is_opening) of every match of two literal patterns, in text order."""
    # Two literal scans and a sort beat one alternation, which defeats the regex engine's fast search.
    found = [(m.start(), m.end(), True) for m in opening.finditer(text)]
    found += [(m.start(), m.end(), False) for m in closing.finditer(text)]
    found.sort()
    return found


def _drop_templates(text: str) -> str:
    """Remove templates and ``{{{parameters}}}``, pairing brace runs as MediaWiki's preprocessor does."""
    if "{{" not in text:
        return text
    stack: list[list[int]] = []  # [position of an opening run, braces of it still open]
    spans: list[tuple[int, int, int]] = []  # (start, end, braces): one per matched construct
    last_end = -1
    for start, end, is_opening in _tokens(text, _OPEN_BRACES_RE, _CLOSE_BRACES_RE):
        if start < last_end:
            continue  # "}}}{{" seen as "}}}" then "}{{": the overlap is not a new run
        last_end = end
        run = end - start
        if is_opening:
            stack.append([start, run])
            continue
        at = start
        while run >= 2 and stack:
            opening = stack[-1]
            # Three braces each side make a parameter, two a template; innermost braces pair first.
            width = 3 if opening[1] >= 3 and run >= 3 else 2
            opening[1] -= width
            spans.append((opening[0] + opening[1], at + width, width))
            at += width
            run -= width
            if opening[1] < 2:
                stack.pop()
    if not spans:
        return text
    spans.sort(key=lambda s: (s[0], -s[1]))
    out, pos = [], 0
    for start, end, width in spans:
        if start < pos:
            continue  # inside a construct already removed
        out.append(text[pos:start])
        kept = _template_text(text[start + 2 : end - 2]) if width == 2 else ""
        if not kept and text[start - 1 : start] == "'" and text[end : end + 1] == "'":
            # ''{{x}}'' must not become a run of four quotes: a zero-width space, removed
            # after the quotes pass, keeps the two apart.
            kept = "\u200b"
        out.append(kept)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _line_start(text: str, at: int, allowed: str) -> int:
    """Where the line holding ``at`` starts, if only ``allowed`` characters precede ``at`` on it, else -1."""
    start = text.rfind("\n", 0, at) + 1
    return start if not text[start:at].strip(allowed) else -1


def _drop_tables(text: str) -> str:
    """Remove ``{| ... |}`` tables, nested or not; an unclosed table runs to the end, as MediaWiki renders it."""
    if "{|" not in text:
        return text
    out, pos, depth, start = [], 0, 0, 0
    for at, end, is_opening in _tokens(text, _OPEN_TABLE_RE, _CLOSE_TABLE_RE):
        # Table syntax counts only at the start of a line (after indentation colons, for an opening).
        if is_opening:
            line = _line_start(text, at, " \t:")
            if line < 0:
                continue
            if depth == 0:
                start = line
            depth += 1
        elif depth and _line_start(text, at, " \t") >= 0:
            depth -= 1
            if depth == 0:
                out.append(text[pos:start])
                pos = end
    out.append(text[pos:] if depth == 0 else text[pos:start])
    return "".join(out)


# ------------------------------------------------------------------------- 3. ext links

_EXT_LINK_RE = re.compile(
    r"\[(?:https?:|//|ftps?:|mailto:|news:|irc:|ircs:|HTTPS?:|Https?:)[^\s\[\]<>\"]*(?:[ \t]+([^\[\]\n]{0,2000}))?\]"
)

# ------------------------------------------------------------------------ 4. wiki links

# A link without nested links; its text may hold [single brackets]. The trail is that of English.
_LINK_RE = re.compile(r"\[\[([^\[\]]*(?:\[[^\[\]]*\][^\[\]]*)*)\]\]([a-z]*)")
_BAD_TARGET_RE = re.compile(r"[\n<>\[\]{}]")
_PIPE_TRICK_RE = re.compile(r"\s*\([^()]*\)\s*$")
_DROPPED_NAMESPACES = frozenset(["File", "Media", "Category"])
_normalize = lru_cache(maxsize=1 << 16)(normalize_title)


def _pipe_trick(target: str) -> str:
    """The label MediaWiki gives ``[[Target (x)|]]``: no prefix, no parenthetical, no ``, ...`` tail."""
    rest = split_namespace(target.strip().lstrip(":"))[1].split("#", 1)[0]
    stripped = _PIPE_TRICK_RE.sub("", rest)
    return stripped if stripped != rest else rest.split(",", 1)[0]


def _link_text(match: re.Match, targets: list[str]) -> str:
    """The visible text of one link, with anchor marks around it when it links to an article."""
    inner, trail = match.groups()
    target, pipe, label = inner.partition("|")
    prefix = ""
    if ":" in target:
        shown = _SPACES_RE.sub(" ", target).strip()
        visible = shown.startswith(":")
        prefix = split_namespace(shown[1:].lstrip() if visible else shown)[0]
        if not visible and (prefix in _DROPPED_NAMESPACES or prefix in LANGUAGE_PREFIXES):
            return trail  # an image, a category or an interlanguage link: nothing in the running text
    if _MARK in inner:
        # Links inside a link (made anchors by an earlier pass) are not valid wikitext:
        # MediaWiki shows the outer brackets as text; here they go, the inner anchors stay.
        return (label if pipe else inner) + trail
    if _BAD_TARGET_RE.search(target):
        return inner + trail  # not a link: MediaWiki shows the text
    if "%" in target:
        try:
            target = unquote(target, errors="strict")  # MediaWiki decodes %XX in link targets
        except UnicodeDecodeError:
            pass
    if not pipe:
        # What MediaWiki shows is the target as written; for other namespaces and for
        # sections of this page ([[#History]]) that is link syntax, not prose: dropped.
        label = "" if prefix or target.lstrip().startswith("#") else target.strip().lstrip(":")
    elif not label.strip():
        label = _pipe_trick(target)
    if not label:
        return trail
    label += trail
    if "\n" in label:
        label = label.replace("\n", " ")
    core = label.strip()
    norm = "" if prefix or not core or len(targets) >= _MAX_ANCHORS else _normalize(target)
    if not norm:
        return label  # another namespace or wiki, or a section of this page: text, no anchor
    hi, lo = divmod(len(targets), 512)
    targets.append(norm)
    mark = f"{_MARK}{chr(_HI + hi)}{chr(_LO + lo)}{core}{_END_MARK}"
    if core is label:
        return mark
    return label[: len(label) - len(label.lstrip())] + mark + label[len(label.rstrip()) :]


def _links(text: str, targets: list[str]) -> str:
    """Replace ``[[...]]`` links by their visible text, marking main-namespace ones as anchors."""
    # Innermost links first: a file's caption links become anchors, then the file link
    # around them, now free of brackets, is dropped with them.
    for _ in range(8):
        if "[[" not in text:
            break
        text, found = _LINK_RE.subn(lambda m: _link_text(m, targets), text)
        if not found:
            break
    return text


# ----------------------------------------------------------------------- 5. inline, lines

_BLOCK_TAG_RE = re.compile(
    r"</?(?i:br|p|div|blockquote|center|li|ul|ol|dl|dd|dt|table|tr|td|th|caption|h[1-6]|hr|poem)\b[^<>\n]{0,1000}>"
)
_INLINE_TAG_RE = re.compile(
    r"</?(?i:span|small|big|sup|sub|b|i|u|s|del|ins|strike|font|abbr|cite|em|strong|tt|var|kbd|samp|q|dfn|"
    r"mark|bdi|bdo|ruby|rb|rt|rtc|rp|wbr|time|data|nowiki|noinclude|onlyinclude|includeonly|ref|references|"
    r"section|templatestyles|indicator|gallery|math|code|pre|source|syntaxhighlight|chem|ce|score|"
    r"timeline|imagemap|meta|link|img)\b[^<>\n]{0,1000}>"
)
_MAGIC_WORD_RE = re.compile(r"__[A-Z]{2,}__")
_QUOTES_RE = re.compile(r"''+")
# The rest of a bare URL after "://" (anchor marks end it).
_URL_REST_RE = re.compile("[^\\s\\[\\]<>\"{}|\ud800-\udfff]*")
_URL_SCHEMES = ("https", "http", "ftps", "ftp", "HTTPS", "HTTP")
_ENTITY_RE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_HEADING_RE = re.compile(r"=+.*=+")
_LIST_RE = re.compile(r"[*#:;]+")
_MULTISPACE_RE = re.compile(r"  +")
_PARENS_RE = re.compile(r"\((?:[ ,;:]*\)|[ ]*[,;:][ ,;:]*)")
_SPACE_IN_START_RE = re.compile("(\udfff[\ud800-\udbff][\udc00-\uddff])( +)")
_EMPTY_ANCHOR_RE = re.compile("\udfff[\ud800-\udbff][\udc00-\uddff]\udfff\udffe")
_DEBRIS_RE = re.compile(r"\[\[|\]\]|\{\{|\}\}|\{\||\|\}")
_WORD_RE = re.compile(r"\w")
# "! Header" or "!a !! b" is a table header row; "!Kung" at a line's start is a word.
_TABLE_HEADER_RE = re.compile(r"!(?:\s|.*!!)")


def _quotes(m: re.Match) -> str:
    # '' italic, ''' bold, ''''' both; a fourth quote, or more than five, is a literal apostrophe.
    n = len(m.group())
    return "'" if n == 4 else "'" * (n - 5) if n > 5 else ""


def _parens(m: re.Match) -> str:
    # "( )" and "(; )" go; "(; born" keeps its parenthesis.
    return "" if m.group().endswith(")") else "("


def _drop_urls(text: str) -> str:
    """Remove bare URLs (``http://...``): not prose, and a tokenizer would shred them."""
    # Found from their "://", a fast literal search, then extended to the scheme before it.
    out, pos = [], 0
    at = text.find("://")
    while at >= 0:
        scheme = next((s for s in _URL_SCHEMES if at >= len(s) and text.startswith(s, at - len(s))), None)
        end = _URL_REST_RE.match(text, at + 3).end()
        if scheme is not None:
            start = at - len(scheme)
            if start >= pos:
                out.append(text[pos:start])
                pos = end
        at = text.find("://", max(end, at + 3))
    out.append(text[pos:])
    return "".join(out)


def _space_before_punctuation(text: str) -> str:
    """``word ,`` -> ``word,``: removed references and templates leave such spaces (``.45`` stays)."""
    text = text.replace(" ,", ",").replace(" ;", ";")
    if " ." in text:
        text = text.replace(" . ", ". ").replace(" .\n", ".\n")
        if text.endswith(" ."):
            text = text[:-2] + "."
    return text


@lru_cache(maxsize=4096)
def _entity(entity: str) -> str:
    char = html.unescape(entity)
    if char.isspace():
        return " "  # &nbsp;, &thinsp;, &ensp;, ...
    return "" if char in ("\xad", "\u200b", "\ufeff") else char


def _inline(text: str) -> str:
    if "<" in text:
        text = _BLOCK_TAG_RE.sub("\n\n", text)  # <br>, <p>, <div>: a new paragraph
        text = _INLINE_TAG_RE.sub("", text)
    if "__" in text:
        text = _MAGIC_WORD_RE.sub("", text)
    if "''" in text:
        text = _QUOTES_RE.sub(_quotes, text)
    if "://" in text:
        text = _drop_urls(text)
    if any(debris in text for debris in ("[[", "]]", "{{", "}}", "{|", "|}")):
        text = _DEBRIS_RE.sub("", text)
    # Entities last: what they decode to (&#91;&#91; from <nowiki>) is text, not markup.
    if "&" in text:
        text = _ENTITY_RE.sub(lambda m: _entity(m.group()), text)
    for invisible in ("\xad", "\u200b", "\ufeff"):  # soft hyphens, zero-width spaces, stray BOMs
        if invisible in text:
            text = text.replace(invisible, "")
    for space in ("\t", "\xa0"):
        if space in text:
            text = text.replace(space, " ")
    if _MARK in text:
        # Spaces at a label's edges (from an entity, a removed tag or URL) go outside its
        # marks, where the collapsing below sees them; labels left empty go.
        text = _SPACE_IN_START_RE.sub(r"\2\1", text)
        while " " + _END_MARK in text:
            text = text.replace(" " + _END_MARK, _END_MARK + " ")
        text = _EMPTY_ANCHOR_RE.sub("", text)
    if "(" in text:
        text = _PARENS_RE.sub(_parens, text)  # what is left of "({{IPA|...}}; born 1900)"
    if "  " in text:
        text = _MULTISPACE_RE.sub(" ", text)
    return _space_before_punctuation(text)


def _paragraphs(text: str) -> list[str]:
    paragraphs: list[str] = []
    running: list[str] = []
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            if running:
                paragraphs.append(" ".join(running))
                running = []
            continue
        first = line[0]
        if first in "=|!-*#:;":
            if (
                (first == "=" and line[-1] == "=" and _HEADING_RE.fullmatch(line))
                or first == "|"
                or (first == "!" and _TABLE_HEADER_RE.match(line))
                or line.startswith("----")
            ):
                # A heading; a table row outside a table (a template opened it); a horizontal rule.
                if running:
                    paragraphs.append(" ".join(running))
                    running = []
                continue
            if first in "*#:;":
                if running:
                    paragraphs.append(" ".join(running))
                    running = []
                item = line[_LIST_RE.match(line).end() :].strip()
                if item:
                    paragraphs.append(item)
                continue
        running.append(line)
    if running:
        paragraphs.append(" ".join(running))
    return [p for p in paragraphs if _WORD_RE.search(p)]


def _extract(text: str, targets: list[str]) -> tuple[str, list[Anchor]]:
    """Turn anchor marks into :class:`Anchor` offsets in the text without marks."""
    if not targets:
        return text, []
    parts = _MARK_SPLIT_RE.split(text)  # text, mark, text, mark, ..., text
    out = [parts[0]]
    length = len(parts[0])
    anchors: list[Anchor] = []
    open_index, open_at = -1, 0
    for i in range(1, len(parts), 2):
        mark = parts[i]
        if mark == _END_MARK:
            if open_index >= 0:
                anchors.append(Anchor(open_at, length, targets[open_index]))
            open_index = -1
        else:
            index = (ord(mark[1]) - _HI) * 512 + ord(mark[2]) - _LO
            open_index, open_at = (index, length) if index < len(targets) else (-1, 0)
        piece = parts[i + 1]
        out.append(piece)
        length += len(piece)
    plain = "".join(out)
    trimmed = []
    for start, end, target in anchors:
        # Markup removed at a label's edges can leave spaces inside the span.
        if plain[start].isspace() or plain[end - 1].isspace():
            while start < end and plain[start].isspace():
                start += 1
            while end > start and plain[end - 1].isspace():
                end -= 1
        if start < end and "\n" not in plain[start:end]:
            trimmed.append(Anchor(start, end, target))
    return plain, trimmed


def wikitext_to_text(text: str) -> tuple[str, list[Anchor]]:
    """Plain-text paragraphs (joined by ``"\\n"``) of an article's wikitext, and its anchors in order.

    ``text[a.start:a.end]`` is the visible text of anchor ``a``; ``a.target`` is its
    link target, normalised. ``text`` must be valid Unicode (no lone surrogates, as
    in any text decoded from UTF-8). See the module docstring for what is kept.
    """
    if "<" in text:
        if "<!--" in text:
            text = _COMMENT_RE.sub("", text)
        text = _drop_elements(text)
    text = _drop_tables(_drop_templates(text))
    if "[" in text:
        text = _EXT_LINK_RE.sub(lambda m: m.group(1) or "", text)
    targets: list[str] = []
    text = "\n".join(_paragraphs(_inline(_links(text, targets))))
    return _extract(text, targets)


def iter_paragraphs(text: str, anchors: list[Anchor]) -> Iterator[tuple[str, list[Anchor]]]:
    """The paragraphs of :func:`wikitext_to_text`'s output, each with its anchors re-based to it."""
    k, start = 0, 0
    for paragraph in text.split("\n"):
        end = start + len(paragraph)
        inside = []
        while k < len(anchors) and anchors[k].start < end:
            a = anchors[k]
            inside.append(Anchor(a.start - start, a.end - start, a.target))
            k += 1
        yield paragraph, inside
        start = end + 1
