"""The corpus builder's passes: type articles, tag sentences in resumable shards, select, write.

``corpus types``: one pass over the dump types every article by its infobox
(DBpedia mappings) and collects the redirect table. ``corpus build``: a pass that
turns articles into tagged sentences, written in shards of articles so that an
interrupted build resumes where it stopped; then the paper's selection (§2.3-2.4)
over all shards, a label scheme, a seeded 90/10 split, and a Hub-ready folder.
"""

from __future__ import annotations

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
    drop_probability,
    has_typed_entity,
    owner,
    relabel,
    scarce_categories,
    sentence_types,
    top_categories,
    validation_mask,
)
from .sentences import Sentence, load_punkt, propagate_mentions, tag_paragraph
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


# --- corpus types ------------------------------------------------------------------------------------------------


def scan_types(dump: Path, mappings: InfoboxMappings | None) -> tuple[list, list, Counter]:
    """One pass: ``(title, class)`` of typed articles (with ``mappings``), redirects, and page counts."""
    pairs, redirects, stats = [], [], Counter()
    bar = tqdm(desc=f"typing {Path(dump).name}", unit=" pages")
    for page in iter_pages(dump):
        bar.update()
        stats["pages"] += 1
        if page.ns == 0 and page.redirect:
            redirects.append((page.title, page.redirect))
            stats["redirects"] += 1
        elif is_article(page) and not is_disambiguation(page):
            stats["articles"] += 1
            cls = article_type(page.text, mappings) if mappings is not None else None
            if cls is not None:
                pairs.append((page.title, cls))
                stats["typed"] += 1
    bar.close()
    return pairs, redirects, stats


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


def _init_worker(index_dir: str, punkt_path: str | None, propagate: bool = False) -> None:
    _WORKER["index"] = TypeIndex.load(index_dir)
    _WORKER["punkt"] = load_punkt(punkt_path)
    _WORKER["propagate"] = propagate


def _tag_article(page_id: int, title: str, text: str) -> tuple[list[Sentence], int]:
    plain, anchors = wikitext_to_text(text)
    index = _WORKER["index"]
    targets = sorted({a.target for a in anchors})
    classes = dict(zip(targets, index.get_many(targets)))
    out = []
    for paragraph, inside in iter_paragraphs(plain, anchors):
        if paragraph.strip():
            out += tag_paragraph(paragraph, inside, _WORKER["punkt"], classes.get, title=title, page_id=page_id)
    return propagate_mentions(out) if _WORKER.get("propagate") else (out, 0)


def _tag_batch(batch) -> tuple[list[Sentence], int]:
    """The sentences of a batch of articles, and how many entities mention propagation added."""
    sentences, added = [], 0
    for page_id, title, text in batch:
        tagged, n = _tag_article(page_id, title, text)
        sentences += tagged
        added += n
    return sentences, added


def _shard_table(sentences: list[Sentence]) -> pa.Table:
    return pa.table({
        "tokens": [s.tokens for s in sentences],
        "tags": [s.tags for s in sentences],
        "title": [s.title for s in sentences],
        "id": [s.page_id for s in sentences],
    })


def _write_atomic(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp)
    tmp.replace(path)


