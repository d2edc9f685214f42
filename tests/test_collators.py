"""Masking collators: CrossNER's span merging against its own loop, 80/10/10, protection, seeds, the alternatives."""

import itertools

import pytest
import torch
from transformers import BertTokenizer

from nerbert_hf.collators import (
    MASKINGS,
    DataCollatorForGeometricSpanMasking,
    DataCollatorForSpanMasking,
    DataCollatorForTokenMasking,
    DataCollatorForWholeWordMasking,
    masking_collator,
    merge_masks,
)


def reference_merge(mask: torch.Tensor) -> torch.Tensor:
    """CrossNER's loop, DataCollatorForSpanLanguageModeling.mask_tokens (zliucr/CrossNER run_language_modeling.py)."""
    masked_indices = mask.clone()
    for i, line in enumerate(masked_indices):
        record_index = -1
        for j, value in enumerate(line):
            if value:
                if record_index == -1:
                    if j != 0 and masked_indices[i][j - 1]:
                        continue
                    record_index = j
                else:
                    if record_index == j - 1:
                        record_index = -1
                        continue
                    masked_indices[i][record_index] = False
                    masked_indices[i][j - 1] = True
                    record_index = -1
    return masked_indices


def singletons(mask: torch.Tensor) -> int:
    m = mask.int()
    prev = torch.nn.functional.pad(m[:, :-1], (1, 0))
    nxt = torch.nn.functional.pad(m[:, 1:], (0, 1))
    return int(((m == 1) & (prev == 0) & (nxt == 0)).sum())


WORDS = ["the", "party", "election", "minister", "government", "parliament", "vote", "president", "coalition"]
PIECES = ["un", "##for", "##tun", "##ate", "re", "##form", "##ed"]


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    vocab = tmp_path_factory.mktemp("vocab") / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, *PIECES]) + "\n")
    tok = BertTokenizer(vocab=str(vocab), do_lower_case=True)
    assert tok.convert_tokens_to_ids("coalition") != tok.unk_token_id
    return tok


