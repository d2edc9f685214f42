"""`nerbert-hf corpus types` and `nerbert-hf corpus build`: thin fronts over :mod:`nerbert_hf.corpus.build`."""

from __future__ import annotations

from pathlib import Path


def add_corpus_commands(subparsers) -> None:
    corpus = subparsers.add_parser("corpus", help="build NER-BERT's Wikipedia corpus")
    sub = corpus.add_subparsers(dest="corpus_command", required=True)

    types = sub.add_parser(
        "types",
        help="type every article of a dump by its infobox (DBpedia mappings)",
        description="One streaming pass over a MediaWiki dump: each main-namespace article gets its most specific "
        "DBpedia class from its infobox through DBpedia's mapping wiki file; the redirect table is kept too. "
        "The output folder loads with datasets.load_dataset (title/type; config 'redirects': title/target).",
    )
    types.add_argument("--dump", required=True, type=Path, help="pages-articles XML, plain or bz2 (multistream ok)")
    types.add_argument("--ontology", required=True, type=Path, help="DBpedia ontology .owl")
    types.add_argument("--mappings", required=True, type=Path, help="DBpedia's Mapping_en.xml")
    types.add_argument("--output", required=True, type=Path)
    types.add_argument("--overwrite", action="store_true")
    types.set_defaults(func=_types)

    build = sub.add_parser(
        "build",
        help="build the typed, filtered, balanced NER corpus from a dump",
        description="NER-BERT §2: anchors typed with the DBpedia Ontology, punkt sentences, IOB2 tags, the paper's "
        "filters and alpha = 0.7 balancing, a seeded 90/10 split; Parquet shards + dataset card. An interrupted "
        "build resumes from its finished shards (kept beside --output until the build completes).",
    )
    build.add_argument("--dump", required=True, type=Path)
    build.add_argument("--ontology", required=True, type=Path)
    source = build.add_mutually_exclusive_group(required=True)
    source.add_argument("--mappings", type=Path, help="type articles by infobox (DBpedia's Mapping_en.xml)")
    source.add_argument("--types", type=Path, help="a `nerbert-hf corpus types` output folder")
    source.add_argument("--instance-types", type=Path, help="DBpedia instance-types file (.ttl/.nt, .bz2 ok)")
    build.add_argument("--output", required=True, type=Path)
    build.add_argument("--punkt", type=Path, help="NLTK punkt_tab data (zip or folder); default: NLTK's lookup")
    build.add_argument("--label-scheme", choices=["full", "4types", "merged"], default="full")
    build.add_argument("--min-category-count", type=int, default=10,
                       help="categories with fewer entities become ENTITY (default 10, as the paper)")
    build.add_argument("--num-proc", type=int, default=1, help="tagging worker processes")
    build.add_argument("--seed", type=int, default=42)
    build.add_argument("--shard-articles", type=int, default=250,
                       help="articles per resumable shard; peak memory grows with it, about 0.75 MB an article (default 250)")
    build.add_argument("--propagate-mentions", action="store_true",
                       help="also tag later unlinked mentions of a typed anchor's surface form in the same article")
    build.add_argument("--overwrite", action="store_true")
    build.set_defaults(func=_build)


def _types(args) -> int:
    from .build import scan_types, write_types_folder
    from .dbpedia import InfoboxMappings, Ontology

    if args.output.exists() and not args.overwrite:
        raise FileExistsError(f"{args.output} already exists (pass --overwrite to replace it)")
    mappings = InfoboxMappings.from_xml(args.mappings, Ontology.from_owl(args.ontology))
    pairs, redirects, stats = scan_types(args.dump, mappings)
    write_types_folder(args.output, pairs, redirects, stats, source=args.dump.name, overwrite=args.overwrite)
    print(f"wrote {args.output}: {stats['typed']} of {stats['articles']} articles typed, {stats['redirects']} redirects")
    return 0


def _build(args) -> int:
    from .build import CorpusOptions, build_corpus

    options = CorpusOptions(
        dump=args.dump, ontology=args.ontology, output=args.output, mappings=args.mappings, types=args.types,
        instance_types=args.instance_types, punkt=args.punkt, label_scheme=args.label_scheme,
        min_category_count=args.min_category_count, num_proc=args.num_proc, seed=args.seed,
        shard_articles=args.shard_articles, overwrite=args.overwrite, propagate_mentions=args.propagate_mentions,
    )
    print(f"wrote {build_corpus(options)}")
    return 0
