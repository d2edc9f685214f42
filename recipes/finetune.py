"""Fine-tune an encoder for NER (CrossNER's target / source_then_target / joint settings, few-shot, seeds).

    python recipes/finetune.py [recipes/configs/crossner_target.yaml] --dataset_name data/crossner \
        --dataset_config_name politics --output_dir runs/politics
    accelerate launch --config_file recipes/accelerate_configs/cpu.yaml recipes/finetune.py ...

Every ``TrainingArguments`` option is accepted; a YAML config's values are overridden by the command line.
Defaults that differ from transformers': length-grouped batches, and the papers' constant learning rate
(``nerbert_hf.finetuning.FINETUNE_DEFAULTS``).
"""

import sys

from transformers import TrainingArguments

from nerbert_hf.finetuning import FINETUNE_DEFAULTS, run_finetune
from nerbert_hf.training import DataArguments, ModelArguments, RecipeArguments, run_recipe


def main(argv=None) -> int:
    done = run_recipe("finetune.py", (ModelArguments, DataArguments, RecipeArguments, TrainingArguments),
                      run_finetune, argv, defaults=FINETUNE_DEFAULTS)
    if done is None:
        return 1
    _, results = done
    keys = [k for k in results if k.startswith(("test_f1", "test_precision", "test_recall", "train_runtime"))]
    for key in sorted(keys):
        if isinstance(results[key], float):
            print(f"{key} = {results[key]:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
