"""Release a checkpoint or a dataset folder on the Hub: choose the files, stage them, upload them.

:func:`stage` copies exactly what a release holds into a folder (``push_to_hub.py
--dry-run DIR`` stops there); :func:`push` stages into a temporary folder and uploads
that folder with ``HfApi.create_repo`` + ``HfApi.upload_folder``, so a dry run and an
upload hold the same files.

A checkpoint release holds the config, the tokenizer, safetensors weights (a
``pytorch_model.bin`` is converted, read with ``torch.load(weights_only=True)``),
the run's result JSON files and a generated model card. Training leftovers stay
behind: ``checkpoint-*`` folders, optimizer/scheduler/RNG states, ``training_args.bin``
(a pickle, unsafe to load, that can hold a Hub token and local paths; the card lists
its hyperparameters instead), the test predictions (they contain the test data, whose
license may not allow redistribution), caches and dotfiles.

A dataset release holds the card (``README.md``, which must have ``configs:``), the
data files its ``configs:`` name, the files the card links to (figures) and a LICENSE
or CITATION.cff file if there is one; nothing else.

The Hub token comes from ``HF_TOKEN`` or the login cache (``huggingface_hub.get_token``);
it is handed to ``HfApi`` and nowhere else: never printed, logged or written, and a
staged folder that contains it is refused.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import pickle
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import __version__
from .errors import NerbertError
from .model_cards import CardOptions, read_checkpoint_run, render_model_card

logger = logging.getLogger(__name__)

CONFIG_FILES = ("config.json", "generation_config.json")
TOKENIZER_FILES = (
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "vocab.txt",
    "vocab.json", "merges.txt", "spiece.model", "sentencepiece.bpe.model", "tokenizer.model", "bpe.codes",
)
RESULT_FILES = ("all_results.json", "train_results.json", "eval_results.json", "test_results.json")
SAFETENSORS_INDEX = "model.safetensors.index.json"
BIN_INDEX = "pytorch_model.bin.index.json"
_SAFETENSORS = re.compile(r"^model(-\d{5}-of-\d{5})?\.safetensors$")
_BIN = re.compile(r"^pytorch_model(-\d{5}-of-\d{5})?\.bin$")
_TRAINING_STATE = re.compile(r"^(optimizer\.pt|scheduler\.pt|scaler\.pt|rng_state.*\.pth|trainer_state\.json)$")
_OTHER_WEIGHTS = re.compile(r"^(tf_model\.h5|flax_model\.msgpack|model\.ckpt.*|.*\.onnx|.*\.gguf)$")
DATASET_EXTRA_FILES = ("LICENSE", "LICENSE.md", "LICENSE.txt", "CITATION.cff")


@dataclass
class Staged:
    """A staged release: what is in ``folder`` and what was left behind, with why."""

    kind: str  # "model" or "dataset"
    folder: Path
    files: list[str] = field(default_factory=list)  # paths relative to folder, POSIX style
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (path relative to the source, reason)
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------------------------
# What a folder is


def detect_kind(path: str | Path) -> str:
    """``"model"`` for a checkpoint folder (config.json), ``"dataset"`` for a dataset folder (card or Parquet)."""
    path = Path(path)
    if not path.is_dir():
        raise NerbertError(f"{path}: no such folder")
    if (path / "config.json").is_file():
        return "model"
    if (path / "README.md").is_file() or any(path.rglob("*.parquet")):
        return "dataset"
    seeds = sorted(p.name for p in path.glob("seed-*") if (p / "config.json").is_file())
    if seeds:
        raise NerbertError(f"{path} is a multi-seed run and holds no model itself; push one seed's folder, "
                           f"e.g. {path / seeds[0]} (its card reports the mean and deviation over {', '.join(seeds)})")
    raise NerbertError(f"{path} is neither a checkpoint (config.json + weights, from recipes/finetune.py or "
                       "pretrain.py) nor a dataset folder (README.md with `configs:`, from `nerbert-hf data build`)")


def _leftover_reason(name: str, is_dir: bool) -> str:
    if name.startswith("."):
        return "hidden file or folder"
    if is_dir and re.match(r"^checkpoint-\d+$", name):
        return "intermediate Trainer checkpoint (optimizer state and all)"
    if is_dir and name == "source_model":
        return "the source-stage model of source_then_target (push it on its own if you want it)"
    if is_dir and name in ("runs", "logs", "__pycache__", "cache"):
        return "logs or cache"
    if name == "training_args.bin":
        return "pickled TrainingArguments (unsafe to load; may hold a token and local paths); the card lists them"
    if _TRAINING_STATE.match(name):
        return "training state"
    if name == "test_predictions.conll":
        return "holds the test data (whose license may not allow redistribution)"
    if name == "README.md":
        return "replaced by the generated model card"
    if _OTHER_WEIGHTS.match(name):
        return "weights in a format other than safetensors"
    return "not part of a checkpoint release"


# ---------------------------------------------------------------------------------------------------------------
# Staging


def _place(src: Path, dst: Path, link: bool) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if link:
        try:
            os.link(src, dst)
            return
        except OSError:
            pass
    shutil.copyfile(src, dst)


def _convert_bin_weights(source: Path, bins: list[str], dest: Path) -> list[str]:
    """Write ``model[-i-of-n].safetensors`` (+ index) from ``pytorch_model*.bin``; return the new names."""
    import torch
    from safetensors.torch import save_file

    written = []
    renames = {}
    for name in bins:
        try:
            state = torch.load(source / name, map_location="cpu", weights_only=True)
        except (pickle.UnpicklingError, RuntimeError, OSError, EOFError) as err:
            raise NerbertError(
                f"{source / name}: cannot be read as plain tensors ({str(err).splitlines()[0]}); only safetensors "
                "weights are released: save the model with `save_pretrained` (safetensors) and push again"
            ) from None
        if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
            raise NerbertError(f"{source / name}: not a state dict of tensors; only safetensors weights are released")
        out = name.replace("pytorch_model", "model").replace(".bin", ".safetensors")
        # Tied weights share storage, which safetensors refuses: each tensor gets its own copy.
        save_file({k: v.detach().contiguous().clone() for k, v in state.items()}, str(dest / out),
                  metadata={"format": "pt"})
        renames[name] = out
        written.append(out)
    if (source / BIN_INDEX).is_file():
        index = json.loads((source / BIN_INDEX).read_text(encoding="utf-8"))
        index["weight_map"] = {k: renames.get(v, v) for k, v in index.get("weight_map", {}).items()}
        (dest / SAFETENSORS_INDEX).write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
        written.append(SAFETENSORS_INDEX)
    return written


def _check_checkpoint(dest: Path, files: list[str], source: Path) -> None:
    """The staged checkpoint has weights, a tokenizer, and labels its classifier agrees with."""
    from safetensors import safe_open

    if not any(f in files for f in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "vocab.json")):
        raise NerbertError(f"{source}: no tokenizer files; save the tokenizer there "
                           "(`tokenizer.save_pretrained(PATH)`) so that pipeline(\"ner\") can load the release")
    config = json.loads((dest / "config.json").read_text(encoding="utf-8"))
    architecture = (config.get("architectures") or [""])[0]
    if not architecture.endswith("ForTokenClassification"):
        return
    id2label = config.get("id2label") or {}
    if not id2label or all(re.fullmatch(r"LABEL_\d+", str(v)) for v in id2label.values()):
        raise NerbertError(f"{source / 'config.json'}: no label names (id2label is {id2label or 'missing'}); "
                           "a NER release needs the dataset's labels in the config")
    for name in (f for f in files if f.endswith(".safetensors")):
        with safe_open(str(dest / name), framework="pt") as weights:
            for key in weights.keys():  # noqa: SIM118 (a safetensors handle, not a dict)
                if key.endswith("classifier.weight"):
                    rows = weights.get_slice(key).get_shape()[0]
                    if rows != len(id2label):
                        raise NerbertError(f"{source}: the classifier has {rows} outputs but config.json names "
                                           f"{len(id2label)} labels")


def stage_checkpoint(source: Path, dest: Path, options: CardOptions, *, link: bool = False) -> Staged:
    staged = Staged("model", dest)
    entries = sorted(source.iterdir(), key=lambda p: p.name)
    names = {p.name for p in entries if p.is_file()}
    safetensors = sorted(n for n in names if _SAFETENSORS.match(n))
    bins = sorted(n for n in names if _BIN.match(n))
    if not safetensors and not bins:
        raise NerbertError(f"{source}: no model weights (model.safetensors or pytorch_model.bin)")
    keep = {n for n in names if n in CONFIG_FILES or n in TOKENIZER_FILES or n in RESULT_FILES}
    if safetensors:
        keep.update(safetensors)
        if SAFETENSORS_INDEX in names:
            keep.add(SAFETENSORS_INDEX)
        for name in bins + ([BIN_INDEX] if BIN_INDEX in names else []):
            staged.left_out.append((name, "safetensors weights are there; .bin files are not released"))
    dest.mkdir(parents=True, exist_ok=True)
    for name in sorted(keep):
        _place(source / name, dest / name, link)
        staged.files.append(name)
    if not safetensors:
        converted = _convert_bin_weights(source, bins, dest)
        staged.files += converted
        for name in bins + ([BIN_INDEX] if BIN_INDEX in names else []):
            staged.left_out.append((name, "converted to safetensors"))
        staged.notes.append(f"converted {', '.join(bins)} to {', '.join(converted)}")
    for entry in entries:
        if entry.name in keep or (entry.name in bins or entry.name == BIN_INDEX):
            continue
        staged.left_out.append((entry.name + ("/" if entry.is_dir() else ""),
                                _leftover_reason(entry.name, entry.is_dir())))
    _check_checkpoint(dest, staged.files, source)

    card = render_model_card(read_checkpoint_run(source), options)
    (dest / "README.md").write_text(str(card), encoding="utf-8")
    staged.files.append("README.md")
    staged.files.sort()
    return staged


def dataset_card_configs(source: Path) -> list[dict]:
    """The ``configs:`` of a dataset folder's card, checked to exist."""
    from huggingface_hub import DatasetCard

    readme = source / "README.md"
    if not readme.is_file():
        raise NerbertError(f"{source}: no README.md dataset card; build the folder with `nerbert-hf data build` "
                           "(or `corpus build`), which writes one")
    try:
        data = DatasetCard.load(readme).data.to_dict()
    except (ValueError, OSError, yaml.YAMLError) as err:
        raise NerbertError(f"{readme}: the card's YAML cannot be read ({err})") from None
    configs = data.get("configs")
    if not isinstance(configs, list) or not configs:
        raise NerbertError(f"{readme}: the card has no `configs:` naming the data files; `load_dataset` on the "
                           "Hub needs it (build the folder with `nerbert-hf data build`)")
    return configs


