"""``nerbert-hf demo``: a local web page to tag pasted text with one of several checkpoints.

The server is the standard library's ``http.server`` (no web framework to install):
one page (``static/index.html``, CSS and JavaScript inline, no outside assets) and a
JSON endpoint, ``POST /api/ner`` with ``{"text": ..., "model": INDEX}``, answered by
the same :class:`~nerbert_hf.predict.Tagger` that ``nerbert-hf predict`` uses. The
checkpoints are loaded once at start-up, so a bad path or an offline Hub id fails
before the page is served. A Content-Security-Policy allows only this page's own
script and style and requests to its own origin.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources

from ..errors import NerbertError
from ..predict import Tagger

logger = logging.getLogger(__name__)

MAX_TEXT_CHARS = 20_000
MAX_BODY_BYTES = 1 << 20


def _csp_hash(page: str, tag: str) -> str:
    """The CSP source of the one inline ``<script>``/``<style>`` element that holds code."""
    blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", page, flags=re.DOTALL)
    return " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'" for b in blocks)


class DemoApp:
    """The checkpoints and the page; :meth:`tag` is the API behind ``POST /api/ner``."""

    def __init__(self, models: list[str], *, device: str | None = None):
        if not models:
            raise NerbertError("give at least one --model")
        self.names = list(dict.fromkeys(models))
        self.taggers = [Tagger(name, device=device) for name in self.names]
        listing = [{"index": i, "name": name, "types": tagger.types}
                   for i, (name, tagger) in enumerate(zip(self.names, self.taggers))]
        template = (resources.files(__package__) / "static" / "index.html").read_text(encoding="utf-8")
        # JSON inside <script>: "<" escaped so that no "</script>" in a name can end the block.
        self.page = template.replace("__MODELS__", json.dumps(listing).replace("<", "\\u003c"))
        self.models = listing
        self.csp = (f"default-src 'none'; script-src {_csp_hash(self.page, 'script')}; "
                    f"style-src {_csp_hash(self.page, 'style')}; connect-src 'self'; img-src 'self' data:; "
                    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

    def tag(self, payload) -> dict:
        if not isinstance(payload, dict) or not isinstance(payload.get("text"), str):
            raise TypeError('expected {"text": "...", "model": index}')
        text, model = payload["text"], payload.get("model", 0)
        if len(text) > MAX_TEXT_CHARS:
            raise ValueError(f"text longer than {MAX_TEXT_CHARS:,} characters")
        if isinstance(model, str) and model in self.names:
            model = self.names.index(model)
        if not isinstance(model, int) or isinstance(model, bool) or not 0 <= model < len(self.taggers):
            raise ValueError(f"model must be an index in 0..{len(self.taggers) - 1} or one of the names given")
        start = time.perf_counter()
        entities = self.taggers[model]([text])[0]
        return {"model": self.names[model], "entities": entities, "seconds": time.perf_counter() - start}


def make_handler(app: DemoApp):
    class Handler(BaseHTTPRequestHandler):
        server_version = "nerbert-hf-demo"
        sys_version = ""

        def log_message(self, fmt, *args):  # requests go to the debug log, not to stderr
            logger.debug("%s %s", self.address_string(), fmt % args)

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            if content_type.startswith("text/html"):
                self.send_header("Content-Security-Policy", app.csp)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, status: int, payload) -> None:
            self._send(status, json.dumps(payload, ensure_ascii=False).encode(), "application/json; charset=utf-8")

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if path in ("/", "/index.html"):
                self._send(HTTPStatus.OK, app.page.encode(), "text/html; charset=utf-8")
            elif path == "/api/models":
                self._json(HTTPStatus.OK, app.models)
            else:
                self._json(HTTPStatus.NOT_FOUND, {"error": f"no page {path}"})

        do_HEAD = do_GET

        def do_POST(self):
            if self.path.split("?", 1)[0] != "/api/ner":
                self._json(HTTPStatus.NOT_FOUND, {"error": f"no endpoint {self.path}"})
                return
            try:
                length = int(self.headers.get("Content-Length", "0"))
            except ValueError:
                length = -1
            if not 0 < length <= MAX_BODY_BYTES:
                self._json(HTTPStatus.BAD_REQUEST if length <= 0 else HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                           {"error": f"a JSON body of at most {MAX_BODY_BYTES:,} bytes is expected"})
                return
            try:
                result = app.tag(json.loads(self.rfile.read(length).decode("utf-8")))
            except (ValueError, TypeError) as err:  # bad JSON, bad UTF-8 (a ValueError), bad fields
                self._json(HTTPStatus.BAD_REQUEST, {"error": str(err)})
                return
            self._json(HTTPStatus.OK, result)

    return Handler


def make_server(app: DemoApp, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    """A threaded HTTP server for ``app`` (port 0 picks a free one: see ``server.server_address``)."""
    try:
        server = ThreadingHTTPServer((host, port), make_handler(app))
    except OSError as err:
        raise NerbertError(f"cannot listen on {host}:{port} ({err.strerror or err})") from None
    server.daemon_threads = True
    return server


def run_demo(models: list[str], host: str = "127.0.0.1", port: int = 8000, device: str | None = None) -> int:
    """``nerbert-hf demo``: load the checkpoints, then serve the page until interrupted."""
    app = DemoApp(models, device=device)
    server = make_server(app, host, port)
    shown = f"[{host}]" if ":" in host else host
    print(f"nerbert-hf demo: http://{shown}:{server.server_address[1]}/ ({len(app.names)} checkpoint(s); "
          "Ctrl-C stops)", flush=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        logger.warning("listening on %s: anyone who can reach this machine can use the demo", host)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
