"""``sitegen alias set|rm REF ALIAS``: move or remove a mutable pointer (an event in the log)."""

from __future__ import annotations

import argparse

from sitegen.sdk.store import Store


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("alias", help="set or remove an alias such as production")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    set_parser = actions.add_parser("set", help="point ALIAS at the version REF")
    set_parser.add_argument("ref", help="version, e.g. model/essay-grader:v3")
    set_parser.add_argument("alias")
    set_parser.add_argument("--store", required=True)
    set_parser.set_defaults(func=run_set)
    rm_parser = actions.add_parser("rm", help="remove ALIAS from a collection")
    rm_parser.add_argument("ref", help="collection, e.g. model/essay-grader")
    rm_parser.add_argument("alias")
    rm_parser.add_argument("--store", required=True)
    rm_parser.set_defaults(func=run_rm)


def run_set(args: argparse.Namespace) -> int:
    store = Store(args.store)
    store.set_alias(args.ref, args.alias)
    collection = args.ref.split(":")[0]
    print(f"{args.alias} -> {store.artifact(collection + ':' + args.alias).ref}")
    return 0


def run_rm(args: argparse.Namespace) -> int:
    Store(args.store).remove_alias(args.ref, args.alias)
    print(f"removed {args.alias} from {args.ref.split(':')[0]}")
    return 0
