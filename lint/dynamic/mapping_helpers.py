"""The functions the weight-mapping statements call (`put`, `arr`, the kernel permutations),
as source text: the verify worker executes it before the statements, and the script of
`--emit-mapping` contains it verbatim. Pure standard library (it is only a string here).
"""

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
