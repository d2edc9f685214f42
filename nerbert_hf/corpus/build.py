"""The corpus builder's passes: type articles, tag sentences in resumable shards, select, write.

``corpus types``: one pass over the dump types every article by its infobox
(DBpedia mappings) and collects the redirect table. ``corpus build``: a pass that
turns articles into tagged sentences, written in shards of articles so that an
interrupted build resumes where it stopped (sentences that no typed anchor reaches,
which the selection would drop, are only counted); then the paper's selection (§2.3-2.4)
over all shards, a label scheme, a seeded 90/10 split, and a Hub-ready folder.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import io
import json
import logging
import multiprocessing
import os
import shutil
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from datasets import Value
from tqdm.auto import tqdm

import numpy as np

from ..cards import DatasetCardInfo, SplitStats, render_dataset_card
from ..errors import NerbertError
from ..hub_folder import atomic_output_dir
from ..labels import labels_for_types
from ..schema import ConfigData, ner_features
from .dbpedia import InfoboxMappings, Ontology, TypeIndex, article_type, four_types, merge_rare_classes, \
    read_instance_types
from .dump import is_article, is_disambiguation, iter_pages
from .selection import (
    ENTITY,
    balance_copies,
    balance_rates,
    drop_probabilities,
    relabel,
    scarce_categories,
    top_categories,
    validation_mask,
)
from .sentences import PunktSplitter, Sentence, Untyped, propagate_mentions, tag_paragraph
from .wikitext import iter_paragraphs, wikitext_to_text

logger = logging.getLogger(__name__)

LABEL_SCHEMES = ("full", "4types", "merged")
MERGED_TARGET = 200
NER_BERT_CITATION = """@article{liu2021nerbert,
  title={NER-BERT: A Pre-trained Model for Low-Resource Entity Tagging},
  author={Liu, Zihan and Jiang, Feijun and Hu, Yuxiang and Shi, Chen and Fung, Pascale},
  journal={arXiv preprint arXiv:2112.00405}, year={2021}
}"""


class CorpusError(NerbertError):
    """Inputs that cannot make a corpus (no usable anchors, inconsistent options)."""


@contextlib.contextmanager
def _no_cycle_collection():
    """Pause Python's cyclic garbage collector (reference counting still frees everything).

    The passes hold hundreds of thousands of token lists, tuples and rows, none in a
    reference cycle; with the collector on, its repeated full scans of them took a
    fifth of a build's CPU time.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# --- corpus types ------------------------------------------------------------------------------------------------


def scan_types(dump: Path, mappings: InfoboxMappings | None, *, keep_articles: Path | None = None
               ) -> tuple[list, list, Counter]:
    """One pass: ``(title, class)`` of typed articles (with ``mappings``), redirects, and page counts.

    With ``keep_articles``, the articles to tag are also written to that file (see :class:`_ArticleFile`).
    """
    pairs, redirects, stats = [], [], Counter()
    kept = _ArticleFile(keep_articles) if keep_articles is not None else None
    bar = tqdm(desc=f"typing {Path(dump).name}", unit=" pages")
    with _no_cycle_collection(), kept if kept is not None else contextlib.nullcontext():
        for page in iter_pages(dump):
            bar.update()
            stats["pages"] += 1
            if page.ns == 0 and page.redirect:
                redirects.append((page.title, page.redirect))
                stats["redirects"] += 1
            elif is_article(page) and not is_disambiguation(page):
                stats["articles"] += 1
                if kept is not None:
                    kept.add(stats["pages"], page)
                cls = article_type(page.text, mappings) if mappings is not None else None
                if cls is not None:
                    pairs.append((page.title, cls))
                    stats["typed"] += 1
        if kept is not None:
            kept.finish(stats["pages"])
    bar.close()
    return pairs, redirects, stats


