"""`nerbert-hf corpus build` (one worker) against WikiExtractor's plain-text extraction of the same dump.

    python benchmarks/corpus_build.py [--data ../shared/data] [--repeat 10]

Runs both on the shared Wikipedia excerpt and on the excerpt's pages repeated ``--repeat`` times (a bigger
dump with the same text), one process each, and records wall time, CPU time and peak memory. WikiExtractor
(`pip install wikiextractor`) runs as `python -m wikiextractor.WikiExtractor DUMP --links --processes 1`.
Target (issue #4): the whole build takes at most 1.0x WikiExtractor's time (goal 0.5x) on the repeated dump.

Most links of the excerpt lead to articles outside it, which have no type, and the builder only counts the
sentences that no typed anchor reaches (the corpus filters drop them). A third build of the repeated dump
therefore types every link target (``--types`` with the excerpt's infobox classes, and ``Place`` for every
other target), as a dump whose links mostly lead to typed articles would be; it skips the typing pass, and
its WikiExtractor columns repeat the repeated dump's. The projection for a full English dump (about 6.9M
articles) on 16 cores scales the per-article cost of the two repeated-dump builds linearly.
"""

from __future__ import annotations

import argparse
import bz2
import datetime
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from results_file import write_results  # benchmarks/, this script's folder

REPO = Path(__file__).resolve().parents[1]
EXCERPT = "wikipedia/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
FULL_DUMP_ARTICLES = 6_900_000


def repeated_dump(source: Path, times: int, target: Path) -> Path:
    xml = bz2.decompress(source.read_bytes()).decode("utf-8")
    head, rest = xml.split("<page>", 1)
    body, tail = ("<page>" + rest).rsplit("</page>", 1)
    pages = body + "</page>"
    target.write_bytes(bz2.compress((head + pages * times + tail).encode("utf-8")))
    return target


# Each command runs under its own small parent, so its peak memory is not mixed with the other's.
_MEASURE = (
    "import resource, subprocess, sys, time, json\n"
    "start = time.perf_counter(); r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "wall = time.perf_counter() - start; u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "sys.stderr.write(r.stderr[-3000:] if r.returncode else '')\n"
    "print(json.dumps({'rc': r.returncode, 'wall': wall, 'cpu': u.ru_utime + u.ru_stime, "
    "'maxrss_mb': u.ru_maxrss / 1024}))\n"
)


def build_command(dump: Path, data: Path, output: Path, *types: str) -> list[str]:
    """`nerbert-hf corpus build` of ``dump`` as the benchmarks run it (one worker, ``data``'s ontology and punkt);
    ``types`` are the typing options (``--mappings FILE`` or ``--types FOLDER``)."""
    return [sys.executable, "-m", "nerbert_hf.cli", "corpus", "build", "--dump", str(dump),
            "--ontology", str(data / "dbpedia" / "dbpedia-ontology-2019-02-21.owl"), *types,
            "--punkt", str(data / "nltk" / "punkt_tab.zip"), "--min-category-count", "1",
            "--seed", "1", "--output", str(output), "--num-proc", "1"]


def every_target_typed(dump: Path, data: Path, target: Path) -> Path:
    """A `corpus types` folder for ``dump`` that gives every link target a class (``Place`` where the
    infobox mappings give none)."""
    from collections import Counter

    from nerbert_hf.corpus.build import scan_types, write_types_folder
    from nerbert_hf.corpus.dbpedia import InfoboxMappings, Ontology
    from nerbert_hf.corpus.dump import is_article, iter_pages
    from nerbert_hf.corpus.wikitext import wikitext_to_text

    ontology = Ontology.from_owl(data / "dbpedia" / "dbpedia-ontology-2019-02-21.owl")
    pairs, redirects, _ = scan_types(dump, InfoboxMappings.from_xml(data / "dbpedia" / "Mapping_en.xml", ontology))
    typed = {title for title, _ in pairs}
    targets = {a.target for page in iter_pages(dump) if is_article(page) for a in wikitext_to_text(page.text)[1]}
    pairs += [(t, "Place") for t in sorted(targets - typed)]
    return write_types_folder(target, pairs, redirects, Counter(), source=dump.name)


def timed(cmd: list[str]) -> dict:
    import json

    result = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], capture_output=True, text=True)
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    if measured["rc"] != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stderr}")
    return measured


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--results", default=str(REPO / "benchmarks" / "results" / "corpus_build.md"))
    args = parser.parse_args()
    data = Path(args.data)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        dumps = {"excerpt (106 articles)": data / EXCERPT,
                 f"excerpt x{args.repeat}": repeated_dump(data / EXCERPT, args.repeat, tmp / "repeated.xml.bz2")}

        def build(dump: Path, *types: str) -> dict:
            return timed(build_command(dump, data, tmp / f"corpus-{len(rows)}", *types))

        for name, dump in dumps.items():
            n_articles = 98 * (args.repeat if "x" in name.split()[-1] else 1)
            ours = build(dump, "--mappings", str(data / "dbpedia" / "Mapping_en.xml"))
            theirs = timed([sys.executable, "-m", "wikiextractor.WikiExtractor", str(dump), "--links",
                            "--processes", "1", "-o", str(tmp / f"wx-{len(rows)}"), "-q"])
            rows.append((name, n_articles, ours, theirs))
            print(name, "ours", ours, "wikiextractor", theirs, flush=True)
        name, n, _, theirs = rows[-1]
        types = every_target_typed(dump, data, tmp / "every-target-typed")
        rows.append((f"{name}, every link target typed (`--types`)", n, build(dump, "--types", str(types)), theirs))
        print(rows[-1][0], "ours", rows[-1][2], flush=True)
    _, n, repeated, theirs = rows[1]
    per_article = [r[2]["cpu"] / r[1] for r in rows[1:]]
    projection_h = [p * FULL_DUMP_ARTICLES / 16 / 3600 for p in per_article]
    lines = [
        "# Corpus build vs WikiExtractor",
        "",
        f"Command: `python benchmarks/corpus_build.py --repeat {args.repeat}` ({datetime.date.today()}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end).",
        "",
        "| dump | articles | corpus build wall (s) | CPU (s) | peak RSS (MB) | WikiExtractor wall (s) | CPU (s) "
        "| peak RSS (MB) | ratio (CPU) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, n, ours, theirs in rows:
        lines.append(f"| {name} | {n} | {ours['wall']:.1f} | {ours['cpu']:.1f} | {ours['maxrss_mb']:.0f} | "
                     f"{theirs['wall']:.1f} | {theirs['cpu']:.1f} | {theirs['maxrss_mb']:.0f} | "
                     f"{ours['cpu'] / theirs['cpu']:.2f}x |")
    lines += [
        "",
        f"The build includes typing the articles (infobox mappings), tagging, selection and writing; WikiExtractor "
        f"only extracts text. Target <= 1.0x on the excerpt x{args.repeat}: "
        f"**{'PASS' if repeated['cpu'] <= theirs['cpu'] else 'FAIL'}**.",
        f"Projection for a full English dump ({FULL_DUMP_ARTICLES:,} articles) at the measured "
        f"{1000 * per_article[0]:.1f} to {1000 * per_article[1]:.1f} ms of CPU per article (excerpt's types to every "
        f"link target typed), spread over 16 workers: about {projection_h[0]:.1f} to {projection_h[1]:.1f} h. "
        "The typing pass, which decompresses and parses the dump, the index and the selection run in one process, "
        "so the wall time is longer. Peak RSS is that of the largest child process.",
        "",
    ]
    write_results(args.results, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
