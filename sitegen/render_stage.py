"""The render stage of a build: keep what is unchanged, render the rest.

Every planned group of pages has a fingerprint (its input key, or its context for the
site-wide pages) salted with what every page depends on. A page whose fingerprint is the
one recorded last time, and whose file still holds the bytes written then, stays where it
is; the rest is rendered into the staging folder, in forked workers when there is enough
of it (they inherit the plan, so nothing is pickled on the way in).
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from itertools import repeat
from pathlib import Path
from typing import NamedTuple

import jinja2

from sitegen import statcache
from sitegen.background import Background
from sitegen.markdown import prerender
from sitegen.pages import Page, Planned, batches
from sitegen.previous import PreviousSite
from sitegen.render import context_fingerprint, make_environment, render_page
from sitegen.two_ends import TwoEnds
from sitegen.write import write_at

PARALLEL_FROM_PAGES = 400
CHUNK = 16  # consecutive groups per task a render worker takes
SITE_WIDE_NICE = 5  # the reuse check, which they wait for, comes first


@dataclass(frozen=True)
class _Job:
    planned: list[Planned]
    staging_fd: int  # the staging folder, open: pages are written relative to it
    previous: PreviousSite
    salt: str
    theme_dir: Path | None
    batch_prints: dict[str, str]  # this build's fingerprint of each batch


class Rendered(NamedTuple):
    """One output of a build: its recorded ``fingerprint:sha256`` and whether it was rendered.

    A tuple: a rebuild makes one per output (42,000 at 10,000 versions), and render workers
    send them back pickled.
    """

    url: str
    recorded: str
    fresh: bool
    identity: statcache.Identity | None

    @property
    def sha256(self) -> str:
        return self.recorded[-64:]


_JOB: _Job | None = None
_ENV: jinja2.Environment | None = None


def _render_range(bounds: tuple[int, int]) -> list[Rendered]:
    """Build and render (or reuse) planned[start:stop], in a forked worker."""
    assert _JOB is not None
    return _render_groups(_JOB.planned[bounds[0] : bounds[1]])


def _render_groups(groups: list[Planned]) -> list[Rendered]:
    """The groups' pages, reused or rendered, CHUNK groups at a time: the markdown of a
    chunk is rendered first, in a row (see :func:`~sitegen.markdown.prerender`)."""
    out: list[Rendered] = []
    for start in range(0, len(groups), CHUNK):
        chunk = groups[start : start + CHUNK]
        prerender(text for group in chunk for text in group.markdown)
        out.extend(_render_chunk(chunk))
    return out


def _render_chunk(groups: list[Planned]) -> list[Rendered]:
    out: list[Rendered] = []
    for group in groups:
        if group.key is None:
            out.extend(_by_context(group))
            continue
        fingerprint = _fingerprint(group)
        reused = _reuse(group.urls, fingerprint)
        out.extend(
            reused if reused is not None else map(_write_page, group.pages(), repeat(fingerprint))
        )
    return out


def _fingerprint(group: Planned) -> str:
    assert _JOB is not None and group.key is not None
    return hashlib.sha256(f"{_JOB.salt}\0{group.key()}".encode()).hexdigest()


def _by_context(group: Planned) -> list[Rendered]:
    """Pages without an input key: fingerprinted by their whole context once built."""
    assert _JOB is not None
    out = []
    for page in group.pages():
        fingerprint = context_fingerprint(_JOB.salt, page)
        reused = _reuse((page.url,), fingerprint)
        out.extend(reused if reused is not None else [_write_page(page, fingerprint)])
    return out


def _write_page(page: Page, fingerprint: str) -> Rendered:
    global _ENV
    assert _JOB is not None
    if _ENV is None:
        _ENV = make_environment(_JOB.theme_dir)
    data = render_page(_ENV, page)
    st = write_at(_JOB.staging_fd, page.url, data)
    recorded = f"{fingerprint}:{hashlib.sha256(data).hexdigest()}"
    return Rendered(page.url, recorded, True, statcache.identity_of(st))


def batch_fingerprints(planned: list[Planned], salt: str) -> dict[str, str]:
    """Each batch's fingerprint (its key, salted like a group's), recorded in the manifest."""
    return {
        name: hashlib.sha256(f"{salt}\0{batch.key}".encode()).hexdigest()
        for name, batch in sorted(batches(planned).items())
    }


def _reuse_batched(group: Planned) -> list[Rendered] | None:
    """The group's recorded pages, when its batch's fingerprint is the one recorded: its
    key is then unchanged too (see :class:`~sitegen.pages.Batch`)."""
    assert _JOB is not None and group.batch is not None
    name = group.batch.name
    if _JOB.previous.batches.get(name) != _JOB.batch_prints[name]:
        return None
    return _reuse(group.urls, None)


def _reuse(urls: tuple[str, ...], fingerprint: str | None) -> list[Rendered] | None:
    """Keep the previous pages where they are if their inputs and their bytes are unchanged.

    A page edited in place no longer matches its recorded sha256 (see :mod:`sitegen.statcache`),
    so it is rendered again, never re-sealed.
    """
    assert _JOB is not None
    pages, intact = _JOB.previous.pages, _JOB.previous.intact
    prefix = "" if fingerprint is None else f"{fingerprint}:"  # None: as recorded
    rows = []
    for url in urls:
        recorded = pages.get(url, "")
        identity = intact.get(url)
        if identity is None or not recorded or not recorded.startswith(prefix):
            return None
        rows.append(_reused((url, recorded, False, identity)))
    return rows


_reused = partial(tuple.__new__, Rendered)  # Rendered's own __new__ is Python code: 42,000 calls


def render_all(
    planned: list[Planned],
    staging: Path,
    jobs: int,
    salt: str,
    theme_dir: Path | None,
    previous: PreviousSite,
    batch_prints: dict[str, str],
) -> list[Rendered]:
    """Render what changed into ``staging``; unchanged pages of the ``previous`` build, still
    intact, stay where they are in the output.

    A rebuild sorts out what it can reuse in-process (at 10,000 versions, forking render
    workers and sending 40,000 rows back costs more than the keys they would compute),
    while one forked child checks and renders the site-wide pages (at 10k they take as long
    as that check; one child for them all, because every child copies the pages of the
    parent's memory it touches); the build then takes, from the back, the site-wide groups
    the child has not started (:class:`~sitegen.two_ends.TwoEnds`). Workers are forked only
    when enough pages are left to render.
    """
    global _JOB, _ENV
    staging_fd = os.open(staging, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    _JOB = _Job(planned, staging_fd, previous, salt, theme_dir, batch_prints)
    _ENV = None
    try:
        if not previous.pages:
            return _render_planned(jobs)
        groups = [g for g in planned if g.site_wide]
        ends = TwoEnds(len(groups))
        site_wide = Background(
            partial(_from_the_front, groups, ends), nice=SITE_WIDE_NICE, fork=jobs > 1
        )
        try:
            rows, left = _reuse_pass([p for p in planned if not p.site_wide])
            _JOB = dataclasses.replace(_JOB, planned=left)
            rows += _render_planned(jobs)
            rows += _from_the_back(groups, ends)
            return site_wide.result() + rows
        finally:
            site_wide.cancel()
    finally:
        _JOB, _ENV = None, None
        os.close(staging_fd)


def _from_the_front(groups: list[Planned], ends: TwoEnds) -> list[Rendered]:
    """Site-wide groups taken from the front until none is left. Run in-process (the helper
    failed, or could not be forked), it first renders again what the helper had taken."""
    out: list[Rendered] = []
    index = 0
    while index < ends.taken_from_front() or ends.take_front() is not None:
        out.extend(_render_groups([groups[index]]))
        index += 1
    return out


def _from_the_back(groups: list[Planned], ends: TwoEnds) -> list[Rendered]:
    """What the site-wide helper has not taken yet, once the build's own pages are done."""
    out: list[Rendered] = []
    while (index := ends.take_back()) is not None:
        out.extend(_render_groups([groups[index]]))
    return out


def _render_planned(jobs: int) -> list[Rendered]:
    """Everything in the job's plan: in forked workers when there is enough of it."""
    assert _JOB is not None
    planned = _JOB.planned
    chunks = [(i, min(i + CHUNK, len(planned))) for i in range(0, len(planned), CHUNK)]
    if jobs > 1 and sum(len(p.urls) for p in planned) >= PARALLEL_FROM_PAGES:
        fork = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(jobs, mp_context=fork, initializer=start_worker_collector) as pool:
            return [row for done in pool.map(_render_range, chunks) for row in done]
    return _render_groups(planned)


WORKER_GC_THRESHOLDS = (700, 10, 1000)  # Python's defaults (700, 10, 10) but the last


def start_worker_collector() -> None:
    """A render worker's collector: on, for the reference cycles Jinja makes as it renders,
    but with full collections ~100 times rarer than by default.

    What a worker keeps (its row, series and panel caches) lives until it exits, so each
    full collection scans it all and frees next to nothing. At 10,000 versions a worker ran
    9 of them (0.13 s each, 6 % of its time); young cycles are still collected as before.
    """
    gc.set_threshold(*WORKER_GC_THRESHOLDS)
    gc.enable()


def _reuse_pass(planned: list[Planned]) -> tuple[list[Rendered], list[Planned]]:
    """The pages kept from the previous build, and the groups left to render."""
    assert _JOB is not None
    rows: list[Rendered] = []
    left = []
    for group in planned:
        reused = _reuse_batched(group) if group.batch else None
        if reused is None and group.key:
            reused = _reuse(group.urls, _fingerprint(group))
        if reused is None:
            left.append(group)
        else:
            rows.extend(reused)
    return rows, left
