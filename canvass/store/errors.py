"""Errors raised by the device store.

Messages never carry personal data: the UI shows them, logs may record them, and a crash
report may ship them. Anything a caller needs to act on is an attribute, not message text.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base of every error the device store raises on purpose."""


class StoreLocked(StoreError):
    """The operation needs the data key and the store is locked."""

    def __init__(self, message: str = "The store is locked") -> None:
        super().__init__(message)


class WrongPin(StoreError):
    """The PIN did not open the data key. ``retry_after``: seconds before the next attempt
    is allowed (0.0 when there is no delay yet)."""

    def __init__(self, retry_after: float = 0.0) -> None:
        # Deliberately no hint (no count, no "almost"): the message is shown to whoever holds
        # the device, who may not be its circulator.
        super().__init__("Wrong PIN")
        self.retry_after = retry_after


class PinDelay(StoreError):
    """Too many wrong PINs recently: no attempt is made until ``retry_after`` seconds pass."""

    def __init__(self, retry_after: float) -> None:
        super().__init__("Too many attempts; wait before trying again")
        self.retry_after = retry_after


class WeakPin(StoreError, ValueError):
    """A new PIN is neither at least 6 digits nor a passphrase of at least 8 characters."""

    def __init__(self, message: str = "Use at least 6 digits or a passphrase of at least 8 characters"):
        super().__init__(message)


class StoreWiped(StoreError):
    """Too many wrong PINs: the data key and every entry were destroyed."""

    def __init__(self, message: str = "The store was wiped after too many wrong PINs") -> None:
        super().__init__(message)


class LineAlreadyUsed(StoreError):
    """Another live entry already holds this (section, line)."""


class SectionClosed(StoreError):
    """The section is closed: no new lines may be added to it."""


class UnknownSection(StoreError):
    """No section with this serial was opened on this device."""


class NotFound(StoreError):
    """No entry (or batch) with this id is held by the store."""
