"""``sitegen.init()`` and ``Run``: record what happened, shaped like ``wandb.init``."""

from __future__ import annotations

import os
import secrets
import string
import subprocess
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from sitegen.errors import InvalidInput, Problem
from sitegen.sdk.artifact import Artifact
from sitegen.sdk.jsonable import to_jsonable
from sitegen.sdk.store import ArtifactVersion, Store
from sitegen.store.format import check_run_id
from sitegen.store.writer import Clock

HISTORY_FLUSH_ROWS = 1000
FINAL_STATUSES = frozenset({"finished", "failed", "crashed"})
_ID_ALPHABET = string.ascii_lowercase + string.digits


def detect_git(cwd: str | None = None) -> dict[str, Any]:
    """The current git commit and whether the tree is dirty; empty outside a repository."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()

    try:
        return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))}
    except (OSError, subprocess.SubprocessError):
        return {}


class Run:
    """One execution: config in, metrics and artifacts out. Use as a context manager."""

    def __init__(
        self,
        store: Store,
        run_id: str,
        name: str,
        job_type: str,
        config: Mapping[str, Any],
        notes: str,
        tags: tuple[str, ...],
        git: Mapping[str, Any],
    ) -> None:
        self.store, self.id, self.name, self.job_type = store, run_id, name, job_type
        self.config: dict[str, Any] = to_jsonable(dict(config), "config")
        self.summary: dict[str, Any] = {}
        self.notes, self.tags, self.git = notes, tags, dict(git)
        self.inputs: list[str] = []
        self.outputs: list[str] = []
        self.started_at = store.writer.clock()
        self.finished_at: str | None = None
        self.status = "running"
        self._history: list[dict[str, Any]] = []
        self._step = 0
        self._flushed = 0
        self._write_record()
        store.writer.append("run.started", {"run_id": run_id, "job_type": job_type}, self._actor())

    def _actor(self) -> dict[str, Any]:
        return {**self.store.writer.actor, "run": self.id}

    def record(self) -> dict[str, Any]:
        actor = self.store.writer.actor
        self.config = to_jsonable(self.config, "config")
        self.summary = to_jsonable(self.summary, "summary")
        return {
            "format": 1,
            "id": self.id,
            "name": self.name,
            "job_type": self.job_type,
            "status": self.status,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "config": self.config,
            "summary": self.summary,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "git": self.git,
            "host": actor.get("host", ""),
            "user": actor.get("user", ""),
            "notes": self.notes,
            "tags": list(self.tags),
        }

    def _write_record(self) -> str:
        return self.store.writer.write_run(self.record())

    def log(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Append one history row; numbers also become the latest summary values."""
        if step is not None:
            if self._history and step < self._history[-1]["_step"]:
                raise InvalidInput(
                    [
                        Problem(
                            f"run {self.id}",
                            None,
                            f"step {step} goes backwards",
                            "steps must not decrease",
                        )
                    ]
                )
            self._step = step
        row: dict[str, Any] = {"_step": self._step}
        for key, raw in metrics.items():
            value = to_jsonable(raw, f"log[{key!r}]")
            row[str(key)] = value
            if isinstance(value, int | float) and not isinstance(value, bool):
                self.summary[str(key)] = value
        self._history.append(row)
        self._step += 1
        if len(self._history) - self._flushed >= HISTORY_FLUSH_ROWS:
            self._flush_history()

    def _flush_history(self) -> None:
        self.store.writer.write_history(self.id, self._history)
        self._flushed = len(self._history)

    def use_artifact(self, ref: str) -> ArtifactVersion:
        """Resolve ``[type/]name[:alias]`` and record it as an input of this run (a lineage edge)."""
        version = self.store.artifact(ref)
        if version.ref not in self.inputs:
            self.inputs.append(version.ref)
            self._write_record()
            self.store.writer.append(
                "artifact.used", {"run_id": self.id, "ref": version.ref}, self._actor()
            )
        return version

    def log_artifact(
        self, artifact: Artifact, aliases: tuple[str, ...] | list[str] = ()
    ) -> ArtifactVersion:
        """Commit ``artifact`` as a version produced by this run (or return the identical one)."""
        version = self.store.log_artifact(artifact, aliases, run_id=self.id)
        if version.ref not in self.outputs:
            self.outputs.append(version.ref)
            self._write_record()
        return version

    def finish(self, status: str = "finished") -> None:
        if status not in FINAL_STATUSES:
            raise InvalidInput(
                [
                    Problem(
                        f"run {self.id}",
                        None,
                        f"unknown status {status!r}",
                        f"use one of {', '.join(sorted(FINAL_STATUSES))}",
                    )
                ]
            )
        if self.status != "running":
            return
        if self._history:
            self._flush_history()
        self.status, self.finished_at = status, self.store.writer.clock()
        record_sha = self._write_record()
        self.store.writer.append(
            "run.finished",
            {"run_id": self.id, "status": status, "record_sha256": record_sha},
            self._actor(),
        )

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
            self.finish("crashed")
        else:
            self.finish("failed" if exc_type is not None else "finished")


def init(
    store: str | os.PathLike[str] = "store",
    project: str = "default",
    job_type: str = "",
    config: Mapping[str, Any] | None = None,
    name: str | None = None,
    id: str | None = None,
    notes: str = "",
    tags: tuple[str, ...] | list[str] = (),
    clock: Clock | None = None,
    user: str | None = None,
    host: str | None = None,
    git: Mapping[str, Any] | None = None,
) -> Run:
    """Start a run in ``store`` (created if needed). ``git=None`` detects the commit."""
    run_id = id or "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))
    if why := check_run_id(run_id):
        raise InvalidInput([Problem("sitegen.init(id=...)", None, why)])
    handle = Store(store, project=project, clock=clock, user=user, host=host)
    if handle.backend.exists(f"runs/{run_id}/run.json"):
        raise InvalidInput(
            [
                Problem(
                    f"runs/{run_id}",
                    None,
                    f"run id {run_id!r} already exists",
                    "run ids are unique; omit id= to get a fresh one",
                )
            ]
        )
    return Run(
        handle,
        run_id,
        name or run_id,
        job_type,
        config or {},
        notes,
        tuple(tags),
        detect_git() if git is None else git,
    )
