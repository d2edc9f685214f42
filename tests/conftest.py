import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("NERBERT_HF_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA} (set NERBERT_HF_SHARED_DATA)")
    return SHARED_DATA


def save_tiny_bert(folder: Path, words, *, model_cls=None, max_positions: int = 128, **config_kwargs) -> Path:
    """Save a randomly initialised 2-layer BERT and a WordPiece tokenizer whose vocab is ``words``.

    The tokenizer is built with ``BertTokenizer(vocab=...)``: transformers 5's
    ``BertTokenizerFast(vocab_file=...)`` silently ignores the file and keeps only specials.
    """
    from transformers import BertConfig, BertForTokenClassification, BertTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = BertTokenizer(vocab=str(folder / "vocab.txt"), do_lower_case=True)
    assert tokenizer.convert_tokens_to_ids(vocab[-1]) != tokenizer.unk_token_id  # the vocab really loaded
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=37, max_position_embeddings=max_positions, **config_kwargs)
    (model_cls or BertForTokenClassification)(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
