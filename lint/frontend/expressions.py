"""Expressions of interpreted code, one evaluator per libcst node type."""

from __future__ import annotations

from typing import Any, Callable

from ..errors import InputError
from ..knowledge import OPERATORS, Attr, LayerSpec
from . import constant_tensors, model_outputs
from .budget import MAX_COMPREHENSION, MAX_INT_BITS, oversized, too_big
from .callee import indirection
from .python import BINARY_OPS, BUILTINS, COMPARE_OPS, hashable, is_constant
from .scope import MISSING, Scope, literal
from .values import (BATCH, Builtin, Class, ConstTensor, FrameworkRef, Function, Instance,
                     ModelOutput, Partial, Sequential, ShapeOf, Site, Tensor, Unknown,
                     UnknownSize, Weight, reason_of, static_index, tensors_in)


class Expressions:
    """Expression evaluation (a part of the Interpreter)."""

    def eval(self, node: Any, scope: Scope, source: Any) -> Any:
        self._tick()
        evaluator = EXPRESSIONS.get(type(node).__name__)
        if evaluator is None:
            return Unknown(f"expression `{type(node).__name__}` not modelled", Site(source, node))
        return evaluator(self, node, scope, source)

    def _eval_Integer(self, node: Any, scope: Scope, source: Any) -> Any:
        try:
            value = literal(node.value)
        except (ValueError, SyntaxError, MemoryError):  # beyond Python's 4,300 digits
            return Unknown("number literal too large", Site(source, node))
        if oversized(value):
            return Unknown(f"integer literal of more than {MAX_INT_BITS} bits", Site(source, node))
        return value

    _eval_Float = _eval_Integer
    _eval_Imaginary = _eval_Integer

    def _eval_SimpleString(self, node: Any, scope: Scope, source: Any) -> Any:
        try:
            return literal(node.value)
        except (ValueError, SyntaxError):
            return Unknown("string literal", Site(source, node))

    def _eval_ConcatenatedString(self, node: Any, scope: Scope, source: Any) -> Any:
        left, right = self.eval(node.left, scope, source), self.eval(node.right, scope, source)
        if isinstance(left, str) and isinstance(right, str):
            return left + right
        return Unknown("string", Site(source, node))

    def _eval_FormattedString(self, node: Any, scope: Scope, source: Any) -> Any:
        parts: list[str] = []
        for part in node.parts:
            if type(part).__name__ == "FormattedStringText":
                parts.append(part.value)
                continue
            value = self.eval(part.expression, scope, source)
            if not is_constant(value):
                return Unknown("f-string with a value not known statically", Site(source, node))
            parts.append(str(value))
        return "".join(parts)

    def _eval_Name(self, node: Any, scope: Scope, source: Any) -> Any:
        name = node.value
        if name in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[name]
        value = scope.lookup(name)
        if value is not MISSING:
            return self.resolved(value)
        if name in BUILTINS:  # before star imports: they rarely shadow one
            return Builtin(name)
        module_scope = scope
        while module_scope.parent is not None:
            module_scope = module_scope.parent
        if module_scope.stars:
            value = self._from_stars(module_scope, name)
            if value is not MISSING:
                return value
        return Unknown(f"name `{name}` is not defined in the analysed code", Site(source, node))

    def _eval_Attribute(self, node: Any, scope: Scope, source: Any) -> Any:
        obj = self.eval(node.value, scope, source)
        return self.getattr(obj, node.attr.value, Site(source, node))

    def _eval_Tuple(self, node: Any, scope: Scope, source: Any) -> Any:
        return tuple(self._elements(node.elements, scope, source))

    def _eval_List(self, node: Any, scope: Scope, source: Any) -> Any:
        return list(self._elements(node.elements, scope, source))

    def _eval_Set(self, node: Any, scope: Scope, source: Any) -> Any:
        return list(self._elements(node.elements, scope, source))

    def _elements(self, elements: Any, scope: Scope, source: Any) -> list[Any]:
        out: list[Any] = []
        for element in elements:
            value = self.eval(element.value, scope, source)
            if type(element).__name__ == "StarredElement":
                items = self.iterate(value)
                out.extend(items if items is not None else [value])
            else:
                out.append(value)
        return out

    def _eval_Dict(self, node: Any, scope: Scope, source: Any) -> Any:
        out: dict[Any, Any] = {}
        for element in node.elements:
            if type(element).__name__ == "StarredDictElement":
                value = self.eval(element.value, scope, source)
                if isinstance(value, dict):
                    out.update(value)
                continue
            key = self.eval(element.key, scope, source)
            if hashable(key):
                out[key] = self.eval(element.value, scope, source)
        return out

    def _eval_UnaryOperation(self, node: Any, scope: Scope, source: Any) -> Any:
        value = self.eval(node.expression, scope, source)
        op = type(node.operator).__name__
        if not is_constant(value):
            return Unknown(f"operand not known statically ({reason_of(value)})", Site(source, node))
        try:
            return {"Minus": lambda v: -v, "Plus": lambda v: +v, "Not": lambda v: not v,
                    "BitInvert": lambda v: ~v}[op](value)
        except Exception:
            return Unknown("unary operation", Site(source, node))

    def _eval_BinaryOperation(self, node: Any, scope: Scope, source: Any) -> Any:
        left = self.eval(node.left, scope, source)
        right = self.eval(node.right, scope, source)
        return self.binary(type(node.operator).__name__, left, right, source, node)

    def binary(self, op: str, left: Any, right: Any, source: Any, node: Any) -> Any:
        if isinstance(left, Tensor) or isinstance(right, Tensor):
            tensors = [v for v in (left, right) if isinstance(v, Tensor)]
            framework = self.builder.drafts[tensors[0].node_id].node.framework
            constant = right if isinstance(left, Tensor) else left
            if isinstance(constant, (Weight, ConstTensor)):
                constant = "weight"  # a module's own weight (layer scale, position embedding)
            elif len(tensors) == 1 and op in OPERATORS and not isinstance(constant, (int, float, str)):
                # `embeds + position_embeds` where the other operand is not known: an
                # elementwise step keeps the tensor's shape; the unknown operand is noted.
                self.builder.note_unresolved(
                    f"operand of tensor arithmetic `{op}` not known statically "
                    f"({reason_of(constant)}); kept the tensor's shape", Site(source, node))
                constant = "not known statically"
            if op in OPERATORS and (len(tensors) == 2 or isinstance(constant, (int, float, str))):
                two_tensors, with_constant, symbol = OPERATORS[op]
                spec = LayerSpec(op=two_tensors if len(tensors) == 2 else with_constant)
                args = {} if len(tensors) == 2 else {"operator": symbol, "constant": constant}
                spec = LayerSpec(op=spec.op, params=tuple(args), attrs={k: Attr(k) for k in args})
                return self.builder.apply_function(framework, symbol, spec, args, {}, tensors,
                                                   Site(source, node), self._path(op.lower()))
            return self.builder.opaque(framework, f"tensor arithmetic `{op}` not modelled",
                                       tensors, Site(source, node), self._path("?"), functional=True)
        if isinstance(left, (ConstTensor, Weight)) or isinstance(right, (ConstTensor, Weight)):
            shaped = left if isinstance(left, (ConstTensor, Weight)) else right
            if op in BINARY_OPS and not isinstance(left, Weight) and not isinstance(right, Weight):
                result = constant_tensors.binary(BINARY_OPS[op], left, right, op == "Divide")
                if result is not None:
                    return result
            return ConstTensor(shaped.shape)  # torch.ones(d, 1, 1) * 1e-6
        if op == "Add" and isinstance(left, Sequential) and left.kind == "list" and isinstance(right, (list, tuple)):
            for item in right:  # `self.layers += [...]` extends an nn.ModuleList in place
                self.sequential_add(left, item)
            return left
        if _size_arithmetic(left, right):
            return UnknownSize("a size computed from one not known statically", Site(source, node))
        if op in BINARY_OPS and too_big(op, left, right):
            return Unknown(f"operation `{op}` would build a value too large to analyse",
                           Site(source, node))
        if op == "Add" and isinstance(left, list) and isinstance(right, (list, tuple)):
            return self._sized(left + list(right), Site(source, node))  # lists of layers
        if op == "Add" and isinstance(left, tuple) and isinstance(right, list):
            # `shape_list(x)[:-1] + [heads, size]`: a tensor's shape is modelled as a tuple
            # where TF code has a list
            return self._sized(list(left) + right, Site(source, node))
        if op == "Add" and isinstance(left, tuple) and isinstance(right, tuple):
            return self._sized(left + right, Site(source, node))
        if op == "Multiply" and isinstance(left, list) and isinstance(right, int):
            return self._sized(left * right, Site(source, node))
        if not (is_constant(left) and is_constant(right)):
            return Unknown(f"operand not known statically ({reason_of(left if not is_constant(left) else right)})",
                           Site(source, node))
        try:
            value = BINARY_OPS[op](left, right)
        except Exception:
            return Unknown(f"operation `{op}` on these values", Site(source, node))
        return self._sized(value, Site(source, node))

    def _eval_BooleanOperation(self, node: Any, scope: Scope, source: Any) -> Any:
        left = self.eval(node.left, scope, source)
        if not is_constant(left):
            return Unknown(f"operand not known statically ({reason_of(left)})", Site(source, node))
        op = type(node.operator).__name__
        if (op == "And" and not left) or (op == "Or" and left):
            return left
        return self.eval(node.right, scope, source)

    def _eval_Comparison(self, node: Any, scope: Scope, source: Any) -> Any:
        left = self.eval(node.left, scope, source)
        for target in node.comparisons:
            right = self.eval(target.comparator, scope, source)
            op = type(target.operator).__name__
            if op in ("Is", "IsNot") and _identity_known(left, right):
                result = (left is right) == (op == "Is")
            elif op in ("In", "NotIn") and _keys_known(left, right):
                # `name in ACT2FN`: the keys decide it, whatever the values are.
                result = (left in right) == (op == "In")
            elif _elementwise_comparison(op, left, right):
                # `(mask == 0)` of a constant tensor: a tensor of the broadcast shape
                return constant_tensors.broadcast(left, right) or ConstTensor(None)
            elif not (is_constant(left) and is_constant(right)):
                return Unknown("comparison of values not known statically", Site(source, node))
            elif _batch_against_number(left, right):
                # `batch_size != 1` (GPT-J's and Mistral's sequence classifiers): the batch
                # size is symbolic, so the comparison is not known.
                return Unknown("comparison with the batch size, which is symbolic",
                               Site(source, node))
            else:
                try:
                    result = COMPARE_OPS[op](left, right)
                except Exception:
                    return Unknown("comparison", Site(source, node))
            if not result:
                return False
            left = right
        return True

    def _eval_IfExp(self, node: Any, scope: Scope, source: Any) -> Any:
        test = self.eval(node.test, scope, source)
        if not is_constant(test):
            return Unknown(f"condition not known statically ({reason_of(test)})", Site(source, node))
        return self.eval(node.body if test else node.orelse, scope, source)

    def _eval_Subscript(self, node: Any, scope: Scope, source: Any) -> Any:
        obj = self.eval(node.value, scope, source)
        index = self.subscript_index(node, scope, source)
        if isinstance(obj, ConstTensor):
            items = index if isinstance(index, tuple) else (index,)
            result = constant_tensors.index(obj, items)
            return result if result is not None else Unknown("index of a constant tensor", Site(source, node))
        if isinstance(obj, ShapeOf):
            dims = self.full_shape(obj.tensor)
            if dims is not None and isinstance(index, (int, slice)):
                try:
                    return dims[index]
                except IndexError:
                    return Unknown("tensor dimension out of range", Site(source, node))
            return BATCH if index == 0 else Unknown("tensor size not known statically",
                                                     Site(source, node))
        if isinstance(obj, Tensor):
            framework = self.builder.drafts[obj.node_id].node.framework
            if static_index(index):
                return self.builder.apply_index(framework, obj, index if isinstance(index, tuple)
                                                else (index,), Site(source, node),
                                                self._path("getitem"))
            return self.builder.opaque(framework, "tensor indexing `x[...]` is not modelled yet",
                                       [obj], Site(source, node), self._path("getitem"),
                                       functional=True)
        if isinstance(obj, ModelOutput):
            return model_outputs.index(obj, index, Site(source, node))
        if isinstance(obj, (list, tuple, str)) and isinstance(index, slice):
            return obj[index]
        if isinstance(obj, (list, tuple, str, dict)) and hashable(index):
            try:
                return obj[index]
            except (IndexError, KeyError, TypeError):
                return Unknown("index out of range", Site(source, node))
        if isinstance(obj, Instance) and isinstance(obj.cls.lookup("__getitem__"), Function):
            # A class of the analysed code (or of knowledge/hf_library: ACT2FN) that
            # defines indexing.
            return self.call_function(obj.cls.lookup("__getitem__"), [obj, index], {},
                                      Site(source, node), receiver=obj)
        if isinstance(obj, Instance) and obj.container is not None:
            obj = obj.container
        if isinstance(obj, Sequential):
            if isinstance(index, slice):
                part = Sequential(obj.framework, obj.items[index], obj.names[index], obj.site,
                                  kind=obj.kind)
                return part
            item = obj.get(index)
            if item is not None:
                return item
            return Unknown(f"no module {index!r} in the container", Site(source, node))
        return Unknown(f"subscript of a value not known statically ({reason_of(obj)})",
                       Site(source, node))

    def subscript_index(self, node: Any, scope: Scope, source: Any) -> Any:
        if len(node.slice) != 1:  # t[:, :, None]: a tuple of indices
            return tuple(self._index_element(e.slice, scope, source, node) for e in node.slice)
        return self._index_element(node.slice[0].slice, scope, source, node)

    def _index_element(self, element: Any, scope: Scope, source: Any, node: Any) -> Any:
        if type(element).__name__ == "Index":
            return self.eval(element.value, scope, source)
        parts = [None if p is None else self.eval(p, scope, source)
                 for p in (element.lower, element.upper, element.step)]
        if all(p is None or isinstance(p, int) for p in parts):
            return slice(*parts)
        return Unknown("slice", Site(source, node))

    def _eval_Lambda(self, node: Any, scope: Scope, source: Any) -> Any:
        return self.make_function(node, scope, source)

    def _eval_ListComp(self, node: Any, scope: Scope, source: Any) -> Any:
        return self._comprehension(node, scope, source, lambda s: [self.eval(node.elt, s, source)])

    _eval_GeneratorExp = _eval_ListComp
    _eval_SetComp = _eval_ListComp

    def _eval_DictComp(self, node: Any, scope: Scope, source: Any) -> Any:
        pairs = self._comprehension(node, scope, source, lambda s: [
            (self.eval(node.key, s, source), self.eval(node.value, s, source))])
        if isinstance(pairs, Unknown):
            return pairs
        return {k: v for k, v in pairs if hashable(k)}

    def _comprehension(self, node: Any, scope: Scope, source: Any, produce: Any) -> Any:
        out: list[Any] = []
        too_many: list[int] = []  # the estimated iterations, once beyond the limit

        def run(clause: Any, inner: Scope, outer: int) -> bool:
            items = self.iterate(self.eval(clause.iter, inner, source))
            if items is None:
                return False
            # Nested clauses, and comprehensions in the element, run len(items) times
            # per outer item: a table built element by element (a 512 x 512 sinusoidal
            # position table) is not computed.
            if outer * len(items) > MAX_COMPREHENSION:
                too_many.append(outer * len(items))
                return False
            frame.comprehension_runs = outer * len(items)
            for item in items:
                self.assign(clause.target, item, inner, source)
                if not all(self.eval(cond.test, inner, source) is True for cond in clause.ifs):
                    continue
                if clause.inner_for_in is not None:
                    if not run(clause.inner_for_in, inner, outer * len(items)):
                        return False
                else:
                    out.extend(produce(inner))
            return True

        frame = self.frames[-1]
        enclosing = frame.comprehension_runs
        try:
            complete = run(node.for_in, Scope(scope), enclosing)
        finally:
            frame.comprehension_runs = enclosing
        if not complete:
            if too_many:
                return Unknown(f"a comprehension of {too_many[0]:,} iterations (a constant "
                               f"table) is not computed statically", Site(source, node))
            return Unknown("comprehension over a value not known statically", Site(source, node))
        return out

    def _eval_Call(self, node: Any, scope: Scope, source: Any) -> Any:
        func = self.eval(node.func, scope, source)
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        arg_sites: dict[Any, Site] = {}
        for arg in node.args:
            value = self.eval(arg.value, scope, source)
            if arg.star == "*":
                items = self.iterate(value)
                if items is None:
                    return self._unknown_star_args(func, args, value, Site(source, node))
                args.extend(items)
            elif arg.star == "**":
                if not isinstance(value, dict):
                    return Unknown("**kwargs not known statically", Site(source, node))
                kwargs.update(value)
            elif arg.keyword is not None:
                kwargs[arg.keyword.value] = value
                arg_sites[arg.keyword.value] = Site(source, arg.value)
            else:
                arg_sites[len(args)] = Site(source, arg.value)
                args.append(value)
        if len(self.frames) == 1 and not self.loading:
            # Evaluated outside any module's code: the call of a model reference
            # `PATH::NAME(ARGS)`. An argument NAME does not take is the user's typo, which
            # binding would drop silently (`Net(widht=4)` analysed as `Net()`).
            self._check_arguments(func, args, kwargs, node, source)
        indirect = indirection(node.func, func, scope) if isinstance(func, (FrameworkRef, Partial)) \
            else None
        return self.call(func, args, kwargs, Site(source, node, indirect), arg_sites)

    def _unknown_star_args(self, func: Any, args: list[Any], value: Any, site: Site) -> Any:
        """A call whose `*args` is not known: a tensor method or framework function given
        a tensor (`x.view(*output_shape)`) is one opaque step, so that the rest of the
        model is followed; anything else is not known statically."""
        reason = f"*args not known statically ({reason_of(value)})"
        receiver = func.receiver if isinstance(func, Builtin) else None
        tensors = tensors_in([receiver, *args]) if isinstance(func, (Builtin, FrameworkRef)) \
            else []
        if not tensors:
            return Unknown(reason, site)
        framework = self.builder.drafts[tensors[0].node_id].node.framework
        name = getattr(func, "name", None) or getattr(func, "path", "?")
        return self.builder.opaque(framework, f"`{name.rpartition('.')[2]}(*...)`: {reason}",
                                   tensors[:1], site, self._path("?"), functional=True)

    def _check_arguments(self, func: Any, args: list[Any], kwargs: dict[str, Any], node: Any,
                         source: Any) -> None:
        """Raise InputError when a call passes arguments `func` does not accept."""
        shown = getattr(func, "name", "")
        if isinstance(func, Class):
            func, args = func.lookup("__init__"), [None, *args]
        if not isinstance(func, Function) or type(func.node).__name__ != "FunctionDef":
            return
        params = func.node.params
        positional = [p.name.value for p in (*params.posonly_params, *params.params)]
        keywords = [p.name.value for p in (*params.params, *params.kwonly_params)]
        problem = None
        if type(params.star_arg).__name__ != "Param" and len(args) > len(positional):
            given, takes = len(args), len(positional)
            if shown != func.name:  # a class: `self` is not the user's
                given, takes = given - 1, takes - 1
            problem = (f"takes {takes} positional argument{'s' if takes != 1 else ''} but "
                       f"{given} {'were' if given != 1 else 'was'} given")
        elif params.star_kwarg is None:
            unknown = [k for k in kwargs if k not in keywords]
            names = [p for p in dict.fromkeys(positional + keywords) if p != "self"]
            if unknown:
                problem = (f"has no parameter `{unknown[0]}` (its parameters: "
                           f"{', '.join(names) or 'none'})")
        if problem is not None:
            import libcst as cst

            call = cst.Module(body=[]).code_for_node(node)
            raise InputError(f"{source.path}::{call}: `{shown or func.name}` {problem}")


