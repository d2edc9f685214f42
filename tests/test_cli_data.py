"""`nerbert-hf data build/list`: user folders through `iob`, clean failures, downloads."""

import functools
import http.server
import os
import subprocess
import sys
import threading

import pytest
from datasets import load_dataset

from dataset_scripts import DATASETS
from nerbert_hf.builders import build_dataset
from nerbert_hf.cli import main
from nerbert_hf.download import DownloadError, fetch


def run_cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "nerbert_hf.cli", *args], capture_output=True, text=True,
        env={**os.environ, **(env or {})},
    )


def test_iob_folder_any_format(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    # train: label-first, BIOES, CRLF; valid: tab IOB2; test: space-separated IOB1 with a middle column.
    (src / "train.bio").write_bytes(b"S-LOC\tParis\r\nO\tis\r\n\r\nB-PER\tAda\r\nE-PER\tLovelace\r\n")
    (src / "valid.tsv").write_text("Rome\tB-LOC\n")
    (src / "test.conll").write_text("-DOCSTART- -X- O\n\nBerlin NNP I-LOC\nand CC O\nBonn NNP I-LOC\n")
    out = tmp_path / "out"
    assert main(["data", "build", "iob", "--source", str(src), "--output", str(out)]) == 0
    ds = load_dataset(str(out))
    names = ds["train"].features["ner_tags"].feature.names
    assert names == ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
    assert ds["train"]["tokens"] == [["Paris", "is"], ["Ada", "Lovelace"]]
    assert [[names[i] for i in t] for t in ds["train"]["ner_tags"]] == [["B-LOC", "O"], ["B-PER", "I-PER"]]
    assert [[names[i] for i in t] for t in ds["test"]["ner_tags"]] == [["B-LOC", "O", "B-LOC"]]
    card = (out / "README.md").read_text()
    assert "tags converted from BIOES to IOB2" in card and "tags converted from IOB1 to IOB2" in card


def test_iob_folder_train_only_gets_carved_validation(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "train.txt").write_text("".join(f"w{i}\tB-X\n\n" for i in range(20)))
    out = tmp_path / "out"
    assert main(["data", "build", "iob", "--source", str(src), "--output", str(out), "--seed", "3"]) == 0
    ds = load_dataset(str(out))
    assert (ds["train"].num_rows, ds["validation"].num_rows) == (18, 2) and "test" not in ds


def test_iob_format_override(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "train.txt").write_text("O\tB-X\nO\tI-X\n")  # both columns parse as tags
    (src / "dev.txt").write_text("O\tB-X\n")
    out = tmp_path / "out"
    assert main(["data", "build", "iob", "--source", str(src), "--output", str(out), "--label-column", "first"]) == 0
    ds = load_dataset(str(out))
    assert ds["train"]["tokens"] == [["B-X", "I-X"]]
    assert ds["train"].features["ner_tags"].feature.names == ["O"]


@pytest.mark.parametrize(
    "content, message",
    [
        ("a\tO\nb\tO\tx\n", "train.txt:2: 3 tab-separated column(s)"),
        ("a\tO\n\tO\n", "train.txt:2: empty token"),
        ("a\tO\nb\tQ-X\n", "train.txt:2: invalid tag 'Q-X'"),
        (b"a\tO\n\xc3\x28\tO\n", "train.txt:2: undecodable byte(s) c3"),
    ],
)
def test_malformed_file_fails_cleanly(tmp_path, content, message):
    src = tmp_path / "src"
    src.mkdir()
    (src / "dev.txt").write_text("ok\tO\n")
    target = src / "train.txt"
    target.write_bytes(content) if isinstance(content, bytes) else target.write_text(content)
    out = tmp_path / "deep" / "out"
    result = run_cli("data", "build", "iob", "--source", str(src), "--output", str(out))
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists() and not (tmp_path / "deep").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]


