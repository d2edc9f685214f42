"""How every benchmark records its results: one Markdown file, written whole or not at all."""

from __future__ import annotations

from pathlib import Path


def write_results(path: str | Path, lines: list[str] | str, *, echo: bool = True) -> None:
    """Write ``lines`` (joined by newlines) to ``path`` through a temporary file; print them too unless ``echo`` is off."""
    path = Path(path)
    text = lines if isinstance(lines, str) else "\n".join(lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    # An interrupted run must not leave a half-written results file that looks recorded.
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    if echo:
        print(text)