class _ArticleFile:
    """The articles of a dump that the tagging pass reads: page number, id, title and wikitext.

    Written by the typing pass, which reads every page anyway, so that tagging need not
    decompress and parse the dump a second time (bz2 and XML are a quarter of a build).
    zstd-compressed Parquet, about 1.35 times the size of the dump's bz2 file; the build
    deletes it once every article is tagged. As a context manager, the writer leaves no
    file unless :meth:`finish` was called.
    """

    SCHEMA = pa.schema([("page", pa.int64()), ("id", pa.int64()), ("title", pa.string()), ("text", pa.string())])
    GROUP = 500  # articles per row group: a few tens of MB in memory

    def __init__(self, path: Path):
        self.path = Path(path)
        self._tmp = self.path.with_name(f".{self.path.name}.tmp")
        self._rows: list[tuple[int, int, str, str]] = []
        self._writer: pq.ParquetWriter | None = None

    def __enter__(self) -> _ArticleFile:
        self._writer = pq.ParquetWriter(self._tmp, self.SCHEMA, compression="zstd", use_dictionary=False)
        return self

    def add(self, number: int, page) -> None:
        """Keep ``page``, the ``number``-th page of the dump."""
        self._rows.append((number, page.id, page.title, page.text))
        if len(self._rows) == self.GROUP:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            numbers, ids, titles, texts = zip(*self._rows)
            # pyarrow converts UTF-8 bytes several times faster than long str objects.
            texts = pa.array([t.encode("utf-8") for t in texts], pa.string())
            self._writer.write_table(pa.Table.from_arrays(
                [pa.array(numbers, pa.int64()), pa.array(ids, pa.int64()), pa.array(titles, pa.string()), texts],
                schema=self.SCHEMA))
            self._rows = []

    def finish(self, pages: int) -> None:
        """Complete the file of a dump of ``pages`` pages."""
        self._flush()
        self._writer.add_key_value_metadata({"pages": str(pages)})
        self._writer.close()
        self._writer = None
        self._tmp.replace(self.path)

    def __exit__(self, *exc) -> None:
        if self._writer is not None:  # not finished
            self._writer.close()
            self._tmp.unlink(missing_ok=True)

    @staticmethod
    def read(path: Path, start_page: int):
        """``(pages read, (id, title, wikitext))`` for each article after page ``start_page``, then
        ``(pages in the dump, None)``: what :func:`_dump_articles` gives, from the file."""
        file = pq.ParquetFile(path)
        for batch in file.iter_batches(batch_size=_ArticleFile.GROUP):
            columns = batch.to_pydict()
            for number, page_id, title, text in zip(columns["page"], columns["id"], columns["title"], columns["text"]):
                if number > start_page:
                    yield number, (page_id, title, text)
        yield int(file.metadata.metadata[b"pages"]), None


def _table_card(title: str, description: str, configs: dict[str, list[str]]) -> str:
    lines = ["---", "configs:"]
    for name, columns in configs.items():
        lines += [f"- config_name: {name}", "  data_files:", "  - split: train", f"    path: {name}.parquet"]
    lines += ["---", "", f"# {title}", "", description, ""]
    for name, columns in configs.items():
        lines.append(f"- `{name}`: columns {', '.join(f'`{c}`' for c in columns)}")
    return "\n".join(lines) + "\n"


def write_types_folder(output: Path, pairs, redirects, stats: Counter, *, source: str, overwrite: bool = False):
    """``load_dataset(DIR)`` gives ``title``/``type``; ``load_dataset(DIR, "redirects")`` gives ``title``/``target``."""
    with atomic_output_dir(output, overwrite=overwrite) as tmp:
        pq.write_table(pa.table({"title": [t for t, _ in pairs], "type": [c for _, c in pairs]}),
                       tmp / "default.parquet")
        pq.write_table(pa.table({"title": [t for t, _ in redirects], "target": [r for _, r in redirects]}),
                       tmp / "redirects.parquet")
        description = (
            f"DBpedia classes of the articles of `{source}`, from their infoboxes through DBpedia's mappings, "
            f"and the dump's redirect table. {stats['pages']} pages, {stats['articles']} articles, "
            f"{stats['typed']} typed, {stats['redirects']} redirects. Built with `nerbert-hf corpus types`."
        )
        card = _table_card("Article types", description, {"default": ["title", "type"], "redirects": ["title", "target"]})
        (tmp / "README.md").write_text(card, encoding="utf-8")
    return output


def read_types_folder(folder: Path) -> tuple[list, list]:
    """The pairs and redirects of a ``corpus types`` folder."""
    folder = Path(folder)
    try:
        types = pq.read_table(folder / "default.parquet").to_pydict()
        redirects = pq.read_table(folder / "redirects.parquet").to_pydict()
    except (OSError, pa.ArrowInvalid, KeyError) as err:
        raise CorpusError(f"--types {folder}: not a `nerbert-hf corpus types` folder ({err})") from None
    return list(zip(types["title"], types["type"])), list(zip(redirects["title"], redirects["target"]))


# --- corpus build: tagging shards ----------------------------------------------------------------------------------


