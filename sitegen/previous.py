"""The previous site in the output folder, surveyed once per rebuild.

A rebuild reuses a page only if the last build recorded the same input fingerprint for it
and the file still holds the bytes that build wrote (see :mod:`sitegen.statcache`), and it
deletes whatever the site no longer has. Both need every file of the output: the survey
lists them and checks them all in one pass, which the build runs on its second core while
it loads and plans (:class:`sitegen.background.Background`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sitegen import statcache
from sitegen.write import read_build_manifest, walk_files


@dataclass(frozen=True)
class PreviousSite:
    """``pages``: the last build's manifest (url -> ``fingerprint:sha256``); ``intact``: the
    identity of each of those pages whose file still holds its recorded bytes; ``files``:
    every file in the output (not following links); ``batches``: the fingerprint of each
    batch of page groups (see :class:`sitegen.pages.Batch`)."""

    pages: dict[str, str]
    intact: dict[str, statcache.Identity]
    files: list[str]
    batches: dict[str, str]


NONE = PreviousSite({}, {}, [], {})


def survey(out: Path) -> PreviousSite:
    """What the output holds; :data:`NONE` when it holds no sitegen site."""
    pages, batches = read_build_manifest(out)
    if not pages:
        return NONE
    files = walk_files(str(out))
    recorded = statcache.load(out)
    root = str(out)
    intact = {}
    for url in files:  # listed names only: a manifest cannot point the check outside `out`
        entry = pages.get(url)
        if entry is not None:
            found = statcache.intact(
                os.path.join(root, url), entry.rpartition(":")[2], recorded.get(url)
            )
            if found is not None:
                intact[url] = found
    return PreviousSite(pages, intact, files, batches)
