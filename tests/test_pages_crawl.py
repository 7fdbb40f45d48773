"""GitHub Pages readiness: the example site served under a sub-path has no broken link, and
every ``sitegen`` command the workflows (and their recipe in the docs) run exists."""

from __future__ import annotations

import contextlib
import functools
import io
import re
import shlex
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

import pytest
import yaml

from sitegen.build import BuildOptions, build
from sitegen.cli import main, make_parser
from tests.sitecheck import links_of

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_STORE = ROOT / "example_project" / "store"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
RECIPE = ROOT / "docs" / "github-actions.md"
SUB_PATH = "/my-repo/"
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The example site built into ``<tmp>/my-repo`` and served from ``<tmp>``: (index URL, dir)."""
    root = tmp_path_factory.mktemp("pages")
    out = root / SUB_PATH.strip("/")
    build(BuildOptions(EXAMPLE_STORE, out, jobs=1))
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{SUB_PATH}index.html", out
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get_content_type(), response.read()
    except urllib.error.HTTPError as error:
        return error.code, "", b""


def references(url: str, kind: str, body: bytes) -> list[tuple[str, str]]:
    """(what, link) pairs: href/src of an HTML page, url(...) of a stylesheet."""
    text = body.decode("utf-8", "replace")
    if kind == "text/html":
        return links_of(text)
    if kind == "text/css":
        return [("css", link) for link in CSS_URL.findall(text)]
    return []


def classify(page: str, link: str) -> tuple[str | None, str | None]:
    """(next URL to fetch, or a problem) for one link found on ``page``."""
    parts = urlsplit(link)
    if link.startswith("#") or parts.scheme in ("mailto", "data"):
        return None, None
    if parts.scheme in ("http", "https"):
        local = parts.hostname in LOCAL_HOSTS
        return None, f"absolute local link {link!r}" if local else None
    if parts.scheme or link.startswith("/"):
        return None, f"absolute link {link!r} (breaks under a sub-path or from file://)"
    target, _ = urldefrag(urljoin(page, link))
    target = target.split("?", 1)[0]
    if not urlsplit(target).path.startswith(SUB_PATH):
        return None, f"link {link!r} leaves the site's sub-path"
    return target, None


def crawl(start: str) -> tuple[set[str], list[str]]:
    """Fetch everything reachable from ``start``; return (pages fetched, problems)."""
    seen, queue, problems = {start}, [start], []
    while queue:
        url = queue.pop()
        status, kind, body = fetch(url)
        if status != 200:
            problems.append(f"{url}: HTTP {status}")
            continue
        for what, link in references(url, kind, body):
            target, problem = classify(url, link)
            if problem:
                problems.append(f"{url}: {what} {problem}")
            if target and target not in seen:
                seen.add(target)
                queue.append(target)
    return seen, problems


def test_no_broken_link_under_a_sub_path(served: tuple[str, Path]) -> None:
    start, out = served
    seen, problems = crawl(start)
    assert not problems, "\n".join(sorted(problems)[:50])
    pages = {u for u in seen if u.endswith((".html", "/"))}
    assert len(pages) >= 20, "the crawl should reach the example's pages"
    on_disk = {
        p.relative_to(out).as_posix()
        for p in out.rglob("*.html")
        if p.name != "404.html"  # reached only by a missing URL
    }
    reached = {unquote(urlsplit(u).path)[len(SUB_PATH) :] for u in seen}
    reached |= {r + "index.html" for r in reached if r.endswith("/") or not r}
    orphans = sorted(on_disk - reached)
    assert not orphans, f"pages no link leads to: {orphans[:20]}"


def test_404_page_links_resolve(served: tuple[str, Path]) -> None:
    """GitHub Pages answers unknown URLs of a project site with ``/<repo>/404.html``."""
    start, _ = served
    _, problems = crawl(start.replace("index.html", "404.html"))
    assert not problems, "\n".join(sorted(problems)[:50])


# --- the workflows ---------------------------------------------------------------------------


def _run_scripts(document: Any) -> Iterator[str]:
    for job in (document.get("jobs") or {}).values():
        for step in job.get("steps", []):
            if "run" in step:
                yield str(step["run"])


def _recipe_documents() -> list[tuple[str, Any]]:
    blocks = re.findall(r"```yaml\n(.*?)```", RECIPE.read_text(encoding="utf-8"), flags=re.S)
    return [(f"{RECIPE.name} block {i}", yaml.safe_load(b)) for i, b in enumerate(blocks, 1)]


def workflow_documents() -> list[tuple[str, Any]]:
    docs = [(p.name, yaml.safe_load(p.read_text(encoding="utf-8"))) for p in WORKFLOWS]
    return docs + _recipe_documents()


def sitegen_invocations(script: str) -> list[list[str]]:
    """Argument lists of every ``sitegen`` command in a shell script (variables made concrete)."""
    text = re.sub(r"\\\n", " ", script)
    text = re.sub(r"\$\{\{[^}]*\}\}", "x", text)
    text = re.sub(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", "x", text)
    found = []
    for line in text.splitlines():
        if "sitegen" not in line or line.lstrip().startswith("#"):
            continue
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|<>")
        lexer.whitespace_split = True
        words = list(lexer)
        for i, word in enumerate(words):
            if word == "sitegen" and (i == 0 or set(words[i - 1]) <= set(";&|")):
                args = []
                for arg in words[i + 1 :]:
                    if set(arg) <= set(";&|<>"):
                        break
                    args.append(arg)
                found.append(args)
    return found


def help_commands() -> set[str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        main(["--help"])
    return set(re.findall(r"^    ([a-z][a-z-]*)\b", out.getvalue(), flags=re.M))


def test_workflows_parse_and_run_existing_sitegen_commands() -> None:
    assert {p.name for p in WORKFLOWS} >= {"pages.yml", "pr.yml"}
    known = help_commands()
    assert {"build", "diff", "validate"} <= known
    seen: list[str] = []
    for name, document in workflow_documents():
        assert isinstance(document, dict) and document.get("jobs"), name
        assert document.get("on", document.get(True)), f"{name}: no trigger"
        for script in _run_scripts(document):
            for args in sitegen_invocations(script):
                assert args and args[0] in known, f"{name}: `sitegen {' '.join(args)}`"
                try:
                    make_parser().parse_args(args)
                except SystemExit:
                    pytest.fail(f"{name}: `sitegen {' '.join(args)}` does not parse")
                seen.append(f"{name}: {args[0]}")
    assert any(s.startswith("pr.yml: diff") for s in seen)
    assert any(s.startswith("pages.yml: build") for s in seen)


def test_pages_and_review_recipe() -> None:
    """The workflows do what docs/github-actions.md promises."""
    by_name = dict(workflow_documents())
    uses = {
        name: {str(s.get("uses", "")).split("@")[0] for j in d["jobs"].values() for s in j["steps"]}
        for name, d in by_name.items()
    }
    for name in ("pages.yml", f"{RECIPE.name} block 1"):
        assert {"actions/upload-pages-artifact", "actions/deploy-pages"} <= uses[name]
        on = by_name[name].get("on", by_name[name].get(True))
        assert on["push"]["branches"] == ["main"]
    for name in ("pr.yml", f"{RECIPE.name} block 2"):
        assert {"actions/github-script", "actions/upload-artifact"} <= uses[name]
        scripts = "\n".join(_run_scripts(by_name[name]))
        assert 'sitegen diff "git:origin/$BASE_REF:$STORE" "$STORE" --format md' in scripts
        assert "--fail-on" in scripts
    assert "mkdocs build --strict --site-dir site/docs" in "\n".join(
        _run_scripts(by_name["pages.yml"])
    )
    assert "example_project/store" in str(by_name["pr.yml"]) and "example_project/store" in str(
        by_name["pages.yml"]
    )


def test_sitegen_invocations_parser() -> None:
    script = 'set +e\nsitegen diff "git:origin/$BASE_REF:$STORE" "$STORE" --format md \\\n  --fail-on "a < 1" > diff.md\necho sitegen is nice'
    assert sitegen_invocations(script) == [
        ["diff", "git:origin/x:x", "x", "--format", "md", "--fail-on", "a < 1"]
    ]