@dataclass
class CorpusOptions:
    dump: Path
    ontology: Path
    output: Path
    mappings: Path | None = None
    types: Path | None = None
    instance_types: Path | None = None
    punkt: Path | None = None
    label_scheme: str = "full"
    min_category_count: int = 10
    num_proc: int = 1
    seed: int = 42
    shard_articles: int = 250
    overwrite: bool = False
    propagate_mentions: bool = False

    def fingerprint(self) -> str:
        """What a resumed build must share with the interrupted one (inputs that change the shards)."""
        keep = {k: str(v) for k, v in asdict(self).items() if k in ("dump", "mappings", "types", "instance_types",
                                                                     "ontology", "punkt", "shard_articles",
                                                                     "propagate_mentions")}
        for key in ("dump", "mappings", "types", "instance_types", "ontology"):
            path = getattr(self, key)
            if path is not None and Path(path).is_file():
                st = Path(path).stat()
                keep[key] += f"@{st.st_size}:{int(st.st_mtime)}"
        return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]


_WORKER: dict = {}
_ARTICLES = "articles.parquet"  # the typing pass's _ArticleFile, in the build's work folder


def _init_worker(index_dir: str, punkt_path: str | None, propagate: bool = False) -> None:
    _WORKER["index"] = TypeIndex.load(index_dir)
    _WORKER["punkt"] = PunktSplitter.load(punkt_path)
    _WORKER["propagate"] = propagate


def _tag_article(page_id: int, title: str, text: str) -> tuple[list[Sentence], int, Untyped]:
    plain, anchors = wikitext_to_text(text)
    index = _WORKER["index"]
    targets = sorted({a.target for a in anchors})
    classes = dict(zip(targets, index.get_many(targets)))
    out, added, untyped = [], 0, Untyped()
    # Mention propagation can type any sentence of the article: then every sentence is tagged.
    propagate = _WORKER.get("propagate")
    for paragraph, inside in iter_paragraphs(plain, anchors):
        if paragraph.strip():
            out += tag_paragraph(paragraph, inside, _WORKER["punkt"], classes.get, title=title, page_id=page_id,
                                 untyped=None if propagate else untyped)
    if propagate:
        out, added = propagate_mentions(out)
    return out, added, untyped


def _tag_batch(batch) -> tuple[list[Sentence], int, Untyped]:
    """The sentences of a batch of articles, how many entities mention propagation added, and the untyped
    sentences left out (see :func:`~.sentences.tag_paragraph`)."""
    sentences, added, untyped = [], 0, Untyped()
    for page_id, title, text in batch:
        tagged, n, left_out = _tag_article(page_id, title, text)
        sentences += tagged
        added += n
        untyped.sentences += left_out.sentences
        untyped.entities += left_out.entities
    return sentences, added, untyped


# Tags are few distinct strings: dictionary-encoded they are written, read and counted several times faster.
_TAGS_TYPE = pa.list_(pa.dictionary(pa.int32(), pa.string()))


def _shard_table(sentences: list[Sentence]) -> pa.Table:
    return pa.table({
        "tokens": pa.array([s.tokens for s in sentences], pa.list_(pa.string())),
        "tags": pa.array([s.tags for s in sentences], _TAGS_TYPE),
        "title": pa.array([s.title for s in sentences], pa.string()),
        "id": pa.array([s.page_id for s in sentences], pa.int64()),
    })


def _write_atomic(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp, compression="lz4")  # a work file, read six times: lz4 reads fastest
    tmp.replace(path)


def _dump_articles(dump: Path, start_page: int):
    """``(pages read, (id, title, wikitext))`` for each article to tag after page ``start_page``, then
    ``(pages in the dump, None)``."""
    number = start_page
    for page in iter_pages(dump, start_page=start_page):
        number += 1
        if is_article(page) and not is_disambiguation(page):
            yield number, (page.id, page.title, page.text)
    yield number, None


