"""CrossNER's five domains in one setting over several seeds, our F1 beside the paper's (Table 2, BERT, w/o DAPT).

    python benchmarks/crossner.py --dataset_name data/crossner --setting target --seeds 1 2 3 \
        [--model_name_or_path bert-base-cased] [--config recipes/configs/crossner_target.yaml] [-- extra finetune args]

Each domain runs `recipes/finetune.py` with the setting's YAML config (Adam 5e-5, batch 16, early stopping
patience 8); arguments after `--` go to every run (e.g. `-- --num_train_epochs 10`).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

from results_file import write_results  # benchmarks/, this script's folder

REPO = Path(__file__).resolve().parents[1]
DOMAINS = ("politics", "science", "music", "literature", "ai")
# CrossNER (Liu et al., AAAI 2021) Table 2, BERT-based without DAPT, F1 averaged over three runs.
PAPER = {
    "target": (66.56, 63.73, 66.59, 59.95, 50.37),
    "source_then_target": (68.71, 64.94, 68.30, 63.63, 58.88),
    "joint": (68.85, 65.03, 67.59, 62.57, 58.57),
}


def main() -> int:
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset_name", required=True, help="a `nerbert-hf data build crossner` folder")
    parser.add_argument("--setting", choices=list(PAPER), default="target")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--model_name_or_path", default="bert-base-cased")
    parser.add_argument("--config", help="YAML config (default: recipes/configs/crossner_<setting>.yaml)")
    parser.add_argument("--domains", nargs="+", default=list(DOMAINS), choices=DOMAINS)
    parser.add_argument("--output_dir", default="runs/crossner_benchmark")
    parser.add_argument("--results", default=str(REPO / "benchmarks" / "results" / "crossner.md"))
    args = parser.parse_args(argv)
    config = args.config or str(REPO / "recipes" / "configs" / f"crossner_{args.setting}.yaml")
    ours = {}
    for domain in args.domains:
        out = Path(args.output_dir) / args.setting / domain
        cmd = [sys.executable, str(REPO / "recipes" / "finetune.py"), config,
               "--model_name_or_path", args.model_name_or_path, "--dataset_name", args.dataset_name,
               "--dataset_config_name", domain, "--output_dir", str(out), "--seeds", *map(str, args.seeds)]
        if args.setting != "target":
            cmd += ["--source_dataset_name", args.dataset_name, "--source_dataset_config_name", "conll2003"]
        print(" ".join(cmd + extra), flush=True)
        subprocess.run(cmd + extra, check=True)
        summary = json.loads((out / "all_results.json").read_text())
        ours[domain] = (100 * summary["test_f1_mean"], 100 * summary["test_f1_std"])
    paper = dict(zip(DOMAINS, PAPER[args.setting]))
    header = "| | " + " | ".join(args.domains) + " | average |"
    mean = sum(m for m, _ in ours.values()) / len(ours)
    paper_mean = sum(paper[d] for d in args.domains) / len(args.domains)
    lines = [
        f"# CrossNER, setting `{args.setting}`",
        "",
        f"Command: `python benchmarks/crossner.py {' '.join(sys.argv[1:])}` ({datetime.date.today()}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs).",
        f"Model `{Path(args.model_name_or_path).name}`, seeds {args.seeds}, config `{Path(config).name}`.",
        "",
        header,
        "|" + "---|" * (len(args.domains) + 2),
        "| ours (F1 mean ± std) | " + " | ".join(f"{ours[d][0]:.2f} ± {ours[d][1]:.2f}" for d in args.domains)
        + f" | {mean:.2f} |",
        "| CrossNER Table 2 (BERT-base, w/o DAPT) | " + " | ".join(f"{paper[d]:.2f}" for d in args.domains)
        + f" | {paper_mean:.2f} |",
        "",
    ]
    write_results(args.results, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
