"""The rule registry: the one place that says which rules exist and which command runs them.

A rule is declared once, as its class (code, name, severity, summary, Markdown `doc`, its
VALID/INVALID examples); the registry only lists the modules that hold the classes, by the
commands that run them. Everything that needs "the rules" reads it: the configuration and
`--select`, suppression comments, the SARIF descriptors, `compare`, `check`, `verify`, the
cache key, `portlint rule` and the generated documentation.

Importing this module imports no rule: the classes are loaded on first use (they pull in
the IR, the alignment and the framework knowledge). `portlint rule` reads `CATALOGUE`, rows
generated from the classes into `_catalogue.py` (`python -m portlint.rules`), so listing
the rules stays cheap (issue 7: <= 0.2 s); tests/cli/test_startup.py checks the rows are fresh.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from importlib import import_module
from typing import TYPE_CHECKING, NamedTuple

from ._catalogue import ROWS

if TYPE_CHECKING:
    from portlint.rule import Rule

# The modules whose `RULES` each command runs; a new family is one more name here.
PAIR_FAMILIES = ("normalization", "layout", "geometry", "activations", "layer_config", "structure",
                 "recurrent", "accounting", "single_file", "unresolved")  # compare, check, verify
VERIFY_FAMILIES = ("dynamic",)  # only verify: they compare the static counts with built models
COMMENT_FAMILIES = ("suppression",)  # check's report of suppression comments (PTL902)
FAMILIES = (*PAIR_FAMILIES, *VERIFY_FAMILIES, *COMMENT_FAMILIES)


def _rules_of(families: Iterable[str]) -> tuple[type[Rule], ...]:
    rules = [rule for family in families
             for rule in import_module(f"{__package__}.{family}").RULES]
    return tuple(sorted(rules, key=lambda rule: rule.code))


@lru_cache(maxsize=1)
def pair_rules() -> tuple[type[Rule], ...]:
    """The rules `compare` and `check` run on models (`ALL_RULES`), by code."""
    return _rules_of(PAIR_FAMILIES)


@lru_cache(maxsize=1)
def verify_rules() -> tuple[type[Rule], ...]:
    """The rules `verify` reports: the pair rules and the ones that need built models."""
    return _rules_of((*PAIR_FAMILIES, *VERIFY_FAMILIES))


@lru_cache(maxsize=1)
def static_rules() -> tuple[type[Rule], ...]:
    """The rules `check` may report without building a model (PTL902 included)."""
    return _rules_of((*PAIR_FAMILIES, *COMMENT_FAMILIES))


@lru_cache(maxsize=1)
def all_rules() -> tuple[type[Rule], ...]:
    """Every rule a selector may name, a SARIF log describes and the docs list, by code."""
    return _rules_of(FAMILIES)


def rule_for(code: str) -> type[Rule] | None:
    """The rule of a code; the verify-only rules are imported only when asked for."""
    for rules in (static_rules, all_rules):
        for rule in rules():
            if rule.code == code:
                return rule
    return None


def matches(selector: str, rule: type) -> bool:
    """A selector is a rule name, a code, or a code prefix (`PTL1`, `PTL`)."""
    return selector == rule.name or (bool(selector) and rule.code.startswith(selector.upper()))


def specificity(selector: str, rule: type) -> int:
    """How precisely `selector` names `rule` (the most specific severity override wins)."""
    if selector == rule.name or selector.upper() == rule.code:
        return 100
    return len(selector)


def unknown_selectors(selectors: Iterable[str],
                      rules: Iterable[type] | None = None) -> list[str]:
    """The selectors that name none of `rules` (default: every rule)."""
    selectors = list(selectors)
    if not selectors:  # the usual run: no need to import the verify-only rules
        return []
    known = tuple(all_rules() if rules is None else rules)
    return [s for s in selectors if not any(matches(s, r) for r in known)]


# --------------------------------------------------------------------------- the catalogue


class RuleInfo(NamedTuple):
    """One rule as `portlint rule` lists it, without its class; `load()` imports it."""

    code: str
    name: str
    severity: str
    summary: str
    where: str  # "module:Class"

    def load(self) -> type[Rule]:
        module, _, qualname = self.where.partition(":")
        return getattr(import_module(module), qualname)

    @property
    def doc(self) -> str:
        return self.load().doc


def row(rule: type) -> tuple[str, str, str, str, str]:
    """The catalogue row of a rule class (what `_catalogue.py` keeps)."""
    return (rule.code, rule.name, rule.severity, rule.summary,
            f"{rule.__module__}:{rule.__qualname__}")


CATALOGUE: tuple[RuleInfo, ...] = tuple(RuleInfo(*r) for r in ROWS)
