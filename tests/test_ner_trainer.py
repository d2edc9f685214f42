"""NERTrainer: token-weighted loss (every labelled word weighs the same) and fixed-size length groups."""

import torch
from datasets import Dataset
from transformers import TrainingArguments
from transformers.trainer_pt_utils import LengthGroupedSampler

from conftest import save_tiny_bert

from nerbert_hf.training import (
    IGNORE_INDEX,
    LengthBucketSampler,
    ModelArguments,
    NERTrainer,
    build_trainer,
    label_tokens_per_row,
    load_model,
    load_tokenizer,
    token_weighted_loss,
)


def _rows(label_counts):
    """Rows with the given numbers of labelled positions (plus [CLS]/[SEP] and one ignored subword)."""
    rows = []
    for n in label_counts:
        labels = [IGNORE_INDEX] + [1] * n + [IGNORE_INDEX, IGNORE_INDEX]
        rows.append({"input_ids": [2] + [5] * (n + 1) + [3], "labels": labels})
    return Dataset.from_list(rows)


def test_label_tokens_per_row_counts_labelled_positions_only():
    assert label_tokens_per_row(_rows([1, 3, 8])) == 4.0
    assert label_tokens_per_row(_rows([])) == 0.0
    # A large split is estimated from evenly spaced rows.
    assert label_tokens_per_row(_rows([2, 6] * 50), sample=10) == 4.0


def test_loss_without_a_count_is_the_batch_mean():
    logits = torch.randn(2, 5, 3)
    labels = torch.tensor([[IGNORE_INDEX, 0, 1, 2, IGNORE_INDEX], [IGNORE_INDEX, 2, IGNORE_INDEX, 0, 1]])
    expected = torch.nn.functional.cross_entropy(logits.reshape(-1, 3), labels.reshape(-1), ignore_index=IGNORE_INDEX)
    assert torch.allclose(token_weighted_loss({"logits": logits}, labels), expected)
    total = torch.nn.functional.cross_entropy(logits.reshape(-1, 3), labels.reshape(-1), ignore_index=IGNORE_INDEX,
                                              reduction="sum")
    assert torch.allclose(token_weighted_loss({"logits": logits}, labels, num_items_in_batch=12), total / 12)


def test_grouped_batches_divide_by_the_expected_count_not_their_own(tmp_path):
    folder = save_tiny_bert(tmp_path / "tiny", ["alpha", "beta"])
    tokenizer = load_tokenizer(str(folder))
    model = load_model(str(folder), ["O", "B-X", "I-X"])
    train = _rows([1, 1, 9, 9])  # grouped: a batch of short rows, a batch of long rows; 5 labelled words a row
    args = TrainingArguments(output_dir=str(tmp_path / "out"), per_device_train_batch_size=2, report_to="none")
    trainer = build_trainer(model, tokenizer, args, train)
    assert isinstance(trainer, NERTrainer) and trainer.label_tokens_per_row == 5.0
    collate = trainer.data_collator
    short = collate([train[0], train[1]])
    long = collate([train[2], train[3]])
    # The stock count would be 2 and 18: a short row's word would weigh 9x a long row's.
    assert float(trainer._get_num_items_in_batch([short], torch.device("cpu"))) == 10.0
    assert float(trainer._get_num_items_in_batch([long], torch.device("cpu"))) == 10.0
    assert float(trainer._get_num_items_in_batch([short, long], torch.device("cpu"))) == 20.0
    # The loss the trainer backpropagates is the summed cross-entropy over that count.
    model.eval()  # no dropout: the two computations below must see the same logits
    loss = trainer.compute_loss(model, dict(short), num_items_in_batch=torch.tensor(10.0))
    logits = model(input_ids=short["input_ids"], attention_mask=short["attention_mask"]).logits
    total = torch.nn.functional.cross_entropy(logits.reshape(-1, 3), short["labels"].reshape(-1),
                                              ignore_index=IGNORE_INDEX, reduction="sum")
    assert loss.requires_grad and torch.allclose(loss, total / 10)


