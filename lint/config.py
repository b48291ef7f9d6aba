"""Configuration: `[tool.portlint]` in `pyproject.toml`, or the top level of a
`portlint.toml`, and the effective settings of one run (configuration + command line).

Discovery: the closest configuration file wins, found by walking up from the directory of
the first path given (for `compare`: the port's file; with no path: the current directory).
In one directory `portlint.toml` wins over `pyproject.toml`; a `pyproject.toml` without a
`[tool.portlint]` table is not a configuration file and the walk goes on. `--config PATH`
replaces discovery. One configuration applies to the whole run.

Every problem is a `ConfigError` (an `InputError`: exit 2) with one line naming the file
and the key: `pyproject.toml: [tool.portlint] severity.PTL999: unknown rule`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError
from .globs import compile_glob, glob_matches
from .rules.registry import all_rules as catalogue  # noqa: F401 - the names callers import
from .rules.registry import matches, rule_for, specificity, unknown_selectors  # noqa: F401

PYPROJECT = "pyproject.toml"
PORTLINT_TOML = "portlint.toml"
CONFIG_NAMES = (PORTLINT_TOML, PYPROJECT)  # in one directory, the first found wins

SEVERITY_LEVELS = ("error", "warning", "info", "off")
PORT_SIDES = ("torch", "keras")

# Directories never walked into when a directory is given to `check` (Ruff's defaults).
DEFAULT_EXCLUDE_DIRS = frozenset({
    ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints",
    ".mypy_cache", ".nox", ".pants.d", ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache",
    ".svn", ".tox", ".venv", ".vscode", "__pycache__", "__pypackages__", "_build",
    "buck-out", "build", "dist", "node_modules", "site-packages", "venv",
})


class ConfigError(InputError):
    """A bad configuration file: one line naming the file and the key."""


# --------------------------------------------------------------------------- the file


@dataclass(frozen=True)
class PairSpec:
    """One configured pair. Paths are absolute (resolved against the config's directory)."""

    keras: str  # PATH[::MODEL[(ARGS)]]
    torch: str
    input_shape: tuple[int, ...] | None = None
    port: str = "torch"  # which side is the port (where findings are located)

    @property
    def origin_ref(self) -> str:
        return self.keras if self.port == "torch" else self.torch

    @property
    def port_ref(self) -> str:
        return self.torch if self.port == "torch" else self.keras


@dataclass(frozen=True)
class Config:
    """What a configuration file says; `Config()` is the empty configuration."""

    path: Path | None = None  # the file it came from
    pairs: tuple[PairSpec, ...] = ()
    select: tuple[str, ...] | None = None  # None: not set (all rules)
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = ()
    severity: tuple[tuple[str, str], ...] = ()  # (selector, level) in file order
    keras_version: int | None = None
    report_unused_suppressions: bool | None = None

    @property
    def root(self) -> Path:
        """The directory relative paths and globs are resolved against."""
        return self.path.parent if self.path is not None else Path.cwd()


def _display(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)
    return str(path) if rel.startswith("..") else rel


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ModuleNotFoundError:
            raise ConfigError(f"{_display(path)}: reading TOML needs Python 3.11 or the "
                              f"`tomli` package") from None
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{_display(path)}: cannot read: {exc.strerror}") from None
    try:
        return tomllib.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{_display(path)}: not UTF-8 text ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{_display(path)}: invalid TOML: {exc}") from None


def _table_of(path: Path, document: dict[str, Any]) -> dict[str, Any] | None:
    """The portlint table of a parsed file, or None when a pyproject.toml has none."""
    if path.name != PYPROJECT:
        return document
    tool = document.get("tool")
    if not isinstance(tool, dict) or "portlint" not in tool:
        return None
    table = tool["portlint"]
    if not isinstance(table, dict):
        raise ConfigError(f"{_display(path)}: [tool.portlint]: expected a table, "
                          f"got {_kind(table)}")
    return table


def find_config(start: Path | str | None = None) -> Path | None:
    """The closest configuration file at or above `start` (a directory, or a file whose
    directory is used; default: the current directory)."""
    here = Path(start) if start is not None else Path.cwd()
    here = here.absolute()
    if not here.is_dir():
        here = here.parent
    for directory in (here, *here.parents):
        for name in CONFIG_NAMES:
            candidate = directory / name
            if not candidate.is_file():
                continue
            if name == PYPROJECT:
                try:
                    raw = candidate.read_bytes()
                except OSError:
                    continue
                if b"portlint" not in raw:  # cheap: most pyproject files are not ours
                    continue
                if _table_of(candidate, _load_toml(candidate)) is None:
                    continue
            return candidate
    return None


def load_config(path: Path | str) -> Config:
    """Read and validate one configuration file (a `pyproject.toml` is read for its
    `[tool.portlint]` table, any other file for its top-level keys)."""
    path = Path(path).absolute()
    if not path.is_file():
        raise ConfigError(f"{_display(path)}: no such configuration file")
    table = _table_of(path, _load_toml(path))
    if table is None:
        raise ConfigError(f"{_display(path)}: no [tool.portlint] table")
    return _Validator(path).config(table)


def discover(start: Path | str | None = None, explicit: str | None = None) -> Config:
    """The configuration for a run: `explicit` (`--config`) if given, else the closest
    file to `start`, else the empty configuration."""
    if explicit is not None:
        if not Path(explicit).is_file():
            raise ConfigError(f"--config {explicit}: no such file")
        return load_config(explicit)
    found = find_config(start)
    return load_config(found) if found is not None else Config()


def _kind(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a float", str: "a string",
            list: "an array", dict: "a table"}.get(type(value), type(value).__name__)


class _Validator:
    KEYS = ("pairs", "select", "ignore", "per-file-ignores", "exclude", "severity",
            "keras-version", "report-unused-suppressions")
    PAIR_KEYS = ("keras", "torch", "input-shape", "port")

    def __init__(self, path: Path) -> None:
        self.path = path
        self.prefix = "[tool.portlint] " if path.name == PYPROJECT else ""

    def error(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{_display(self.path)}: {self.prefix}{key}: {problem}")

    def config(self, table: Mapping[str, Any]) -> Config:
        for key in table:
            if key not in self.KEYS:
                hint = f" (did you mean `{key.replace('_', '-')}`?)" \
                    if key.replace("_", "-") in self.KEYS else ""
                raise self.error(key, f"unknown key{hint}; known keys: {', '.join(self.KEYS)}")
        kv = table.get("keras-version")
        if kv is not None and (type(kv) is not int or kv not in (2, 3)):
            raise self.error("keras-version", f"expected 2 or 3, got {kv!r}")
        unused = table.get("report-unused-suppressions")
        if unused is not None and not isinstance(unused, bool):
            raise self.error("report-unused-suppressions", f"expected true or false, got "
                                                           f"{_kind(unused)}")
        select = table.get("select")
        return Config(
            path=self.path,
            pairs=self.pairs(table.get("pairs", [])),
            select=self.selectors("select", select) if select is not None else None,
            ignore=self.selectors("ignore", table.get("ignore", [])),
            per_file_ignores=self.per_file_ignores(table.get("per-file-ignores", {})),
            exclude=self.globs("exclude", table.get("exclude", [])),
            severity=self.severity(table.get("severity", {})),
            keras_version=kv,
            report_unused_suppressions=unused,
        )

    def strings(self, key: str, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.error(key, f"expected an array of strings, got {_kind(value)}")
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self.error(f"{key}[{index}]", f"expected a non-empty string, got "
                                                    f"{_kind(item)}")
        return tuple(item.strip() for item in value)

    def globs(self, key: str, value: Any) -> tuple[str, ...]:
        items = self.strings(key, value)
        for index, item in enumerate(items):
            try:
                compile_glob(item)
            except re.error as exc:
                raise self.error(f"{key}[{index}]", f"invalid glob ({exc})") from None
        return items

    def selectors(self, key: str, value: Any) -> tuple[str, ...]:
        items = self.strings(key, value)
        for index, item in enumerate(items):
            if unknown_selectors([item]):
                raise self.error(f"{key}[{index}]", f"unknown rule {item!r} (a rule name, code "
                                                    f"or code prefix; `portlint rule` lists them)")
        return items

    def per_file_ignores(self, value: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
        if not isinstance(value, dict):
            raise self.error("per-file-ignores", f"expected a table of glob = [rules], got "
                                                 f"{_kind(value)}")
        out = []
        for glob, selectors in value.items():
            key = f"per-file-ignores.{_quote(glob)}"
            if not glob.strip():
                raise self.error(key, "empty glob")
            try:
                compile_glob(glob)
            except re.error as exc:
                raise self.error(key, f"invalid glob ({exc})") from None
            out.append((glob, self.selectors(key, selectors)))
        return tuple(out)

    def severity(self, value: Any) -> tuple[tuple[str, str], ...]:
        if not isinstance(value, dict):
            raise self.error("severity", f"expected a table of rule = level, got {_kind(value)}")
        out = []
        for selector, level in value.items():
            key = f"severity.{_quote(selector)}"
            if unknown_selectors([selector]):
                raise self.error(key, "unknown rule (a rule name, code or code prefix; "
                                      "`portlint rule` lists them)")
            if level not in SEVERITY_LEVELS:
                raise self.error(key, f"expected one of {', '.join(map(repr, SEVERITY_LEVELS))},"
                                      f" got {level!r}")
            out.append((selector, level))
        return tuple(out)

    def pairs(self, value: Any) -> tuple[PairSpec, ...]:
        if not isinstance(value, list):
            raise self.error("pairs", f"expected an array of tables, got {_kind(value)}")
        return tuple(self.pair(index, item) for index, item in enumerate(value))

    def pair(self, index: int, item: Any) -> PairSpec:
        from .frontend import ModelRef

        where = f"pairs[{index}]"
        if not isinstance(item, dict):
            raise self.error(where, f"expected a table such as {{keras = \"PATH::MODEL\", "
                                    f"torch = \"PATH::MODEL\"}}, got {_kind(item)}")
        for key in item:
            if key not in self.PAIR_KEYS:
                raise self.error(f"{where}.{_quote(key)}", f"unknown key; known keys: "
                                                           f"{', '.join(self.PAIR_KEYS)}")
        refs: dict[str, str] = {}
        for side in ("keras", "torch"):
            text = item.get(side)
            if text is None:
                raise self.error(f"{where}.{side}", "missing (a model reference PATH[::MODEL])")
            if not isinstance(text, str) or not text.strip():
                raise self.error(f"{where}.{side}", f"expected a string PATH[::MODEL], got "
                                                    f"{_kind(text)}")
            try:
                ref = ModelRef.parse(text.strip())
            except InputError as exc:
                raise self.error(f"{where}.{side}", str(exc)) from None
            target = (self.path.parent / ref.path)
            if not target.is_file():
                raise self.error(f"{where}.{side}", f"no such file: {ref.path} (paths are "
                                                    f"relative to {_display(self.path.parent)})")
            refs[side] = str(type(ref)(os.path.normpath(target), ref.model, ref.call))
        shape = item.get("input-shape")
        if shape is not None:
            if (not isinstance(shape, list) or not shape
                    or any(type(d) is not int or d <= 0 for d in shape)):
                raise self.error(f"{where}.input-shape", f"expected an array of positive "
                                                         f"integers such as [64, 64, 1], got "
                                                         f"{shape!r}")
            shape = tuple(shape)
        port = item.get("port", "torch")
        if port not in PORT_SIDES:
            raise self.error(f"{where}.port", f"expected \"torch\" or \"keras\" (the side that "
                                              f"is the port), got {port!r}")
        return PairSpec(refs["keras"], refs["torch"], shape, port)


def _quote(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else f'"{key}"'


# --------------------------------------------------------------------------- a run


@dataclass(frozen=True)
class Settings:
    """The effective settings of one run: the configuration, then the command line
    (`--select` replaces the configured `select`; `--ignore` adds to `ignore`)."""

    config: Config = field(default_factory=Config)
    select: tuple[str, ...] = ()  # empty: every rule
    ignore: tuple[str, ...] = ()
    keras_version: int = 3
    report_unused_suppressions: bool = False
    # `--keras-config` / `--torch-config`: configuration values per side (canonical JSON).
    keras_config: str | None = None
    torch_config: str | None = None

    @classmethod
    def make(cls, config: Config, *, select: Sequence[str] = (), ignore: Sequence[str] = (),
             keras_version: int | None = None,
             report_unused_suppressions: bool = False) -> Settings:
        unknown = unknown_selectors([*select, *ignore])
        if unknown:
            raise InputError(f"unknown rule selector: {', '.join(unknown)} "
                             f"(see `portlint rule`)")
        return cls(
            config=config,
            select=tuple(select) if select else tuple(config.select or ()),
            ignore=(*config.ignore, *ignore),
            keras_version=keras_version or config.keras_version or 3,
            report_unused_suppressions=(report_unused_suppressions
                                        or bool(config.report_unused_suppressions)),
        )

    def selected(self, rule: type) -> bool:
        """Whether the selection (`select`/`ignore`) enables `rule`. PTL902 is enabled by
        `report-unused-suppressions` instead of `select`; `ignore` still turns it off."""
        from .rules.suppression import UnusedSuppression

        if any(matches(s, rule) for s in self.ignore):
            return False
        if rule is UnusedSuppression:
            return self.report_unused_suppressions
        return not self.select or any(matches(s, rule) for s in self.select)

    def options(self, input_shape: tuple | None = None) -> Any:
        """`compare`'s Options: the selection narrowed to the rules compare runs."""
        from .compare import Options
        from .rules.registry import pair_rules

        configs = {"keras_config": self.keras_config, "torch_config": self.torch_config}
        if not self.select and not self.ignore:
            return Options(keras_version=self.keras_version, input_shape=input_shape, **configs)
        codes = tuple(r.code for r in pair_rules() if self.selected(r))
        if not codes:  # nothing selected: ignore everything
            return Options(keras_version=self.keras_version, input_shape=input_shape,
                           ignore=("PTL",), **configs)
        return Options(keras_version=self.keras_version, input_shape=input_shape, select=codes,
                       **configs)

    def severity_of(self, code: str, rule_name: str, default: str) -> str:
        """The configured severity of a finding of this rule ("off": dropped)."""
        if not self.config.severity:
            return default
        rule = rule_for(code)
        best, level = -1, default
        for selector, value in self.config.severity:
            hit = (matches(selector, rule) if rule is not None
                   else selector in (rule_name, code) or code.startswith(selector.upper()))
            if hit:
                rank = specificity(selector, rule) if rule is not None else 100
                if rank >= best:
                    best, level = rank, value
        return level

    def ignored_in(self, path: str, code: str, rule_name: str) -> bool:
        """Whether `per-file-ignores` turns this rule off in `path`."""
        if not self.config.per_file_ignores:
            return False
        rule = rule_for(code)
        for glob, selectors in self.config.per_file_ignores:
            if not glob_matches(glob, path, self.config.root):
                continue
            for selector in selectors:
                if (matches(selector, rule) if rule is not None
                        else selector == rule_name or code.startswith(selector.upper())):
                    return True
        return False

    def excluded(self, path: Path | str) -> bool:
        return any(glob_matches(glob, path, self.config.root) for glob in self.config.exclude)
