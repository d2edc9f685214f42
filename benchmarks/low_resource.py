"""NER-BERT's low-resource benchmark (Liu et al. 2021, Table 2 and Figure 2): a plain encoder against NER pre-training.

    python benchmarks/low_resource.py --models BERT=bert-base-cased NER-BERT=runs/nerbert \
        --crossner data/crossner --data_root data --seeds 1 2 3 4 5 [--output_dir runs/low_resource] \
        [--launcher "accelerate launch --config_file recipes/accelerate_configs/multi_gpu.yaml"] \
        [-- extra recipes/finetune.py arguments for every run, e.g. --bf16 true]

Each model is fine-tuned with ``recipes/finetune.py`` (CrossNER's YAML configs: Adam 5e-5, batch 16, early
stopping patience 8):

- on CrossNER's five domains in the ``target`` and ``source_then_target`` (CoNLL-2003 first) settings;
- few-shot on NER-BERT's other domains (``twitter``, ``btc``, ``bionlp13cg``, ``bionlp13pc``, ``fin``,
  ``re3d``; folders of ``nerbert-hf data build`` under ``--data_root``) with ``--train_fraction p`` for each of
  ``--fractions`` and ``--shots_per_type k`` for each of ``--shots``.

Every run keeps its own folder under ``--output_dir`` and is skipped when its ``all_results.json`` exists, so
an interrupted benchmark resumes where it stopped. The Markdown report (``--results``) puts the paper's Table 2
beside our mean ± std over seeds; the few-shot curves (Figure 2's) also go to a PNG beside it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path

from results_file import write_results  # benchmarks/, this script's folder

REPO = Path(__file__).resolve().parents[1]
CROSSNER_DOMAINS = ("politics", "science", "music", "literature", "ai")
FEW_SHOT_DATASETS = ("twitter", "btc", "bionlp13cg", "bionlp13pc", "fin", "re3d")
SETTINGS = ("target", "source_then_target")
# NER-BERT (Liu et al. 2021) Table 2, CrossNER columns: BERT-base-cased and NER-BERT, five seeds.
PAPER_TABLE2 = {
    "target": {"BERT": (66.56, 63.73, 66.59, 59.95, 50.37), "NER-BERT": (73.69, 71.90, 76.23, 67.85, 60.39)},
    "source_then_target": {"BERT": (68.71, 64.94, 68.30, 63.63, 58.88),
                           "NER-BERT": (76.12, 72.10, 80.20, 71.90, 63.34)},
}


def parse_models(pairs: list[str]) -> dict[str, str]:
    """``NAME=PATH`` pairs, in order; the first is the baseline the others are compared with."""
    models = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not name or not path:
            raise SystemExit(f"--models: expected NAME=PATH, got {pair!r}")
        if name in models:
            raise SystemExit(f"--models: {name!r} given twice")
        models[name] = path
    if len(models) < 2:
        raise SystemExit("--models: give a baseline and at least one pre-trained model (NAME=PATH NAME=PATH)")
    return models


def few_shot_sizes(args) -> list[tuple[str, str, list[str]]]:
    """Each few-shot training size: its column, its run folder and its finetune.py option."""
    return ([(f"fraction {p:g}", f"fraction-{p:g}", ["--train_fraction", str(p)]) for p in args.fractions]
            + [(f"{k}-shot", f"shots-{k}", ["--shots_per_type", str(k)]) for k in args.shots])


def plan_runs(args, models: dict[str, str]) -> list[dict]:
    """Every fine-tuning run of the benchmark: its group, row, column, output folder and finetune.py arguments."""
    runs = []
    seeds = ["--seeds", *map(str, args.seeds)]
    for name, path in models.items():
        for setting in args.settings:
            config = REPO / "recipes" / "configs" / f"crossner_{setting}.yaml"
            for domain in args.domains:
                argv = [str(config), "--model_name_or_path", path, "--dataset_name", args.crossner,
                        "--dataset_config_name", domain, *seeds]
                if setting == "source_then_target":
                    argv += ["--source_dataset_name", args.crossner, "--source_dataset_config_name", "conll2003"]
                runs.append({"group": setting, "model": name, "column": domain,
                             "out": Path(args.output_dir) / name / setting / domain, "argv": argv})
        for dataset in args.few_shot_datasets:
            for column, folder, option in few_shot_sizes(args):
                argv = [str(REPO / "recipes" / "configs" / "crossner_target.yaml"), "--model_name_or_path", path,
                        "--dataset_name", str(Path(args.data_root) / dataset), *option, *seeds]
                runs.append({"group": f"few-shot {dataset}", "model": name, "column": column,
                             "out": Path(args.output_dir) / name / "few_shot" / dataset / folder, "argv": argv})
    return runs


def run_finetune(run: dict, launcher: list[str], extra: list[str]) -> dict:
    """Run (or reuse) one fine-tuning; returns its seed summary from ``all_results.json``."""
    results = run["out"] / "all_results.json"
    if not results.exists():
        cmd = [*launcher, str(REPO / "recipes" / "finetune.py"), *run["argv"], "--output_dir", str(run["out"]),
               *extra]
        print("+", shlex.join(cmd), flush=True)
        done = subprocess.run(cmd)
        if done.returncode:
            raise SystemExit(f"fine-tuning failed ({run['model']}, {run['group']}, {run['column']}); "
                             f"fix it and re-run: finished runs are kept")
    return json.loads(results.read_text(encoding="utf-8"))


def _cell(summary: dict | None) -> str:
    if summary is None:
        return "-"
    return f"{100 * summary['test_f1_mean']:.2f} ± {100 * summary['test_f1_std']:.2f}"


def table2(results: dict, models: list[str], settings, domains) -> list[str]:
    """Table 2's CrossNER columns: ours (mean ± std over seeds) and the paper's rows, per setting."""
    lines = ["| setting | model | " + " | ".join(domains) + " | average |", "|" + "---|" * (len(domains) + 3)]
    for setting in settings:
        for model in models:
            cells = [results.get((setting, model, d)) for d in domains]
            known = [100 * c["test_f1_mean"] for c in cells if c is not None]
            average = f"{sum(known) / len(known):.2f}" if len(known) == len(domains) else "-"
            lines.append(f"| {setting} | {model} (ours) | " + " | ".join(map(_cell, cells)) + f" | {average} |")
        for model, row in PAPER_TABLE2[setting].items():
            picked = [row[CROSSNER_DOMAINS.index(d)] for d in domains]
            lines.append(f"| {setting} | {model} (paper, bert-base-cased) | "
                         + " | ".join(f"{v:.2f}" for v in picked) + f" | {sum(picked) / len(picked):.2f} |")
    return lines


def few_shot_table(results: dict, models: list[str], dataset: str, columns: list[str]) -> list[str]:
    """One dataset's few-shot curve: a row per model, a column per training size, and each model's gain."""
    group = f"few-shot {dataset}"
    sizes = []
    for column in columns:
        summary = results.get((group, models[0], column))
        sizes.append(f"{column} ({summary['train_sentences_mean']:.0f} sent.)" if summary else column)
    lines = [f"| {dataset} | " + " | ".join(sizes) + " |", "|" + "---|" * (len(columns) + 1)]
    for model in models:
        lines.append(f"| {model} | " + " | ".join(_cell(results.get((group, model, c))) for c in columns) + " |")
    base = models[0]
    for model in models[1:]:
        gains = []
        for column in columns:
            a, b = results.get((group, base, column)), results.get((group, model, column))
            gains.append(f"{100 * (b['test_f1_mean'] - a['test_f1_mean']):+.2f}" if a and b else "-")
        lines.append(f"| {model} - {base} | " + " | ".join(gains) + " |")
    return lines


def few_shot_png(results: dict, models: list[str], datasets, columns: list[str], path: Path) -> None:
    """Figure 2's panels: F1 against training size, a line per model, a panel per dataset."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(datasets), figsize=(3.2 * len(datasets), 3), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        for model in models:
            points = [(i, results[(f"few-shot {dataset}", model, c)]) for i, c in enumerate(columns)
                      if (f"few-shot {dataset}", model, c) in results]
            ax.errorbar([i for i, _ in points], [100 * s["test_f1_mean"] for _, s in points],
                        yerr=[100 * s["test_f1_std"] for _, s in points], marker="o", capsize=3, label=model)
        ax.set_title(dataset)
        ax.set_xticks(range(len(columns)), columns, rotation=45, ha="right", fontsize=7)
        ax.set_ylabel("test F1")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    tmp.replace(path)