def _padded_tokens(lengths, order, batch_size):
    return sum(max(lengths[i] for i in order[k:k + batch_size]) * len(order[k:k + batch_size])
               for k in range(0, len(order), batch_size))


def _batches(order, batch_size):
    return [order[k:k + batch_size] for k in range(0, len(order), batch_size)]


def test_buckets_pad_a_small_set_less_than_transformers_groups_and_change_each_epoch():
    lengths = [int(x) for x in torch.randint(5, 120, (200,), generator=torch.Generator().manual_seed(0))]
    torch.manual_seed(1)
    sampler = LengthBucketSampler(lengths, 16, group_batches=50)
    first, second = list(sampler), list(sampler)
    stock = list(LengthGroupedSampler(16, lengths=lengths))
    assert sorted(first) == list(range(200)) and len(sampler) == 200
    # transformers keeps four groups an epoch (here of three batches each), sorted within each group only.
    assert _padded_tokens(lengths, first, 16) < 0.9 * _padded_tokens(lengths, stock, 16)
    assert _padded_tokens(lengths, first, 16) < 1.12 * sum(lengths)
    # Batches come in random order, not longest first, and not the same ones every epoch.
    maxima = [max(lengths[i] for i in batch) for batch in _batches(first, 16)[:-1]]
    assert maxima != sorted(maxima, reverse=True) and maxima != sorted(maxima)
    assert {tuple(sorted(b)) for b in _batches(first, 16)} != {tuple(sorted(b)) for b in _batches(second, 16)}
    # The short last batch (200 = 12 x 16 + 8) stays last, so no batch mixes two length ranges.
    assert len(_batches(first, 16)[-1]) == 8
    torch.manual_seed(1)
    assert list(LengthBucketSampler(lengths, 16, group_batches=50)) == first  # seeded by set_seed


def test_buckets_within_groups_at_corpus_scale():
    lengths = list(range(1000))
    torch.manual_seed(0)
    order = list(LengthBucketSampler(lengths, 10, group_batches=5, noise=0))
    # Each batch is ten neighbours in one sorted 50-row group: far closer than random rows (span ~900),
    # not as close as neighbours in the whole sorted set (span 9).
    assert sorted(order) == lengths
    assert all(batch == sorted(batch) for batch in _batches(order, 10))
    spans = [batch[-1] - batch[0] for batch in _batches(order, 10)]
    assert 9 < sum(spans) / len(spans) < 450


def test_trainer_uses_buckets_only_when_asked(tmp_path):
    folder = save_tiny_bert(tmp_path / "tiny", ["alpha"])
    tokenizer = load_tokenizer(str(folder))
    model = load_model(str(folder), ["O", "B-X", "I-X"])
    train = _rows([1, 2, 3, 4]).map(lambda row: {"length": len(row["input_ids"])})
    args = TrainingArguments(output_dir=str(tmp_path / "out"), per_device_train_batch_size=2, report_to="none",
                             train_sampling_strategy="group_by_length", gradient_accumulation_steps=3)
    # Through the Trainer's own dataloader, which strips the `length` column before asking for a sampler.
    grouping = ModelArguments(length_group_batches=7, length_noise=0.5)
    loader = build_trainer(model, tokenizer, args, train, model_args=grouping).get_train_dataloader()
    sampler = loader.batch_sampler.sampler  # accelerate rebuilds the loader around a BatchSampler
    assert isinstance(sampler, LengthBucketSampler) and sampler.group == 7 * 6 and sampler.batch_size == 6
    assert list(sampler.lengths) == [4, 5, 6, 7] and sampler.noise == 0.5
    stock = ModelArguments(length_group_batches=0)
    assert type(build_trainer(model, tokenizer, args, train, model_args=stock)._get_train_sampler()) \
        is LengthGroupedSampler
