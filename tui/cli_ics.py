"""`dealdeck import/export FORMAT`: added by the next commits."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def add_parsers(imp_kinds: argparse._SubParsersAction, exp_kinds: argparse._SubParsersAction,
                common: Callable[..., None]) -> None:
    """Add this format's `import` and/or `export` subcommands."""
