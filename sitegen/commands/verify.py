"""``sitegen verify STORE``: re-hash every object, recheck every digest and the log's chain."""

from __future__ import annotations

import argparse
import sys

from sitegen.store import open_backend
from sitegen.verify import report_json, store_root_digest, verify


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "verify", help="audit a store: re-hash objects, check digests and the event log"
    )
    parser.add_argument("store", help="store directory")
    parser.add_argument("--json", action="store_true", help="print a machine-readable report")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    report = verify(open_backend(args.store))
    if args.json:
        print(report_json(report))
        return 0 if report.ok else 1
    for problem in report.problems:
        print(problem, file=sys.stderr)
    versions = len(report.versions)
    bad = sum(1 for v in report.versions if not v.ok)
    print(
        f"{args.store}: {versions} versions ({bad} failing), {report.objects_checked} objects re-hashed, "
        f"{len(report.records.events)} events, log head {(report.records.state.head or '')[:16]}, "
        f"root digest {store_root_digest(report.records)[:16]}: {'OK' if report.ok else f'{len(report.problems)} problem(s)'}"
    )
    return 0 if report.ok else 1
