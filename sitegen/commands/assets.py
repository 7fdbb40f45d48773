"""``sitegen assets fetch|list``: fill and inspect the local cache of pinned JS assets."""

from __future__ import annotations

import argparse
from pathlib import Path

from sitegen import assets
from sitegen.errors import UsageError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``assets fetch [--from-npm DIR] [--cache DIR]`` and ``assets list [--cache DIR]``."""
    parser = subparsers.add_parser(
        "assets",
        help="fetch or list the pinned third-party JS assets (for offline sites and tests)",
        description=(
            "Manage the local cache of pinned third-party JS assets (Vega, Vega-Lite, "
            "vega-embed, cytoscape, cytoscape-dagre). Every file is checked against its "
            "pinned SRI hash before it is accepted."
        ),
    )
    parser.set_defaults(func=run)
    actions = parser.add_subparsers(dest="assets_command", metavar="{fetch,list}")
    actions.required = True

    cache_help = f"asset cache directory (default: ${assets.CACHE_ENV} or ~/.cache/sitegen/assets)"
    fetch = actions.add_parser(
        "fetch",
        help="fill the asset cache from the CDN, or from `npm pack` tarballs",
        description=(
            "Download the pinned assets from jsDelivr into the cache, or with --from-npm "
            "take them from the tarballs that scripts/npm-assets.sh (`npm pack`) wrote."
        ),
    )
    fetch.add_argument(
        "--from-npm",
        metavar="DIR",
        type=Path,
        default=None,
        help="directory of `npm pack` tarballs (*.tgz) to read instead of the CDN",
    )
    fetch.add_argument("--cache", metavar="DIR", type=Path, default=None, help=cache_help)

    listing = actions.add_parser("list", help="show the pins, their SRI hashes and cache state")
    listing.add_argument("--cache", metavar="DIR", type=Path, default=None, help=cache_help)


def run(args: argparse.Namespace) -> int:
    """Run ``assets fetch|list``. Bad input raises SitegenError (``sitegen.cli`` prints the
    problems and exits 1)."""
    cache: Path = args.cache if args.cache is not None else assets.default_cache_dir()
    if args.assets_command == "fetch":
        return _fetch(cache, args.from_npm)
    if args.assets_command == "list":
        return _list(cache)
    raise UsageError.single("sitegen assets", f"unknown command {args.assets_command!r}")


def _fetch(cache: Path, from_npm: Path | None) -> int:
    if from_npm is not None:
        written = assets.fill_cache_from_npm(from_npm, cache)
        source = f"npm tarballs in {from_npm}"
    else:
        written = assets.fill_cache_from_cdn(cache)
        source = assets.CDN_BASE
    already = len(assets.ASSETS) - len(written)
    print(
        f"assets: {len(written)} verified from {source} into {cache}"
        + (f" ({already} already cached)" if already and from_npm is None else "")
    )
    for asset in written:
        print(f"  {asset.key:<16} {asset.spec}/{asset.path}")
    return 0


def _list(cache: Path) -> int:
    print(f"asset cache: {cache}")
    for asset, state in assets.cache_status(cache):
        print(f"{asset.key:<16} {state:<8} {asset.spec}/{asset.path}")
        print(f"{'':<16} {'':<8} {asset.sri}")
    print(f"chart pages load: {' '.join(assets.CHART_ASSETS)}")
    print(f"graph pages load: {' '.join(assets.GRAPH_ASSETS)}")
    return 0
