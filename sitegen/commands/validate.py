"""``sitegen validate STORE``: print every problem of a store; exit 1 if any is an error."""

from __future__ import annotations

import argparse
import sys

from sitegen.errors import errors_only
from sitegen.sdk.store import Store


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("validate", help="check a store and list every problem")
    parser.add_argument("store", help="store directory")
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    records = Store(args.store).load()
    for problem in sorted(records.problems):
        print(problem, file=sys.stderr)
    failing = errors_only(records.problems, args.strict)
    print(
        f"{args.store}: {len(records.versions)} versions, {len(records.runs)} runs, "
        f"{len(records.events)} events; {len(failing)} error(s), "
        f"{len(records.problems) - len(failing)} other problem(s)"
    )
    return 1 if failing else 0
