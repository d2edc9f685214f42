"""Fetch raw dataset files from their original public locations into a local cache."""

from __future__ import annotations

import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

from .errors import NerbertError


class DownloadError(NerbertError):
    """A raw file could not be fetched; the message says how to pass a local copy."""


def cache_root() -> Path:
    """``$NERBERT_HF_CACHE``, else ``$HF_HOME/nerbert_hf``, else ``~/.cache/huggingface/nerbert_hf``."""
    if os.environ.get("NERBERT_HF_CACHE"):
        return Path(os.environ["NERBERT_HF_CACHE"])
    hf_home = os.environ.get("HF_HOME", os.path.join(os.path.expanduser("~"), ".cache", "huggingface"))
    return Path(hf_home) / "nerbert_hf"


def offline() -> bool:
    return any(os.environ.get(v, "").lower() in ("1", "true", "yes") for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))


def fetch(url: str, dest: Path, *, hint: str, timeout: float = 30.0) -> Path:
    """Download ``url`` to ``dest`` unless it is already there; write to a temp file, then rename."""
    if dest.exists():
        return dest
    if offline():
        raise DownloadError(f"cannot download {url}: offline mode (HF_HUB_OFFLINE/HF_DATASETS_OFFLINE). {hint}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "nerbert-hf"})
        with urllib.request.urlopen(request, timeout=timeout) as response, os.fdopen(fd, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, leave=False) as bar:
                while chunk := response.read(1 << 20):
                    out.write(chunk)
                    bar.update(len(chunk))
        os.replace(tmp, dest)
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", None) or err
        raise DownloadError(f"cannot download {url}: {reason}. {hint}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dest


def fetch_all(urls: dict[str, str], folder: Path, *, hint: str) -> Path:
    """Fetch ``{relative path: url}`` into ``folder`` and return it."""
    for relative, url in urls.items():
        fetch(url, folder / relative, hint=hint)
    return folder

