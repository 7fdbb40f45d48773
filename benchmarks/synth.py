"""Synthetic store generator for benchmarks.

    python benchmarks/synth.py OUT --collections N --versions M --files F \
        --runs R --steps S [--seed 0] [--stored 2] [--fsync] [--force]

Writes a *valid* store in the real format (``sitegen validate OUT`` passes): N collections
(alternating ``dataset`` / ``model``) x M versions x F files each, R runs with S-step metric
histories, lineage (every model version is produced by a ``train`` run that consumed the
matching dataset version; dataset versions are produced by ``prep`` runs) and a few aliases
(``production`` / ``candidate``) that move over time, plus some removals.

Fast path: records go through :class:`sitegen.store.writer.StoreWriter` (objects, runs,
histories, root) and the format helpers in :mod:`sitegen.store.format` (canonical JSON,
content digest, keys), but the event log is appended with an in-memory head instead of
re-listing ``events/`` for every event, versions are committed without the dedup lookup
(generated content is unique by construction), and files are not fsync'ed unless
``--fsync`` is given. The bytes on disk are exactly what the SDK would write.

Most files are references (``ref`` URI + sha256 + size, no bytes); ``--stored`` files per
version carry real (small) bytes in ``objects/``: a ``metrics.json`` unique to the version
and a ``README.md`` that changes every 10 versions.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, os.environ.get("SITEGEN_SRC") or str(HERE.parent))  # see _common.py

import yaml  # noqa: E402

from sitegen.sdk.clock import FixedClock  # noqa: E402
from sitegen.store.backend import TEMP_PREFIX, LocalBackend  # noqa: E402
from sitegen.store.events import Event  # noqa: E402
from sitegen.store.format import (  # noqa: E402
    canonical_json,
    collection_key,
    content_digest,
    event_key,
    format_ref,
    manifest_key,
    sha256_hex,
)
from sitegen.store.writer import StoreWriter  # noqa: E402

ACTOR = {"user": "synth", "host": "synth-host"}
GENERATOR_VERSION = 1  # bump when the generated shape changes (invalidates caches)


class NoSyncBackend(LocalBackend):
    """LocalBackend without fsync: same bytes, same atomic rename/link, much faster."""

    @staticmethod
    def _write_temp(final: Path, data: bytes) -> Path:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.parent / f"{TEMP_PREFIX}{os.urandom(16).hex()}"
        with open(tmp, "xb") as fh:
            fh.write(data)
        return tmp


class SynthWriter(StoreWriter):
    """StoreWriter with an in-memory log head (single writer, so no re-listing)."""

    def __init__(self, backend: LocalBackend, clock: FixedClock) -> None:
        super().__init__(backend, clock, ACTOR)
        self.seq = 0
        self.prev: str | None = None
        self.event_count = 0

    def append(
        self, type_: str, data: Mapping[str, Any], actor: Mapping[str, Any] | None = None
    ) -> Event:
        who = dict(actor if actor is not None else self.actor)
        event = Event(self.seq, self.prev, self.clock(), type_, who, dict(data))
        body = canonical_json(event.body())
        if not self.backend.put_exclusive(event_key(self.seq), body):
            raise RuntimeError(f"event {self.seq} already exists: is another writer running?")
        self.prev = sha256_hex(body)
        self.seq += 1
        self.event_count += 1
        return event

    def commit_new(self, manifest: dict[str, Any], version: int, run: str | None) -> str:
        """Commit a manifest known to be new as version ``version``; returns its ref."""
        type_, name = manifest["type"], manifest["name"]
        digest = content_digest(manifest["files"])
        body = canonical_json({**manifest, "version": version, "digest": digest})
        if not self.backend.put_exclusive(manifest_key(type_, name, version), body):
            raise RuntimeError(f"{type_}/{name}:v{version} already exists")
        self.append(
            "version.created",
            {
                "collection": f"{type_}/{name}",
                "version": version,
                "digest": digest,
                "manifest_sha256": sha256_hex(body),
                "run": run,
            },
        )
        return format_ref(type_, name, version)


def collection_names(n: int) -> list[tuple[str, str]]:
    """Alternating dataset/model collections; model i is trained on dataset i-1."""
    out = []
    for i in range(n):
        kind = "dataset" if i % 2 == 0 else "model"
        stem = "corpus" if kind == "dataset" else "classifier"
        out.append((kind, f"{stem}-{i // 2:03d}"))
    return out


def split_runs(r: int, ds_count: int, md_count: int) -> tuple[int, int]:
    """How many runs produce dataset versions and how many produce model versions."""
    if r <= 0:
        return 0, 0
    if ds_count and md_count and r >= 2:
        prep = max(1, min(r - 1, round(r * ds_count / (ds_count + md_count))))
        return prep, r - prep
    return (r, 0) if ds_count else (0, r)


def assign(seq: list[tuple[int, int]], runs: list[str]) -> dict[tuple[int, int], str]:
    """Contiguous blocks of versions (in time order) to runs."""
    if not runs:
        return {}
    n = len(seq)
    return {key: runs[k * len(runs) // n] for k, key in enumerate(seq)}


def history_rows(rng: random.Random, steps: int) -> list[dict[str, Any]]:
    rows = []
    base = rng.uniform(1.5, 3.0)
    rate = rng.uniform(2.0, 6.0) / max(steps, 1)
    ceiling = rng.uniform(0.75, 0.98)
    lr0 = rng.choice((1e-3, 3e-4, 1e-4))
    for s in range(steps):
        decay = 2.718281828 ** (-rate * s)
        loss = base * decay + 0.05 + rng.gauss(0, 0.02)
        row: dict[str, Any] = {
            "_step": s,
            "loss": round(loss, 5),
            "accuracy": round(ceiling * (1 - decay) + rng.gauss(0, 0.01), 5),
            "lr": round(lr0 * (0.5 + 0.5 * (1 - s / max(steps, 1))), 8),
        }
        if s % 10 == 9 or s == steps - 1:
            row["val_loss"] = round(loss * 1.1 + rng.gauss(0, 0.03), 5)
        rows.append(row)
    return rows


def summary_of(rows: list[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for row in rows:
        for key, value in row.items():
            if not key.startswith("_"):
                summary[key] = value
    return summary


def generate(
    out: Path,
    collections: int,
    versions: int,
    files: int,
    runs: int,
    steps: int,
    seed: int = 0,
    stored: int = 2,
    fsync: bool = False,
    progress: bool = False,
) -> dict[str, Any]:
    """Write the store at ``out`` (must not exist or be empty); returns counts."""
    started = time.perf_counter()
    rng = random.Random(seed)
    backend = (LocalBackend if fsync else NoSyncBackend)(out)
    clock = FixedClock("2024-01-01T00:00:00Z", step=30)
    writer = SynthWriter(backend, clock)
    writer.ensure_root(f"synthetic-{collections}x{versions}x{files}")

    colls = collection_names(collections)
    for i, (kind, name) in enumerate(colls):
        info = {
            "description": (
                f"Synthetic **{kind}** collection number {i}.\n\n"
                f"Generated by `benchmarks/synth.py` (seed {seed}); "
                + (
                    "each version is a data snapshot."
                    if kind == "dataset"
                    else f"trained on `dataset/corpus-{i // 2:03d}`."
                )
            ),
            "tags": ["synthetic", kind, f"group-{i % 7}"],
        }
        backend.put(
            f"{collection_key(kind, name)}/collection.yaml",
            yaml.safe_dump(info, sort_keys=False, allow_unicode=True).encode(),
        )

    seq = [(c, m) for m in range(versions) for c in range(collections)]
    ds_seq = [k for k in seq if colls[k[0]][0] == "dataset"]
    md_seq = [k for k in seq if colls[k[0]][0] == "model"]
    n_prep, n_train = split_runs(runs, len(ds_seq), len(md_seq))
    prep_ids = [f"prep-{i:05d}" for i in range(n_prep)]
    train_ids = [f"train-{i:05d}" for i in range(n_train)]
    run_of = assign(ds_seq, prep_ids) if n_train or not md_seq else assign(seq, prep_ids)
    run_of.update(assign(md_seq, train_ids))
    last_output: dict[str, tuple[int, int]] = {}
    for key in seq:
        if key in run_of:
            last_output[run_of[key]] = key

    open_runs: dict[str, dict[str, Any]] = {}
    stats = {"versions": 0, "runs": 0, "objects": 0, "stored_files": 0, "ref_files": 0}
    previous_files: dict[int, dict[str, dict[str, Any]]] = {}
    aliases: dict[int, dict[str, int]] = {}

    def start_run(run_id: str, job_type: str) -> dict[str, Any]:
        config = {
            "seed": rng.randrange(10_000),
            "lr": rng.choice((1e-3, 3e-4, 1e-4)),
            "batch_size": rng.choice((32, 64, 128, 256)),
            "optimizer": rng.choice(("adam", "adamw", "sgd")),
            "model": {"layers": rng.randint(2, 24), "hidden": rng.choice((256, 512, 768))},
        }
        record = {
            "format": 1,
            "id": run_id,
            "name": run_id,
            "job_type": job_type,
            "status": "running",
            "started_at": clock(),
            "finished_at": None,
            "config": config,
            "summary": {},
            "inputs": [],
            "outputs": [],
            "git": {"commit": f"{rng.getrandbits(160):040x}", "dirty": False},
            "host": ACTOR["host"],
            "user": ACTOR["user"],
            "notes": f"Synthetic {job_type} run `{run_id}`.",
            "tags": ["synthetic", job_type],
        }
        writer.append(
            "run.started", {"run_id": run_id, "job_type": job_type}, {**ACTOR, "run": run_id}
        )
        open_runs[run_id] = record
        return record

    def use(record: dict[str, Any], ref: str) -> None:
        if ref not in record["inputs"]:
            record["inputs"].append(ref)
            writer.append(
                "artifact.used",
                {"run_id": record["id"], "ref": ref},
                {**ACTOR, "run": record["id"]},
            )

    def finish_run(run_id: str) -> None:
        record = open_runs.pop(run_id)
        rows = history_rows(rng, steps)
        if rows:
            writer.write_history(run_id, rows)
        record["summary"] = summary_of(rows)
        record["status"] = "finished"
        record["finished_at"] = clock()
        sha = writer.write_run(record)
        writer.append(
            "run.finished",
            {"run_id": run_id, "status": "finished", "record_sha256": sha},
            {**ACTOR, "run": run_id},
        )
        stats["runs"] += 1

    def make_files(c: int, m: int, kind: str, name: str) -> dict[str, dict[str, Any]]:
        entries: dict[str, dict[str, Any]] = {}
        n_stored = min(stored, files)
        if n_stored >= 1:
            body = (
                json.dumps(
                    {
                        "version": m,
                        "collection": f"{kind}/{name}",
                        "score": round(rng.random(), 6),
                        "rows": rng.randrange(1, 10**7),
                    },
                    sort_keys=True,
                ).encode()
                + b"\n"
            )
            entries["metrics.json"] = {"sha256": writer.put_object(body), "size": len(body)}
        if n_stored >= 2:
            body = (
                f"# {kind}/{name}\n\nRevision {m // 10} of this {kind}'s card.\n"
                f"{'Lorem ipsum dolor sit amet. ' * (1 + c % 5)}\n"
            ).encode()
            entries["README.md"] = {"sha256": writer.put_object(body), "size": len(body)}
        for j in range(2, n_stored):
            body = os.urandom(64 + rng.randrange(192))
            entries[f"extra/blob-{j:03d}.bin"] = {
                "sha256": writer.put_object(body),
                "size": len(body),
            }
        prev = previous_files.get(c, {})
        for j in range(files - n_stored):
            path = (
                f"data/part-{j:05d}.parquet"
                if kind == "dataset"
                else f"weights/shard-{j:05d}.safetensors"
            )
            if path in prev and rng.random() < 0.7:
                entries[path] = prev[path]  # unchanged since the previous version
                continue
            entries[path] = {
                "sha256": f"{rng.getrandbits(256):064x}",
                "size": rng.randrange(1 << 20, 1 << 28),
                "ref": f"s3://synthetic-bucket/{kind}/{name}/v{m}/{path}",
            }
        stats["stored_files"] += n_stored
        stats["ref_files"] += files - n_stored
        previous_files[c] = entries
        return entries

    def move_aliases(c: int, m: int, kind: str, name: str) -> None:
        coll = f"{kind}/{name}"
        current = aliases.setdefault(c, {})

        def set_alias(alias: str, version: int) -> None:
            if current.get(alias) != version:
                writer.append("alias.set", {"collection": coll, "alias": alias, "version": version})
                current[alias] = version

        if kind == "model":
            if m % 50 == 49 and "candidate" in current:
                writer.append("alias.removed", {"collection": coll, "alias": "candidate"})
                del current["candidate"]
            elif m % 10 == 9 or m == versions - 1:
                set_alias("candidate", m)
            if m % 25 == 24 and "candidate" in current:
                set_alias("production", current["candidate"])
        elif m % 20 == 19 or (m == 0 and c % 4 == 0):
            set_alias("production", m)

    total = len(seq)
    tick = time.perf_counter()
    for k, (c, m) in enumerate(seq):
        kind, name = colls[c]
        run_id = run_of.get((c, m))
        record = None
        if run_id is not None:
            record = open_runs.get(run_id) or start_run(
                run_id, "prep" if kind == "dataset" else "train"
            )
            if kind == "model" and c >= 1:
                use(record, format_ref(colls[c - 1][0], colls[c - 1][1], m))
        manifest = {
            "format": 1,
            "type": kind,
            "name": name,
            "created_at": clock(),
            "run": run_id,
            "description": (
                f"Synthetic version **v{m}** of `{kind}/{name}`."
                + (
                    f"\n\nTrained on `{colls[c - 1][0]}/{colls[c - 1][1]}:v{m}`."
                    if kind == "model" and c >= 1
                    else ""
                )
            ),
            "metadata": {
                "generator": "benchmarks/synth.py",
                "index": m,
                "rows" if kind == "dataset" else "params": rng.randrange(10**4, 10**9),
                "split": {"train": 0.8, "val": 0.1, "test": 0.1},
                "labels": ["a", "b", "c"][: 1 + m % 3],
            },
            "files": make_files(c, m, kind, name),
        }
        ref = writer.commit_new(manifest, m, run_id)
        stats["versions"] += 1
        if record is not None:
            record["outputs"].append(ref)
        move_aliases(c, m, kind, name)
        if run_id is not None and last_output[run_id] == (c, m):
            finish_run(run_id)
        if progress and time.perf_counter() - tick > 5:
            tick = time.perf_counter()
            print(
                f"  synth: {k + 1}/{total} versions, {writer.event_count} events",
                file=sys.stderr,
                flush=True,
            )

    # Runs left without outputs (more runs than versions): evaluations of model versions.
    made = set(run_of.values())
    extra = [f"eval-{i:05d}" for i in range(runs - len(made))] if runs > len(made) else []
    for run_id in extra:
        record = start_run(run_id, "evaluate")
        if seq:
            c, m = seq[rng.randrange(len(seq))]
            use(record, format_ref(colls[c][0], colls[c][1], m))
        finish_run(run_id)

    stats["objects"] = sum(len(files_) for _, _, files_ in os.walk(out / "objects"))
    stats["events"] = writer.event_count
    stats["seconds"] = round(time.perf_counter() - started, 2)
    return stats


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", type=Path, help="store directory to create")
    p.add_argument("--collections", "-N", type=int, default=10)
    p.add_argument("--versions", "-M", type=int, default=10)
    p.add_argument("--files", "-F", type=int, default=10)
    p.add_argument("--runs", "-R", type=int, default=20)
    p.add_argument("--steps", "-S", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--stored",
        type=int,
        default=2,
        help="files per version with real bytes in objects/ (rest are refs)",
    )
    p.add_argument("--fsync", action="store_true", help="fsync every file like the SDK does")
    p.add_argument("--force", action="store_true", help="delete OUT first if it exists")
    p.add_argument("--quiet", "-q", action="store_true")
    args = p.parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()):
        if not args.force:
            print(f"{args.out}: exists and is not empty (use --force)", file=sys.stderr)
            return 2
        shutil.rmtree(args.out)
    stats = generate(
        args.out,
        args.collections,
        args.versions,
        args.files,
        args.runs,
        args.steps,
        args.seed,
        args.stored,
        args.fsync,
        progress=not args.quiet,
    )
    print(
        json.dumps(stats, sort_keys=True)
        if args.quiet
        else f"{args.out}: " + ", ".join(f"{k}={v}" for k, v in stats.items())
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
