"""The local demo web app of ``nerbert-hf demo`` (see :mod:`nerbert_hf.demo.app`)."""

from .app import DemoApp, make_server, run_demo

__all__ = ["DemoApp", "make_server", "run_demo"]