def tag_shards(options: CorpusOptions, index_dir: Path, work: Path) -> tuple[list[Path], dict]:
    """Tag every article into shards of ``shard_articles`` articles under ``work``; resumes finished shards.

    Returns the shard files and the pages, articles and sentences read.

    ``work/progress.json`` records, per finished shard, the page count reached, so a
    resumed pass skips those pages without tagging them again. The articles come from
    the typing pass's ``work/articles.parquet`` (:class:`_ArticleFile`) when there is
    one, else from the dump.
    """
    progress_path = work / "progress.json"
    progress = json.loads(progress_path.read_text()) if progress_path.exists() else {"shards": []}
    done = progress["shards"]
    start_page = done[-1]["pages"] if done else 0
    if done:
        logger.info("resuming: %d shard(s) done, skipping %d pages", len(done), start_page)
    init = (str(index_dir), str(options.punkt) if options.punkt else None, options.propagate_mentions)
    _init_worker(*init)
    pool = None
    if options.num_proc > 1:
        # Workers load the memory-mapped index and punkt themselves: nothing large is pickled.
        pool = multiprocessing.get_context("spawn" if os.name == "nt" else "fork").Pool(
            options.num_proc, _init_worker, init)
    bar = tqdm(desc="tagging", unit=" articles", initial=sum(s["articles"] for s in done))
    started, tagged = time.perf_counter(), 0
    kept = work / _ARTICLES
    articles = _ArticleFile.read(kept, start_page) if kept.exists() else _dump_articles(options.dump, start_page)
    try:
        batch, pages_seen = [], start_page
        for pages_seen, article in articles:
            if article is not None:
                batch.append(article)
            if len(batch) == options.shard_articles:
                _finish_shard(batch, pages_seen, pool, work, done, progress_path)
                bar.update(len(batch))
                tagged += len(batch)
                bar.set_postfix(articles_per_s=f"{tagged / (time.perf_counter() - started):.0f}")
                batch = []
        if batch or not done:
            _finish_shard(batch, pages_seen, pool, work, done, progress_path)
            bar.update(len(batch))
    finally:
        bar.close()
        if pool is not None:
            pool.close()
            pool.join()
    counted = {"pages": done[-1]["pages"], "articles": sum(s["articles"] for s in done),
               "sentences": sum(s["sentences"] for s in done),
               "untyped_entities": sum(s.get("untyped_entities", 0) for s in done),
               "propagated": sum(s.get("propagated", 0) for s in done)}
    return [work / s["file"] for s in done], counted


def _finish_shard(batch, pages_seen: int, pool, work: Path, done: list, progress_path: Path) -> None:
    if pool is None:
        sentences, added, untyped = _tag_batch(batch)
    else:
        # Ordered map over small chunks: the shard's sentence order does not depend on the workers.
        size = max(1, len(batch) // (len(pool._pool) * 8))
        chunks = [batch[i:i + size] for i in range(0, len(batch), size)]
        parts = list(pool.imap(_tag_batch, chunks))
        sentences = [s for part, _, _ in parts for s in part]
        added = sum(n for _, n, _ in parts)
        untyped = Untyped(sum(u.sentences for _, _, u in parts), sum(u.entities for _, _, u in parts))
    name = f"raw-{len(done):05d}.parquet"
    _write_atomic(_shard_table(sentences), work / name)
    # The shard holds the sentences with a typed anchor; "sentences" counts the untyped ones left out too.
    done.append({"file": name, "pages": pages_seen, "articles": len(batch),
                 "sentences": len(sentences) + untyped.sentences, "untyped_entities": untyped.entities,
                 "propagated": added})
    tmp = progress_path.with_name(".progress.json.tmp")
    tmp.write_text(json.dumps({"shards": done}, indent=1))
    tmp.replace(progress_path)


@dataclass
class _Entities:
    """A shard's entities in order, one per ``B-`` tag, as arrays: what the selection passes read."""

    sentences: int  # rows of the shard
    row: np.ndarray  # the row each entity is in
    type_id: np.ndarray  # its type, an index into the build's type vocabulary


def _tag_codes(tags: pa.ChunkedArray) -> tuple[list[str], np.ndarray, np.ndarray]:
    """A ``tags`` column as its distinct tags, each tag's index into them, and the row offsets of the tags."""
    tags = tags.combine_chunks()
    if not len(tags):  # an empty shard's columns may have no type (null)
        return [], np.zeros(0, np.int64), np.zeros(1, np.int64)
    flat = tags.flatten()
    if not pa.types.is_dictionary(flat.type):
        flat = pc.dictionary_encode(flat)
    offsets = tags.offsets.to_numpy()
    return flat.dictionary.to_pylist(), flat.indices.to_numpy(), offsets - offsets[0]


def _shard_entities(tags: pa.ChunkedArray, vocabulary: dict[str, int]) -> _Entities:
    """:func:`~.selection.sentence_types` of every row of a ``tags`` column; new type names join ``vocabulary``."""
    distinct, codes, offsets = _tag_codes(tags)
    type_of = np.array([vocabulary.setdefault(t[2:], len(vocabulary)) if t.startswith("B-") else -1
                        for t in distinct] or [-1], dtype=np.int64)
    types = type_of[codes] if len(codes) else np.zeros(0, np.int64)
    begins = types >= 0
    rows = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))[begins]
    return _Entities(len(offsets) - 1, rows, types[begins])


