"""Span F1 of `pipeline("ner")` on a test set against the recipe's own `test_f1`, for one fine-tuned checkpoint.

    python benchmarks/pipeline_agreement.py --checkpoint runs/politics --dataset_name data/crossner \
        --dataset_config_name politics

Each test sentence is joined with spaces, tagged by `pipeline("ner", aggregation_strategy="first")`, and its
entities mapped back to words by character offsets; the word-level spans are scored with the same seqeval
metric as the recipe. The two differ only where the pipeline splits a word at inner punctuation or [UNK].
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from datasets import load_dataset
from transformers import pipeline

from nerbert_hf.metrics import ner_scores


def pipeline_word_tags(ner, words: list[str]) -> list[str]:
    """IOB2 word tags from the pipeline's character-offset entities over the space-joined words."""
    starts, pos = [], 0
    for word in words:
        starts.append(pos)
        pos += len(word) + 1
    tags = ["O"] * len(words)
    for entity in ner(" ".join(words)):
        inside = [i for i, s in enumerate(starts) if s < entity["end"] and s + len(words[i]) > entity["start"]]
        for k, i in enumerate(inside):
            tags[i] = ("B-" if k == 0 else "I-") + entity["entity_group"]
    return tags


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
    predicted = [pipeline_word_tags(ner, words) for words in data["tokens"]]
    f1 = ner_scores(gold, predicted)["f1"]
    recipe = json.loads((Path(args.checkpoint) / "all_results.json").read_text()).get("test_f1")
    print(f"pipeline span F1 {100 * f1:.2f}; recipe test_f1 {100 * recipe:.2f}; difference {100 * (f1 - recipe):+.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
