"""Small builders shared by tests: make real stores through the public API."""

from __future__ import annotations

from pathlib import Path

import sitegen


def make_files(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def log_version(
    store: Path,
    name: str,
    files: dict[str, str],
    work: Path,
    type_: str = "dataset",
    aliases: tuple[str, ...] = (),
    clock: sitegen.FixedClock | None = None,
) -> sitegen.ArtifactVersion:
    src = make_files(work / f"src-{name}-{abs(hash(tuple(sorted(files.items()))))}", files)
    art = sitegen.Artifact(name, type=type_)
    art.add_dir(src)
    handle = sitegen.Store(store, project="test", clock=clock, user="tester", host="test-host")
    return handle.log_artifact(art, aliases=aliases)


def small_project(store: Path, work: Path) -> sitegen.Store:
    """dataset v0,v1 -> train run -> model v0 (alias production), with history and a failed run."""
    clock = sitegen.FixedClock("2024-03-01T00:00:00Z")
    common = {
        "store": store,
        "project": "demo",
        "clock": clock,
        "user": "u",
        "host": "h",
        "git": {},
    }
    with sitegen.init(job_type="prep", id="prep1", **common) as run:  # type: ignore[arg-type]
        for rows in ("a,b\n1,2\n", "a,b\n1,2\n3,4\n"):
            data = sitegen.Artifact("grades", type="dataset", description="Student *grades*")
            data.add_file(make_files(work / f"d{len(rows)}", {"grades.csv": rows}) / "grades.csv")
            run.log_artifact(data)
    with sitegen.init(
        job_type="train", id="train1", config={"lr": 0.1, "opt": {"name": "adam"}}, **common
    ) as run:  # type: ignore[arg-type]
        run.use_artifact("grades:latest")
        for step in range(5):
            run.log({"loss": 1.0 / (step + 1), "accuracy": 0.5 + step / 10})
        model = sitegen.Artifact("grader", type="model", metadata={"arch": "bert", "layers": 12})
        model.add_file(make_files(work / "m", {"weights.bin": "w1"}) / "weights.bin")
        run.log_artifact(model, aliases=["production"])
    try:
        with sitegen.init(job_type="train", id="broken1", **common) as run:  # type: ignore[arg-type]
            raise RuntimeError("diverged")
    except RuntimeError:
        pass
    return sitegen.Store(store, clock=clock)
