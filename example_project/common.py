"""Shared plumbing for the example: one deterministic logging context and small file helpers.

Everything written here must be byte-stable: sorted JSON keys, '\\n' line endings, floats
rounded to 6 digits, no wall-clock time, no random ids.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

import sitegen

PROJECT = "AI-Education-Model-Comparison"
START = "2024-01-08T09:00:00Z"
HOUR = 3600.0
DAY = 24 * HOUR


def r6(value: Any) -> float:
    """A float rounded to 6 digits, so logged JSON does not depend on the last ulp."""
    return round(float(value), 6)


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value, sort_keys=True, indent=2) + "\n", encoding="utf-8")
    return path


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False, lineterminator="\n")
    return path


@dataclass
class Logbook:
    """Where and when things are logged: one store, one fixed clock, one scratch dir."""

    store: Path
    scratch: Path
    clock: sitegen.FixedClock = field(default_factory=lambda: sitegen.FixedClock(START))

    def init(self, run_id: str, job_type: str, config: dict[str, Any], **kw: Any) -> sitegen.Run:
        """``sitegen.init`` with the fixed clock, user, host and no git commit."""
        return sitegen.init(
            store=self.store,
            project=PROJECT,
            job_type=job_type,
            config=config,
            name=kw.pop("name", run_id),
            id=run_id,
            clock=self.clock,
            user="example",
            host="example-host",
            git={},
            **kw,
        )

    def admin(self) -> sitegen.Store:
        return sitegen.Store(self.store, clock=self.clock, user="example", host="example-host")

    def workdir(self, name: str) -> Path:
        """A fresh, empty scratch directory for one run's files."""
        path = self.scratch / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def describe_collection(self, collection: str, description: str, tags: list[str]) -> None:
        """Write the human-edited ``collection.yaml`` (description + tags) of a collection."""
        path = self.store / "artifacts" / collection / "collection.yaml"
        text = yaml.safe_dump(
            {"description": description, "tags": tags},
            sort_keys=True,
            allow_unicode=True,
            width=100,
        )
        path.write_text(text, encoding="utf-8")


def frame_schema(frame: pd.DataFrame, target: str) -> dict[str, Any]:
    """A small ``schema.json``: column dtypes, missing counts and numeric ranges."""
    columns = []
    for name in frame.columns:
        col = frame[name]
        info: dict[str, Any] = {"name": name, "dtype": str(col.dtype)}
        info["missing"] = int(col.isna().sum())
        if pd.api.types.is_numeric_dtype(col):
            info.update(min=r6(col.min()), max=r6(col.max()), mean=r6(col.mean()))
        columns.append(info)
    return {"rows": len(frame), "target": target, "columns": columns}


def dataset_artifact(
    name: str, frame: pd.DataFrame, target: str, workdir: Path, **kw: Any
) -> sitegen.Artifact:
    """A dataset version: the table as ``<name>.csv`` plus its ``schema.json``."""
    art = sitegen.Artifact(name, type="dataset", **kw)
    art.add_file(write_csv(workdir / f"{name}.csv", frame))
    art.add_file(write_json(workdir / "schema.json", frame_schema(frame, target)))
    return art


def add_raw_reference(art: sitegen.Artifact, source: Any) -> None:
    """Record the upstream file (a vega_datasets dataset) by URL and digest, not by copy."""
    path = Path(source.filepath)
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    art.add_reference(source.url, sha256=sha, size=len(data), name=f"raw/{path.name}")


def read_version_csv(version: sitegen.ArtifactVersion, workdir: Path) -> pd.DataFrame:
    """Download a dataset version (sha256-checked) and read its table."""
    local = version.download(workdir / version.ref.replace("/", "_").replace(":", "_"))
    return pd.read_csv(local / f"{version.name}.csv")
