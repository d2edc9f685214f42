"""Tag text with a released or local checkpoint: ``nerbert-hf predict`` and the demo app share this.

A :class:`Tagger` wraps ``pipeline("token-classification", aggregation_strategy="first")``
(each word labelled by its first subword, as the recipes train), with long texts
read in overlapping windows (the pipeline's ``stride``) rather than cut off. Loading
never sets ``trust_remote_code``: a checkpoint that needs custom code is refused.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import NerbertError

logger = logging.getLogger(__name__)

MAX_STRIDE = 64


def _offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)  # what HF_HUB_OFFLINE=1 (or TRANSFORMERS_OFFLINE=1) sets


def _load_error(name: str, err: Exception) -> NerbertError:
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    if "custom code" in str(err) or "trust_remote_code" in str(err):
        return NerbertError(f"{name} needs its own Python code (trust_remote_code), which nerbert-hf never runs; "
                            "use a checkpoint of a standard Transformers architecture")
    if _offline():
        return NerbertError(f"cannot load {name!r}: HF_HUB_OFFLINE is set, so only local folders and models already "
                            f"in the Hugging Face cache load; pass a local checkpoint folder (e.g. runs/politics) "
                            f"or unset HF_HUB_OFFLINE ({first})")
    return NerbertError(f"cannot load {name!r}: not a local checkpoint folder, and the Hub did not provide it "
                        f"({first}). Without network access, set HF_HUB_OFFLINE=1 and pass a local path "
                        "or a model already in the cache.")


class Tagger:
    """A token-classification checkpoint ready to tag raw text; thread-safe."""

    def __init__(self, name: str, *, device: str | None = None):
        from transformers import AutoConfig, AutoModelForTokenClassification, AutoTokenizer, pipeline

        from .training import _PREFIX_SPACE_MODELS

        self.name = name
        local = Path(name).expanduser()
        if local.exists():
            if not (local / "config.json").is_file():
                raise NerbertError(f"{name}: no config.json; not a checkpoint folder")
        elif name.startswith((".", "/", "~")) or name.count("/") > 1:
            raise NerbertError(f"{name}: no such folder")
        try:
            config = AutoConfig.from_pretrained(name, trust_remote_code=False)
            if not any(a.endswith("ForTokenClassification") for a in config.architectures or []):
                raise NerbertError(f"{name} is a {', '.join(config.architectures or ['?'])} checkpoint, not a "
                                   "token-classification (NER) model")
            kwargs = {"add_prefix_space": True} if config.model_type in _PREFIX_SPACE_MODELS else {}
            tokenizer = AutoTokenizer.from_pretrained(name, trust_remote_code=False, **kwargs)
            model = AutoModelForTokenClassification.from_pretrained(name, trust_remote_code=False)
        except NerbertError:
            raise
        except (OSError, ValueError) as err:
            raise _load_error(name, err) from None
        if not getattr(tokenizer, "is_fast", True):
            raise NerbertError(f"{name}: its tokenizer gives no character offsets (not a fast tokenizer)")
        # A tokenizer saved without a length limit would let the pipeline feed more positions than the model has.
        positions = getattr(config, "max_position_embeddings", None)
        if positions and (not tokenizer.model_max_length or tokenizer.model_max_length > positions):
            tokenizer.model_max_length = positions - 2
        self.stride = max(1, min(MAX_STRIDE, tokenizer.model_max_length // 4))
        self.labels = [config.id2label[i] for i in sorted(config.id2label)]
        self.types = list(dict.fromkeys(label[2:] for label in self.labels if label[:2] in ("B-", "I-")))
        self._pipeline = pipeline("token-classification", model=model, tokenizer=tokenizer,
                                  aggregation_strategy="first", device=_device(device))
        self._lock = threading.Lock()

    def __call__(self, texts: list[str], batch_size: int = 32) -> list[list[dict]]:
        """Entities of each text: ``{"entity", "type", "score", "start", "end"}`` (character offsets)."""
        out: list[list[dict]] = [[] for _ in texts]
        todo = [i for i, t in enumerate(texts) if t.strip()]  # the pipeline cannot take empty text
        if not todo:
            return out
        with self._lock:
            results = self._pipeline([texts[i] for i in todo], batch_size=batch_size, stride=self.stride)
        for i, entities in zip(todo, results):
            out[i] = [e for e in (_entity(texts[i], raw) for raw in entities) if e]
        return out


def _device(device: str | None):
    if device not in (None, "auto"):
        return device
    import torch

    return 0 if torch.cuda.is_available() else -1


def _entity(text: str, raw: dict) -> dict | None:
    start, end = int(raw["start"]), int(raw["end"])
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start == end:
        return None
    return {"entity": text[start:end], "type": raw["entity_group"], "score": round(float(raw["score"]), 4),
            "start": start, "end": end}


def predict_lines(tagger: Tagger, lines: Iterable[str], batch_size: int = 32, *,
                  flush_each: bool = False) -> Iterator[dict]:
    """One result per input line, in order: ``{"line", "text", "entities"}``; lines are tagged in batches."""
    batch: list[tuple[int, str]] = []

    def run():
        texts = [text for _, text in batch]
        for (number, text), entities in zip(batch, tagger(texts, batch_size=batch_size)):
            yield {"line": number, "text": text, "entities": entities}
        batch.clear()

    for number, line in enumerate(lines, 1):
        batch.append((number, line.rstrip("\r\n")))
        if len(batch) >= batch_size or flush_each:
            yield from run()
    if batch:
        yield from run()


def _text_lines(stream, name: str) -> Iterator[str]:
    for number, raw in enumerate(stream, 1):
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as err:
            raise NerbertError(f"{name}:{number}: not UTF-8 text ({err.reason})") from None


def run_predict(model: str, source: str, batch_size: int, device: str | None = None, out=None) -> int:
    """``nerbert-hf predict``: text lines from ``source`` (a file or ``-``) to JSON lines on ``out``."""
    if batch_size < 1:
        raise NerbertError(f"--batch-size must be at least 1, got {batch_size}")
    out = out or sys.stdout
    if source != "-" and (not Path(source).exists() or Path(source).is_dir()):
        raise NerbertError(f"{source}: no such file")
    tagger = Tagger(model, device=device)
    interactive = source == "-" and sys.stdin.isatty()
    with contextlib.nullcontext(sys.stdin.buffer) if source == "-" else open(source, "rb") as stream:
        lines = _text_lines(stream, "stdin" if source == "-" else source)
        for record in predict_lines(tagger, lines, batch_size, flush_each=interactive):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            if interactive:
                out.flush()
    return 0
