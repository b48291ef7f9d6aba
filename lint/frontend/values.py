"""Abstract values of the front-end interpreter.

Plain Python constants (numbers, strings, tuples, lists, dicts, None) stand for
themselves; everything else the analysed code can hold is one of the classes below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..knowledge import LayerSpec

BATCH = "N"  # the batch dimension, as `x.size(0)` and `x.shape[0]` evaluate


class Code:
    """Values that stand for code (a place in it, a function, a class, a module): the
    model code's `copy.deepcopy` copies the data around them but never these, which hold
    syntax trees (copying those would be slow, and the code does not change)."""

    def __deepcopy__(self, memo: dict) -> Code:
        return self

    def __copy__(self) -> Code:
        return self

    def __repr__(self) -> str:  # a generated repr would print whole syntax trees
        return f"<{type(self).__name__} {getattr(self, 'name', '') or getattr(self, 'path', '')}>"


@dataclass(frozen=True)
class Site(Code):
    """A place in the analysed source: the file and the libcst node."""

    source: Any  # SourceFile
    node: Any
    # At a call that constructs a framework layer: None when the call names the framework
    # class itself (its import, an import alias, a module attribute), else why editing the
    # call is not editing that class (see `callee.indirection`).
    indirect: str | None = field(default=None, compare=False)

    def __repr__(self) -> str:  # the node's own repr is the whole subtree
        return f"Site({getattr(self.source, 'path', '?')}, {type(self.node).__name__})"


@dataclass
class Unknown:
    """A value the interpreter could not compute, and why."""

    reason: str
    site: Site | None = None
    raised: bool = False  # a function reached `raise` (the site is that statement)
    chain: tuple[str, ...] = ()  # the interpreted calls it was made in, outermost first


@dataclass
class UnknownSize(Unknown):
    """A torch tensor size the shapes do not give (at run time it is an int, never None),
    or arithmetic on one or on the batch size (`bsz * self.num_heads`). As a layer or view
    argument it is an unknown dimension, not a construct to report."""


@dataclass(frozen=True)
class FrameworkRef:
    """A name reached through a framework import: `("keras", "layers.Dense")`."""

    path: str  # full dotted path as imported, e.g. "tensorflow.keras.layers.Dense"

    def child(self, name: str) -> FrameworkRef:
        return FrameworkRef(f"{self.path}.{name}")


@dataclass(eq=False)
class LazyImport:
    """What an `import` at the top of an imported module binds, until the name is used.

    Most names a library module imports are never touched while a model is built (a
    transformers modeling file reaches 85 modules eagerly, a handful when used), so the
    module is found and read on first use, by the interpreter using it (a shared scope
    outlives the interpreter that made it). `name` None: `import module` binds the module."""

    module: str  # dotted, as written after `from` (or `import`)
    name: str | None
    level: int  # leading dots of a relative import
    importer: Any = field(repr=False)  # the importing file (its path places relative imports)
    site: Site | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ExternalRef:
    """A name from a module we do not model (numpy, os, a third-party package)."""

    path: str


@dataclass(repr=False)
class Function(Code):
    node: Any  # libcst.FunctionDef or libcst.Lambda
    scope: Any  # defining Scope
    source: Any
    name: str
    defaults: dict[str, Any] = field(default_factory=dict)
    owner: Any = None  # the Class a method is defined in (for `super()`)
    kind: str = "function"  # or "classmethod", "staticmethod", "property"


@dataclass(repr=False)
class Class(Code):
    node: Any  # libcst.ClassDef
    scope: Any
    source: Any
    name: str
    bases: list[Any] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)
    fields: list[str] = field(default_factory=list)  # for @dataclass classes
    # `bases` never changes after the class statement, so both walks are computed once.
    # Unmemoised they took time exponential in the depth of a diamond-shaped hierarchy
    # (A_i and B_i both deriving from A_{i-1} and B_{i-1}: 2**depth paths; 25 levels,
    # which Python itself linearises at once, never finished).
    _mro: list[Class] | None = field(default=None, init=False, repr=False, compare=False)
    _framework_bases: list[FrameworkRef] | None = field(default=None, init=False, repr=False,
                                                        compare=False)

    def mro(self) -> list[Class]:
        if self._mro is None:
            order: list[Class] = [self]
            for base in self.bases:
                if isinstance(base, Class):
                    order.extend(c for c in base.mro() if c not in order)
            self._mro = order
        return list(self._mro)

    def lookup(self, name: str) -> Any:
        for cls in self.mro():
            if name in cls.attrs:
                return cls.attrs[name]
        return None

    def framework_bases(self) -> list[FrameworkRef]:
        """The framework classes this class derives from, each once, first seen first
        (callers test membership or take the first)."""
        if self._framework_bases is None:
            found: list[FrameworkRef] = []
            for base in self.bases:
                refs = [base] if isinstance(base, FrameworkRef) else \
                    base.framework_bases() if isinstance(base, Class) else []
                found.extend(r for r in refs if r not in found)
            self._framework_bases = found
        return list(self._framework_bases)


@dataclass(eq=False)
class Instance:
    cls: Class
    attrs: dict[str, Any] = field(default_factory=dict)
    local_name: str | None = None  # attribute name in its parent module
    parent: Any = None
    called_on: Tensor | None = None  # the first tensor the analysed code applies it to
    container: Sequential | None = None  # for subclasses of nn.Sequential/ModuleList/ModuleDict
    keras_name: str | None = None  # for subclasses of keras Layer/Model
    base_layer: Layer | None = None  # for subclasses of a framework layer (nn.LayerNorm)
    own_weights: list[Weight] = field(default_factory=list)  # Keras add_weight()
    built: bool = False
    failed: Unknown | None = None  # its `__init__` raised with the arguments given


@dataclass(eq=False)
class ModelOutput:
    """A Hugging Face `ModelOutput` dataclass value (`BaseModelOutputWithPooling(...)`):
    its fields in declaration order; those not given are None (see model_outputs.py)."""

    type_name: str
    fields: dict[str, Any]

    def to_tuple(self) -> tuple:
        """As HF's ModelOutput.to_tuple: the fields that are not None, in order."""
        return tuple(v for v in self.fields.values() if v is not None)


