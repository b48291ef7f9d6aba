"""Statements of interpreted code: blocks, control flow, definitions and assignment."""

from __future__ import annotations

from typing import Any, Callable, Iterable

from .budget import MAX_ITERATIONS, BudgetExceeded
from .hf_config import attribute_name
from .modules import attach
from .optional_imports import failing_import, import_error_handler
from .python import annotated_fields, is_constant, is_dataclass, method_kind, raises
from .scope import FunctionReturn, LoopBreak, LoopContinue, Scope, Unfollowable
from .values import Builtin, Class, Function, Instance, Layer, Site, Tensor, Unknown, reason_of


class Statements:
    """Statement execution (a part of the Interpreter)."""

    def exec_block(self, body: Iterable[Any], scope: Scope, source: Any) -> None:
        for stmt in body:
            self._tick()
            try:
                self.exec_stmt(stmt, scope, source)
            except (FunctionReturn, LoopBreak, LoopContinue, Unfollowable, BudgetExceeded):
                raise
            except RecursionError:
                raise BudgetExceeded("nesting too deep") from None

    def exec_stmt(self, stmt: Any, scope: Scope, source: Any) -> None:
        handler = STATEMENTS.get(type(stmt).__name__)
        if handler is None:
            self.note(f"statement `{type(stmt).__name__}` not followed", source, stmt)
        else:
            handler(self, stmt, scope, source)

    def exec_small(self, small: Any, scope: Scope, source: Any) -> None:
        handler = SMALL_STATEMENTS.get(type(small).__name__)
        if handler is not None:  # Pass, Assert, Nonlocal, Del: nothing that shapes a model
            handler(self, small, scope, source)

    def exec_if(self, stmt: Any, scope: Scope, source: Any) -> None:
        test = self.eval(stmt.test, scope, source)
        if isinstance(test, Unknown) or not is_constant(test):
            if raises(stmt.body.body):
                # An argument check (`if bad: raise ...`): valid code takes the other way.
                test = False
            else:
                # Follow the `if` branch; say so when the branch built part of the model,
                # or returned: then it decided what the function gives back (a recursion's
                # base case `if depth >= DEPTH: return []`, which else left the model
                # silently without its layers).
                before = (len(self.builder.drafts), self.layer_keys)
                try:
                    self.exec_block(stmt.body.body, scope, source)
                except FunctionReturn:
                    self.note(f"condition not known statically ({reason_of(test)}); "
                              f"followed the `if` branch, which returns", source, stmt.test)
                    raise
                if (len(self.builder.drafts), self.layer_keys) != before:
                    self.note(f"condition not known statically ({reason_of(test)}); "
                              f"followed the `if` branch", source, stmt.test)
                return
        if test:
            self.exec_block(stmt.body.body, scope, source)
        elif stmt.orelse is not None:
            orelse = stmt.orelse
            if type(orelse).__name__ == "If":
                self.exec_if(orelse, scope, source)
            else:
                self.exec_block(orelse.body.body, scope, source)

    def exec_for(self, stmt: Any, scope: Scope, source: Any) -> None:
        iterable = self.eval(stmt.iter, scope, source)
        items = self.iterate(iterable)
        if items is None:
            self.note(f"loop over a value not known statically ({reason_of(iterable)})",
                      source, stmt.iter)
            return
        for item in items:
            self.assign(stmt.target, item, scope, source)
            if not self._loop_body(stmt, scope, source):
                return
        if stmt.orelse is not None:
            self.exec_block(stmt.orelse.body.body, scope, source)

    def _loop_body(self, stmt: Any, scope: Scope, source: Any) -> bool:
        """One iteration of a `for`/`while` body; False when it breaks out of the loop."""
        try:
            self.exec_block(stmt.body.body, scope, source)
        except LoopBreak:
            return False
        except LoopContinue:
            pass
        return True

    def exec_while(self, stmt: Any, scope: Scope, source: Any) -> None:
        """A `while` whose condition is known at every step runs (within the iteration
        budget); an unknown condition stops the model there, reported."""
        for _ in range(MAX_ITERATIONS):
            test = self.eval(stmt.test, scope, source)
            if not is_constant(test):
                self.note(f"`while` condition not known statically ({reason_of(test)})",
                          source, stmt.test)
                return
            if not test:
                break
            if not self._loop_body(stmt, scope, source):
                return
        else:
            self.note("`while` loop ran past the iteration budget", source, stmt)
            return
        if stmt.orelse is not None:
            self.exec_block(stmt.orelse.body.body, scope, source)


    def make_function(self, node: Any, scope: Scope, source: Any) -> Function:
        name = node.name.value if hasattr(node, "name") else "<lambda>"
        fn = Function(node=node, scope=scope, source=source, name=name)
        params = node.params
        for param in list(params.posonly_params) + list(params.params) + list(params.kwonly_params):
            if param.default is not None:
                fn.defaults[param.name.value] = self.eval(param.default, scope, source)
        return fn

    def make_class(self, node: Any, scope: Scope, source: Any) -> Class:
        bases = [self.eval(arg.value, scope, source) for arg in node.bases if not arg.keyword]
        cls = Class(node=node, scope=scope, source=source, name=node.name.value, bases=bases)
        body_scope = Scope(scope)
        self.exec_block(node.body.body, body_scope, source)
        for name, value in body_scope.vars.items():
            if isinstance(value, Function):
                value.scope = scope  # methods see the module, not the class body
                value.owner = cls
                value.kind = method_kind(value.node)
            cls.attrs[name] = value
        if is_dataclass(node):
            cls.fields = annotated_fields(node)
            if "__init__" not in cls.attrs:
                cls.attrs["__init__"] = Builtin("dataclass.__init__", receiver=cls)
        return cls

    def assign(self, target: Any, value: Any, scope: Scope, source: Any) -> None:
        kind = type(target).__name__
        if kind == "Name":
            scope.binding(target.value).vars[target.value] = value
        elif kind in ("Tuple", "List"):
            items = self.iterate(value)
            elements = [e.value for e in target.elements]
            if isinstance(value, Tensor):  # `a, b = tensor`: keep the graph connected
                framework = self.builder.drafts[value.node_id].node.framework
                items = [self.builder.opaque(framework, "unpacking a tensor is not modelled",
                                             [value], Site(source, target), self._path("unpack"),
                                             functional=True)
                         for _ in elements]
            if items is None or len(items) != len(elements):
                items = [Unknown("cannot unpack", Site(source, target))] * len(elements)
            for element, item in zip(elements, items):
                self.assign(element, item, scope, source)
        elif kind == "Attribute":
            obj = self.eval(target.value, scope, source)
            name = target.attr.value
            if isinstance(obj, Instance):
                name = attribute_name(obj, name)
                if name == "weight" and isinstance(obj.base_layer, Layer):
                    self.tie_weight(obj.base_layer, value)  # a subclass of nn.Embedding
                attach(value, obj, name)
                obj.attrs[name] = value
            elif isinstance(obj, Layer):
                self.set_layer_attribute(obj, name, value, Site(source, target))
        elif kind == "Subscript":
            obj = self.eval(target.value, scope, source)
            index = self.subscript_index(target, scope, source)
            if isinstance(obj, (list, dict)) and is_constant(index):
                try:
                    obj[index] = value
                except (IndexError, TypeError):
                    pass



