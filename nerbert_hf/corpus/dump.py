"""Stream the pages of a MediaWiki XML export (plain or bz2), and MediaWiki's title rules.

:func:`iter_pages` reads a ``pages-articles`` dump of any schema version (0.3 to 0.11)
in constant memory: expat parses, page elements are dropped once read, and a bz2
file (single- or multistream) is decompressed in a background thread, which runs in
parallel because the bz2 module releases the GIL. A file that is cut short, corrupt,
not UTF-8, not XML or not a MediaWiki export raises :class:`DumpError` naming the
file and the position.

:func:`normalize_title` applies MediaWiki's title normalisation, so that link
targets, redirect targets and page titles compare equal when MediaWiki would
treat them as the same page.
"""

from __future__ import annotations

import bz2
import html
import queue
import re
import threading
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..errors import NerbertError

# English canonical namespace names and aliases (lower case) -> (id, canonical name).
# Canonical names are valid on every wiki; localised names of other languages are not known here.
_NAMESPACE_LIST = [
    (-2, "Media"), (-1, "Special"), (1, "Talk"), (2, "User"), (3, "User talk"),
    (4, "Wikipedia"), (5, "Wikipedia talk"), (6, "File"), (7, "File talk"),
    (8, "MediaWiki"), (9, "MediaWiki talk"), (10, "Template"), (11, "Template talk"),
    (12, "Help"), (13, "Help talk"), (14, "Category"), (15, "Category talk"),
    (100, "Portal"), (101, "Portal talk"), (108, "Book"), (109, "Book talk"),
    (118, "Draft"), (119, "Draft talk"), (446, "Education Program"), (447, "Education Program talk"),
    (710, "TimedText"), (711, "TimedText talk"), (828, "Module"), (829, "Module talk"),
    (2300, "Gadget"), (2301, "Gadget talk"), (2302, "Gadget definition"),
    (2303, "Gadget definition talk"), (2600, "Topic"),
]
_NAMESPACE_ALIASES = {
    "project": 4, "wp": 4, "project talk": 5, "wt": 5, "image": 6, "image talk": 7, "tm": 10,
}
NAMESPACES: dict[int, str] = {0: "", **dict(_NAMESPACE_LIST)}
"""Namespace id -> canonical English name (``""`` for the main namespace)."""
_NS_BY_NAME = {name.lower(): (ns, name) for ns, name in _NAMESPACE_LIST}
_NS_BY_NAME.update({alias: (ns, NAMESPACES[ns]) for alias, ns in _NAMESPACE_ALIASES.items()})

