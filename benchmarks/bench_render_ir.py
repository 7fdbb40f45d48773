"""Instructions to render the quick store, counted by valgrind: a precise A/B of the code.

    python benchmarks/bench_render_ir.py                      # the work tree
    python benchmarks/bench_render_ir.py HEAD~3 snapshot      # a commit against the work tree

Wall-clock figures on this machine move ±15 % within an hour, so a 1 % change to rendering
cannot be seen in them. Instructions can: ``valgrind --tool=cachegrind --cache-sim=no``
counts them to ±0.1 % between runs of the same code. For each source (``snapshot``: the
work tree now, else a commit) a child process loads and plans the quick store (20 x 20 x 50,
200 runs), then renders every page with writes left out, as a render worker does (the plan
frozen, the collector on); a second child stops after planning, and the difference is
printed. Each source is measured twice and the second figure kept: the first run of a new
copy also compiles its templates into Jinja's cache. Needs ``valgrind`` (``apt-get install
-y valgrind``); counts are not time (cache misses are not counted), only a guide.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from _common import cached_store, snapshot, store_shape, worktree_snapshot

QUICK = store_shape(20, 20, 50, 200, 200)  # bench_build.py --quick


def child(store: str, render: bool) -> None:
    import gc
    import tempfile

    import sitegen.build as b
    import sitegen.render_stage as rs
    from sitegen.config import load_config
    from sitegen.model import build_model
    from sitegen.pages import plan_site
    from sitegen.previous import NONE
    from sitegen.redact import redact
    from sitegen.store import open_backend
    from sitegen.store.memo import Memo
    from sitegen.store.reader import load_raw
    from sitegen.store.records import check_records

    backend = open_backend(Path(store), snapshot=True, walk=False)
    memo = Memo(Path(tempfile.mkdtemp()))  # empty: histories packed as a build packs them
    records = check_records(load_raw(backend, memo), memo)
    config = load_config(None, Path(store))
    visible, withheld = redact(records, config)
    project = build_model(visible, config, withheld)
    site = b.site_info(config, project, False)
    planned = plan_site(site, project, config, b.object_reader(backend.read), None)
    if not render:
        return
    unchanged = os.stat(store)
    rs.write_at = lambda fd, url, data: unchanged
    rs._JOB = rs._Job(planned, -1, NONE, "salt", None, {})
    for group in planned:
        if group.key:
            group.key()  # made before the workers fork in a build
    gc.collect()
    gc.freeze()
    rs.start_worker_collector()
    rs._render_groups(planned)


def instructions(src: Path, store: Path, render: bool) -> int:
    cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
    cmd += [sys.executable, __file__, "--child", str(store), "render" if render else "plan"]
    env = {**os.environ, "SITEGEN_SRC": str(src), "PYTHONHASHSEED": "0"}  # see _common.py
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, cwd="/tmp")
    found = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr)
    if not found:
        raise SystemExit(f"no instruction count from valgrind:\n{out.stderr[-2000:]}")
    return int(found[1].replace(",", ""))


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3] == "render")
        return 0
    store, _ = cached_store(QUICK)
    for name in sys.argv[1:] or ["snapshot"]:
        src = worktree_snapshot() if name == "snapshot" else snapshot(name)
        counts = [instructions(src, store, True) - instructions(src, store, False) for _ in "ab"]
        print(
            f"{name}: rendering {counts[-1] / 1e6:,.0f} M instructions (first run {counts[0] / 1e6:,.0f} M)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