def tag_shards(options: CorpusOptions, index_dir: Path, work: Path) -> tuple[list[Path], dict]:
    """Tag every article into shards of ``shard_articles`` articles under ``work``; resumes finished shards.

    Returns the shard files and the pages and articles read.

    ``work/progress.json`` records, per finished shard, the page count reached, so a
    resumed pass skips those pages without tagging them again.
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
    try:
        batch, pages_seen = [], start_page
        for page in iter_pages(options.dump, start_page=start_page):
            pages_seen += 1
            if is_article(page) and not is_disambiguation(page):
                batch.append((page.id, page.title, page.text))
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
               "propagated": sum(s.get("propagated", 0) for s in done)}
    return [work / s["file"] for s in done], counted


def _finish_shard(batch, pages_seen: int, pool, work: Path, done: list, progress_path: Path) -> None:
    if pool is None:
        sentences, added = _tag_batch(batch)
    else:
        # Ordered map over small chunks: the shard's sentence order does not depend on the workers.
        size = max(1, len(batch) // (len(pool._pool) * 8))
        chunks = [batch[i:i + size] for i in range(0, len(batch), size)]
        parts = list(pool.imap(_tag_batch, chunks))
        sentences = [s for part, _ in parts for s in part]
        added = sum(n for _, n in parts)
    name = f"raw-{len(done):05d}.parquet"
    _write_atomic(_shard_table(sentences), work / name)
    done.append({"file": name, "pages": pages_seen, "articles": len(batch), "sentences": len(sentences),
                 "propagated": added})
    tmp = progress_path.with_name(".progress.json.tmp")
    tmp.write_text(json.dumps({"shards": done}, indent=1))
    tmp.replace(progress_path)


def _iter_column(paths: list[Path], column: str):
    """One column of every shard, one shard in memory at a time, and each shard's row count."""
    for path in paths:
        yield pq.read_table(path, columns=[column]).column(column).to_pylist()


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
    those of :mod:`.selection`'s in-memory functions, drawn in the same order.
    """
    raw = Counter()
    for tags_column in _iter_column(shards, "tags"):
        for tags in tags_column:
            raw.update(sentence_types(tags))
    if not any(c != ENTITY for c in raw):
        raise CorpusError(f"{options.dump}: no anchor could be typed: no usable entities for a corpus "
                          f"({stats.get('sentences', 0)} sentences, {sum(raw.values())} untyped anchors)")
    scarce = scarce_categories(raw, options.min_category_count)
    scarce_map = dict.fromkeys(scarce, ENTITY)

    def types_of(tags):
        return [scarce_map.get(t, t) for t in sentence_types(tags)]

    typed_counts, n_typed = Counter(), 0
    for tags_column in _iter_column(shards, "tags"):
        for tags in tags_column:
            types = types_of(tags)
            if has_typed_entity(types):
                typed_counts.update(types)
                n_typed += 1
    top = top_categories(typed_counts)
    top_set = set(top)

    rng = np.random.default_rng(options.seed)
    keep = np.zeros(n_typed, dtype=bool)
    before, dropped, j = Counter(), Counter(), 0
    for tags_column in _iter_column(shards, "tags"):
        typed = [types for types in map(types_of, tags_column) if has_typed_entity(types)]
        for types, draw in zip(typed, rng.random(len(typed))):  # the same stream as one draw of n_typed
            if draw < drop_probability(types, top_set):
                dropped[min(sum(t == ENTITY for t in types), 5)] += 1
            else:
                keep[j] = True
                before.update(types)
            j += 1
    if not keep.any():
        raise CorpusError(f"{options.dump}: no sentence survives the filters (every sentence lacks a typed entity)")

    rates = balance_rates(before)
    owners = []
    for tags_column in _iter_column(shards, "tags"):
        owners += [owner(types, before) for types in map(types_of, tags_column) if has_typed_entity(types)]
    owners = [o for o, k in zip(owners, keep) if k]
    copies = balance_copies(owners, rates, options.seed)
    del owners
    # after-balancing counts: each kept sentence's entities times its copies
    after = Counter()
    kept_index, typed_index = 0, 0
    for tags_column in _iter_column(shards, "tags"):
        for types in map(types_of, tags_column):
            if not has_typed_entity(types):
                continue
            if keep[typed_index]:
                for t in types:
                    after[t] += int(copies[kept_index])
                kept_index += 1
            typed_index += 1
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
        buffers = {"train": [], "validation": []}
        written = {"train": [], "validation": []}

        def flush(split):
            rows = buffers[split]
            if not rows:
                return
            name = f"{split}-{len(written[split]):05d}.parquet"
            columns = {"tokens": [r[0] for r in rows], "ner_tags": [[label2id[t] for t in r[1]] for r in rows],
                       "title": [r[2] for r in rows], "id": [r[3] for r in rows]}
            pq.write_table(pa.Table.from_pydict(columns, schema=schema), tmp / "data" / name)
            written[split].append(name)
            buffers[split] = []

        row, typed_index, kept_index = 0, 0, 0
        for path in shards:
            table = pq.read_table(path).to_pydict()
            for tokens, tags, title, page_id in zip(table["tokens"], table["tags"], table["title"], table["id"]):
                if not has_typed_entity(types_of(tags)):
                    continue
                if keep[typed_index]:
                    new_tags = relabel(tags, full_map)
                    for _ in range(int(copies[kept_index])):
                        split = "validation" if validation[row] else "train"
                        buffers[split].append((tokens, new_tags, title, page_id))
                        split_stats[split].add(tokens, new_tags)
                        row += 1
                        if len(buffers[split]) >= shard_rows:
                            flush(split)
                    kept_index += 1
                typed_index += 1
        for split in buffers:
            flush(split)
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
    if options.label_scheme not in LABEL_SCHEMES:
        raise CorpusError(f"--label-scheme must be one of {', '.join(LABEL_SCHEMES)}, not {options.label_scheme!r}")
    sources = [s for s in (options.mappings, options.types, options.instance_types) if s is not None]
    if len(sources) != 1:
        raise CorpusError("give exactly one of --mappings, --types, --instance-types")
    output = Path(options.output)
    if output.exists() and not options.overwrite:
        raise FileExistsError(f"{output} already exists (pass --overwrite to replace it)")
    ontology = Ontology.from_owl(options.ontology)
    load_punkt(options.punkt)  # fail now, not after the typing pass
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
            pairs, redirects, counted = scan_types(options.dump, mappings)
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
    stats.update(counted, sentences=sum(pq.ParquetFile(p).metadata.num_rows for p in shards))
    out = select_and_write(shards, options, ontology, stats)
    shutil.rmtree(work)
    return out
