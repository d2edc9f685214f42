"""Masked-LM collators for domain-adaptive pre-training (DAPT): CrossNER's span merging and three alternatives.

Every collator here is a ``DataCollatorForLanguageModeling`` and differs only in
*which* positions it masks:

- ``token`` (:class:`DataCollatorForTokenMasking`): BERT's MLM, a Bernoulli(``mlm_probability``)
  draw per token;
- ``span`` (:class:`DataCollatorForSpanMasking`): CrossNER's span-level masking, the same draw
  followed by :func:`merge_masks`, which moves each isolated masked position next to the
  following masked position (``DataCollatorForSpanLanguageModeling.mask_tokens`` in
  github.com/zliucr/CrossNER ``run_language_modeling.py``);
- ``whole_word`` (:class:`DataCollatorForWholeWordMasking`): a Bernoulli draw per word, every
  subword of a drawn word masked (BERT's whole-word masking);
- ``spanbert`` (:class:`DataCollatorForGeometricSpanMasking`): SpanBERT's spans of whole words,
  lengths from Geo(0.2) truncated at 10 words, until the budget ``mlm_probability`` is spent;
  the 80/10/10 replacement is decided per span, as in SpanBERT.

Masked positions then get BERT's replacement: 80% ``[MASK]``, 10% a random token, 10%
unchanged (``mask_replace_prob``, ``random_replace_prob``); labels are ``-100`` elsewhere.
Special tokens (every id in ``tokenizer.all_special_ids``, which for BERT includes
``[UNK]`` as in CrossNER's code) and padding are never masked. With ``seed`` set, all
randomness comes from the collator's own ``torch.Generator`` (one per DataLoader worker),
so equal seeds and inputs give equal batches whatever the global RNG state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from transformers import DataCollatorForLanguageModeling

MASKINGS = ("token", "span", "whole_word", "spanbert")
# CrossNER's run_language_modeling.py sets data_args.mlm_probability = 0.2 for its DAPT runs.
CROSSNER_MLM_PROBABILITY = 0.2


def merge_masks(mask: torch.Tensor, protected: torch.Tensor | None = None) -> torch.Tensor:
    """CrossNER's span merging of a ``(batch, length)`` boolean mask; the input is not changed.

    Row by row and left to right, CrossNER's loop keeps ``record = -1`` and, at each masked
    ``j``: if ``record == -1``, skips ``j`` when ``j - 1`` is masked, else sets ``record = j``;
    otherwise, if ``record == j - 1`` it resets ``record = -1``, else it unmasks ``record``,
    masks ``j - 1`` and resets ``record = -1``. In terms of runs of masked positions: an
    isolated masked position (a run of length 1) waits; the next run, of any length, pulls it
    next to its own start. Runs of two or more are never split, the masked count is kept,
    and at most one isolated position per row (its last) survives.

    This implementation is vectorised over runs and equals the loop on every input.
    ``protected`` (positions never masked, e.g. special and pad tokens) cuts rows into
    segments that the merge does not cross; it changes nothing where protected positions
    sit only at the ends of rows (CrossNER's ``[CLS] ... [SEP]`` blocks, padded batches).
    """
    if mask.dim() != 2:
        raise ValueError(f"merge_masks expects a (batch, length) mask, got shape {tuple(mask.shape)}")
    mask = mask.bool()
    rows, length = mask.shape
    out = mask.clone()
    if rows == 0 or length == 0 or not mask.any():
        return out
    # One flat sequence with an unmasked separator after each row, so runs never cross rows.
    flat = torch.zeros(rows, length + 1, dtype=torch.bool)
    flat[:, :length] = mask
    flat = flat.reshape(-1)
    boundary = torch.zeros(rows, length + 1, dtype=torch.bool)
    boundary[:, length] = True
    if protected is not None:
        boundary[:, :length] = protected.bool()
        flat = flat & ~boundary.reshape(-1)
    segment = torch.cumsum(boundary.reshape(-1), 0)
    prev = torch.cat([torch.zeros(1, dtype=torch.bool), flat[:-1]])
    nxt = torch.cat([flat[1:], torch.zeros(1, dtype=torch.bool)])
    starts = torch.nonzero(flat & ~prev).squeeze(1)
    ends = torch.nonzero(flat & ~nxt).squeeze(1)
    single = starts == ends
    run_segment = segment[starts]
    index = torch.arange(len(starts))
    same_segment = torch.zeros_like(single)
    same_segment[1:] = run_segment[1:] == run_segment[:-1]
    # A single run waits ("pending") unless the single run before it was waiting, in which case
    # it absorbed that one: along a chain of consecutive single runs, every other one waits.
    chain_start = single.clone()
    chain_start[1:] &= ~(single[:-1] & same_segment[1:])
    first_of_chain = torch.cummax(torch.where(chain_start, index, torch.zeros_like(index)), 0).values
    pending = single & ((index - first_of_chain) % 2 == 0)
    absorbs = torch.zeros_like(single)
    absorbs[1:] = pending[:-1] & same_segment[1:]
    moved_from = starts[:-1][absorbs[1:]]
    moved_to = starts[absorbs] - 1
    out_flat = torch.zeros(rows, length + 1, dtype=torch.bool)
    out_flat[:, :length] = out
    out_flat = out_flat.reshape(-1)
    out_flat[moved_from] = False
    out_flat[moved_to] = True
    return out_flat.reshape(rows, length + 1)[:, :length].contiguous()


def word_start_table(tokenizer) -> torch.Tensor:
    """``table[id]`` is True where token ``id`` can begin a word, from the vocabulary's convention.

    WordPiece marks continuations with ``##`` (BERT); SentencePiece (``▁``) and byte-level BPE
    (``Ġ``) mark word starts. Special and added tokens count as word starts.
    """
    vocab = tokenizer.get_vocab()
    size = max(len(tokenizer), max(vocab.values()) + 1)
    tokens = list(vocab)
    if any(t.startswith("##") for t in tokens):
        is_start = {t: not t.startswith("##") for t in tokens}
    elif any(t.startswith("▁") for t in tokens):
        is_start = {t: t.startswith("▁") for t in tokens}
    elif any(t.startswith("Ġ") for t in tokens):
        is_start = {t: t.startswith("Ġ") for t in tokens}
    else:
        raise ValueError(
            f"{type(tokenizer).__name__}: cannot tell where words begin (no '##', '▁' or 'Ġ' tokens in the "
            "vocabulary); use --masking token or span"
        )
    table = torch.ones(size, dtype=torch.bool)
    for token, i in vocab.items():
        table[i] = is_start[token]
    for i in tokenizer.all_special_ids:
        table[i] = True
    return table


@dataclass
class DataCollatorForTokenMasking(DataCollatorForLanguageModeling):
    """BERT's token-level MLM with CrossNER's 0.2 default; the base of the other maskings.

    Subclasses choose positions in :meth:`select_masked` and may replace them their own way
    in :meth:`replace_masked`.
    """

    mlm_probability: float | None = CROSSNER_MLM_PROBABILITY

    def __post_init__(self):
        if not self.mlm:
            raise ValueError(f"{type(self).__name__} is for masked language modelling (mlm=True)")
        if self.whole_word_mask:
            raise ValueError("use DataCollatorForWholeWordMasking (masking='whole_word') for whole words")
        if self.return_tensors != "pt":
            raise ValueError(f"{type(self).__name__} returns PyTorch tensors only (return_tensors='pt')")
        super().__post_init__()

    # -- randomness -----------------------------------------------------------------------------------------
    def _rng(self) -> torch.Generator | None:
        if self.seed is not None and self.generator is None:
            self.create_rng()
        return self.generator

    # -- which positions ------------------------------------------------------------------------------------
    def protected_positions(self, inputs: torch.Tensor, special_tokens_mask=None) -> torch.Tensor:
        """Special tokens (every id in ``all_special_ids``), padding, and any ``special_tokens_mask``."""
        special_ids = torch.tensor(sorted(set(self.tokenizer.all_special_ids)), dtype=inputs.dtype)
        protected = torch.isin(inputs, special_ids)
        if self.tokenizer.pad_token_id is not None:
            protected |= inputs.eq(self.tokenizer.pad_token_id)
        if special_tokens_mask is not None:
            protected |= torch.as_tensor(special_tokens_mask).bool()
        return protected

    def draw(self, protected: torch.Tensor) -> torch.Tensor:
        """Bernoulli(``mlm_probability``) over the unprotected positions."""
        probability = torch.full(protected.shape, self.mlm_probability)
        probability.masked_fill_(protected, 0.0)
        return torch.bernoulli(probability, generator=self._rng()).bool()

    def select_masked(self, inputs: torch.Tensor, protected: torch.Tensor) -> torch.Tensor:
        return self.draw(protected)

    # -- how they are replaced ------------------------------------------------------------------------------
    def replace_masked(self, inputs: torch.Tensor, masked: torch.Tensor) -> torch.Tensor:
        """80% ``[MASK]``, 10% a random token, 10% unchanged (CrossNER's and BERT's order of draws)."""
        rng = self._rng()
        replaced = torch.bernoulli(torch.full(inputs.shape, self.mask_replace_prob), generator=rng).bool() & masked
        inputs[replaced] = self.tokenizer.mask_token_id
        if self.mask_replace_prob >= 1 or self.random_replace_prob <= 0:
            return inputs
        scaled = self.random_replace_prob / (1 - self.mask_replace_prob)
        randomised = torch.bernoulli(torch.full(inputs.shape, scaled), generator=rng).bool() & masked & ~replaced
        random_words = torch.randint(len(self.tokenizer), inputs.shape, dtype=inputs.dtype, generator=rng)
        inputs[randomised] = random_words[randomised]
        return inputs

    def torch_mask_tokens(self, inputs, special_tokens_mask=None, offset_mapping=None):
        """``(inputs, labels)``: masked positions replaced, labels the original ids there and -100 elsewhere."""
        inputs = torch.as_tensor(inputs)
        labels = inputs.clone()
        protected = self.protected_positions(inputs, special_tokens_mask)
        masked = self.select_masked(inputs, protected) & ~protected
        labels[~masked] = -100
        return self.replace_masked(inputs, masked), labels


@dataclass
class DataCollatorForSpanMasking(DataCollatorForTokenMasking):
    """CrossNER's span-level masking: a Bernoulli draw, then :func:`merge_masks`, then 80/10/10."""

    merge_masks = staticmethod(merge_masks)

    def select_masked(self, inputs: torch.Tensor, protected: torch.Tensor) -> torch.Tensor:
        return merge_masks(self.draw(protected), protected)


class _WordBoundaries:
    """Word starts from the vocabulary (see :func:`word_start_table`); a word never crosses a protected token."""

    def word_starts(self, inputs: torch.Tensor, protected: torch.Tensor) -> torch.Tensor:
        if getattr(self, "_start_table", None) is None:
            self._start_table = word_start_table(self.tokenizer)
        table = self._start_table
        ids = inputs.clamp(0, len(table) - 1)
        starts = table[ids] | (inputs >= len(table))
        after_protected = torch.ones_like(protected)
        after_protected[:, 1:] = protected[:, :-1]
        return (starts | after_protected) & ~protected


@dataclass
class DataCollatorForWholeWordMasking(_WordBoundaries, DataCollatorForTokenMasking):
    """Whole-word masking: each word drawn with probability ``mlm_probability``, all its subwords masked."""

    def select_masked(self, inputs: torch.Tensor, protected: torch.Tensor) -> torch.Tensor:
        starts = self.word_starts(inputs, protected)
        chosen = self.draw(~starts)  # one draw per word, on its first subword
        position = torch.arange(inputs.shape[1]).expand_as(inputs)
        owner = torch.cummax(torch.where(starts, position, torch.zeros_like(position)), 1).values
        return torch.gather(chosen, 1, owner) & ~protected


@dataclass
class DataCollatorForGeometricSpanMasking(_WordBoundaries, DataCollatorForTokenMasking):
    """SpanBERT's masking (Joshi et al., 2020): spans of whole words, lengths ~ Geo(``geometric_p``) truncated
    at ``max_span_length`` words (mean 3.8), anchored at random words, until ``ceil(mlm_probability * n)``
    of a row's ``n`` maskable tokens are masked; a span never crosses a special token. The 80/10/10
    replacement is drawn once per span."""

    mlm_probability: float | None = CROSSNER_MLM_PROBABILITY
    geometric_p: float = 0.2
    max_span_length: int = 10

    def __post_init__(self):
        super().__post_init__()
        if not 0 < self.geometric_p <= 1 or self.max_span_length < 1:
            raise ValueError("geometric_p must be in (0, 1] and max_span_length at least 1")
        lengths = torch.arange(1, self.max_span_length + 1, dtype=torch.float64)
        weights = self.geometric_p * (1 - self.geometric_p) ** (lengths - 1)
        self.span_length_distribution = (weights / weights.sum()).float()
        self._span_ids = None

    def select_masked(self, inputs: torch.Tensor, protected: torch.Tensor) -> torch.Tensor:
        rng = self._rng()
        starts = self.word_starts(inputs, protected)
        masked = torch.zeros_like(protected)
        span_ids = torch.full(inputs.shape, -1, dtype=torch.long)
        next_span = 0
        for row in range(inputs.shape[0]):
            maskable = int((~protected[row]).sum())
            budget = math.ceil(self.mlm_probability * maskable)
            if budget == 0:
                continue
            word_begin = torch.nonzero(starts[row]).squeeze(1).tolist()
            # A word ends before the next word start or protected token.
            stops = (starts[row] | protected[row]).tolist() + [True]
            word_end = []
            for begin in word_begin:
                end = begin + 1
                while not stops[end]:
                    end += 1
                word_end.append(end)
            # Words i and i+1 are in the same segment when no protected token lies between them.
            joined = [word_end[i] == word_begin[i + 1] for i in range(len(word_begin) - 1)]
            taken = [False] * len(word_begin)
            count, attempts = 0, 0
            draws = max(16, 4 * budget)
            lengths = torch.multinomial(self.span_length_distribution, draws, replacement=True, generator=rng) + 1
            anchors = torch.randint(len(word_begin), (draws,), generator=rng)
            while count < budget and attempts < draws:
                length, anchor = int(lengths[attempts]), int(anchors[attempts])
                attempts += 1
                if taken[anchor]:
                    continue
                word = anchor
                for k in range(length):
                    if count >= budget or taken[word]:
                        break
                    taken[word] = True
                    masked[row, word_begin[word]:word_end[word]] = True
                    span_ids[row, word_begin[word]:word_end[word]] = next_span
                    count += word_end[word] - word_begin[word]
                    if k + 1 == length or word + 1 >= len(word_begin) or not joined[word]:
                        break
                    word += 1
                next_span += 1
        self._span_ids = span_ids
        return masked

    def replace_masked(self, inputs: torch.Tensor, masked: torch.Tensor) -> torch.Tensor:
        rng = self._rng()
        span_ids = self._span_ids if self._span_ids is not None and self._span_ids.shape == inputs.shape else None
        if span_ids is None:  # positions chosen elsewhere: fall back to per-token decisions
            return super().replace_masked(inputs, masked)
        n_spans = int(span_ids.max()) + 1 if masked.any() else 0
        decision = torch.rand(max(n_spans, 1), generator=rng)
        per_token = decision[span_ids.clamp(min=0)]
        replaced = masked & (per_token < self.mask_replace_prob)
        randomised = masked & ~replaced & (per_token < self.mask_replace_prob + self.random_replace_prob)
        inputs[replaced] = self.tokenizer.mask_token_id
        random_words = torch.randint(len(self.tokenizer), inputs.shape, dtype=inputs.dtype, generator=rng)
        inputs[randomised] = random_words[randomised]
        self._span_ids = None
        return inputs


_COLLATORS = {
    "token": DataCollatorForTokenMasking,
    "span": DataCollatorForSpanMasking,
    "whole_word": DataCollatorForWholeWordMasking,
    "spanbert": DataCollatorForGeometricSpanMasking,
}


def masking_collator(tokenizer, masking: str = "span", mlm_probability: float = CROSSNER_MLM_PROBABILITY,
                     seed: int | None = None, **kwargs) -> DataCollatorForTokenMasking:
    """The collator for ``masking`` (one of :data:`MASKINGS`)."""
    if masking not in _COLLATORS:
        raise ValueError(f"unknown masking {masking!r}; choose one of {', '.join(MASKINGS)}")
    return _COLLATORS[masking](tokenizer=tokenizer, mlm_probability=mlm_probability, seed=seed, **kwargs)
