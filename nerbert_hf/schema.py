"""The shape of every dataset the project writes: splits, configs and features."""

from __future__ import annotations

from dataclasses import dataclass, field

from datasets import ClassLabel, Features, List, Value

SPLIT_ORDER = ("train", "validation", "test")


@dataclass
class ConfigData:
    """One config of a dataset: its label list and its splits of rows.

    A row is ``(tokens, IOB2 tags, *extras)``, the extras in the order of
    ``extra_features`` (e.g. the corpus builder's ``title`` and ``id``).
    """

    name: str
    label_names: list[str]
    splits: dict[str, list[tuple]]
    notes: list[str] = field(default_factory=list)
    extra_features: dict[str, Value] = field(default_factory=dict)


def ner_features(label_names: list[str], extra: dict[str, Value] | None = None) -> Features:
    """``tokens`` and ClassLabel ``ner_tags``, then any extra columns."""
    return Features({"tokens": List(Value("string")), "ner_tags": List(ClassLabel(names=label_names)), **(extra or {})})


def config_dir(config: ConfigData, n_configs: int) -> str:
    """Where a config's files live: 'data' for a single default config, else its name."""
    return "data" if n_configs == 1 and config.name == "default" else config.name
