"""Dealdeck's domain: records, durable storage, queries and analytics (no UI, no sync)."""

from store.config import Config, load_config
from store.database import Conversion, Store
from store.errors import CorruptFileError, StoreError, ValidationFailed

__all__ = ["Config", "Conversion", "CorruptFileError", "Store", "StoreError",
           "ValidationFailed", "load_config"]
