"""CrossNER's pre-training corpus levels (§"Pre-training Corpus") from a raw domain corpus and an entity list.

- **domain-level**: every sentence of the domain corpus (the input);
- **entity-level**: sentences with several (``min_entities``, default 2) mentions of entities
  from the entity list;
- **task-level**: sentences with at least one mention of a *domain-specialised* entity, one whose
  type is in ``task_types`` (by default every type of the list except the generic CoNLL ones:
  person, organisation, location, misc);
- **integrated**: the entity-level corpus plus the task-level corpus twice (CrossNER upsamples
  the task level x2, so Table 3's integrated count is entity + 2 x task).

The corpus is plain text (one paragraph or sentence per line) or a ``datasets`` folder / Hub id
with a ``text`` column. Paragraphs are cut into sentences by a rule-based splitter
(:func:`split_sentences`; ``unit="line"`` keeps each line whole). Entities are matched
case-sensitively on word sequences (:data:`WORD_RE`), longest first, without overlap.
The entity list is the surface forms of a NER dataset folder (e.g. the train split of a
``nerbert-hf data build crossner`` config, so no test entity guides the selection), the
DBpedia-typed titles of a ``nerbert-hf corpus types`` folder (CrossNER's source: DBpedia's
entity list), or a text file with one entity per line, ``name`` or ``name<TAB>type``; titles
such as ``Labour_Party_(UK)`` lose underscores and the trailing disambiguation. Several lists
can be merged (:func:`load_entity_lists`).

:func:`build_corpus_levels` writes one dataset folder with a config per level (``train``
split, column ``text``), a card with CrossNER's Table 3 token counts, and
``corpus_levels.json``; the folder is written atomically (nothing is left on failure).
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .errors import NerbertError
from .hub_folder import atomic_output_dir

logger = logging.getLogger(__name__)

LEVELS = ("entity", "task", "integrated")
# CoNLL-2003's generic types, in the spellings of CrossNER, CoNLL and the unified map; every other
# type of an entity list is domain-specialised unless --task-types says otherwise.
GENERIC_TYPES = frozenset({"person", "per", "organisation", "organization", "org", "location", "loc", "misc",
                           "miscellaneous", "other"})
# Words and punctuation marks: the unit of entity matching and of the token counts.
WORD_RE = re.compile(r"\w+(?:['’\-]\w+)*|[^\w\s]")
_BOUNDARY_RE = re.compile(r"[.!?][\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st jr sr vs etc e.g i.e no nos gen col lt sgt capt cmdr adm rev gov sen rep pres inc ltd co "
    "corp dept univ fig al approx ca c mt ft jan feb mar apr jun jul aug sep sept oct nov dec u.s u.k u.n".split()
)
_LEVEL_NAMES = {"domain": "Domain-level", "entity": "Entity-level", "task": "Task-level", "integrated": "Integrated"}
_MAX_ENTITY_WORDS = 12
_WRITE_BATCH = 10_000


def words(text: str) -> list[str]:
    """The words and punctuation marks of ``text`` (:data:`WORD_RE`)."""
    return WORD_RE.findall(text)


def split_sentences(paragraph: str) -> list[str]:
    """Cut a paragraph at ``.``, ``!`` or ``?`` followed by a capitalised word, except after
    common abbreviations (``Mr.``, ``U.S.``, ``e.g.``) and initials (``J. R. R. Tolkien``)."""
    paragraph = paragraph.strip()
    sentences, start = [], 0
    for match in _BOUNDARY_RE.finditer(paragraph):
        before = paragraph[start:match.start() + 1].split()
        last = before[-1].rstrip(".!?").lower().lstrip("\"'(“‘[") if before else ""
        if paragraph[match.start()] == "." and (last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha())):
            continue
        sentences.append(paragraph[start:match.end()].strip())
        start = match.end()
    rest = paragraph[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences


# -- entity lists ----------------------------------------------------------------------------------------------


@dataclass
class EntityList:
    """Entity surface forms and the types each was seen with (an empty set when the list is untyped)."""

    types: dict[str, set[str]]
    source: str
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.types)

    def all_types(self) -> Counter:
        return Counter(t for ts in self.types.values() for t in ts)


def _looks_local(path: str) -> bool:
    """A path meant as a local file or folder rather than a Hub id (``owner/name``)."""
    p = Path(path)
    return p.exists() or p.is_absolute() or path.startswith(".") or path.count("/") != 1 or bool(p.suffix)


def _usable(name: str) -> bool:
    return len(name) >= 2 and any(c.isalpha() for c in name)


def _clean_title(title: str) -> str:
    title = title.replace("_", " ").strip()
    return re.sub(r"\s*\([^()]*\)$", "", title).strip()


def entities_from_ner_dataset(path: str, config: str | None = None, splits: Iterable[str] = ("train",)) -> EntityList:
    """Surface forms and types of the entities in a NER dataset folder's ``splits`` (IOB2 ``ner_tags``)."""
    from .training import label_names, load_ner_dataset

    ds = load_ner_dataset(path, config)
    splits = list(splits)
    missing = [s for s in splits if s not in ds]
    if missing:
        raise NerbertError(f"entity list {path!r} (config {config!r}) has no split(s) {missing}; it has {list(ds)}")
    found: dict[str, set[str]] = {}
    for split in splits:
        names = label_names(ds[split])
        for tokens, tags in zip(ds[split]["tokens"], ds[split]["ner_tags"]):
            current, etype = [], None
            for token, tag in zip(tokens + [""], [names[t] for t in tags] + ["O"]):
                if current and not (tag.startswith("I-") and tag[2:] == etype):
                    name = " ".join(current)
                    if _usable(name):
                        found.setdefault(name, set()).add(etype)
                    current, etype = [], None
                if tag.startswith("B-") or (tag.startswith("I-") and not current):
                    current, etype = [token], tag[2:]
                elif tag.startswith("I-"):
                    current.append(token)
    where = f"{path}" + (f" ({config})" if config else "")
    return EntityList(found, f"entity surface forms of {where}, split(s) {', '.join(splits)}")


