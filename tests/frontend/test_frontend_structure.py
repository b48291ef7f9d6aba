"""The interpreter's dispatch tables: every entry is reachable and well formed, so that
supporting a built-in, an attribute kind, an expression or a framework call stays one
entry (issue 15)."""

from __future__ import annotations

import re

import libcst

from portlint.frontend import attributes, builtins, calls, expressions, framework_calls
from portlint.frontend import framework_methods, statements
from portlint.frontend.python import BUILTINS, PURE_BUILTINS, STDLIB_BUILTINS
from portlint.knowledge import tensorflow as TF
from portlint.knowledge.ops import Op
from support import ROOT

FRONTEND = ROOT / "lint" / "frontend"
KNOWLEDGE = FRONTEND.parent / "knowledge"


def test_every_python_builtin_name_has_a_handler():
    """A name the interpreter binds as a built-in is handled by the table or is pure."""
    names = set(BUILTINS) | set(STDLIB_BUILTINS.values())
    unhandled = {n for n in names if n not in builtins.BUILTIN_CALLS and n not in PURE_BUILTINS}
    assert not unhandled


def test_framework_methods_join_the_builtin_table():
    assert framework_methods.FRAMEWORK_METHODS.items() <= builtins.BUILTIN_CALLS.items()
    assert set(framework_methods.FRAMEWORK_FAMILIES) < set(builtins.METHOD_FAMILIES)


def test_statement_and_expression_tables_name_libcst_node_types():
    for table in (statements.STATEMENTS, statements.SMALL_STATEMENTS, expressions.EXPRESSIONS):
        for name in table:
            assert isinstance(getattr(libcst, name, None), type), name


def test_framework_call_kinds_are_kinds_resolve_gives():
    source = (FRONTEND / "frameworks.py").read_text()
    kinds = set(re.findall(r'Resolved\(\w+, "(\w+)"', source))
    kinds |= set(re.findall(r'\("(\w+)", [KT]\.\w+', source))  # the lookup tables
    kinds |= set(TF.CALL_KINDS.values())  # TF calls with handlers of their own (tf_calls.py)
    assert set(framework_calls.FRAMEWORK_CALLS) <= kinds


def test_attribute_and_call_tables_are_keyed_by_type():
    for table in (attributes.ATTRIBUTES_BY_TYPE, calls.CALLS_BY_TYPE):
        assert all(isinstance(kind, type) and callable(h) for kind, h in table.items())


def test_modules_stay_small():
    for path in [*FRONTEND.glob("*.py"), *KNOWLEDGE.glob("*.py")]:
        assert len(path.read_text().splitlines()) <= 600, path.name


def test_ops_in_the_knowledge_tables_are_op_members():
    """Layer specs name their op through the Op vocabulary, not as bare strings."""
    for path in [*FRONTEND.glob("*.py"), *KNOWLEDGE.glob("*.py")]:
        if path.name == "ops.py":
            continue
        text = path.read_text()
        assert not re.search(r'\bop="|\.op [!=]= "', text), path.name
    assert Op.CONV == "conv"
