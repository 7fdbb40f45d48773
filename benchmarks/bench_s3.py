"""Builds from a remote (S3) store: requests and seconds, first and second time.

    python benchmarks/bench_s3.py                  # 10 collections x 100 versions = 1,000
    python benchmarks/bench_s3.py --latency 20     # every request 20 ms slower (a WAN)
    python benchmarks/bench_s3.py --quick          # 4 x 25 = 100 versions
    python benchmarks/bench_s3.py --publish        # with publish_files: true

A moto S3 server (``tests/s3/moto_server.py``) runs on 127.0.0.1; the synthetic store
(``synth.py``, cached in ``benchmarks/out/stores/``) is uploaded with ``sitegen sync``.
Then, with an empty fetch cache:

0. load + integrity check only (what a build reads, without rendering), cold then warm;
1. first build (cold cache): every record is fetched once, objects are vouched for by HEAD;
2. second build, nothing changed: the listing only;
3. one new version logged by another machine (its own cache), third build: the listing,
   the new records and the new object.

A build from the local store and a byte-for-byte comparison of the two sites close the run.
Requests are counted per operation inside this process (every S3 client of sitegen counts
what it sends, retries included).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import OUT, ROOT, cached_store, machine, source_label, store_shape, use_source

FULL = store_shape(10, 100, 10, 500, 50)
QUICK = store_shape(4, 25, 10, 50, 50)


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 versions instead of 1,000")
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        metavar="MS",
        help="delay the server adds to every request (default 0)",
    )
    parser.add_argument("--publish", action="store_true", help="publish_files: true")
    parser.add_argument("--jobs", type=int, default=0, help="render processes")
    parser.add_argument("--json", action="store_true", help="also print a JSON summary")
    parser.add_argument(
        "--src",
        default="snapshot",
        help="code to measure: snapshot (a frozen copy of the work tree, default), live, or a commit",
    )
    args = parser.parse_args()
    use_source(args.src, sys.argv)

    shape = QUICK if args.quick else FULL
    local, stats = cached_store(shape)
    work = Path(tempfile.mkdtemp(prefix="bench-s3-", dir=OUT))
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "s3" / "moto_server.py"),
         "--latency", str(args.latency)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert server.stdout is not None and server.stdin is not None
    port = int(server.stdout.readline().split()[1])
    os.environ.update(
        SITEGEN_S3_ENDPOINT=f"http://127.0.0.1:{port}",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
        SITEGEN_S3_CACHE=str(work / "cache"),
    )
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        os.environ.pop(name, None)

    import sitegen
    from sitegen.build import BuildOptions, build
    from sitegen.commands.sync import sync
    from sitegen.store import open_backend, s3
    from sitegen.store.reader import load_raw
    from sitegen.store.records import check_records
    from sitegen.verify import verify_loaded

    results: dict[str, Any] = {
        "shape": shape,
        "store": stats,
        "latency_ms": args.latency,
        "machine": machine(),
        "source": source_label(),
    }
    config = work / "sitegen.yaml"
    config.write_text("title: bench\n" + ("publish_files: true\n" if args.publish else ""))
    url = "s3://bench/store"
    try:
        s3.make_client(url, os.environ["SITEGEN_S3_ENDPOINT"]).create_bucket(Bucket="bench")

        def measure(label: str, fn: Any) -> Any:
            s3.REQUESTS.clear()
            started = time.perf_counter()
            value = fn()
            seconds = time.perf_counter() - started
            ops = dict(sorted(s3.REQUESTS.items()))
            results[label] = {
                "seconds": round(seconds, 2),
                "requests": sum(ops.values()),
                "by_operation": ops,
            }
            print(
                f"{label:<28} {seconds:7.2f} s {sum(ops.values()):7d} requests  {ops}", flush=True
            )
            return value

        print(f"store: {shape} -> {stats.get('versions')} versions; {machine()}", flush=True)
        print(f"server latency: {args.latency} ms per request; code: {source_label()}", flush=True)
        os.environ["SITEGEN_S3_CACHE"] = str(work / "uploader-cache")  # another machine
        report = measure("upload (sitegen sync)", lambda: sync(local, url))
        assert report.ok, report.problems
        os.environ["SITEGEN_S3_CACHE"] = str(work / "cache")

        def load_only() -> Any:
            store = open_backend(url, snapshot=True)
            records = check_records(load_raw(store))
            verify_loaded(store, records)  # the build's integrity check, without rendering
            return records

        os.environ["SITEGEN_S3_CACHE"] = str(work / "load-cache")
        measure("load+verify 1 (cold cache)", load_only)
        measure("load+verify 2 (warm cache)", load_only)
        os.environ["SITEGEN_S3_CACHE"] = str(work / "cache")
        started = time.perf_counter()
        check_records(load_raw(open_backend(local)))
        results["load local"] = round(time.perf_counter() - started, 2)
        print(f"{'load from the local store':<28} {results['load local']:7.2f} s", flush=True)

        def build_s3(out: str) -> Any:
            return build(BuildOptions(url, work / out, config, jobs=args.jobs))

        first = measure("build 1 (cold cache)", lambda: build_s3("site-s3"))
        results["pages"] = first.pages
        measure("build 2 (no change)", lambda: build_s3("site-s3"))

        def log_one() -> None:
            os.environ["SITEGEN_S3_CACHE"] = str(work / "other-machine-cache")
            try:
                data = work / "new.csv"
                data.write_text("a,b\n1,2\n")
                art = sitegen.Artifact("bench-new", type="dataset")
                art.add_file(data)
                sitegen.Store(url).log_artifact(art)
            finally:
                os.environ["SITEGEN_S3_CACHE"] = str(work / "cache")

        measure("log 1 version (remote)", log_one)
        measure("build 3 (1 new version)", lambda: build_s3("site-s3"))

        os.environ["SITEGEN_S3_CACHE"] = str(work / "cold-again")
        measure("sync to local (audit copy)", lambda: sync(url, work / "copy"))
        started = time.perf_counter()
        build(BuildOptions(work / "copy", work / "site-local", config, jobs=args.jobs))
        results["local build seconds"] = round(time.perf_counter() - started, 2)
        print(
            f"{'build from the local copy':<28} {results['local build seconds']:7.2f} s", flush=True
        )
        started = time.perf_counter()
        build(BuildOptions(work / "copy", work / "site-local", config, jobs=args.jobs))
        results["local rebuild seconds"] = round(time.perf_counter() - started, 2)
        print(f"{'rebuild, local (no change)':<28} {results['local rebuild seconds']:7.2f} s")
        same = tree(work / "site-s3") == tree(work / "site-local")
        results["identical_sites"] = same
        print(f"site from S3 == site from the synced copy: {same} ({first.pages} pages)")
        if args.json:
            print(json.dumps(results, indent=2, sort_keys=True))
    finally:
        server.stdin.close()
        server.wait(10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