# Interwiki prefixes of Wikimedia's sister projects (a link [[wikt:cat|cat]] shows its label)...
INTERWIKI_PREFIXES = frozenset(
    "wikt wiktionary w s wikisource q wikiquote b wikibooks n wikinews v wikiversity voy wikivoyage "
    "d wikidata c commons m meta metawikimedia mw mediawikiwiki species wikispecies wmf foundation "
    "phab phabricator incubator outreach betawikiversity oldwikisource wikitech "
    # and the external interwikis that articles use most (handles, identifiers, archives)
    "hdl doi arxiv rfc oeis jstor pmid issn imdbname imdbtitle imdbcompany gutenberg google googlegroups "
    "sourceforge bugzilla mediazilla gerrit translatewiki iarchive".split()
)
# Wikipedia language editions (interlanguage prefixes): a link [[fr:Paris]] goes to the sidebar.
LANGUAGE_PREFIXES = frozenset(
    """aa ab ace ady af ak als alt am ami an ang anp ar arc ary arz as ast atj av avk awa ay az azb
    ba ban bar bat-smg bbc bcl bdr be be-tarask be-x-old bew bg bh bi bjn blk bm bn bo bpy br bs btm bug bxr
    ca cbk-zam cdo ce ceb ch cho chr chy ckb co cr crh cs csb cu cv cy da dag de dga din diq dsb dtp dty dv dz
    ee el eml en eo es et eu ext fa fat ff fi fiu-vro fj fo fon fr frp frr fur fy ga gag gan gcr gd gl glk gn
    gom gor got gpe gu guc gur guw gv ha hak haw he hi hif ho hr hsb ht hu hy hyw hz ia iba id ie ig igl ii
    ik ilo inh io is it iu ja jam jbo jv ka kaa kab kbd kbp kcg kg kge ki kj kk kl km kn knc ko koi kr krc
    ks ksh ku kus kv kw ky la lad lb lbe lez lfn lg li lij lld lmo ln lo lrc lt ltg lv lzh mad mai map-bms
    mdf mg mh mhr mi min mk ml mn mni mnw mo mos mr mrj ms mt mus mwl my myv mzn na nah nan nap nds nds-nl ne
    new ng nia nl nn no nov nqo nr nrm nso nup nv ny oc olo om or os pa pag pam pap pcd pcm pdc pfl pi pih pl
    pms pnb pnt ps pt pwn qu rm rmy rn ro roa-rup roa-tara rsk ru rue rup rw sa sah sat sc scn sco sd se
    sg sgs sh shi shn si simple sk skr sl sm smn sn so sq sr srn ss st stq su sv sw syl szl szy ta tay tcy
    tdd te tet tg th ti tig tk tl tly tn to tpi tr trv ts tt tum tw ty tyv udm ug uk ur uz ve vec vep vi
    vls vo vro wa war wo wuu xal xh xmf yi yo yue za zea zgh zh zh-classical zh-min-nan zh-yue zu""".split()
)

