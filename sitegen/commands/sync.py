"""``sitegen sync SRC DEST``: mirror a store (e.g. ``s3://bucket/prefix`` to ``./copy``), verifying it.

The copy is made in the order writers use, so a reader of DEST never sees a version before
its bytes: the root, then objects (each re-hashed against its name before it is written:
bytes are never stored under a digest they do not have), then manifests and run records,
then the event log in sequence order. Immutable keys (objects, manifests, events) are
created exclusively and never overwritten: a DEST that disagrees with SRC about one of them
is reported, not "repaired". Mutable run records and histories are replaced when they differ.

SRC is read as it was when listed (the event log first, like a build): what a run commits
to it meanwhile is left for the next sync, and DEST never holds an event whose manifest it
lacks. Running it again copies only what is new. Nothing is deleted from DEST. At the end
DEST is loaded and must have the same root digest (every version's digest and the log head)
as SRC.
Either side may be local or remote; ``sitegen sync ./store s3://bucket/prefix`` uploads.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sitegen.errors import Problem, SitegenError
from sitegen.store import LocalBackend, open_backend
from sitegen.store.backend import TEMP_PREFIX, Backend
from sitegen.store.format import EVENTS, OBJECTS, ROOT_KEY, SHA256_RE, object_key, sha256_hex
from sitegen.store.reader import load_raw
from sitegen.store.records import check_records
from sitegen.store.writer import check_root
from sitegen.verify import store_root_digest

MUTABLE_SUFFIXES = ("/run.json", "/history.jsonl", "/collection.yaml")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "sync",
        help="mirror a store (e.g. s3://bucket/prefix) into another location, verifying digests",
    )
    parser.add_argument("source", help="store to copy: a directory or s3://bucket/prefix")
    parser.add_argument("dest", help="where the mirror goes (created if missing)")
    parser.add_argument(
        "-j", "--jobs", type=int, default=0, help="concurrent transfers (default: 16)"
    )
    parser.set_defaults(func=run)


@dataclass
class SyncReport:
    copied: int = 0
    copied_bytes: int = 0
    unchanged: int = 0
    objects_verified: int = 0
    extra_in_dest: int = 0
    root_digest: str = ""
    problems: list[Problem] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def wrote(self, data: bytes) -> None:
        with self._lock:
            self.copied += 1
            self.copied_bytes += len(data)

    def same(self) -> None:
        with self._lock:
            self.unchanged += 1

    def problem(self, problem: Problem) -> None:
        with self._lock:
            self.problems.append(problem)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def run(args: argparse.Namespace) -> int:
    report = sync(args.source, args.dest, jobs=args.jobs)
    for problem in sorted(report.problems):
        print(problem, file=sys.stderr)
    extra = f"; {report.extra_in_dest} other key(s) in dest kept" if report.extra_in_dest else ""
    print(
        f"{args.source} -> {args.dest}: {report.copied} copied "
        f"({report.copied_bytes / (1 << 20):.1f} MiB), {report.unchanged} already there, "
        f"{report.objects_verified} objects verified{extra}; root digest "
        f"{report.root_digest[:16]}: {'OK' if report.ok else f'{len(report.problems)} problem(s)'}"
    )
    return 0 if report.ok else 1


def list_keys(backend: Backend) -> list[str]:
    """Every key of a store, sorted: from its listing, or by walking a directory."""
    keys = getattr(backend, "keys", None)
    if callable(keys):
        return sorted(str(k) for k in keys())
    if isinstance(backend, LocalBackend):
        found = []
        for dirpath, dirnames, filenames in os.walk(backend.root):
            dirnames[:] = [d for d in dirnames if not d.startswith(TEMP_PREFIX)]
            base = Path(dirpath).relative_to(backend.root).as_posix()
            for name in filenames:
                if not name.startswith(TEMP_PREFIX):
                    found.append(name if base == "." else f"{base}/{name}")
        return sorted(found)
    raise SitegenError.single(backend.display(""), "cannot list this kind of store")


def _bounded(jobs: int, fn: Callable[[str], None], keys: Iterable[str]) -> None:
    todo = list(keys)
    if jobs <= 1 or len(todo) <= 1:
        for key in todo:
            fn(key)
        return
    with ThreadPoolExecutor(min(jobs, len(todo)), thread_name_prefix="sitegen-sync") as pool:
        list(pool.map(fn, todo))


def _read(backend: Backend, key: str) -> bytes | None:
    try:
        return backend.read(key)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def sync(source: str | os.PathLike[str], dest: str | os.PathLike[str], jobs: int = 0) -> SyncReport:
    """Mirror ``source`` into ``dest``; see the module docstring for the guarantees."""
    jobs = jobs or 16
    src = open_backend(source, snapshot=True, walk=True)  # a local source is listed once too
    check_root(src)
    src_records = check_records(load_raw(src))
    report = SyncReport(root_digest=store_root_digest(src_records))
    for problem in src_records.problems:
        report.problem(problem)
    dst = open_backend(dest, snapshot=True)
    if isinstance(dst, LocalBackend):
        dst.root.mkdir(parents=True, exist_ok=True)
    keys = list_keys(src)
    present = set(list_keys(dst)) if _has_root(dst) else set()
    report.extra_in_dest = len(present - set(keys))

    root = src.read(ROOT_KEY)
    if not dst.put_exclusive(ROOT_KEY, root):
        if _read(dst, ROOT_KEY) != root:
            raise SitegenError.single(
                dst.display(ROOT_KEY),
                "the destination is a different store (its sitegen-store.json differs)",
                "sync into an empty location or a mirror of the same store",
            )
        report.same()
    else:
        report.wrote(root)

    objects = [k for k in keys if k.startswith(OBJECTS + "/")]
    events = sorted(k for k in keys if k.startswith(EVENTS + "/"))
    special = {*objects, *events, ROOT_KEY}
    others = [k for k in keys if k not in special]
    local_dest = isinstance(dst, LocalBackend)

    def copy_object(key: str) -> None:
        sha = key[len(OBJECTS) + 1 :].replace("/", "")
        if local_dest and key in present:
            existing = _read(dst, key)
            if existing is not None and sha256_hex(existing) == sha:
                report.same()
                return
        elif key in present:
            report.same()  # an object store verified its checksum when it was written
            return
        data = src.read(key)
        if not SHA256_RE.match(sha) or object_key(sha) != key or sha256_hex(data) != sha:
            report.problem(
                Problem(
                    src.display(key),
                    None,
                    "object bytes do not match their sha256: not copied",
                    "restore the object from a backup; `sitegen verify` lists what uses it",
                )
            )
            return
        with report._lock:
            report.objects_verified += 1
        if key in present:
            dst.put(key, data)  # a corrupted local copy is replaced by verified bytes
        elif not dst.put_exclusive(key, data):
            report.same()
            return
        report.wrote(data)

    def copy_record(key: str) -> None:
        data = src.read(key)
        existing = _read(dst, key) if key in present else None
        if existing == data:
            report.same()
            return
        if key.endswith(MUTABLE_SUFFIXES):
            dst.put(key, data)
            report.wrote(data)
            return
        if existing is None:
            if dst.put_exclusive(key, data):
                report.wrote(data)
                return
            if _read(dst, key) == data:
                report.same()
                return
        report.problem(
            Problem(
                dst.display(key),
                None,
                "the destination holds different bytes for this immutable record: kept",
                "the two stores diverged; sync into an empty location",
            )
        )

    _bounded(jobs, copy_object, objects)
    _bounded(jobs, copy_record, others)
    for key in events:  # in order: a reader of the copy sees a gap-free prefix of the log
        data = src.read(key)
        if dst.put_exclusive(key, data):
            report.wrote(data)
        elif _read(dst, key) == data:
            report.same()
        else:
            report.problem(
                Problem(
                    dst.display(key),
                    None,
                    "the destination's event log diverged from the source's here; "
                    "later events were not copied",
                    "sync into an empty location",
                )
            )
            break

    dst_records = check_records(load_raw(open_backend(dest, snapshot=True)))
    copied_digest = store_root_digest(dst_records)
    if copied_digest != report.root_digest:
        report.problem(
            Problem(
                dst.display(""),
                None,
                f"the copy's root digest {copied_digest[:16]} differs from the source's "
                f"{report.root_digest[:16]}",
                "see the problems above; run `sitegen validate` on both",
            )
        )
    return report


def _has_root(backend: Backend) -> bool:
    try:
        return backend.exists(ROOT_KEY) or bool(backend.children(""))
    except FileNotFoundError:
        return False
