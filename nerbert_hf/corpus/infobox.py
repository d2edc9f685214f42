"""Templates of a wikitext page and their parameters, split as MediaWiki's preprocessor splits them.

Braces are matched the way MediaWiki matches them: a run of ``{`` opens, a run of
``}`` closes up to three braces at a time (three make a template argument
``{{{x}}}``, two a template), and a brace left over is plain text; a template that
never closes is plain text too, while the templates inside it still count. Inside a
template a ``|`` splits parameters only outside nested templates and links, so
``[[a|b]]`` and ``{{small|x}}`` stay within one value; the first ``=`` at that level
names a parameter, and unnamed parameters are numbered from 1 as in MediaWiki.

Comments are removed first, and the contents of ``<ref>``, ``<nowiki>``, ``<pre>``,
``<math>``, ``<code>``, ``<source>`` and similar tags are not searched: MediaWiki
does not expand templates in most of them, and DBpedia's parser skips all of them
(references hold citation templates, never an infobox).
"""

from __future__ import annotations

import html
import re
from functools import cached_property, lru_cache

# Tags whose content is not wikitext for our purpose (extension tags MediaWiki leaves
# unparsed, plus <ref> and <code>, which DBpedia's parser skips).
_OPAQUE_TAGS = ("ref", "nowiki", "pre", "math", "code", "source", "syntaxhighlight", "score", "chem", "ce",
                "timeline", "graph", "hiero", "templatedata", "mapframe", "maplink", "imagemap", "inputbox")
_OPAQUE_OPEN = re.compile(r"<(" + "|".join(_OPAQUE_TAGS) + r")\b[^>]*>", re.IGNORECASE)
_OPAQUE_CLOSE = {tag: re.compile(rf"</{tag}\s*>", re.IGNORECASE) for tag in _OPAQUE_TAGS}
# Two patterns rather than one alternation: a literal first character lets the regex
# engine skip ahead, which makes the scan about eight times faster.
_OPEN_BRACES = re.compile(r"\{\{+")
_CLOSE_BRACES = re.compile(r"\}\}+")
_PARAM_TOKENS = re.compile(r"\[\[|\]\]|\||=")
# MediaWiki removes these direction marks from titles.
_DIRECTION_MARKS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e"))
# Prefixes that change how a template is transcluded, not which one.
_MODIFIERS = ("subst", "safesubst", "msgnw", "msg", "raw")


def strip_comments(wikitext: str) -> str:
    """The wikitext without ``<!-- -->`` comments (an unclosed one runs to the end, as in MediaWiki)."""
    if "<!--" not in wikitext:
        return wikitext
    pieces, last = [], 0
    start = wikitext.find("<!--")
    while start >= 0:
        pieces.append(wikitext[last:start])
        end = wikitext.find("-->", start + 4)
        if end < 0:
            last = len(wikitext)
            break
        last = end + 3
        start = wikitext.find("<!--", last)
    pieces.append(wikitext[last:])
    return "".join(pieces)


def strip_unparsed(wikitext: str) -> str:
    """The wikitext without comments and without the contents of tags that hold no templates for us.

    As in MediaWiki, comments go first, and a tag that is never closed is left as text.
    """
    if "<" not in wikitext:
        return wikitext
    text = strip_comments(wikitext)
    pieces, last = [], 0
    for m in _OPAQUE_OPEN.finditer(text):
        if m.start() < last:
            continue  # inside a tag already removed
        if m.group().endswith("/>"):
            pieces.append(text[last : m.start()])
            last = m.end()
            continue
        close = _OPAQUE_CLOSE[m.group(1).lower()].search(text, m.end())
        if close is not None:
            pieces.append(text[last : m.start()])
            last = close.end()
    if pieces:
        pieces.append(text[last:])
        text = "".join(pieces)
    return text


# "{{" and the name after it, comments inside the name included.
_CALL = re.compile(r"\{\{([^{}|\[\]<>]*(?:<!--.*?-->[^{}|\[\]<>]*)*)", re.DOTALL)


def called_names(wikitext: str) -> set[str]:
    """Names of the templates a page calls, nested ones included, found quickly without matching braces.

    A superset of the names :func:`parse_templates` finds (it may include templates
    in comments, references or unclosed braces), for skipping pages that call none of interest.
    """
    names = set()
    for raw in _CALL.findall(wikitext):
        names.add(template_name(strip_comments(raw) if "<!--" in raw else raw))
    names.discard(None)
    return names


