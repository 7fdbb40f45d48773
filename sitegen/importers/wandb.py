"""``sitegen import wandb SRC``: W&B run directories and artifact manifests -> a sitegen plan.

SRC layout (docs/importers.md has an export snippet for the W&B API)::

    SRC/wandb/run-<time>-<id>/files/config.yaml, wandb-summary.json, wandb-metadata.json
    SRC/artifacts/**/wandb_manifest.json      one directory per artifact version, with
                     wandb_artifact.json      type, name, version, digest, aliases, metadata,
                                              description, created_at, logged_by, used_by
                     files/<path>             the bytes (artifact.download()), and/or
    SRC/cache/obj/md5/…                       a copy of the client's artifact cache

Mapping: a run directory -> a run (config without W&B's ``_wandb``, summary without
``_``-keys, host/user/git/start from the metadata); an artifact version -> a version of
``<type>/<name>`` with W&B's digest and per-file MD5s kept in ``source``; ``logged_by`` /
``used_by`` -> the runs' outputs / inputs. W&B's ``latest`` and ``vN`` aliases are
sitegen's built-in ones; other aliases are set.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sitegen.importers.common import (
    ImportPlan,
    RunSpec,
    VersionSpec,
    check_collisions,
    iso_from_text,
    mapping,
    rel_display,
    run_record,
    sanitise_name,
    sanitise_run_id,
    sanitise_type,
)
from sitegen.importers.wandb_manifest import Entry, manifest_digest, read_manifest, resolve
from sitegen.store.format import TYPE_RE, VERSION_RE, check_alias
from sitegen.store.reader import parse_yaml

RUN_DIR_RE = re.compile(r"^(?:offline-)?run-\d{8}_\d{6}-(?P<id>.+)\Z")
PLAIN_FILES = ("config.yaml", "wandb-summary.json", "wandb-metadata.json")
OFFLINE_HINT = (
    "wandb writes these files when it talks to a server (online, or `wandb sync`); an offline "
    "run keeps its data in run-<id>.wandb, which sitegen does not read. The run was skipped."
)


def load(src: Path) -> ImportPlan:
    plan = ImportPlan("wandb")
    if not src.is_dir():
        plan.error(
            str(src), "no such directory", "give the directory holding wandb/ and artifacts/"
        )
        return plan
    runs = _runs(src, plan)
    versions = _versions(src, plan)
    known = {r.record["source"]["id"]: r for r in runs}
    links: dict[str, tuple[list[str], list[str]]] = {rid: ([], []) for rid in known}
    for spec, logged_by, used_by in versions:
        producer = logged_by if logged_by in known else None
        plan.versions.append(_with_run(spec, known[producer].id if producer else None))
        if producer:
            links[producer][1].append(spec.key)
        for user in used_by:
            if user in links:
                links[user][0].append(spec.key)
    for run in runs:
        inputs, outputs = links[run.record["source"]["id"]]
        plan.runs.append(RunSpec(run.record, tuple(inputs), tuple(outputs)))
    return plan


# --- runs ----------------------------------------------------------------------------------


def _run_dirs(src: Path) -> dict[str, Path]:
    """W&B run id -> its (latest) run directory, under SRC/wandb or SRC itself."""
    found: dict[str, Path] = {}
    for parent in (src / "wandb", src):
        if not parent.is_dir():
            continue
        for child in sorted(parent.iterdir(), key=lambda p: p.name.removeprefix("offline-")):
            match = RUN_DIR_RE.match(child.name)
            if match and child.is_dir() and not child.is_symlink():
                found[match["id"]] = child
    return found


def _runs(src: Path, plan: ImportPlan) -> list[RunSpec]:
    runs = []
    for wandb_id, folder in sorted(_run_dirs(src).items()):
        where = rel_display(src, folder)
        files = {n: folder / "files" / n for n in PLAIN_FILES if (folder / "files" / n).is_file()}
        if not files:
            plan.warn(
                where, "no config.yaml, wandb-summary.json or wandb-metadata.json", OFFLINE_HINT
            )
            continue
        config = _config(files.get("config.yaml"), src, plan)
        summary = _json_object(files.get("wandb-summary.json"), src, plan)
        meta = _json_object(files.get("wandb-metadata.json"), src, plan)
        runs.append(
            RunSpec(_record(wandb_id, where, config, summary, meta, "wandb-summary.json" in files))
        )
    return runs


def _record(
    wandb_id: str,
    where: str,
    config: dict[str, Any],
    summary: dict[str, Any],
    meta: dict[str, Any],
    has_summary: bool,
) -> dict[str, Any]:
    started = iso_from_text(meta.get("startedAt"))
    runtime = summary.get("_runtime")
    if runtime is None and isinstance(summary.get("_wandb"), dict):
        runtime = summary["_wandb"].get("runtime")
    finished = None
    if started and isinstance(runtime, int | float) and not isinstance(runtime, bool):
        finished = iso_from_text(_shift(started, float(runtime)))
    git = mapping(meta.get("git"))
    keep = ("program", "codePath", "args", "os", "python", "executable", "root")
    return run_record(
        sanitise_run_id(wandb_id),
        name=wandb_id,
        status="finished" if has_summary else "crashed",
        started_at=started,
        finished_at=finished,
        config=config,
        summary={k: _finite(v) for k, v in sorted(summary.items()) if not k.startswith("_")},
        git={k: str(git[k]) for k in ("commit", "remote") if git.get(k)},
        host=str(meta.get("host") or ""),
        user=str(meta.get("username") or ""),
        source={
            "tool": "wandb",
            "id": wandb_id,
            "path": where,
            "metadata": {k: meta[k] for k in keep if k in meta},
        },
    )


def _shift(iso: str, seconds: float) -> str:
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00")) + timedelta(seconds=seconds)
    return moment.isoformat()


def _config(path: Path | None, src: Path, plan: ImportPlan) -> dict[str, Any]:
    """config.yaml: ``{key: {value: …, desc: …}}``; W&B's own keys are dropped."""
    if path is None:
        return {}
    data, problem = parse_yaml(
        path.read_text(encoding="utf-8", errors="replace"), rel_display(src, path)
    )
    if problem is not None:
        plan.problems.append(problem)
    if not isinstance(data, dict):
        return {}
    config = {}
    for key, item in sorted(data.items(), key=lambda kv: str(kv[0])):
        if str(key) in ("_wandb", "wandb_version"):
            continue
        config[str(key)] = _finite(
            item["value"] if isinstance(item, dict) and "value" in item else item
        )
    return config


