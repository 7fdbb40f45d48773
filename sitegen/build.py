"""``build()``: the pipeline, load → validate → model → plan → render → write."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from sitegen import __version__, statcache
from sitegen.assets import CHART_ASSETS, GRAPH_ASSETS, default_cache_dir, vendor_assets
from sitegen.background import Background
from sitegen.config import SiteConfig, load_config
from sitegen.errors import Problem, SitegenError, errors_only
from sitegen.integrity import PROVENANCE, SUMS, seal_site, site_files, write_zip
from sitegen.markdown import render_markdown
from sitegen.model import Project, build_model
from sitegen.pages import (
    Planned,
    SiteInfo,
    lineage_facts,
    lineage_keys,
    plan_site,
    published_files,
)
from sitegen.previous import PreviousSite
from sitegen.previous import survey as previous_site
from sitegen.redact import redact
from sitegen.render import static_files, theme_digest
from sitegen.render_stage import Rendered, batch_fingerprints, render_all
from sitegen.store import is_remote, open_backend
from sitegen.store.backend import LocalBackend
from sitegen.store.format import object_key
from sitegen.store.listing import ListedBackend
from sitegen.store.memo import Memo
from sitegen.store.memo import cache_dir as memo_dir
from sitegen.store.prewarm import prewarm
from sitegen.store.reader import load_raw
from sitegen.store.records import Records, check_records, memo_schema
from sitegen.verify import store_root_digest, verify_loaded
from sitegen.write import (
    BUILD_MANIFEST,
    check_output_dir,
    commit_in_place,
    discard,
    new_staging_dir,
    output_locked,
    swap_into_place,
    write_build_manifest,
    write_file,
)


@dataclass(frozen=True)
class BuildOptions:
    store: Path | str  # a directory, or an object store URL such as s3://bucket/prefix
    out: Path
    config_path: Path | None = None
    strict: bool = False
    offline: bool = False
    jobs: int = 0
    zip_path: Path | None = None


@dataclass(frozen=True)
class BuildReport:
    out: Path
    pages: int
    rendered: int
    reused: int
    seconds: float
    problems: tuple[Problem, ...]


def build(options: BuildOptions) -> BuildReport:
    try:
        return _build(options)
    finally:
        gc.unfreeze()


def _build(options: BuildOptions) -> BuildReport:
    started = time.perf_counter()
    local = None if is_remote(options.store) else Path(options.store)
    config = load_config(options.config_path, local)
    check_output_dir(options.out)
    parallel = jobs_of(options) > 1
    with contextlib.ExitStack() as stack:
        stack.enter_context(output_locked(options.out, partial(say_waiting, options.out)))
        previous = stack.enter_context(surveyed(options.out, parallel))
        backend = open_backend(options.store, snapshot=True, walk=parallel)
        with long_lived_objects():
            memo = store_memo(backend, local)
            with saved(memo, stack if parallel else None):
                if memo is not None and parallel and prewarm(backend, memo):
                    stack.callback(parsed_saved_apart(memo).result)
                records = check_records(load_raw(backend, memo), memo)
                if failing := errors_only(records.problems, options.strict):
                    raise SitegenError(sorted(failing))
                visible, withheld = redact(records, config)
                project = build_model(visible, config, withheld)
                facts = lineage_facts(project)
                keys = Background(partial(lineage_keys, facts), fork=parallel)
                stack.callback(keys.cancel)
                report = verify_loaded(backend, records, memo=memo)
            if isinstance(backend, ListedBackend):
                backend.forget_listing()
            site = site_info(config, project, options.offline)
            audit = (report, provenance(records, config, options))
            read_object = object_reader(backend.read)
            planned = plan_site(site, project, config, read_object, audit, keys.result, facts)
            previous.result()  # received while the keys may still be in the making
            keys.result()  # here, before render workers are forked: they would make them again
        with collector_paused():
            results = write_site(planned, options, config, project, read_object, audit[1], previous)
        if options.zip_path is not None:  # still holding the output: no other build moves it
            write_zip(options.out, options.zip_path)
    rendered = sum(1 for r in results if r.fresh)
    return BuildReport(
        options.out,
        len(results),
        rendered,
        len(results) - rendered,
        time.perf_counter() - started,
        tuple(sorted(records.problems)),
    )


def say_waiting(out: Path) -> None:
    print(f"waiting for another build into {out} to finish", file=sys.stderr, flush=True)


@contextlib.contextmanager
def surveyed(out: Path, parallel: bool) -> Iterator[Background[PreviousSite]]:
    """The previous site surveyed on the second core while the store loads and plans (at
    a lower priority than the store walk, which is needed first)."""
    survey = Background(partial(previous_site, out), nice=10, fork=parallel)
    try:
        yield survey
    finally:
        survey.cancel()


def write_site(
    planned: list[Planned],
    options: BuildOptions,
    config: SiteConfig,
    project: Project,
    read_object: Callable[[str], bytes | None],
    predicate: dict[str, Any],
    survey: Background[PreviousSite],
) -> list[Rendered]:
    """Render beside the output, then swap it in (a first build) or commit in place."""
    salt = build_salt(config, options.offline)
    staging = new_staging_dir(options.out)
    try:
        previous = survey.result()
        jobs = jobs_of(options)
        batch_prints = batch_fingerprints(planned, salt)
        results = render_all(planned, staging, jobs, salt, config.theme_dir, previous, batch_prints)
        urls = [r.url for r in results]
        extras = write_extras(staging, project, config, options, read_object, urls)
        if previous.pages:  # a rebuild: commit in place
            keep = {*urls, *SITE_META}
            listed = commit_in_place(staging, options.out, keep, previous.files)
            results = identified_in_place(options.out, results)
        else:
            listed = [*urls, *extras]  # all a first build's staging folder holds
        root = options.out if previous.pages else staging
        finish_site(root, {"salt": salt, "batches": batch_prints}, predicate, results, listed)
        if not previous.pages:
            swap_into_place(staging, options.out)
    except BaseException:
        discard(staging)
        raise
    statcache.save(options.out, {r.url: (r.identity, r.sha256) for r in results})
    return results


SITE_META = frozenset({BUILD_MANIFEST, SUMS, PROVENANCE})


def identified_in_place(out: Path, results: list[Rendered]) -> list[Rendered]:
    """The pages just moved into ``out`` with their identity there (a move changes a file's
    ctime; see :mod:`sitegen.statcache`); reused pages never moved."""
    root = str(out)
    return [
        r._replace(identity=statcache.identity(os.path.join(root, r.url))) if r.fresh else r
        for r in results
    ]


def finish_site(
    root: Path,
    build: dict[str, Any],
    predicate: dict[str, Any],
    results: list[Rendered],
    listed: list[str],
) -> None:
    """The build manifest (``build``: its salt and batch fingerprints), then the seal
    (provenance.json and SHA256SUMS) over everything (``listed``: the site's files, as the
    build wrote them or a rebuild has just listed them)."""
    results = sorted(results)  # by URL: every list below is then made in order
    info = {"sitegen": __version__, **build}
    manifest = write_build_manifest(root, info, {r.url: r.recorded for r in results})
    known = {r.url: r.sha256 for r in results}
    known[BUILD_MANIFEST] = hashlib.sha256(manifest).hexdigest()
    files = [*listed, BUILD_MANIFEST]  # sorted below, mostly in order
    seal_site(root, predicate, site_files(root, known=known, listed=files))


def store_memo(backend: object, local: Path | None) -> Memo | None:
    """Parse once, for local stores (object stores have their own fetch cache)."""
    if local is None or not isinstance(backend, LocalBackend):
        return None
    return Memo(memo_dir(local, memo_schema()))


@contextlib.contextmanager
def saved(memo: Memo | None, apart: contextlib.ExitStack | None = None) -> Iterator[None]:
    """Keep what was parsed and hashed even when the build then fails (a bad store).

    With ``apart`` (a build using several processes), a memo with much to write (a first
    build's: ~1 s at 10,000 versions) is written by a forked helper while the build plans
    and renders; ``apart`` waits for it when the build ends, whatever happens.
    """
    try:
        yield
    except BaseException:
        if memo is not None:
            memo.save()
        raise
    if memo is None:
        return
    if apart is None or memo.new_count < SAVE_APART_FROM:
        memo.save()
    else:
        apart.callback(Background(memo.save).result)


SAVE_APART_FROM = 5000  # new memo entries; fewer are written in less than a fork costs
EARLY_SAVE_NICE = 10  # the lineage keys, forked a little later and needed first, go ahead


def parsed_saved_apart(memo: Memo) -> Background[Path | None]:
    """A cold build's parsing, written to the memo now by a low-priority helper.

    After the parsing shared by both cores (:func:`~sitegen.store.prewarm.prewarm`), this
    process loads, checks and plans on one core for ~1 s at 10,000 versions: writing what
    it parsed (~0.8 s of CPU) then takes the idle core, instead of a core that the render
    workers need. What loading adds after (the run records) is saved as usual.
    """
    return Background(memo.detach_new(), nice=EARLY_SAVE_NICE)


@contextlib.contextmanager
def long_lived_objects() -> Iterator[None]:
    """Load and plan without cyclic GC passes, then freeze what was made.

    Records and the plan hold millions of small objects and no reference cycles: collecting
    while they are created costs seconds at 10,000 versions, and frozen objects are neither
    scanned again nor written to by the forked render workers (their pages stay shared).
    """
    with collector_paused():
        try:
            yield
        finally:
            gc.freeze()


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic GC passes inside: loading, planning and writing make hundreds of thousands
    of objects and no cycles (render workers, which run Jinja, turn the collector back on)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def object_reader(read: Callable[[str], bytes]) -> Callable[[str], bytes | None]:
    """Object bytes by sha256 for content diffs; None when absent (the page says so)."""

    def read_object(sha256: str) -> bytes | None:
        try:
            return read(object_key(sha256))
        except (FileNotFoundError, ValueError):
            return None

    return read_object


def provenance(records: Records, config: SiteConfig, options: BuildOptions) -> dict[str, Any]:
    """The predicate of provenance.json: what this site was built from, and by what."""
    return {
        "builder": {"name": "sitegen", "version": __version__},
        "store": {
            "project": records.project,
            "root_digest": store_root_digest(records),
            "log_head": records.state.head,
            "events": len(records.events),
            "versions": len(records.versions),
        },
        "config_digest": hashlib.sha256(config.text.encode()).hexdigest(),
        "source_date_epoch": os.environ.get("SOURCE_DATE_EPOCH") or None,
        "offline": options.offline,
    }


def build_stamp(project: Project) -> str:
    """SOURCE_DATE_EPOCH when set, else the time of the last event: never the wall clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return project.events[-1].time if project.events else ""


def site_info(config: SiteConfig, project: Project, offline: bool) -> SiteInfo:
    return SiteInfo(
        config.title or project.name or "sitegen",
        render_markdown(config.description),
        project.name,
        build_stamp(project),
        __version__,
        offline,
        config.base_url,
    )


def build_salt(config: SiteConfig, offline: bool) -> str:
    parts = [__version__, theme_digest(config.theme_dir), config.text, str(offline)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def jobs_of(options: BuildOptions) -> int:
    """Processes to use: ``-j``, else one per CPU (``-j 1``: this process only)."""
    return options.jobs or (os.cpu_count() or 1)


def write_extras(
    staging: Path,
    project: Project,
    config: SiteConfig,
    options: BuildOptions,
    read_object: Callable[[str], bytes | None],
    pages: list[str],
) -> list[str]:
    """Theme static files, published file bytes, vendored JS, .nojekyll and sitemap; their
    URLs."""
    written = []
    for url, path in static_files(config.theme_dir).items():
        write_file(staging, url, path.read_bytes())
        written.append(url)
    for url, sha in published_files(project, config).items():
        data = read_object(sha)
        if data is None:
            raise SitegenError.single(
                object_key(sha),
                "file bytes to publish are missing from the store",
                "run `sitegen validate`; or set publish_files: false",
            )
        write_file(staging, url, data)
        written.append(url)
    if options.offline:
        written += vendor_assets(staging, default_cache_dir(), CHART_ASSETS + GRAPH_ASSETS)
    write_file(staging, ".nojekyll", b"")
    written.append(".nojekyll")
    if config.base_url:
        write_file(staging, "sitemap.xml", sitemap(config.base_url, pages))
        written.append("sitemap.xml")
    return written


def sitemap(base_url: str, pages: list[str]) -> bytes:
    urls = sorted(u for u in pages if u.endswith(".html") and u.rsplit("/", 1)[-1] != "404.html")
    items = "".join(f"  <url><loc>{escape(base_url + u)}</loc></url>\n" for u in urls)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + items + "</urlset>\n"
    ).encode()
