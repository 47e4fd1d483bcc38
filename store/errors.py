"""Errors a person can cause: each carries one clear line for the screen or stderr."""


class StoreError(Exception):
    """A refused operation; ``str(error)`` is the message to show."""


class CorruptFileError(StoreError):
    """A data file cannot be parsed; it is left untouched."""


class ValidationFailed(StoreError):
    """A record failed validation; ``errors`` maps field name to message."""

    def __init__(self, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}