@dataclass
class BoundMethod:
    receiver: Any
    function: Function


@dataclass
class SuperProxy:
    instance: Instance
    after: Class  # look up methods in the MRO after this class


@dataclass(eq=False)
class Layer:
    """A framework layer or module constructed in the analysed code, not yet applied."""

    framework: str
    type_name: str  # "Conv2D", "Conv2d"
    spec: LayerSpec
    args: dict[str, Any]  # bound by parameter name, explicit arguments only
    site: Site | None
    arg_sites: dict[str, Site] = field(default_factory=dict)
    name: str | None = None  # Keras layer name
    key: int = 0  # identity for weight sharing
    applied: int = 0
    local_name: str | None = None  # torch: attribute or index in its parent module
    parent: Any = None
    # Attributes given after construction, copied onto its nodes: the axis of a torch
    # weight norm (`weight_norm_dim`), which changes its parameter count.
    extra_attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class Sequential:
    """nn.Sequential / keras.Sequential, and torch's ModuleList ("list") and ModuleDict
    ("dict"), which hold modules the same way but are not called."""

    framework: str
    items: list[Any]
    names: list[str]
    site: Site | None
    name: str | None = None  # Keras model name
    input_shape: Any = None  # Keras: from the first layer's input_shape or an Input item
    kind: str = "sequential"
    local_name: str | None = None
    parent: Any = None
    owner: Any = None  # the Instance whose container this is (nn.Sequential subclasses)

    def get(self, key: Any) -> Any:
        if isinstance(key, int) and -len(self.items) <= key < len(self.items):
            return self.items[key]
        if isinstance(key, str) and key in self.names:
            return self.items[self.names.index(key)]
        return None


@dataclass(frozen=True)
class Tensor:
    node_id: int


@dataclass
class KerasModel:
    inputs: list[Tensor]
    outputs: list[Tensor]
    site: Site | None
    missing: Any = None  # what `outputs=` was when it held no tensor (an Unknown says why)


@dataclass
class Builtin:
    name: str
    receiver: Any = None  # for bound built-in methods such as `list.append`


@dataclass
class Partial:
    """functools.partial(func, *args, **kwargs)."""

    func: Any
    args: list[Any]
    kwargs: dict[str, Any]


@dataclass(eq=False, repr=False)
class Module(Code):
    """A module of the analysed project, imported by another file."""

    path: str
    scope: Any
    file: str = ""
    # For a library module read from its model (knowledge/hf_library): the module's own
    # file, where the names the model lacks are read.
    original: str = ""


def module_path(value: Any) -> str:
    """`layer1.0.conv1`: the names from the root module down to `value`."""
    parts: list[str] = []
    seen: set[int] = set()
    while value is not None and id(value) not in seen:
        seen.add(id(value))
        name = getattr(value, "local_name", None)
        if name is None:
            break
        parts.append(name)
        value = getattr(value, "parent", None)
    return ".".join(reversed(parts))


@dataclass(frozen=True)
class ConstTensor:
    """A tensor built from constants: `torch.zeros(1, 1, d)` (its shape is what matters)
    or a 1-D `torch.arange(n) * w + w0` (RegNet computes its widths so: values kept)."""

    shape: tuple | None
    values: tuple | None = None  # flat values of a 1-D tensor, when known
    dtype: str = "float"  # "int" or "float" (float32 arithmetic)
    owner: Any = field(default=None, compare=False)  # the Layer whose `.weight` this is


@dataclass(eq=False)
class Weight:
    """A module's own weight: torch nn.Parameter / register_buffer, Keras add_weight."""

    shape: tuple | None
    trainable: bool = True
    buffer: bool = False  # torch buffer (not a parameter), or Keras non-trainable state


class ShapeOf:
    """`x.shape`: only the batch entry is meaningful during extraction."""

    def __init__(self, tensor: Tensor) -> None:
        self.tensor = tensor


def reason_of(value: Any) -> str:
    if isinstance(value, Unknown):
        return value.reason
    return type(value).__name__


def flat(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        out.extend(flat(list(value)) if isinstance(value, (list, tuple)) else [value])
    return out


def tensors_in(values: list[Any]) -> list[Tensor]:
    found: list[Tensor] = []
    for value in values:
        if isinstance(value, Tensor):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            found.extend(tensors_in(list(value)))
        elif isinstance(value, ModelOutput):
            found.extend(tensors_in(list(value.to_tuple())))
    return found


def static_index(index: Any) -> bool:
    """`x[:, -1]`, `h[-1]`, `x[..., 0]`: integers, plain slices, None and Ellipsis."""
    items = index if isinstance(index, tuple) else (index,)
    for item in items:
        if isinstance(item, slice):
            if not all(v is None or (isinstance(v, int) and not isinstance(v, bool))
                       for v in (item.start, item.stop, item.step)):
                return False
        elif not (item is None or item is Ellipsis
                  or (isinstance(item, int) and not isinstance(item, bool))):
            return False
    return True
