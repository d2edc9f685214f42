"""Domain-adaptive pre-training (CrossNER): masked-LM training of an encoder on a domain corpus.

The corpus (a text file, one paragraph or sentence per line, or a ``datasets`` folder such as
``nerbert-hf dapt corpus``'s levels) is tokenised without special tokens, concatenated, and cut into
contiguous blocks of ``max_seq_length`` tokens, each wrapped in the tokenizer's special tokens
(``[CLS] ... [SEP]``), as CrossNER's ``TextDataset`` did with 512-token blocks. Each group of
``group_lines`` lines is cut on its own, and its last, shorter block is kept (padded in its batch)
rather than dropped. The collator masks with ``--masking`` (:mod:`nerbert_hf.collators`), CrossNER's
span-level masking by default with its ``mlm_probability`` of 0.2. The output folder holds the
encoder with its MLM head (``AutoModelForMaskedLM``), the tokenizer and ``all_results.json``; it is a
``--model_name_or_path`` for ``recipes/finetune.py`` as it is.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForMaskedLM, AutoTokenizer, Trainer, set_seed

from .collators import CROSSNER_MLM_PROBABILITY, MASKINGS, masking_collator
from .errors import NerbertError
from .training import override, write_json

logger = logging.getLogger(__name__)

# TrainingArguments defaults of the DAPT recipe (on top of transformers'): no logging service assumed.
DAPT_DEFAULTS = {"report_to": "none"}
_TEXT_BUILDERS = {".txt": "text", ".text": "text", ".json": "json", ".jsonl": "json", ".csv": "csv",
                  ".parquet": "parquet"}


@dataclass
class DaptModelArguments:
    model_name_or_path: str = field(
        default="bert-base-cased", metadata={"help": "Encoder to pre-train further: a Hub id or a local folder."}
    )
    tokenizer_name: str | None = field(default=None, metadata={"help": "Tokenizer, if not the model's."})
    predict_masked_only: bool = field(
        default=True, metadata={"help": "Run the MLM head on the masked positions only (the same loss, faster: "
                                        "the vocabulary projection is a large part of a small encoder's step)."}
    )


@dataclass
class DaptDataArguments:
    train_file: str | None = field(
        default=None, metadata={"help": "Domain corpus: a text file, one paragraph or sentence per line "
                                        "(.json/.jsonl/.csv/.parquet with a text column also work)."}
    )
    dataset_name: str | None = field(
        default=None, metadata={"help": "Domain corpus as a datasets folder (e.g. `nerbert-hf dapt corpus`) or Hub id."}
    )
    dataset_config_name: str | None = field(
        default=None, metadata={"help": "Config of --dataset_name, e.g. integrated, entity, task."}
    )
    text_column: str = field(default="text", metadata={"help": "Column holding the text."})
    validation_file: str | None = field(
        default=None, metadata={"help": "Held-out text (same formats as --train_file): eval loss and perplexity."}
    )
    masking: str = field(
        default="span", metadata={"help": "token (BERT) | span (CrossNER) | whole_word | spanbert (SpanBERT).",
                                  "choices": list(MASKINGS)}
    )
    mlm_probability: float = field(
        default=CROSSNER_MLM_PROBABILITY, metadata={"help": "Share of tokens masked (CrossNER's DAPT used 0.2)."}
    )
    max_seq_length: int | None = field(
        default=None, metadata={"help": "Block length in tokens, special tokens included (default: the model's, "
                                        "at most 512, as CrossNER)."}
    )
    group_lines: int = field(default=1000, metadata={"help": "Lines concatenated and cut into blocks together."})
    max_train_samples: int | None = field(default=None, metadata={"help": "Keep the first N lines (quick runs)."})
    preprocessing_num_workers: int | None = field(default=None, metadata={"help": "Processes for tokenisation."})


def mlm_head(model) -> torch.nn.Module | None:
    """The module mapping hidden states to vocabulary logits: ``cls`` (BERT family) or ``lm_head`` (RoBERTa family)."""
    for name in ("cls", "lm_head"):
        head = getattr(model, name, None)
        if isinstance(head, torch.nn.Module):
            return head
    return None


class MaskedLMTrainer(Trainer):
    """A ``Trainer`` that runs the MLM head on the masked positions only.

    The loss is the same as the model's own (cross-entropy over positions whose label is not
    -100), but the vocabulary projection, a large part of a small encoder's step, is computed for
    the ~20% masked positions instead of all of them (MiniLM, 8 x 512 tokens, CPU: 1.4x faster
    steps). A forward pre-hook on the head selects those positions, so the model still runs
    through its (DDP/FSDP) wrapper. Models without a ``cls``
    or ``lm_head`` module, and multi-GPU ``DataParallel``, fall back to the stock loss.
    """

    def __init__(self, *args, predict_masked_only: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self._positions = None
        head = mlm_head(self.model) if predict_masked_only else None
        self._sparse = head is not None and self.args.n_gpu <= 1
        if self._sparse:
            head.register_forward_pre_hook(self._select_positions)

    def _select_positions(self, module, args):
        if self._positions is None:
            return None
        return (args[0][self._positions], *args[1:])

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if not self._sparse or "labels" not in inputs:
            self.loss_is_scaled_for_ga = None
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        inputs = dict(inputs)
        labels = inputs.pop("labels")
        positions = labels.ne(-100)
        self._positions = positions
        try:
            outputs = model(**inputs)
        finally:
            self._positions = None
        logits = outputs["logits"] if isinstance(outputs, dict) else outputs[0]
        loss = torch.nn.functional.cross_entropy(logits.float(), labels[positions], reduction="sum")
        if num_items_in_batch is not None:
            # (a batch with no masked position at all contributes 0, not 0/0)
            loss = loss / (num_items_in_batch.clamp(min=1) if torch.is_tensor(num_items_in_batch)
                           else max(num_items_in_batch, 1))
            if self.args.average_tokens_across_devices:
                loss = loss * (self.accelerator.num_processes // self.get_tp_size())
            self.loss_is_scaled_for_ga = True
        else:
            loss = loss / positions.sum().clamp(min=1)
            self.loss_is_scaled_for_ga = False
        return (loss, outputs) if return_outputs else loss


def _check_file(path: str, what: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise NerbertError(f"{what} {path!r} not found")
    if p.suffix.lower() not in _TEXT_BUILDERS:
        raise NerbertError(f"{what} {path!r}: unknown format {p.suffix!r}; use {', '.join(sorted(_TEXT_BUILDERS))}")
    return p


def _load_text(data_args: DaptDataArguments):
    """The train (and validation) text as ``datasets``, with only ``text_column`` kept and empty rows removed."""
    from datasets import DatasetDict, load_dataset

    column = data_args.text_column
    try:
        if data_args.train_file:
            files = {"train": str(_check_file(data_args.train_file, "train file"))}
            if data_args.validation_file:
                files["validation"] = str(_check_file(data_args.validation_file, "validation file"))
            builder = _TEXT_BUILDERS[Path(files["train"]).suffix.lower()]
            if any(_TEXT_BUILDERS[Path(f).suffix.lower()] != builder for f in files.values()):
                raise NerbertError("--train_file and --validation_file must have the same format")
            raw = load_dataset(builder, data_files=files)
            if builder == "text":
                column = "text"
        else:
            raw = load_dataset(data_args.dataset_name, data_args.dataset_config_name)
            if "train" not in raw:
                raise NerbertError(f"dataset {data_args.dataset_name!r} has no train split (it has {list(raw)})")
            if data_args.validation_file:
                raw["validation"] = load_dataset(
                    _TEXT_BUILDERS[_check_file(data_args.validation_file, "validation file").suffix.lower()],
                    data_files={"validation": data_args.validation_file})["validation"]
    except (FileNotFoundError, ValueError) as err:
        source = data_args.train_file or data_args.dataset_name
        raise NerbertError(f"cannot load the corpus {source!r}: {err}") from None
    out = DatasetDict()
    for split in ("train", "validation"):
        if split not in raw:
            continue
        part = raw[split]
        if column not in part.column_names:
            raise NerbertError(f"corpus split {split!r} has no column {column!r} (it has {part.column_names}); "
                               "set --text_column")
        part = part.select_columns([column])
        if column != "text":
            part = part.rename_column(column, "text")
        part = part.filter(lambda rows: [bool(t and t.strip()) for t in rows["text"]], batched=True,
                           desc=f"Dropping empty {split} lines")
        if split == "train" and data_args.max_train_samples is not None:
            part = part.select(range(min(len(part), data_args.max_train_samples)))
        out[split] = part
    if len(out["train"]) == 0:
        raise NerbertError(f"the corpus {data_args.train_file or data_args.dataset_name!r} holds no text")
    return out


def special_token_frame(tokenizer) -> tuple[list[int], list[int]]:
    """The ids a tokenizer puts before and after a single sequence (``[CLS]`` / ``[SEP]`` for BERT)."""
    probe = tokenizer("a", add_special_tokens=False)["input_ids"]
    framed = tokenizer("a")["input_ids"]
    for start in range(len(framed) - len(probe) + 1):
        if framed[start:start + len(probe)] == probe:
            return framed[:start], framed[start + len(probe):]
    raise NerbertError(f"{type(tokenizer).__name__}: cannot tell where its special tokens go")


def group_into_blocks(token_lists: list[list[int]], block_length: int, prefix: list[int], suffix: list[int]):
    """Concatenate ``token_lists`` and cut them into ``prefix + chunk + suffix`` blocks of ``block_length``
    tokens; the last block holds what is left (shorter), none if nothing is."""
    content = block_length - len(prefix) - len(suffix)
    if content < 1:
        raise NerbertError(f"--max_seq_length {block_length} leaves no room beside {len(prefix) + len(suffix)} "
                           "special tokens")
    stream = [i for ids in token_lists for i in ids]
    return [prefix + stream[i:i + content] + suffix for i in range(0, len(stream), content)]


def prepare_blocks(texts, tokenizer, block_length: int, data_args: DaptDataArguments, training_args=None, desc=""):
    """Tokenise ``texts`` (a ``Dataset`` with ``text``) into contiguous blocks (column ``input_ids``)."""
    prefix, suffix = special_token_frame(tokenizer)

    def tokenize(rows):
        return {"ids": tokenizer(rows["text"], add_special_tokens=False, return_attention_mask=False,
                                 return_token_type_ids=False)["input_ids"]}

    def group(rows):
        return {"input_ids": group_into_blocks(rows["ids"], block_length, prefix, suffix)}

    def run():
        tokenized = texts.map(tokenize, batched=True, remove_columns=texts.column_names,
                              num_proc=data_args.preprocessing_num_workers, desc=f"Tokenizing {desc}")
        return tokenized.map(group, batched=True, batch_size=data_args.group_lines, remove_columns=["ids"],
                             num_proc=data_args.preprocessing_num_workers,
                             desc=f"Cutting {desc} into {block_length}-token blocks")

    if training_args is not None:
        with training_args.main_process_first(desc=f"preparing {desc}"):
            return run()
    return run()


def block_length_for(model_name: str, tokenizer, requested: int | None) -> int:
    config = AutoConfig.from_pretrained(model_name)
    limit = getattr(config, "max_position_embeddings", None) or 512
    if requested is None:
        return min(512, limit, tokenizer.model_max_length or 512)
    if requested < 2 or requested > limit:
        raise NerbertError(f"--max_seq_length {requested} is outside 2..{limit} (the model's positions)")
    return requested


def run_dapt(model_args: DaptModelArguments, data_args: DaptDataArguments, training_args) -> dict:
    """Pre-train ``model_args.model_name_or_path`` further on the corpus; save it to ``output_dir``; return metrics.

    Every input is checked (corpus found and not empty, masking known, block length possible)
    before anything is written to ``output_dir``.
    """
    if bool(data_args.train_file) == bool(data_args.dataset_name):
        raise NerbertError("give the corpus as --train_file FILE or --dataset_name DIR (one of them)")
    if data_args.masking not in MASKINGS:
        raise NerbertError(f"unknown --masking {data_args.masking!r}; choose one of {', '.join(MASKINGS)}")
    if not 0 < data_args.mlm_probability < 1:
        raise NerbertError(f"--mlm_probability must be in (0, 1), not {data_args.mlm_probability}")
    if data_args.group_lines < 1:
        raise NerbertError("--group_lines must be at least 1")
    set_seed(training_args.seed)
    tokenizer_name = model_args.tokenizer_name or model_args.model_name_or_path
    try:
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_name)
    except (OSError, ValueError) as err:
        raise NerbertError(f"cannot load the tokenizer {tokenizer_name!r}: {err}") from None
    if tokenizer.mask_token is None:
        raise NerbertError(f"the tokenizer of {tokenizer_name!r} has no mask token; it cannot do masked LM")
    try:
        block_length = block_length_for(model_args.model_name_or_path, tokenizer, data_args.max_seq_length)
    except OSError as err:
        raise NerbertError(f"cannot load the model config {model_args.model_name_or_path!r}: {err}") from None
    # Fails early (e.g. whole-word masking on a vocabulary without word marks), before the corpus is read.
    collator = masking_collator(tokenizer, data_args.masking, data_args.mlm_probability, seed=training_args.seed)
    if data_args.masking in ("whole_word", "spanbert"):
        from .collators import word_start_table

        word_start_table(tokenizer)

    texts = _load_text(data_args)
    train = prepare_blocks(texts["train"], tokenizer, block_length, data_args, training_args, "train")
    validation = (prepare_blocks(texts["validation"], tokenizer, block_length, data_args, training_args, "validation")
                  if "validation" in texts else None)
    if len(train) == 0:
        raise NerbertError(f"the corpus {data_args.train_file or data_args.dataset_name!r} gives no tokens")
    n_tokens = sum(len(ids) for ids in train["input_ids"])
    logger.info("train: %d lines -> %d blocks of up to %d tokens (%d tokens), masking %s at %.2f",
                len(texts["train"]), len(train), block_length, n_tokens, data_args.masking, data_args.mlm_probability)

    try:
        model = AutoModelForMaskedLM.from_pretrained(model_args.model_name_or_path)
    except (OSError, ValueError) as err:
        raise NerbertError(f"cannot load {model_args.model_name_or_path!r} as a masked LM: {err}") from None
    if len(tokenizer) > model.get_input_embeddings().num_embeddings:
        model.resize_token_embeddings(len(tokenizer))

    # Evaluation reports the loss only: per-position vocabulary logits of a corpus need not sit in memory.
    training_args = override(training_args, prediction_loss_only=True)
    trainer = MaskedLMTrainer(model=model, args=training_args, train_dataset=train, eval_dataset=validation,
                              processing_class=tokenizer, data_collator=collator,
                              predict_masked_only=model_args.predict_masked_only)
    result = trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    output_dir = Path(training_args.output_dir)
    trainer.save_model(str(output_dir))
    tokenizer.save_pretrained(str(output_dir))
    metrics = dict(result.metrics)
    metrics.update({
        "masking": data_args.masking, "mlm_probability": data_args.mlm_probability, "max_seq_length": block_length,
        "train_lines": len(texts["train"]), "train_blocks": len(train), "train_tokens": n_tokens,
        "model_name_or_path": model_args.model_name_or_path,
    })
    if validation is not None and len(validation):
        # A fixed seed for the masks of evaluation, so perplexities of several runs compare.
        trainer.data_collator = masking_collator(tokenizer, data_args.masking, data_args.mlm_probability, seed=0)
        eval_metrics = trainer.evaluate()
        metrics.update(eval_metrics)
        metrics["perplexity"] = math.exp(eval_metrics["eval_loss"]) if eval_metrics["eval_loss"] < 700 else math.inf
    if trainer.is_world_process_zero():
        write_json(output_dir / "all_results.json", metrics)
    return metrics
