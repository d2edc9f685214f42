"""Any user folder of IOB files: ``train*``, ``dev*``/``valid*``/``validation*``, ``test*``.

The format of each file (separator, label column, tag scheme) is detected unless
given; the label list is ``O`` plus B-/I- of every type found, types sorted.
"""

from __future__ import annotations

from pathlib import Path

from nerbert_hf.builders import IOBDataset, SourceError, reader_with
from nerbert_hf.cards import DatasetCardInfo

SPLIT_PREFIXES = {"train": ("train",), "validation": ("validation", "valid", "dev"), "test": ("test",)}


def find_split_files(folder: str | Path) -> dict[str, str]:
    """Map each split to the one file in ``folder`` whose name starts with its prefix."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SourceError(f"--source {folder}: not a folder")
    found: dict[str, list[str]] = {split: [] for split in SPLIT_PREFIXES}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        name = path.name.lower()
        for split, prefixes in SPLIT_PREFIXES.items():
            if name.startswith(prefixes):
                found[split].append(path.name)
    for split, names in found.items():
        if len(names) > 1:
            raise SourceError(f"{folder}: several files for the {split} split ({', '.join(names)}); keep one")
    if not found["train"]:
        raise SourceError(f"{folder}: no training file (a name starting with 'train')")
    return {split: names[0] for split, names in found.items() if names}


def iob_dataset(folder: str | Path, *, separator="auto", label_column="auto", scheme="auto", name=None) -> IOBDataset:
    """A spec for a user folder; nothing to download, the folder is the source."""
    folder = Path(folder)
    name = name or folder.absolute().name
    files = find_split_files(folder)
    return IOBDataset(
        name=name,
        card=DatasetCardInfo(
            pretty_name=name,
            description=f"NER data built from the IOB files of `{folder.absolute().name}/`.",
            source="Local IOB files: " + ", ".join(f"`{f}`" for f in files.values()) + ".",
            license="unknown",
        ),
        files={"default": files},
        reader=reader_with(separator=separator, label_column=label_column, scheme=scheme),
        local_only_reason="a local folder",
    )
