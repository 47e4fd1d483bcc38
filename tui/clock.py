"""Today's date for the app. ``DEALDECK_TODAY=2026-11-25`` fixes it (tests, screenshots, demos)."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime


def today() -> date:
    fixed = os.environ.get("DEALDECK_TODAY")
    if fixed:
        try:
            return date.fromisoformat(fixed)
        except ValueError:
            pass
    return datetime.now(UTC).date()
