"""The write stage: build beside the output, reuse unchanged pages, then swap into place.

A failed build never touches the previous site. Unchanged pages (same fingerprint as in
the previous build manifest) are hard-linked from the previous output instead of being
rendered again, which makes incremental builds atomic too.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sitegen.errors import SitegenError

BUILD_MANIFEST = "sitegen-build.json"


def read_build_manifest(out: Path) -> dict[str, str]:
    """url -> ``fingerprint:sha256`` of the previous build, or empty when there is none usable.

    The sha256 of the written bytes lets a rebuild reuse a page only if it is still exactly
    what was written: a page edited in place is rendered again, never re-sealed.
    """
    try:
        data = json.loads((out / BUILD_MANIFEST).read_text(encoding="utf-8"))
        pages = data.get("pages", {})
        return {str(k): str(v) for k, v in pages.items()} if isinstance(pages, dict) else {}
    except (OSError, ValueError, AttributeError):
        return {}


def check_output_dir(out: Path) -> None:
    """Refuse to replace a non-empty directory that is not a sitegen site (e.g. ``-o ~``)."""
    if out.is_file():
        raise SitegenError.single(
            str(out), "output exists and is a file", "choose a directory with -o"
        )
    if out.is_dir() and any(out.iterdir()) and not (out / BUILD_MANIFEST).is_file():
        raise SitegenError.single(
            str(out),
            "output directory is not empty and was not built by sitegen",
            "choose an empty or new directory; sitegen replaces its output as a whole",
        )


def new_staging_dir(out: Path) -> Path:
    staging = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:12]}"
    staging.mkdir(parents=True)
    return staging


def write_file(staging: Path, url: str, data: bytes) -> None:
    target = os.path.join(staging, url)
    _make_parent(target)
    with open(target, "wb") as handle:
        handle.write(data)


def link_or_copy(source: Path, staging: Path, url: str) -> bool:
    """Hard-link ``source`` into the staging site (True), or copy it where links fail."""
    target = os.path.join(staging, url)
    _make_parent(target)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
        return False
    return True


def _make_parent(target: str) -> None:
    """Plain strings and one syscall in the common case: tens of thousands of pages."""
    parent = os.path.dirname(target)
    if not os.path.isdir(parent):
        os.makedirs(parent, exist_ok=True)


def write_build_manifest(
    staging: Path, info: Mapping[str, Any], fingerprints: Mapping[str, str]
) -> None:
    body = {**info, "pages": dict(sorted(fingerprints.items()))}
    text = json.dumps(body, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    (staging / BUILD_MANIFEST).write_text(text, encoding="utf-8")


def swap_into_place(staging: Path, out: Path) -> None:
    """Replace ``out`` by ``staging`` with two renames; the old tree is removed afterwards."""
    old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:12]}"
    if out.exists():
        os.rename(out, old)
    os.rename(staging, out)
    shutil.rmtree(old, ignore_errors=True)


def discard(staging: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(staging)
