"""NER-BERT §6: first-token embeddings of gold entities, reduced to 2-D with t-SNE, one colour per category.

For every gold entity of a test set (IOB2 spans of ``ner_tags``) the encoder's last
hidden state at the entity's first subword is taken; the same entities are embedded
by each checkpoint, reduced with scikit-learn's t-SNE, and drawn side by side.
"""

from __future__ import annotations

import json
import logging
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import NerbertError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EntityMention:
    sentence: int  # row in the dataset
    start: int  # first word of the entity
    category: str


def gold_entities(dataset, labels: list[str]) -> list[EntityMention]:
    """Every gold entity (a ``B-`` tag, or an ``I-`` that starts one) of an IOB2 ``ner_tags`` column."""
    mentions = []
    for row, tags in enumerate(dataset["ner_tags"]):
        previous = "O"
        for i, tag_id in enumerate(tags):
            tag = labels[tag_id]
            if tag.startswith("B-") or (tag.startswith("I-") and previous[2:] != tag[2:]):
                mentions.append(EntityMention(row, i, tag[2:]))
            previous = tag
    return mentions


def sample_entities(mentions: list[EntityMention], *, max_types: int | None = 8, max_per_type: int | None = 200,
                    seed: int = 1) -> list[EntityMention]:
    """The ``max_types`` most frequent categories, at most ``max_per_type`` seeded-random mentions each."""
    counts = Counter(m.category for m in mentions)
    keep = [c for c, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][:max_types]
    rng = random.Random(seed)
    chosen = []
    for category in keep:
        of_type = [m for m in mentions if m.category == category]
        if max_per_type is not None and len(of_type) > max_per_type:
            of_type = sorted(rng.sample(of_type, max_per_type), key=lambda m: (m.sentence, m.start))
        chosen += of_type
    return chosen


def entity_embeddings(checkpoint: str, dataset, mentions: list[EntityMention], *, batch_size: int = 32,
                      max_length: int = 512, device: str | None = None) -> np.ndarray:
    """``(len(mentions), hidden)``: the encoder's last hidden state at each entity's first subword."""
    import torch
    from transformers import AutoModel

    from .training import load_tokenizer

    tokenizer = load_tokenizer(checkpoint)
    model = AutoModel.from_pretrained(checkpoint)  # the encoder alone: any head is left out
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device).eval()
    by_sentence: dict[int, list[int]] = {}
    for k, m in enumerate(mentions):
        by_sentence.setdefault(m.sentence, []).append(k)
    rows = sorted(by_sentence)
    out = np.zeros((len(mentions), model.config.hidden_size), dtype=np.float32)
    found = np.zeros(len(mentions), dtype=bool)
    for b in range(0, len(rows), batch_size):
        batch_rows = rows[b:b + batch_size]
        words = [dataset[r]["tokens"] for r in batch_rows]
        enc = tokenizer(words, is_split_into_words=True, truncation=True, max_length=max_length, padding=True,
                        return_tensors="pt")
        with torch.no_grad():
            hidden = model(**{k: v.to(device) for k, v in enc.items()}).last_hidden_state.float().cpu().numpy()
        for j, r in enumerate(batch_rows):
            first = {}
            for pos, w in enumerate(enc.word_ids(j)):
                if w is not None and w not in first:
                    first[w] = pos
            for k in by_sentence[r]:
                pos = first.get(mentions[k].start)
                if pos is not None:  # None: the entity lies beyond max_length
                    out[k], found[k] = hidden[j, pos], True
    if not found.all():
        logger.warning("%s: %d entities past the %d-token limit left out", checkpoint, (~found).sum(), max_length)
    out[~found] = np.nan
    return out