def _batch_against_number(left: Any, right: Any) -> bool:
    """One side is the symbolic batch size and the other a number (a string compared
    with a number is never what the analysed code meant)."""
    for one, other in ((left, right), (right, left)):
        if one == BATCH and isinstance(one, str) and isinstance(other, (int, float)) \
                and not isinstance(other, bool):
            return True
    return False


# The evaluator of each libcst expression type: the `_eval_<Type>` methods above (a new
# kind of expression is one such method).
EXPRESSIONS: dict[str, Callable[[Any, Any, Scope, Any], Any]] = {
    name[len("_eval_"):]: method for name, method in vars(Expressions).items()
    if name.startswith("_eval_")}


def _keys_known(left: Any, right: Any) -> bool:
    """Whether `left in right` is decided by a dict's keys alone: the key is a constant
    and so is every key of the dict (its values may be anything)."""
    return (isinstance(right, dict) and is_constant(left) and hashable(left)
            and all(is_constant(key) for key in right))


def _identity_known(left: Any, right: Any) -> bool:
    """Whether `left is right` is decided: one side is None or a class of the analysed
    code (each class is one value), and neither side is unknown."""
    if isinstance(left, Unknown) or isinstance(right, Unknown):
        return False
    return left is None or right is None or (isinstance(left, Class) and isinstance(right, Class))


def _size_arithmetic(left: Any, right: Any) -> bool:
    """Arithmetic on a size not known statically or on the batch size, with a number or
    another such size: `bsz * self.num_heads`, `seq_len // 2`."""
    sizes = [v is BATCH or isinstance(v, UnknownSize) for v in (left, right)]
    numbers = [isinstance(v, (int, float)) and not isinstance(v, bool) for v in (left, right)]
    return any(sizes) and all(s or n for s, n in zip(sizes, numbers))


def _elementwise_comparison(op: str, left: Any, right: Any) -> bool:
    """A comparison of a constant tensor with a number or another constant tensor."""
    if op in ("Is", "IsNot", "In", "NotIn"):
        return False
    operands = [isinstance(v, ConstTensor) or isinstance(v, (int, float)) and not isinstance(v, bool)
                for v in (left, right)]
    return all(operands) and any(isinstance(v, ConstTensor) for v in (left, right))
