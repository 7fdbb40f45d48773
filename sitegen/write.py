"""The write stage: render beside the output, then swap it in or commit in place.

A failed build never touches the previous site: everything is rendered into a temp folder
first. A first build swaps that folder in whole; a rebuild (the previous output is a
sitegen site) only stages what changed and moves it over the old files, deleting what the
site no longer has (:func:`commit_in_place`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from sitegen import statcache
from sitegen.cachedir import path_key
from sitegen.errors import SitegenError
from sitegen.rawjson import json_string

BUILD_MANIFEST = "sitegen-build.json"


class BuildManifest(NamedTuple):
    """What the previous build recorded: url -> ``fingerprint:sha256`` of every page, and
    the fingerprint of each batch of page groups (see :class:`sitegen.pages.Batch`)."""

    pages: dict[str, str]
    batches: dict[str, str]


def read_build_manifest(out: Path) -> BuildManifest:
    """The previous build's manifest, or an empty one when there is none usable.

    The sha256 of the written bytes lets a rebuild reuse a page only if it is still exactly
    what was written: a page edited in place is rendered again, never re-sealed.
    """
    try:
        data = json.loads((out / BUILD_MANIFEST).read_text(encoding="utf-8"))
        return BuildManifest(_strings(data.get("pages")), _strings(data.get("batches")))
    except (OSError, ValueError, AttributeError, RecursionError):
        return BuildManifest({}, {})


def _strings(found: object) -> dict[str, str]:
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


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


@contextlib.contextmanager
def output_locked(out: Path, waiting: Callable[[], None]) -> Iterator[None]:
    """One build at a time into ``out`` (``sitegen serve`` and a build from the shell, two CI
    jobs): a second build waits for the first (``waiting`` is told), instead of interleaving
    its moves and seal with the other's. An advisory lock on a file beside the page
    identities (:mod:`sitegen.statcache`), not beside the site (in the temp folder when that
    cache is off); where no lock can be taken, the build goes on unlocked."""
    beside = statcache.cache_file(out)
    path = beside.with_suffix(".lock") if beside else temp_lock_file(out)
    try:
        import fcntl

        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC)
    except (ImportError, OSError):  # no fcntl (Windows), or no writable cache folder
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waiting()
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def temp_lock_file(out: Path) -> Path:
    return Path(tempfile.gettempdir(), f"sitegen-{path_key(out)}.lock")


def new_staging_dir(out: Path) -> Path:
    staging = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:12]}"
    staging.mkdir(parents=True)
    return staging


def write_file(staging: Path, url: str, data: bytes) -> None:
    """:func:`write_at` for the few files a build writes besides its pages."""
    root = os.open(staging, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        write_at(root, url, data)
    finally:
        os.close(root)


def write_at(root: int, url: str, data: bytes) -> os.stat_result:
    """Write ``url``, a site-relative path, under the directory open as ``root``; its stat.

    Relative to an open directory and stat-ed through the open file: one short path walk
    per page instead of three from ``/`` (check the folder, open, stat), for 40,000 pages.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
    try:
        fd = os.open(url, flags, 0o666, dir_fd=root)
    except FileNotFoundError:
        _make_dirs_at(root, url.rpartition("/")[0])
        fd = os.open(url, flags, 0o666, dir_fd=root)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        return os.fstat(fd)
    finally:
        os.close(fd)


def _make_dirs_at(root: int, path: str) -> None:
    """``os.makedirs`` under an open directory (render workers may race to make one)."""
    if not path:
        raise FileNotFoundError("the staging folder itself is gone")
    try:
        os.mkdir(path, dir_fd=root)
    except FileNotFoundError:
        _make_dirs_at(root, path.rpartition("/")[0])
        with contextlib.suppress(FileExistsError):
            os.mkdir(path, dir_fd=root)
    except FileExistsError:
        pass


def _make_parent(target: str) -> None:
    """Plain strings and one syscall in the common case (a rebuild may move many pages)."""
    parent = os.path.dirname(target)
    if not os.path.isdir(parent):
        os.makedirs(parent, exist_ok=True)


def write_build_manifest(
    staging: Path, info: Mapping[str, Any], fingerprints: Mapping[str, str]
) -> bytes:
    """Write the build manifest; its bytes."""
    data = manifest_text(info, fingerprints).encode()
    (staging / BUILD_MANIFEST).write_bytes(data)
    return data