# --- compound statements, by libcst node type ------------------------------------------

def _simple_line(interp: Any, stmt: Any, scope: Scope, source: Any) -> None:
    for small in stmt.body:
        interp.exec_small(small, scope, source)


def _function_def(interp: Any, stmt: Any, scope: Scope, source: Any) -> None:
    scope.vars[stmt.name.value] = interp.make_function(stmt, scope, source)


def _class_def(interp: Any, stmt: Any, scope: Scope, source: Any) -> None:
    scope.vars[stmt.name.value] = interp.make_class(stmt, scope, source)


def _with(interp: Any, stmt: Any, scope: Scope, source: Any) -> None:
    for item in stmt.items:
        value = interp.eval(item.item, scope, source)
        if item.asname is not None:
            interp.assign(item.asname.name, value, scope, source)
    interp.exec_block(stmt.body.body, scope, source)


def _try(interp: Any, stmt: Any, scope: Scope, source: Any) -> None:
    """The body, then `else` and `finally`. Handlers run only for an import of a module
    that is absent (an optional accelerator) under `except ImportError`: the rest of the
    body is skipped and the handler runs (frontend/optional_imports.py)."""
    handler = import_error_handler(stmt)
    body = list(stmt.body.body)
    for index, line in enumerate(body):
        if handler is not None and failing_import(interp, line, source):
            interp.exec_block(body[:index], scope, source)
            if handler.name is not None:
                interp.assign(handler.name.name, Unknown("an ImportError", Site(source, line)),
                              scope, source)
            interp.exec_block(handler.body.body, scope, source)
            break
    else:
        interp.exec_block(body, scope, source)
        if stmt.orelse is not None:
            interp.exec_block(stmt.orelse.body.body, scope, source)
    if stmt.finalbody is not None:
        interp.exec_block(stmt.finalbody.body.body, scope, source)


