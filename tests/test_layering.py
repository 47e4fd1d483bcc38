"""The layers hold: store imports neither tui nor sync (nor textual); sync imports store only."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_top_levels(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(path.name)
    return found


@pytest.mark.parametrize(("package", "forbidden"), [
    ("store", {"tui", "sync", "textual", "rich"}),
    ("sync", {"tui", "textual", "rich"}),
])
def test_lower_layers_do_not_import_upper_ones(package: str, forbidden: set[str]) -> None:
    imports = imported_top_levels(package)
    assert not forbidden & imports.keys(), {name: imports[name] for name in forbidden & imports.keys()}


def test_importing_the_store_loads_no_ui_code() -> None:
    code = ("import sys, store, store.database, store.imports, store.demo; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'textual', 'tui', 'sync', 'rich'}); "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
