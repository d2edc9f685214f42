"""The ``nerbert-hf`` command: a thin front over the library and the dataset scripts."""

from __future__ import annotations

import argparse
import logging
import sys

from .corpus.cli import add_corpus_commands
from .errors import NerbertError

logger = logging.getLogger("nerbert_hf")


def _add_data_commands(subparsers) -> None:
    data = subparsers.add_parser("data", help="build and list NER datasets")
    data_sub = data.add_subparsers(dest="data_command", required=True)

    build = data_sub.add_parser(
        "build",
        help="build a dataset into a Hub-ready folder (Parquet + card)",
        description="Build NAME from its original files (downloaded, or read from --source) into --output, "
        "a folder that datasets.load_dataset reads. NAME 'iob' builds any folder of train*/dev*/test* IOB files.",
    )
    build.add_argument("name", help="dataset name (see `nerbert-hf data list`) or 'iob'")
    build.add_argument("--source", help="local folder holding the original files (required for iob, ontonotes5, wikiann)")
    build.add_argument("--output", required=True, help="output folder (must not exist unless --overwrite)")
    build.add_argument("--config", nargs="+", help="build only these configs (default: all)")
    build.add_argument("--unify-labels", action="store_true", help="rename entity types through the unified type map")
    build.add_argument("--validation-fraction", type=float, default=0.1,
                       help="share of train carved out as validation where the source has none (default 0.1)")
    build.add_argument("--seed", type=int, default=42, help="seed of the validation carve-out (default 42)")
    build.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    fmt = build.add_argument_group("format overrides (iob only; detected when omitted)")
    fmt.add_argument("--separator", choices=["auto", "tab", "space"], default="auto")
    fmt.add_argument("--label-column", choices=["auto", "first", "last"], default="auto")
    fmt.add_argument("--scheme", choices=["auto", "iob1", "iob2", "bioes", "bilou"], default="auto")
    build.set_defaults(func=_data_build)

    listing = data_sub.add_parser("list", help="list the datasets `data build` knows")
    listing.set_defaults(func=_data_list)


def _data_build(args) -> int:
    from dataset_scripts import DATASETS
    from dataset_scripts.iob import iob_dataset

    from .builders import build_dataset

    if args.name == "iob":
        if not args.source:
            raise NerbertError("`data build iob` needs --source DIR, a folder of train*/dev*/test* IOB files")
        spec = iob_dataset(args.source, separator=args.separator, label_column=args.label_column, scheme=args.scheme)
    elif args.name in DATASETS:
        if (args.separator, args.label_column, args.scheme) != ("auto", "auto", "auto"):
            raise NerbertError(f"format overrides apply to `iob` only; {args.name}'s format is fixed by its spec")
        spec = DATASETS[args.name]
    else:
        raise NerbertError(f"unknown dataset {args.name!r}; known: iob, {', '.join(sorted(DATASETS))}")
    out = build_dataset(
        spec, args.output, source=args.source, configs=args.config, unify=args.unify_labels,
        validation_fraction=args.validation_fraction, seed=args.seed, overwrite=args.overwrite,
    )
    print(f"wrote {out}")
    return 0


def _data_list(args) -> int:
    from dataset_scripts import DATASETS

    for name, spec in sorted(DATASETS.items()):
        shown = spec.configs if len(spec.configs) <= 8 else [*spec.configs[:6], f"... {len(spec.configs)} in all"]
        configs = "" if spec.configs == ["default"] else f" (configs: {', '.join(shown)})"
        where = "download or --source" if spec.base_url or spec.urls else "--source only"
        print(f"{name:16s} {spec.card.pretty_name}{configs} [{where}]")
    print(f"{'iob':16s} any folder of train*/dev*/test* IOB files [--source only]")
    return 0


def _add_predict_command(sub) -> None:
    predict = sub.add_parser(
        "predict",
        help="tag text lines with a checkpoint (JSON lines out)",
        description="Tag each line of FILE (or stdin) with a token-classification checkpoint, in batches. One JSON "
        'object per input line: {"line", "text", "entities": [{"entity", "type", "score", "start", "end"}]}, '
        "with character offsets into the line. Custom model code (trust_remote_code) is never run.",
    )
    predict.add_argument("--model", required=True, help="checkpoint folder or Hub id (OWNER/NAME)")
    predict.add_argument("file", nargs="?", default="-", help="UTF-8 text file, one text per line (default: stdin)")
    predict.add_argument("--batch-size", type=int, default=32, help="texts per batch (default 32)")
    predict.add_argument("--device", default="auto", help="auto (GPU if there is one), cpu, cuda, cuda:1, ...")
    predict.set_defaults(func=_predict)


