"""``sitegen import mlflow|wandb|dvc SRC --store S``: build a store from existing records."""

from __future__ import annotations

import argparse
import sys

from sitegen.importers import TOOLS, import_source


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "import",
        help="import runs and artifacts from MLflow, W&B or DVC (idempotent)",
        description="Import runs, artifacts and lineage from another tool into a store. "
        "Importing the same source again changes nothing; a grown source adds only what is new.",
    )
    parser.add_argument("tool", choices=TOOLS, help="the source's tool")
    parser.add_argument(
        "src",
        help="mlflow: mlruns/ or mlflow.db; wandb: a directory with wandb/ run dirs and "
        "artifacts/; dvc: the repository (with dvc.yaml and dvc.lock)",
    )
    parser.add_argument("--store", required=True, help="store directory (created if missing)")
    parser.add_argument("--project", default="default", help="project name for a new store")
    parser.add_argument(
        "--rev",
        action="append",
        default=[],
        metavar="git:REV",
        help="dvc only: import the lock state of this git revision (repeatable, oldest "
        "first); default: the working tree",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    report = import_source(args.tool, args.src, args.store, args.project, args.rev)
    for problem in report.problems:
        print(problem, file=sys.stderr)
    print(report.summary())
    return 0