def test_error_in_later_file_leaves_nothing(tmp_path, shared_data):
    # A corrupt test file is only read after train and validation were parsed fine.
    src = tmp_path / "re3d"
    src.mkdir()
    (src / "re3d-train.conll").write_bytes((shared_data / "re3d" / "re3d-train.conll").read_bytes())
    (src / "re3d-test.conll").write_text("fine\tO\nbroken\n")
    out = tmp_path / "out"
    result = run_cli("data", "build", "re3d", "--source", str(src), "--output", str(out))
    assert result.returncode == 1 and "re3d-test.conll:2: 1 tab-separated column(s)" in result.stderr
    assert not out.exists()


def test_existing_output_needs_overwrite(tmp_path, shared_data):
    out = tmp_path / "out"
    args = ["data", "build", "re3d", "--source", str(shared_data / "re3d"), "--output", str(out)]
    assert main(args) == 0
    stamp = (out / "README.md").stat().st_mtime_ns
    assert main(args) == 1  # refused, old folder untouched
    assert (out / "README.md").stat().st_mtime_ns == stamp
    assert main(args + ["--overwrite", "--seed", "7"]) == 0
    assert load_dataset(str(out))["validation"].num_rows == 76
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temp or old folders left


def test_missing_raw_file_named(tmp_path):
    src = tmp_path / "fin"
    src.mkdir()
    (src / "FIN5.txt").write_text("a O O O\n")
    result = run_cli("data", "build", "fin", "--source", str(src), "--output", str(tmp_path / "o"))
    assert result.returncode == 1 and "FIN3.txt: missing" in result.stderr and "Traceback" not in result.stderr


def test_offline_download_fails_at_once_suggesting_source(tmp_path):
    out = tmp_path / "o"
    result = run_cli("data", "build", "wnut2017", "--output", str(out),
                     env={"HF_HUB_OFFLINE": "1", "NERBERT_HF_CACHE": str(tmp_path / "cache")})
    assert result.returncode == 1 and "--source" in result.stderr and "offline" in result.stderr
    assert not out.exists()


def test_unknown_dataset_and_config(tmp_path):
    assert main(["data", "build", "nope", "--output", str(tmp_path / "o")]) == 1
    assert main(["data", "build", "crossner", "--config", "cooking", "--source", str(tmp_path),
                 "--output", str(tmp_path / "o")]) == 1
    assert not (tmp_path / "o").exists()


def test_data_list_names_every_dataset(capsys):
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    for name in [*DATASETS, "iob"]:
        assert f"{name} " in out


@pytest.fixture
def http_root(tmp_path, monkeypatch):
    """A loopback HTTP server over a folder, standing in for a dataset's public host."""
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):  # CI runs offline; this server is local
        monkeypatch.delenv(var, raising=False)
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_download_path_builds_from_urls(http_root, tmp_path, shared_data, monkeypatch):
    root, url = http_root
    for name in ("re3d-train.conll", "re3d-test.conll"):
        (root / name).write_bytes((shared_data / "re3d" / name).read_bytes())
    monkeypatch.setenv("NERBERT_HF_CACHE", str(tmp_path / "cache"))
    spec = DATASETS["re3d"]
    local = type(spec)(**{**spec.__dict__, "base_url": url})
    out = build_dataset(local, tmp_path / "out")
    assert load_dataset(str(out))["test"].num_rows == 200
    assert (tmp_path / "cache" / "raw" / "re3d" / "re3d-test.conll").read_bytes() == (root / "re3d-test.conll").read_bytes()


def test_fetch_404_is_a_clear_error_and_leaves_no_file(http_root, tmp_path):
    _, url = http_root
    dest = tmp_path / "dl" / "x.txt"
    with pytest.raises(DownloadError, match="cannot download .*x.txt.*pass --source"):
        fetch(f"{url}/x.txt", dest, hint="pass --source")
    assert not dest.exists() and list(dest.parent.iterdir()) == []
