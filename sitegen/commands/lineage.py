"""``sitegen lineage REF --store S``: the lineage around a version or run as Mermaid, DOT or JSON."""

from __future__ import annotations

import argparse

from sitegen.config import SiteConfig
from sitegen.errors import SitegenError
from sitegen.lineage import build_graph, neighbourhood, run_id, version_id
from sitegen.lineage_export import dumps, to_dot, to_json, to_mermaid
from sitegen.model import build_model
from sitegen.sdk.store import Store
from sitegen.store import store_location


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("lineage", help="export the lineage around a version or run")
    parser.add_argument("ref", help="a version (model/grader:v3, grader:production) or run:<id>")
    parser.add_argument("--store", required=True, type=store_location)
    parser.add_argument(
        "--depth", type=int, default=100, help="hops to follow (default: 100, i.e. all in practice)"
    )
    parser.add_argument("--direction", choices=("up", "down", "both"), default="both")
    parser.add_argument("--format", choices=("mermaid", "dot", "json"), default="mermaid")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    store = Store(args.store)
    graph = build_graph(build_model(store.load_valid(), SiteConfig()))
    if args.ref.startswith("run:"):
        centre = run_id(args.ref.removeprefix("run:"))
        if centre not in graph.nodes:
            raise SitegenError.single(
                args.ref,
                "no such run in this store",
                "run ids are listed by `sitegen build` on the Runs page",
            )
    else:
        type_, name, number = store.resolve(args.ref)
        centre = version_id(f"{type_}/{name}:v{number}")
    sub = neighbourhood(graph, centre, max(args.depth, 0), args.direction)
    text = {"mermaid": to_mermaid, "dot": to_dot}.get(args.format)
    print(text(sub) if text else dumps(to_json(sub)), end="")
    return 0
