"""NER-BERT §6: t-SNE of first-token embeddings of a test set's gold entities, one panel per checkpoint.

    python recipes/visualize.py --checkpoints bert-base-cased runs/nerbert --names BERT NER-BERT \
        --dataset data/crossner:politics --split test --output runs/tsne_politics.png

Writes the PNG and, beside it, a JSON of every point (word, category, coordinates per checkpoint).
"""

import argparse
import logging
import sys

from nerbert_hf.errors import NerbertError
from nerbert_hf.evaluation import parse_dataset_spec
from nerbert_hf.visualization import visualize


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoints", nargs="+", required=True, help="Encoders or fine-tuned checkpoints.")
    parser.add_argument("--names", nargs="+", help="Panel titles (default: the checkpoint folder names).")
    parser.add_argument("--dataset", required=True, help="PATH[:CONFIG] of a built dataset (or a Hub id).")
    parser.add_argument("--split", default="test")
    parser.add_argument("--output", required=True, help="PNG to write.")
    parser.add_argument("--max_types", type=int, default=8, help="Most frequent categories to plot.")
    parser.add_argument("--max_per_type", type=int, default=200, help="Entities per category (seeded sample).")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--max_length", type=int, default=512)
    args = parser.parse_args(argv)
    path, config = parse_dataset_spec(args.dataset)
    try:
        result = visualize(args.checkpoints, path, args.output, config=config, split=args.split, names=args.names,
                           max_types=args.max_types, max_per_type=args.max_per_type, seed=args.seed,
                           batch_size=args.batch_size, max_length=args.max_length)
    except (NerbertError, ValueError, OSError) as err:
        print(f"visualize.py: error: {err}", file=sys.stderr)
        return 1
    print(f"{result['png']}: {result['entities']} entities, {len(result['categories'])} categories")
    return 0


if __name__ == "__main__":
    sys.exit(main())