def manifest_text(info: Mapping[str, Any], fingerprints: Mapping[str, str]) -> str:
    """``json.dumps({**info, "pages": …}, sort_keys=True, indent=1, ensure_ascii=False)``
    and a newline, with the pages written directly: Python's indenting encoder is pure
    Python, half a second for 40,000 pages."""
    head = json.dumps({**info, "pages": {}}, sort_keys=True, indent=1, ensure_ascii=False)
    if not fingerprints:
        return head + "\n"
    dump = json_string  # json.dumps(text, ensure_ascii=False), without its Python layers
    pages = ",\n".join(f"  {dump(url)}: {dump(fp)}" for url, fp in sorted(fingerprints.items()))
    before, marker, after = head.partition('"pages": {}')
    assert marker, "the build manifest's info must not hold a 'pages' key of its own"
    return f'{before}"pages": {{\n{pages}\n }}{after}\n'


def swap_into_place(staging: Path, out: Path) -> None:
    """Replace ``out`` by ``staging`` with two renames; the old tree is removed afterwards."""
    old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:12]}"
    if out.exists():
        os.rename(out, old)
    os.rename(staging, out)
    shutil.rmtree(old, ignore_errors=True)


def commit_in_place(
    staging: Path, out: Path, keep: Collection[str], present: Collection[str]
) -> list[str]:
    """Move the staged files over the previous site (which held the files ``present``),
    delete what the site no longer has, and return what it now holds, sorted.

    Used by incremental builds, where linking every unchanged page into a new tree and
    deleting the old one would cost more than the build itself. Everything that can fail on
    bad input has failed before this point; an interrupted commit leaves pages whose bytes
    no longer match the build manifest, which the next build renders again (and
    ``verify-site`` reports until then).
    """
    staged = sorted(walk_files(str(staging)))
    present = set(present)
    in_the_way = _non_folders_above(staged, present)
    for rel in in_the_way:  # a link or file where the site has a folder: never written through
        os.unlink(os.path.join(out, rel))
    for rel in staged:
        target = os.path.join(out, rel)
        if os.path.isdir(target) and not os.path.islink(target):
            shutil.rmtree(target)
        _make_parent(target)
        os.replace(os.path.join(staging, rel), target)
    wanted = set(keep) | set(staged)
    present = present.union(staged).difference(in_the_way)
    stale = [rel for rel in present if rel not in wanted]
    for rel in stale:
        os.unlink(os.path.join(out, rel))
    _remove_emptied_dirs(str(out), stale)
    discard(staging)
    return sorted(wanted.intersection(present))


def _non_folders_above(staged: list[str], present: set[str]) -> list[str]:
    """The entries of the previous output (``present``: its files and links, as listed
    without following links) that stand where a staged file needs a folder."""
    found = set()
    for folder in {rel.rpartition("/")[0] for rel in staged}:
        while folder:
            if folder in present:
                found.add(folder)
            folder = folder.rpartition("/")[0]
    return sorted(found)


def walk_files(root: str, follow_symlinks: bool = False) -> list[str]:
    """Relative '/'-separated paths below ``root``, unsorted (scandir: no stat per entry).

    Without ``follow_symlinks``, every entry that is not a folder (links included: the
    things to delete); with it, what links point to, and only files (the things to hash).
    A loop over a stack, not nested generators: every name would pass through each level.
    """
    found: list[str] = []
    folders = [(root, "")]
    while folders:
        folder, prefix = folders.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=follow_symlinks):
                    folders.append((entry.path, f"{prefix}{entry.name}/"))
                elif not follow_symlinks or entry.is_file():
                    found.append(f"{prefix}{entry.name}")
    return found


def _remove_emptied_dirs(root: str, removed: list[str]) -> None:
    """Remove the folders that deleting ``removed`` left empty, innermost first."""
    folders = {rel.rpartition("/")[0] for rel in removed}
    for rel in sorted(folders, key=lambda f: f.count("/"), reverse=True):
        while rel:
            try:
                os.rmdir(os.path.join(root, rel))
            except OSError:  # not empty (or already gone)
                break
            rel = rel.rpartition("/")[0]


def discard(staging: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(staging)
