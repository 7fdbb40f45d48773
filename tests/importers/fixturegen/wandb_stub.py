"""A minimal stand-in for the W&B backend, just enough for the real ``wandb`` client.

W&B's current client (wandb-core) writes a run directory's plain files (``config.yaml``,
``wandb-summary.json``, ``wandb-metadata.json``) and uploads an artifact's
``wandb_manifest.json`` only when it talks to a server; offline it writes neither. This
stub answers the handful of GraphQL operations the client needs, accepts uploads, and
records what the client sent (artifact type, name, digest, aliases, metadata, the manifest
bytes), which is exactly what W&B's server would store. Nothing here shapes the files the
client writes: they are the real client's output.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

OP_RE = re.compile(r"(query|mutation)\s+(\w+)")
FIRST_FIELD_RE = re.compile(r"\{\s*(\w+)")


def gid(kind: str, n: int) -> str:
    return base64.b64encode(f"{kind}:{n}".encode()).decode()


class State:
    """What the server knows: artifacts (with manifests and aliases) and file uploads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.artifacts: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, bytes] = {}

    def create_artifact(self, inp: dict[str, Any]) -> dict[str, Any]:
        coll, digest = inp["artifactCollectionName"], inp["digest"]
        same = [a for a in self.artifacts.values() if a["name"] == coll]
        for art in same:
            if art["digest"] == digest:  # W&B deduplicates identical content
                self._alias(art, inp, same)
                return art
        art = {
            "id": gid("Artifact", len(self.artifacts) + 1),
            "type": inp["artifactTypeName"],
            "name": coll,
            "version_index": len(same),
            "digest": digest,
            "aliases": set(),
            "metadata": json.loads(inp.get("metadata") or "{}"),
            "description": inp.get("description"),
            "logged_by": inp.get("runName"),
            "used_by": [],
            "created_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "state": "PENDING",
        }
        self.artifacts[art["id"]] = art
        self._alias(art, inp, same)
        return art

    @staticmethod
    def _alias(art: dict[str, Any], inp: dict[str, Any], same: list[dict[str, Any]]) -> None:
        for alias in (a["alias"] for a in inp.get("aliases") or []):
            for other in same:
                other["aliases"].discard(alias)
            art["aliases"].add(alias)


def _project(entity: str = "team", project: str = "demo") -> dict[str, Any]:
    return {"id": gid("Project", 1), "internalId": "1", "name": project, "entity": {"name": entity}}


def artifact_fragment(art: dict[str, Any]) -> dict[str, Any]:
    coll = {"__typename": "ArtifactSequence", "name": art["name"], "project": _project()}
    return {
        "__typename": "Artifact",
        "id": art["id"],
        "artifactSequence": coll,
        "versionIndex": art["version_index"],
        "artifactType": {"name": art["type"]},
        "description": art["description"],
        "metadata": json.dumps(art["metadata"]),
        "ttlDurationSeconds": -2,
        "ttlIsInherited": True,
        "tags": [],
        "historyStep": None,
        "state": "COMMITTED" if art["state"] == "COMMITTED" else "PENDING",
        "size": 0,
        "digest": art["digest"],
        "commitHash": "0" * 12,
        "fileCount": 0,
        "createdAt": art["created_at"],
        "updatedAt": None,
        "aliases": [
            {
                "__typename": "ArtifactAlias",
                "id": gid("Alias", i),
                "alias": alias,
                "artifactCollection": {
                    "__typename": "ArtifactSequence",
                    "name": art["name"],
                    "project": _project(),
                },
            }
            for i, alias in enumerate(sorted(art["aliases"]))
        ],
    }


def answer(state: State, op: str, v: dict[str, Any], base: str, first: str) -> dict[str, Any]:
    """The ``data`` of a GraphQL response; unknown queries get ``{field: null}``."""
    with state.lock:
        return _answer(state, op, v, base, first)


