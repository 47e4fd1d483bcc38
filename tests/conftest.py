from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from store.database import Store


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def store(folder: Path) -> Iterator[Store]:
    with Store(folder) as opened:
        yield opened
