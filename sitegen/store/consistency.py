"""Cross-record consistency: lineage references, cycles, and the log against the files.

Pure checks run after every record was checked on its own (see :mod:`records`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sitegen.errors import Problem
from sitegen.graphs import strongly_connected_cycles
from sitegen.store.events import LogState
from sitegen.store.format import check_alias

if TYPE_CHECKING:
    from sitegen.store.records import VersionRecord
    from sitegen.store.run_records import RunRecord


def check_lineage_refs(
    versions: list[VersionRecord], runs: list[RunRecord], problems: list[Problem]
) -> None:
    """Inputs/outputs that point nowhere are problems; the edge is still drawn, marked broken."""
    known = {v.ref for v in versions}
    run_ids = {r.id for r in runs}
    for run in runs:
        for key, refs in (("inputs", run.inputs), ("outputs", run.outputs)):
            for ref in refs:
                if ref not in known:
                    problems.append(
                        Problem(
                            run.display,
                            None,
                            f"'{key}' names {ref}, which is not a committed version",
                            "the lineage graph marks this edge as broken",
                            "warning",
                        )
                    )
    for v in versions:
        if v.run is not None and v.run not in run_ids:
            problems.append(
                Problem(
                    v.display,
                    None,
                    f"producing run {v.run!r} does not exist",
                    "the run record is missing; lineage shows the edge as broken",
                    "warning",
                )
            )


def check_cycles(runs: list[RunRecord], problems: list[Problem]) -> None:
    """Lineage must be acyclic: a run cannot (transitively) consume its own output."""
    succ: dict[str, list[str]] = {}
    for run in runs:
        for ref in run.inputs:
            succ.setdefault(ref, []).append(f"run:{run.id}")
        succ.setdefault(f"run:{run.id}", []).extend(run.outputs)
    displays = {f"run:{r.id}": r.display for r in runs}
    for cycle in strongly_connected_cycles(sorted(succ), succ):
        members = [n for n in cycle if n in displays]
        problems.append(
            Problem(
                displays[members[0]] if members else "runs",
                None,
                f"lineage cycle through {', '.join(cycle)}",
                "a run consumes its own output; fix the inputs/outputs of these runs",
                "warning",
            )
        )


def check_log_against_files(
    state: LogState, versions: list[VersionRecord], display: str, problems: list[Problem]
) -> None:
    present = {(v.collection, v.version) for v in versions}
    for coll, version in sorted(state.versions - present):
        problems.append(
            Problem(
                f"{display}/artifacts/{coll}/v{version}/manifest.json",
                None,
                "the event log commits this version but its manifest is missing or unreadable",
                "restore the manifest from a backup",
            )
        )
    for coll, aliases in sorted(state.aliases.items()):
        for alias, version in sorted(aliases.items()):
            if check_alias(alias):
                problems.append(
                    Problem(
                        f"{display}/events", None, f"{coll}: {check_alias(alias)}", None, "warning"
                    )
                )
            if (coll, version) not in state.versions:
                problems.append(
                    Problem(
                        f"{display}/events",
                        None,
                        f"alias {alias!r} points to {coll}:v{version}, never committed",
                    )
                )
