"""nerbert-hf: low-resource NER with the Hugging Face stack (NER-BERT, CrossNER, T-NER)."""

__version__ = "0.1.0"