def normalize_name(name: str) -> str:
    """MediaWiki title normalisation: underscores and whitespace runs become one space, trimmed, first letter upper.

    The rest keeps its case: ``Infobox Person`` and ``Infobox person`` are different pages.
    """
    if "&" in name:
        name = html.unescape(name)
    name = " ".join(name.replace("_", " ").translate(_DIRECTION_MARKS).split())
    if name:
        first = name[0]
        upper = first.upper()
        # 'ß'.upper() is 'SS': MediaWiki keeps such letters, so keep any that would change length.
        if upper != first and len(upper) == 1:
            name = upper + name[1:]
    return name


@lru_cache(maxsize=1 << 16)
def template_name(raw: str) -> str | None:
    """The page a ``{{raw|...}}`` call transcludes, normalised, or None for parser functions and magic words.

    ``Template:`` and transclusion modifiers such as ``subst:`` are dropped; any other
    ``prefix:`` is a parser function (``{{DEFAULTSORT:x}}``) or another namespace.
    """
    while True:
        if not raw.strip() or raw.lstrip().startswith("#") or any(c in raw for c in "{}[]<>"):
            return None
        prefix, colon, rest = raw.partition(":")
        if not colon:
            return normalize_name(raw) or None
        prefix = normalize_name(prefix).lower()
        if prefix == "template":
            return normalize_name(rest) or None
        if prefix not in _MODIFIERS:
            return None
        raw = rest


class Template:
    """One template call: its normalised ``name``, its ``params`` and the templates nested in it.

    ``start``/``end`` are offsets into ``source``, the text it was found in (the page
    after :func:`strip_unparsed`). ``params`` maps parameter names (``"1"``, ``"2"``...
    for unnamed ones) to raw wikitext values; named values are trimmed, unnamed ones
    kept as written, as MediaWiki does; a repeated name keeps its last value.
    """

    def __init__(self, name: str, source: str, start: int, end: int, name_end: int,
                 children: list[Template], spans: list[tuple[int, int]]):
        self.name = name
        self.source = source
        self.start = start
        self.end = end
        self.children = children
        self._spans = spans
        self._name_end = name_end

    def __repr__(self) -> str:
        return f"Template({self.name!r}, {self.start}:{self.end})"

    @property
    def wikitext(self) -> str:
        return self.source[self.start : self.end]

    @cached_property
    def params(self) -> dict[str, str]:
        text, spans = self.source, self._spans
        end = self.end - 2
        segments = []  # (start, position of the naming '=' or -1, end)
        seg_start, eq, depth, j = self._name_end + 1, -1, 0, 0
        if seg_start > end:  # no '|' at all
            return {}
        for m in _PARAM_TOKENS.finditer(text, seg_start, end):
            pos = m.start()
            while j < len(spans) and spans[j][1] <= pos:
                j += 1
            if j < len(spans) and spans[j][0] <= pos:
                continue  # inside a nested template
            token = m.group()
            if token == "[[":
                depth += 1
            elif token == "]]":
                depth = max(0, depth - 1)
            elif depth:
                continue
            elif token == "|":
                segments.append((seg_start, eq, pos))
                seg_start, eq = pos + 1, -1
            elif eq < 0:
                eq = pos
        segments.append((seg_start, eq, end))
        params: dict[str, str] = {}
        number = 1
        for start, eq, stop in segments:
            if eq >= 0:
                params[text[start:eq].strip()] = text[eq + 1 : stop].strip()
            else:
                params[str(number)] = text[start:stop]
                number += 1
        return params


class _Open:
    __slots__ = ("count", "nodes", "pos", "spans")

    def __init__(self, pos: int, count: int):
        self.pos = pos
        self.count = count
        self.nodes: list[Template] = []
        self.spans: list[tuple[int, int]] = []


