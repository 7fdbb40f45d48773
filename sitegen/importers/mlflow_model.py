"""MLflow's data, as both backends (file store, SQLite) are read into it.

The two readers fill the same frozen dataclasses, so the conversion to a sitegen plan
(:mod:`sitegen.importers.mlflow`) cannot tell them apart: same source, same result.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from sitegen.importers.common import ImportPlan, safe_join

# MLflow's RunStatus enum (the file store writes the numbers, SQLite the names).
STATUS_NAMES = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
STATUS_MAP = {
    "RUNNING": "running",
    "SCHEDULED": "running",
    "FINISHED": "finished",
    "FAILED": "failed",
    "KILLED": "crashed",
}


@dataclass(frozen=True)
class Point:
    key: str
    step: int
    timestamp: int
    value: float

    def identity(self) -> tuple[str, int, int, bool, float]:
        """Equal for equal points, NaN included (MLflow's SQL primary key, in effect)."""
        nan = math.isnan(self.value)
        return (self.key, self.step, self.timestamp, nan, 0.0 if nan else self.value)


@dataclass(frozen=True)
class Dataset:
    name: str
    digest: str
    source_type: str
    source: str
    schema: str
    profile: str

    @property
    def key(self) -> str:
        return f"mlflow:dataset:{self.name}:{self.digest}"


@dataclass(frozen=True)
class Run:
    id: str
    experiment_id: str
    experiment: str
    name: str
    status: str
    start_ms: int | None
    end_ms: int | None
    user: str
    params: Mapping[str, str]
    tags: Mapping[str, str]
    points: tuple[Point, ...]
    datasets: tuple[Dataset, ...]
    artifact_uri: str
    artifact_dir: Path | None
    display: str


@dataclass(frozen=True)
class LoggedModel:
    id: str
    experiment: str
    name: str
    source_run_id: str | None
    created_ms: int | None
    status: str
    params: Mapping[str, str]
    tags: Mapping[str, str]
    artifact_dir: Path | None
    display: str


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: int
    created_ms: int | None
    description: str
    source: str
    storage_location: str
    run_id: str | None
    stage: str
    status: str
    model_id: str | None
    display: str


@dataclass
class Source:
    """Everything read from one MLflow store."""

    kind: str
    base: Path
    runs: list[Run] = field(default_factory=list)
    models: list[LoggedModel] = field(default_factory=list)
    versions: list[ModelVersion] = field(default_factory=list)
    aliases: dict[str, dict[str, int]] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)


def status_name(raw: object) -> str:
    if isinstance(raw, int):
        return STATUS_NAMES.get(raw, "RUNNING")
    text = str(raw or "RUNNING").upper()
    return STATUS_NAMES.get(int(text), "RUNNING") if text.isdigit() else text


def uri_path(uri: str) -> str | None:
    """The local path a ``file:`` URI or absolute path names; None for other schemes."""
    if uri.startswith("/"):
        return uri
    parts = urlsplit(uri)
    if parts.scheme == "file" and parts.netloc in ("", "localhost"):
        return unquote(parts.path)
    return None


def relocate(uri: str, base: Path, plan: ImportPlan, where: str) -> Path | None:
    """Find, *inside* ``base``, the directory an absolute artifact location recorded elsewhere.

    A store copied from another machine records absolute paths of that machine; the longest
    suffix (of two segments or more) of the recorded path that exists under ``base`` is the
    same place here. Nothing
    outside ``base`` is ever read; '..' or '.' segments are refused.
    """
    path = uri_path(uri)
    if path is None:
        return None
    parts = [p for p in PurePosixPath(path).parts if p != "/"]
    if any(p in {"..", "."} for p in path.split("/")):
        plan.error(
            where, f"artifact location {uri!r} has '..' or '.' segments", "it was not followed"
        )
        return None
    for start in range(max(len(parts) - 1, 1)):  # at least two segments must match
        candidate, why = safe_join(base, "/".join(parts[start:]))
        if why is None and candidate is not None and candidate.is_dir():
            return candidate
    return None


def first_line(values: Iterable[Any]) -> str:
    return next((str(v) for v in values if v), "")
