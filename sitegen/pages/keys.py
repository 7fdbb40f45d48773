"""Input keys: what a version's or a run's pages are rendered from, digested without rendering.

An incremental build skips a page group whose key is unchanged, so the key must cover every
input of its pages: the site-wide facts (:func:`site_key`; the theme, config and sitegen
version are in the build salt), the version and its neighbours, the runs that produced or
used them, and the lineage neighbourhood shown in the page's panel. A missing input would
leave a stale page; ``tests/test_incremental.py`` compares incremental builds against full
ones after each kind of store change to catch exactly that.
"""

from __future__ import annotations

import dataclasses
import hashlib
import operator
from collections.abc import Mapping, Sequence
from typing import Any

from sitegen.lineage import Graph, Node
from sitegen.model import AliasChange, Collection, Project, Run
from sitegen.pages.common import SiteInfo
from sitegen.rawjson import many_encoder

# json.dumps(value, sort_keys=True, default=str)
_sorted_json = many_encoder(default=str)
# every field of an alias change as a plain tuple (a dataclass's repr runs in Python)
_ALIAS_CHANGE_FIELDS = operator.attrgetter(*(f.name for f in dataclasses.fields(AliasChange)))


def digest(*parts: Any) -> str:
    """sha256 of the parts' reprs: only str, int, None and tuples of them go in."""
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()


def site_key(site: SiteInfo, project: Project) -> str:
    """Facts every page may show; the build stamp is left out (only the overview shows it)."""
    facts = dataclasses.replace(site, stamp="")
    return digest(repr(facts), project.name, repr(project.metrics), project.withheld)


def run_digest(run: Run) -> str:
    """A run as pages see it: its (redacted) record and the raw history it was read from."""
    fields = {**vars(run.record), "display": ""}  # not where it was read from
    record = _sorted_json(fields)
    return digest(record, run.history_sha256, len(run.history))


def node_digests(details: Mapping[str, Any]) -> dict[str, str]:
    """Per lineage node, a digest of the facts its panel entry shows."""
    encode = _sorted_json
    return {
        node: hashlib.sha256(encode(facts).encode()).hexdigest() for node, facts in details.items()
    }


def lineage_digests(
    graph: Graph, nodes: Mapping[str, str], depth: int
) -> tuple[dict[str, str], str]:
    """Per node, a digest of everything within ``depth`` hops upstream and downstream; and
    a digest of the whole graph as the lineage pages show it.

    A lineage panel shows the nodes within ``depth`` hops up and down (fewer around hubs)
    with every edge among them. Each node's local digest covers its facts and its incident
    edges, and each hop folds in the digests one hop further, so a change anywhere in that
    reach (a node's facts, an edge, a node appearing) changes the key. One pass per hop
    over the whole graph replaces a neighbourhood search per page. The whole graph's digest
    is made from the same local digests: every node's in the graph's order, every node's
    aliases (the graph page shows them, panels do not) and every edge in order.
    """
    incident: dict[str, list[str]] = {n: [] for n in graph.nodes}
    edges = []
    for e in graph.edges:
        edge = repr((e.source, e.target, e.broken))
        edges.append(edge)
        incident[e.source].append(edge)
        incident[e.target].append(edge)
    sha = hashlib.sha256
    local = {
        n: sha(repr((_node_fields(node), nodes.get(n, ""), *incident[n])).encode()).digest()
        for n, node in graph.nodes.items()
    }
    up = _folded(local, graph.predecessors(), depth)
    down = _folded(local, graph.successors(), depth)
    prefix = f"{depth}:".encode()
    aliases = repr([node.aliases for node in graph.nodes.values()])
    whole = sha(b"".join(local.values()) + f"{aliases}\n{edges}".encode()).hexdigest()
    return {n: sha(prefix + up[n] + down[n]).hexdigest() for n in local}, whole


def _folded(
    local: Mapping[str, bytes], adj: Mapping[str, list[str]], hops: int
) -> dict[str, bytes]:
    """Each hop: a node's own digest followed by its neighbours' keys (32-byte digests); a
    node with no neighbours that way keeps its own (most versions are used by no run)."""
    sha = hashlib.sha256
    keys = dict(local)
    for _ in range(hops):
        keys = {
            n: sha(own + b"".join([keys[m] for m in adj[n]])).digest() if n in adj else own
            for n, own in local.items()
        }
    return keys


def _node_fields(node: Node) -> tuple[str, ...]:
    """What a panel shows of a node: not its aliases (see ``graph_payload``)."""
    return (node.id, node.kind, node.label, node.type, node.collection, node.status)


def collection_key(
    base: str, collection: Collection, runs: Mapping[str, str], inputs_known: tuple[bool, ...]
) -> str:
    """A collection's page, its compare-any page and its audit page: every version's row
    (with its producing run), aliases, alias history, and which runs' inputs exist."""
    rows = tuple(
        (v.record.version, v.record.manifest_sha256, v.aliases, v.size, v.producer)
        + ((runs.get(v.producer, ""),) if v.producer else ())
        for v in collection.versions
    )
    aliases = tuple(sorted(collection.aliases.items()))
    history = tuple(map(_ALIAS_CHANGE_FIELDS, collection.alias_history))
    return digest(base, collection.ref, info_key(collection), rows, aliases, history, inputs_known)


def info_key(collection: Collection) -> str:
    """``collection.yaml`` as pages see it (not where it was read from)."""
    info = collection.info and dataclasses.replace(collection.info, display="")
    return repr(info)


def version_group_key(
    base: str,
    collection: Collection,
    index: int,
    runs: Mapping[str, str],
    neighbourhood: str,
    info: str,
) -> str:
    """The version page, its data files and the pair page with its predecessor; ``info`` is
    the collection's :func:`info_key`.

    The version and its predecessor count in full (the pair page shows both). The next
    version counts only by its number: the pages link to it and show nothing else of it, so
    the ``latest`` alias leaving it does not render the version before it again.
    """
    versions = collection.versions
    shown = tuple(
        (v.record.manifest_sha256, v.aliases, v.producer, v.consumers, v.size)
        for v in versions[max(0, index - 1) : index + 1]
    )
    following = versions[index + 1].record.version if index + 1 < len(versions) else None
    related = {v.producer for v in versions[max(0, index - 1) : index + 1]}
    related.update(versions[index].consumers)
    used = tuple((r, runs.get(r, "")) for r in sorted(r for r in related if r))
    return digest(base, collection.ref, info, index, shown, following, used, neighbourhood)


def versions_key(
    base: str,
    collection: Collection,
    runs: Mapping[str, str],
    neighbourhoods: Sequence[str],
    info: str,
) -> str:
    """Everything :func:`version_group_key` reads for any version of ``collection``, in one
    digest (``neighbourhoods``: each version's, in order). While it is unchanged, so is the
    key of every version group: a rebuild checks a collection's version groups at once.
    """
    versions = collection.versions
    rows = tuple(
        (v.record.version, v.record.manifest_sha256, v.aliases, v.producer, v.consumers, v.size)
        for v in versions
    )
    related = {v.producer for v in versions}
    for v in versions:
        related.update(v.consumers)
    used = tuple((r, runs.get(r, "")) for r in sorted(r for r in related if r))
    return digest(base, collection.ref, info, rows, used, tuple(neighbourhoods))


def run_key(
    base: str, run: Run, runs: Mapping[str, str], known: set[str], neighbourhood: str
) -> str:
    refs = run.record.inputs + run.record.outputs
    return digest(base, runs[run.id], tuple(ref in known for ref in refs), neighbourhood)
