"""CrossNER (Liu et al., AAAI 2021): five low-resource domains plus its CoNLL-2003 source domain.

Raw files: ``ner_data/{domain}/{train,dev,test}.txt`` of the CrossNER repository,
``token<TAB>label``, IOB2, lower-case type names. Label lists follow CrossNER's own order.
"""

from nerbert_hf.builders import IOBDataset
from nerbert_hf.cards import DatasetCardInfo

DOMAINS = ("politics", "science", "music", "literature", "ai", "conll2003")

CITATION = """@inproceedings{liu2021crossner,
  title={CrossNER: Evaluating Cross-Domain Named Entity Recognition},
  author={Liu, Zihan and Xu, Yan and Yu, Tiezheng and Dai, Wenliang and Ji, Ziwei and Cahyawijaya, Samuel and Madotto, Andrea and Fung, Pascale},
  booktitle={Proceedings of the AAAI Conference on Artificial Intelligence},
  volume={35}, number={15}, pages={13452--13460}, year={2021}
}"""

CROSSNER = IOBDataset(
    name="crossner",
    card=DatasetCardInfo(
        pretty_name="CrossNER",
        description=(
            "Cross-domain NER: politics, natural science, music, literature and artificial intelligence, "
            "each with domain-specialised entity types, plus the CoNLL-2003 source domain with CrossNER's "
            "lower-case type names. One config per domain."
        ),
        source="https://github.com/zliucr/CrossNER (`ner_data/`).",
        license="mit",
        citation=CITATION,
        tags=["crossner", "cross-domain"],
    ),
    files={d: {"train": f"{d}/train.txt", "validation": f"{d}/dev.txt", "test": f"{d}/test.txt"} for d in DOMAINS},
    label_key="crossner/{config}",
    base_url="https://raw.githubusercontent.com/zliucr/CrossNER/main/ner_data",
)

DATASETS = {"crossner": CROSSNER}
