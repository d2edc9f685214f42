"""The shape of every dataset the project writes: splits, configs and features."""

from __future__ import annotations

from dataclasses import dataclass, field

from datasets import ClassLabel, Features, List, Value

SPLIT_ORDER = ("train", "validation", "test")


@dataclass
class ConfigData:
    """One config of a dataset: its label list and its splits of (tokens, IOB2 tags)."""

    name: str
    label_names: list[str]
    splits: dict[str, list[tuple[list[str], list[str]]]]
    notes: list[str] = field(default_factory=list)


def ner_features(label_names: list[str]) -> Features:
    return Features({"tokens": List(Value("string")), "ner_tags": List(ClassLabel(names=label_names))})


def config_dir(config: ConfigData, n_configs: int) -> str:
    """Where a config's files live: 'data' for a single default config, else its name."""
    return "data" if n_configs == 1 and config.name == "default" else config.name
