"""A non-editable install carries every module and data file (a fresh machine runs this)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_wheel_holds_every_package_module_theme_and_stylesheet(tmp_path: Path) -> None:
    # Built the way `pip install .` builds it (isolated, with the declared backend).
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path),
                             str(ROOT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    wheel = next(tmp_path.glob("dealdeck-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {str(p.relative_to(ROOT)) for package in ("store", "sync", "tui", "themes")
                for p in (ROOT / package).rglob("*") if p.suffix in (".py", ".yaml", ".tcss")}
    assert expected <= names, sorted(expected - names)
