"""Dataset builders: one module per family, each exposing ``DATASETS`` (name -> spec).

``nerbert-hf data build NAME`` is a thin front over :func:`nerbert_hf.builders.build_dataset`
with the spec registered here.
"""

from . import crossner, nerbert_eval, tner

DATASETS = {**crossner.DATASETS, **tner.DATASETS, **nerbert_eval.DATASETS}
