"""Dataset cards: YAML metadata that ``load_dataset`` reads, and a body a reader trusts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datasets import SplitDict, SplitInfo
from datasets.info import DatasetInfo, DatasetInfosDict
from datasets.utils.metadata import MetadataConfigs
from huggingface_hub import DatasetCard, DatasetCardData

from .labels import entity_types
from .schema import SPLIT_ORDER, ConfigData, config_dir, ner_features


@dataclass
class DatasetCardInfo:
    """What a card says about where a dataset comes from."""

    pretty_name: str
    description: str
    source: str
    license: str
    citation: str = ""
    language: str = "en"
    tags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)


@dataclass
class SplitStats:
    """What a card reports of one split: rows, tokens and entities per type."""

    rows: int = 0
    tokens: int = 0
    entities: Counter = field(default_factory=Counter)

    def add(self, tokens: list[str], tags: list[str]) -> None:
        self.rows += 1
        self.tokens += len(tokens)
        self.entities.update(t[2:] for t in tags if t.startswith("B-"))


def split_stats(rows) -> SplitStats:
    """Stats of ``(tokens, tags, ...)`` rows."""
    stats = SplitStats()
    for row in rows:
        stats.add(row[0], row[1])
    return stats


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render_dataset_card(card: DatasetCardInfo, configs: list[ConfigData], files: dict[str, dict[str, list[str]]],
                        stats: dict[str, dict[str, SplitStats]] | None = None) -> str:
    """The README.md of a dataset folder; ``files`` maps config -> split -> Parquet paths.

    ``stats`` (config -> split -> :class:`SplitStats`) is computed from the configs'
    rows unless given, as it is by writers that stream their rows.
    """
    if stats is None:
        stats = {c.name: {s: split_stats(rows) for s, rows in c.splits.items()} for c in configs}
    data = DatasetCardData(
        language=[card.language],
        license=card.license,
        pretty_name=card.pretty_name,
        task_categories=["token-classification"],
        task_ids=["named-entity-recognition"],
        tags=["ner", "nerbert-hf", *card.tags],
    )
    infos, metadata = {}, {}
    for config in configs:
        sub = config_dir(config, len(configs))
        splits = SplitDict()
        for split in SPLIT_ORDER:
            if split in stats[config.name]:
                splits.add(SplitInfo(name=split, num_examples=stats[config.name][split].rows))
        infos[config.name] = DatasetInfo(features=ner_features(config.label_names, config.extra_features),
                                         config_name=config.name, splits=splits)
        metadata[config.name] = {
            "data_files": [{"split": s, "path": f"{sub}/{s}-*"} for s in SPLIT_ORDER if s in files[config.name]]
        }
    DatasetInfosDict(infos).to_dataset_card_data(data)
    MetadataConfigs(metadata).to_dataset_card_data(data)

    body = [f"# {card.pretty_name}", "", card.description, ""]
    first = configs[0].name
    name_arg = "" if len(configs) == 1 and first == "default" else f', "{first}"'
    body += [
        "## Loading",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f'ds = load_dataset("path/to/this/folder/or/owner/repo"{name_arg})',
        'label_names = ds["train"].features["ner_tags"].feature.names',
        "```",
        "",
        "Features: `tokens` (list of strings) and `ner_tags` (list of `ClassLabel`, IOB2).",
        "",
        "## Source and license",
        "",
        card.source,
        "",
        f"License: `{card.license}`.",
        "",
        "## Splits",
        "",
    ]
    rows = []
    for config in configs:
        for split in SPLIT_ORDER:
            if split in stats[config.name]:
                st = stats[config.name][split]
                rows.append([config.name, split, st.rows, st.tokens, sum(st.entities.values())])
    body += [_table(["config", "split", "sentences", "tokens", "entities"], rows), ""]

    body += ["## Entities per type", ""]
    for config in configs:
        present = [s for s in SPLIT_ORDER if s in stats[config.name]]
        counts = {s: stats[config.name][s].entities for s in present}
        type_rows = [[t] + [counts[s].get(t, 0) for s in present] for t in entity_types(config.label_names)]
        if len(configs) > 1:
            body += [f"### {config.name}", ""]
        body += [_table(["type", *present], type_rows), ""]
        body += [f"Labels (id: name): {', '.join(f'{i}: `{n}`' for i, n in enumerate(config.label_names))}", ""]

    body += ["## Processing", ""]
    body += [f"- {note}" for note in card.notes]
    for config in configs:
        prefix = f"{config.name}: " if len(configs) > 1 else ""
        body += [f"- {prefix}{note}" for note in config.notes]
    for section in card.sections:
        body += ["", section]
    if card.citation:
        body += ["", "## Citation", "", "```bibtex", card.citation.strip(), "```"]
    body += ["", "Built with nerbert-hf (`nerbert-hf data build`).", ""]
    return str(DatasetCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(body)))
