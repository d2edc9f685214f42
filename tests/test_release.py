"""push_to_hub.py: what a release holds (dry runs), its model card, dataset folders, and the upload itself.

Everything but the upload is tested for real: a tiny BERT fine-tuned by recipes/finetune.py on a small
dataset folder written by the project's own Hub-folder writer. An upload needs the Hub, which these tests
cannot reach, so the upload tests are the one place with a stand-in: a loopback HTTP server that answers
the Hub endpoints huggingface_hub's real client calls (create repo, branch, validate YAML, preupload,
commit, pull request), reached through HF_ENDPOINT. It records what arrives, so the tests check that the
files committed are byte for byte the dry run's and that the token travels only in the Authorization header.
"""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from contextlib import redirect_stdout
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path
from urllib.parse import unquote

import pytest
import torch
import yaml
from datasets import load_dataset
from huggingface_hub import ModelCard
from safetensors.torch import load_file
from test_predict import make_checkpoint
from transformers import pipeline

from nerbert_hf.cards import DatasetCardInfo
from nerbert_hf.errors import NerbertError
from nerbert_hf.hub_folder import write_hub_folder
from nerbert_hf.labels import dataset_labels
from nerbert_hf.model_cards import CardOptions, detokenize, read_training_args
from nerbert_hf.release import push
from nerbert_hf.schema import ConfigData

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "recipes"))
import finetune

TOKEN = "hf_fakeTestToken0123456789abcdefXYZ"
LABELS = dataset_labels("crossner/politics")

PEOPLE = [["Angela", "Merkel"], ["Tony", "Blair"], ["Jacques", "Chirac"], ["Olof", "Palme"], ["Helmut", "Kohl"]]
PARTIES = [["Labour", "Party"], ["Christian", "Democratic", "Union"], ["Social", "Democratic", "Party"]]
COUNTRIES = [["Germany"], ["France"], ["United", "Kingdom"], ["Sweden"]]
ELECTIONS = [["1997", "general", "election"], ["2005", "federal", "election"], ["1982", "election"]]


def entity(words, etype):
    return words, [f"B-{etype}"] + [f"I-{etype}"] * (len(words) - 1)


def sentence(*parts):
    tokens, tags = [], []
    for part in parts:
        words, labels = part if isinstance(part, tuple) else (part.split(), ["O"] * len(part.split()))
        tokens += words
        tags += labels
    return tokens, tags


def politics_sentences(n: int, offset: int):
    out = []
    for i in range(offset, offset + n):
        person, party = PEOPLE[i % len(PEOPLE)], PARTIES[i % len(PARTIES)]
        country, election = COUNTRIES[i % len(COUNTRIES)], ELECTIONS[i % len(ELECTIONS)]
        if i % 2:
            out.append(sentence(entity(person, "politician"), "of the", entity(party, "politicalparty"),
                                "won the", entity(election, "election"), "in", entity(country, "country"), "."))
        else:
            out.append(sentence(entity(person, "politician"), "visited", entity(country, "country"),
                                "before the", entity(election, "election"), "."))
    return out


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory):
    """A small CrossNER-politics-shaped dataset folder, written as `nerbert-hf data build` writes one."""
    splits = {"train": politics_sentences(24, 0), "validation": politics_sentences(6, 24),
              "test": politics_sentences(10, 30)}
    config = ConfigData("politics", LABELS, splits)
    card = DatasetCardInfo(pretty_name="Politics mini", description="Synthetic politics sentences for tests.",
                           source="generated in tests/test_release.py", license="mit")
    return write_hub_folder(tmp_path_factory.mktemp("data") / "politics-mini", [config], card)