STATEMENTS: dict[str, Callable[[Any, Any, Scope, Any], None]] = {
    "SimpleStatementLine": _simple_line,
    "FunctionDef": _function_def,
    "ClassDef": _class_def,
    "If": lambda interp, stmt, scope, source: interp.exec_if(stmt, scope, source),
    "For": lambda interp, stmt, scope, source: interp.exec_for(stmt, scope, source),
    "While": lambda interp, stmt, scope, source: interp.exec_while(stmt, scope, source),
    "With": _with,
    "Try": _try,
}


# --- simple statements ---------------------------------------------------------------

def _assign(interp: Any, small: Any, scope: Scope, source: Any) -> None:
    value = interp.eval(small.value, scope, source)
    for target in small.targets:
        interp.assign(target.target, value, scope, source)


def _ann_assign(interp: Any, small: Any, scope: Scope, source: Any) -> None:
    if small.value is not None:
        interp.assign(small.target, interp.eval(small.value, scope, source), scope, source)


def _aug_assign(interp: Any, small: Any, scope: Scope, source: Any) -> None:
    current = interp.eval(small.target, scope, source)
    value = interp.eval(small.value, scope, source)
    op = type(small.operator).__name__.replace("Assign", "")
    interp.assign(small.target, interp.binary(op, current, value, source, small), scope, source)


def _return(interp: Any, small: Any, scope: Scope, source: Any) -> None:
    raise FunctionReturn(None if small.value is None else interp.eval(small.value, scope, source))


def _raise_statement(small: Any, source: Any) -> None:
    """`raise ...` in interpreted code: unwinds with the statement's place (a constructor
    that raises with the given arguments is reported there)."""
    raise Unfollowable(Site(source, small))


def _raise(exception: type) -> Callable[..., None]:
    def signal(*_: Any) -> None:
        raise exception()
    return signal


SMALL_STATEMENTS: dict[str, Callable[[Any, Any, Scope, Any], None]] = {
    "Assign": _assign,
    "AnnAssign": _ann_assign,
    "AugAssign": _aug_assign,
    "Expr": lambda interp, small, scope, source: interp.eval(small.value, scope, source),
    "Return": _return,
    "Import": lambda interp, small, scope, source: interp.exec_import(small, scope, source),
    "ImportFrom": lambda interp, small, scope, source: interp.exec_import_from(small, scope,
                                                                               source),
    "Raise": lambda interp, small, scope, source: _raise_statement(small, source),
    "Global": lambda interp, small, scope, source: scope.globals.update(
        name.name.value for name in small.names),
    "Break": _raise(LoopBreak),
    "Continue": _raise(LoopContinue),
}
