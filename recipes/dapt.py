"""Domain-adaptive pre-training (CrossNER): masked-LM training on a domain corpus, span-level masking by default.

    python recipes/dapt.py [recipes/configs/dapt_crossner.yaml] --model_name_or_path bert-base-cased \
        --train_file politics_corpus.txt --masking span --output_dir runs/dapt-politics
    python recipes/dapt.py --dataset_name data/politics_levels --dataset_config_name integrated ...
    accelerate launch --config_file recipes/accelerate_configs/cpu.yaml recipes/dapt.py ...

``--masking token|span|whole_word|spanbert``, ``--mlm_probability`` (CrossNER: 0.2), ``--max_seq_length``
(contiguous blocks, CrossNER: 512) and every ``TrainingArguments`` option are accepted; a YAML config's values
are overridden by the command line. The output folder loads with ``AutoModelForMaskedLM`` and is a
``--model_name_or_path`` for ``recipes/finetune.py``.
"""

import sys

from transformers import TrainingArguments

from nerbert_hf.dapt import DAPT_DEFAULTS, DaptDataArguments, DaptModelArguments, run_dapt
from nerbert_hf.training import run_recipe


def main(argv=None) -> int:
    done = run_recipe("dapt.py", (DaptModelArguments, DaptDataArguments, TrainingArguments), run_dapt, argv,
                      defaults=DAPT_DEFAULTS)
    if done is None:
        return 1
    _, results = done
    for key in ("train_loss", "train_runtime", "train_blocks", "eval_loss", "perplexity"):
        if isinstance(results.get(key), (int, float)):
            print(f"{key} = {results[key]:.4f}" if isinstance(results[key], float) else f"{key} = {results[key]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