def entities_from_file(path: str | Path) -> EntityList:
    """One entity per line: ``name`` or ``name<TAB>type`` (``#`` starts a comment line)."""
    path = Path(path)
    found: dict[str, set[str]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as err:
        raise NerbertError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, _, etype = line.partition("\t")
        name = _clean_title(name)
        if "\t" in etype:
            raise NerbertError(f"{path}:{number}: expected `name` or `name<TAB>type`, got {line!r}")
        if _usable(name):
            found.setdefault(name, set())
            if etype.strip():
                found[name].add(etype.strip())
    return EntityList(found, f"entity list {path}")


def entities_from_types_folder(path: str | Path) -> EntityList:
    """DBpedia-typed article titles of a ``nerbert-hf corpus types`` folder (types are DBpedia class names such
    as ``Politician``), plus the titles of redirects to a typed article, with that article's type."""
    from .corpus.build import read_types_folder

    pairs, redirects = read_types_folder(Path(path))
    typed = dict(pairs)
    found: dict[str, set[str]] = {}
    for title, etype in [*pairs, *((t, typed[target]) for t, target in redirects if target in typed)]:
        name = _clean_title(title)
        if _usable(name):
            found.setdefault(name, set()).add(etype)
    return EntityList(found, f"DBpedia-typed titles of {path} (`nerbert-hf corpus types`)")


def merge_entity_lists(lists: list[EntityList]) -> EntityList:
    """One list with every surface form of ``lists`` and the union of its types."""
    found: dict[str, set[str]] = {}
    for entities in lists:
        for name, types in entities.types.items():
            found.setdefault(name, set()).update(types)
    return EntityList(found, "; ".join(e.source for e in lists))


def load_entity_lists(specs: list[str], config: str | None = None, splits: Iterable[str] = ("train",)) -> EntityList:
    """Several entity lists merged; ``PATH:CONFIG`` picks a config of a dataset folder (else ``config``)."""
    lists = []
    for spec in specs:
        path, spec_config = spec, config
        if ":" in spec and not Path(spec).exists():
            head, _, tail = spec.rpartition(":")
            if tail and "/" not in tail:
                path, spec_config = head, tail
        lists.append(load_entity_list(path, spec_config, splits))
    return lists[0] if len(lists) == 1 else merge_entity_lists(lists)


def load_entity_list(path: str, config: str | None = None, splits: Iterable[str] = ("train",)) -> EntityList:
    """A NER dataset folder / Hub id (``config``, ``splits``), a ``corpus types`` folder or a plain list file."""
    p = Path(path)
    if p.is_file():
        entities = entities_from_file(p)
    elif (p / "default.parquet").is_file() and (p / "redirects.parquet").is_file():
        entities = entities_from_types_folder(p)
    elif p.is_dir() or not _looks_local(path):
        entities = entities_from_ner_dataset(path, config, splits)
    else:
        raise NerbertError(f"entity list {path!r} not found (a NER dataset folder or a file of entity names)")
    if not entities.types:
        raise NerbertError(f"{entities.source}: no usable entity (a name of two or more characters with a letter)")
    return entities


class EntityMatcher:
    """Longest-first, non-overlapping, case-sensitive matching of entity word sequences."""

    def __init__(self, entities: EntityList, task_types: Iterable[str]):
        task_types = {t.lower() for t in task_types}
        self.index: dict[str, list[tuple[tuple[str, ...], bool]]] = {}
        for name, types in entities.types.items():
            key = tuple(words(name))
            if not key or len(key) > _MAX_ENTITY_WORDS:
                continue
            specialised = any(t.lower() in task_types for t in types)
            self.index.setdefault(key[0], []).append((key, specialised))
        for options in self.index.values():
            # Longest first; for equal word sequences, a specialised reading wins.
            options.sort(key=lambda o: (-len(o[0]), not o[1]))

    def count(self, sentence_words: list[str]) -> tuple[int, int]:
        """(entity mentions, mentions of domain-specialised entities) in a sentence."""
        mentions = specialised = 0
        i, n = 0, len(sentence_words)
        while i < n:
            for key, special in self.index.get(sentence_words[i], ()):
                if tuple(sentence_words[i:i + len(key)]) == key:
                    mentions += 1
                    specialised += special
                    i += len(key)
                    break
            else:
                i += 1
        return mentions, specialised


def default_task_types(entities: EntityList) -> list[str]:
    """Every type of the list except CoNLL's generic four (:data:`GENERIC_TYPES`)."""
    return sorted(t for t in entities.all_types() if t.lower() not in GENERIC_TYPES)


# -- the corpus --------------------------------------------------------------------------------------------------


def iter_corpus_lines(path: str, text_column: str = "text", config: str | None = None) -> Iterator[str]:
    """Non-empty stripped lines of a text file, or the ``text_column`` of a dataset folder / Hub id."""
    p = Path(path)
    if p.is_file():
        number = 0
        try:
            with open(p, encoding="utf-8") as handle:
                for number, line in enumerate(handle, 1):
                    line = line.strip()
                    if line:
                        yield line
        except UnicodeDecodeError as err:
            raise NerbertError(f"{p}: not UTF-8 text near line {number} ({err.reason})") from None
        return
    if not (p.is_dir() or not _looks_local(path)):
        raise NerbertError(f"corpus {path!r} not found (a text file, one paragraph per line, or a datasets folder)")
    from datasets import load_dataset

    try:
        ds = load_dataset(path, config)
    except (FileNotFoundError, ValueError) as err:
        raise NerbertError(f"cannot load corpus {path!r} (config {config!r}): {err}") from None
    for split, part in ds.items():
        if text_column not in part.column_names:
            raise NerbertError(f"corpus {path!r} split {split!r}: no column {text_column!r} (has {part.column_names})")
        for batch in part.iter(batch_size=1000):
            for text in batch[text_column]:
                if text and text.strip():
                    yield text.strip()


@dataclass
class LevelStats:
    sentences: int = 0
    tokens: int = 0

    def add(self, n_tokens: int, times: int = 1) -> None:
        self.sentences += times
        self.tokens += n_tokens * times


@dataclass
class CorpusLevelsReport:
    """Sentences and tokens per level (Table 3 of CrossNER), plus how the levels were made."""

    levels: dict[str, LevelStats]
    corpus: str
    entity_source: str
    entities: int
    task_types: list[str]
    min_entities: int
    unit: str

    def ratio(self, level: str) -> float:
        domain = self.levels["domain"].tokens
        return self.levels[level].tokens / domain if domain else 0.0

    def table(self) -> str:
        rows = ["| corpus | sentences | tokens | ratio to domain-level |", "|---|---|---|---|"]
        for level in ("domain", *LEVELS):
            stats = self.levels[level]
            rows.append(f"| {_LEVEL_NAMES[level]} | {stats.sentences:,} | {_human(stats.tokens)} ({stats.tokens:,}) "
                        f"| {self.ratio(level):.2f}x |")
        return "\n".join(rows)

    def to_json(self) -> dict:
        return {
            "levels": {k: {"sentences": v.sentences, "tokens": v.tokens, "ratio_to_domain": round(self.ratio(k), 4)}
                       for k, v in self.levels.items()},
            "corpus": self.corpus, "entity_source": self.entity_source, "entities": self.entities,
            "task_types": self.task_types, "min_entities": self.min_entities, "unit": self.unit,
        }


def _human(n: int) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if n >= size:
            return f"{n / size:.3g}{suffix}"
    return str(n)


class _LevelWriter:
    """Parquet rows of one level, written in batches."""

    SCHEMA = pa.schema([pa.field("text", pa.string())])

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "train-00000-of-00001.parquet"
        self.writer = pq.ParquetWriter(self.path, self.SCHEMA)
        self.buffer: list[str] = []

    def write(self, text: str) -> None:
        self.buffer.append(text)
        if len(self.buffer) >= _WRITE_BATCH:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.writer.write_table(pa.table({"text": self.buffer}, schema=self.SCHEMA))
            self.buffer = []

    def close(self) -> None:
        self.flush()
        self.writer.close()


def select_levels(lines: Iterable[str], matcher: EntityMatcher, *, min_entities: int = 2, unit: str = "sentence",
                  write=None) -> dict[str, LevelStats]:
    """Sort the corpus's sentences into levels; ``write(level, sentence)`` receives every sentence for
    ``domain`` and each kept one for ``entity`` and ``task`` (``integrated`` is entity + task twice)."""
    if unit not in ("sentence", "line"):
        raise ValueError(f"unit must be 'sentence' or 'line', not {unit!r}")
    stats = {level: LevelStats() for level in ("domain", *LEVELS)}
    for line in lines:
        for sentence in (split_sentences(line) if unit == "sentence" else [line]):
            sentence_words = words(sentence)
            if not sentence_words:
                continue
            n = len(sentence_words)
            stats["domain"].add(n)
            if write:
                write("domain", sentence)
            mentions, specialised = matcher.count(sentence_words)
            if mentions >= min_entities:
                stats["entity"].add(n)
                if write:
                    write("entity", sentence)
            if specialised >= 1:
                stats["task"].add(n)
                if write:
                    write("task", sentence)
    stats["integrated"] = LevelStats(stats["entity"].sentences + 2 * stats["task"].sentences,
                                     stats["entity"].tokens + 2 * stats["task"].tokens)
    return stats


def _render_card(report: CorpusLevelsReport, configs: list[str], license: str) -> str:
    from datasets import Features, SplitDict, SplitInfo, Value
    from datasets.info import DatasetInfo, DatasetInfosDict
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCard, DatasetCardData

    data = DatasetCardData(language=["en"], license=license, pretty_name="Domain-adaptive pre-training corpus",
                           task_categories=["fill-mask"], tags=["nerbert-hf", "dapt", "crossner"])
    infos, metadata = {}, {}
    for name in configs:
        splits = SplitDict()
        splits.add(SplitInfo(name="train", num_examples=report.levels[name].sentences))
        infos[name] = DatasetInfo(features=Features({"text": Value("string")}), config_name=name, splits=splits)
        metadata[name] = {"data_files": [{"split": "train", "path": f"{name}/train-*"}]}
    DatasetInfosDict(infos).to_dataset_card_data(data)
    MetadataConfigs(metadata).to_dataset_card_data(data)
    types = ", ".join(f"`{t}`" for t in report.task_types) or "(none)"
    body = [
        "# Domain-adaptive pre-training corpus", "",
        "CrossNER's (Liu et al., AAAI 2021) corpus levels for domain-adaptive pre-training, one config per level, "
        "one sentence per row (column `text`).", "",
        "## Loading", "", "```python", "from datasets import load_dataset", "",
        'ds = load_dataset("path/to/this/folder", "integrated")  # or "entity", "task"', "```", "",
        "or pre-train on it: `python recipes/dapt.py --dataset_name path/to/this/folder "
        "--dataset_config_name integrated ...`.", "",
        "## Levels (CrossNER Table 3)", "",
        report.table(), "",
        "Tokens are words and punctuation marks (`nerbert_hf.domain_corpus.WORD_RE`), not subwords.", "",
        "## How the levels were made", "",
        f"- Domain-level corpus: `{report.corpus}`, cut into "
        + ("sentences by a rule-based splitter." if report.unit == "sentence" else "lines (one sentence per line)."),
        f"- Entity list: {report.entity_source}; {report.entities:,} surface forms, matched case-sensitively on "
        "whole words, longest first, without overlap.",
        f"- Entity-level: sentences with at least {report.min_entities} entity mentions.",
        f"- Task-level: sentences with at least one mention of a domain-specialised entity, types {types}.",
        "- Integrated: the entity-level sentences, then the task-level sentences twice (CrossNER's x2 upsampling).",
        "", f"License: `{license}` (the corpus's own).", "",
        "Built with nerbert-hf (`nerbert-hf dapt corpus`).", "",
    ]
    return str(DatasetCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(body)))


