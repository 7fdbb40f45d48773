"""Site configuration (``sitegen.yaml``): schema, defaults and located errors.

Every key is checked; a problem names ``sitegen.yaml:LINE``. Unknown keys are errors
with a "did you mean" hint, so a typo never silently does nothing.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from sitegen.errors import Problem, SitegenError
from sitegen.store.reader import parse_yaml

Direction = Literal["higher", "lower"]
LOWER_IS_BETTER = re.compile(
    r"(loss|error|err|latency|mae|mse|rmse|time|seconds|_ms|perplexity|cost)", re.I
)
KEYS = (
    "title",
    "description",
    "theme",
    "metrics",
    "base_url",
    "publish_files",
    "compare",
    "redact",
)
URL_RE = re.compile(r"^https?://[^\s\"'<>]+\Z")


@dataclass(frozen=True)
class MetricSpec:
    name: str
    direction: Direction


@dataclass(frozen=True)
class SiteConfig:
    """What a site build may be told. Defaults make ``sitegen.yaml`` optional."""

    title: str | None = None
    description: str = ""
    theme_dir: Path | None = None
    metrics: tuple[MetricSpec, ...] = ()
    base_url: str | None = None
    publish_max_bytes: int = 0
    publish_include: tuple[str, ...] = ()
    redact_keys: tuple[str, ...] = ()
    show_reference_uris: bool = False
    diff_max_bytes: int = 256 * 1024
    source: str | None = None
    text: str = field(default="", repr=False)

    def may_publish(self, type_: str, name: str, path: str, size: int) -> bool:
        """Opt-in: file bytes go into the site only when a publish_files pattern matches."""
        return (
            self.publish_max_bytes > 0
            and size <= self.publish_max_bytes
            and self._included(type_, name, path)
        )

    def may_diff(self, type_: str, name: str, path: str) -> bool:
        """Content diffs show bytes: allowed for non-dataset artifacts, or opted-in files."""
        return type_ != "dataset" or (
            self.publish_max_bytes > 0 and self._included(type_, name, path)
        )

    def _included(self, type_: str, name: str, path: str) -> bool:
        target = f"{type_}/{name}/{path}"
        return any(fnmatch.fnmatchcase(target, g) for g in self.publish_include)

    def withholds(self, dotted_key: str) -> bool:
        key = dotted_key.lower()
        return any(
            fnmatch.fnmatchcase(key, p)
            or any(fnmatch.fnmatchcase(part, p) for part in key.split("."))
            for p in self.redact_keys
        )

    def stated_direction(self, metric: str) -> Direction | None:
        """The configured direction, or lower for loss-like names; None when unknown."""
        for spec in self.metrics:
            if spec.name == metric:
                return spec.direction
        return "lower" if LOWER_IS_BETTER.search(metric) else None

    def direction(self, metric: str) -> Direction:
        for spec in self.metrics:
            if spec.name == metric:
                return spec.direction
        return default_direction(metric)


def default_direction(metric: str) -> Direction:
    """Loss, error, latency, time… are lower-is-better; everything else higher."""
    return "lower" if LOWER_IS_BETTER.search(metric) else "higher"


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """1-based line of every mapping key path in a YAML document (for located errors)."""
    lines: dict[tuple[str, ...], int] = {}
    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return lines

    def walk(node: yaml.Node | None, path: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                sub = (*path, str(key_node.value))
                lines[sub] = key_node.start_mark.line + 1
                walk(value_node, sub)

    walk(root, ())
    return lines


class _ConfigReader:
    def __init__(self, display: str, text: str) -> None:
        self.display, self.lines = display, key_lines(text)
        self.problems: list[Problem] = []

    def fail(self, path: tuple[str, ...], message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(self.display, self.lines.get(path), message, hint))

    def string(self, data: Mapping[str, Any], key: str) -> str | None:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            self.fail((key,), f"'{key}' must be a string")
            return None
        return value

    def metrics(self, value: Any) -> tuple[MetricSpec, ...]:
        if value is None:
            return ()
        if not isinstance(value, dict):
            self.fail(
                ("metrics",),
                "'metrics' must map metric names to 'higher' or 'lower'",
                "e.g. metrics: {accuracy: higher, loss: lower}",
            )
            return ()
        specs = []
        for name, direction in value.items():
            if isinstance(direction, dict):
                direction = direction.get("direction")
            if direction not in ("higher", "lower") or not isinstance(name, str):
                self.fail(
                    ("metrics", str(name)),
                    f"metric {name!r}: direction must be 'higher' or 'lower'",
                )
                continue
            specs.append(MetricSpec(name, direction))
        return tuple(specs)

    def patterns(
        self, value: Any, section: str, key: str, default: tuple[str, ...]
    ) -> tuple[str, ...]:
        got = value.get(key) if isinstance(value, dict) else None
        if got is None:
            return default
        if not isinstance(got, list) or not all(isinstance(p, str) for p in got):
            self.fail((section, key), f"'{section}.{key}' must be a list of glob patterns")
            return default
        return tuple(got)

    def flag(self, value: Any, section: str, key: str) -> bool:
        got = value.get(key, False) if isinstance(value, dict) else False
        if not isinstance(got, bool):
            self.fail((section, key), f"'{section}.{key}' must be true or false")
            return False
        return got

    def size(self, value: Any, section: str, key: str, default: int) -> int:
        if value is None or value is False:
            return 0 if value is False else default
        if value is True:
            return default
        got = value.get(key, default) if isinstance(value, dict) else value
        if type(got) is not int or got < 0:
            self.fail((section, key), f"'{section}.{key}' must be a non-negative number of bytes")
            return default
        return got


def parse_config(text: str, display: str, base_dir: Path) -> tuple[SiteConfig, list[Problem]]:
    """Pure: config text -> SiteConfig plus every problem, located by line."""
    data, problem = parse_yaml(text, display)
    if problem is not None:
        return SiteConfig(), [problem]
    data = {} if data is None else data
    reader = _ConfigReader(display, text)
    if not isinstance(data, dict):
        reader.fail(
            (), "sitegen.yaml must be a mapping of settings", f"allowed keys: {', '.join(KEYS)}"
        )
        return SiteConfig(), reader.problems
    for key in data:
        if key not in KEYS:
            close = difflib.get_close_matches(str(key), KEYS, n=1)
            reader.fail(
                (str(key),),
                f"unknown setting {key!r}",
                f"did you mean {close[0]!r}?" if close else f"allowed keys: {', '.join(KEYS)}",
            )
    theme = reader.string(data, "theme")
    base_url = reader.string(data, "base_url")
    if base_url is not None and not URL_RE.match(base_url):
        reader.fail(("base_url",), f"'base_url' must be an http(s) URL, got {base_url!r}")
        base_url = None
    config = SiteConfig(
        title=reader.string(data, "title"),
        description=reader.string(data, "description") or "",
        theme_dir=(base_dir / theme) if theme else None,
        metrics=reader.metrics(data.get("metrics")),
        base_url=base_url.rstrip("/") + "/" if base_url else None,
        publish_max_bytes=0
        if data.get("publish_files") in (None, False)
        else reader.size(data.get("publish_files"), "publish_files", "max_bytes", 1 << 20),
        publish_include=reader.patterns(
            data.get("publish_files"), "publish_files", "include", ("*",)
        ),
        redact_keys=tuple(
            p.lower() for p in reader.patterns(data.get("redact"), "redact", "keys", ())
        ),
        show_reference_uris=reader.flag(data.get("redact"), "redact", "show_reference_uris"),
        diff_max_bytes=reader.size(data.get("compare"), "compare", "max_diff_bytes", 256 * 1024),
        source=display,
        text=text,
    )
    if config.theme_dir is not None and not config.theme_dir.is_dir():
        reader.fail(
            ("theme",),
            f"theme directory {theme!r} does not exist",
            "paths are relative to sitegen.yaml",
        )
    return config, reader.problems


def default_config_paths(store_dir: Path) -> list[Path]:
    """Where a config is looked for when none is given, first found first."""
    return [store_dir / "sitegen.yaml", store_dir.parent / "sitegen.yaml"]


def load_config(path: Path | None, store_dir: Path | None = None) -> SiteConfig:
    """Read ``path`` (or ``<store>/../sitegen.yaml`` / ``<store>/sitegen.yaml`` if present)."""
    if path is None and store_dir is not None:
        path = next((c for c in default_config_paths(store_dir) if c.is_file()), None)
    if path is None:
        return SiteConfig()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SitegenError.single(str(path), f"cannot read config: {exc}") from None
    config, problems = parse_config(text, str(path), path.parent)
    if problems:
        raise SitegenError(problems)
    return config
