"""``sitegen import dvc SRC [--rev git:REV …]``: DVC pipelines -> a sitegen plan.

Reads ``dvc.lock`` (schema 2.0) and ``dvc.yaml`` of each state (the working tree, or each
git revision given, oldest first). Mapping (docs/importers.md):

- each stage execution recorded in a lock -> a run. Its id is the stage name plus a hash of
  its lock entry, so an unchanged stage seen in several revisions is one run, and a stage
  that ran again is a new one. ``foreach``/``matrix`` stages appear expanded in the lock
  (``train@1``); the part before ``@`` becomes the job type.
- each out (a file, or a directory listed by its ``.dir`` object in the cache) -> a version
  of ``<type>/<name>``: the type and name of a matching ``artifacts:`` entry of dvc.yaml, else
  ``dvc-out/<path with '/' as '.'>``. Identical content is one version; new content in a
  later revision is the next version.
- deps that are outs of another stage, or data added with ``dvc add`` (``<path>.dvc``),
  -> the run's inputs: the lineage. Other deps (code) stay in the run's ``source.deps``.
- params -> config; metrics files of the stage (``metrics:`` in dvc.yaml) -> summary.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitegen.importers.common import (
    PATH_HINT,
    FileSpec,
    ImportPlan,
    RunSpec,
    VersionSpec,
    check_collisions,
    hash_file,
    json_number,
    mapping,
    run_record,
    sanitise_name,
    sanitise_type,
    short_hash,
)
from sitegen.importers.dvc_source import Cache, State, states
from sitegen.store.format import canonical_json, check_file_path
from sitegen.store.reader import parse_yaml

RUN_ID_BAD = re.compile(r"[^A-Za-z0-9_-]+")
TEMPLATE = re.compile(r"\$\{[^}]*\}")
SUMMARY_LIMIT = 1 << 20


@dataclass(frozen=True)
class Out:
    path: str
    md5: str
    size: int | None
    nfiles: int | None

    @property
    def key(self) -> str:
        return f"dvc:out:{self.path}:{self.md5}"


class _Importer:
    def __init__(self, src: Path, plan: ImportPlan) -> None:
        self.src, self.plan, self.cache = src, plan, Cache(src)
        self.versions: dict[str, VersionSpec] = {}
        self.runs: dict[str, RunSpec] = {}
        self.names: dict[str, str] = {}
        self.missing: set[str] = set()
        self.parsed: dict[tuple[int, str], tuple[dict[str, Any], list[Out]]] = {}

    def state(self, st: State) -> None:
        lock = st.read_yaml("dvc.lock", self.plan)
        if lock is None:
            self.plan.error(
                f"{st.label}:dvc.lock", "no dvc.lock", "run `dvc repro` (or give the right --rev)"
            )
            return
        if (
            not isinstance(lock, dict)
            or str(lock.get("schema")) != "2.0"
            or not isinstance(lock.get("stages"), dict)
        ):
            self.plan.error(
                f"{st.label}:dvc.lock",
                "not a dvc.lock of schema 2.0",
                "DVC 1 lock files are not supported",
            )
            return
        pipeline = st.read_yaml("dvc.yaml", self.plan)
        pipeline = pipeline if isinstance(pipeline, dict) else {}
        stages = {str(k): v for k, v in sorted(lock["stages"].items()) if isinstance(v, dict)}
        produced = {o.path: o for entry in stages.values() for o in self._outs(entry, st)}
        outputs = {
            name: [
                k
                for o in self._outs(entry, st)
                if (k := self._version(o, st, name, _run_id(name, entry), pipeline))
            ]
            for name, entry in stages.items()
        }
        for name, entry in stages.items():
            self._stage(name, entry, produced, outputs[name], pipeline, st)

    def _outs(self, entry: dict[str, Any], st: State, key: str = "outs") -> list[Out]:
        """The checked outs (or deps) of a lock entry; each problem is reported once."""
        memo = (id(entry), key)
        if memo not in self.parsed:
            self.parsed[memo] = (entry, self._parse_outs(entry, st, key))
        return self.parsed[memo][1]

    def _parse_outs(self, entry: dict[str, Any], st: State, key: str) -> list[Out]:
        outs = []
        for raw in entry.get(key) or []:
            if not isinstance(raw, dict) or not isinstance(raw.get("path"), str):
                continue
            why = check_file_path(raw["path"])
            if why is not None:
                self.plan.error(f"{st.label}:dvc.lock: {raw['path']!r}", why, PATH_HINT)
                continue
            if isinstance(raw.get("md5"), str):
                outs.append(
                    Out(raw["path"], raw["md5"], _int(raw.get("size")), _int(raw.get("nfiles")))
                )
        return outs

    def _stage(
        self,
        name: str,
        entry: dict[str, Any],
        produced: dict[str, Out],
        outputs: list[str],
        pipeline: dict[str, Any],
        st: State,
    ) -> None:
        run_id = _run_id(name, entry)
        if run_id in self.runs:
            return
        inputs = []
        for dep in self._outs(entry, st, "deps"):
            source = produced.get(dep.path)
            if source is None or source.md5 != dep.md5:
                source = self._tracked(dep, st)
            if source is not None and source.md5 == dep.md5:
                inputs.append(self._version(source, st, None, None, pipeline))
        summary = self._summary(entry, name, pipeline, st)
        record = run_record(
            run_id,
            name=name,
            job_type=name.split("@")[0],
            started_at=st.time,
            finished_at=st.time or None,
            config=_params(entry.get("params")),
            summary=summary,
            notes=f"```\n{_cmd(entry.get('cmd'))}\n```" if entry.get("cmd") else "",
            source={
                "tool": "dvc",
                "id": f"{name}@{run_id.rsplit('-', 1)[1]}",
                "path": "dvc.lock",
                "stage": name,
                "cmd": _cmd(entry.get("cmd")),
                "deps": [{"path": d.path, "md5": d.md5} for d in self._outs(entry, st, "deps")],
            },
        )
        self.runs[run_id] = RunSpec(record, tuple(k for k in inputs if k), tuple(outputs))

    def _tracked(self, dep: Out, st: State) -> Out | None:
        """An out of ``<dep>.dvc`` (data added with ``dvc add``), if there is one."""
        data = st.read_yaml(f"{dep.path}.dvc", self.plan)
        if not isinstance(data, dict):
            return None
        parent = dep.path.rsplit("/", 1)[0] + "/" if "/" in dep.path else ""
        for out in self._outs(data, st):
            if f"{parent}{out.path}" == dep.path:
                return Out(dep.path, out.md5, out.size, out.nfiles)
        return None

    def _version(
        self, out: Out, st: State, stage: str | None, run_id: str | None, pipeline: dict[str, Any]
    ) -> str | None:
        if out.key in self.versions:
            return out.key
        if out.key in self.missing:
            return None
        files = self._files(out, st)
        if files is None:
            self.missing.add(out.key)
            return None
        type_, name, desc = _collection(out.path, pipeline)
        if self.names.setdefault(f"{type_}/{name}", out.path) != out.path:
            self.plan.error(
                f"{st.label}:dvc.lock",
                f"outs {self.names[f'{type_}/{name}']!r} and {out.path!r} both map to {type_}/{name}",
            )
            return None
        self.versions[out.key] = VersionSpec(
            key=out.key,
            type=type_,
            name=name,
            files=files,
            created_at=st.time,
            run=run_id,
            source={
                "tool": "dvc",
                "id": f"{out.path}@{out.md5}",
                "path": out.path,
                "md5": out.md5,
                "stage": stage,
            },
            description=desc,
            metadata={
                k: v
                for k, v in (("md5", out.md5), ("size", out.size), ("nfiles", out.nfiles))
                if v is not None
            },
        )
        return out.key

    def _files(self, out: Out, st: State) -> tuple[FileSpec, ...] | None:
        where = f"{st.label}:{out.path}"
        if not out.md5.endswith(".dir"):
            spec = self._file(out.path.rsplit("/", 1)[-1], out.md5, out.path, st, where)
            return (spec,) if spec is not None else None
        listing = self.cache.path(out.md5)
        if listing is None:
            self.plan.warn(
                where,
                f"the directory listing {out.md5} is not in .dvc/cache",
                "run `dvc fetch`; the out was not imported",
            )
            return None
        try:
            entries = json.loads(listing.read_bytes())
        except (OSError, ValueError) as exc:
            self.plan.error(where, f"unreadable directory listing: {exc}")
            return None
        specs = [self._dir_entry(e, out, st, where) for e in entries if isinstance(e, dict)]
        if any(s is None for s in specs) or len(specs) != len(entries):
            return None
        files = check_collisions(tuple(s for s in specs if s is not None), where, self.plan)
        if out.nfiles is not None and out.nfiles != len(files):
            self.plan.error(
                where, f"dvc.lock says {out.nfiles} files, the listing has {len(files)}"
            )
        return files

    def _dir_entry(self, entry: dict[str, Any], out: Out, st: State, where: str) -> FileSpec | None:
        rel, md5 = entry.get("relpath"), entry.get("md5")
        why = check_file_path(rel) if isinstance(md5, str) else "entry has no md5"
        if why is not None or not isinstance(rel, str) or not isinstance(md5, str):
            self.plan.error(f"{where}/{rel}", why or "bad listing entry", PATH_HINT)
            return None
        return self._file(rel, md5, f"{out.path}/{rel}", st, f"{where}/{rel}")

    def _file(self, path: str, md5: str, repo_path: str, st: State, where: str) -> FileSpec | None:
        cached = self.cache.path(md5)
        if cached is not None:
            sha, got, size = hash_file(cached)
            if got == md5:
                return FileSpec(path, sha, size, local=cached)
            self.plan.error(
                where,
                f"the cache object for {md5} is corrupted (its MD5 is {got})",
                "run `dvc fetch` again",
            )
            return None
        blob = st.blob(repo_path, md5)
        if blob is not None:
            return FileSpec.of_bytes(path, blob)
        self.plan.warn(
            where,
            f"the bytes of {md5} are not in .dvc/cache nor in the repository",
            "run `dvc fetch`; the out was not imported",
        )
        return None

    def _summary(
        self, entry: dict[str, Any], name: str, pipeline: dict[str, Any], st: State
    ) -> dict[str, Any]:
        patterns = _metric_patterns(pipeline, name.split("@")[0])
        summary: dict[str, Any] = {}
        for out in self._outs(entry, st):
            if not any(p.fullmatch(out.path) for p in patterns) or out.key not in self.versions:
                continue
            spec = self.versions[out.key].files[0]
            data = (
                spec.data
                if spec.data is not None
                else spec.local.read_bytes()
                if spec.local
                else b""
            )
            if len(data) <= SUMMARY_LIMIT:
                summary.update(_flatten(_parse_metrics(data, out.path)))
        return summary


def _run_id(name: str, entry: dict[str, Any]) -> str:
    """Stage name + a hash of its lock entry: one id per execution, stable across revisions."""
    stem = RUN_ID_BAD.sub("-", name)[:48].strip("-") or "stage"
    return f"{stem}-{short_hash(name + canonical_json(entry).decode())}"


def load(src: Path, revs: Sequence[str] = ()) -> ImportPlan:
    plan = ImportPlan("dvc")
    if not src.is_dir():
        plan.error(
            str(src), "no such directory", "give the DVC repository (with dvc.yaml and dvc.lock)"
        )
        return plan
    importer = _Importer(src, plan)
    for st in states(src, list(revs)):
        importer.state(st)
    plan.versions.extend(importer.versions.values())
    plan.runs.extend(importer.runs.values())
    return plan


def _collection(path: str, pipeline: dict[str, Any]) -> tuple[str, str, str]:
    for name, decl in sorted(mapping(pipeline.get("artifacts")).items()):
        if isinstance(decl, dict) and str(decl.get("path", "")).strip("/") == path.strip("/"):
            type_ = sanitise_type(str(decl.get("type") or "dvc-out"))
            return type_, sanitise_name(str(name)), str(decl.get("desc") or "")
    return "dvc-out", sanitise_name(path.replace("/", ".")), ""


def _metric_patterns(pipeline: dict[str, Any], base: str) -> list[re.Pattern[str]]:
    stage = mapping(mapping(pipeline.get("stages")).get(base))
    body = mapping(stage.get("do")) or stage
    patterns = []
    for item in body.get("metrics") or []:
        path = next(iter(item)) if isinstance(item, dict) and item else item
        if isinstance(path, str):
            parts = TEMPLATE.split(path)
            patterns.append(re.compile(".+?".join(re.escape(p) for p in parts)))
    return patterns


def _parse_metrics(data: bytes, path: str) -> Any:
    text = data.decode("utf-8", errors="replace")
    if path.endswith(".json"):
        try:
            return json.loads(text)
        except ValueError:
            return None
    parsed, _ = parse_yaml(text, path)
    return parsed


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(value, dict):
        return {}
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, dict):
            out.update(_flatten(item, f"{name}."))
        elif isinstance(item, bool | str) or item is None:
            out[name] = item
        elif isinstance(item, int | float):
            out[name] = json_number(float(item)) if isinstance(item, float) else item
    return out


def _params(raw: Any) -> dict[str, Any]:
    """``params.yaml`` keys at the top (as DVC writes them, dotted); other files nested."""
    config: dict[str, Any] = {}
    for file, values in sorted((raw or {}).items()) if isinstance(raw, dict) else []:
        if not isinstance(values, dict):
            continue
        target = config if file == "params.yaml" else config.setdefault(str(file), {})
        target.update({str(k): v for k, v in values.items()})
    return config


def _cmd(cmd: Any) -> str:
    return "\n".join(str(c) for c in cmd) if isinstance(cmd, list) else str(cmd or "")


def _int(value: Any) -> int | None:
    return value if type(value) is int and value >= 0 else None
