"""portlint: static analysis for Keras <-> PyTorch model ports."""

__version__ = "0.1.0"
