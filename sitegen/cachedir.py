"""Where sitegen keeps what only makes builds faster: ``$ENV``, else the user cache folder."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

OFF = frozenset({"", "off", "0", "no", "false"})


def user_cache(env: str, name: str) -> Path | None:
    """``$env`` when set (None when it says ``off``), else ``$XDG_CACHE_HOME/sitegen/name``
    (``~/.cache/sitegen/name``); None when there is no home folder either."""
    configured = os.environ.get(env)
    if configured is not None:
        return None if configured.strip().lower() in OFF else Path(configured).expanduser()
    base = cache_home()
    return base / "sitegen" / name if base else None


def cache_home() -> Path | None:
    """``$XDG_CACHE_HOME``, else ``~/.cache``; None for a user without a home folder (no
    ``$HOME`` and no password entry, as in some containers): caches are then off."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg).expanduser()
    try:
        return Path.home() / ".cache"
    except RuntimeError:
        return None


def path_key(path: Path) -> str:
    """A short, stable name for an absolute path (one cache entry per site or store)."""
    return hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:32]