# Characters MediaWiki folds into one space in titles (besides "_" and " ").
_TITLE_SPACES_RE = re.compile(r"[\s_\xa0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
# Bidi marks that creep into copied titles; MediaWiki deletes them.
_BIDI_RE = re.compile("[\u200e\u200f\u202a-\u202e]")
_TITLE_WORK_RE = re.compile(r"[_&#:\t\n\r\f\v]|  |^ | $")


class DumpError(NerbertError, ValueError):
    """An unreadable dump; ``path`` and ``where`` (e.g. ``line 12, column 3``, or None) say where."""

    def __init__(self, path: str | Path, where: str | None, message: str):
        self.path = str(path)
        self.where = where
        self.reason = message
        super().__init__(f"{self.path}: {where}: {message}" if where else f"{self.path}: {message}")


@dataclass(slots=True)
class Page:
    """One page of a dump: its id, namespace, title as a reader sees it, normalised redirect target (None if
    the page is not a redirect) and wikitext."""

    id: int
    ns: int
    title: str
    redirect: str | None
    text: str


def _ucfirst(s: str) -> str:
    if not s or "\u10d0" <= s[0] <= "\u10ff":
        return s  # Georgian Mkhedruli has capitals since Unicode 11, but MediaWiki keeps its titles as they are
    upper = s[0].upper()
    # A letter whose capital is two characters (German ß, Afrikaans ŉ) stays as it is, as in MediaWiki.
    return upper + s[1:] if len(upper) == 1 else s


def split_namespace(title: str) -> tuple[str, str]:
    """Split a title (already space-normalised) into ``(prefix, rest)``.

    ``prefix`` is the canonical namespace name (``"Category"`` for ``category``,
    ``"File"`` for ``Image``), a lower-cased interwiki or language prefix
    (``"wikt"``, ``"fr"``), or ``""`` when the title is in the main namespace: a
    colon after anything else is part of the title, as in ``Star Wars: Episode I``.
    """
    colon = title.find(":")
    if colon <= 0:
        return "", title
    name = title[:colon].strip().lower()
    rest = title[colon + 1 :].strip()
    known = _NS_BY_NAME.get(name)
    if known is not None:
        return known[1], rest
    if name in INTERWIKI_PREFIXES or name in LANGUAGE_PREFIXES:
        return name, rest
    return "", title


def namespace_id(prefix: str) -> int | None:
    """The id of a canonical namespace name from :func:`split_namespace` (0 for ``""``), or None."""
    if not prefix:
        return 0
    known = _NS_BY_NAME.get(prefix.lower())
    return known[0] if known else None


def normalize_title(title: str) -> str:
    """A title or link target as MediaWiki stores it, with spaces rather than underscores.

    Decodes HTML entities, drops bidi marks, folds underscores and runs of
    (Unicode) whitespace into one space, strips, drops a leading ``:`` and the
    ``#fragment``, canonicalises a namespace prefix (``category:x`` ->
    ``Category:X``, ``Image:`` -> ``File:``) and upper-cases the first letter of
    the page name. Interwiki and language prefixes are lower-cased and their page
    name is left as written (the other wiki may be case-sensitive). Returns ``""``
    for a link to a section of the same page (``#History``).
    """
    if title.isascii() and not _TITLE_WORK_RE.search(title):
        return title[:1].upper() + title[1:]  # the common case: nothing to fold, decode or split
    if "&" in title:
        title = html.unescape(title)
    if not title.isascii():
        title = _BIDI_RE.sub("", unicodedata.normalize("NFC", title))
    title = _TITLE_SPACES_RE.sub(" ", title).strip()
    if title.startswith(":"):
        title = title[1:].lstrip()
    hash_at = title.find("#")
    if hash_at >= 0:
        title = title[:hash_at].rstrip()
    prefix, rest = split_namespace(title)
    if not prefix:
        return _ucfirst(title)
    if namespace_id(prefix) is not None:
        return f"{prefix}:{_ucfirst(rest)}"
    return f"{prefix}:{rest}"


def is_article(page: Page) -> bool:
    """A main-namespace page that is not a redirect."""
    return page.ns == 0 and page.redirect is None


# Disambiguation templates of the English Wikipedia (names lower-cased, spaces not underscores),
# besides the family "... disambiguation" (Human name disambiguation, Genus disambiguation, ...).
DISAMBIGUATION_TEMPLATES = frozenset(
    name.strip()
    for name in """disambiguation, disambig, disamb, dab, dbig, disambiguation page, geodis, hndis, hndisambig,
    hndis-cleanup, numberdis, schooldis, hospitaldis, roaddis, mathdab, mil-unit-dis, shipindex disambig,
    letter disambig, letter-numbercombdisambig, lnc disambig, molformdisambig, chinese title disambig,
    disambig-chinese-char-title, disambiguation cleanup, disambig-cleanup, dab cleanup, airport disambig,
    callsigndis, battledist, church disambig, hurricane disambig""".split(",")
)
_TEMPLATE_NAME_RE = re.compile(r"\{\{\s*([^{}|<>\[\]\n]{1,100}?)\s*(?=\||\}\})")


def _is_dab_template(name: str) -> bool:
    name = _TITLE_SPACES_RE.sub(" ", name).strip().lower()
    if name.startswith("template:"):
        name = name[9:].lstrip()
    return name in DISAMBIGUATION_TEMPLATES or name.endswith(" disambiguation")


# Every name above, and "... disambiguation", holds one of these: other templates skip the normalisation.
_DAB_HINT_RE = re.compile("dis|dab|dbig", re.IGNORECASE)


def is_disambiguation(page: Page) -> bool:
    """A disambiguation page: its title ends with ``(disambiguation)``, or its wikitext uses a
    disambiguation template (``{{disambiguation}}``, ``{{dab}}``, ``{{hndis}}``, ``{{geodis}}``,
    any ``{{... disambiguation}}``, case-insensitive, with or without parameters) or ``__DISAMBIG__``."""
    if page.title.endswith("(disambiguation)"):
        return True
    text = page.text
    if "__DISAMBIG__" in text:
        return True
    names = (m.group(1) for m in _TEMPLATE_NAME_RE.finditer(text))
    return any(_is_dab_template(name) for name in names if _DAB_HINT_RE.search(name))


def redirect_table(pages: Iterable[Page]) -> dict[str, str]:
    """Redirect title -> normalised target, for the redirects among ``pages``."""
    return {p.title: p.redirect for p in pages if p.redirect is not None}


def resolve(title: str, redirects: dict[str, str], max_hops: int = 5) -> str:
    """Follow redirects from ``title`` (both already normalised) to the page they end on.

    Stops after ``max_hops`` redirects, or at the last title before a cycle would
    repeat one; a title that is not a redirect is returned as it is.
    """
    seen = {title}
    for _ in range(max_hops):
        target = redirects.get(title)
        if target is None or target in seen:
            return title
        seen.add(target)
        title = target
    return title


# ---------------------------------------------------------------------------- reading

_CHUNK = 1 << 20
_REDIRECT_TEXT_RE = re.compile(r"\s*#REDIRECT\s*:?\s*\[\[([^\]|\n]+)", re.IGNORECASE)
_END = object()


def _bz2_chunks(f: IO[bytes], path: Path, start: int, stop: int | None) -> Iterator[bytes]:
    """Decompressed bytes of a bz2 file from byte ``start`` to ``stop``, through every stream of a multistream file."""
    decomp = bz2.BZ2Decompressor()
    consumed = start  # compressed bytes read so far, counted from the file's start
    in_stream = False
    f.seek(start)
    while True:
        data = f.read(_CHUNK if stop is None else min(_CHUNK, stop - consumed))
        if not data:
            break
        chunk_start = consumed
        consumed += len(data)
        while data:
            in_stream = True
            try:
                out = decomp.decompress(data)
            except (OSError, ValueError) as err:
                raise DumpError(
                    path, f"compressed bytes {chunk_start}-{consumed}", f"corrupt bz2 data ({err})"
                ) from None
            if out:
                yield out
            if decomp.eof:
                # Multistream: the bytes after one stream's end start the next stream.
                data = decomp.unused_data
                chunk_start = consumed - len(data)
                decomp = bz2.BZ2Decompressor()
                in_stream = False
            else:
                data = b""
    if in_stream:
        if stop is not None and consumed == stop:
            raise DumpError(path, f"compressed byte {stop}", "stop_offset is not the end of a bz2 stream")
        raise DumpError(
            path, f"compressed byte {consumed}", "the bz2 data ends in the middle of a stream (truncated file?)"
        )


def _prefetched(chunks: Iterator[bytes], maxsize: int = 4) -> Iterator[bytes]:
    """Run ``chunks`` in a thread, a few chunks ahead of the consumer (bz2 releases the GIL)."""
    q: queue.Queue = queue.Queue(maxsize)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work():
        try:
            for chunk in chunks:
                if not put(chunk):
                    return
            put(_END)
        except BaseException as err:  # noqa: BLE001 - handed to the consumer, which re-raises it
            put(err)

    worker = threading.Thread(target=work, name="nerbert-bz2", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def _plain_chunks(f: IO[bytes], start: int, stop: int | None) -> Iterator[bytes]:
    f.seek(start)
    remaining = None if stop is None else stop - start
    while remaining is None or remaining > 0:
        chunk = f.read(_CHUNK if remaining is None else min(_CHUNK, remaining))
        if not chunk:
            return
        if remaining is not None:
            remaining -= len(chunk)
        yield chunk


class _Position:
    """Where the bytes fed to expat came from, to turn its (line, column) into a byte offset."""

    def __init__(self, offset: int = 0):
        self.offset = offset  # bytes before the current chunk
        self.lines = 0  # newlines before the current chunk
        self.previous = b""
        self.current = b""

    def advance(self, chunk: bytes):
        self.offset += len(self.current)
        self.lines += self.current.count(b"\n")
        self.previous, self.current = self.current, chunk

    def bad_utf8(self) -> tuple[int, int, bytes] | None:
        """(byte offset, line, bytes) of the first invalid UTF-8 in the last two chunks, or None."""
        data = self.previous + self.current
        base = self.offset - len(self.previous)
        lines = self.lines - self.previous.count(b"\n")
        skip = 0
        while skip < min(3, len(data)) and 0x80 <= data[skip] < 0xC0:
            skip += 1  # a character split by the chunk boundary before these two chunks
        try:
            data[skip:].decode("utf-8")
        except UnicodeDecodeError as err:
            at = skip + err.start
            return base + at, lines + data.count(b"\n", 0, at) + 1, data[at : skip + err.end]
        return None


def _local(tag: str) -> str:
    return tag[tag.index("}") + 1 :] if tag.startswith("{") else tag


def _int(path: Path, number: int, title: str | None, field: str, value: str | None) -> int:
    try:
        return int(value.strip())
    except (AttributeError, ValueError):
        raise DumpError(path, f"page {number}", f"<{field}> of {title!r} is {value!r}, not an integer") from None


def iter_pages(
    path: str | Path, *, start_page: int = 0, start_offset: int = 0, stop_offset: int | None = None
) -> Iterator[Page]:
    """Every page of a MediaWiki XML dump, in file order, in constant memory.

    ``path`` is plain XML or bz2 (single- or multistream), told apart by content,
    not name. The page text is that of the page's last ``<revision>``.

    To resume or split a pass: ``start_page`` skips that many pages (they are still
    read, not built). ``start_offset`` and ``stop_offset`` (exclusive) read only
    part of the file: in a multistream bz2 they are stream starts (from the dump's
    ``-index.txt`` file, or :func:`bz2_stream_offsets`), in plain XML byte offsets
    of ``<page>`` lines. Workers given adjacent ranges see every page once.

    Raises :class:`DumpError` for a missing, empty, truncated or corrupt file, bytes
    that are not UTF-8, malformed XML, or XML whose root is not ``<mediawiki>``. In
    the bz2 case byte offsets in messages count decompressed bytes, and with a
    ``start_offset`` lines count from there.
    """
    path = Path(path)
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed by the `with` below, once open() has succeeded
    except OSError as err:
        raise DumpError(path, None, f"cannot read file: {err.strerror or err}") from None
    with f:
        magic = f.read(3)
        if not magic:
            raise DumpError(path, None, "empty file")
        f.seek(start_offset)
        if start_offset and magic == b"BZh" and f.read(3) != b"BZh":
            raise DumpError(path, f"byte {start_offset}", "start_offset is not the start of a bz2 stream")
        if magic == b"BZh":
            chunks = _prefetched(_bz2_chunks(f, path, start_offset, stop_offset))
            position = _Position()
        else:
            chunks = _plain_chunks(f, start_offset, stop_offset)
            position = _Position(start_offset)
        # Part of a dump has no root element: a bare <mediawiki> stands in for it.
        partial = bool(start_offset) or stop_offset is not None
        try:
            yield from _parse(path, chunks, position, start_page, partial, bool(start_offset))
        finally:
            chunks.close()


def bz2_stream_offsets(path: str | Path) -> list[int]:
    """Byte offsets of the bz2 streams of a (multistream) bz2 file, first to last.

    Found by their byte-aligned header ("BZh", a block size, then the 48-bit block
    magic), which elsewhere in compressed data has odds of about 2^-80 per byte;
    streams with no data blocks are not listed (they hold no pages).
    """
    path = Path(path)
    signature = re.compile(rb"BZh[1-9]1AY&SY")
    offsets, base, tail = [], 0, b""
    try:
        with open(path, "rb") as f:
            while chunk := f.read(16 << 20):
                data = tail + chunk
                offsets += [base - len(tail) + m.start() for m in signature.finditer(data)]
                tail = data[-9:]
                base += len(chunk)
    except OSError as err:
        raise DumpError(path, None, f"cannot read file: {err.strerror or err}") from None
    return sorted(set(offsets))


def _parse(
    path: Path, chunks: Iterator[bytes], position: _Position, start_page: int, partial: bool, headless: bool
) -> Iterator[Page]:
    parser = ET.XMLPullParser(events=("start", "end"))
    root = None
    root_closed = False
    ns = ""
    page_tag = revision_tag = ""
    page = None
    number = 0  # pages seen
    if headless:
        parser.feed(b"<mediawiki>")

    def xml_error(err: ET.ParseError, at_end: bool) -> DumpError:
        line, column = err.position
        bad = position.bad_utf8()
        if bad is not None and bad[1] <= line:
            offset, bad_line, data = bad
            return DumpError(path, f"line {bad_line}, byte {offset}", f"not UTF-8: bytes {data.hex(' ')}")
        if at_end and root is not None:
            return DumpError(
                path, f"line {line}, column {column}",
                "the XML ends before </mediawiki> (truncated file?)",
            )
        reason = str(err).split(":")[0]
        return DumpError(path, f"line {line}, column {column}", f"malformed XML: {reason}")

    def events(data: bytes) -> Iterator[tuple[str, ET.Element]]:
        try:
            parser.feed(data)
            yield from parser.read_events()
        except ET.ParseError as err:
            raise xml_error(err, at_end=False) from None

    for chunk in chunks:
        if position.current == b"" and not headless and chunk.lstrip()[:1] not in (b"<", b"\xef", b""):
            raise DumpError(path, "byte 0", "neither XML nor bz2: the file does not start with '<' or 'BZh'")
        position.advance(chunk)
        for event, elem in events(chunk):
            if root is None:
                root = elem
                if _local(elem.tag) != "mediawiki":
                    raise DumpError(
                        path, "line 1",
                        f"not a MediaWiki export: the root element is <{_local(elem.tag)}>, not <mediawiki>",
                    )
                ns = elem.tag[: elem.tag.index("}") + 1] if elem.tag.startswith("{") else ""
                page_tag, revision_tag = ns + "page", ns + "revision"
                continue
            tag = elem.tag
            if event == "start":
                if tag == page_tag:
                    page = elem
                continue
            if tag == revision_tag and page is not None:
                # History dumps: keep only the latest revision seen so far.
                for old in page.findall(revision_tag)[:-1]:
                    page.remove(old)
            elif tag == page_tag:
                number += 1
                if number > start_page:
                    yield _page(path, number, elem, ns)
                page = None
                root.clear()
            elif elem is root:
                root_closed = True
    if partial and not root_closed:
        # The part ends before the dump does: close the root it opened, or stood in for.
        for _ in events(b"</mediawiki>"):
            pass
    try:
        parser.close()
    except ET.ParseError as err:
        raise xml_error(err, at_end=True) from None


def _page(path: Path, number: int, elem: ET.Element, ns: str) -> Page:
    title = elem.findtext(ns + "title")
    if title is None:
        raise DumpError(path, f"page {number}", "<page> without <title>")
    page_id = _int(path, number, title, "id", elem.findtext(ns + "id"))
    ns_text = elem.findtext(ns + "ns")
    if ns_text is None:
        # Schema 0.3 and older have no <ns>: the title's prefix says it.
        ns_id = namespace_id(split_namespace(title)[0])
        namespace = ns_id if ns_id is not None else 0
    else:
        namespace = _int(path, number, title, "ns", ns_text)
    text = ""
    revision = elem.find(ns + "revision")
    if revision is not None:
        text = revision.findtext(ns + "text") or ""
    redirect_elem = elem.find(ns + "redirect")
    redirect = None
    if redirect_elem is not None:
        redirect = normalize_title(redirect_elem.get("title", ""))
    elif text[:1] in ("#", " ", "\n"):
        # Schemas before 0.5 carry no <redirect>: the wikitext says it.
        match = _REDIRECT_TEXT_RE.match(text)
        if match:
            redirect = normalize_title(match.group(1))
    return Page(page_id, namespace, title, redirect, text)
