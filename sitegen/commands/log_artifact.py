"""``sitegen log-artifact PATH``: log a file or directory as a new version, without Python."""

from __future__ import annotations

import argparse
from pathlib import Path

from sitegen.errors import UsageError
from sitegen.sdk.artifact import Artifact
from sitegen.sdk.store import Store


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("log-artifact", help="log a file or directory as a new version")
    parser.add_argument("path", help="file or directory to log")
    parser.add_argument("--store", required=True, help="store directory (created if missing)")
    parser.add_argument("--project", default="default", help="project name for a new store")
    parser.add_argument("--name", required=True, help="collection name, e.g. essay-grader")
    parser.add_argument("--type", required=True, help="artifact type, e.g. model or dataset")
    parser.add_argument("--description", default="", help="markdown description")
    parser.add_argument("--alias", action="append", default=[], help="alias to set (repeatable)")
    parser.add_argument(
        "--metadata", action="append", default=[], metavar="KEY=VALUE", help="metadata (repeatable)"
    )
    parser.set_defaults(func=run)


def parse_metadata(items: list[str]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError.single("--metadata", f"expected KEY=VALUE, got {item!r}")
        pairs[key] = value
    return pairs


def run(args: argparse.Namespace) -> int:
    metadata = parse_metadata(args.metadata)
    artifact = Artifact(args.name, type=args.type, description=args.description, metadata=metadata)
    path = Path(args.path)
    if path.is_dir():
        artifact.add_dir(path)
    else:
        artifact.add_file(path)
    store = Store(args.store, project=args.project)
    before = set(store.state().versions)
    version = store.log_artifact(artifact, aliases=args.alias)
    new = (version.collection, version.version) not in before
    print(f"{version.ref} {version.digest}{'' if new else ' (unchanged: identical content)'}")
    return 0
