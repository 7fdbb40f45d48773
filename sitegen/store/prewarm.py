"""A cold build's parsing, shared with the second core.

The first build of a store, or any build without its records memo (a CI runner that keeps
no cache), parses every manifest and history and hashes every stored object: ~5 s of one
core at 10,000 versions, while the other core waits. :func:`prewarm` shares the work: a
forked helper (:class:`~sitegen.background.Background`) parses files (and hashes the
objects their manifests list) while this process reads the event log and parses the
rest, and both parts go into the memo, where loading, checking and verifying then find
them.

The same functions do the parsing as when loading (the reader's and the checker's), so a
prewarmed memo holds exactly what a build parsing on its own would have put there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from sitegen.background import Background
from sitegen.store.backend import Backend
from sitegen.store.memo import Memo, MemoKey, write_segment
from sitegen.store.reader import (
    artifact_files,
    history_files,
    read_events,
    read_history,
    read_json,
)
from sitegen.store.records import memoized_manifest
from sitegen.store.run_records import checked_history
from sitegen.two_ends import TwoEnds
from sitegen.verify import memoized_fingerprint

PARALLEL_FROM = 256  # files the memo lacks: fewer are parsed sooner than a helper is forked

WRITE_SHARE = 0.12  # the helper writes what it parsed in about this share of the parsing time
Todo = tuple[str, str]  # ("manifest" | "history", key)


def prewarm(backend: Backend, memo: Memo) -> int:
    """Parse the store into an empty memo on both cores; how many files that was (0: the
    memo was not empty, or there were too few to be worth a helper).

    Only an empty memo is filled this way: a warm one lacks a few files at most, and finding
    which would cost a rebuild more than parsing them as it loads. The files are one list
    shared with the helper (:class:`~sitegen.two_ends.TwoEnds`): it parses from the front,
    and leaves this process the files it could parse while the helper writes its part;
    this process reads the event log (a hash chain, read in order) and then parses from the
    back, so both are busy until the end. The helper writes what it parsed as a
    memo segment of its own, which this process then reads: the entries are pickled once,
    on the way to the disk, not also through a pipe.
    """
    if memo.folder is None or len(memo):
        return 0
    todo = missing(backend, memo)
    if len(todo) < PARALLEL_FROM:
        return 0
    ends = TwoEnds(len(todo))
    helper = Background(partial(_parse_into_segment, backend, todo, ends, memo.folder))
    try:
        read_events(backend, memo)
        memo.update(parse_files(backend, _taken(todo, ends.take_back)))
        segment = helper.result()
    finally:
        helper.cancel()
    if segment is None:  # the helper could not write: parse what it took here
        memo.update(parse_files(backend, todo[: ends.taken_from_front()]))
    else:
        memo.adopt(segment)
    return len(todo)


def _parse_into_segment(
    backend: Backend, todo: list[Todo], ends: TwoEnds, folder: Path
) -> Path | None:
    take = partial(ends.take_front, WRITE_SHARE)
    return write_segment(folder, parse_files(backend, _taken(todo, take)))


def _taken(todo: list[Todo], take: Callable[[], int | None]) -> Iterator[Todo]:
    while (index := take()) is not None:
        yield todo[index]


def missing(backend: Backend, memo: Memo) -> list[Todo]:
    """The manifests and histories whose current file the memo has not parsed."""
    todo: list[Todo] = []
    for kind, key in artifact_files(backend):
        if kind == "manifest" and ("manifest", key, backend.identity(key)) not in memo:
            todo.append(("manifest", key))
    for key in history_files(backend):
        if ("history", key, backend.identity(key)) not in memo:
            todo.append(("history", key))
    return todo


def parse_files(backend: Backend, todo: Iterable[Todo]) -> dict[MemoKey, Any]:
    """The memo entries of these files; files that do not parse get none (loading them
    again reports their problems)."""
    entries: dict[MemoKey, Any] = {}
    for kind, key in todo:
        if kind == "manifest":
            raw = read_json(backend, key, [])._replace(identity=backend.identity(key))
            record, _ = memoized_manifest(raw, entries)
            for entry in record.with_bytes if record is not None else ():
                if entry.ref is None:  # a stored object, which verifying hashes
                    memoized_fingerprint(backend, entry.sha256, entries)
        else:
            checked_history(read_history(backend, key, [], entries), [], entries)
    return entries
