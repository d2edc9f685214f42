"""The DBpedia side of the corpus: ontology, infobox mappings, instance types and a title -> class index.

An article's class comes either from its infobox, through DBpedia's mapping wiki
(``Mapping_en.xml``: which template maps to which ontology class, under which
conditions on its parameters), or from DBpedia's published ``instance-types``
files. Classes are the ontology's local names (``Politician``); ``owl:Thing`` is
the root. The semantics follow DBpedia's extraction framework (``MappingsLoader``,
``ConditionalMapping``, ``TemplateMapping``, ``MappingExtractor``), noted where used.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import html
import json
import logging
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import numpy as np

from ..errors import FileError
from .infobox import Template, called_names, clean_value, normalize_name, parse_templates

logger = logging.getLogger(__name__)

THING = "owl:Thing"
DBO = "http://dbpedia.org/ontology/"
_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
_RDFS = "{http://www.w3.org/2000/01/rdf-schema#}"
_OWL = "{http://www.w3.org/2002/07/owl#}"
_OWL_THING = "http://www.w3.org/2002/07/owl#Thing"
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


class DBpediaFileError(FileError):
    """A DBpedia file that cannot be used; ``path`` and ``line`` (1-based, or None) say where."""


class OntologyError(DBpediaFileError):
    """An ontology file that does not parse or holds no DBpedia class."""


class MappingError(DBpediaFileError):
    """A mapping file that does not parse or holds no mapping."""


class InstanceTypesError(DBpediaFileError):
    """A malformed line (or an unreadable file) of an instance-types file."""


class TypeIndexError(DBpediaFileError):
    """A type index folder that is missing files or does not hold a consistent index."""


def _xml_error(cls: type[DBpediaFileError], path: Path, err: ET.ParseError, what: str) -> DBpediaFileError:
    line = err.position[0] if getattr(err, "position", None) else None
    return cls(path, line, f"not a readable {what}: {err}")


# --- ontology -------------------------------------------------------------------------------------------------


class Ontology:
    """The DBpedia class tree: every class has one parent, up to ``owl:Thing``.

    Build it with :meth:`from_owl`. ``classes`` holds the local names (``Politician``)
    in file order, without ``owl:Thing``, which is the root: ``parent`` of a top class.
    """

    def __init__(self, parents: dict[str, str], source: str | None = None):
        self.source = source
        self._parent = dict(parents)
        self._ancestors: dict[str, tuple[str, ...]] = {THING: ()}
        for cls in self._parent:
            chain, seen, cur = [], {cls}, self._parent[cls]
            while cur != THING:
                if cur in seen:  # a cycle: cut it at the class we started from
                    logger.warning("ontology %s: subclass cycle through %s; treating %s as a top class",
                                   source, cur, cls)
                    chain = []
                    break
                seen.add(cur)
                chain.append(cur)
                cur = self._parent.get(cur, THING)
            self._ancestors[cls] = (*chain, THING)
        self.classes = tuple(self._parent)

    @classmethod
    def from_owl(cls, path: str | Path) -> Ontology:
        """Read ``dbpedia-ontology*.owl`` (RDF/XML).

        A class with several ``rdfs:subClassOf`` (``Band``: ``dbo:Group``,
        ``schema:MusicGroup``, ``dul:SocialPerson``) takes the first one in the DBpedia
        namespace that is a class of the file: the others come from foreign vocabularies
        whose trees are not the DBpedia one; with none, the class sits under ``owl:Thing``.
        A parent written with a lower-case first letter (``building`` in the 2022+
        files) is read as the capitalised class, since DBpedia class names are
        capitalised; a parent missing from the file (``TimeInterval``) is dropped with
        a warning, as DBpedia's own reader does.
        """
        path = Path(path)
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as err:
            raise _xml_error(OntologyError, path, err, "RDF/XML ontology") from None
        except OSError as err:
            raise OntologyError(path, None, f"cannot read file: {err.strerror or err}") from None
        base = root.get("{http://www.w3.org/XML/1998/namespace}base", DBO)
        declared: dict[str, list[str]] = {}
        for node in root.iter(f"{_OWL}Class"):
            about = node.get(f"{_RDF}about") or ""
            if "://" not in about:
                about = base + about
            if not about.startswith(DBO) or "/" in about[len(DBO):] or about == DBO:
                continue
            supers = [s.get(f"{_RDF}resource") or "" for s in node.findall(f"{_RDFS}subClassOf")]
            declared[about[len(DBO):]] = [s if "://" in s else base + s for s in supers]
        if not declared:
            raise OntologyError(path, None, f"no owl:Class in the DBpedia namespace {DBO} (not a DBpedia ontology?)")
        by_lower = {name.lower(): name for name in declared}
        parents, unknown = {}, []
        for name, supers in declared.items():
            parent = THING
            for iri in supers:
                if not iri.startswith(DBO):
                    continue
                local = iri[len(DBO):]
                found = local if local in declared else None
                if found is None and local[:1].islower() and local.lower() in by_lower:
                    found = by_lower[local.lower()]
                if found is None:
                    unknown.append(f"{name} -> {local}")
                    continue
                parent = found
                break
            parents[name] = parent
        if unknown:
            logger.warning("ontology %s: %d parent class(es) not defined in the file, dropped: %s",
                           path, len(unknown), ", ".join(unknown))
        return cls(parents, str(path))

    def __contains__(self, cls: object) -> bool:
        return cls in self._ancestors

    def __len__(self) -> int:
        return len(self.classes)

    def _check(self, cls: str) -> None:
        if cls not in self._ancestors:
            raise KeyError(f"{cls!r} is not a class of the ontology {self.source or ''}".rstrip())

    def parent(self, cls: str) -> str | None:
        """The direct parent (``owl:Thing`` for a top class), None for ``owl:Thing`` itself."""
        self._check(cls)
        return self._ancestors[cls][0] if cls != THING else None

    def ancestors(self, cls: str) -> list[str]:
        """The ancestors, nearest first, ending with ``owl:Thing`` (empty for ``owl:Thing``)."""
        self._check(cls)
        return list(self._ancestors[cls])

    def depth(self, cls: str) -> int:
        """Steps from ``owl:Thing``: 0 for it, 1 for a top class such as ``Agent``."""
        self._check(cls)
        return len(self._ancestors[cls])

    def is_a(self, cls: str, other: str) -> bool:
        """Whether ``cls`` is ``other`` or one of its descendants."""
        self._check(cls)
        return cls == other or other in self._ancestors[cls]


# --- infobox mappings -----------------------------------------------------------------------------------------

_OPERATORS = ("isSet", "equals", "contains", "otherwise")
_REDIRECT = re.compile(r"\s*#REDIRECT\s*:?\s*\[\[([^\]|#]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Condition:
    """One case of a ConditionalMapping: when it matches, the template maps to ``cls``.

    ``cls`` is None when the case names a class the ontology lacks: the case still
    matches (so later cases are not tried) but gives no class.
    """

    operator: str
    param: str | None
    value: str | None
    cls: str | None

    def matches(self, params: dict[str, str], cleaned: dict[str, str] | None = None) -> bool:
        """DBpedia's ``ConditionMapping.matches``: the parameter's plain text, lower-cased and trimmed,
        is non-empty (``isSet``), equal to the lower-cased value (``equals``) or contains it (``contains``);
        ``otherwise`` always matches and a missing parameter never does."""
        if self.operator == "otherwise":
            return True
        if cleaned is not None and self.param in cleaned:
            text = cleaned[self.param]
        elif self.param not in params:
            return False
        else:
            text = clean_value(params[self.param]).lower().strip()
            if cleaned is not None:
                cleaned[self.param] = text
        if self.operator == "isSet":
            return bool(text)
        if self.operator == "equals":
            return text == self.value.lower()
        return self.value.lower() in text


@dataclass(frozen=True)
class TemplateMapping:
    """A template mapped to one class (None: a class the ontology lacks).

    ``corresponding`` is set when the mapping names a ``correspondingClass`` and
    ``correspondingProperty``: on a page whose class already is (below) that class, the
    template describes another thing (a sub-instance) and leaves the page's class alone.
    """

    cls: str | None
    corresponding: str | None = None


@dataclass(frozen=True)
class ConditionalMapping:
    """A template whose class depends on its parameters: the first matching case wins."""

    cases: tuple[Condition, ...]

    def case(self, params: dict[str, str], called_as: str | None = None) -> Condition | None:
        """The first case that matches; ``called_as``, the template name as the page wrote it, is the
        value of the mapping wiki's ``$TemplateName`` pseudo-parameter (``Infobox country`` tells a
        geopolitical organisation, whose template redirects to it, by this name)."""
        cleaned = {"$TemplateName": called_as.lower()} if called_as else {}
        return next((c for c in self.cases if c.matches(params, cleaned)), None)


Mapping = TemplateMapping | ConditionalMapping


class InfoboxMappings:
    """Template name -> mapping, read from DBpedia's mapping wiki export (``Mapping_en.xml``).

    Template names are normalised as MediaWiki titles (first letter upper-cased,
    underscores as spaces, the rest case-sensitive), which is how DBpedia looks them
    up. Mapping-wiki redirect pages (``Mapping en:Infobox Company`` -> ``Infobox
    company``) become aliases: they record template renames, which DBpedia resolves
    through Wikipedia's template redirects; :meth:`add_template_redirects` adds those
    redirects when the dump's Template namespace is at hand.
    """

    def __init__(self, mappings: dict[str, Mapping], ontology: Ontology, aliases: dict[str, str] | None = None,
                 source: str | None = None):
        self.mappings = {normalize_name(name): m for name, m in mappings.items()}
        self.ontology = ontology
        self.source = source
        self.aliases: dict[str, str] = {}
        self.stats: dict[str, int] = {}
        self.unknown_classes: list[str] = []
        self._lookup: dict[str, Mapping] = dict(self.mappings)
        self._typing: frozenset[str] | None = None
        if aliases:
            self.add_template_redirects(aliases.items())

    @classmethod
    def from_xml(cls, path: str | Path, ontology: Ontology) -> InfoboxMappings:
        """Read a MediaWiki XML export of ``Mapping xx:`` pages.

        As DBpedia's ``MappingsLoader``: the first ``TemplateMapping`` or
        ``ConditionalMapping`` at the top of a page is its mapping (``TableMapping``s
        are not infobox mappings and are skipped); a Condition's class is that of the
        first template in its ``mapping`` parameter; parameter values are read as plain
        text (comments dropped, trimmed). A class the ontology lacks is logged once and
        its templates are left unmapped (DBpedia's loader rejects them the same way).
        """
        path = Path(path)
        mappings: dict[str, Mapping] = {}
        redirects: dict[str, str] = {}
        stats = {"pages": 0, "TemplateMapping": 0, "ConditionalMapping": 0, "redirects": 0, "TableMapping": 0,
                 "without mapping": 0, "unknown class": 0}
        unknown: dict[str, list[str]] = {}
        try:
            root_tag = None
            for event, elem in ET.iterparse(path, events=("start", "end")):
                if root_tag is None:
                    root_tag = elem.tag
                    if not root_tag.endswith("mediawiki"):
                        raise MappingError(path, None, f"not a MediaWiki XML export (root element {root_tag!r})")
                if event != "end" or not elem.tag.endswith("}page") and elem.tag != "page":
                    continue
                title = text = None
                for child in elem.iter():
                    tag = child.tag.rsplit("}", 1)[-1]
                    if tag == "title":
                        title = child.text or ""
                    elif tag == "text":
                        text = child.text or ""
                elem.clear()
                if not title:
                    continue
                stats["pages"] += 1
                # "Mapping en:Infobox person" -> "Infobox person"
                name = normalize_name(title.partition(":")[2] if ":" in title else title)
                text = text or ""
                target = _REDIRECT.match(text)
                if target:
                    redirects[name] = normalize_name(target.group(1).partition(":")[2] or target.group(1))
                    stats["redirects"] += 1
                    continue
                mapping, kind = _read_mapping(parse_templates(text), ontology, unknown, name)
                stats[kind] += 1
                if mapping is not None and name not in mappings:
                    mappings[name] = mapping
        except ET.ParseError as err:
            raise _xml_error(MappingError, path, err, "MediaWiki XML export") from None
        except OSError as err:
            raise MappingError(path, None, f"cannot read file: {err.strerror or err}") from None
        if not mappings:
            raise MappingError(path, None, f"no TemplateMapping or ConditionalMapping in {stats['pages']} page(s) "
                                           "(not a DBpedia mapping wiki export?)")
        if unknown:
            logger.warning("%s: %d class(es) not in the ontology %s; their templates are left unmapped: %s",
                           path, len(unknown), ontology.source,
                           "; ".join(f"{c} ({', '.join(t)})" for c, t in sorted(unknown.items())))
        out = cls(mappings, ontology, redirects, str(path))
        out.stats = stats
        out.unknown_classes = sorted(unknown)
        return out

    def add_template_redirects(self, redirects: Iterable[tuple[str, str]]) -> int:
        """Let redirect titles stand for the templates they lead to; return how many of them lead to a mapping.

        Titles may carry ``Template:``. As DBpedia's ``Redirects.resolveMap``: chains are
        followed (cycles stop), and a title that has a mapping of its own keeps it.
        """
        given = set()
        for source, target in redirects:
            source = _strip_template_ns(source)
            self.aliases[source] = _strip_template_ns(target)
            given.add(source)
        for source in self.aliases:
            if source in self.mappings:
                continue
            seen, cur = {source}, self.aliases[source]
            while cur in self.aliases and cur not in self.mappings and cur not in seen:
                seen.add(cur)
                cur = self.aliases[cur]
            if cur in self.mappings:
                self._lookup[source] = self.mappings[cur]
        self._typing = None
        return sum(1 for source in given if source not in self.mappings and source in self._lookup)

    @property
    def typing_names(self) -> frozenset[str]:
        """Template names (aliases included) that can give a class other than ``owl:Thing``."""
        if self._typing is None:
            self._typing = frozenset(name for name, m in self._lookup.items() if _can_type(m))
        return self._typing

    def __len__(self) -> int:
        return len(self.mappings)

    def __contains__(self, template_name: str) -> bool:
        return self.get(template_name) is not None

    def get(self, template_name: str) -> Mapping | None:
        """The mapping of a template (any MediaWiki spelling of its name; aliases followed), or None."""
        return self._lookup.get(template_name) or self._lookup.get(_strip_template_ns(template_name))

    def classify(self, template_name: str, params: dict[str, str]) -> str | None:
        """The class DBpedia gives a template call, or None (unmapped, no case matches, class not in the ontology).

        ``params`` are the call's raw wikitext values (as :func:`infobox.templates` gives
        them); ``owl:Thing`` is returned for templates DBpedia maps to the root (such as
        ``Authority control``).
        """
        return _classify(self.get(template_name), params, _strip_template_ns(template_name))[0]


def _classify(mapping: Mapping | None, params: dict[str, str], called_as: str) -> tuple[str | None, str | None]:
    """(class, corresponding class) of one template call."""
    if mapping is None:
        return None, None
    if isinstance(mapping, TemplateMapping):
        return mapping.cls, mapping.corresponding
    case = mapping.case(params, called_as)
    return (case.cls, None) if case is not None else (None, None)


def _can_type(mapping: Mapping) -> bool:
    if isinstance(mapping, TemplateMapping):
        return mapping.cls not in (None, THING)
    return any(c.cls not in (None, THING) for c in mapping.cases)


def _strip_template_ns(title: str) -> str:
    prefix, colon, rest = title.partition(":")
    return normalize_name(rest if colon and normalize_name(prefix).lower() == "template" else title)


def _value(t: Template, key: str) -> str | None:
    raw = t.params.get(key)
    if raw is None:
        return None
    return clean_value(raw) or None


def _ontology_class(name: str | None, ontology: Ontology, unknown: dict[str, list[str]], page: str) -> str | None:
    if name is None:
        return None
    name = name.removeprefix("dbo:")
    if name in ontology:
        return name
    unknown.setdefault(name, []).append(page)
    return None


def _read_template_mapping(t: Template, ontology: Ontology, unknown: dict, page: str) -> TemplateMapping | None:
    name = _value(t, "mapToClass")
    if name is None:
        return None
    cls = _ontology_class(name, ontology, unknown, page)
    corresponding = None
    if _value(t, "correspondingProperty") is not None:
        # An unknown corresponding class only disables the sub-instance rule: not worth a warning.
        corresponding = _ontology_class(_value(t, "correspondingClass"), ontology, {}, page)
    return TemplateMapping(cls, corresponding)


def _read_mapping(tops: list[Template], ontology: Ontology, unknown: dict, page: str) -> tuple[Mapping | None, str]:
    for t in tops:
        if t.name == "TemplateMapping":
            m = _read_template_mapping(t, ontology, unknown, page)
            if m is None or m.cls is None:
                return None, "unknown class" if m is not None else "without mapping"
            return m, "TemplateMapping"
        if t.name == "ConditionalMapping":
            cases = []
            for c in parse_templates(t.params.get("cases", "")):
                if c.name != "Condition":
                    continue
                operator = _value(c, "operator")
                inner = next((m for m in parse_templates(c.params.get("mapping", "")) if m.name == "TemplateMapping"),
                             None)
                mapped = _read_template_mapping(inner, ontology, unknown, page) if inner is not None else None
                param, value = _value(c, "templateProperty"), _value(c, "value")
                # DBpedia rejects such a mapping as a whole; skipping just the bad case keeps the rest usable.
                if (operator not in _OPERATORS or mapped is None or (operator != "otherwise" and param is None)
                        or (operator in ("equals", "contains") and value is None)):
                    logger.warning("mapping page %s: invalid Condition skipped (%s)", page, c.wikitext[:200])
                    continue
                cases.append(Condition(operator, param, value, mapped.cls))
            if not cases:
                return None, "without mapping"
            return ConditionalMapping(tuple(cases)), "ConditionalMapping"
        if t.name == "TableMapping":
            return None, "TableMapping"
    return None, "without mapping"


# --- article types ---------------------------------------------------------------------------------------------


def template_classes(wikitext: str, mappings: InfoboxMappings) -> list[tuple[str, str]]:
    """``(template name, class)`` of every template that types the page, in DBpedia's visiting order.

    As DBpedia's ``MappingExtractor``: templates are visited in page order, and the
    templates nested in one are visited only when it gives no class (an unmapped
    wrapper, or a ConditionalMapping with no matching case), so an infobox embedded
    in a mapped infobox is not counted.
    """
    found: list[tuple[str, str, str | None]] = []

    def visit(nodes: list[Template]) -> None:
        for t in nodes:
            mapping = mappings.get(t.name)
            cls, corresponding = _classify(mapping, t.params, t.name) if mapping is not None else (None, None)
            if cls is not None:
                found.append((t.name, cls, corresponding))
            elif t.children:
                visit(t.children)

    visit(parse_templates(wikitext))
    return _main_chain(found, mappings.ontology)


def _main_chain(found: list[tuple[str, str, str | None]], ontology: Ontology) -> list[tuple[str, str]]:
    # DBpedia's TemplateMapping: the first mapped template makes the page's resource; a later
    # one adds its types to it only when its class is an ancestor or a descendant of the page's
    # classes (and it is not a corresponding sub-instance); otherwise it makes a separate
    # resource (Page__1) that does not type the article.
    chain: list[tuple[str, str]] = []
    current = None
    for name, cls, corresponding in found:
        if current is None:
            current = cls
        elif corresponding is not None and ontology.is_a(current, corresponding):
            continue
        elif ontology.is_a(cls, current):
            current = cls
        elif not ontology.is_a(current, cls):
            continue
        chain.append((name, cls))
    return chain


def article_type(wikitext: str, mappings: InfoboxMappings) -> str | None:
    """The most specific DBpedia class an article's templates give it, or None.

    The class is the deepest of the classes DBpedia puts on the article's own
    resource (see :func:`template_classes`; they lie on one branch of the tree, so
    the deepest is unique); ``owl:Thing`` alone counts as no class.
    """
    # Most pages call no template that can give a class other than owl:Thing: a quick
    # look at the names spares them the full parse.
    if mappings.typing_names.isdisjoint(called_names(wikitext)):
        return None
    chain = template_classes(wikitext, mappings)
    if not chain:
        return None
    ontology = mappings.ontology
    best = max((cls for _, cls in chain), key=ontology.depth)
    return None if best == THING else best


# --- instance types --------------------------------------------------------------------------------------------

_TRIPLE = re.compile(r"\s*<([^<>\s]*)>\s+<([^<>\s]*)>\s+(<[^<>\s]*>|\S.*?)\s*(?:<[^<>\s]*>\s*)?\.\s*$")
_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_RESOURCE = re.compile(r"https?://(?:[a-z\-]+\.)?dbpedia\.org/resource/")


def _unescape_iri(iri: str) -> str:
    return _UCHAR.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), iri) if "\\" in iri else iri


def _open_lines(path: Path):
    suffix = path.suffix.lower()
    if suffix == ".bz2":
        return bz2.open(path, "rb")
    if suffix == ".gz":
        return gzip.open(path, "rb")
    return path.open("rb")


def read_instance_types(path: str | Path, ontology: Ontology | None = None) -> Iterator[tuple[str, str]]:
    """``(title, class)`` pairs from a DBpedia ``instance-types`` file (``.ttl``/``.nt``/``.nq``, plain, ``.bz2``, ``.gz``).

    Titles are the resources' names as a reader sees them (percent-decoded,
    underscores as spaces); classes are local names of ``http://dbpedia.org/ontology/``
    objects: ``owl:Thing`` and other vocabularies are skipped, as are DBpedia's
    generated sub-resources (``Page__1``). ``instance_types_en`` gives one class per
    resource, ``instance_types_transitive`` all its ancestors too: consecutive lines of
    one resource are read together and the deepest class in ``ontology`` is kept
    (classes it lacks are skipped); without an ontology, the first one. A resource
    whose lines are not consecutive is yielded once per run.
    """
    path = Path(path)
    current, best, best_depth = None, None, -1
    unknown: set[str] = set()
    number = 0
    try:
        with _open_lines(path) as fh:
            for number, raw in enumerate(fh, start=1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as err:
                    raise InstanceTypesError(path, number, f"not UTF-8 ({err.reason} at byte {err.start})") from None
                stripped = line.strip()
                if not stripped or stripped.startswith("#"):
                    continue
                m = _TRIPLE.match(line)
                if m is None:
                    raise InstanceTypesError(path, number, f"not an N-Triples/N-Quads line: {stripped[:120]!r}")
                subject, predicate, obj = m.groups()
                if _unescape_iri(predicate) != _RDF_TYPE:
                    continue
                if not obj.startswith("<"):
                    raise InstanceTypesError(path, number, f"rdf:type object is not an IRI: {obj[:80]!r}")
                obj = _unescape_iri(obj[1:-1])
                if not obj.startswith(DBO) or "/" in obj[len(DBO):]:
                    continue
                cls = obj[len(DBO):]
                resource = _RESOURCE.match(subject)
                if resource is None:
                    continue
                name = _unescape_iri(subject[resource.end():])
                if "__" in name or not name:
                    continue  # DBpedia's sub-resources; titles never hold two underscores in a row
                try:
                    title = unquote(name, errors="strict").replace("_", " ")
                except UnicodeDecodeError:
                    raise InstanceTypesError(path, number, f"percent-encoding is not UTF-8 in {subject!r}") from None
                if ontology is not None:
                    if cls not in ontology:
                        unknown.add(cls)
                        continue
                    depth = ontology.depth(cls)
                else:
                    depth = 0
                if title != current:
                    if best is not None:
                        yield current, best
                    current, best, best_depth = title, cls, depth
                elif depth > best_depth:
                    best, best_depth = cls, depth
    except (OSError, EOFError) as err:
        raise InstanceTypesError(path, number or None, f"cannot read file: {err}") from None
    if best is not None:
        yield current, best
    if unknown:
        logger.warning("%s: %d class(es) not in the ontology skipped: %s", path, len(unknown), ", ".join(sorted(unknown)))


# --- title -> class index ----------------------------------------------------------------------------------------


# What canonical_title changes in an ASCII title; one without any is its own canonical form.
_CANONICAL_WORK_RE = re.compile(r"[&#_\t\n\r\x0b\x0c\x1c-\x1f]|  |^[ :a-z]| $")


def canonical_title(title: str) -> str:
    """A main-namespace page title as MediaWiki stores it: Unicode NFC, entities decoded, ``#fragment`` and a
    leading ``:`` dropped, underscores and whitespace runs as one space, first letter upper-cased."""
    if title.isascii() and not _CANONICAL_WORK_RE.search(title):
        return title  # most link targets: already normalised by the wikitext pass
    return _normalise_title(title)


def _normalise_title(title: str) -> str:
    """:func:`canonical_title` without its shortcut for titles that it would leave unchanged."""
    if not title.isascii():
        title = unicodedata.normalize("NFC", title)
    if "&" in title:
        title = html.unescape(title)
    title = normalize_name(title.partition("#")[0])
    return normalize_name(title[1:]) if title.startswith(":") else title


def _hashes(titles: Iterable[str]) -> np.ndarray:
    digest = b"".join(hashlib.blake2b(canonical_title(t).encode("utf-8"), digest_size=8).digest() for t in titles)
    return np.frombuffer(digest, dtype="<u8").astype(np.uint64)


def _lookup(sorted_hashes: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    idx = np.searchsorted(sorted_hashes, queries)
    safe = np.minimum(idx, max(len(sorted_hashes) - 1, 0))
    found = (idx < len(sorted_hashes)) & (sorted_hashes[safe] == queries) if len(sorted_hashes) else idx < 0
    return safe, found


class TypeIndex:
    """A compact title -> class map for a whole dump: 10 bytes per title.

    Titles are kept as 64-bit BLAKE2b hashes of their :func:`canonical_title` in a
    sorted ``uint64`` array, next to ``uint16`` class ids into ``classes``; a lookup is
    a binary search. Two titles share a hash with probability about n²/2⁶⁵ (1e-5 for
    20M titles), and an absent title is taken for a present one with probability
    n/2⁶⁴ per lookup. Redirects given to :meth:`build` are stored as titles of their
    own carrying their target's class, so callers need no redirect table to look up.
    """

    FORMAT = "nerbert-hf type index"
    VERSION = 1
    HASH = "blake2b-64 of the UTF-8 canonical title, little-endian"

    def __init__(self, hashes: np.ndarray, class_ids: np.ndarray, classes: list[str], articles: int | None = None):
        if len(hashes) != len(class_ids):
            raise ValueError(f"{len(hashes)} hashes but {len(class_ids)} class ids")
        self.hashes = hashes
        self.class_ids = class_ids
        self.classes = list(classes)
        self.articles = len(hashes) if articles is None else articles

    @classmethod
    def build(cls, pairs: Iterable[tuple[str, str]], *, redirects: Iterable[tuple[str, str]] | None = None,
              ontology: Ontology | None = None, max_hops: int = 5) -> TypeIndex:
        """Index ``(title, class)`` pairs, and ``(redirect title, target title)`` pairs if given.

        A title given twice keeps its deepest class in ``ontology`` (without one, the
        first). A redirect is followed through up to ``max_hops`` redirects to an
        indexed title; a redirect title that is also an indexed title keeps its own class.
        """
        class_ids: dict[str, int] = {}
        ids = bytearray()
        digests = bytearray()
        for title, name in pairs:
            cid = class_ids.get(name)
            if cid is None:
                cid = class_ids[name] = len(class_ids)
                if cid > np.iinfo(np.uint16).max:
                    raise ValueError("more than 65536 classes")
            ids += cid.to_bytes(2, "little")
            digests += hashlib.blake2b(canonical_title(title).encode("utf-8"), digest_size=8).digest()
        hashes = np.frombuffer(bytes(digests), dtype="<u8").astype(np.uint64)
        cids = np.frombuffer(bytes(ids), dtype="<u2").astype(np.uint16)
        del digests, ids
        names = list(class_ids)
        if ontology is not None and len(hashes):
            depth = np.array([ontology.depth(n) if n in ontology else -1 for n in names], dtype=np.int32)
            order = np.lexsort((np.arange(len(hashes)), -depth[cids], hashes))
        else:
            order = np.argsort(hashes, kind="stable")
        hashes, cids = hashes[order], cids[order]
        keep = np.ones(len(hashes), dtype=bool)
        keep[1:] = hashes[1:] != hashes[:-1]
        hashes, cids = hashes[keep], cids[keep]
        articles = len(hashes)
        if redirects is not None:
            hashes, cids = _add_redirects(hashes, cids, redirects, max_hops)
        return cls(hashes, cids, names, articles)

    def __len__(self) -> int:
        return len(self.hashes)

    def __contains__(self, title: str) -> bool:
        return self.get(title) is not None

    @property
    def nbytes(self) -> int:
        return int(self.hashes.nbytes + self.class_ids.nbytes)

    def get(self, title: str) -> str | None:
        """The class of a title (any form MediaWiki would resolve: ``albert_Einstein#Life``), or None."""
        h = np.uint64(int.from_bytes(hashlib.blake2b(canonical_title(title).encode("utf-8"), digest_size=8).digest(),
                                     "little"))
        i = int(self.hashes.searchsorted(h))  # the method: a quarter of np.searchsorted's call overhead
        if i < len(self.hashes) and self.hashes[i] == h:
            return self.classes[self.class_ids[i]]
        return None

    def get_many(self, titles: Iterable[str]) -> list[str | None]:
        """:meth:`get` for many titles at once (one vectorised search)."""
        titles = list(titles)
        if not titles:
            return []
        idx, found = _lookup(self.hashes, _hashes(titles))
        cids = self.class_ids[idx]
        return [self.classes[int(c)] if f else None for c, f in zip(cids, found)]

    def counts(self) -> dict[str, int]:
        """How many titles (redirects included) each class has."""
        n = np.bincount(self.class_ids, minlength=len(self.classes))
        return {name: int(c) for name, c in zip(self.classes, n) if c}

    def save(self, directory: str | Path, *, overwrite: bool = False) -> Path:
        """Write ``hashes.npy``, ``class_ids.npy`` and ``index.json``; the folder appears only when complete."""
        from ..hub_folder import atomic_output_dir

        directory = Path(directory)
        with atomic_output_dir(directory, overwrite=overwrite) as tmp:
            np.save(tmp / "hashes.npy", self.hashes, allow_pickle=False)
            np.save(tmp / "class_ids.npy", self.class_ids, allow_pickle=False)
            meta = {"format": self.FORMAT, "version": self.VERSION, "hash": self.HASH, "titles": len(self),
                    "articles": self.articles, "redirects": len(self) - self.articles, "classes": self.classes}
            (tmp / "index.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: str | Path, *, mmap: bool = True) -> TypeIndex:
        """Read a folder written by :meth:`save`; memory-mapped by default, so worker processes share the pages."""
        directory = Path(directory)
        meta_path = directory / "index.json"
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise TypeIndexError(directory, None, "no index.json: not a type index folder") from None
        except (OSError, ValueError) as err:
            raise TypeIndexError(meta_path, None, f"unreadable: {err}") from None
        if not isinstance(meta, dict) or meta.get("format") != cls.FORMAT or meta.get("hash") != cls.HASH:
            raise TypeIndexError(meta_path, None, f"not a {cls.FORMAT} with hash {cls.HASH!r}")
        arrays = {}
        for name, dtype in (("hashes", np.uint64), ("class_ids", np.uint16)):
            file = directory / f"{name}.npy"
            try:
                arrays[name] = np.load(file, mmap_mode="r" if mmap else None, allow_pickle=False)
            except (OSError, ValueError) as err:
                raise TypeIndexError(file, None, f"unreadable: {err}") from None
            if arrays[name].dtype != dtype or arrays[name].ndim != 1:
                raise TypeIndexError(file, None, f"expected a 1-D {np.dtype(dtype).name} array, "
                                                 f"found {arrays[name].dtype} with shape {arrays[name].shape}")
        hashes, cids, classes = arrays["hashes"], arrays["class_ids"], meta.get("classes") or []
        if len(hashes) != meta.get("titles") or len(cids) != len(hashes):
            raise TypeIndexError(directory, None, f"index.json says {meta.get('titles')} titles, hashes.npy holds "
                                                  f"{len(hashes)} and class_ids.npy {len(cids)}")
        if len(cids) and int(cids.max()) >= len(classes):
            raise TypeIndexError(directory, None, f"class id {int(cids.max())} but only {len(classes)} classes")
        if len(hashes) > 1 and not bool(np.all(hashes[1:] > hashes[:-1])):
            raise TypeIndexError(directory / "hashes.npy", None, "hashes are not strictly increasing")
        return cls(hashes, cids, classes, meta.get("articles"))


def _add_redirects(hashes: np.ndarray, cids: np.ndarray, redirects: Iterable[tuple[str, str]],
                   max_hops: int) -> tuple[np.ndarray, np.ndarray]:
    sources, targets = [], []
    for source, target in redirects:
        sources.append(source)
        targets.append(target)
    if not sources:
        return hashes, cids
    rs, rt = _hashes(sources), _hashes(targets)
    del sources, targets
    order = np.argsort(rs, kind="stable")
    rs, rt = rs[order], rt[order]
    first = np.ones(len(rs), dtype=bool)
    first[1:] = rs[1:] != rs[:-1]
    rs, rt = rs[first], rt[first]
    resolved = np.full(len(rs), -1, dtype=np.int64)
    pending = np.ones(len(rs), dtype=bool)
    cur = rt.copy()
    for _ in range(max_hops + 1):
        idx, found = _lookup(hashes, cur)
        hit = pending & found
        resolved[hit] = cids[idx[hit]]
        pending &= ~found
        j, is_redirect = _lookup(rs, cur)
        pending &= is_redirect
        if not pending.any():
            break
        cur[pending] = rt[j[pending]]
    _, is_article = _lookup(hashes, rs)
    add = (resolved >= 0) & ~is_article
    all_h = np.concatenate([hashes, rs[add]])
    all_c = np.concatenate([cids, resolved[add].astype(np.uint16)])
    order = np.argsort(all_h, kind="stable")
    return all_h[order], all_c[order]


# --- label schemes ---------------------------------------------------------------------------------------------

FOUR_TYPES = (("Person", "person"), ("Place", "location"), ("Organisation", "organisation"))
ENTITY = "ENTITY"


def four_types(cls: str | None, ontology: Ontology) -> str:
    """NER-BERT's 4types: ``person``, ``location`` or ``organisation`` by ancestry (Person, Place, Organisation), else ``ENTITY``."""
    if cls is None or cls not in ontology:
        return ENTITY
    for root, label in FOUR_TYPES:
        if root in ontology and ontology.is_a(cls, root):
            return label
    return ENTITY


def merge_rare_classes(counts: dict[str, int], ontology: Ontology, target: int = 200) -> dict[str, str]:
    """Fold the finest, rarest categories into their parents until about ``target`` remain (NER-BERT's 212types).

    Rule: a category is *fine* when no other remaining category lies below it. While
    more than ``target`` categories remain, the fine category with the fewest
    entities (ties: the deepest, then by name) is folded into its nearest ancestor
    that is still a category, which takes over its entities (and may itself become
    fine later). Categories with no remaining ancestor (``Person`` when ``Agent`` is
    not a category) and names outside the ontology (``ENTITY``) are never folded,
    so fewer than ``target`` merges may be possible. Returns each given category's
    final category (itself when kept).
    """
    remaining = dict(counts)
    into: dict[str, str] = {}

    def above(cls: str) -> str | None:
        return next((a for a in ontology.ancestors(cls) if a in remaining and a != THING), None)

    while len(remaining) > target:
        parents = {c: above(c) for c in remaining if c in ontology}
        inner = {p for p in parents.values() if p is not None}
        fine = [c for c, p in parents.items() if p is not None and c not in inner]
        if not fine:
            break
        cls = min(fine, key=lambda c: (remaining[c], -ontology.depth(c), c))
        parent = parents[cls]
        remaining[parent] += remaining.pop(cls)
        into[cls] = parent

    def final(cls: str) -> str:
        while cls in into:
            cls = into[cls]
        return cls

    return {cls: final(cls) for cls in counts}
