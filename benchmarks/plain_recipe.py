"""The plain Hugging Face token-classification recipe the benchmarks compare against.

Labels as in transformers' token-classification example (`label_all_tokens=False`): the first
subword of each word carries its tag, other subwords and special tokens -100; inputs truncated
at the model's window.
"""


def first_subword_encoder(tokenizer):
    """A batched ``Dataset.map`` function: tokenise words and label first subwords."""

    def encode(batch):
        enc = tokenizer(batch["tokens"], is_split_into_words=True, truncation=True)
        labels = []
        for i, tags in enumerate(batch["ner_tags"]):
            previous, row = None, []
            for word in enc.word_ids(i):
                row.append(-100 if word is None or word == previous else tags[word])
                previous = word
            labels.append(row)
        enc["labels"] = labels
        return enc

    return encode