def _data_file_patterns(config: dict) -> list[tuple[str, str]]:
    files = config.get("data_files")
    if isinstance(files, str):
        return [("train", files)]
    out = []
    for item in files or []:
        if isinstance(item, str):
            out.append(("train", item))
        elif isinstance(item, dict):
            paths = item.get("path")
            for pattern in [paths] if isinstance(paths, str) else (paths or []):
                out.append((str(item.get("split", "train")), pattern))
    return out


_LINK = re.compile(r"\]\(<?([^)\s>]+)>?[^)]*\)|\bsrc=[\"']([^\"']+)[\"']")


def _linked_files(source: Path) -> set[str]:
    """Files of the folder that the card links to (e.g. a figure: ``![counts](counts.png)``)."""
    out = set()
    root = source.resolve()
    for match in _LINK.finditer((source / "README.md").read_text(encoding="utf-8")):
        target = (match[1] or match[2]).split("#", 1)[0]
        if not target or re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("/"):
            continue  # a URL, an anchor or an absolute path
        path = (source / target).resolve()
        if path.is_file() and path.is_relative_to(root):
            rel = path.relative_to(root).as_posix()
            if not any(part.startswith(".") for part in rel.split("/")):
                out.add(rel)
    return out


def stage_dataset(source: Path, dest: Path, *, link: bool = False) -> Staged:
    staged = Staged("dataset", dest)
    chosen: set[str] = {"README.md"}
    for config in dataset_card_configs(source):
        name = config.get("config_name", "default")
        patterns = _data_file_patterns(config)
        if not patterns:
            raise NerbertError(f"{source / 'README.md'}: config {name!r} names no data_files")
        for split, pattern in patterns:
            matched = [p for p in source.glob(pattern) if p.is_file()]
            if not matched:
                raise NerbertError(f"{source / 'README.md'}: config {name!r} split {split!r}: data_files "
                                   f"{pattern!r} matches no file in {source}")
            chosen.update(p.relative_to(source).as_posix() for p in matched)
    chosen.update(n for n in DATASET_EXTRA_FILES if (source / n).is_file())
    chosen.update(_linked_files(source))
    for rel in sorted(chosen):
        if any(part.startswith(".") for part in rel.split("/")):
            raise NerbertError(f"{source / 'README.md'}: data file {rel} is hidden; the Hub ignores such paths")
        _place(source / rel, dest / rel, link)
        staged.files.append(rel)
    for folder, dirs, names in os.walk(source):
        base = Path(folder).relative_to(source)
        for name in sorted(d for d in dirs if d.startswith(".")):
            staged.left_out.append(((base / name).as_posix() + "/", "hidden folder"))
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            rel = (base / name).as_posix()
            if rel not in chosen:
                staged.left_out.append((rel, "hidden file" if name.startswith(".") else "not named by the card"))
    return staged


