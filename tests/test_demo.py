"""`nerbert-hf demo`: the page driven in headless Chromium, its JSON API, and the command.

The browser is Debian's ``chromium``, driven over the DevTools protocol through
``--remote-debugging-pipe`` (JSON messages on file descriptors 3 and 4): no
chromedriver, no selenium, no package beyond the standard library. The browser
test is skipped, with the reason, only when no Chromium is installed.
"""

import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import pytest
from test_predict import make_checkpoint

from nerbert_hf.demo import DemoApp, make_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
TEXT = "Angela Merkel met Emmanuel Macron in Berlin and visited London."


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    first = make_checkpoint(root / "people", ["O", "B-person", "I-person"], seed=1)
    second = make_checkpoint(root / "places", ["O", "B-person", "I-person", "B-location", "I-location", "B-city",
                                               "I-city"], seed=2)
    return DemoApp([str(first), str(second)])


@pytest.fixture(scope="module")
def url(app):
    server = make_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def post(url, payload: bytes):
    request = urllib.request.Request(url + "api/ner", data=payload, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _above_nine(fd: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return moved


class Chromium:
    """Headless Chromium over the DevTools protocol on a pipe (fd 3: commands in, fd 4: replies out)."""

    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="nerbert-chromium-")
        cmd_read, self.cmd_write = os.pipe()
        self.out_read, out_write = os.pipe()
        # Move the child's ends above 9 so that bash's 3<& / 4>& redirections cannot overwrite them (dash takes no fd
        # above 9, hence bash).
        cmd_read, out_write = (_above_nine(fd) for fd in (cmd_read, out_write))
        self.process = subprocess.Popen(
            ["bash", "-c", f'exec "$0" "$@" 3<&{cmd_read} 4>&{out_write}', CHROMIUM, "--headless", "--no-sandbox",
             "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run",
             "--disable-extensions", "--disable-sync", f"--user-data-dir={self.profile}", "--remote-debugging-pipe",
             "about:blank"],
            pass_fds=(cmd_read, out_write), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(cmd_read)
        os.close(out_write)
        self.buffer, self.next_id, self.session = b"", 0, None

    def send(self, method: str, params: dict | None = None, *, timeout: float = 30) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if self.session and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self.session
        os.write(self.cmd_write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self.next_id:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply["result"]
            ready, _, _ = select.select([self.out_read], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError(f"Chromium did not answer {method} within {timeout} s")
            chunk = os.read(self.out_read, 1 << 16)
            if not chunk:
                raise EOFError("Chromium closed the DevTools pipe")
            self.buffer += chunk

    def open(self, url: str) -> None:
        target = self.send("Target.createTarget", {"url": url})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise TimeoutError(f"page never satisfied: {expression}")

    def close(self):
        try:
            self.send("Browser.close", timeout=10)
        except (OSError, TimeoutError, EOFError, RuntimeError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self.cmd_write)
        os.close(self.out_read)
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture
def browser():
    if CHROMIUM is None:
        pytest.skip("no Chromium found (apt-get install chromium); the demo page's browser test needs one")
    chromium = Chromium()
    yield chromium
    chromium.close()


READ_MARKS = """[...document.querySelectorAll('#output mark.ent')].map(m => ({
    text: m.querySelector('.text').textContent, type: m.dataset.type, score: Number(m.dataset.score),
    start: Number(m.dataset.start), end: Number(m.dataset.end), label: m.querySelector('.tag').textContent,
    shown: m.querySelector('.score').textContent, background: getComputedStyle(m).backgroundColor}))"""


def test_page_highlights_entities_by_type_with_scores(app, url, browser):
    """Paste text, pick the second checkpoint, click: the page shows that checkpoint's entities, coloured by type."""
    browser.open(url)
    browser.wait_for("document.readyState === 'complete' && document.querySelectorAll('#model option').length === 2")
    browser.evaluate(f"""(() => {{
        document.getElementById('text').value = {json.dumps(TEXT)};
        const select = document.getElementById('model');
        select.value = '1';
        select.dispatchEvent(new Event('change'));
        document.getElementById('run').click();
    }})()""")
    state = browser.wait_for("['done', 'error'].includes(document.getElementById('status').dataset.state) && "
                             "document.getElementById('status').dataset.state")
    assert state == "done", browser.evaluate("document.getElementById('status').textContent")
    marks = browser.evaluate(READ_MARKS)

    expected = app.taggers[1]([TEXT])[0]
    assert expected, "the seeded checkpoint tags something in TEXT, so there is something to highlight"
    assert [(m["text"], m["type"], m["start"], m["end"]) for m in marks] == \
        [(e["entity"], e["type"], e["start"], e["end"]) for e in expected]
    for mark, entity in zip(marks, expected):
        assert mark["score"] == pytest.approx(entity["score"])
        assert mark["label"] == entity["type"] and mark["shown"] == f"{entity['score']:.2f}"
    # One colour per type: the same type always looks the same, different types differ.
    colour = {}
    for mark in marks:
        assert colour.setdefault(mark["type"], mark["background"]) == mark["background"]
        assert mark["background"] not in ("", "rgba(0, 0, 0, 0)")
    assert len(set(colour.values())) == len(colour)
    # The text around the entities is all there, unchanged.
    assert browser.evaluate("document.getElementById('output').textContent.replace(/(person|location|city)"
                            "\\d\\.\\d\\d/g, '')") == TEXT
    legend = browser.evaluate("[...document.querySelectorAll('#legend span')].map(s => s.textContent)")
    assert legend == ["person", "location", "city"]
    rows = browser.evaluate("document.querySelectorAll('#entities tbody tr').length")
    assert rows == len(expected)

    # Back to the first checkpoint: its own entities replace the others.
    browser.evaluate("""(() => { const s = document.getElementById('model'); s.value = '0';
        s.dispatchEvent(new Event('change')); document.getElementById('status').dataset.state = '';
        document.getElementById('run').click(); })()""")
    browser.wait_for("document.getElementById('status').dataset.state === 'done'")
    marks = browser.evaluate(READ_MARKS)
    assert [(m["text"], m["type"]) for m in marks] == [(e["entity"], e["type"]) for e in app.taggers[0]([TEXT])[0]]
    assert {m["type"] for m in marks} <= {"person"}


def test_page_is_self_contained(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        html = response.read().decode()
        csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp
    assert "http://" not in html and "https://" not in html  # no outside scripts, styles, fonts or images
    assert '<script src' not in html and '<link' not in html


def test_api(url):
    status, body = post(url, json.dumps({"text": TEXT, "model": 1}).encode())
    assert status == 200 and isinstance(body["entities"], list) and body["model"].endswith("places")
    status, body = post(url, json.dumps({"text": "", "model": 0}).encode())
    assert status == 200 and body["entities"] == []
    for payload, needle in ((b"{not json", "Expecting"), (json.dumps({"text": TEXT, "model": 7}).encode(), "model"),
                            (json.dumps({"model": 0}).encode(), "text"),
                            (json.dumps({"text": "x" * 20_001}).encode(), "longer")):
        status, body = post(url, payload)
        assert status == 400 and needle in body["error"]
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(url + "nope", timeout=30)
    assert err.value.code == 404


def test_demo_command_serves_the_page(app, tmp_path):
    """`nerbert-hf demo` loads the checkpoints, prints its address and serves on 127.0.0.1."""
    process = subprocess.Popen(
        [sys.executable, "-m", "nerbert_hf.cli", "demo", "--model", app.names[0], "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("nerbert-hf demo: http://127.0.0.1:"), line
        address = line.split()[2]
        with urllib.request.urlopen(address, timeout=30) as response:
            assert "nerbert-hf" in response.read().decode()
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_bad_checkpoint_fails_before_serving(tmp_path, capsys):
    from nerbert_hf.cli import main

    assert main(["demo", "--model", str(tmp_path / "missing"), "--port", "0"]) == 1
    assert "no such folder" in capsys.readouterr().err