@pytest.fixture(scope="module")
def run_dir(dataset_dir, tmp_path_factory):
    """recipes/finetune.py output, with intermediate checkpoints (optimizer states and all) left in it."""
    root = tmp_path_factory.mktemp("release")
    words = {w for tokens, _ in politics_sentences(40, 0) for w in tokens}
    base = make_checkpoint(root / "base", ["O", "B-x", "I-x"], seed=0, max_positions=128, words=words)
    out = root / "run"
    assert finetune.main([str(a) for a in (
        "--model_name_or_path", base, "--dataset_name", dataset_dir, "--dataset_config_name", "politics",
        "--output_dir", out, "--num_train_epochs", 2, "--per_device_train_batch_size", 8, "--learning_rate", 5e-3,
        "--save_strategy", "steps", "--save_steps", 3, "--seed", 1)]) == 0
    assert list(out.glob("checkpoint-*/optimizer.pt")) and (out / "training_args.bin").is_file()
    return out


def files_in(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def card_of(folder: Path) -> tuple[dict, str]:
    text = (folder / "README.md").read_text(encoding="utf-8")
    _, header, body = text.split("---\n", 2)
    return yaml.safe_load(header), body


def quiet_push(*args, **kwargs):
    lines = []
    return push(*args, report=lines.append, **kwargs), lines


# ---------------------------------------------------------------------------------------------------------------
# Checkpoints


def test_dry_run_holds_exactly_the_release(run_dir, tmp_path):
    """The issue's check: a fake HF_TOKEN, a dry run of a finetune.py output; the token is nowhere."""
    staged = tmp_path / "staged"
    env = {**os.environ, "HF_TOKEN": TOKEN}
    result = subprocess.run([sys.executable, str(REPO / "push_to_hub.py"), str(run_dir), "--repo-id", "acme/x",
                             "--dry-run", str(staged)], check=False, capture_output=True, text=True, env=env,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]

    release = files_in(staged)
    source = {p.name for p in run_dir.iterdir() if p.is_file()}
    expected = {"README.md", "config.json", "model.safetensors", "all_results.json"} | (
        source & {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"})
    assert release == expected
    assert "tokenizer.json" in release or "vocab.txt" in release
    for name in release - {"README.md"}:  # copied unchanged
        assert (staged / name).read_bytes() == (run_dir / name).read_bytes(), name
    # Left out, and said so: training leftovers, the pickle, the test data.
    for leftover in ("training_args.bin", "test_predictions.conll", "checkpoint-3/", "checkpoint-6/"):
        assert f"  - {leftover}: " in result.stdout
    assert "nothing was uploaded" in result.stdout

    # The token appears nowhere: not in any staged file, not in the output.
    for path in staged.rglob("*"):
        assert path.is_dir() or TOKEN.encode() not in path.read_bytes()
    assert TOKEN not in result.stdout and TOKEN not in result.stderr

    # The card: the metadata the Hub reads, with the run's own test F1.
    meta, _ = card_of(staged)
    assert meta["pipeline_tag"] == "token-classification" and meta["library_name"] == "transformers"
    results = json.loads((run_dir / "all_results.json").read_text())
    metrics = meta["model-index"][0]["results"][0]["metrics"]
    by_name = {m["name"]: m["value"] for m in metrics}
    assert by_name["F1"] == results["test_f1"] and by_name["F1 (type-ignored)"] == results["test_f1_type_ignored"]

    # The release works: pipeline("ner") on it gives what it gives on the run folder.
    text = "Angela Merkel of the Labour Party won the 1997 general election in France ."
    strip = lambda ents: [(e["entity_group"], e["start"], e["end"], round(float(e["score"]), 5)) for e in ents]
    assert strip(pipeline("ner", model=str(staged), aggregation_strategy="first")(text)) == \
        strip(pipeline("ner", model=str(run_dir), aggregation_strategy="first")(text))


def test_model_card(run_dir, tmp_path):
    staged = tmp_path / "staged"
    scores = tmp_path / "scores.json"
    results = json.loads((run_dir / "all_results.json").read_text())
    # Shaped as recipes/evaluate.py writes it: this checkpoint on its own test set and on one more.
    own = {k[5:]: v for k, v in results.items() if k.startswith("test_") and k != "test_per_type"}
    scores.write_text(json.dumps({"scores": [
        {"checkpoint": str(run_dir), "dataset": "data/crossner", "config": "politics", "split": "test",
         "test_set": "crossner/politics", **own},
        {"checkpoint": str(run_dir), "dataset": "acme/crossner", "config": "science", "split": "test",
         "test_set": "crossner/science", "f1": 0.125, "f1_type_ignored": 0.5, "precision": 0.25, "recall": 0.0833},
        {"checkpoint": "some/other/run", "dataset": "acme/crossner", "config": "music", "split": "test", "f1": 0.9},
    ]}))
    options = CardOptions(repo_id="acme/politics-ner", base_model="bert-base-cased", license="mit",
                          datasets=[("acme/politics-mini", "politics")], eval_scores=scores)
    quiet_push(run_dir, "acme/politics-ner", options, dry_run=staged)
    meta, body = card_of(staged)
    card = ModelCard((staged / "README.md").read_text())  # huggingface_hub parses what it wrote

    assert meta["base_model"] == "bert-base-cased" and meta["datasets"] == ["acme/politics-mini"]
    assert meta["license"] == "mit" and meta["language"] == ["en"]
    assert {"token-classification", "ner", "nerbert-hf", "crossner", "target"} <= set(meta["tags"])
    # model-index: every test metric of the run on its test set, then the further test set from scores.json.
    sets = meta["model-index"][0]["results"]
    assert [(s["dataset"]["type"], s["dataset"]["config"], s["dataset"]["split"]) for s in sets] == \
        [("acme/politics-mini", "politics", "test"), ("acme/crossner", "science", "test")]
    assert sets[0]["dataset"]["name"] == "CrossNER (politics)"  # recognised from the label list
    recorded = {(r.metric_name, r.dataset_config): r.metric_value for r in card.data.eval_results}
    for key, name in (("test_f1", "F1"), ("test_precision", "Precision"), ("test_recall", "Recall"),
                      ("test_f1_type_ignored", "F1 (type-ignored)"), ("test_macro_f1", "Macro F1"),
                      ("test_precision_type_ignored", "Precision (type-ignored)")):
        assert recorded[(name, "politics")] == results[key]
    assert recorded[("F1", "science")] == 0.125 and recorded[("F1 (type-ignored)", "science")] == 0.5
    # widget: sentences of the test set, as running text.
    test_sentences = [[line.split("\t")[0] for line in block.splitlines()]
                      for block in (run_dir / "test_predictions.conll").read_text().strip().split("\n\n")]
    widget = [w["text"] for w in meta["widget"]]
    assert 1 <= len(widget) <= 3 and set(widget) <= {detokenize(words) for words in test_sentences}

    # The body: label table with per-type F1, hyperparameters from the run, citations.
    for etype, score in results["test_per_type"].items():
        row = next(line for line in body.splitlines() if line.startswith(f"| {etype} |"))
        assert f"{100 * score['f1']:.2f}" in row and f"`B-{etype}`" in row
    for etype in {label[2:] for label in LABELS if label != "O"}:
        assert f"| {etype} |" in body  # types absent from the test set are listed too
    politician = next(line for line in body.splitlines() if line.startswith("| politician |"))
    assert politician.endswith('| "Angela Merkel", "Tony Blair", "Jacques Chirac" |')  # gold test entities
    args = read_training_args(run_dir / "training_args.bin")
    assert args["learning_rate"] == 5e-3 and "| `learning_rate` | `0.005` |" in body
    assert "| `per_device_train_batch_size` | `8` |" in body and "| `seed` | `1` |" in body
    assert "output_dir" not in body and str(run_dir) not in body  # no local paths
    for citation in ("liu2021nerbert", "liu2021crossner", "ushio-camacho-collados-2021-ner"):
        assert citation in body
    assert "crossner/science" in body  # the further test set in the results table

    # The usage snippet runs as written (pointed at the staged folder instead of the Hub).
    snippet = re.search(r"```python\n(.*?)```", body, re.DOTALL).group(1)
    assert 'pipeline("ner", model="acme/politics-ner", aggregation_strategy="first")' in snippet
    printed = StringIO()
    with redirect_stdout(printed):
        exec(snippet.replace('"acme/politics-ner"', repr(str(staged))), {})  # noqa: S102 (the card's own code)
    assert printed.getvalue().strip(), "the snippet prints the entities it finds"


def test_bin_weights_are_converted_to_safetensors(run_dir, tmp_path):
    folder = tmp_path / "bin-run"
    shutil.copytree(run_dir, folder, ignore=shutil.ignore_patterns("checkpoint-*"))
    weights = load_file(folder / "model.safetensors")
    torch.save(weights, folder / "pytorch_model.bin")
    (folder / "model.safetensors").unlink()
    _, lines = quiet_push(folder, "acme/x", dry_run=tmp_path / "staged")
    release = files_in(tmp_path / "staged")
    assert "model.safetensors" in release and not any(name.endswith(".bin") for name in release)
    converted = load_file(tmp_path / "staged" / "model.safetensors")
    assert converted.keys() == weights.keys() and all(torch.equal(converted[k], weights[k]) for k in weights)
    assert any("pytorch_model.bin: converted to safetensors" in line for line in lines)

    # A .bin that holds more than tensors is refused (torch.load(weights_only=True) will not unpickle it).
    torch.save({"weights": weights, "extra": NerbertError("x")}, folder / "pytorch_model.bin")
    with pytest.raises(NerbertError, match="only safetensors"):
        quiet_push(folder, "acme/x", dry_run=tmp_path / "refused")
    assert not (tmp_path / "refused").exists()


def test_checkpoint_errors(run_dir, tmp_path):
    with pytest.raises(NerbertError, match="no such folder"):
        quiet_push(tmp_path / "missing", "acme/x", dry_run=tmp_path / "s0")
    seeds = tmp_path / "seeds"
    shutil.copytree(run_dir, seeds / "seed-1", ignore=shutil.ignore_patterns("checkpoint-*"))
    (seeds / "all_results.json").write_text(json.dumps({"seeds": [1]}))
    with pytest.raises(NerbertError, match="multi-seed run.*seed-1"):
        quiet_push(seeds, "acme/x", dry_run=tmp_path / "s1")
    # A seed's card reports the spread over the seeds.
    (seeds / "all_results.json").write_text(json.dumps({"seeds": [1, 2], "test_f1_mean": 0.5, "test_f1_std": 0.1}))
    quiet_push(seeds / "seed-1", "acme/x", dry_run=tmp_path / "s2")
    assert "50.00 ± 10.00" in card_of(tmp_path / "s2")[1]

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("x")
    with pytest.raises(NerbertError, match="not empty"):
        quiet_push(run_dir, "acme/x", dry_run=busy)
    with pytest.raises(NerbertError, match="--create-pr"):
        quiet_push(run_dir, "acme/x", create_pr=True, revision="dev", dry_run=tmp_path / "s3")
    with pytest.raises(NerbertError, match="OWNER/NAME"):
        quiet_push(run_dir, "not a repo", dry_run=tmp_path / "s4")

    no_tokenizer = tmp_path / "no-tokenizer"
    shutil.copytree(run_dir, no_tokenizer, ignore=shutil.ignore_patterns("checkpoint-*", "tokenizer*", "vocab*"))
    with pytest.raises(NerbertError, match="no tokenizer"):
        quiet_push(no_tokenizer, "acme/x", dry_run=tmp_path / "s5")
    no_labels = tmp_path / "no-labels"
    shutil.copytree(run_dir, no_labels, ignore=shutil.ignore_patterns("checkpoint-*"))
    config = json.loads((no_labels / "config.json").read_text())
    config["id2label"] = {str(i): f"LABEL_{i}" for i in range(len(LABELS))}
    (no_labels / "config.json").write_text(json.dumps(config))
    with pytest.raises(NerbertError, match="no label names"):
        quiet_push(no_labels, "acme/x", dry_run=tmp_path / "s6")
    for staged in ("s0", "s1", "s3", "s4", "s5", "s6"):
        assert not (tmp_path / staged).exists()  # a refused release leaves nothing staged


def test_masked_lm_checkpoint(tmp_path):
    """A pretraining or DAPT checkpoint (masked LM) gets a fill-mask card, with no NER sections."""
    from transformers import BertForMaskedLM

    folder = make_checkpoint(tmp_path / "mlm", ["O", "B-x", "I-x"])
    BertForMaskedLM.from_pretrained(folder).save_pretrained(folder)
    (tmp_path / "staged").mkdir()  # an empty folder is a fine --dry-run target
    quiet_push(folder, "acme/mlm", CardOptions(repo_id="acme/mlm", base_model="bert-base-cased"),
               dry_run=tmp_path / "staged")
    meta, body = card_of(tmp_path / "staged")
    assert meta["pipeline_tag"] == "fill-mask" and "model-index" not in meta and "widget" not in meta
    assert 'pipeline("fill-mask", model="acme/mlm")' in body and "## Labels" not in body


def test_training_args_are_read_without_running_the_pickle(tmp_path):
    class Payload:
        def __reduce__(self):
            return os.mkdir, (str(tmp_path / "code-ran"),)

    torch.save({"learning_rate": 0.1, "trap": Payload()}, tmp_path / "training_args.bin")
    assert read_training_args(tmp_path / "training_args.bin") == {}  # not a TrainingArguments: nothing used
    assert not (tmp_path / "code-ran").exists()
    (tmp_path / "garbage.bin").write_bytes(b"not a zip")
    assert read_training_args(tmp_path / "garbage.bin") == {}


def test_token_in_a_file_is_refused(run_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    folder = tmp_path / "leaky"
    shutil.copytree(run_dir, folder, ignore=shutil.ignore_patterns("checkpoint-*"))
    results = json.loads((folder / "all_results.json").read_text())
    (folder / "all_results.json").write_text(json.dumps({**results, "note": TOKEN}))
    with pytest.raises(NerbertError) as err:
        quiet_push(folder, "acme/x", dry_run=tmp_path / "staged")
    assert "all_results.json contains your Hugging Face token" in str(err.value) and TOKEN not in str(err.value)
    assert not (tmp_path / "staged").exists()


def test_command_line_rejects_local_paths_as_hub_ids(run_dir, tmp_path, capsys):
    import push_to_hub

    assert push_to_hub.main([str(run_dir), "--repo-id", "acme/x", "--dataset", str(run_dir),
                             "--dry-run", str(tmp_path / "s")]) == 1
    assert "give a Hub id" in capsys.readouterr().err and not (tmp_path / "s").exists()


# ---------------------------------------------------------------------------------------------------------------
# Dataset folders


def test_dataset_folder_release(dataset_dir, tmp_path):
    folder = tmp_path / "ds"
    shutil.copytree(dataset_dir, folder)
    (folder / ".cache").mkdir()
    (folder / ".cache" / "junk.arrow").write_text("x")
    (folder / "notes.txt").write_text("scratch")
    (folder / "counts.png").write_bytes(b"\x89PNG figure")  # linked from the card: part of the release
    with open(folder / "README.md", "a", encoding="utf-8") as card:
        card.write("\n![entities per type](counts.png)\n")
    staged, lines = quiet_push(folder, "acme/politics-mini", dry_run=tmp_path / "staged")
    assert staged.kind == "dataset"
    assert files_in(tmp_path / "staged") == {"README.md", "counts.png"} | {
        p.relative_to(dataset_dir).as_posix() for p in dataset_dir.rglob("*.parquet")}
    assert any("notes.txt: not named by the card" in line for line in lines)
    assert any(".cache/: hidden folder" in line for line in lines)
    released = load_dataset(str(tmp_path / "staged"), "politics")
    original = load_dataset(str(dataset_dir), "politics")
    assert {s: released[s]["tokens"] for s in released} == {s: original[s]["tokens"] for s in original}


def test_dataset_card_is_checked(dataset_dir, tmp_path):
    no_card = tmp_path / "no-card"
    shutil.copytree(dataset_dir, no_card)
    (no_card / "README.md").unlink()
    with pytest.raises(NerbertError, match="no README.md dataset card"):
        quiet_push(no_card, "acme/d", dry_run=tmp_path / "s1")
    no_configs = tmp_path / "no-configs"
    shutil.copytree(dataset_dir, no_configs)
    text = (no_configs / "README.md").read_text()
    meta, body = card_of(no_configs)
    meta.pop("configs")
    (no_configs / "README.md").write_text(f"---\n{yaml.safe_dump(meta)}---\n{body}")
    with pytest.raises(NerbertError, match="no `configs:`"):
        quiet_push(no_configs, "acme/d", dry_run=tmp_path / "s2")
    missing = tmp_path / "missing-split"
    shutil.copytree(dataset_dir, missing)
    for parquet in (missing / "politics").glob("test-*.parquet"):
        parquet.unlink()
    with pytest.raises(NerbertError, match="split 'test'.*matches no file"):
        quiet_push(missing, "acme/d", dry_run=tmp_path / "s3")
    assert "configs:" in text


# ---------------------------------------------------------------------------------------------------------------
# Upload, against a loopback stand-in of the Hub API (the only way to test it without the Hub)


class StandInHub:
    """Answers the Hub endpoints that HfApi.create_repo / create_branch / upload_folder call, and records them."""

    def __init__(self):
        self.requests, self.repos, self.branches, self.commits, self.prs = [], [], [], [], []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, payload, status=200):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length", "0")))

            def do_GET(self):
                hub.requests.append(("GET", self.path, self.headers.get("Authorization")))
                match = re.match(r"^/api/(model|dataset)s/([^/]+/[^/]+)/discussions/(\d+)", self.path)
                if not match:
                    return self._reply({"error": f"stand-in: no GET {self.path}"}, 404)
                self._reply({"title": "PR", "num": int(match[3]), "author": {"name": "acme"},
                             "createdAt": "2025-01-01T00:00:00.000Z", "status": "draft",
                             "repo": {"name": match[2], "type": match[1]}, "isPullRequest": True, "events": [],
                             "changes": {"base": "refs/heads/main"}, "filesWithConflicts": [], "diff": ""})

            def do_POST(self):
                body = self._body()
                path, _, query = self.path.partition("?")
                hub.requests.append(("POST", self.path, self.headers.get("Authorization")))
                if path == "/api/repos/create":
                    payload = json.loads(body)
                    hub.repos.append(payload)
                    kind = payload.get("type", "model")
                    repo = f"{payload['organization']}/{payload['name']}"
                    return self._reply({"url": f"{hub.url}/{'datasets/' if kind == 'dataset' else ''}{repo}",
                                        "name": repo})
                if path == "/api/validate-yaml":
                    content = json.loads(body)["content"]
                    yaml.safe_load(content.split("---\n")[1])  # malformed YAML would fail the test here
                    return self._reply({"errors": [], "warnings": []})
                match = re.match(r"^/api/(model|dataset)s/([^/]+/[^/]+)/(preupload|commit|branch)/(.+)$", path)
                if match:
                    kind, repo, action, revision = match[1], match[2], match[3], unquote(match[4])
                    if action == "branch":
                        hub.branches.append((kind, repo, revision))
                        return self._reply({})
                    if action == "preupload":  # every file inline in the commit: no LFS / Xet storage needed
                        files = json.loads(body)["files"]
                        return self._reply({"files": [{"path": f["path"], "uploadMode": "regular",
                                                       "shouldIgnore": False} for f in files]})
                    lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
                    files = {item["value"]["path"]: base64.b64decode(item["value"]["content"])
                             for item in lines if item["key"] == "file"}
                    hub.commits.append({"kind": kind, "repo": repo, "revision": revision, "query": query,
                                        "summary": lines[0]["value"]["summary"], "files": files})
                    return self._reply({"commitUrl": f"{hub.url}/{repo}/commit/{'a' * 40}", "commitOid": "a" * 40,
                                        "pullRequestUrl": None})
                match = re.match(r"^/api/(model|dataset)s/([^/]+/[^/]+)/discussions$", path)
                if match:
                    hub.prs.append((match[1], match[2], json.loads(body)))
                    return self._reply({"num": len(hub.prs)})
                self._reply({"error": f"stand-in: no POST {self.path}"}, 404)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hub(monkeypatch):
    """The stand-in Hub, with this process's huggingface_hub pointed at it and online."""
    from huggingface_hub import constants

    with StandInHub() as stand_in:
        monkeypatch.setattr(constants, "ENDPOINT", stand_in.url)
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setenv("HF_TOKEN", TOKEN)
        yield stand_in


def test_upload_commits_the_dry_run_files(run_dir, tmp_path):
    """push_to_hub.py end to end in a fresh process: HF_ENDPOINT + HF_TOKEN from the environment."""
    quiet_push(run_dir, "acme/x", dry_run=tmp_path / "dry")
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    with StandInHub() as hub:
        env.update(HF_ENDPOINT=hub.url, HF_TOKEN=TOKEN, HF_HOME=str(tmp_path / "hf-home"))
        result = subprocess.run(
            [sys.executable, str(REPO / "push_to_hub.py"), str(run_dir), "--repo-id", "acme/x", "--private",
             "--revision", "dev", "--commit-message", "Release 1"],
            check=False, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert hub.repos == [{"name": "x", "organization": "acme", "visibility": "private", "type": "model"}]
    assert hub.branches == [("model", "acme/x", "dev")]
    [commit] = hub.commits
    assert (commit["repo"], commit["revision"], commit["summary"]) == ("acme/x", "dev", "Release 1")
    assert commit["files"] == {name: (tmp_path / "dry" / name).read_bytes() for name in files_in(tmp_path / "dry")}
    # The token went to the Hub in the Authorization header of every request, and nowhere else.
    # (huggingface_hub also fetches a public registry, /api/agent-harnesses, without any token.)
    api_calls = [(path, auth) for method, path, auth in hub.requests if method == "POST"]
    assert len(api_calls) >= 4 and all(auth == f"Bearer {TOKEN}" for _, auth in api_calls)
    assert all(auth in (None, f"Bearer {TOKEN}") for _, _, auth in hub.requests)
    assert all(TOKEN.encode() not in content for content in commit["files"].values())
    assert TOKEN not in result.stdout and TOKEN not in result.stderr
    assert f"uploaded {len(commit['files'])} file(s)" in result.stdout
    assert not list(run_dir.parent.glob(".nerbert-push-*"))  # the scratch folder is gone


def test_upload_as_pull_request_and_dataset(run_dir, dataset_dir, hub, capsys):
    push(run_dir, "acme/x", create_pr=True)
    [pr] = hub.prs
    assert pr[:2] == ("model", "acme/x")
    [commit] = hub.commits
    assert commit["revision"] == "refs/pr/1" and "README.md" in commit["files"]
    assert "pull request:" in capsys.readouterr().out

    push(dataset_dir, "acme/politics-mini", commit_message="Data")
    assert hub.repos[-1]["type"] == "dataset"
    commit = hub.commits[-1]
    assert (commit["kind"], commit["repo"], commit["revision"], commit["summary"]) == \
        ("dataset", "acme/politics-mini", "main", "Data")
    assert set(commit["files"]) == files_in(dataset_dir)


def test_upload_needs_a_token_and_the_network(run_dir, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(NerbertError, match="HF_HUB_OFFLINE is set.*--dry-run"):
        quiet_push(run_dir, "acme/x")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    with pytest.raises(NerbertError, match="no Hugging Face token"):
        quiet_push(run_dir, "acme/x")
