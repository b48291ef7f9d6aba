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
`LINKERS` holds one handler per op; a new mappable op is one entry there.

When one side lacks a link's tensors (a layer without bias, BatchNormalization with
center=False): the other side's tensors are set to their neutral value (0 for a bias or
a shift, 1 for a scale or a variance) when they are the destination; when they are the
source, the weights cannot be transferred and the pair is reported as unmappable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

from ..knowledge.ops import Op

KERAS_TO_TORCH = "keras_to_torch"
TORCH_TO_KERAS = "torch_to_keras"
DIRECTIONS = (KERAS_TO_TORCH, TORCH_TO_KERAS)


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


# A pair's links and its description (Keras -> torch, torch -> Keras), or why it cannot be mapped.
Planned = Union[tuple[list[Link], tuple[str, str]], str]
# The shape of a Keras attribute path ("a|b": the first that exists), None when absent.
Shape = Callable[[str], Optional[tuple]]

BIAS = Link("bias", ("bias",), ("bias",), ("put({t0}, arr({k0}))",),
            ("put({k0}, arr({t0}))",), 0.0)
SCALE = Link("scale (gamma)", ("gamma",), ("weight",), ("put({t0}, arr({k0}))",),
             ("put({k0}, arr({t0}))",), 1.0)
SHIFT = Link("shift (beta)", ("beta",), ("bias",), ("put({t0}, arr({k0}))",),
             ("put({k0}, arr({t0}))",), 0.0)
# How a Dense's Flatten/Reshape side names the channels-last map, by its spatial rank.
CHANNELS_LAST = {1: "(L, C)", 2: "(H, W, C)", 3: "(D, H, W, C)"}


def links(entry: dict[str, Any], keras_shapes: dict[str, tuple | None]) -> Planned:
    """The links of an aligned pair and a description of the conversion, or a reason why
    the pair cannot be mapped. The description is (Keras -> torch, torch -> Keras).
    `keras_shapes`: shape of each Keras attribute path that
    exists (None when it is None), as the worker found them."""
    op = entry["op"]

    def shape(path: str) -> tuple | None:
        for candidate in path.split("|"):
            if candidate in keras_shapes:
                return keras_shapes[candidate]
        return None

    linker = LINKERS.get(op)
    planned = linker(entry, shape) if linker is not None else None
    return planned if planned is not None else \
        f"portlint does not know how to map the weights of a {op} layer"


def _conv_links(entry: dict[str, Any], shape: Shape) -> Planned | None:
    op, part = entry["op"], entry.get("part")
    if part == "depthwise":
        return None  # a depthwise half is a depthwise_conv, never a conv
    path = "pointwise_kernel" if part == "pointwise" else "kernel"
    kernel = shape(path)
    if kernel is None:
        return "the Keras layer has no kernel"
    rank = len(kernel) - 2
    to_torch, to_keras = conv_axes(rank)
    io = "out, in" if op == Op.CONV else "in, out"
    oi = "in, out" if op == Op.CONV else "out, in"
    note = " (the pointwise half of SeparableConv)" if part == "pointwise" else ""
    keras_side = f"kernel ({_spatial(rank)}, {oi})"
    torch_side = f"weight ({io}, {_spatial(rank)})"
    described = (f"{keras_side} -> {torch_side}{note}", f"{torch_side} -> {keras_side}{note}")
    return [Link("kernel", (path,), ("weight",),
                 (f"put({{t0}}, arr({{k0}}).transpose({_axes(to_torch)}))",),
                 (f"put({{k0}}, arr({{t0}}).transpose({_axes(to_keras)}))",)),
            BIAS], described


def _depthwise_links(entry: dict[str, Any], shape: Shape) -> Planned:
    part = entry.get("part")
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
        out.append(BIAS)  # a SeparableConv's bias belongs to its pointwise half
    return out, described


