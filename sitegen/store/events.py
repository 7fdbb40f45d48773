"""The append-only, hash-chained event log and the state it replays to.

Each event is one file ``events/<seq>.json`` claimed with an exclusive create, carrying
the sha256 of the previous event's bytes. Alias state, committed versions and run
outcomes are *derived* by :func:`replay`, so the audit trail cannot drift from the state.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sitegen.errors import Problem
from sitegen.store.backend import Backend, unreadable
from sitegen.store.format import (
    EVENTS,
    FORMAT_VERSION,
    canonical_json,
    event_key,
    parse_event_name,
    sha256_hex,
)
from sitegen.store.nesting import HINT as NESTING_HINT
from sitegen.store.nesting import TOO_DEEP, may_be_too_deep, nesting_problem, value_problem

EVENT_TYPES = frozenset(
    {
        "store.created",
        "version.created",
        "alias.set",
        "alias.removed",
        "run.started",
        "run.finished",
        "artifact.used",
    }
)
MAX_APPEND_ATTEMPTS = 10_000


@dataclass(frozen=True)
class Event:
    seq: int
    prev: str | None
    time: str
    type: str
    actor: Mapping[str, Any]
    data: Mapping[str, Any]
    hash: str = ""

    def body(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "seq": self.seq,
            "prev": self.prev,
            "time": self.time,
            "type": self.type,
            "actor": dict(self.actor),
            "data": dict(self.data),
        }


@dataclass(frozen=True)
class LogState:
    """What the log says is true now."""

    versions: frozenset[tuple[str, int]] = frozenset()
    version_digests: Mapping[tuple[str, int], str] = field(default_factory=dict)
    manifest_hashes: Mapping[tuple[str, int], str] = field(default_factory=dict)
    aliases: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    runs_started: frozenset[str] = frozenset()
    runs_finished: Mapping[str, str] = field(default_factory=dict)
    head: str | None = None
    length: int = 0


def list_event_seqs(backend: Backend) -> list[int]:
    seqs = (parse_event_name(n) for n in backend.children(EVENTS))
    return sorted(s for s in seqs if s is not None)


def head_of(backend: Backend, seqs: Sequence[int]) -> tuple[int, str | None]:
    """(next free seq, hash of the last event) from a listing."""
    if not seqs:
        return 0, None
    last = seqs[-1]
    return last + 1, sha256_hex(backend.read(event_key(last)))


def append_event(
    backend: Backend,
    make: Callable[[int, str | None], Event],
) -> Event:
    """Append an event built by ``make(seq, prev_hash)`` with optimistic concurrency.

    The exclusive create of ``events/<seq>.json`` is the linearisation point: a writer
    that loses the race re-reads the new head and tries the next number, so the chain
    never forks and no event is lost.
    """
    seq, prev = head_of(backend, list_event_seqs(backend))
    for _ in range(MAX_APPEND_ATTEMPTS):
        event = make(seq, prev)
        data = canonical_json(event.body())
        if backend.put_exclusive(event_key(seq), data):
            return Event(**{**event.__dict__, "hash": sha256_hex(data)})
        prev = sha256_hex(backend.read(event_key(seq)))
        seq += 1
    raise RuntimeError("could not append to the event log: too much contention")


def parse_event(
    display: str, raw: bytes, seq: int, prev: str | None
) -> tuple[Event | None, list[Problem]]:
    """Parse one event file and check its link to the previous one."""
    try:
        body = json.loads(raw)
        why = nesting_problem(body) if may_be_too_deep(raw) else None
    except RecursionError:
        why = TOO_DEEP
    except ValueError as exc:  # JSON syntax, UTF-8, a number Python will not convert
        line = getattr(exc, "lineno", None)
        return None, [
            Problem(
                display,
                line,
                f"event is not valid JSON: {value_problem(exc)}",
                "the log was edited; restore it from a backup",
            )
        ]
    if why is not None:
        return None, [Problem(display, None, f"event refused: {why}", NESTING_HINT)]
    if not isinstance(body, dict):
        return None, [Problem(display, 1, "event must be a JSON object")]
    problems: list[Problem] = []
    if body.get("seq") != seq:
        problems.append(
            Problem(
                display,
                None,
                f"event says seq {body.get('seq')!r} but its file is number {seq}",
                "events were renamed or reordered",
            )
        )
    if body.get("prev") != prev:
        problems.append(
            Problem(
                display,
                None,
                "hash chain broken: 'prev' does not match the sha256 of the previous event",
                "an earlier event was edited, deleted or reordered",
            )
        )
    if body.get("type") not in EVENT_TYPES:
        problems.append(Problem(display, None, f"unknown event type {body.get('type')!r}"))
    if not isinstance(body.get("data"), dict) or not isinstance(body.get("actor", {}), dict):
        problems.append(Problem(display, None, "event 'data' and 'actor' must be objects"))
        return None, problems
    event = Event(
        seq,
        body.get("prev"),
        str(body.get("time", "")),
        str(body.get("type")),
        body.get("actor", {}),
        body["data"],
        sha256_hex(raw),
    )
    return event, problems


def read_log(
    backend: Backend, known: Sequence[Event] = (), seqs: Sequence[int] | None = None
) -> tuple[list[Event], list[Problem]]:
    """Every event in order, with chain problems (gaps, edits, reorders) named by file.

    ``known`` is a previously read, already checked prefix of the log; events are
    immutable, so only the ones after it are read again. ``seqs``: the log's listing, when
    the caller has just made it.
    """
    events: list[Event] = list(known)
    problems: list[Problem] = []
    prev: str | None = known[-1].hash if known else None
    expected = known[-1].seq + 1 if known else 0
    for seq in list_event_seqs(backend) if seqs is None else seqs:
        if seq < expected:
            continue
        key = event_key(seq)
        if seq != expected:
            problems.append(
                Problem(
                    backend.display(key),
                    None,
                    f"event log has a gap: events {expected}..{seq - 1} are missing",
                    "events were deleted",
                )
            )
        try:
            raw = backend.read(key)
        except OSError as exc:  # a directory, a symbolic link, no permission
            why = f"event unreadable: {unreadable(exc)}"
            problems.append(Problem(backend.display(key), None, why, "restore it from a backup"))
            prev, expected = None, seq + 1
            continue
        event, found = parse_event(backend.display(key), raw, seq, prev)
        problems.extend(p for p in found if seq == expected or "hash chain" not in p.message)
        if event is not None:
            events.append(event)
        prev, expected = sha256_hex(raw), seq + 1
    return events, problems


def replay(events: Sequence[Event]) -> LogState:
    """Fold the log into the current state. Pure; unknown data is ignored, not trusted."""
    versions: set[tuple[str, int]] = set()
    digests: dict[tuple[str, int], str] = {}
    manifests: dict[tuple[str, int], str] = {}
    aliases: dict[str, dict[str, int]] = {}
    started: set[str] = set()
    finished: dict[str, str] = {}
    for ev in events:
        d = ev.data
        coll, version = str(d.get("collection", "")), d.get("version")
        if ev.type == "version.created" and isinstance(version, int):
            versions.add((coll, version))
            digests[(coll, version)] = str(d.get("digest", ""))
            manifests[(coll, version)] = str(d.get("manifest_sha256", ""))
        elif ev.type == "alias.set" and isinstance(version, int):
            aliases.setdefault(coll, {})[str(d.get("alias"))] = version
        elif ev.type == "alias.removed":
            aliases.get(coll, {}).pop(str(d.get("alias")), None)
        elif ev.type == "run.started":
            started.add(str(d.get("run_id")))
        elif ev.type == "run.finished":
            finished[str(d.get("run_id"))] = str(d.get("status"))
    return LogState(
        frozenset(versions),
        digests,
        manifests,
        {c: dict(a) for c, a in aliases.items()},
        frozenset(started),
        finished,
        events[-1].hash if events else None,
        len(events),
    )