def _answer(state: State, op: str, v: dict[str, Any], base: str, first: str) -> dict[str, Any]:
    if op == "Viewer":
        viewer = {"id": gid("User", 1), "entity": "team", "username": "tester"}
        return {
            "viewer": {**viewer, "email": "t@example.com", "flags": "{}", "teams": {"edges": []}}
        }
    if op == "ServerFeaturesQuery":
        return {"serverInfo": {"features": []}}
    if op == "UpsertBucket":
        project = {
            "id": gid("Project", 1),
            "name": v.get("project"),
            "entity": {"id": gid("Entity", 1), "name": v.get("entity")},
        }
        bucket = {
            "id": gid("Run", 1),
            "name": v.get("name"),
            "displayName": v.get("name"),
            "description": None,
        }
        bucket |= {"config": "{}", "sweepName": None, "project": project, "historyLineCount": 0}
        return {"upsertBucket": {"bucket": bucket, "inserted": True}}
    if op == "CreateRunFiles":
        files = [{"name": f, "uploadUrl": f"{base}/run/{v['run']}/{f}"} for f in v["files"]]
        return {"createRunFiles": {"runID": gid("Run", 1), "uploadHeaders": [], "files": files}}
    if op == "CreateArtifact":
        art = state.create_artifact(v["input"])
        latest = {"id": art["id"]} if art["state"] == "COMMITTED" else None
        payload = {
            "id": art["id"],
            "state": art["state"],
            "artifactSequence": {"latestArtifact": latest},
        }
        return {"createArtifact": {"artifact": payload}}
    if op in ("CreateArtifactManifest", "UpdateArtifactManifest"):
        url = f"{base}/manifest/{v.get('artifactID')}"
        manifest = {
            "id": gid("Manifest", 1),
            "file": {"id": gid("File", 1), "uploadUrl": url, "uploadHeaders": []},
        }
        return {op[0].lower() + op[1:]: {"artifactManifest": manifest}}
    if op == "CreateArtifactFiles":
        files = (v.get("input") or {}).get("artifactFiles") or []
        edges = [
            {
                "node": {
                    "storagePath": None,
                    "uploadUrl": f"{base}/file/{f['md5']}",
                    "uploadHeaders": [],
                    "uploadMultipartUrls": None,
                    "artifact": {"id": f["artifactID"]},
                }
            }
            for f in files
        ]
        return {"createArtifactFiles": {"files": {"edges": edges}}}
    if op == "CommitArtifact":
        art = state.artifacts[v["artifactID"]]
        art["state"] = "COMMITTED"
        return {"commitArtifact": {"artifact": {"id": art["id"], "digest": art["digest"]}}}
    if op == "ArtifactByID":
        art = state.artifacts.get(v["id"])
        return {"artifact": artifact_fragment(art) if art else None}
    if op == "UseArtifact":
        inp = v.get("input") or v
        art = state.artifacts[inp["artifactID"]]
        if inp.get("runName") not in art["used_by"]:
            art["used_by"].append(inp.get("runName"))
        return {"useArtifact": {"artifact": {"id": art["id"]}}}
    return {first: None}


class Handler(BaseHTTPRequestHandler):
    state: State
    log: list[dict[str, Any]]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, obj: Any) -> None:
        data = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._send({})

    def do_PUT(self) -> None:
        body = self._body()
        with self.state.lock:
            self.state.uploads[self.path] = body
        self._send({})

    def do_POST(self) -> None:
        body = self._body()
        if not self.path.startswith("/graphql"):
            self._send({})  # file_stream, telemetry
            return
        req = json.loads(body)
        match = OP_RE.search(req["query"])
        op = req.get("operationName") or (match.group(2) if match else "")
        first = FIRST_FIELD_RE.search(req["query"])
        variables = req.get("variables") or {}
        self.log.append({"op": op, "variables": variables})
        base = f"http://127.0.0.1:{self.server.server_address[1]}/upload"
        self._send(
            {"data": answer(self.state, op, variables, base, first.group(1) if first else "")}
        )


def serve() -> tuple[ThreadingHTTPServer, State, list[dict[str, Any]]]:
    state, log = State(), []
    handler = type("BoundHandler", (Handler,), {"state": state, "log": log})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, state, log