def _check_no_token(staged: Staged, token: str | None) -> None:
    if not token:
        return
    needle = token.encode()
    for rel in staged.files:
        with open(staged.folder / rel, "rb") as handle:
            carry = b""
            while chunk := handle.read(1 << 24):
                if needle in carry + chunk:
                    raise NerbertError(f"{rel} contains your Hugging Face token; refusing to release it")
                carry = chunk[-len(needle):]


def stage(path: str | Path, dest: str | Path, options: CardOptions, *, link: bool = False) -> Staged:
    """Put exactly the files of ``path``'s release into ``dest`` (a new folder)."""
    from huggingface_hub import get_token

    source = Path(path)
    kind = detect_kind(source)
    dest = Path(dest)
    staged = stage_checkpoint(source, dest, options, link=link) if kind == "model" else \
        stage_dataset(source, dest, link=link)
    _check_no_token(staged, get_token())
    return staged


# ---------------------------------------------------------------------------------------------------------------
# Upload


def _redact(text: str, token: str | None) -> str:
    return text.replace(token, "hf_***") if token else text


def upload(staged: Staged, repo_id: str, *, private: bool = False, revision: str | None = None,
           create_pr: bool = False, commit_message: str | None = None):
    """Create the repository if needed and upload the staged folder in one commit (or pull request)."""
    from huggingface_hub import HfApi, constants, get_token
    from huggingface_hub.errors import HfHubHTTPError

    if constants.HF_HUB_OFFLINE:
        raise NerbertError("HF_HUB_OFFLINE is set, so nothing can be uploaded; unset it, or stage the release "
                           "without uploading with --dry-run DIR")
    token = get_token()
    if not token:
        raise NerbertError("no Hugging Face token: set HF_TOKEN or log in with `hf auth login` "
                           "(a token with write access)")
    api = HfApi(token=token)
    message = commit_message or f"Upload {staged.kind} with nerbert-hf {__version__} (push_to_hub.py)"
    try:
        repo_url = api.create_repo(repo_id, repo_type=staged.kind, private=private or None, exist_ok=True)
        if revision and revision != constants.DEFAULT_REVISION:
            api.create_branch(repo_id, branch=revision, repo_type=staged.kind, exist_ok=True)
        info = api.upload_folder(
            repo_id=repo_id, folder_path=staged.folder, repo_type=staged.kind, revision=revision,
            create_pr=create_pr, commit_message=message,
        )
    except (HfHubHTTPError, ValueError, OSError) as err:
        raise NerbertError(f"upload to {repo_id} failed: {_redact(str(err), token)}") from None
    return repo_url, info


