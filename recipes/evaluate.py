"""Score one or many fine-tuned checkpoints on built datasets: the cross-domain F1 matrix (T-NER Table 3).

    python recipes/evaluate.py [CONFIG.yaml] --checkpoints runs/conll runs/politics \
        --datasets data/conll2003 data/crossner:politics --type_map unified --output_dir eval

Writes OUT/matrix_type_aware.{csv,md,png}, OUT/matrix_type_ignored.{csv,md,png} and OUT/scores.json
(per pair: micro/macro/type-ignored P/R/F1, per-type scores and the type map applied).
"""

import sys

from nerbert_hf.evaluation import EvaluationArguments, matrices_from_scores, run_evaluation
from nerbert_hf.training import run_recipe


def main(argv=None) -> int:
    done = run_recipe("evaluate.py", (EvaluationArguments,), run_evaluation, argv)
    if done is None:
        return 1
    (args,), payload = done
    aware, ignored = matrices_from_scores(payload["scores"])
    print("type-aware F1:\n" + (100 * aware).round(1).to_string())
    print("type-ignored F1:\n" + (100 * ignored).round(1).to_string())
    print(f"written to {args.output_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
