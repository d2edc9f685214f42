"""Span F1 of `pipeline("ner")` on a test set against the recipe's own `test_f1`, for one fine-tuned checkpoint.

    python benchmarks/pipeline_agreement.py --checkpoint runs/politics --dataset_name data/crossner \
        --dataset_config_name politics

Each test sentence is joined with spaces and tagged by `pipeline("ner", aggregation_strategy="first")`.
Two scores: exact character spans (start, end, type) against the gold entities' spans, and word spans (each
word takes the type of the pipeline entity holding its first character), both micro F1 like the recipe's.
They can differ from `test_f1` only where the pipeline splits a word (inner punctuation, [UNK]) and the
model tags its pieces inconsistently.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from datasets import load_dataset
from transformers import pipeline

from nerbert_hf.metrics import ner_scores


def _word_starts(words: list[str]) -> list[int]:
    starts, pos = [], 0
    for word in words:
        starts.append(pos)
        pos += len(word) + 1
    return starts


def pipeline_word_tags(entities: list[dict], words: list[str]) -> list[str]:
    """IOB2 word tags: a word takes the entity holding its first character (B- on the entity's first word)."""
    tags = ["O"] * len(words)
    starts = _word_starts(words)
    for entity in entities:
        inside = [i for i, s in enumerate(starts) if entity["start"] <= s < entity["end"]]
        for k, i in enumerate(inside):
            tags[i] = ("B-" if k == 0 else "I-") + entity["entity_group"]
    return tags


def char_spans(words: list[str], tags: list[str]) -> set[tuple[str, int, int]]:
    """(type, start, end) character spans of IOB2 word tags over the space-joined words."""
    from seqeval.metrics.sequence_labeling import get_entities

    starts = _word_starts(words)
    return {(t, starts[i], starts[j] + len(words[j])) for t, i, j in get_entities(tags)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--dataset_name", required=True)
    parser.add_argument("--dataset_config_name")
    parser.add_argument("--split", default="test")
    args = parser.parse_args()
    data = load_dataset(args.dataset_name, args.dataset_config_name)[args.split]
    names = data.features["ner_tags"].feature.names
    ner = pipeline("ner", model=args.checkpoint, aggregation_strategy="first")
    gold = [[names[i] for i in tags] for tags in data["ner_tags"]]
    entities = [ner(" ".join(words)) for words in data["tokens"]]
    word_f1 = ner_scores(gold, [pipeline_word_tags(e, w) for e, w in zip(entities, data["tokens"])])["f1"]
    hits = predicted = expected = 0
    for words, tags, found in zip(data["tokens"], gold, entities):
        truth = char_spans(words, tags)
        spans = {(e["entity_group"], e["start"], e["end"]) for e in found}
        hits, predicted, expected = hits + len(truth & spans), predicted + len(spans), expected + len(truth)
    span_f1 = 2 * hits / (predicted + expected) if predicted + expected else 0.0
    recipe = json.loads((Path(args.checkpoint) / "all_results.json").read_text()).get("test_f1")
    print(f"recipe test_f1 {100 * recipe:.2f}; pipeline F1 on character spans {100 * span_f1:.2f} "
          f"({100 * (span_f1 - recipe):+.2f}), on words {100 * word_f1:.2f} ({100 * (word_f1 - recipe):+.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
