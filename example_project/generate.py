"""Regenerate the example store: real models on real (offline) data, logged with sitegen.

    python example_project/generate.py [--out DIR] [--force]

Deterministic: seeds everywhere, fixed run ids, a fixed clock, one BLAS thread, floats
rounded to 6 digits. Running it twice gives byte-identical stores (tests/test_example.py).
Needs the ``example`` extra: ``pip install -e '.[example]'``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import cars
import weather
from common import DAY, Logbook
from threadpoolctl import threadpool_limits

import sitegen

DEFAULT_OUT = Path(__file__).resolve().parent / "store"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="store directory to create")
    parser.add_argument(
        "--force", action="store_true", help="replace --out if it already holds a sitegen store"
    )
    return parser.parse_args(argv)


def clear_out(out: Path, force: bool) -> None:
    """Refuse a non-empty --out, unless --force and it is a store (never wipe anything else)."""
    if not out.exists() or not any(out.iterdir()):
        return
    if not force:
        sys.exit(f"error: {out} is not empty; pass --force to replace it")
    if not (out / "sitegen-store.json").is_file():
        sys.exit(f"error: {out} is not a sitegen store; refusing to delete it even with --force")
    shutil.rmtree(out)


def generate(out: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch, threadpool_limits(limits=1):
        book = Logbook(out, Path(scratch))
        weather.run(book)
        book.clock.advance(7 * DAY)
        cars.run(book)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    clear_out(args.out, args.force)
    started = time.perf_counter()
    generate(args.out)
    store = sitegen.Store(args.out)
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"wrote {args.out} in {time.perf_counter() - started:.1f}s ({size / 1024:.0f} KiB)")
    for collection in store.collections():
        print(f"  {collection}: {len(store.versions(collection))} versions")
    print(f"  runs: {', '.join(store.runs())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
