"""Importers: build a sitegen store from what teams already have (MLflow, W&B, DVC).

Each importer reads its source into an :class:`~sitegen.importers.common.ImportPlan`
without writing anything; :func:`import_source` checks the plan and writes it into a
store with :func:`~sitegen.importers.apply.apply_plan`, idempotently. The tools themselves
are never imported: every source is read from its files (YAML, JSON, SQLite via the
standard library, git through the ``git`` command for DVC revisions).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from sitegen.errors import UsageError
from sitegen.importers.apply import ImportReport, apply_plan
from sitegen.importers.common import ImportPlan
from sitegen.sdk.clock import utc_now
from sitegen.sdk.store import default_actor
from sitegen.store import open_backend
from sitegen.store.writer import Clock, StoreWriter

TOOLS = ("mlflow", "wandb", "dvc")


def read_plan(tool: str, src: Path, revs: Sequence[str] = ()) -> ImportPlan:
    """The plan for ``src`` (nothing is written)."""
    if revs and tool != "dvc":
        raise UsageError.single("--rev", "--rev is only for `sitegen import dvc`")
    if tool == "mlflow":
        from sitegen.importers import mlflow

        return mlflow.load(src)
    if tool == "wandb":
        from sitegen.importers import wandb

        return wandb.load(src)
    if tool == "dvc":
        from sitegen.importers import dvc

        return dvc.load(src, revs)
    raise UsageError.single(tool, f"unknown source {tool!r}", f"use one of {', '.join(TOOLS)}")


def import_source(
    tool: str,
    src: str | os.PathLike[str],
    store: str | os.PathLike[str],
    project: str = "default",
    revs: Sequence[str] = (),
    clock: Clock | None = None,
    user: str | None = None,
    host: str | None = None,
) -> ImportReport:
    """Import ``src`` (an MLflow store, W&B files, a DVC repo) into ``store``."""
    plan = read_plan(tool, Path(src), revs)
    writer = StoreWriter(open_backend(store), clock or utc_now, default_actor(user, host))
    return apply_plan(plan, writer, project)


__all__ = ["TOOLS", "ImportPlan", "ImportReport", "import_source", "read_plan"]