def build_corpus_levels(corpus: str, entities: EntityList, output: str | Path, *, task_types: Iterable[str] | None = None,
                        min_entities: int = 2, unit: str = "sentence", text_column: str = "text",
                        corpus_config: str | None = None, include_domain: bool = False, license: str = "unknown",
                        overwrite: bool = False) -> CorpusLevelsReport:
    """Write the entity, task and integrated levels (and the domain level with ``include_domain``) of
    ``corpus`` as configs of one dataset folder at ``output``; return the Table 3 counts."""
    if min_entities < 1:
        raise NerbertError(f"min_entities must be at least 1, not {min_entities}")
    task_types = sorted(task_types) if task_types else default_task_types(entities)
    if not task_types:
        raise NerbertError(
            f"{entities.source}: no domain-specialised type to build the task level from (the list is untyped or "
            "has only generic types); give --task-types or a typed list (`name<TAB>type` lines or a NER dataset)"
        )
    known = {t.lower() for t in entities.all_types()}
    unknown = [t for t in task_types if t.lower() not in known]
    if unknown:
        raise NerbertError(f"task type(s) {unknown} are not types of {entities.source}; it has {sorted(known)}")
    matcher = EntityMatcher(entities, task_types)
    configs = (["domain"] if include_domain else []) + list(LEVELS)
    with atomic_output_dir(output, overwrite=overwrite) as tmp:
        writers = {name: _LevelWriter(tmp / name) for name in configs if name != "integrated"}

        def write(level: str, sentence: str) -> None:
            if level in writers:
                writers[level].write(sentence)

        lines = iter_corpus_lines(corpus, text_column, corpus_config)
        stats = select_levels(lines, matcher, min_entities=min_entities, unit=unit, write=write)
        for writer in writers.values():
            writer.close()
        if stats["domain"].sentences == 0:
            raise NerbertError(f"corpus {corpus!r} holds no text")
        for level in ("entity", "task"):
            if stats[level].sentences == 0:
                raise NerbertError(
                    f"the {level}-level corpus is empty: no sentence of {corpus!r} has "
                    + (f"{min_entities}+ entities of the list" if level == "entity"
                       else f"an entity of type {', '.join(task_types)}")
                )
        # Integrated: entity-level, then task-level twice.
        entity_table = pq.read_table(writers["entity"].path)
        task_table = pq.read_table(writers["task"].path)
        (tmp / "integrated").mkdir()
        with pq.ParquetWriter(tmp / "integrated" / "train-00000-of-00001.parquet", _LevelWriter.SCHEMA) as out:
            for table in (entity_table, task_table, task_table):
                out.write_table(table)
        report = CorpusLevelsReport(stats, str(corpus), entities.source, len(entities), task_types, min_entities, unit)
        (tmp / "README.md").write_text(_render_card(report, configs, license), encoding="utf-8")
        (tmp / "corpus_levels.json").write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
    logger.info("corpus levels of %s: entity %d, task %d, integrated %d sentences", corpus,
                stats["entity"].sentences, stats["task"].sentences, stats["integrated"].sentences)
    return report

