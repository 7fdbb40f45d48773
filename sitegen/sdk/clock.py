"""Timestamps for records. Real time by default; a fixed clock for reproducible stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def utc_now() -> str:
    """ISO 8601 UTC with milliseconds, e.g. ``2026-11-26T15:22:39.123Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class FixedClock:
    """A deterministic clock: starts at ``start`` and advances ``step`` seconds per reading.

    Pass it as ``clock=`` to :func:`sitegen.init` or :class:`sitegen.Store` to regenerate a
    store byte for byte (the example project does).
    """

    def __init__(self, start: str = "2024-01-01T00:00:00Z", step: float = 1.0) -> None:
        self._now = datetime.fromisoformat(start.replace("Z", "+00:00"))
        self._step = timedelta(seconds=step)

    def __call__(self) -> str:
        value = self._now
        self._now += self._step
        return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
