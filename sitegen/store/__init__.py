"""The store: the versioned directory layout that the logging API writes and the site reads."""

from __future__ import annotations

import os
from pathlib import Path

from sitegen.errors import SitegenError
from sitegen.store.backend import Backend, LocalBackend


def is_remote(location: str | os.PathLike[str]) -> bool:
    """Whether ``location`` names an object store (``s3://…``) rather than a local directory."""
    return os.fspath(location).startswith("s3://")


def store_location(text: str) -> str | Path:
    """A command-line store argument: a URL stays a string, anything else is a local path."""
    return text if is_remote(text) else Path(text.removeprefix("file://"))


def open_backend(
    location: str | os.PathLike[str], *, snapshot: bool = False, walk: bool = False
) -> Backend:
    """The backend for a store location: a local directory or ``s3://bucket/prefix``.

    ``snapshot=True`` asks for a read view made for bulk reads (builds, audits, sync): for
    an object store it lists the store once and fetches every record concurrently, with a
    local cache. ``walk=True`` (builds: they read a whole store and write nothing) walks a
    local directory once, in a forked child, while the caller goes on
    (:class:`~sitegen.store.listing.ListedBackend`).
    """
    text = os.fspath(location)
    if is_remote(text):
        from sitegen.store.s3 import open_s3

        return open_s3(text, snapshot=snapshot)
    if "://" in text and not text.startswith("file://"):
        scheme = text.split("://", 1)[0]
        raise SitegenError.single(
            text,
            f"stores at {scheme}:// are not supported",
            "use a local directory or an S3-compatible store (s3://bucket/prefix, with "
            "SITEGEN_S3_ENDPOINT for servers other than AWS); other object stores lack the "
            "conditional writes the store relies on",
        )
    root = Path(text.removeprefix("file://"))
    if walk:
        from sitegen.store.listing import ListedBackend

        return ListedBackend(root)
    return LocalBackend(root)


__all__ = ["Backend", "LocalBackend", "is_remote", "open_backend", "store_location"]