def report(args, models: dict[str, str], results: dict, command: str) -> str:
    names = list(models)
    columns = [column for column, _, _ in few_shot_sizes(args)]
    lines = [
        "# Low-resource NER: plain encoder vs NER pre-training (NER-BERT Table 2, Figure 2)",
        "",
        f"Command: `{command}` ({datetime.date.today()}, {platform.machine()}, {os.cpu_count()} CPUs).",
        "Models: " + ", ".join(f"{n} = `{p}`" for n, p in models.items()) + f"; seeds {args.seeds}. "
        "Cells are test F1 (word-level seqeval, %), mean ± std over seeds.",
        "",
    ]
    if args.settings and args.domains:
        lines += ["## CrossNER (Table 2)", "", *table2(results, names, args.settings, args.domains), ""]
    if args.few_shot_datasets and columns:
        lines += ["## Few-shot (Figure 2)", "",
                  "The paper plots these curves without printing their values; no paper numbers stand beside them.",
                  ""]
        for dataset in args.few_shot_datasets:
            lines += [*few_shot_table(results, names, dataset, columns), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    own = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", required=True,
                        help="NAME=PATH pairs; the first is the baseline (e.g. BERT=bert-base-cased NER-BERT=runs/nerbert)")
    parser.add_argument("--crossner", default="data/crossner", help="a `nerbert-hf data build crossner` folder")
    parser.add_argument("--data_root", default="data", help="folder holding the few-shot datasets' builds")
    parser.add_argument("--settings", nargs="*", default=list(SETTINGS), choices=SETTINGS)
    parser.add_argument("--domains", nargs="*", default=list(CROSSNER_DOMAINS), choices=CROSSNER_DOMAINS)
    parser.add_argument("--few_shot_datasets", nargs="*", default=list(FEW_SHOT_DATASETS))
    parser.add_argument("--fractions", nargs="*", type=float, default=[0.01, 0.02, 0.05, 0.1])
    parser.add_argument("--shots", nargs="*", type=int, default=[5, 10, 20])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3, 4, 5])
    parser.add_argument("--launcher", default=None,
                        help="command before finetune.py, e.g. 'accelerate launch --config_file ...' "
                             "(default: this Python)")
    parser.add_argument("--output_dir", default="runs/low_resource")
    parser.add_argument("--results", default=str(REPO / "benchmarks" / "results" / "low_resource.md"))
    args = parser.parse_args(own)
    models = parse_models(args.models)
    for dataset in args.few_shot_datasets:
        if not (Path(args.data_root) / dataset).is_dir():
            raise SystemExit(f"--data_root {args.data_root}: no {dataset}/ (build it with `nerbert-hf data build "
                             f"{dataset} --output {Path(args.data_root) / dataset}`)")
    if (args.settings and args.domains) and not Path(args.crossner).is_dir():
        raise SystemExit(f"--crossner {args.crossner}: no such folder (build it with `nerbert-hf data build crossner`)")
    launcher = shlex.split(args.launcher) if args.launcher else [sys.executable]
    results = {}
    for run in plan_runs(args, models):
        results[(run["group"], run["model"], run["column"])] = run_finetune(run, launcher, extra)
    command = "python benchmarks/low_resource.py " + shlex.join(argv)
    text = report(args, models, results, command)
    results_path = Path(args.results)
    columns = [column for column, _, _ in few_shot_sizes(args)]
    if args.few_shot_datasets and columns:
        png = results_path.with_suffix(".png")
        results_path.parent.mkdir(parents=True, exist_ok=True)
        few_shot_png(results, list(models), args.few_shot_datasets, columns, png)
        text += f"\n![few-shot curves]({png.name})\n"
    write_results(results_path, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