@contextlib.contextmanager
def _scratch_folder(near: Path):
    """A temporary folder, beside ``near`` when possible so that files can be hard-linked instead of copied."""
    try:
        tmp = tempfile.mkdtemp(prefix=".nerbert-push-", dir=near.parent)
    except OSError:
        tmp = tempfile.mkdtemp(prefix="nerbert-push-")
    try:
        yield Path(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def push(path: str | Path, repo_id: str, options: CardOptions | None = None, *, private: bool = False,
         revision: str | None = None, create_pr: bool = False, commit_message: str | None = None,
         dry_run: str | Path | None = None, report=print) -> Staged:
    """Stage ``path`` and upload it to ``repo_id``; with ``dry_run``, stage into that folder and upload nothing."""
    from .hub_folder import atomic_output_dir

    if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo_id):
        raise NerbertError(f"--repo-id {repo_id!r}: expected OWNER/NAME")
    if create_pr and revision and revision != "main":
        raise NerbertError("--create-pr opens a pull request against the default branch; it cannot be combined "
                           f"with --revision {revision}")
    options = dataclasses.replace(options or CardOptions(repo_id=repo_id), repo_id=repo_id)
    source = Path(path)
    if dry_run is not None:
        target = Path(dry_run)
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise NerbertError(f"{target} exists and is not empty; --dry-run wants a new or empty folder, "
                               "so that it holds exactly the release")
        # Staged beside the target and renamed into place when complete: a refused release leaves nothing.
        with atomic_output_dir(target, overwrite=target.exists()) as tmp:
            staged = stage(source, tmp, options)
        staged.folder = target
        _report(staged, source, report)
        report(f"dry run: {len(staged.files)} file(s) staged in {staged.folder} for {staged.kind} repo {repo_id}"
               f"{' (private)' if private else ''}, revision {revision or 'main'}"
               f"{', as a pull request' if create_pr else ''}; nothing was uploaded")
        return staged
    with _scratch_folder(source.absolute()) as tmp:
        staged = stage(source, tmp / "release", options, link=True)
        _report(staged, source, report)
        repo_url, info = upload(staged, repo_id, private=private, revision=revision, create_pr=create_pr,
                                commit_message=commit_message)
    report(f"uploaded {len(staged.files)} file(s) to {repo_url}")
    report(f"pull request: {info.pr_url}" if info.pr_url else f"commit: {info.commit_url}")
    return staged


def _report(staged: Staged, source: Path, report) -> None:
    report(f"{source}: {staged.kind} release")
    for rel in staged.files:
        report(f"  + {rel} ({(staged.folder / rel).stat().st_size:,} bytes)")
    for rel, why in staged.left_out:
        report(f"  - {rel}: {why}")
    for note in staged.notes:
        report(f"  note: {note}")
