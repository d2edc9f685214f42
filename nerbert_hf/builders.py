"""Turn a dataset's raw IOB files into a Hub-ready folder: the machinery every dataset script shares.

A dataset script declares an :class:`IOBDataset` (which raw file is which split of
which config, where the originals live, the published label list); :func:`build_dataset`
finds or downloads the files, reads them with one reader, checks the labels, carves a
validation split where the source has none, and writes Parquet plus a card.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable

from .cards import DatasetCardInfo
from .download import cache_root, fetch_all
from .errors import NerbertError
from .hub_folder import write_hub_folder
from .iob import IOBFile, read_iob
from .labels import dataset_labels, labels_for_types, rename_tags, unified_type_map, unify_labels
from .schema import ConfigData

logger = logging.getLogger(__name__)

Reader = Callable[[Path], IOBFile]


class SourceError(NerbertError):
    """The raw files are missing or do not fit the dataset's declared layout."""


@dataclass(frozen=True)
class IOBDataset:
    """A dataset made of IOB files, one per split of each config.

    ``files`` maps config -> split -> path relative to the source folder (the
    original file names). ``label_key`` names the published label list in
    ``label_lists.json`` (``{config}`` is filled in); None derives the list from the
    data. ``base_url`` + relative path is each file's original public location; None
    means the data can only be read from a local copy (licensed or not distributed).
    """

    name: str
    card: DatasetCardInfo
    files: dict[str, dict[str, str]]
    label_key: str | None = None
    base_url: str | None = None
    urls: dict[str, str] = field(default_factory=dict)
    reader: Reader = read_iob
    local_only_reason: str = ""

    @property
    def configs(self) -> list[str]:
        return list(self.files)

    def source_layout(self, configs: list[str]) -> str:
        names = sorted({rel for c in configs for rel in self.files[c].values()})
        return ", ".join(names)

    def url_for(self, relative: str) -> str | None:
        if relative in self.urls:
            return self.urls[relative]
        return f"{self.base_url.rstrip('/')}/{relative}" if self.base_url else None


def carve_validation(sentences: list, fraction: float, seed: int) -> tuple[list, list]:
    """Split off a seeded random ``fraction`` of ``sentences``; both parts keep file order."""
    if not 0 < fraction < 1:
        raise ValueError(f"validation fraction must be in (0, 1), got {fraction}")
    n_val = max(1, round(len(sentences) * fraction))
    if n_val >= len(sentences):
        raise NerbertError(f"cannot carve a validation split from {len(sentences)} training sentence(s)")
    chosen = set(random.Random(seed).sample(range(len(sentences)), n_val))
    train = [s for i, s in enumerate(sentences) if i not in chosen]
    validation = [s for i, s in enumerate(sentences) if i in chosen]
    return train, validation


def resolve_source(spec: IOBDataset, source: str | Path | None, configs: list[str]) -> Path:
    """The local folder holding the raw files: ``source`` itself, or the download cache."""
    layout = spec.source_layout(configs)
    if source is not None:
        folder = Path(source)
        if not folder.is_dir():
            raise SourceError(f"--source {folder}: not a folder (it should hold {layout})")
        return folder
    if spec.base_url is None and not spec.urls:
        raise SourceError(
            f"{spec.name} has no public download ({spec.local_only_reason}); "
            f"pass --source DIR, a folder holding {layout}"
        )
    hint = f"Offline? Pass --source DIR, a local folder holding {layout}."
    urls = {rel: spec.url_for(rel) for c in configs for rel in spec.files[c].values()}
    return fetch_all(urls, cache_root() / "raw" / spec.name, hint=hint)


def _check_labels(iob: IOBFile, labels: list[str], path: Path, key: str) -> None:
    allowed = set(labels)
    for (_, tags), line in zip(iob.sentences, iob.lines):
        for offset, tag in enumerate(tags):
            if tag not in allowed:
                raise SourceError(
                    f"{path}:{line + offset}: tag {tag!r} is not in {key}'s published label list ({', '.join(labels)})"
                )


def build_dataset(
    spec: IOBDataset,
    output: str | Path,
    *,
    source: str | Path | None = None,
    configs: list[str] | None = None,
    unify: bool = False,
    validation_fraction: float = 0.1,
    seed: int = 42,
    overwrite: bool = False,
) -> Path:
    """Build ``spec`` (all configs unless ``configs``) into a dataset folder at ``output``."""
    configs = configs or spec.configs
    unknown = [c for c in configs if c not in spec.files]
    if unknown:
        raise NerbertError(f"{spec.name} has no config {', '.join(unknown)}; choose from {', '.join(spec.configs)}")
    folder = resolve_source(spec, source, configs)
    results = []
    for config in configs:
        splits, notes = {}, []
        published = dataset_labels(spec.label_key.format(config=config)) if spec.label_key else None
        seen_types: dict[str, None] = {}
        for split, relative in spec.files[config].items():
            path = folder / relative
            if not path.exists():
                raise SourceError(f"{path}: missing; the source folder should hold {spec.source_layout(configs)}")
            iob = spec.reader(path)
            logger.info("read %s: %d sentences, %d tokens", path, iob.report.sentences, iob.report.tokens)
            if published is not None:
                _check_labels(iob, published, path, spec.label_key.format(config=config))
            for _, tags in iob.sentences:
                for tag in tags:
                    if tag != "O":
                        seen_types.setdefault(tag[2:], None)
            splits[split] = iob.sentences
            notes += [f"`{relative}` ({split}): {fix}" for fix in iob.report.fixes()]
        if "validation" not in splits:
            splits["train"], splits["validation"] = carve_validation(splits["train"], validation_fraction, seed)
            notes.append(
                f"the source has no validation split: {len(splits['validation'])} sentences "
                f"({validation_fraction:.0%}) drawn from train at random (seed {seed}) form `validation`"
            )
        labels = published if published is not None else labels_for_types(sorted(seen_types))
        if unify:
            labels, kept = unify_labels(labels)
            type_map = unified_type_map()
            splits = {s: [(tokens, rename_tags(tags, type_map)) for tokens, tags in rows] for s, rows in splits.items()}
            notes.append("entity types renamed to the unified type map (`--unify-labels`)")
            if kept:
                notes.append(f"types not in the unified map, kept as they are: {', '.join(kept)}")
                logger.warning("%s: types not in the unified map, kept: %s", config, ", ".join(kept))
        results.append(ConfigData(config, labels, {s: splits[s] for s in ("train", "validation", "test") if s in splits}, notes))
    return write_hub_folder(output, results, spec.card, overwrite=overwrite)


def reader_with(**options) -> Reader:
    """A reader with fixed format options (e.g. ``label_column='first'``)."""
    return partial(read_iob, **options)
