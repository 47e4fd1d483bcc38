"""Where a data folder lives: ``--data DIR``, else ``$DEALDECK_DATA``, else the user data dir."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def data_folder(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    from_env = os.environ.get("DEALDECK_DATA")
    if from_env:
        return Path(from_env).expanduser()
    return Path(platformdirs.user_data_dir("dealdeck", appauthor=False))
