"""The weight mapping of `verify --numeric`, as Python statements.

Pure standard library: the verify worker builds the statements of each aligned layer pair
here and executes them (with `HELPERS`), and the parent writes the very same statements
into the script of `--emit-mapping`. So the script is, line for line, what `--numeric`
ran.

A layer pair's mapping is a list of `Link`s: a group of Keras variables (attribute paths
on the layer, `cell.kernel`) and torch tensors (attribute names on the module,
`weight_ih_l0`) with one statement per destination tensor in each direction. Statements
are templates over ``{k0}, {k1}...`` (the Keras variables) and ``{t0}, {t1}...`` (the
torch tensors); `render` fills them with `K("name").path` / `T("path").name`, where
`K` finds a Keras layer by name and `T` is the torch model's `get_submodule`.

When one side lacks a link's tensors (a layer without bias, BatchNormalization with
center=False): the other side's tensors are set to their neutral value (0 for a bias or
a shift, 1 for a scale or a variance) when they are the destination; when they are the
source, the weights cannot be transferred and the pair is reported as unmappable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KERAS_TO_TORCH = "keras_to_torch"
TORCH_TO_KERAS = "torch_to_keras"
DIRECTIONS = (KERAS_TO_TORCH, TORCH_TO_KERAS)

# Helpers shared by the worker and the emitted script (executed in both; they use the
# names np, torch and keras of the namespace they run in).
HELPERS = '''
def keras_layers(model):
    """A function name -> layer that finds nested layers (and layers of nested models) too
    (Keras's own `_flatten_layers` walks what `model.layers` does not show)."""
    found = {}
    stack = [model]
    while stack:
        layer = stack.pop(0)
        for child in layer._flatten_layers(include_self=False, recursive=False):
            found.setdefault(child.name, child)
            stack.append(child)

    def layer(name):
        if name not in found:
            raise KeyError(f"the Keras model has no layer named {name!r}")
        return found[name]

    return layer


def arr(x):
    """A float numpy copy of a torch tensor or a Keras variable."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy().copy()
    if hasattr(x, "numpy"):  # a Keras variable
        return np.array(x.numpy())
    return np.array(keras.ops.convert_to_numpy(x))


def put(dst, value):
    """Copy `value` (an array, or a number for every element) into a torch tensor or a
    Keras variable, checking the shape."""
    shape = tuple(int(d) for d in dst.shape)
    value = np.asarray(value)
    if value.ndim == 0:
        value = np.full(shape, value)
    if value.shape != shape:
        raise ValueError(f"an array of shape {value.shape} does not fit {shape}")
    if isinstance(dst, torch.Tensor):
        with torch.no_grad():
            dst.copy_(torch.from_numpy(np.ascontiguousarray(value)).to(dst.dtype))
    else:
        dst.assign(value.astype(dst.dtype))


def gru_gates(a, axis=0):
    """Swap the first two gate blocks: Keras orders a GRU's gates z, r, h; torch r, z, n."""
    z, r, h = np.split(a, 3, axis=axis)
    return np.concatenate([r, z, h], axis=axis)


def depthwise_to_torch(kernel):
    """Keras depthwise kernel (*k, C, dm) -> torch grouped-conv weight (C*dm, 1, *k)."""
    k = kernel.reshape(*kernel.shape[:-2], -1)
    return np.moveaxis(k, -1, 0)[:, None]


def depthwise_to_keras(weight, multiplier):
    """torch grouped-conv weight (C*dm, 1, *k) -> Keras depthwise kernel (*k, C, dm)."""
    k = np.moveaxis(weight[:, 0], 0, -1)
    return k.reshape(*k.shape[:-1], -1, multiplier)


def flatten_to_torch(kernel, spatial, channels):
    """Dense kernel reading a Flatten of (*spatial, C) (Keras, channels last) ->
    Linear weight reading a flatten of (C, *spatial) (torch, channels first)."""
    n = len(spatial)
    k = kernel.reshape(*spatial, channels, kernel.shape[-1])
    return k.transpose(n + 1, n, *range(n)).reshape(kernel.shape[-1], -1)


def unflatten_to_torch(a, spatial, channels):
    """Dense kernel (in, out) or bias (out,) whose outputs Keras reshapes to (*spatial, C)
    -> Linear weight (out, in) or bias whose outputs torch views as (C, *spatial)."""
    n = len(spatial)
    if a.ndim == 1:
        return np.moveaxis(a.reshape(*spatial, channels), -1, 0).reshape(-1)
    w = a.T.reshape(*spatial, channels, a.shape[0])
    return w.transpose(n, *range(n), n + 1).reshape(-1, a.shape[0])


def unflatten_to_keras(a, spatial, channels):
    """Linear weight (out, in) or bias read as (C, *spatial) -> Dense kernel (in, out) or
    bias read as (*spatial, C)."""
    n = len(spatial)
    if a.ndim == 1:
        return np.moveaxis(a.reshape(channels, *spatial), 0, -1).reshape(-1)
    w = a.reshape(channels, *spatial, a.shape[1])
    return w.transpose(*range(1, n + 1), 0, n + 1).reshape(-1, a.shape[1]).T


def flatten_to_keras(weight, spatial, channels):
    """Linear weight reading a flatten of (C, *spatial) -> Dense kernel reading a
    Flatten of (*spatial, C)."""
    n = len(spatial)
    w = weight.reshape(weight.shape[0], channels, *spatial)
    return w.transpose(*range(2, n + 2), 1, 0).reshape(-1, weight.shape[0])
'''


@dataclass(frozen=True)
class Link:
    """Keras variables and torch tensors that map onto each other."""

    what: str  # "kernel", "bias", "moving statistics", ...
    keras: tuple[str, ...]  # attribute paths on the Keras layer; "a|b": the first that exists
    torch: tuple[str, ...]  # tensor attributes of the torch module
    to_torch: tuple[str, ...]  # one statement per torch tensor
    to_keras: tuple[str, ...]  # one statement per Keras variable
    neutral: float | None = None  # value of a destination whose source side is absent


@dataclass
class LayerMapping:
    """The statements of one layer pair, both directions."""

    comment: dict[str, str]  # direction -> the comment line heading the statements
    statements: dict[str, list[str]] = field(default_factory=lambda: {d: [] for d in DIRECTIONS})
    problems: dict[str, list[str]] = field(default_factory=lambda: {d: [] for d in DIRECTIONS})

    def to_json(self) -> dict[str, Any]:
        return {"comment": self.comment, "statements": self.statements,
                "problems": self.problems}


def _axes(order: list[int] | tuple[int, ...]) -> str:
    return ", ".join(str(i) for i in order)


def conv_axes(rank: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Transposes between a Keras conv kernel (*k, in, out) and a torch weight
    (out, in, *k) (and, the same, Keras (*k, out, in) / torch (in, out, *k) of transposed
    convolutions): Conv2D (3, 2, 0, 1) / (2, 3, 1, 0)."""
    to_torch = (rank + 1, rank, *range(rank))
    to_keras = (*range(2, rank + 2), 1, 0)
    return to_torch, to_keras


def _spatial(rank: int) -> str:
    return {1: "k", 2: "kh, kw", 3: "kd, kh, kw"}.get(rank, "*k")


def links(entry: dict[str, Any], keras_shapes: dict[str, tuple | None]
          ) -> tuple[list[Link], tuple[str, str]] | str:
    """The links of an aligned pair and a description of the conversion, or a reason why
    the pair cannot be mapped. The description is (Keras -> torch, torch -> Keras).
    `keras_shapes`: shape of each Keras attribute path that
    exists (None when it is None), as the worker found them."""
    op, part = entry["op"], entry.get("part")

    def shape(path: str) -> tuple | None:
        for candidate in path.split("|"):
            if candidate in keras_shapes:
                return keras_shapes[candidate]
        return None

    bias = Link("bias", ("bias",), ("bias",), ("put({t0}, arr({k0}))",),
                ("put({k0}, arr({t0}))",), 0.0)
    if op in ("conv", "conv_transpose") and part != "depthwise":
        path = "pointwise_kernel" if part == "pointwise" else "kernel"
        kernel = shape(path)
        if kernel is None:
            return "the Keras layer has no kernel"
        rank = len(kernel) - 2
        to_torch, to_keras = conv_axes(rank)
        io = "out, in" if op == "conv" else "in, out"
        oi = "in, out" if op == "conv" else "out, in"
        note = " (the pointwise half of SeparableConv)" if part == "pointwise" else ""
        keras_side = f"kernel ({_spatial(rank)}, {oi})"
        torch_side = f"weight ({io}, {_spatial(rank)})"
        described = (f"{keras_side} -> {torch_side}{note}", f"{torch_side} -> {keras_side}{note}")
        return [Link("kernel", (path,), ("weight",),
                     (f"put({{t0}}, arr({{k0}}).transpose({_axes(to_torch)}))",),
                     (f"put({{k0}}, arr({{t0}}).transpose({_axes(to_keras)}))",)),
                bias], described
    if op == "depthwise_conv":
        path = "depthwise_kernel" if part == "depthwise" else "kernel|depthwise_kernel"
        kernel = shape(path)
        if kernel is None:
            return "the Keras layer has no depthwise kernel"
        multiplier = kernel[-1]
        rank = len(kernel) - 2
        note = " (the depthwise half of SeparableConv)" if part == "depthwise" else ""
        keras_side = f"depthwise kernel ({_spatial(rank)}, C, {multiplier})"
        torch_side = f"grouped weight (C*{multiplier}, 1, {_spatial(rank)})"
        described = (f"{keras_side} -> {torch_side}{note}", f"{torch_side} -> {keras_side}{note}")
        out = [Link("depthwise kernel", (path,), ("weight",),
                    ("put({t0}, depthwise_to_torch(arr({k0})))",),
                    (f"put({{k0}}, depthwise_to_keras(arr({{t0}}), {multiplier}))",))]
        if part != "depthwise":
            out.append(bias)
        return out, described
    if op == "dense":
        flat, unflat = entry.get("flatten"), entry.get("unflatten")
        if flat and unflat:
            return ("the Dense reads a Flatten and feeds a Reshape that the port orders "
                    "channels first on both sides: not supported yet")
        if unflat:
            spatial = tuple(int(d) for d in unflat["spatial"])
            channels = unflat["channels"]
            args = f"{spatial!r}, {channels}"
            names = {1: "(L, C)", 2: "(H, W, C)", 3: "(D, H, W, C)"}.get(len(spatial), "(*S, C)")
            why = (f"the outputs permuted: Keras reshapes them to {names} = "
                   f"{(*spatial, channels)!r}, torch views them channels first")
            return [Link("kernel", ("kernel",), ("weight",),
                         (f"put({{t0}}, unflatten_to_torch(arr({{k0}}), {args}))",),
                         (f"put({{k0}}, unflatten_to_keras(arr({{t0}}), {args}))",)),
                    Link("bias", ("bias",), ("bias",),
                         (f"put({{t0}}, unflatten_to_torch(arr({{k0}}), {args}))",),
                         (f"put({{k0}}, unflatten_to_keras(arr({{t0}}), {args}))",), 0.0)], \
                (f"kernel (in, out) -> weight (out, in), {why}",
                 f"weight (out, in) -> kernel (in, out), {why}")
        if flat:
            spatial = tuple(flat["spatial"])
            channels = flat["channels"]
            dims = ", ".join(map(str, spatial))
            spatial_text = repr(tuple(int(d) for d in spatial))
            kernel = Link("kernel", ("kernel",), ("weight",),
                          (f"put({{t0}}, flatten_to_torch(arr({{k0}}), {spatial_text}, {channels}))",),
                          (f"put({{k0}}, flatten_to_keras(arr({{t0}}), {spatial_text}, {channels}))",))
            names = {1: "(L, C)", 2: "(H, W, C)", 3: "(D, H, W, C)"}.get(len(spatial), "(*S, C)")
            why = (f"the inputs permuted: Keras flattens {names} = ({dims}, {channels}), torch "
                   f"channels first")
            described = (f"kernel (in, out) -> weight (out, in), {why}",
                         f"weight (out, in) -> kernel (in, out), {why}")
        else:
            kernel = Link("kernel", ("kernel",), ("weight",), ("put({t0}, arr({k0}).T)",),
                          ("put({k0}, arr({t0}).T)",))
            described = ("kernel (in, out) -> weight (out, in)",
                         "weight (out, in) -> kernel (in, out)")
        return [kernel, bias], described
    if op == "batch_norm":
        return [Link("scale (gamma)", ("gamma",), ("weight",), ("put({t0}, arr({k0}))",),
                     ("put({k0}, arr({t0}))",), 1.0),
                Link("shift (beta)", ("beta",), ("bias",), ("put({t0}, arr({k0}))",),
                     ("put({k0}, arr({t0}))",), 0.0),
                Link("moving mean", ("moving_mean",), ("running_mean",),
                     ("put({t0}, arr({k0}))",), ("put({k0}, arr({t0}))",)),
                Link("moving variance", ("moving_variance",), ("running_var",),
                     ("put({t0}, arr({k0}))",), ("put({k0}, arr({t0}))",))], \
            ("gamma, beta, moving_mean, moving_variance -> weight, bias, running_mean, running_var",
             "weight, bias, running_mean, running_var -> gamma, beta, moving_mean, moving_variance")
    if op in ("layer_norm", "group_norm", "instance_norm"):
        return [Link("scale (gamma)", ("gamma",), ("weight",), ("put({t0}, arr({k0}))",),
                     ("put({k0}, arr({t0}))",), 1.0),
                Link("shift (beta)", ("beta",), ("bias",), ("put({t0}, arr({k0}))",),
                     ("put({k0}, arr({t0}))",), 0.0)], ("gamma, beta -> weight, bias",
                                                        "weight, bias -> gamma, beta")
    if op == "rms_norm":
        return [Link("scale", ("scale|gamma",), ("weight",), ("put({t0}, arr({k0}))",),
                     ("put({k0}, arr({t0}))",), 1.0)], ("scale -> weight", "weight -> scale")
    if op == "embedding":
        return [Link("embeddings", ("embeddings",), ("weight",), ("put({t0}, arr({k0}))",),
                     ("put({k0}, arr({t0}))",))], ("embeddings (V, D) -> weight (V, D)",
                                                 "weight (V, D) -> embeddings (V, D)")
    if op == "rnn":
        return _rnn_links(entry, shape)
    return f"portlint does not know how to map the weights of a {op} layer"


def _rnn_links(entry: dict[str, Any], shape: Any) -> tuple[list[Link], tuple[str, str]] | str:
    cell = entry.get("cell")
    if entry.get("num_layers", 1) not in (1, None):
        return (f"the torch module stacks {entry['num_layers']} layers; map each to its own "
                f"Keras layer (not supported yet)")
    if entry.get("proj_size"):
        return "torch LSTM proj_size has no Keras counterpart"
    directions = [("forward_layer.", ""), ("backward_layer.", "_reverse")] \
        if entry.get("bidirectional") else [("", "")]
    out: list[Link] = []
    for prefix, suffix in directions:
        def k(name: str, prefix: str = prefix) -> str:
            return f"{prefix}cell.{name}"

        def t(name: str, suffix: str = suffix) -> str:
            return f"{name}_l0{suffix}"

        if cell == "gru":
            bias = shape(k("bias"))
            if bias is not None and len(bias) == 1:
                return ("Keras GRU reset_after=False (one bias) applies the reset gate before "
                        "the recurrent product: torch nn.GRU cannot express it")
            out += [Link("input kernel", (k("kernel"),), (t("weight_ih"),),
                         ("put({t0}, gru_gates(arr({k0}).T))",),
                         ("put({k0}, gru_gates(arr({t0})).T)",)),
                    Link("recurrent kernel", (k("recurrent_kernel"),), (t("weight_hh"),),
                         ("put({t0}, gru_gates(arr({k0}).T))",),
                         ("put({k0}, gru_gates(arr({t0})).T)",)),
                    Link("biases", (k("bias"),), (t("bias_ih"), t("bias_hh")),
                         ("put({t0}, gru_gates(arr({k0})[0]))",
                          "put({t1}, gru_gates(arr({k0})[1]))"),
                         ("put({k0}, np.stack([gru_gates(arr({t0})), gru_gates(arr({t1}))]))",),
                         0.0)]
        elif cell in ("lstm", "simple"):
            out += [Link("input kernel", (k("kernel"),), (t("weight_ih"),),
                         ("put({t0}, arr({k0}).T)",), ("put({k0}, arr({t0}).T)",)),
                    Link("recurrent kernel", (k("recurrent_kernel"),), (t("weight_hh"),),
                         ("put({t0}, arr({k0}).T)",), ("put({k0}, arr({t0}).T)",)),
                    Link("bias", (k("bias"),), (t("bias_ih"), t("bias_hh")),
                         ("put({t0}, arr({k0}))", "put({t1}, 0.0)"),
                         ("put({k0}, arr({t0}) + arr({t1}))",), 0.0)]
        else:
            return f"portlint does not know how to map a {cell or 'recurrent'} cell"
    if cell == "gru":
        described = (("kernels transposed, gate blocks reordered (Keras z, r, h -> torch r, z, "
                      "n), bias rows 0 and 1 -> bias_ih, bias_hh"),
                     ("weights transposed, gate blocks reordered (torch r, z, n -> Keras z, r, "
                      "h), bias_ih, bias_hh -> bias rows 0 and 1"))
    else:
        described = ("kernels transposed (same gate order), the one Keras bias -> bias_ih, bias_hh = 0",
                     "weights transposed (same gate order), bias = bias_ih + bias_hh")
    if entry.get("bidirectional"):
        described = (described[0] + "; forward_layer -> *_l0, backward_layer -> *_l0_reverse",
                     described[1] + "; *_l0 -> forward_layer, *_l0_reverse -> backward_layer")
    return out, described


def render(entry: dict[str, Any], keras_name: str, torch_path: str,
           keras_found: dict[str, tuple | None], torch_found: dict[str, tuple | None]
           ) -> LayerMapping:
    """The statements of a pair in both directions, given which Keras attribute paths and
    torch tensors exist (name -> shape, None when the attribute is None; missing names do
    not exist)."""
    k_ref, t_ref = f"K({keras_name!r})", f"T({torch_path!r})"
    head = f"{entry['keras'].get('type', '?')} `{keras_name}`"
    tail = f"{entry['torch'].get('type', '?')} `{torch_path}`"
    planned = links(entry, keras_found)
    if isinstance(planned, str):
        comment = {KERAS_TO_TORCH: f"{head} -> {tail}", TORCH_TO_KERAS: f"{tail} -> {head}"}
        mapping = LayerMapping(comment)
        for direction in DIRECTIONS:
            mapping.problems[direction].append(planned)
        return mapping
    found_links, described = planned
    comment = {KERAS_TO_TORCH: f"{head} -> {tail}: {described[0]}",
               TORCH_TO_KERAS: f"{tail} -> {head}: {described[1]}"}
    mapping = LayerMapping(comment)
    for link in found_links:
        keras_paths = [_pick(path, keras_found) for path in link.keras]
        k_present = [p is not None and keras_found.get(p) is not None for p in keras_paths]
        t_present = [torch_found.get(name) is not None for name in link.torch]
        names = {f"k{i}": f"{k_ref}.{p or link.keras[i].split('|')[0]}"
                 for i, p in enumerate(keras_paths)}
        names.update({f"t{i}": f"{t_ref}.{name}" for i, name in enumerate(link.torch)})
        has_k, has_t = all(k_present), all(t_present)
        if has_k and has_t:
            mapping.statements[KERAS_TO_TORCH] += [s.format(**names) for s in link.to_torch]
            mapping.statements[TORCH_TO_KERAS] += [s.format(**names) for s in link.to_keras]
            continue
        if any(k_present) and not has_k or any(t_present) and not has_t:
            for direction in DIRECTIONS:
                mapping.problems[direction].append(f"only some of the tensors of the {link.what} "
                                                   f"exist")
            continue
        if not has_k and not has_t:
            continue
        source_side = KERAS_TO_TORCH if has_k else TORCH_TO_KERAS
        other = TORCH_TO_KERAS if has_k else KERAS_TO_TORCH
        owner, lacking = (head, tail) if has_k else (tail, head)
        mapping.problems[source_side].append(f"{owner} has a {link.what} that {lacking} does "
                                             f"not have")
        if link.neutral is None:
            mapping.problems[other].append(f"{lacking} has no {link.what} to copy into the "
                                           f"{owner.split(' ')[0]} layer")
            continue
        targets = ([names[f"t{i}"] for i in range(len(link.torch))] if has_t
                   else [names[f"k{i}"] for i in range(len(link.keras))])
        mapping.statements[other] += [f"put({target}, {link.neutral!r})  # {lacking} has no "
                                      f"{link.what}" for target in targets]
    return mapping


def _pick(path: str, found: dict[str, Any]) -> str | None:
    for candidate in path.split("|"):
        if candidate in found:
            return candidate
    return None


def keras_attribute_paths(entry: dict[str, Any]) -> list[str]:
    """Every Keras attribute path the links of `entry` may read (for the worker to look up)."""
    paths = {"kernel", "bias", "depthwise_kernel", "pointwise_kernel", "gamma", "beta",
             "moving_mean", "moving_variance", "scale", "embeddings"}
    for prefix in ("", "forward_layer.", "backward_layer."):
        for name in ("kernel", "recurrent_kernel", "bias"):
            paths.add(f"{prefix}cell.{name}")
    return sorted(paths)


TORCH_TENSORS = ("weight", "bias", "running_mean", "running_var", "weight_ih_l0", "weight_hh_l0",
                 "bias_ih_l0", "bias_hh_l0", "weight_ih_l0_reverse", "weight_hh_l0_reverse",
                 "bias_ih_l0_reverse", "bias_hh_l0_reverse")


# --------------------------------------------------------------------------- the script


def _py(value: Any) -> str:
    return repr(value)


def render_script(numeric: dict[str, Any], keras: dict[str, Any], torch: dict[str, Any],
                  origin: str, version: str = "") -> str:
    """The standalone script of `--emit-mapping`.

    `numeric`: the worker's numeric result (its "mapping" list has one entry per pair:
    statements and problems by direction); `keras`/`torch`: {"path": absolute file,
    "shown": as the user wrote it, "name": NAME, "call": ARGS or None, "input_shape": one
    sample or None}; `origin`: the framework the weights were copied from."""
    lines: list[str] = []
    by = f" (portlint {version})" if version else ""
    source, target = ("Keras", "PyTorch") if origin == "keras" else ("PyTorch", "Keras")

    def ref(side: dict[str, Any]) -> str:
        call = f"({side['call']})" if side.get("call") is not None else ""
        return f"{side['shown']}::{side['name']}{call}"

    lines += [
        f'"""Weight mapping between the Keras model {ref(keras)} and its PyTorch',
        f"counterpart {ref(torch)}.",
        "",
        f"Written by `portlint verify --numeric --emit-mapping`{by}: these are the",
        f"statements `--numeric` ran to copy the {source} weights into the {target} model,",
        "one block per layer. Use them from your code:",
        "",
        "    from this_file import keras_to_torch, torch_to_keras",
        "    keras_to_torch(keras_model, torch_model)   # Keras -> torch, in place",
        "    torch_to_keras(torch_model, keras_model)   # torch -> Keras, in place",
        "",
        "or run it: it builds both models from their files, copies the weights and prints",
        "the largest difference between their outputs on a random input.",
        "",
        "Keras layers are found by the names the verify worker's build gave them; building",
        "other Keras models first in the same session shifts automatic names (conv2d_1...):",
        "call keras.backend.clear_session() before building, or rename here.",
        '"""',
        "",
        "import importlib.util",
        "import sys",
        "from pathlib import Path",
        "",
        "import keras",
        "import numpy as np",
        "import torch",
        "",
        f"KERAS_FILE = {_py(keras['path'])}",
        f"TORCH_FILE = {_py(torch['path'])}",
        "",
    ]
    entries = numeric.get("mapping") or []
    for direction, signature, doc in (
            (KERAS_TO_TORCH, "keras_to_torch(keras_model, torch_model)",
             "Copy the Keras model's weights into the PyTorch model (in place)."),
            (TORCH_TO_KERAS, "torch_to_keras(torch_model, keras_model)",
             "Copy the PyTorch model's weights into the Keras model (in place).")):
        lines += ["", f"def {signature}:", f'    """{doc}"""',
                  "    K = keras_layers(keras_model)", "    T = torch_model.get_submodule"]
        for entry in entries:
            lines.append(f"    # {entry['comment'][direction]}")
            for problem in entry["problems"][direction]:
                lines.append(f"    # NOT MAPPED: {problem}")
            for statement in entry["statements"][direction] if not entry["problems"][direction] else []:
                lines.append(f"    {statement}")
        if not entries:
            lines.append("    pass")
        lines.append("")
    lines += ["", "# --- helpers ---------------------------------------------------------------",
              "", HELPERS.strip("\n"), "", ""]
    lines += _script_main(numeric, keras, torch, origin)
    return "\n".join(lines).rstrip("\n") + "\n"


def _script_main(numeric: dict[str, Any], keras: dict[str, Any], torch: dict[str, Any],
                 origin: str) -> list[str]:
    inputs = numeric.get("input") or {}
    k_shape = inputs.get("keras")
    to_torch = inputs.get("to_torch")
    kind = inputs.get("dtype", "float")
    high = inputs.get("high")

    def builder(side: dict[str, Any], framework: str) -> list[str]:
        call = side.get("call")
        args = f"({call})" if call is not None else ""
        name = side["name"]
        out = [f"def build_{framework}():",
               f'    """`{name}{args}` from {side["shown"]}."""',
               f"    module = load({framework.upper()}_FILE)",
               f"    value = module.{name}" if name.isidentifier() else
               f"    value = getattr(module, {name!r})"]
        model_type = "keras.layers.Layer" if framework == "keras" else "torch.nn.Module"
        out.append(f"    model = value if isinstance(value, {model_type}) else value{args or '()'}")
        shape = side.get("input_shape")
        if framework == "keras":
            if shape:
                out += ["    if not model.built:  # Sequential and subclassed models need the input shape",
                        "        if isinstance(model, keras.Sequential):",
                        f"            model.build({(None, *shape)!r})",
                        "        else:",
                        f"            model(keras.Input(shape={tuple(shape)!r}))"]
        else:
            out.append("    model.eval()")
        out.append("    return model")
        return out

    out = [
        "def load(path):",
        '    """Import a model file by path, its folder first on sys.path (sibling imports work)."""',
        "    folder = str(Path(path).resolve().parent)",
        "    if folder not in sys.path:",
        "        sys.path.insert(0, folder)",
        "    spec = importlib.util.spec_from_file_location(f\"portlint_mapped_{abs(hash(path))}\", path)",
        "    module = importlib.util.module_from_spec(spec)",
        "    spec.loader.exec_module(module)",
        "    return module",
        "",
        "",
        *builder(keras, "keras"),
        "",
        "",
        *builder(torch, "torch"),
        "",
        "",
        "def check(seed=0):",
        '    """Build both models, copy the weights as `verify --numeric` did, run a random',
        '    batch of 2 through both and return the largest absolute difference of the outputs."""',
        "    keras_model, torch_model = build_keras(), build_torch()",
    ]
    if origin == "keras":
        out.append("    keras_to_torch(keras_model, torch_model)")
    else:
        out.append("    torch_to_keras(torch_model, keras_model)")
    if not k_shape:
        out += ["    raise SystemExit('the input shape is unknown: see `portlint verify --input-shape`')"]
        out += ["", "", "if __name__ == \"__main__\":", "    check()"]
        return out
    if kind == "int":
        out.append(f"    x = np.random.default_rng(seed).integers(0, {high}, {(2, *k_shape)!r})")
        torch_x = "torch.from_numpy(x_torch).long()"
    else:
        out.append(f"    x = np.random.default_rng(seed).standard_normal({(2, *k_shape)!r})"
                   f".astype(np.float32)")
        torch_x = "torch.from_numpy(x_torch)"
    if to_torch and list(to_torch) != list(range(len(to_torch))):
        axes = (0, *[a + 1 for a in to_torch])
        out.append(f"    x_torch = np.ascontiguousarray(x.transpose{axes!r})  # the port's input layout")
    else:
        out.append("    x_torch = x")
    out += [
        "    with torch.no_grad():",
        f"        y_torch = torch_model({torch_x})",
        "    y_keras = keras_model(x, training=False)",
        "    y_keras = arr(y_keras[0] if isinstance(y_keras, (list, tuple)) else y_keras)",
        "    y_torch = y_torch[0] if isinstance(y_torch, (list, tuple)) else y_torch",
        "    y_torch = arr(y_torch)",
        "    if y_torch.shape != y_keras.shape and y_torch.ndim >= 3:",
        "        y_torch = np.moveaxis(y_torch, 1, -1)  # channels first -> channels last",
        "    return float(np.max(np.abs(y_keras - y_torch)))",
        "",
        "",
        'if __name__ == "__main__":',
        "    print(f\"largest absolute difference of the outputs: {check():.3g}\")",
    ]
    return out
