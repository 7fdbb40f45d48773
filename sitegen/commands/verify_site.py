"""``sitegen verify-site SITE``: check a built site against its SHA256SUMS and provenance."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sitegen.integrity import verify_site


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "verify-site", help="check a built site against SHA256SUMS and provenance.json"
    )
    parser.add_argument("site", type=Path, help="built site directory")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    problems = verify_site(args.site)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{args.site}: {'OK' if not problems else f'{len(problems)} problem(s)'}")
    return 1 if problems else 0
