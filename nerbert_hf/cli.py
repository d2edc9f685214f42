"""The ``nerbert-hf`` command: a thin front over the library and the dataset scripts."""

from __future__ import annotations

import argparse
import logging
import sys

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nerbert-hf", description="Low-resource NER with the Hugging Face stack.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_data_commands(sub)
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
