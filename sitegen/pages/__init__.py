"""The plan stage: the whole site map as a list of :class:`Page` objects (pure)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property, partial
from typing import Any, NamedTuple

from sitegen.compare import ReadObject, recent_objects
from sitegen.config import SiteConfig
from sitegen.errors import Problem, SitegenError
from sitegen.lineage import Graph, build_graph, run_id, version_id
from sitegen.model import Collection, Project, Run
from sitegen.pages.audit import audit_page, collection_audit_page, collection_audit_url
from sitegen.pages.collection import (
    collection_description,
    collection_page,
    published_file_url,
    version_body,
    version_page,
)
from sitegen.pages.common import (
    Page,
    SiteInfo,
    collection_url,
    data_script,
    run_url,
    version_data_url,
    version_url,
)
from sitegen.pages.compare import (
    any_page,
    any_url,
    pair_page,
    pair_url,
    version_files,
    version_script_url,
)
from sitegen.pages.keys import (
    collection_key,
    digest,
    info_key,
    lineage_digests,
    node_digests,
    run_digest,
    run_key,
    site_key,
    version_group_key,
    versions_key,
)
from sitegen.pages.lineage import (
    PANEL_DEPTH,
    lineage_pages,
    lineage_urls,
    node_details,
    panel,
)
from sitegen.pages.overview import not_found_page, overview_page, runs_page, search_entries
from sitegen.pages.run import run_page
from sitegen.rawjson import RawValues
from sitegen.verify import VerifyReport

__all__ = [
    "Batch",
    "LineageFacts",
    "LineageKeys",
    "Page",
    "Planned",
    "SiteInfo",
    "batches",
    "lineage_facts",
    "lineage_keys",
    "plan_site",
    "published_files",
]


class Planned(NamedTuple):
    """Pages known by URL now and built later, in the worker that renders them.

    Building contexts lazily keeps the parent small and spreads the plan work over the
    render processes (they are forked, so the closures need no pickling). ``key``, when
    given, digests every input of these pages (see :mod:`sitegen.pages.keys`): an
    incremental build whose recorded key matches skips building them at all. ``site_wide``
    pages are built from every version and run (overview, runs, search, audit and lineage
    pages): a rebuild checks and renders them beside the reuse check of all the others.
    ``batch``: the groups whose inputs are also digested together (see :class:`Batch`).
    ``markdown``: the texts these pages render as markdown (see
    :func:`~sitegen.markdown.prerender`).
    """

    urls: tuple[str, ...]
    build: Callable[[], list[Page]]
    key: Callable[[], str] | None = None
    site_wide: bool = False
    batch: Batch | None = None
    markdown: tuple[str, ...] = ()

    def pages(self) -> list[Page]:
        """Build the pages; they must be exactly the URLs planned (reuse relies on it)."""
        pages = self.build()
        if tuple(p.url for p in pages) != self.urls:
            raise AssertionError(f"planned {self.urls}, built {[p.url for p in pages]}")
        return pages


@dataclass(eq=False)
class Batch:
    """Page groups whose keys a rebuild checks at once: a collection's version groups (a
    hundred at 10,000 versions), digested together by :func:`~sitegen.pages.keys.versions_key`.
    When the digest is the one the last build recorded for ``name``, every group's key is
    too; the groups then keep their pages (when intact) without a key each."""

    name: str
    make_key: Callable[[], str]

    @cached_property
    def key(self) -> str:
        return self.make_key()


def batches(planned: list[Planned]) -> dict[str, Batch]:
    return {p.batch.name: p.batch for p in planned if p.batch is not None}


@dataclass(frozen=True)
class _Lineage:
    """What pages share of the lineage; its keys are asked for only when the first key is
    (they may still be in the making on the build's second core)."""

    graph: Graph
    details: dict[str, Any]
    base: str
    runs: dict[str, str]
    made_keys: Callable[[], LineageKeys]

    @cached_property
    def keys(self) -> LineageKeys:
        return self.made_keys()

    def panel(self, url: str, centre: str) -> dict[str, Any]:
        """A page's panel; its nodes' details are spliced in pre-encoded (``tojson_script``)."""
        return panel(self.encoded_details, self.graph, url, centre)

    @cached_property
    def encoded_details(self) -> RawValues:
        return RawValues(self.details)

    def key(self, centre: str) -> str:
        return self.keys.neighbourhoods[centre]

    def graph_key(self) -> str:
        return digest(self.base, self.keys.graph)


def _later(
    urls: tuple[str, ...],
    *builders: Callable[[], Page | list[Page]],
    key: Callable[[], str] | None = None,
    site_wide: bool = False,
    markdown: tuple[str, ...] = (),
) -> Planned:
    """Pages whose URLs are known now and whose contexts are built in a render worker."""

    def build() -> list[Page]:
        pages: list[Page] = []
        for make in builders:
            made = make()
            pages.extend(made if isinstance(made, list) else [made])
        return pages

    return Planned(urls, build, key, site_wide, markdown=markdown)


class LineageFacts(NamedTuple):
    """The lineage graph and each node's panel facts. A build makes them once, before it
    forks the helper that makes :func:`lineage_keys`, so that the helper and the plan share
    them."""

    graph: Graph
    details: dict[str, Any]


def lineage_facts(project: Project) -> LineageFacts:
    return LineageFacts(build_graph(project), node_details(project))


class LineageKeys(NamedTuple):
    """Per lineage node, a digest of its panel's neighbourhood; and of the whole graph."""

    neighbourhoods: dict[str, str]
    graph: str


def lineage_keys(facts: LineageFacts) -> LineageKeys:
    """The costliest keys of a plan, computed apart so that a build can have them made on
    its second core (see :mod:`sitegen.background`)."""
    nodes = node_digests(facts.details)
    return LineageKeys(*lineage_digests(facts.graph, nodes, PANEL_DEPTH))


def plan_site(
    site: SiteInfo,
    project: Project,
    config: SiteConfig,
    read: ReadObject | None = None,
    audit: tuple[VerifyReport, Mapping[str, Any]] | None = None,
    keys: Callable[[], LineageKeys] | None = None,
    facts: LineageFacts | None = None,
) -> list[Planned]:
    """Every page of the site; duplicate URLs are an error.

    ``read`` fetches object bytes by sha256 for content diffs (None when unavailable);
    ``keys`` hands over :func:`lineage_keys` of ``project`` when they were made elsewhere,
    from its ``facts``.
    """
    graph, details = facts = facts or lineage_facts(project)
    read = recent_objects(read) if read else None
    runs = {run.id: run_digest(run) for run in project.runs}
    made_keys = keys or partial(lineage_keys, facts)
    lineage = _Lineage(graph, details, site_key(site, project), runs, made_keys)
    whole_graph = Planned(
        lineage_urls(graph),
        partial(lineage_pages, site, graph, details),
        lineage.graph_key,
        site_wide=True,
    )
    planned = [
        whole_graph,
        _later(
            ("index.html",),
            partial(overview_page, site, project, audit[0].ok if audit else None),
            site_wide=True,
        ),
        _later(
            ("runs/index.html", "404.html", "data/search.js"),
            partial(runs_page, site, project),
            partial(not_found_page, site),
            partial(search_index, project),
            site_wide=True,
        ),
    ]
    if audit is not None:
        audit_index = partial(audit_page, site, project, *audit)
        planned.append(_later(("audit/index.html",), audit_index, site_wide=True))
    known = {v.ref for c in project.collections for v in c.versions}
    for collection in project.collections:
        planned.append(_collection_group(site, project, collection, config, lineage, known, audit))
        planned.extend(version_plan(site, project, collection, config, read, lineage))
    for run in project.runs:
        planned.append(
            Planned(
                (run_url(run.id),),
                partial(_run_pages, site, project, run, config, known, lineage),
                partial(_run_key, run, known, lineage),
                markdown=(run.record.notes,),
            )
        )
    check_unique([url for p in planned for url in p.urls])
    return planned


def _run_pages(
    site: SiteInfo,
    project: Project,
    run: Run,
    config: SiteConfig,
    known: set[str],
    lineage: _Lineage,
) -> list[Page]:
    neighbourhood = lineage.panel(run_url(run.id), run_id(run.id))
    return [run_page(site, project, run, config, known, neighbourhood)]


def _run_key(run: Run, known: set[str], lineage: _Lineage) -> str:
    return run_key(lineage.base, run, lineage.runs, known, lineage.key(run_id(run.id)))


def _collection_group(
    site: SiteInfo,
    project: Project,
    collection: Collection,
    config: SiteConfig,
    lineage: _Lineage,
    known: set[str],
    audit: tuple[VerifyReport, Mapping[str, Any]] | None,
) -> Planned:
    """The collection page, its compare-any page and (with an audit) its audit page."""
    pages = [partial(collection_page, site, project, collection)]
    urls = [collection_url(collection.ref)]
    if len(collection.versions) > 1:
        pages.append(partial(any_page, site, project, collection, config))
        urls.append(any_url(collection.ref))
    if audit is not None:
        pages.append(partial(collection_audit_page, site, project, collection))
        urls.append(collection_audit_url(collection.ref))
    runs = (project.run(v.producer) for v in collection.versions if v.producer)
    inputs_known = tuple(ref in known for run in runs if run for ref in run.record.inputs)
    key = partial(collection_key, lineage.base, collection, lineage.runs, inputs_known)
    return _later(tuple(urls), *pages, key=key, markdown=(collection_description(collection),))


def version_plan(
    site: SiteInfo,
    project: Project,
    collection: Collection,
    config: SiteConfig,
    read: ReadObject | None,
    lineage: _Lineage,
) -> list[Planned]:
    """Per version: its page, data files and the comparison with its predecessor."""
    planned = []
    info = info_key(collection)
    batch = Batch(f"versions:{collection.ref}", partial(_versions_key, collection, lineage, info))
    for index, v in enumerate(collection.versions):
        number = v.record.version
        urls = [
            version_url(collection.ref, number),
            version_data_url(collection.ref, number),
            version_script_url(collection.ref, number),
        ]
        if index:
            urls.append(
                pair_url(collection.ref, collection.versions[index - 1].record.version, number)
            )
        build = partial(_version_pages, site, project, collection, index, config, read, lineage)
        planned.append(
            Planned(
                tuple(urls),
                build,
                partial(_version_key, collection, index, lineage, info),
                batch=batch,
                markdown=(v.record.description,),
            )
        )
    return planned


def _version_key(collection: Collection, index: int, lineage: _Lineage, info: str) -> str:
    centre = version_id(collection.versions[index].ref)
    key = lineage.key(centre)
    return version_group_key(lineage.base, collection, index, lineage.runs, key, info)


def _versions_key(collection: Collection, lineage: _Lineage, info: str) -> str:
    neighbourhoods = [lineage.key(version_id(v.ref)) for v in collection.versions]
    return versions_key(lineage.base, collection, lineage.runs, neighbourhoods, info)


def _version_pages(
    site: SiteInfo,
    project: Project,
    collection: Collection,
    index: int,
    config: SiteConfig,
    read: ReadObject | None,
    lineage: _Lineage,
) -> list[Page]:
    v = collection.versions[index]
    body = version_body(project, collection, index)
    neighbourhood = lineage.panel(version_url(collection.ref, v.record.version), version_id(v.ref))
    pages = [
        version_page(site, project, collection, index, config, neighbourhood),
        *version_files(project, collection, index, body),
    ]
    if index:
        pages.append(pair_page(site, project, collection, index, config, read))
    return pages


def search_index(project: Project) -> Page:
    """A script (not JSON) so that search also works from file://, where fetch() is blocked."""
    return data_script("data/search.js", "window.SITEGEN_SEARCH", search_entries(project))


def published_files(project: Project, config: SiteConfig) -> dict[str, str]:
    """Site URL -> object sha256 for file bytes copied into the site (``publish_files``)."""
    out: dict[str, str] = {}
    if config.publish_max_bytes <= 0:  # opt-in: nothing to look at
        return out
    for c in project.collections:
        for v in c.versions:
            for f in v.record.files:
                if f.ref is None and config.may_publish(c.type, c.name, f.path, f.size):
                    out[published_file_url(f.sha256)] = f.sha256
    return dict(sorted(out.items()))


def check_unique(urls: list[str]) -> None:
    seen: set[str] = set()
    problems = []
    for url in urls:
        if url in seen:
            problems.append(Problem(url, None, "two pages would be written to the same URL"))
        seen.add(url)
    if problems:
        raise SitegenError(problems)
