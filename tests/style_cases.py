"""The catalogue of model pairs in tests/fixtures/styles/, shared by frontend/test_styles.py (static
analysis only) and frontend/test_real_counts.py (real Keras and PyTorch).

The `counts` of every Model below were obtained by instantiating the model with its
framework; frontend/test_real_counts.py re-checks each of them against the real frameworks, so they
cannot drift. Known portlint bugs are registered per pair and test (`Pair.bugs`) and turn
into strict xfails: fixing a bug makes its xfails pass, and pytest then asks for the entry
to be removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
STYLES = TESTS / "fixtures" / "styles"
BROKEN = STYLES / "broken"
SEED = ROOT / "examples" / "seed"


@dataclass(frozen=True)
class Model:
    """One model file and what its framework says about it."""

    path: Path
    name: str  # the module-level name portlint should pick (builder, variable or class)
    framework: str  # "keras" or "torch"
    # Real counts. Keras: (trainable, non_trainable); torch: (parameters, buffer elements).
    counts: tuple[int, int]
    # Per-sample input in the model's own layout (Keras channels-last, torch channels-first).
    input_shape: tuple[int, ...]
    # Keras subclasses: attribute names of the weighted layers in `call` order (model.layers
    # follows declaration order, which these fixtures deliberately make different).
    call_order: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return str(self.path)

    @property
    def id(self) -> str:
        return self.path.stem


def _k(file: str, name: str, counts: tuple[int, int], shape: tuple[int, ...], **kw) -> Model:
    return Model(STYLES / file, name, "keras", counts, shape, **kw)


def _t(file: str, name: str, counts: tuple[int, int], shape: tuple[int, ...],
       folder: Path = STYLES) -> Model:
    return Model(folder / file, name, "torch", counts, shape)


# --- Keras originals ------------------------------------------------------------------
K_SEQ_LIST = _k("keras_seq_list_input.py", "model", (1493, 16), (12, 12, 3))
K_SEQ_INPUT_SHAPE = _k("keras_seq_input_shape.py", "build_mlp", (1283, 32), (20,))
K_SEQ_ADD = _k("keras_seq_add.py", "build", (18362, 16), (16, 16, 1))
K_FUNCTIONAL = _k("keras_functional.py", "build_model", (79562, 64), (28, 28, 1))
K_SUBCLASS = _k("keras_subclass.py", "SmallNet", (25088, 24), (16, 16, 3),
                call_order=("conv", "bn", "fc", "head"))
K_SEQ_CONV = _k("keras_seq_conv_input_shape.py", "build", (121, 0), (9, 9, 2))
K_SUBCLASS_CALLED = _k("keras_subclass_called.py", "model", (330, 0), (6, 6, 1),
                       call_order=("conv", "out"))
K_GAP = _k("keras_gap.py", "build", (276, 16), (10, 10, 3))

# --- correct PyTorch ports --------------------------------------------------------------
T_SEQ_POSITIONAL = _t("torch_seq_positional.py", "model", (1493, 17), (3, 12, 12))
T_SEQ_ODICT_MODULE = _t("torch_seq_ordereddict_module.py", "model", (1283, 33), (20,))
T_SEQ_ODICT_FACTORY = _t("torch_seq_ordereddict.py", "make_mlp", (1283, 33), (20,))
T_SEQ_COLLECTIONS = _t("torch_seq_collections_ordereddict.py", "model", (1283, 33), (20,))
T_MODULE_ATTRS = _t("torch_module_attrs.py", "ConvNet", (18362, 17), (1, 16, 16))
T_FUNCTIONAL = _t("torch_functional.py", "Net", (79562, 65), (1, 28, 28))
T_VIEW_RESHAPE = _t("torch_view_reshape.py", "SmallNet", (25088, 25), (3, 16, 16))
T_VIEW = _t("torch_view.py", "Tiny", (121, 0), (2, 9, 9))
T_TINY_CNN = _t("torch_tiny_cnn.py", "TinyCNN", (330, 0), (1, 6, 6))
T_GAP = _t("torch_gap.py", "Net", (276, 17), (3, 10, 10))
T_FUNCTIONAL_DROPOUT = _t("torch_functional_dropout.py", "ConvNetF", (18362, 17), (1, 16, 16))

# --- the seed pair ------------------------------------------------------------------------
K_SEED = Model(SEED / "keras_model.py", "build_model", "keras", (13_108_694, 64), (64, 64, 1))
T_SEED = Model(SEED / "torch_model.py", "CustomModel", "torch", (13_108_694, 65), (1, 64, 64))

# --- known portlint bugs (each makes the tests named in its entry xfail, strictly) --------------

# Known portlint bugs: none at present. A pair's `bugs` maps a test name (or ALL_TESTS) to
# the reason, and makes that test a strict xfail; KERAS_MODEL_BUGS does the same for every
# pair a Keras model is part of.
ALL_TESTS = "*"
KERAS_MODEL_BUGS: dict = {}


@dataclass(frozen=True)
class Pair:
    id: str
    keras: Model
    torch: Model
    # Options.input_shape (a Keras subclass declares no input).
    input_shape: tuple[int, ...] | None = None
    # Broken ports: exactly the rules expected at warning/error severity, and the one whose
    # finding must point at the `# BUG` line of the port.
    expect: frozenset[str] = frozenset()
    primary: str | None = None
    # Known portlint bugs: test function name (or ALL_TESTS) -> reason; strict xfail.
    bugs: tuple[tuple[str, str], ...] = ()

    def bug(self, test: str) -> str | None:
        own = dict(self.bugs)
        reason = own.get(ALL_TESTS) or own.get(test)
        return reason or KERAS_MODEL_BUGS.get(self.keras.path, {}).get(test)


CORRECT = [
    Pair("seq_list__seq_positional", K_SEQ_LIST, T_SEQ_POSITIONAL),
    Pair("seq_input_shape__odict_module", K_SEQ_INPUT_SHAPE, T_SEQ_ODICT_MODULE),
    Pair("seq_input_shape__odict_factory", K_SEQ_INPUT_SHAPE, T_SEQ_ODICT_FACTORY),
    Pair("seq_input_shape__collections_odict", K_SEQ_INPUT_SHAPE, T_SEQ_COLLECTIONS),
    Pair("seq_add__module_attrs", K_SEQ_ADD, T_MODULE_ATTRS),
    Pair("functional__functional", K_FUNCTIONAL, T_FUNCTIONAL),
    Pair("subclass__view_reshape", K_SUBCLASS, T_VIEW_RESHAPE, input_shape=(16, 16, 3)),
    Pair("seq_conv_input_shape__view", K_SEQ_CONV, T_VIEW),
    Pair("seq_add__functional_dropout", K_SEQ_ADD, T_FUNCTIONAL_DROPOUT),
    Pair("gap__gap", K_GAP, T_GAP),
    Pair("subclass_called__tiny_cnn", K_SUBCLASS_CALLED, T_TINY_CNN),
]


def _broken(pid: str, keras: Model, copy_of: Model, counts: tuple[int, int],
            expect: set[str], primary: str, input_shape: tuple[int, ...] | None = None) -> Pair:
    """A broken port: a copy of the correct port `copy_of` with one `# BUG` line."""
    port = Model(BROKEN / f"torch_{pid}.py", copy_of.name, "torch", counts, copy_of.input_shape)
    return Pair(pid, keras, port, input_shape, frozenset(expect), primary)


BROKEN_PAIRS = [
    _broken("bn_momentum_copied", K_SEQ_ADD, T_MODULE_ATTRS, (18362, 17),
            {"batchnorm-momentum-mismatch"}, "batchnorm-momentum-mismatch"),
    _broken("bn_eps_default", K_FUNCTIONAL, T_FUNCTIONAL, (79562, 65),
            {"norm-epsilon-mismatch"}, "norm-epsilon-mismatch"),
    _broken("bn_not_affine", K_SEQ_LIST, T_SEQ_POSITIONAL, (1477, 17),
            {"norm-affine-mismatch", "param-count-mismatch"}, "norm-affine-mismatch"),
    _broken("missing_relu", K_SEQ_LIST, T_SEQ_POSITIONAL, (1493, 17),
            {"activation-mismatch"}, "activation-mismatch"),
    _broken("wrong_activation", K_SEQ_INPUT_SHAPE, T_SEQ_ODICT_MODULE, (1283, 33),
            {"activation-mismatch"}, "activation-mismatch"),
    _broken("relu_before_bn", K_SEQ_ADD, T_MODULE_ATTRS, (18362, 17),
            {"activation-order-mismatch"}, "activation-order-mismatch"),
    _broken("logits_head", K_SEQ_CONV, T_VIEW, (121, 0),
            {"output-activation-mismatch"}, "output-activation-mismatch"),
    _broken("flatten_no_permute", K_FUNCTIONAL, T_FUNCTIONAL, (79562, 65),
            {"flatten-layout-mismatch"}, "flatten-layout-mismatch"),
    _broken("dropout_rate", K_SEQ_INPUT_SHAPE, T_SEQ_ODICT_MODULE, (1283, 33),
            {"layer-config-mismatch"}, "layer-config-mismatch"),
    _broken("conv_no_bias", K_SEQ_CONV, T_VIEW, (115, 0),
            {"layer-config-mismatch", "param-count-mismatch"}, "layer-config-mismatch"),
    _broken("missing_bn", K_SEQ_ADD, T_MODULE_ATTRS, (18346, 0),
            {"missing-layer", "param-count-mismatch"}, "missing-layer"),
    _broken("wrong_in_features", K_FUNCTIONAL, T_FUNCTIONAL, (106186, 65),
            {"shape-mismatch", "param-count-mismatch"}, "shape-mismatch"),
    _broken("symmetric_padding", K_SUBCLASS, T_VIEW_RESHAPE, (25088, 25),
            {"same-padding-mismatch"}, "same-padding-mismatch", input_shape=(16, 16, 3)),
]

SEED_PAIR = Pair("seed", K_SEED, T_SEED)

ALL_PAIRS = CORRECT + BROKEN_PAIRS


def options_for(pair: Pair):
    from portlint.compare import Options

    return Options(input_shape=pair.input_shape)


def bug_line(path: Path) -> int:
    """1-based line of the `# BUG` comment of a broken port."""
    lines = [i for i, text in enumerate(path.read_text().splitlines(), 1) if "# BUG" in text]
    assert len(lines) == 1, f"{path}: expected exactly one `# BUG` marker, found {lines}"
    return lines[0]


def pytest_params(pairs, test: str):
    """pytest.param objects with ids, and a strict xfail where a known bug breaks `test`."""
    import pytest

    out = []
    for pair in pairs:
        reason = pair.bug(test)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(pair, id=pair.id, marks=marks))
    return out


def over(pairs):
    """Decorator: parametrize a test over `pairs` as argument `pair`, with strict xfails for
    the known bugs registered against that test's name."""
    import pytest

    def decorate(test):
        return pytest.mark.parametrize("pair", pytest_params(pairs, test.__name__))(test)

    return decorate