def _json_object(path: Path | None, src: Path, plan: ImportPlan) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        plan.error(rel_display(src, path), f"not readable JSON: {exc}")
        return {}
    return data if isinstance(data, dict) else {}


def _finite(value: Any) -> Any:
    """JSON for a record: NaN/Infinity (which W&B may write) become null, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


# --- artifact versions ---------------------------------------------------------------------


def _manifests(root: Path, src: Path, plan: ImportPlan) -> list[Path]:
    """Every wandb_manifest.json under ``root``; symbolic links are reported, not followed."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        for name in dirnames + filenames:
            if (here / name).is_symlink() and "files" not in (here / name).relative_to(root).parts:
                plan.error(
                    rel_display(src, here / name),
                    "symbolic link in the artifacts tree",
                    "links are not followed",
                )
        if "wandb_manifest.json" in filenames and not (here / "wandb_manifest.json").is_symlink():
            found.append(here)
        dirnames[:] = sorted(d for d in dirnames if d != "files" and not (here / d).is_symlink())
    return sorted(found)


def _versions(src: Path, plan: ImportPlan) -> list[tuple[VersionSpec, str | None, list[str]]]:
    root = src / "artifacts"
    folders = _manifests(root, src, plan) if root.is_dir() else []
    found = [item for f in folders if (item := _version(f, src, plan)) is not None]
    return sorted(found, key=lambda x: (x[0].type, x[0].name, _number(x[0].source.get("version"))))


