"""Entity-tagging pre-training (NER-BERT): continue pre-training an encoder to tag every label of a corpus.

    accelerate launch --config_file recipes/accelerate_configs/cpu.yaml recipes/pretrain.py \
        [recipes/configs/nerbert_pretrain.yaml] --dataset_name data/nerbert_corpus --output_dir runs/nerbert
    python recipes/pretrain.py ...            # one process, same code

Every ``TrainingArguments`` option is accepted; a YAML config's values are overridden by the command line.
``--resume_from_checkpoint DIR`` (or ``true`` for the newest ``checkpoint-*`` in ``--output_dir``) resumes.
The output folder feeds ``recipes/finetune.py --model_name_or_path OUTPUT_DIR`` (the head is replaced).
"""

import sys

from transformers import TrainingArguments

from nerbert_hf.pretraining import PRETRAIN_DEFAULTS, CorpusArguments, run_pretrain
from nerbert_hf.training import ModelArguments, run_recipe


def main(argv=None) -> int:
    # Length-grouped batches sorted exactly in large groups, no logging service (pretraining.PRETRAIN_DEFAULTS).
    done = run_recipe("pretrain.py", (ModelArguments, CorpusArguments, TrainingArguments), run_pretrain, argv,
                      defaults=PRETRAIN_DEFAULTS)
    if done is None:
        return 1
    _, results = done
    for key in ("train_runtime", "train_real_tokens_per_second", "effective_train_batch_size", "eval_f1"):
        if key in results:
            print(f"{key} = {results[key]:.4f}" if isinstance(results[key], float) else f"{key} = {results[key]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
