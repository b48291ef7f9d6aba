"""What a `.portlint_cache` entry must look like to be reused.

The cache lives in the project tree, so anyone who can commit can write an entry; an entry
is JSON, so no code runs, but its *values* are still untrusted. An entry is reused only
when every value has the type and range portlint itself writes, and only within the file
it names:

- every span (a finding's location, its related locations, its fix's edits) lies in that
  file or in a module its analysis read (their digests are checked before reuse);
- every finding is of a known rule, under that rule's name, with a known severity;
- a declared pair has the file itself as its port;
- it records no input error (those are never stored: a run that exits 2 is not reused);
- its warnings are about that file.

Anything else is a miss, and the entry is overwritten by the fresh result. So a poisoned
entry can at worst hide or misstate the findings of the file it names; it cannot make the
run fail or crash, and `--fix` never applies a cached fix (it analyses afresh).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

SEVERITIES = ("error", "warning", "info")
APPLICABILITIES = ("safe", "unsafe")


def valid_entry(entry: Any, shown: str) -> bool:
    """Whether `entry` (parsed JSON) is well-formed for the file shown as `shown`."""
    if not (isinstance(entry, dict) and _is_str(entry.get("key"))
            and entry.get("shown") == shown and _is_str(entry.get("digest"))):
        return False
    deps = entry.get("deps", {})
    if not (isinstance(deps, dict) and all(_is_str(k) and _is_str(v) for k, v in deps.items())):
        return False
    return _valid_outcome(entry.get("outcome"), shown, _Within({os.path.realpath(shown), *deps}))


class _Within:
    """Whether a path lies in one of the files an entry may point into (real paths; each
    path resolved once per entry: an entry repeats the same few paths)."""

    def __init__(self, allowed: set[str]) -> None:
        self.allowed = allowed
        self.seen: dict[str, bool] = {}

    def __contains__(self, path: str) -> bool:
        if path not in self.seen:
            self.seen[path] = os.path.realpath(path) in self.allowed
        return self.seen[path]


@lru_cache(maxsize=1)
def _rule_names() -> dict[str, str]:
    """code -> name of every rule `check` reports (the static ones)."""
    from .rules.registry import static_rules

    return {rule.code: rule.name for rule in static_rules()}


def _valid_outcome(data: Any, shown: str, allowed: _Within) -> bool:
    if not (isinstance(data, dict) and set(data) == {"error", "pairs", "models", "warnings"}):
        return False
    return (data["error"] == ""
            and _list_of(data["pairs"], lambda p: _valid_pair(p, shown))
            and _list_of(data["models"], lambda m: _valid_model(m, allowed))
            and _list_of(data["warnings"], lambda w: _is_str(w) and w.startswith(
                f"portlint: warning: {shown}")))


def _valid_pair(pair: Any, shown: str) -> bool:
    if not (isinstance(pair, list) and len(pair) == 5):
        return False
    origin, port, shape, declared, written = pair
    return (_valid_ref(origin) and port == [shown, None, None]
            and (shape is None or _list_of(shape, _is_count))
            and _is_str(declared) and _is_str(written))


def _valid_ref(ref: Any) -> bool:
    return (isinstance(ref, list) and len(ref) == 3 and _is_str(ref[0])
            and all(part is None or _is_str(part) for part in ref[1:]))


def _valid_model(model: Any, allowed: _Within) -> bool:
    return (isinstance(model, list) and len(model) == 2
            and (model[0] is None or _is_str(model[0]))
            and _list_of(model[1], lambda f: _valid_finding(f, allowed)))


_FINDING_KEYS = {"code", "rule", "severity", "message", "location", "related", "fix"}


def _valid_finding(data: Any, allowed: _Within) -> bool:
    if not (isinstance(data, dict) and set(data) == _FINDING_KEYS and _is_str(data["code"])):
        return False
    if data["rule"] != _rule_names().get(data["code"]) or data["severity"] not in SEVERITIES:
        return False
    fix = data["fix"]
    return (_is_str(data["message"]) and _valid_span(data["location"], allowed, optional=True)
            and _list_of(data["related"], lambda r: _valid_edit(r, allowed, optional=True))
            and (fix is None or _valid_fix(fix, allowed)))


def _valid_fix(fix: Any, allowed: _Within) -> bool:
    return (isinstance(fix, dict) and set(fix) == {"applicability", "title", "edits"}
            and fix["applicability"] in APPLICABILITIES
            and (fix["title"] is None or _is_str(fix["title"]))
            and _list_of(fix["edits"], lambda e: _valid_edit(e, allowed)))


def _valid_edit(pair: Any, allowed: _Within, optional: bool = False) -> bool:
    """`[span, text]`: an edit, or a related location and its message."""
    return (isinstance(pair, list) and len(pair) == 2 and _is_str(pair[1])
            and _valid_span(pair[0], allowed, optional))


def _valid_span(span: Any, allowed: _Within, optional: bool = False) -> bool:
    if span is None:
        return optional
    if not (isinstance(span, list) and len(span) == 8 and _is_str(span[0])):
        return False
    return (all(_is_count(n) for n in span[1:5])
            and all(n is None or _is_count(n) for n in span[5:])
            and span[0] in allowed)


def _list_of(value: Any, valid: Any) -> bool:
    return isinstance(value, list) and all(valid(item) for item in value)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_count(value: Any) -> bool:
    """A 1-based line or column, a dimension: a positive int (not a bool)."""
    return type(value) is int and value >= 1