def _read_entities(paths: list[Path], vocabulary: dict[str, int]):
    """The :class:`_Entities` of every shard, one shard in memory at a time."""
    for path in paths:
        yield _shard_entities(pq.read_table(path, columns=["tags"]).column("tags"), vocabulary)


def _count(counter: Counter, ids: np.ndarray, names: list[str]) -> None:
    """Add the types ``ids`` to ``counter``; new keys go in the order of first appearance, as
    ``Counter.update`` on the type lists would put them (the card lists ties in that order)."""
    if not len(ids):
        return
    unique, first, counts = np.unique(ids, return_index=True, return_counts=True)
    for k in np.argsort(first, kind="stable"):
        counter[names[unique[k]]] += int(counts[k])


# --- corpus build: selection and output ----------------------------------------------------------------------------


def scheme_mapping(counts: Counter, ontology: Ontology, scheme: str) -> dict[str, str]:
    """Lower-cased class label -> label under ``scheme`` (ENTITY stays ENTITY)."""
    by_lower = {c.lower(): c for c in ontology.classes}
    labels = [c for c in counts if c != ENTITY]
    if scheme == "full":
        return {}
    if scheme == "4types":
        return {c: four_types(by_lower.get(c), ontology) for c in labels}
    merged = merge_rare_classes({by_lower[c]: counts[c] for c in labels if c in by_lower}, ontology, MERGED_TARGET)
    return {c.lower(): target.lower() for c, target in merged.items()}