def _identity(
    folder: Path, src: Path, sidecar: dict[str, Any], plan: ImportPlan
) -> tuple[str, str, str] | None:
    """(type, name, 'vN') from wandb_artifact.json, else from the path <type>/<name>/vN."""
    where = rel_display(src, folder)
    parts = folder.relative_to(src / "artifacts").parts
    name = str(sidecar.get("name") or (parts[-2] if len(parts) >= 2 else "")).split(":")[0]
    version = str(sidecar.get("version") or (parts[-1] if parts else ""))
    type_ = str(sidecar.get("type") or (parts[-3] if len(parts) >= 3 else "artifact"))
    if not name or not VERSION_RE.match(version):
        plan.error(
            where,
            "cannot tell the artifact's name and version",
            "add wandb_artifact.json or use artifacts/<type>/<name>/v<N>/",
        )
        return None
    if not TYPE_RE.match(type_):
        type_ = sanitise_type(type_)
    return type_, name, version


def _version(
    folder: Path, src: Path, plan: ImportPlan
) -> tuple[VersionSpec, str | None, list[str]] | None:
    where = rel_display(src, folder / "wandb_manifest.json")
    sidecar = (
        _json_object(folder / "wandb_artifact.json", src, plan)
        if (folder / "wandb_artifact.json").is_file()
        else {}
    )
    ident = _identity(folder, src, sidecar, plan)
    entries = read_manifest(folder / "wandb_manifest.json", where, plan)
    if ident is None or entries is None:
        return None
    type_, name, version = ident
    digest, verified = _check_digest(entries, sidecar, where, plan)
    files = [resolve(e, folder, src / "cache", where, plan) for e in entries]
    if any(f is None for f in files):
        return None
    specs = check_collisions(tuple(f for f in files if f is not None), where, plan)
    spec = VersionSpec(
        key=f"wandb:{type_}/{name}:{version}",
        type=type_,
        name=sanitise_name(name),
        files=specs,
        created_at=iso_from_text(sidecar.get("created_at")),
        run=None,
        source=_source(name, version, folder, src, digest, verified, entries),
        description=str(sidecar.get("description") or ""),
        metadata=_finite(sidecar.get("metadata"))
        if isinstance(sidecar.get("metadata"), dict)
        else {},
        aliases=_aliases(sidecar.get("aliases"), where, plan),
    )
    used_by = [str(u) for u in sidecar.get("used_by") or [] if isinstance(u, str)]
    logged_by = sidecar.get("logged_by")
    return spec, str(logged_by) if isinstance(logged_by, str) else None, used_by


def _check_digest(
    entries: list[Entry], sidecar: dict[str, Any], where: str, plan: ImportPlan
) -> tuple[str, bool]:
    """W&B's manifest digest, recomputed; an error if it differs from the recorded one."""
    recorded = sidecar.get("digest")
    if any(e.xxh128 for e in entries):
        plan.warn(
            where,
            "entries use XXH128 digests, which sitegen cannot recompute",
            "the W&B digests were kept unchecked",
        )
        return str(recorded or ""), False
    computed = manifest_digest({e.path: e.digest for e in entries})
    if isinstance(recorded, str) and recorded and recorded != computed:
        plan.error(
            where,
            f"manifest digest is {computed}, but wandb_artifact.json records {recorded}",
            "the manifest was changed",
        )
    return computed, isinstance(recorded, str) and recorded == computed


def _source(
    name: str,
    version: str,
    folder: Path,
    src: Path,
    digest: str,
    verified: bool,
    entries: list[Entry],
) -> dict[str, Any]:
    files: dict[str, Any] = {}
    for e in entries:
        files[e.path] = {"digest": e.digest, **({"ref": e.ref} if e.ref else {})}
    return {
        "tool": "wandb",
        "id": f"{name}:{version}",
        "version": version,
        "path": rel_display(src, folder),
        "digest": digest,
        "digest_checked": verified,
        "files": files,
    }


def _aliases(raw: Any, where: str, plan: ImportPlan) -> tuple[str, ...]:
    good = []
    for alias in sorted(a for a in raw or [] if isinstance(a, str)):
        if alias == "latest" or VERSION_RE.match(alias):
            continue  # sitegen computes these itself
        why = check_alias(alias)
        if why:
            plan.warn(where, f"alias skipped: {why}")
        else:
            good.append(alias)
    return tuple(good)


def _with_run(spec: VersionSpec, run: str | None) -> VersionSpec:
    return replace(spec, run=run)


def _number(version: object) -> int:
    text = str(version or "v0")
    return int(text[1:]) if VERSION_RE.match(text) else 0