def random_rows(tokenizer, rows: int, length: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    first, last = tokenizer.convert_tokens_to_ids(WORDS[0]), len(tokenizer) - 1
    ids = torch.randint(first, last + 1, (rows, length), generator=g)
    ids[:, 0], ids[:, -1] = tokenizer.cls_token_id, tokenizer.sep_token_id
    return ids


# -- merge_masks -------------------------------------------------------------------------------------------------


def test_merge_masks_equals_the_reference_on_every_short_mask():
    for length in range(1, 11):
        masks = torch.tensor(list(itertools.product([False, True], repeat=length))).reshape(-1, length)
        assert torch.equal(merge_masks(masks), reference_merge(masks)), length


@pytest.mark.parametrize("p", [0.02, 0.15, 0.2, 0.5, 0.8, 0.98])
def test_merge_masks_equals_the_reference_on_random_masks(p):
    g = torch.Generator().manual_seed(int(p * 100))
    for rows, length in [(1, 1), (3, 2), (40, 37), (16, 128)]:
        mask = torch.rand(rows, length, generator=g) < p
        before = mask.clone()
        merged = merge_masks(mask)
        assert torch.equal(merged, reference_merge(mask))
        assert merged.sum() == mask.sum()  # the masked count is kept
        assert torch.equal(mask, before)  # the input is not changed


def test_merge_masks_edge_cases():
    cases = {
        "all": torch.ones(2, 9, dtype=torch.bool),
        "none": torch.zeros(2, 9, dtype=torch.bool),
        "first": torch.tensor([[1, 0, 0, 0, 0, 0]], dtype=torch.bool),
        "last": torch.tensor([[0, 0, 0, 0, 0, 1]], dtype=torch.bool),
        "first and last": torch.tensor([[1, 0, 0, 0, 0, 1]], dtype=torch.bool),
        "alternating": torch.tensor([[1, 0] * 6], dtype=torch.bool),
    }
    for name, mask in cases.items():
        assert torch.equal(merge_masks(mask), reference_merge(mask)), name
    # The paper's example: an isolated mask joins the next one.
    assert merge_masks(torch.tensor([[0, 0, 1, 0, 0, 0, 1, 0]], dtype=torch.bool)).int().tolist() == \
        [[0, 0, 0, 0, 0, 1, 1, 0]]
    assert merge_masks(torch.zeros(0, 5, dtype=torch.bool)).shape == (0, 5)
    with pytest.raises(ValueError):
        merge_masks(torch.zeros(5, dtype=torch.bool))


def test_isolated_masks_almost_vanish_at_p_02():
    g = torch.Generator().manual_seed(1)
    mask = torch.rand(64, 512, generator=g) < 0.2
    merged = merge_masks(mask)
    assert singletons(mask) / mask.sum() > 0.5  # before: most masks are isolated
    assert singletons(merged) / merged.sum() < 0.01  # after: at most one per row (its last)
    assert singletons(reference_merge(mask)) == singletons(merged)


def test_protected_positions_cut_rows_into_segments():
    g = torch.Generator().manual_seed(2)
    protected = torch.zeros(30, 40, dtype=torch.bool)
    protected[:, 0] = protected[:, -1] = True
    mask = (torch.rand(30, 40, generator=g) < 0.3) & ~protected
    # Protected only at the row ends (CrossNER's [CLS] ... [SEP] blocks): exactly the reference.
    assert torch.equal(merge_masks(mask, protected), reference_merge(mask))
    # A [SEP] inside a row: no mask moves onto it or across it; each segment is merged as a row of its own.
    protected[:, 20] = True
    mask &= ~protected
    merged = merge_masks(mask, protected)
    assert not (merged & protected).any() and merged.sum() == mask.sum()
    expected = torch.cat([reference_merge(mask[:, :20]), mask[:, 20:21], reference_merge(mask[:, 21:])], dim=1)
    assert torch.equal(merged, expected)


def test_collator_exposes_merge_masks(tokenizer):
    collator = DataCollatorForSpanMasking(tokenizer=tokenizer, mlm_probability=0.2)
    mask = torch.rand(8, 50, generator=torch.Generator().manual_seed(3)) < 0.2
    assert torch.equal(collator.merge_masks(mask), reference_merge(mask))
    assert DataCollatorForSpanMasking(tokenizer=tokenizer).mlm_probability == 0.2  # CrossNER's default


# -- the collators on batches ------------------------------------------------------------------------------------


@pytest.mark.parametrize("masking", MASKINGS)
def test_special_and_pad_tokens_never_masked(tokenizer, masking):
    g = torch.Generator().manual_seed(4)
    examples = []
    for n in torch.randint(3, 60, (40,), generator=g).tolist():
        words = [WORDS[i] for i in torch.randint(len(WORDS), (n,), generator=g).tolist()]
        words[n // 2] = "unfortunate"  # a word of four pieces
        examples.append(tokenizer(" ".join(words)))
    collator = masking_collator(tokenizer, masking, 0.5, seed=0)
    batch = collator(examples)
    original = tokenizer.pad(examples, return_tensors="pt")["input_ids"]
    protected = torch.isin(original, torch.tensor(tokenizer.all_special_ids))
    assert (original == tokenizer.pad_token_id).any()  # the batch is padded
    labels = batch["labels"]
    assert (labels[protected] == -100).all()
    assert torch.equal(batch["input_ids"][protected], original[protected])
    masked = labels != -100
    assert torch.equal(labels[masked], original[masked])
    assert torch.equal(batch["input_ids"][~masked], original[~masked])
    share = masked.sum() / (~protected).sum()
    assert 0.35 < share < 0.65


@pytest.mark.parametrize("masking", ["token", "span", "whole_word"])
def test_80_10_10(tokenizer, masking):
    ids = random_rows(tokenizer, 64, 512)
    collator = masking_collator(tokenizer, masking, 0.2, seed=5)
    batch = collator([{"input_ids": row.tolist()} for row in ids])
    masked = batch["labels"] != -100
    n = int(masked.sum())
    assert abs(n / (ids.shape[0] * (ids.shape[1] - 2)) - 0.2) < 0.02
    as_mask = int((batch["input_ids"][masked] == tokenizer.mask_token_id).sum())
    unchanged = int((batch["input_ids"][masked] == ids[masked]).sum())
    # A random replacement can draw the original token back (1 in |vocab| = 1/21 here).
    assert abs(as_mask / n - 0.8) < 0.02
    assert abs(unchanged / n - (0.1 + 0.1 / len(tokenizer))) < 0.02


def test_span_collator_masks_spans(tokenizer):
    ids = random_rows(tokenizer, 32, 512)
    batch = DataCollatorForSpanMasking(tokenizer=tokenizer, seed=6)([{"input_ids": r.tolist()} for r in ids])
    masked = batch["labels"] != -100
    assert singletons(masked) / masked.sum() < 0.01
    token = DataCollatorForTokenMasking(tokenizer=tokenizer, seed=6)([{"input_ids": r.tolist()} for r in ids])
    # Same seed, same draw: span masking moves masks but keeps their number.
    assert masked.sum() == (token["labels"] != -100).sum()


@pytest.mark.parametrize("masking", MASKINGS)
def test_deterministic_under_a_seed(tokenizer, masking):
    ids = random_rows(tokenizer, 8, 64)
    examples = [{"input_ids": r.tolist()} for r in ids]
    torch.manual_seed(0)
    first = masking_collator(tokenizer, masking, seed=11)(examples)
    torch.manual_seed(123)  # the global RNG does not matter
    second = masking_collator(tokenizer, masking, seed=11)(examples)
    other = masking_collator(tokenizer, masking, seed=12)(examples)
    assert torch.equal(first["input_ids"], second["input_ids"]) and torch.equal(first["labels"], second["labels"])
    assert not torch.equal(first["labels"], other["labels"])


def word_ranges(tokenizer, ids):
    tokens = tokenizer.convert_ids_to_tokens(ids)
    ranges, start = [], None
    for i, t in enumerate(tokens + ["[SEP]"]):
        if start is not None and (not t.startswith("##") or t in tokenizer.all_special_tokens):
            ranges.append((start, i))
            start = None
        if t not in tokenizer.all_special_tokens and not t.startswith("##"):
            start = i
    return ranges


def test_whole_word_masking_masks_every_piece_of_a_word(tokenizer):
    text = " ".join(["unfortunate reformed the vote"] * 30)
    examples = [tokenizer(text) for _ in range(16)]
    batch = DataCollatorForWholeWordMasking(tokenizer=tokenizer, mlm_probability=0.3, seed=7)(examples)
    masked = batch["labels"] != -100
    ranges = word_ranges(tokenizer, examples[0]["input_ids"])
    assert any(b - a == 4 for a, b in ranges)  # "unfortunate" is four pieces
    for row in masked:
        for a, b in ranges:
            assert row[a:b].all() or not row[a:b].any()
    assert 0.2 < masked.sum() / (16 * sum(b - a for a, b in ranges)) < 0.4


def test_spanbert_spans_are_whole_words_and_share_their_replacement(tokenizer):
    text = " ".join(["unfortunate reformed the vote party"] * 40)
    examples = [tokenizer(text) for _ in range(8)]
    collator = DataCollatorForGeometricSpanMasking(tokenizer=tokenizer, mlm_probability=0.2, seed=8)
    assert abs(float((torch.arange(1, 11) * collator.span_length_distribution).sum()) - 3.8) < 0.05  # SpanBERT's mean
    ids = torch.tensor([e["input_ids"] for e in examples])
    protected = collator.protected_positions(ids)
    masked = collator.select_masked(ids, protected)
    span_ids = collator._span_ids.clone()
    maskable = int((~protected[0]).sum())
    for row in masked:
        # The budget ceil(0.2 n), overshot by less than one word (at most four pieces here).
        assert -(-2 * maskable // 10) <= int(row.sum()) < -(-2 * maskable // 10) + 4
    for a, b in word_ranges(tokenizer, examples[0]["input_ids"]):
        assert all(row[a:b].all() or not row[a:b].any() for row in masked)
    # One decision per span: with no random replacement, a span is all [MASK] (80%) or all original (20%).
    collator.random_replace_prob = 0.0
    collator._span_ids = span_ids
    is_mask = collator.replace_masked(ids.clone(), masked) == tokenizer.mask_token_id
    spans = span_ids[masked].unique().tolist()
    whole = [bool(is_mask[span_ids == span].all()) for span in spans]
    assert all(whole[i] or not is_mask[span_ids == span].any() for i, span in enumerate(spans))
    assert len(spans) > 50 and 0.65 < sum(whole) / len(spans) < 0.95
    batch = collator(examples)
    assert (batch["labels"] != -100).any()


def test_word_masking_needs_word_marks(tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    tok = BertTokenizer(vocab=str(vocab))
    with pytest.raises(ValueError, match="where words begin"):
        masking_collator(tok, "whole_word", seed=0)([tok("the vote")])


def test_bad_settings(tokenizer):
    with pytest.raises(ValueError, match="unknown masking"):
        masking_collator(tokenizer, "sentence")
    with pytest.raises(ValueError):
        DataCollatorForSpanMasking(tokenizer=tokenizer, mlm_probability=1.5)
    with pytest.raises(ValueError):
        DataCollatorForSpanMasking(tokenizer=tokenizer, return_tensors="np")