def _histogram_png(before: Counter, after: Counter) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    names = [c for c, _ in sorted(before.items(), key=lambda kv: -kv[1]) if c != ENTITY]
    fig = Figure(figsize=(max(6, 0.12 * len(names) + 2), 4), dpi=100)
    ax = fig.add_subplot()
    xs = range(len(names))
    ax.bar([x - 0.2 for x in xs], [before[n] for n in names], width=0.4, label="before balancing")
    ax.bar([x + 0.2 for x in xs], [after.get(n, 0) for n in names], width=0.4, label="after balancing")
    ax.set_yscale("log")
    ax.set_xticks(list(xs), names, rotation=90, fontsize=6)
    ax.set_ylabel("entities")
    ax.set_title("Entities per category (NER-BERT Figures 1 and 8)")
    ax.legend()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def select_and_write(shards: list[Path], options: CorpusOptions, ontology: Ontology, stats: dict,
                     shard_rows: int = 250_000) -> Path:
    """Filters, balancing, label scheme, split, Parquet + card, streaming the shards in passes.

    Memory holds one shard, the category counts, and a few bytes per sentence (the
    keep decisions and copy counts), whatever the corpus size. The decisions are
    those of :mod:`.selection`'s in-memory functions, drawn in the same order; the
    passes count each shard's entities as arrays (:func:`_shard_entities`).
    Sentences the tagger left out for want of a typed anchor only count in ``stats``:
    the filters drop them, and no decision depends on them.
    """
    vocabulary: dict[str, int] = {ENTITY: 0}
    raw = Counter()
    for entities in _read_entities(shards, vocabulary):
        _count(raw, entities.type_id, list(vocabulary))
    type_names = list(vocabulary)  # every type of the corpus: the later passes add none
    if not any(c != ENTITY for c in raw):
        raise CorpusError(f"{options.dump}: no anchor could be typed: no usable entities for a corpus "
                          f"({stats.get('sentences', 0)} sentences, "
                          f"{sum(raw.values()) + stats.get('untyped_entities', 0)} untyped anchors)")
    scarce = scarce_categories(raw, options.min_category_count)
    scarce_map = dict.fromkeys(scarce, ENTITY)
    entity = vocabulary[ENTITY]
    as_typed = np.array([entity if n in scarce_map else i for i, n in enumerate(type_names)], dtype=np.int64)

    def typed(entities: _Entities) -> tuple[np.ndarray, np.ndarray]:
        """Each entity's type with scarce ones as ENTITY, and the rows with a typed entity (in order)."""
        types = as_typed[entities.type_id]
        has_typed = np.bincount(entities.row[types != entity], minlength=entities.sentences) > 0
        return types, np.flatnonzero(has_typed)

    typed_counts, n_typed = Counter(), 0
    for entities in _read_entities(shards, vocabulary):
        types, rows = typed(entities)
        in_typed = np.zeros(entities.sentences, dtype=bool)
        in_typed[rows] = True
        _count(typed_counts, types[in_typed[entities.row]], type_names)
        n_typed += len(rows)
    top = top_categories(typed_counts)
    in_top = np.isin(type_names, top)

    rng = np.random.default_rng(options.seed)
    keep = np.zeros(n_typed, dtype=bool)
    before, dropped, j = Counter(), Counter(), 0
    for entities in _read_entities(shards, vocabulary):
        types, rows = typed(entities)
        n_entity = np.bincount(entities.row[types == entity], minlength=entities.sentences)[rows]
        all_top = np.bincount(entities.row[~in_top[types]], minlength=entities.sentences)[rows] == 0
        draws = rng.random(len(rows))  # the same stream as one draw of n_typed
        dropping = draws < drop_probabilities(n_entity, all_top)
        dropped.update(np.minimum(n_entity[dropping], 5).tolist())
        keep[j:j + len(rows)] = ~dropping
        j += len(rows)
        kept = np.zeros(entities.sentences, dtype=bool)
        kept[rows[~dropping]] = True
        _count(before, types[kept[entities.row]], type_names)
    if not keep.any():
        raise CorpusError(f"{options.dump}: no sentence survives the filters (every sentence lacks a typed entity)")

    rates = balance_rates(before)
    # A sentence's owner is its rarest typed category (selection.owner): the lowest rank in this order.
    ranked = sorted((c for c in before if c != ENTITY), key=lambda c: (before[c], c))
    rank = np.full(len(type_names), len(ranked), dtype=np.int64)
    rank[np.array([vocabulary[c] for c in ranked], dtype=np.int64)] = np.arange(len(ranked))
    owners, j = [], 0
    for entities in _read_entities(shards, vocabulary):
        types, rows = typed(entities)
        kept_rows = rows[keep[j:j + len(rows)]]
        j += len(rows)
        best = np.full(entities.sentences, len(ranked), dtype=np.int64)
        np.minimum.at(best, entities.row, rank[types])
        owners += [ranked[r] for r in best[kept_rows]]
    copies = balance_copies(owners, rates, options.seed)
    del owners
    # after-balancing counts: each kept sentence's entities times its copies (kept with 0 copies: still a key)
    after = Counter(dict.fromkeys(before, 0))
    totals = np.zeros(len(type_names), dtype=np.int64)
    j = kept_index = 0
    for entities in _read_entities(shards, vocabulary):
        types, rows = typed(entities)
        kept_rows = rows[keep[j:j + len(rows)]]
        j += len(rows)
        n_copies = np.zeros(entities.sentences, dtype=np.int64)
        n_copies[kept_rows] = copies[kept_index:kept_index + len(kept_rows)]
        kept_index += len(kept_rows)
        np.add.at(totals, types, n_copies[entities.row])
    for category in after:
        after[category] = int(totals[vocabulary[category]])
    mapping = scheme_mapping(after, ontology, options.label_scheme)
    final = Counter()
    for category, n in after.items():
        final[mapping.get(category, category)] += n
    types_final = [c for c, _ in sorted(final.items(), key=lambda kv: (-kv[1], kv[0]))]
    labels = labels_for_types(types_final)
    validation = validation_mask(int(copies.sum()), options.seed)
    label2id = {label: i for i, label in enumerate(labels)}
    extra = {"title": Value("string"), "id": Value("int64")}
    schema = ner_features(labels, extra).arrow_schema
    full_map = {**scarce_map, **mapping}  # scarce categories are ENTITY in every scheme

    output = Path(options.output)
    split_stats = {"train": SplitStats(), "validation": SplitStats()}
    with atomic_output_dir(output, overwrite=options.overwrite) as tmp:
        (tmp / "data").mkdir()
        pending: dict[str, list[pa.Table]] = {"train": [], "validation": []}
        written: dict[str, list[str]] = {"train": [], "validation": []}

        def write(split: str, table: pa.Table) -> None:
            name = f"{split}-{len(written[split]):05d}.parquet"
            pq.write_table(table.combine_chunks(), tmp / "data" / name)
            written[split].append(name)

        def add(split: str, table: pa.Table) -> None:
            # Files of exactly shard_rows rows, as a row-by-row writer flushing at shard_rows would cut them.
            pending[split].append(table)
            if sum(t.num_rows for t in pending[split]) >= shard_rows:
                rows = pa.concat_tables(pending[split])
                while rows.num_rows >= shard_rows:
                    write(split, rows.slice(0, shard_rows))
                    rows = rows.slice(shard_rows)
                pending[split] = [rows]

        row = j = kept_index = 0
        for path in shards:
            table = pq.read_table(path)
            entities = _shard_entities(table.column("tags"), vocabulary)
            _, rows = typed(entities)
            kept_rows = rows[keep[j:j + len(rows)]]
            j += len(rows)
            copied = np.repeat(kept_rows, copies[kept_index:kept_index + len(kept_rows)])
            kept_index += len(kept_rows)
            out = _output_rows(table.take(copied), full_map, label2id, schema)
            in_validation = validation[row:row + len(copied)]
            row += len(copied)
            for split, mask in (("train", ~in_validation), ("validation", in_validation)):
                part = out.filter(mask)
                _add_stats(split_stats[split], part, labels)
                add(split, part)
        for split, tables in pending.items():
            rows = pa.concat_tables(tables) if tables else None
            if rows is not None and rows.num_rows:
                write(split, rows)
        files = {}
        for split, names in written.items():
            for k, name in enumerate(names):
                final_name = f"{split}-{k:05d}-of-{len(names):05d}.parquet"
                (tmp / "data" / name).rename(tmp / "data" / final_name)
            files[split] = [f"data/{split}-{k:05d}-of-{len(names):05d}.parquet" for k in range(len(names))]
        card = _corpus_card(options, stats, scarce, top, dropped, n_typed, before, after, rates, final, split_stats)
        config = ConfigData("default", labels, {}, extra_features=extra)
        (tmp / "README.md").write_text(
            render_dataset_card(card, [config], {"default": files}, {"default": split_stats}), encoding="utf-8")
        (tmp / "entities_per_category.png").write_bytes(_histogram_png(before, after))
    return output