def reduce_tsne(vectors: np.ndarray, *, seed: int = 1, perplexity: float = 30.0) -> np.ndarray:
    """2-D t-SNE (scikit-learn), perplexity lowered for small sets (it must stay below the number of points)."""
    from sklearn.manifold import TSNE

    n = len(vectors)
    if n < 3:
        raise NerbertError(f"t-SNE needs at least 3 entities, got {n}")
    return TSNE(n_components=2, perplexity=min(perplexity, (n - 1) / 3), init="pca", random_state=seed,
                ).fit_transform(vectors)


def plot_panels(panels: list[tuple[str, np.ndarray]], categories: list[str], path: Path, title: str | None = None):
    """One scatter per checkpoint, side by side, one colour per category (shared legend); PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = sorted(set(categories), key=lambda c: (-categories.count(c), c))
    colours = {c: (f"C{i}" if i < 10 else None) for i, c in enumerate(names)}
    cats = np.asarray(categories)
    fig = Figure(figsize=(5.5 * len(panels) + 2.0, 5.5))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (name, points) in zip(axes, panels):
        for c in names:
            sel = cats == c
            ax.scatter(points[sel, 0], points[sel, 1], s=8, alpha=0.75, label=c, color=colours[c])
        ax.set_title(name, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    handles, texts = axes[0].get_legend_handles_labels()
    fig.legend(handles, texts, loc="center right", markerscale=2, fontsize=9)
    fig.subplots_adjust(right=1 - 1.8 / fig.get_figwidth())
    if title:
        fig.suptitle(title)
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, format="png", dpi=130)
    tmp.replace(path)


def visualize(checkpoints: list[str], dataset_name: str, output: str | Path, *, config: str | None = None,
              split: str = "test", names: list[str] | None = None, max_types: int | None = 8,
              max_per_type: int | None = 200, seed: int = 1, batch_size: int = 32, max_length: int = 512) -> dict:
    """Embed the same gold entities with every checkpoint, t-SNE each, save a PNG and ``<output>.json`` points."""
    from .training import label_names, load_ner_dataset

    if not checkpoints:
        raise ValueError("--checkpoints is required (one or more checkpoints)")
    names = names or [Path(c).name or c for c in checkpoints]
    if len(names) != len(checkpoints):
        raise ValueError("give one --names entry per checkpoint")
    ds = load_ner_dataset(dataset_name, config)
    if split not in ds:
        raise NerbertError(f"dataset {dataset_name!r} has no {split!r} split (splits: {', '.join(ds)})")
    data = ds[split]
    mentions = sample_entities(gold_entities(data, label_names(data)), max_types=max_types,
                               max_per_type=max_per_type, seed=seed)
    if len(mentions) < 3:
        raise NerbertError(f"{dataset_name} {split}: only {len(mentions)} gold entities, too few to plot")
    vectors = [entity_embeddings(c, data, mentions, batch_size=batch_size, max_length=max_length)
               for c in checkpoints]
    keep = np.all([~np.isnan(v).any(axis=1) for v in vectors], axis=0)
    mentions = [m for m, k in zip(mentions, keep) if k]
    panels = [(n, reduce_tsne(v[keep], seed=seed)) for n, v in zip(names, vectors)]
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    categories = [m.category for m in mentions]
    plot_panels(panels, categories, output,
                title=f"first-token entity embeddings, {Path(dataset_name).name}{'/' + config if config else ''} "
                      f"{split} (t-SNE)")
    words = [data[m.sentence]["tokens"][m.start] for m in mentions]
    points = {"dataset": dataset_name, "config": config, "split": split, "entities": len(mentions),
              "categories": dict(Counter(categories)),
              "panels": {n: [{"word": w, "category": c, "sentence": m.sentence, "x": float(p[0]), "y": float(p[1])}
                             for w, c, m, p in zip(words, categories, mentions, pts)] for n, pts in panels}}
    json_path = output.with_suffix(".json")
    json_path.write_text(json.dumps(points, indent=1) + "\n", encoding="utf-8")
    return {"png": str(output), "json": str(json_path), "entities": len(mentions),
            "categories": points["categories"]}
