"""``sitegen build STORE``: the main job."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sitegen.build import BuildOptions, build
from sitegen.store import store_location


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("build", help="build the static site from a store")
    add_build_arguments(parser)
    parser.set_defaults(func=run)


def add_build_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "store", type=store_location, help="store directory or URL (s3://bucket/prefix)"
    )
    parser.add_argument(
        "-o", "--output", type=Path, default=Path("site"), help="output directory (default: site)"
    )
    parser.add_argument(
        "-c",
        "--config",
        type=Path,
        default=None,
        help="site config (default: sitegen.yaml in or beside the store)",
    )
    parser.add_argument("--strict", action="store_true", help="fail on warnings too")
    parser.add_argument(
        "--offline",
        action="store_true",
        help="put the pinned JS into the site: no page makes a network request",
    )
    parser.add_argument(
        "--zip",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write the site as a deterministic zip (for audits)",
    )
    parser.add_argument(
        "-j", "--jobs", type=int, default=0, help="render processes (default: CPU count)"
    )


def options_from(args: argparse.Namespace) -> BuildOptions:
    return BuildOptions(
        args.store, args.output, args.config, args.strict, args.offline, args.jobs, args.zip
    )


def run(args: argparse.Namespace) -> int:
    report = build(options_from(args))
    for problem in report.problems:
        print(problem, file=sys.stderr)
    print(
        f"built {report.pages} files into {report.out} in {report.seconds:.2f}s "
        f"({report.rendered} rendered, {report.reused} unchanged)"
    )
    return 0