def _output_rows(rows: pa.Table, full_map: dict[str, str], label2id: dict[str, int], schema: pa.Schema) -> pa.Table:
    """Raw shard rows as output rows: tags relabelled (:func:`~.selection.relabel`) and turned into label ids."""
    distinct, codes, offsets = _tag_codes(rows.column("tags"))
    # The dictionary may hold tags of rows not taken, whose types have no label.
    used = np.unique(codes)
    lookup = np.zeros(max(len(distinct), 1), dtype=np.int64)
    lookup[used] = [label2id[t] for t in relabel([distinct[i] for i in used], full_map)]
    ner_tags = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(lookup[codes], pa.int64()))
    return pa.Table.from_arrays([rows.column("tokens").combine_chunks(), ner_tags, rows.column("title").combine_chunks(),
                                 rows.column("id").combine_chunks()], schema=schema)


def _add_stats(stats: SplitStats, rows: pa.Table, labels: list[str]) -> None:
    """:meth:`SplitStats.add` of every output row."""
    stats.rows += rows.num_rows
    stats.tokens += int(pc.sum(pc.list_value_length(rows.column("tokens"))).as_py() or 0)
    counts = np.bincount(pc.list_flatten(rows.column("ner_tags")).to_numpy(), minlength=len(labels))
    for label, n in zip(labels, counts):
        if n and label.startswith("B-"):
            stats.entities[label[2:]] += int(n)


