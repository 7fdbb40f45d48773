"""The model: checked records joined into one immutable picture of a project.

Pure: ``build_model(records, config)`` only rearranges; no I/O, no rendering.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

from sitegen.charts import history_metrics, series
from sitegen.config import MetricSpec, SiteConfig
from sitegen.errors import Problem
from sitegen.store.events import Event
from sitegen.store.records import CollectionInfo, Records, VersionRecord
from sitegen.store.rows import Curves, PackedRows
from sitegen.store.run_records import RunRecord

MAX_DEFAULT_METRICS = 4


class Version(NamedTuple):
    """A version as the site shows it (a tuple: 10,000 are made per build at 10k)."""

    record: VersionRecord
    aliases: tuple[str, ...]
    producer: str | None
    consumers: tuple[str, ...]
    size: int

    @property
    def ref(self) -> str:
        return self.record.ref

    @property
    def label(self) -> str:
        return f"v{self.record.version}"


@dataclass(frozen=True)
class AliasChange:
    seq: int
    time: str
    alias: str
    action: str
    version: int | None
    actor: str


@dataclass(frozen=True)
class Collection:
    type: str
    name: str
    info: CollectionInfo | None
    versions: tuple[Version, ...]
    aliases: Mapping[str, int]
    alias_history: tuple[AliasChange, ...]

    @property
    def ref(self) -> str:
        return f"{self.type}/{self.name}"


@dataclass(frozen=True)
class Run:
    record: RunRecord
    history: Sequence[Mapping[str, Any]]
    history_sha256: str = ""

    @property
    def id(self) -> str:
        return self.record.id

    @cached_property
    def metric_names(self) -> tuple[str, ...]:
        """Numeric metrics in the history, sorted (computed once per run)."""
        curves = self._curves
        return curves.names if curves else tuple(history_metrics(self.history))

    def series(self, metric: str) -> list[tuple[int, float]]:
        """(step, value) points of ``metric``, cached: pages and comparisons share them."""
        cache = self._series
        if metric not in cache:
            curves = self._curves
            if curves and metric in curves.names:
                cache[metric] = curves.series(metric)
            else:
                cache[metric] = series(self.history, metric)
        return cache[metric]

    @property
    def _curves(self) -> Curves | None:
        """A memoized history's curves, read without unpacking its rows."""
        return self.history.curves if isinstance(self.history, PackedRows) else None

    @cached_property
    def _series(self) -> dict[str, list[tuple[int, float]]]:
        return {}


@dataclass(frozen=True)
class Project:
    name: str
    collections: tuple[Collection, ...]
    runs: tuple[Run, ...]
    events: tuple[Event, ...]
    log_head: str | None
    metrics: tuple[MetricSpec, ...]
    problems: tuple[Problem, ...]
    withheld: tuple[str, ...] = ()

    @cached_property
    def _runs_by_id(self) -> dict[str, Run]:
        return {r.id: r for r in self.runs}

    def run(self, run_id: str) -> Run | None:
        return self._runs_by_id.get(run_id)

    @cached_property
    def _versions_by_ref(self) -> dict[str, Version]:
        return {v.ref: v for c in self.collections for v in c.versions}

    def version(self, ref: str) -> Version | None:
        return self._versions_by_ref.get(ref)


def actor_label(actor: Mapping[str, Any]) -> str:
    who = str(actor.get("user", "")) or "unknown"
    host = str(actor.get("host", ""))
    run = actor.get("run")
    return f"{who}@{host}" + (f" (run {run})" if run else "")


def alias_changes(events: tuple[Event, ...]) -> dict[str, list[AliasChange]]:
    changes: dict[str, list[AliasChange]] = defaultdict(list)
    for ev in events:
        if ev.type in ("alias.set", "alias.removed"):
            version = ev.data.get("version")
            changes[str(ev.data.get("collection"))].append(
                AliasChange(
                    ev.seq,
                    ev.time,
                    str(ev.data.get("alias")),
                    "set" if ev.type == "alias.set" else "removed",
                    version if isinstance(version, int) else None,
                    actor_label(ev.actor),
                )
            )
    return changes


def choose_metrics(config: SiteConfig, runs: tuple[RunRecord, ...]) -> tuple[MetricSpec, ...]:
    """Configured metrics, else the numeric summary keys most runs share."""
    if config.metrics:
        return config.metrics
    counts: Counter[str] = Counter()
    for run in runs:
        counts.update(
            k
            for k, v in run.summary.items()
            if isinstance(v, int | float) and not isinstance(v, bool) and not k.startswith("_")
        )
    common = sorted(counts, key=lambda k: (-counts[k], k))[:MAX_DEFAULT_METRICS]
    return tuple(MetricSpec(name, config.direction(name)) for name in sorted(common))


def build_model(records: Records, config: SiteConfig, withheld: tuple[str, ...] = ()) -> Project:
    producers = {v.ref: v.run for v in records.versions if v.run}
    run_ids = {r.id for r in records.runs}
    for run in records.runs:
        for ref in run.outputs:
            producers.setdefault(ref, run.id)
    consumers: dict[str, list[str]] = defaultdict(list)
    for run in sorted(records.runs, key=lambda r: (r.started_at, r.id)):
        for ref in run.inputs:
            consumers[ref].append(run.id)
    by_collection: dict[str, list[Version]] = defaultdict(list)
    for record in sorted(records.versions, key=lambda v: (v.collection, v.version)):
        aliases = tuple(
            sorted(
                a
                for a, n in records.state.aliases.get(record.collection, {}).items()
                if n == record.version
            )
        )
        producer = producers.get(record.ref)
        by_collection[record.collection].append(
            Version(
                record,
                aliases,
                producer if producer in run_ids else None,
                tuple(consumers.get(record.ref, ())),
                record.total_size,
            )
        )
    changes = alias_changes(records.events)
    collections = tuple(
        Collection(
            coll.split("/")[0],
            coll.split("/", 1)[1],
            records.collections.get(coll),
            tuple(versions),
            dict(records.state.aliases.get(coll, {})),
            tuple(changes.get(coll, ())),
        )
        for coll, versions in sorted(by_collection.items())
    )
    runs = tuple(
        Run(r, records.histories.get(r.id, ()), records.history_sha256.get(r.id, ""))
        for r in sorted(records.runs, key=lambda r: (r.started_at, r.id), reverse=True)
    )
    return Project(
        records.project,
        collections,
        runs,
        records.events,
        records.state.head,
        choose_metrics(config, records.runs),
        records.problems,
        withheld,
    )
