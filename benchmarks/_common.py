"""Helpers shared by the benchmarks: cached synthetic stores, disk usage, machine facts."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
# SITEGEN_SRC: benchmark another source tree (e.g. a `git archive` snapshot, see snapshot()).
SRC = Path(os.environ.get("SITEGEN_SRC") or ROOT)
sys.path.insert(0, str(SRC))
sys.path.insert(0, str(HERE))

import synth  # noqa: E402


def snapshot(commit: str) -> Path:
    """``git archive COMMIT sitegen themes`` extracted under benchmarks/out/src-<sha>/."""
    sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", f"{commit}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    dest = OUT / f"src-{sha[:12]}"
    if not (dest / "sitegen" / "__init__.py").is_file():
        dest.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", sha, "sitegen", "themes"],
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def worktree_snapshot() -> Path:
    """A frozen copy of the work tree's ``sitegen/`` and ``themes/`` (uncommitted edits too).

    Others edit the tree while benchmarks run; a template edited between two builds changes
    the build salt and turns a no-change rebuild into a full one. Measuring a copy avoids that.
    """
    digest = hashlib.sha256()
    files = []
    for top in ("sitegen", "themes"):
        for path in sorted((ROOT / top).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                rel = path.relative_to(ROOT).as_posix()
                data = path.read_bytes()
                files.append((rel, data))
                digest.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
    dest = OUT / f"src-wt-{digest.hexdigest()[:12]}"
    if not (dest / "sitegen" / "__init__.py").is_file():
        tmp = dest.with_name(dest.name + f".tmp{os.getpid()}")
        for rel, data in files:
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_bytes(data)
        try:
            tmp.rename(dest)
        except OSError:  # another benchmark made the same snapshot meanwhile
            shutil.rmtree(tmp, ignore_errors=True)
    return dest


def use_source(src: str | None, argv: list[str]) -> None:
    """Re-exec this benchmark with SITEGEN_SRC set to a frozen copy of the code to measure.

    ``snapshot`` (default): the work tree as it is now; ``live``: the work tree itself
    (may change under the run); anything else: a git commit (``git archive``).
    """
    if not src or src == "live" or os.environ.get("SITEGEN_SRC"):
        return
    path = worktree_snapshot() if src == "snapshot" else snapshot(src)
    env = {**os.environ, "SITEGEN_SRC": str(path)}
    os.execve(sys.executable, [sys.executable, *argv], env)


def source_label() -> str:
    """Which sitegen code is measured: the work tree (with its HEAD and dirty state) or a snapshot."""
    if SRC != ROOT:
        git = ["git", "-C", str(ROOT)]
        head = subprocess.run(
            [*git, "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        what = "work-tree copy" if SRC.name.startswith("src-wt-") else "git snapshot"
        return f"{what} {SRC.name} (HEAD was {head})"
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run(
        [*git, "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--", "sitegen", "themes"], capture_output=True, text=True
    ).stdout.strip()
    return f"work tree at {head}" + (" + uncommitted changes" if dirty else "")


def store_shape(
    collections: int, versions: int, files: int, runs: int, steps: int, seed: int = 0
) -> dict[str, int]:
    return {
        "collections": collections,
        "versions": versions,
        "files": files,
        "runs": runs,
        "steps": steps,
        "seed": seed,
    }


def format_fingerprint() -> str:
    """Digest of the store-format code the generator writes through (cache key part)."""
    digest = hashlib.sha256()
    for name in ("format.py", "writer.py", "events.py"):
        digest.update((SRC / "sitegen" / "store" / name).read_bytes())
    digest.update(Path(synth.__file__).read_bytes())
    return digest.hexdigest()[:10]


def cached_store(shape: dict[str, int], log: bool = True) -> tuple[Path, dict[str, Any]]:
    """A synthetic store of ``shape`` under benchmarks/out/stores/, generated once.

    The store is treated as read-only; a benchmark that modifies a store works on a
    hard-linked copy (:func:`linked_copy`). A ``.json`` marker written after generation
    completes makes an interrupted generation regenerate.
    """
    prefix = "c{collections}-v{versions}-f{files}-r{runs}-s{steps}-seed{seed}".format(**shape)
    name = f"{prefix}-g{synth.GENERATOR_VERSION}-{format_fingerprint()}"
    path = OUT / "stores" / name
    marker = path.with_suffix(".json")
    if marker.is_file() and path.is_dir():
        return path, json.loads(marker.read_text())
    if path.exists():
        shutil.rmtree(path)
    for stale in (OUT / "stores").glob(f"{prefix}-*"):  # same shape, older format code
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    if log:
        print(f"generating synthetic store {name} ...", file=sys.stderr, flush=True)
    stats = synth.generate(path, **shape, progress=log)
    marker.write_text(json.dumps(stats, sort_keys=True) + "\n")
    if log:
        print(f"  generated in {stats['seconds']} s: {stats}", file=sys.stderr, flush=True)
    return path, stats


def linked_copy(src: Path, dst: Path) -> float:
    """``cp -al``: a hard-linked copy (store writes replace files, never modify them)."""
    if dst.exists():
        shutil.rmtree(dst)
    t = time.perf_counter()
    subprocess.run(["cp", "-al", str(src), str(dst)], check=True)
    return time.perf_counter() - t


def du(path: Path) -> dict[str, int]:
    """Disk usage (``du -sk``, allocated) and apparent bytes and file count."""
    allocated = (
        int(
            subprocess.run(
                ["du", "-sk", str(path)], capture_output=True, text=True, check=True
            ).stdout.split()[0]
        )
        * 1024
    )
    apparent, count = 0, 0
    for dirpath, _, names in os.walk(path):
        for n in names:
            apparent += os.lstat(os.path.join(dirpath, n)).st_size
            count += 1
    return {"disk_bytes": allocated, "apparent_bytes": apparent, "files": count}


def machine() -> str:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load avg {load}, Python probe {cpu_probe() * 1000:.0f} ms"
    )


def cpu_probe(rounds: int = 5) -> float:
    """Seconds for a fixed piece of pure Python like a render's (formatting, dicts, joins),
    best of ``rounds``: how fast this machine runs Python right now. Figures of runs whose
    probes differ much are not comparable (first recorded in session 14: 50-72 ms within
    an hour, on a machine that built ~30 % slower than session 13's on the same code)."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        rows = []
        for i in range(100_000):
            cell = {"value": i * 0.5, "name": f"m{i % 7}"}
            rows.append(f'<td data-value="{cell["value"]!r}">{cell["name"]}</td>')
        "".join(rows)
        best = min(best, time.perf_counter() - start)
    return best


def mib(n: float) -> str:
    return f"{n / (1 << 20):.1f} MiB"
