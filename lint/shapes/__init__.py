"""Static shape inference and convention-aware weight counting over an IR graph.

`inference` fills each node's shapes and layout and, through `counting`, its parameter
and buffer counts; `windows` holds the shape rules of convolutions, pooling and other
spatial resizing, `axes` the shape and layout helpers they share.
"""

from .inference import infer

__all__ = ["infer"]
