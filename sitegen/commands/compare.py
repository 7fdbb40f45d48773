"""``sitegen compare REF REF… --store S``: the comparison in a terminal, markdown or JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sitegen.build import object_reader
from sitegen.compare import compare
from sitegen.compare_format import format_comparison
from sitegen.config import load_config
from sitegen.errors import UsageError
from sitegen.model import Version, build_model
from sitegen.sdk.store import Store
from sitegen.store import store_location


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("compare", help="compare two or more artifact versions")
    parser.add_argument(
        "refs", nargs="+", metavar="REF", help="versions, e.g. model/grader:v1 grader:production"
    )
    parser.add_argument("--store", required=True, type=store_location)
    parser.add_argument(
        "-c", "--config", type=Path, default=None, help="site config (metric directions)"
    )
    parser.add_argument("--format", choices=("text", "md", "json"), default="text")
    parser.add_argument(
        "--baseline", type=int, default=0, help="index of the baseline among REFs (default 0)"
    )
    parser.add_argument(
        "--only-differences", action="store_true", help="hide rows that are the same"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if len(args.refs) < 2:
        raise UsageError.single("compare", "give at least two versions to compare")
    if not 0 <= args.baseline < len(args.refs):
        raise UsageError.single("--baseline", f"must be between 0 and {len(args.refs) - 1}")
    store = Store(args.store)
    resolved = [store.resolve(ref) for ref in args.refs]
    project = build_model(
        store.load_valid(), config := load_config(args.config, _local(args.store))
    )
    by_ref = {v.ref: v for c in project.collections for v in c.versions}
    versions: list[Version] = []
    for type_, name, number in resolved:
        versions.append(by_ref[f"{type_}/{name}:v{number}"])
    result = compare(project, versions, config, args.baseline, object_reader(store.backend.read))
    if args.format == "json":
        print(json.dumps(result, indent=2, sort_keys=True, ensure_ascii=False))
    else:
        print(format_comparison(result, args.format == "md", args.only_differences), end="")
    return 0


def _local(store: Path | str) -> Path | None:
    """The store directory for the config lookup beside it; None for a remote store."""
    return store if isinstance(store, Path) else None
