"""Writing the store: objects, versions, runs and events, safe under concurrency.

A version is committed in three steps, each safe to interrupt:

1. file bytes go to ``objects/`` under their sha256 (idempotent);
2. the manifest is created *exclusively* at ``v<N>/manifest.json`` (claims the number);
3. a ``version.created`` event is appended to the log (the commit point).

A writer killed between 2 and 3 leaves a manifest no event mentions: readers ignore it
and ``validate`` names it as uncommitted; the number is simply not reused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sitegen.errors import SitegenError
from sitegen.store.backend import Backend
from sitegen.store.events import Event, LogState, append_event, read_log, replay
from sitegen.store.format import (
    FORMAT_VERSION,
    ROOT_KEY,
    VERSION_RE,
    canonical_json,
    collection_key,
    content_digest,
    history_key,
    manifest_key,
    object_key,
    run_key,
    sha256_hex,
)
from sitegen.store.nesting import TOO_DEEP, value_problem

Clock = Callable[[], str]


@dataclass(frozen=True)
class Committed:
    """The outcome of logging a version: which one, and whether it is new."""

    type: str
    name: str
    version: int
    digest: str
    created: bool

    @property
    def ref(self) -> str:
        return f"{self.type}/{self.name}:v{self.version}"


class StoreWriter:
    """All mutations of one store. Stateless apart from its backend, clock and actor."""

    def __init__(self, backend: Backend, clock: Clock, actor: Mapping[str, Any]) -> None:
        self.backend = backend
        self.clock = clock
        self.actor = dict(actor)
        self._events: list[Event] = []

    def ensure_root(self, project: str) -> None:
        """Create the store if needed; refuse stores of another format version."""
        body = canonical_json(
            {"format": FORMAT_VERSION, "project": project, "created_at": self.clock()}
        )
        if self.backend.put_exclusive(ROOT_KEY, body):
            self.append("store.created", {"project": project, "format": FORMAT_VERSION})
            return
        check_root(self.backend)

    def append(
        self, type_: str, data: Mapping[str, Any], actor: Mapping[str, Any] | None = None
    ) -> Event:
        who = dict(actor if actor is not None else self.actor)
        time = self.clock()
        return append_event(
            self.backend, lambda seq, prev: Event(seq, prev, time, type_, who, dict(data))
        )

    def state(self) -> LogState:
        self._events, _ = read_log(self.backend, self._events)
        return replay(self._events)

    def put_object(self, data: bytes) -> str:
        digest = sha256_hex(data)
        key = object_key(digest)
        if not self.backend.exists(key):
            self.backend.put_exclusive(key, data)
        return digest

    def commit_version(
        self, manifest: Mapping[str, Any], aliases: tuple[str, ...] = ()
    ) -> Committed:
        """Commit a manifest body (without version/digest) as the next version, or dedup."""
        type_, name, files = manifest["type"], manifest["name"], manifest["files"]
        coll = f"{type_}/{name}"
        digest = content_digest(files)
        existing = self._committed_with_digest(coll, digest)
        if existing is not None:
            self._set_aliases(coll, existing, aliases)
            return Committed(type_, name, existing, digest, created=False)
        version = self._next_version_number(type_, name)
        while True:
            body = canonical_json({**manifest, "version": version, "digest": digest})
            if self.backend.put_exclusive(manifest_key(type_, name, version), body):
                break
            version += 1
        self.append(
            "version.created",
            {
                "collection": coll,
                "version": version,
                "digest": digest,
                "manifest_sha256": sha256_hex(body),
                "run": manifest.get("run"),
            },
        )
        self._set_aliases(coll, version, aliases)
        return Committed(type_, name, version, digest, created=True)

    def set_alias(self, coll: str, alias: str, version: int) -> None:
        if (coll, version) not in self.state().versions:
            raise SitegenError.single(
                coll,
                f"no committed version v{version} in {coll}",
                "list versions with `sitegen validate` or Store.versions()",
            )
        self.append("alias.set", {"collection": coll, "alias": alias, "version": version})

    def remove_alias(self, coll: str, alias: str) -> None:
        if alias not in self.state().aliases.get(coll, {}):
            raise SitegenError.single(coll, f"alias {alias!r} is not set on {coll}")
        self.append("alias.removed", {"collection": coll, "alias": alias})

    def write_run(self, record: Mapping[str, Any]) -> str:
        body = canonical_json(dict(record))
        self.backend.put(run_key(str(record["id"])), body)
        return sha256_hex(body)

    def write_history(self, run_id: str, rows: Sequence[Mapping[str, Any]]) -> None:
        lines = (
            json.dumps(r, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n" for r in rows
        )
        self.backend.put(history_key(run_id), "".join(lines).encode("utf-8"))

    def _set_aliases(self, coll: str, version: int, aliases: tuple[str, ...]) -> None:
        current = self.state().aliases.get(coll, {})
        for alias in aliases:
            if current.get(alias) != version:
                self.append("alias.set", {"collection": coll, "alias": alias, "version": version})

    def _committed_with_digest(self, coll: str, digest: str) -> int | None:
        state = self.state()
        matches = [v for (c, v), d in state.version_digests.items() if c == coll and d == digest]
        return min(matches) if matches else None

    def _next_version_number(self, type_: str, name: str) -> int:
        taken = [
            int(n[1:])
            for n in self.backend.children(collection_key(type_, name))
            if VERSION_RE.match(n)
        ]
        return max(taken, default=-1) + 1


def check_root(backend: Backend) -> dict[str, Any]:
    """Read and check ``sitegen-store.json``; a clear error for non-stores and newer formats."""
    where = backend.display(ROOT_KEY)
    try:
        root = json.loads(backend.read(ROOT_KEY))
    except FileNotFoundError:
        raise SitegenError.single(
            where,
            "not a sitegen store: the file is missing",
            "create one with sitegen.init(store=...) or `sitegen log-artifact`",
        ) from None
    except (ValueError, RecursionError) as exc:  # JSON syntax, UTF-8, a 5,000-digit number
        why = value_problem(exc) if isinstance(exc, ValueError) else TOO_DEEP
        raise SitegenError.single(where, f"store root is not valid JSON: {why}") from None
    fmt = root.get("format") if isinstance(root, dict) else None
    if not isinstance(fmt, int):
        raise SitegenError.single(
            where, "store root has no integer 'format'", "is this a sitegen store?"
        )
    if fmt > FORMAT_VERSION:
        raise SitegenError.single(
            where,
            f"store format {fmt} is newer than this sitegen understands ({FORMAT_VERSION})",
            "upgrade sitegen: pip install -U sitegen",
        )
    if fmt < 1:
        raise SitegenError.single(where, f"unknown store format {fmt}")
    assert isinstance(root, dict)
    return root
