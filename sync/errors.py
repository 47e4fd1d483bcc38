"""Refusals of sync: one line a person can act on; nothing was changed."""

from store.errors import StoreError


class SyncError(StoreError):
    """An export file or a transport step was refused."""
