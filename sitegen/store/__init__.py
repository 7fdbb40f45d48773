"""The store: the versioned directory layout that the logging API writes and the site reads."""

from __future__ import annotations

import os
from pathlib import Path

from sitegen.errors import SitegenError
from sitegen.store.backend import Backend, LocalBackend


def open_backend(location: str | os.PathLike[str]) -> Backend:
    """The backend for a store location: a local directory (object stores come later)."""
    text = os.fspath(location)
    if "://" in text and not text.startswith("file://"):
        scheme = text.split("://", 1)[0]
        raise SitegenError.single(
            text,
            f"stores at {scheme}:// are not supported yet",
            "use a local directory, or sync the store to one",
        )
    return LocalBackend(Path(text.removeprefix("file://")))


__all__ = ["Backend", "LocalBackend", "open_backend"]
