"""Write a Hub-ready dataset folder (Parquet shards + dataset card), atomically.

The folder loads with ``datasets.load_dataset(folder[, config])`` and no loading
script: the card's YAML ``configs:`` names each config's Parquet files, and the
Parquet schema carries the ``ClassLabel`` names.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .cards import DatasetCardInfo, render_dataset_card
from .schema import SPLIT_ORDER, ConfigData, config_dir, ner_features

logger = logging.getLogger(__name__)

def _write_split(rows, config: ConfigData, directory: Path, split: str, shard_rows: int) -> list[str]:
    label_names = config.label_names
    label2id = {label: i for i, label in enumerate(label_names)}
    n_shards = max(1, -(-len(rows) // shard_rows))
    # The schema carries the features as metadata, so load_dataset restores the ClassLabel names.
    schema = ner_features(label_names, config.extra_features).arrow_schema
    names = []
    for shard in range(n_shards):
        chunk = rows[shard * shard_rows : (shard + 1) * shard_rows]
        ids = []
        for row in chunk:
            try:
                ids.append([label2id[t] for t in row[1]])
            except KeyError as err:
                raise ValueError(
                    f"config {config.name!r}, split {split!r}: tag {err.args[0]!r} is not in the label list "
                    f"{label_names}"
                ) from None
        columns = {"tokens": [row[0] for row in chunk], "ner_tags": ids}
        for k, name in enumerate(config.extra_features, start=2):
            columns[name] = [row[k] for row in chunk]
        name = f"{split}-{shard:05d}-of-{n_shards:05d}.parquet"
        pq.write_table(pa.Table.from_pydict(columns, schema=schema), directory / name)
        names.append(name)
    return names


@contextlib.contextmanager
def atomic_output_dir(output: str | Path, overwrite: bool = False):
    """Yield a temporary folder beside ``output`` that becomes ``output`` on success.

    On any error the temporary folder (and any parent folder made for it) is removed,
    so a failed run leaves nothing at ``output``; an existing ``output`` is replaced
    only when ``overwrite`` is set, and only once the new folder is complete.
    """
    output = Path(output).absolute()
    if output.exists() and not overwrite:
        raise FileExistsError(f"{output} already exists (pass --overwrite to replace it)")
    made = [p for p in reversed(output.parents) if not p.exists()]
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{output.name}.tmp-", dir=output.parent))
    try:
        yield tmp
        if output.exists():
            old = output.with_name(f".{output.name}.old-{os.getpid()}")
            output.rename(old)
            tmp.rename(output)
            shutil.rmtree(old)
        else:
            tmp.rename(output)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        for parent in reversed(made):
            with contextlib.suppress(OSError):
                parent.rmdir()
        raise


def write_hub_folder(
    output: str | Path,
    configs: list[ConfigData],
    card: DatasetCardInfo,
    *,
    overwrite: bool = False,
    shard_rows: int = 500_000,
    extra_files: dict[str, bytes] | None = None,
) -> Path:
    """Write every config's splits as Parquet plus a README.md card (and ``extra_files``); return the folder."""
    if not configs:
        raise ValueError("no configs to write")
    for config in configs:
        unknown = set(config.splits) - set(SPLIT_ORDER)
        if unknown:
            raise ValueError(f"config {config.name!r}: unknown split(s) {sorted(unknown)}; use {SPLIT_ORDER}")
    output = Path(output)
    with atomic_output_dir(output, overwrite=overwrite) as tmp:
        files: dict[str, dict[str, list[str]]] = {}
        for config in configs:
            sub = config_dir(config, len(configs))
            (tmp / sub).mkdir()
            files[config.name] = {}
            for split in SPLIT_ORDER:
                if split in config.splits:
                    names = _write_split(config.splits[split], config, tmp / sub, split, shard_rows)
                    files[config.name][split] = [f"{sub}/{n}" for n in names]
                    logger.info("%s/%s: %d rows", config.name, split, len(config.splits[split]))
        (tmp / "README.md").write_text(render_dataset_card(card, configs, files), encoding="utf-8")
        for name, content in (extra_files or {}).items():
            (tmp / name).write_bytes(content)
    return output