def _corpus_card(options, stats, scarce, top, dropped, n_typed, before, after, rates, final, split_stats):
    n_rows = sum(s.rows for s in split_stats.values())
    n_tokens = sum(s.tokens for s in split_stats.values())
    table1 = [
        "| examples | tokens | categories | entities |",
        "|---|---|---|---|",
        f"| {n_rows:,} | {n_tokens:,} | {len([t for t in final if t != ENTITY])} | {sum(final.values()):,} |",
    ]
    category_rows = ["| category | before balancing | after balancing | rate |", "|---|---|---|---|"]
    category_rows += [f"| {c} | {before[c]} | {after.get(c, 0)} | {rates.get(c, 1.0):.2f} |"
                      for c, _ in sorted(before.items(), key=lambda kv: -kv[1])]
    notes = [
        f"dump: `{Path(options.dump).name}`: {stats.get('pages', '?')} pages, {stats.get('articles', '?')} articles "
        f"tagged into {stats.get('sentences', '?')} sentences",
        f"types from {stats.get('type_source', '?')} with ontology `{Path(options.ontology).name}`",
        f"categories with fewer than {options.min_category_count} entities relabelled ENTITY "
        f"(their anchors stay entities, untyped): {', '.join(scarce) if scarce else 'none'}",
        f"dropped {stats.get('sentences', 0) - n_typed} sentences with no entity or only ENTITY; dropped "
        f"{sum(dropped.values())} sentences whose entities all lie in the top-20 categories ({', '.join(top)}) "
        "with 3/4/>4 ENTITY labels (p = 0.3/0.5/0.7)",
        "balanced by resampling sentences at rate q_E/p_E with p(E) proportional to |E|^0.7 "
        "(each sentence owned by its rarest category; see `nerbert_hf.corpus.selection.balance`)",
        f"label scheme `{options.label_scheme}`; seeded ({options.seed}) 90/10 train/validation split",
        (f"`--propagate-mentions`: {stats.get('propagated', 0)} later unlinked mentions of typed anchors' surface "
         "forms tagged" if options.propagate_mentions else "unlinked later mentions are `O`, as in the paper"),
    ]
    return DatasetCardInfo(
        pretty_name=f"NER-BERT Wikipedia corpus ({options.label_scheme})",
        description="Wikipedia sentences whose anchors are typed with the DBpedia Ontology (NER-BERT §2): "
                    "label = the anchor target's class in lower case, `ENTITY` for an anchor without a class. "
                    "Columns: `tokens`, `ner_tags` (ClassLabel, IOB2), `title` and `id` of the article.",
        source="Built with `nerbert-hf corpus build` from a Wikipedia dump and the DBpedia Ontology.",
        license="cc-by-sa-3.0",
        citation=NER_BERT_CITATION,
        tags=["wikipedia", "dbpedia", "ner-bert"],
        notes=notes,
        sections=[
            "## Statistics (NER-BERT Table 1)\n\n" + "\n".join(table1),
            "## Categories before and after balancing\n\n![entities per category](entities_per_category.png)\n\n"
            + "\n".join(category_rows),
        ],
    )


def build_corpus(options: CorpusOptions) -> Path:
    """The whole ``corpus build``; the shards of an interrupted run are reused."""
    with _no_cycle_collection():
        return _build_corpus(options)


def _build_corpus(options: CorpusOptions) -> Path:
    if options.label_scheme not in LABEL_SCHEMES:
        raise CorpusError(f"--label-scheme must be one of {', '.join(LABEL_SCHEMES)}, not {options.label_scheme!r}")
    sources = [s for s in (options.mappings, options.types, options.instance_types) if s is not None]
    if len(sources) != 1:
        raise CorpusError("give exactly one of --mappings, --types, --instance-types")
    output = Path(options.output)
    if output.exists() and not options.overwrite:
        raise FileExistsError(f"{output} already exists (pass --overwrite to replace it)")
    ontology = Ontology.from_owl(options.ontology)
    PunktSplitter.load(options.punkt)  # fail now, not after the typing pass
    work = output.with_name(f".{output.name}.partial")
    fingerprint = options.fingerprint()
    marker = work / "fingerprint"
    if work.exists() and (not marker.exists() or marker.read_text() != fingerprint):
        logger.warning("%s holds shards of a build with other inputs: starting over", work)
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    marker.write_text(fingerprint)

    index_dir, stats_path = work / "type_index", work / "stats.json"
    if stats_path.exists():  # written once the index is complete
        stats = json.loads(stats_path.read_text())
    else:
        stats = {}
        if options.types is not None:
            pairs, redirects = read_types_folder(options.types)
            stats["type_source"] = f"`corpus types` folder `{Path(options.types).name}`"
        else:
            mappings = InfoboxMappings.from_xml(options.mappings, ontology) if options.mappings else None
            pairs, redirects, counted = scan_types(options.dump, mappings, keep_articles=work / _ARTICLES)
            if options.instance_types is not None:
                pairs = list(read_instance_types(options.instance_types, ontology))
                stats["type_source"] = f"instance types `{Path(options.instance_types).name}`"
            else:
                stats["type_source"] = f"infobox mappings `{Path(options.mappings).name}`"
        TypeIndex.build(pairs, redirects=redirects, ontology=ontology).save(index_dir, overwrite=True)
        stats["typed_titles"] = len(pairs)
        stats["redirects"] = len(redirects)
        tmp = stats_path.with_name(".stats.json.tmp")
        tmp.write_text(json.dumps(stats))
        tmp.replace(stats_path)
    shards, counted = tag_shards(options, index_dir, work)
    (work / _ARTICLES).unlink(missing_ok=True)  # every article is tagged: free the disk before the output
    stats.update(counted)
    out = select_and_write(shards, options, ontology, stats)
    shutil.rmtree(work)
    return out
