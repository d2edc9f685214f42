"""Release a checkpoint (recipes/finetune.py, pretrain.py) or a dataset folder (`nerbert-hf data build`) on the Hub.

    python push_to_hub.py runs/politics --repo-id OWNER/NAME --base-model bert-base-cased \
        --dataset OWNER/crossner:politics [--private] [--revision BRANCH] [--create-pr] [--commit-message MSG]
    python push_to_hub.py data/crossner --repo-id OWNER/crossner
    python push_to_hub.py runs/politics --repo-id OWNER/NAME --dry-run staged/   # stage only, upload nothing

The token comes from HF_TOKEN or the login cache (`hf auth login`) and is never printed or written.
"""

import argparse
import logging
import sys
from pathlib import Path

from nerbert_hf.errors import NerbertError
from nerbert_hf.model_cards import CardOptions
from nerbert_hf.release import push


def _dataset(value: str) -> tuple[str, str | None]:
    hub_id, _, config = value.partition(":")
    return hub_id, config or None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="push_to_hub.py",
        description="Upload a checkpoint folder or a dataset folder to the Hugging Face Hub (detected from its "
        "files). Only the release goes up: safetensors weights, config, tokenizer, results and a generated model "
        "card; or a dataset's card and the data files its configs name.",
    )
    parser.add_argument("path", help="checkpoint folder (config.json + weights) or dataset folder (README.md card)")
    parser.add_argument("--repo-id", required=True, help="OWNER/NAME of the Hub repository (created if missing)")
    parser.add_argument("--private", action="store_true", help="create the repository private")
    parser.add_argument("--revision", help="branch to upload to (created if missing; default: main)")
    parser.add_argument("--create-pr", action="store_true", help="open a pull request instead of committing to main")
    parser.add_argument("--commit-message", help="commit (or pull request) title")
    parser.add_argument("--dry-run", metavar="DIR", help="stage exactly the files that would be uploaded in DIR "
                        "(a new or empty folder) and upload nothing")
    card = parser.add_argument_group("model card (checkpoints only; what the run itself does not record)")
    card.add_argument("--base-model", help="Hub id of the encoder the run started from, e.g. bert-base-cased")
    card.add_argument("--dataset", action="append", type=_dataset, default=[], metavar="ID[:CONFIG]",
                      help="Hub id (and config) of the fine-tuning data, e.g. OWNER/crossner:politics; repeatable, "
                      "the first is the run's test set")
    card.add_argument("--license", default="apache-2.0", help="license of the weights (default apache-2.0)")
    card.add_argument("--language", nargs="+", default=["en"], help="language code(s) (default en)")
    card.add_argument("--eval-scores", metavar="SCORES_JSON",
                      help="scores.json of recipes/evaluate.py: this checkpoint's scores on further test sets")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # The card's YAML names Hub ids; a local path there would be a dead link on the Hub.
    named = [("--dataset", hub_id) for hub_id, _ in args.dataset] + [("--base-model", args.base_model)]
    for flag, value in named:
        if value and (Path(value).exists() or value.count("/") > 1 or value.startswith((".", "/", "~"))):
            print(f"push_to_hub.py: error: {flag} {value!r}: give a Hub id (OWNER/NAME), not a local path "
                  "(push a local dataset folder first: python push_to_hub.py DIR --repo-id OWNER/NAME)",
                  file=sys.stderr)
            return 1
    options = CardOptions(repo_id=args.repo_id, base_model=args.base_model, datasets=args.dataset,
                          license=args.license, language=args.language, eval_scores=args.eval_scores)
    try:
        push(args.path, args.repo_id, options, private=args.private, revision=args.revision,
             create_pr=args.create_pr, commit_message=args.commit_message, dry_run=args.dry_run)
    except (NerbertError, FileExistsError) as err:
        print(f"push_to_hub.py: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
