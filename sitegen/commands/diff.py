"""``sitegen diff BASE HEAD``: what changed between two stores, for pull-request review.

Exit codes: 0 report printed, 1 bad input (a store, a git revision), 2 usage error
(including a malformed ``--fail-on``), 3 a regression gate tripped.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from sitegen.config import URL_RE, SiteConfig, load_config
from sitegen.diff import DiffOptions, diff_projects
from sitegen.diff_format import DEFAULT_MAX_CHARS, GITHUB_COMMENT_LIMIT, MIN_MAX_CHARS, format_diff
from sitegen.errors import UsageError
from sitegen.gates import parse_gates
from sitegen.gitstore import load_project, parse_source, resolve_store

GATE_TRIPPED = 3


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "diff",
        help="what changed between two stores (markdown for pull requests, gates)",
        description="Report new collections and versions, alias changes, metric deltas "
        "against a baseline, config and file changes and new lineage edges between BASE "
        "and HEAD. Exit 3 when a --fail-on gate trips.",
    )
    parser.add_argument("base", metavar="BASE", help="store directory or git:REV:PATH")
    parser.add_argument("head", metavar="HEAD", help="store directory or git:REV:PATH")
    parser.add_argument("--format", choices=("text", "md", "json"), default="text")
    parser.add_argument(
        "--site-url", default=None, metavar="URL", help="link every item to its page there"
    )
    parser.add_argument(
        "--baseline-alias",
        default="production",
        metavar="ALIAS",
        help="compare new versions with the version this alias points to in BASE "
        "(else the previous version; default: production)",
    )
    parser.add_argument(
        "--fail-on",
        action="append",
        default=[],
        metavar="EXPR",
        help='regression gate, e.g. "accuracy < -0.01" or "latency_ms > +10%%" (repeatable)',
    )
    parser.add_argument(
        "-c", "--config", type=Path, default=None, help="site config (metric directions)"
    )
    parser.add_argument(
        "--max-chars",
        type=int,
        default=DEFAULT_MAX_CHARS,
        help=f"markdown size limit (default {DEFAULT_MAX_CHARS:,}; GitHub allows "
        f"{GITHUB_COMMENT_LIMIT:,})",
    )
    parser.set_defaults(func=run)


def _site_url(args: argparse.Namespace, config: SiteConfig) -> str | None:
    url: str | None = args.site_url or config.base_url
    if url is not None and not URL_RE.match(url):
        raise UsageError.single("--site-url", f"must be an http(s) URL, got {url!r}")
    return url


def _config(args: argparse.Namespace) -> SiteConfig:
    """-c, else sitegen.yaml in/beside HEAD (or BASE) when it is a directory."""
    if args.config is not None:
        return load_config(args.config)
    for side in (args.head, args.base):
        if parse_source(side) is None:
            return load_config(None, Path(side))
    return SiteConfig()


def run(args: argparse.Namespace) -> int:
    gates = parse_gates(args.fail_on)
    if not MIN_MAX_CHARS <= args.max_chars <= GITHUB_COMMENT_LIMIT:
        raise UsageError.single(
            "--max-chars", f"must be between {MIN_MAX_CHARS:,} and {GITHUB_COMMENT_LIMIT:,}"
        )
    config = _config(args)
    options = DiffOptions(args.baseline_alias, _site_url(args, config), gates, args.base, args.head)
    with tempfile.TemporaryDirectory(prefix="sitegen-diff-") as tmp:
        base_dir = resolve_store(args.base, Path(tmp) / "base")
        head_dir = resolve_store(args.head, Path(tmp) / "head")
        base = load_project(base_dir, config, args.base)
        head = load_project(head_dir, config, args.head)
    for problem in sorted(p for p in (*base.problems, *head.problems) if p.severity == "error"):
        print(problem, file=sys.stderr)
    report = diff_projects(base, head, config, options)
    for gate in report["gates"] if report["new_versions"] else ():
        if not gate["checked"]:
            print(
                f"warning: gate {gate['expression']!r} checked nothing: no new version has a "
                f"baseline value for a metric matching {gate['metric']!r}",
                file=sys.stderr,
            )
    if args.format == "json":
        print(json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False))
    else:
        print(format_diff(report, args.format == "md", args.max_chars), end="")
    return GATE_TRIPPED if report["summary"]["tripped"] else 0
