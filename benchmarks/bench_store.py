"""Store benchmark: logging through the public API, loading a big store, example size.

    python benchmarks/bench_store.py            # full: 1,000 x 50-file versions; 10,000-version load
    python benchmarks/bench_store.py --quick    # 100 logged versions; 1,000-version load

Prints
* time to log ``--log-versions`` versions of a ``--log-files``-file artifact through
  ``sitegen.Store(...).log_artifact(sitegen.Artifact(...))`` with ``add_file`` of small
  real files, ``--changed`` of them rewritten before every version (default: all);
  also the mean per version over the first and the last 10 % (growth = O(n) per log);
* time to load a synthetic store of collections x versions (cached in benchmarks/out/):
  ``load_raw`` + ``check_records``, and ``sitegen.Store(path).load()``, best and median
  of ``--repeat`` runs (page cache warm);
* store size on disk of ``example_project/store`` if present.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

from _common import (
    OUT,
    ROOT,
    cached_store,
    du,
    machine,
    mib,
    source_label,
    store_shape,
    use_source,
)

import sitegen
from sitegen.store import open_backend
from sitegen.store.reader import load_raw
from sitegen.store.records import check_records


def bench_log(versions: int, files: int, changed: int, keep: bool) -> dict[str, float]:
    work = OUT / f"bench-log-{os.getpid()}"
    src, store_dir = work / "src", work / "store"
    if work.exists():
        shutil.rmtree(work)
    src.mkdir(parents=True)
    paths = [src / f"file-{j:03d}.txt" for j in range(files)]
    for j, p in enumerate(paths):
        p.write_text(f"file {j} initial\n" + "x" * (100 + 7 * j))
    store = sitegen.Store(store_dir, project="bench-log")
    per_version: list[float] = []
    for i in range(versions):
        for j in range(changed):  # content changes every version (not timed)
            k = (i + j) % files
            paths[k].write_text(f"file {k} version {i}\n" + "y" * (100 + (i * 13 + k) % 400))
        t = time.perf_counter()
        art = sitegen.Artifact(
            "bench-model", type="model", description="benchmark artifact", metadata={"i": i}
        )
        for p in paths:
            art.add_file(p)
        v = store.log_artifact(art, aliases=["candidate"] if i % 100 == 99 else ())
        per_version.append(time.perf_counter() - t)
        assert v.version == i, (v.ref, i)
    tenth = max(1, versions // 10)
    size = du(store_dir)
    result = {
        "total_s": sum(per_version),
        "per_version_ms": 1000 * statistics.mean(per_version),
        "first_10pct_ms": 1000 * statistics.mean(per_version[:tenth]),
        "last_10pct_ms": 1000 * statistics.mean(per_version[-tenth:]),
        "store_disk_bytes": size["disk_bytes"],
        "store_files": size["files"],
    }
    if not keep:
        shutil.rmtree(work)
    return result


def bench_load(path: Path, repeat: int) -> dict[str, float]:
    raw_times, check_times, sdk_times = [], [], []
    n_versions = n_problems = 0
    for _ in range(repeat):
        backend = open_backend(path)
        t0 = time.perf_counter()
        raw = load_raw(backend)
        t1 = time.perf_counter()
        records = check_records(raw)
        t2 = time.perf_counter()
        raw_times.append(t1 - t0)
        check_times.append(t2 - t1)
        n_versions, n_problems = len(records.versions), len(records.problems)
        del raw, records
        t3 = time.perf_counter()
        loaded = sitegen.Store(path).load()
        sdk_times.append(time.perf_counter() - t3)
        del loaded
    both = [a + b for a, b in zip(raw_times, check_times, strict=True)]
    return {
        "versions": n_versions,
        "problems": n_problems,
        "load_raw_s": min(raw_times),
        "check_records_s": min(check_times),
        "raw_plus_check_best_s": min(both),
        "raw_plus_check_median_s": statistics.median(both),
        "store_load_best_s": min(sdk_times),
        "store_load_median_s": statistics.median(sdk_times),
    }


def profile_load(path: Path, top: int) -> str:
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile()
    prof.runcall(lambda: check_records(load_raw(open_backend(path))))
    target = OUT / "profile-load.prof"
    prof.dump_stats(str(target))
    buf = io.StringIO()
    stats = pstats.Stats(str(target), stream=buf).strip_dirs()
    buf.write(f"==== {target.name}: top {top} by tottime ====\n")
    stats.sort_stats("tottime").print_stats(top)
    buf.write(f"==== {target.name}: top {top} by cumulative ====\n")
    stats.sort_stats("cumulative").print_stats(top)
    (OUT / "profile-load.txt").write_text(buf.getvalue())
    return buf.getvalue()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    p.add_argument("--log-versions", type=int, default=None)
    p.add_argument("--log-files", type=int, default=50)
    p.add_argument(
        "--changed",
        type=int,
        default=None,
        help="files rewritten before each version (default: all of them)",
    )
    p.add_argument("--collections", type=int, default=None)
    p.add_argument("--versions", type=int, default=None, help="versions per collection (load)")
    p.add_argument("--files", type=int, default=50, help="files per version (load)")
    p.add_argument("--runs", type=int, default=None)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--skip-log", action="store_true")
    p.add_argument("--skip-load", action="store_true")
    p.add_argument("--keep", action="store_true", help="keep the logged store in benchmarks/out")
    p.add_argument(
        "--profile",
        action="store_true",
        help="also cProfile one load (load_raw + check_records) -> out/profile-load.*",
    )
    p.add_argument("--top", type=int, default=25, help="profile rows to print")
    p.add_argument(
        "--src",
        default="snapshot",
        help="sitegen code to measure: 'snapshot' (default, frozen copy of the work "
        "tree), 'live' (the work tree itself) or a git commit",
    )
    a = p.parse_args()
    use_source(a.src, sys.argv)
    log_versions = a.log_versions or (100 if a.quick else 1000)
    collections = a.collections or (20 if a.quick else 100)
    versions = a.versions or (50 if a.quick else 100)
    runs = a.runs if a.runs is not None else (200 if a.quick else 2000)
    changed = a.log_files if a.changed is None else a.changed

    print(f"# bench_store  ({machine()}; {source_label()})")
    if not a.skip_log:
        r = bench_log(log_versions, a.log_files, changed, a.keep)
        print(
            f"log {log_versions} versions x {a.log_files} files ({changed} changed/version) "
            f"via Store.log_artifact: {r['total_s']:.2f} s total, "
            f"{r['per_version_ms']:.1f} ms/version "
            f"(first 10%: {r['first_10pct_ms']:.1f} ms, last 10%: {r['last_10pct_ms']:.1f} ms); "
            f"store {mib(r['store_disk_bytes'])} on disk, {r['store_files']} files"
        )
    if not a.skip_load:
        shape = store_shape(collections, versions, a.files, runs, a.steps)
        path, stats = cached_store(shape)
        r = bench_load(path, a.repeat)
        size = du(path)
        print(
            f"load {r['versions']} versions ({collections}x{versions}x{a.files} files, "
            f"{runs} runs x {a.steps} steps, {stats['events']} events; "
            f"{mib(size['disk_bytes'])} on disk, {size['files']} files): "
            f"load_raw {r['load_raw_s']:.2f} s + check_records {r['check_records_s']:.2f} s "
            f"= {r['raw_plus_check_best_s']:.2f} s best / "
            f"{r['raw_plus_check_median_s']:.2f} s median; "
            f"Store(path).load() {r['store_load_best_s']:.2f} s best / "
            f"{r['store_load_median_s']:.2f} s median; problems: {r['problems']}"
        )
        if a.profile:
            print(profile_load(path, a.top))
    example = ROOT / "example_project" / "store"
    if example.is_dir():
        size = du(example)
        print(
            f"example_project/store: {mib(size['disk_bytes'])} on disk (du), "
            f"{size['apparent_bytes'] / 1000:.0f} kB apparent, {size['files']} files"
        )
    print(f"# done  ({machine()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