def _predict(args) -> int:
    from .predict import run_predict

    return run_predict(args.model, args.file, args.batch_size, device=args.device)


def _add_demo_command(sub) -> None:
    demo = sub.add_parser(
        "demo",
        help="serve a local web page that highlights entities in pasted text",
        description="Load one or more checkpoints and serve a page (standard-library HTTP server, no outside "
        "assets) where you paste text, pick a checkpoint and see its entities highlighted by type with scores.",
    )
    demo.add_argument("--model", required=True, action="append", help="checkpoint folder or Hub id; repeat to offer "
                      "several")
    demo.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    demo.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    demo.add_argument("--device", default="auto", help="auto (GPU if there is one), cpu, cuda, ...")
    demo.set_defaults(func=_demo)


def _demo(args) -> int:
    from .demo import run_demo

    return run_demo(args.model, host=args.host, port=args.port, device=args.device)


def _add_dapt_commands(subparsers) -> None:
    dapt = subparsers.add_parser("dapt", help="domain-adaptive pre-training corpora (CrossNER)")
    dapt_sub = dapt.add_subparsers(dest="dapt_command", required=True)
    corpus = dapt_sub.add_parser(
        "corpus",
        help="build CrossNER's entity-level, task-level and integrated corpora from a domain corpus",
        description="Split a domain corpus (a text file, one paragraph or sentence per line, or a datasets folder "
        "with a text column) into sentences and write CrossNER's corpus levels as configs of one dataset folder: "
        "entity (sentences with --min-entities mentions of the entity list), task (sentences with an entity of a "
        "domain-specialised type) and integrated (entity + task twice). Prints the token counts (CrossNER Table 3).",
    )
    corpus.add_argument("--corpus", required=True, help="text file (one paragraph or sentence per line) or datasets folder")
    corpus.add_argument("--corpus-config", help="config of a datasets-folder corpus")
    corpus.add_argument("--text-column", default="text", help="column of a datasets-folder corpus (default text)")
    corpus.add_argument("--entities", required=True, nargs="+",
                        help="entity lists, merged: NER dataset folders (`nerbert-hf data build`; DIR:CONFIG picks a "
                        "config) or files of `name` / `name<TAB>type` lines (e.g. DBpedia titles)")
    corpus.add_argument("--entities-config", help="config of NER dataset folders given without :CONFIG, e.g. politics")
    corpus.add_argument("--entity-splits", nargs="+", default=["train"],
                        help="splits whose entities form the list (default: train only, so no test entity is used)")
    corpus.add_argument("--task-types", nargs="+",
                        help="domain-specialised entity types (default: every type but person/organisation/location/misc)")
    corpus.add_argument("--min-entities", type=int, default=2,
                        help="entity mentions a sentence needs for the entity level (default 2)")
    corpus.add_argument("--unit", choices=["sentence", "line"], default="sentence",
                        help="split lines into sentences (default) or keep each line whole")
    corpus.add_argument("--include-domain", action="store_true", help="also write the domain level (every sentence)")
    corpus.add_argument("--license", default="unknown", help="the corpus's license, for the card (default unknown)")
    corpus.add_argument("--output", required=True, help="output folder (must not exist unless --overwrite)")
    corpus.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    corpus.set_defaults(func=_dapt_corpus)


def _dapt_corpus(args) -> int:
    from .domain_corpus import build_corpus_levels, load_entity_lists

    entities = load_entity_lists(args.entities, args.entities_config, args.entity_splits)
    report = build_corpus_levels(
        args.corpus, entities, args.output, task_types=args.task_types, min_entities=args.min_entities,
        unit=args.unit, text_column=args.text_column, corpus_config=args.corpus_config,
        include_domain=args.include_domain, license=args.license, overwrite=args.overwrite,
    )
    print(report.table())
    print(f"wrote {args.output}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nerbert-hf", description="Low-resource NER with the Hugging Face stack.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_data_commands(sub)
    add_corpus_commands(sub)
    _add_predict_command(sub)
    _add_demo_command(sub)
    _add_dapt_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except NerbertError as err:
        print(f"nerbert-hf: error: {err}", file=sys.stderr)
        return 1
    except FileExistsError as err:
        print(f"nerbert-hf: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
