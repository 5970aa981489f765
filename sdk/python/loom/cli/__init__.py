"""The `loom` command line: init, up, down, run, dev, chat, proto (see loom.cli.main)."""
from .main import build_parser, main

__all__ = ["build_parser", "main"]