def _first_pipe(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> int:
    for s, e in spans:
        i = text.find("|", start, min(s, end))
        if i >= 0:
            return i
        start = max(start, e)
    i = text.find("|", start, end)
    return i if i >= 0 else end


def _brace_runs(text: str) -> list[tuple[int, int, bool]]:
    opens = [(m.start(), m.end(), True) for m in _OPEN_BRACES.finditer(text)]
    if not opens:
        return []
    closes = [(m.start(), m.end(), False) for m in _CLOSE_BRACES.finditer(text)]
    return sorted(opens + closes)


def _scan(text: str) -> tuple[list[Template], list[tuple[int, int]]]:
    """Top-level templates of ``text`` and the spans of all its top-level brace elements."""
    root = _Open(-1, 0)
    stack: list[_Open] = []
    for pos, stop, opening in _brace_runs(text):
        run = stop - pos
        if opening:
            stack.append(_Open(pos, run))
            continue
        close = pos
        while run >= 2 and stack:
            top = stack[-1]
            k = min(top.count, run, 3)
            start, end = top.pos + top.count - k, close + k
            nodes, spans = top.nodes, top.spans
            top.count -= k
            run -= k
            close += k
            if top.count < 2:  # a single brace left over is plain text
                stack.pop()
                parent = stack[-1] if stack else root
            else:
                top.nodes, top.spans = [], []
                parent = top
            parent.spans.append((start, end))
            name = None
            if k == 2:
                name_end = _first_pipe(text, start + 2, end - 2, spans)
                name = template_name(text[start + 2 : name_end])
            if name is not None:
                parent.nodes.append(Template(name, text, start, end, name_end, nodes, spans))
            else:
                # A template argument, parser function or magic word: what it holds moves up a level.
                parent.nodes.extend(nodes)
    # Unclosed braces are plain text; the templates closed inside them still count.
    while stack:
        top = stack.pop()
        parent = stack[-1] if stack else root
        parent.nodes.extend(top.nodes)
        parent.spans.extend(top.spans)
    return root.nodes, sorted(root.spans)


def parse_templates(wikitext: str) -> list[Template]:
    """The top-level templates of a page, in order, each with its nested templates as ``children``."""
    return _scan(strip_unparsed(wikitext))[0]


def templates(wikitext: str) -> list[tuple[str, dict[str, str]]]:
    """``(name, params)`` of each top-level template of a page, in order (see :class:`Template`)."""
    return [(t.name, t.params) for t in parse_templates(wikitext)]


_TABLE = re.compile(r"\{\|.*?\n\s*\|\}", re.DOTALL)
_LINK = re.compile(r"\[\[([^\[\]]*)\]\]")
_EXTERNAL = re.compile(r"\[(?:https?:|ftp:|//)[^\s\]]*(?:\s+([^\]]*))?\]", re.IGNORECASE)
_SMALL = re.compile(r"<small\b[^>]*>.*?</small\s*>", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"<[^<>]*>")
_EMPHASIS = re.compile(r"'{2,}")
_DROPPED_LINKS = ("file", "image", "category", "media")


def _link_label(m: re.Match) -> str:
    target, pipe, label = m.group(1).partition("|")
    prefix, colon, _ = target.partition(":")
    if colon and prefix.strip().lower() in _DROPPED_LINKS:
        return ""  # an image or a category link shows no text
    return label if pipe else target.lstrip(":")


# List and wrapper templates whose items are the text a reader sees; DBpedia's template
# transformations (templatetransform.json) unwrap these before reading a value as text.
_UNWRAPPED = frozenset(["Nowrap", "Nobr", "Hlist", "Flatlist", "Flat list", "Plainlist", "Plain list",
                        "Unbulleted list", "Ubl", "Ublist", "Collapsible list", "Marriage"])
_BULLET = re.compile(r"(?m)^[ \t]*[*#]+[ \t]*")


def _unwrap(t: Template) -> str:
    items = [v for k, v in t.params.items() if k.isdigit()]
    return " ".join(_BULLET.sub("", clean_value(v)) for v in items)


def clean_value(value: str) -> str:
    """The text a reader sees in a parameter value, as DBpedia's ``StringParser`` makes it.

    Links become their label (``[[Bank|banks]]`` -> ``banks``, link trails kept),
    external links their label; list templates (``{{hlist|a|b}}``, ``{{plainlist|...}}``,
    ``{{nowrap|...}}``) their items, as DBpedia's template transformations make them;
    other templates, tables, images, comments, ``<small>`` parts and HTML tags are
    removed, bold/italic quotes dropped, entities decoded and the ends trimmed.
    """
    text = strip_unparsed(value)
    if "{{" in text:
        nodes, spans = _scan(text)
        unwrapped = {t.start: _unwrap(t) for t in nodes if t.name in _UNWRAPPED}
        pieces, last = [], 0
        for s, e in spans:
            pieces.append(text[last:s])
            pieces.append(unwrapped.get(s, ""))
            last = e
        pieces.append(text[last:])
        text = "".join(pieces)
    if "{|" in text:
        text = _TABLE.sub("", text)
    if "[" in text:
        while True:
            new = _LINK.sub(_link_label, text)
            if new == text:
                break
            text = new
        text = _EXTERNAL.sub(lambda m: m.group(1) or "", text)
    if "<" in text:
        text = _TAG.sub("", _SMALL.sub("", text))
    if "''" in text:
        text = _EMPHASIS.sub("", text)
    if "&" in text:
        text = html.unescape(text)
    return text.replace("\xa0", " ").strip()
