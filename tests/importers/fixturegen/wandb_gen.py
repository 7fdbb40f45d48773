"""W&B fixtures: real ``wandb`` runs and artifacts, talking to the local stub backend.

Layout written (what ``sitegen import wandb`` reads, see docs/importers.md)::

    wandb/run-<time>-<id>/files/{config.yaml,wandb-summary.json,wandb-metadata.json}
    wandb/offline-run-<time>-<id>/files/requirements.txt    (offline: no plain files)
    artifacts/<name>/v<N>/wandb_manifest.json               (bytes the client uploaded)
    artifacts/<name>/v<N>/wandb_artifact.json               (what the server recorded)
    artifacts/<name>/v<N>/files/<path>                      (reference entries' bytes)
    cache/obj/md5/<2 hex>/<30 hex>                          (the client's artifact cache)
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import wandb_stub

RUN_FILES = ("config.yaml", "wandb-summary.json", "wandb-metadata.json")


def _env(home: Path, base_url: str, offline: bool = False) -> None:
    os.environ.update(
        {
            "HOME": str(home),
            "WANDB_BASE_URL": base_url,
            "WANDB_API_KEY": "x" * 40,
            "WANDB_SILENT": "true",
            "WANDB_CACHE_DIR": str(home / ".cache" / "wandb"),
            "WANDB_MODE": "offline" if offline else "online",
            "WANDB_DISABLE_GIT": "true",
        }
    )


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _runs(work: Path) -> None:
    import wandb

    data = work / "data"
    _write(data / "train.csv", "essay,grade\nfirst,3\nsecond,4\n")
    _write(data / "test.csv", "essay,grade\nthird,5\n")
    labels = _write(work / "external" / "labels.csv", "id,label\n1,pass\n")
    common = {"project": "demo", "entity": "team", "dir": str(work)}
    with wandb.init(id="prep01", job_type="preprocess", config={"split": 0.5}, **common) as run:
        essays = wandb.Artifact(
            "essays", type="dataset", description="Essays *v0*", metadata={"rows": 3}
        )
        essays.add_dir(str(data), name="data")
        run.log_artifact(essays, aliases=["raw"])
        essays.wait()
        run.summary["rows"] = 3
    for run_id, lr, weights, aliases in (
        ("train01", 0.1, "w=0.1\n", ["best"]),
        ("train02", 0.05, "w=0.05\n", ["best"]),
        ("train03", 0.05, "w=0.05\n", ["candidate"]),  # same content: W&B keeps one version
    ):
        config = {"lr": lr, "epochs": 3, "model": {"layers": [8, 4], "name": "grader"}}
        with wandb.init(id=run_id, job_type="train", config=config, **common) as run:
            run.use_artifact(essays)
            for step in range(3):
                run.log({"loss": lr * 10 / (step + 1), "acc": 0.5 + step / 10})
            model = wandb.Artifact("grader", type="model", metadata={"lr": lr})
            model.add_file(
                str(_write(work / "out" / run_id / "weights.bin", weights)), name="weights.bin"
            )
            model.add_reference(labels.as_uri(), name="labels.csv")
            run.log_artifact(model, aliases=aliases)
            model.wait()


def _offline_run(work: Path) -> None:
    import wandb

    with wandb.init(
        id="off01", project="demo", dir=str(work), mode="offline", config={"lr": 1}
    ) as run:
        run.log({"loss": 1.0})


def _export_runs(work: Path, out: Path) -> None:
    for run_dir in sorted((work / "wandb").glob("*run-*")):
        if run_dir.is_symlink() or not run_dir.is_dir():
            continue
        names = [n for n in RUN_FILES if (run_dir / "files" / n).exists()] or ["requirements.txt"]
        for name in names:
            target = out / "wandb" / run_dir.name / "files" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(run_dir / "files" / name, target)


def _export_artifacts(state: wandb_stub.State, work: Path, out: Path) -> list[dict[str, Any]]:
    exported = []
    for art in state.artifacts.values():
        manifest_bytes = state.uploads[f"/upload/manifest/{art['id']}"]
        folder = out / "artifacts" / art["name"] / f"v{art['version_index']}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "wandb_manifest.json").write_bytes(manifest_bytes)
        record = {
            "type": art["type"],
            "name": f"{art['name']}:v{art['version_index']}",
            "version": f"v{art['version_index']}",
            "digest": art["digest"],
            "aliases": sorted(art["aliases"]),
            "metadata": art["metadata"],
            "description": art["description"],
            "created_at": art["created_at"],
            "logged_by": art["logged_by"],
            "used_by": art["used_by"],
        }
        (folder / "wandb_artifact.json").write_text(json.dumps(record, indent=2) + "\n")
        for path, entry in json.loads(manifest_bytes)["contents"].items():
            if entry.get("ref", "").startswith("file://"):
                src = Path(entry["ref"].removeprefix("file://"))
                dest = folder / "files" / path
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dest)
        exported.append({**record, "manifest": json.loads(manifest_bytes)})
    return exported


def generate(work: Path, out: Path) -> dict[str, Any]:
    import wandb

    server, state, log = wandb_stub.serve()
    home = work / "home"
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        _env(home, base_url)
        _runs(work)
        _env(home, base_url, offline=True)
        _offline_run(work)
    finally:
        server.shutdown()
    _export_runs(work, out)
    artifacts = _export_artifacts(state, work, out)
    shutil.copytree(home / ".cache" / "wandb" / "artifacts" / "obj", out / "cache" / "obj")
    digests = [
        {
            "collection": op["variables"]["input"]["artifactCollectionName"],
            "digest": op["variables"]["input"]["digest"],
        }
        for op in log
        if op["op"] == "CreateArtifact"
    ]
    return {"wandb_version": wandb.__version__, "artifacts": artifacts, "client_digests": digests}