def _dense_links(entry: dict[str, Any], shape: Shape) -> Planned:
    flat, unflat = entry.get("flatten"), entry.get("unflatten")
    if flat and unflat:
        return ("the Dense reads a Flatten and feeds a Reshape that the port orders "
                "channels first on both sides: not supported yet")
    if unflat:
        return _unflatten_dense_links(unflat)
    if flat:
        spatial = tuple(flat["spatial"])
        channels = flat["channels"]
        dims = ", ".join(map(str, spatial))
        spatial_text = repr(tuple(int(d) for d in spatial))
        kernel = Link("kernel", ("kernel",), ("weight",),
                      (f"put({{t0}}, flatten_to_torch(arr({{k0}}), {spatial_text}, {channels}))",),
                      (f"put({{k0}}, flatten_to_keras(arr({{t0}}), {spatial_text}, {channels}))",))
        names = CHANNELS_LAST.get(len(spatial), "(*S, C)")
        why = (f"the inputs permuted: Keras flattens {names} = ({dims}, {channels}), torch "
               f"channels first")
        described = (f"kernel (in, out) -> weight (out, in), {why}",
                     f"weight (out, in) -> kernel (in, out), {why}")
    else:
        kernel = Link("kernel", ("kernel",), ("weight",), ("put({t0}, arr({k0}).T)",),
                      ("put({k0}, arr({t0}).T)",))
        described = ("kernel (in, out) -> weight (out, in)",
                     "weight (out, in) -> kernel (in, out)")
    return [kernel, BIAS], described


def _unflatten_dense_links(unflat: dict[str, Any]) -> Planned:
    """A Dense whose outputs Keras reshapes channels last and torch views channels first."""
    spatial = tuple(int(d) for d in unflat["spatial"])
    channels = unflat["channels"]
    args = f"{spatial!r}, {channels}"
    names = CHANNELS_LAST.get(len(spatial), "(*S, C)")
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


def _batch_norm_links(entry: dict[str, Any], shape: Shape) -> Planned:
    return [SCALE, SHIFT,
            Link("moving mean", ("moving_mean",), ("running_mean",),
                 ("put({t0}, arr({k0}))",), ("put({k0}, arr({t0}))",)),
            Link("moving variance", ("moving_variance",), ("running_var",),
                 ("put({t0}, arr({k0}))",), ("put({k0}, arr({t0}))",))], \
        ("gamma, beta, moving_mean, moving_variance -> weight, bias, running_mean, running_var",
         "weight, bias, running_mean, running_var -> gamma, beta, moving_mean, moving_variance")


def _affine_norm_links(entry: dict[str, Any], shape: Shape) -> Planned:
    return [SCALE, SHIFT], ("gamma, beta -> weight, bias", "weight, bias -> gamma, beta")


def _rms_norm_links(entry: dict[str, Any], shape: Shape) -> Planned:
    return [Link("scale", ("scale|gamma",), ("weight",), ("put({t0}, arr({k0}))",),
                 ("put({k0}, arr({t0}))",), 1.0)], ("scale -> weight", "weight -> scale")


def _embedding_links(entry: dict[str, Any], shape: Shape) -> Planned:
    return [Link("embeddings", ("embeddings",), ("weight",), ("put({t0}, arr({k0}))",),
                 ("put({k0}, arr({t0}))",))], ("embeddings (V, D) -> weight (V, D)",
                                             "weight (V, D) -> embeddings (V, D)")


def _rnn_links(entry: dict[str, Any], shape: Shape) -> Planned:
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


# op -> handler(entry, shape) -> Planned (None: the op's generic "cannot map" message).
LINKERS: dict[Op, Callable[[dict[str, Any], Shape], Planned | None]] = {
    Op.CONV: _conv_links,
    Op.CONV_TRANSPOSE: _conv_links,
    Op.DEPTHWISE_CONV: _depthwise_links,
    Op.DENSE: _dense_links,
    Op.BATCH_NORM: _batch_norm_links,
    Op.LAYER_NORM: _affine_norm_links,
    Op.GROUP_NORM: _affine_norm_links,  # torch InstanceNorm is a group_norm in the IR
    Op.RMS_NORM: _rms_norm_links,
    Op.EMBEDDING: _embedding_links,
    Op.RNN: _rnn_links,
}


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
