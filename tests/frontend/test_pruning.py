"""`compare FILE::MODEL` parses only the top-level definitions MODEL can reach
(lint/pruning.py), and reads as if the whole file had been parsed: same graphs, same
findings at the same places."""

from __future__ import annotations

import json
import textwrap

from portlint import compare as compare_module
from portlint import source as source_module
from portlint.compare import Options, compare
from portlint.pruning import needed_text
from tests.support import FIXTURES, portlint

TEXT = textwrap.dedent("""\
    import torch
    from torch import nn

    WIDTH = 4


    class Base(nn.Module):
        pass


    class Block(Base):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(WIDTH, WIDTH)


    CLASSES = {"block": Block}


    class Helper:
        pass


    def make():
        return Helper()


    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = CLASSES["block"]()
            self.out = nn.Linear(WIDTH, 2)


    class Unused(nn.Module):
        '''Not reached from Head.'''

        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)


    @decorated
    def unused_too():
        return make()
    """)


def test_only_definitions_the_model_reaches_are_kept():
    pruned, numbers = needed_text(TEXT, ["Head"])
    # Block through the CLASSES assignment (statements that run are always kept), Base
    # as Block's base; Helper and make are mentioned by nothing that runs for Head.
    for kept in ("class Head", "class Block", "class Base", "CLASSES = ", "WIDTH = 4"):
        assert kept in pruned
    for dropped in ("class Unused", "def unused_too", "@decorated", "class Helper", "def make"):
        assert dropped not in pruned
    lines = TEXT.splitlines()
    assert [lines[n - 1] for n in numbers] == pruned.splitlines()


def test_nothing_is_pruned_without_a_top_level_definition_of_the_model():
    assert needed_text(TEXT, ["Missing"]) is None
    assert needed_text(TEXT, []) is None
    assert needed_text("x = (\n", ["x"]) is None  # a syntax error: the whole file reports it
    everything = "from torch import nn\n\n\nclass A(nn.Module):\n    pass\n"
    assert needed_text(everything, ["A"]) is None  # nothing to drop


def _compare_json(monkeypatch, prune: bool, origin: str, port: str) -> dict:
    monkeypatch.setattr(source_module, "_PARSED", type(source_module._PARSED)())
    monkeypatch.setattr(source_module, "_PRUNED", {})
    if not prune:
        monkeypatch.setattr(compare_module, "read_for_models",
                            lambda path, models: source_module.read_source(path))
    result = compare(origin, port, Options())
    findings = [(f.rule, f.message, f.location.path, f.location.line, f.location.column,
                 f.location.end_line, f.location.end_column)
                for f in result.findings if f.location is not None]
    return {"pair": result.to_json(), "findings": findings}


def test_a_pruned_parse_gives_the_whole_parses_result(monkeypatch):
    tf = str(FIXTURES / "hf" / "transformers" / "models" / "tinygpt" / "modeling_tf_tinygpt.py")
    torch = str(FIXTURES / "hf_style" / "tinyhf" / "modeling_tiny.py")
    origin, port = f"{tf}::TFTinyGPTModel", f"{torch}::TinyModel"
    whole = _compare_json(monkeypatch, False, origin, port)
    pruned = _compare_json(monkeypatch, True, origin, port)
    assert pruned == whole
    assert any((n.get("location") or {}).get("path") == tf
               for n in whole["pair"]["keras"]["nodes"])


def test_spans_after_a_definition_left_out_are_the_files(tmp_path, monkeypatch):
    (tmp_path / "k.py").write_text(textwrap.dedent("""\
        import keras
        from keras import layers


        def build():
            inputs = keras.Input(shape=(8,))
            return keras.Model(inputs, layers.Dense(4, activation="relu")(inputs))
        """))
    (tmp_path / "t.py").write_text(textwrap.dedent("""\
        from torch import nn


        class Unused(nn.Module):
            # Left out: nothing Net runs mentions it.

            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(3, 3)


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 4)

            def forward(self, x):
                return self.fc(x)
        """))
    origin, port = f"{tmp_path / 'k.py'}::build", f"{tmp_path / 't.py'}::Net"
    whole = _compare_json(monkeypatch, False, origin, port)
    pruned = _compare_json(monkeypatch, True, origin, port)
    assert pruned == whole
    lines = [line for rule, _, path, line, *_ in whole["findings"] if path.endswith("t.py")]
    assert lines and min(lines) > 10  # below Unused, at the lines of the file


def test_a_suppression_in_a_pruned_file_still_applies(tmp_path):
    (tmp_path / "k.py").write_text(textwrap.dedent("""\
        import keras
        from keras import layers


        def build():
            inputs = keras.Input(shape=(8,))
            return keras.Model(inputs, layers.Dense(4, activation="relu")(inputs))


        def unused():
            return None
        """))
    (tmp_path / "t.py").write_text(textwrap.dedent("""\
        from torch import nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 4)

            def forward(self, x):
                return self.fc(x)


        class Other(nn.Module):
            pass
        """))

    def mismatches() -> list[int]:
        run = portlint("compare", "k.py::build", "t.py::Net", "--format", "json", cwd=tmp_path)
        assert run.returncode in (0, 1), run.stderr
        return [f["location"]["line"] for f in json.loads(run.stdout)["findings"]
                if f["rule"] == "activation-mismatch"]

    found = mismatches()
    assert found  # the port loses Dense's relu
    lines = (tmp_path / "t.py").read_text().splitlines()
    lines[found[0] - 1] += "  # noqa: PTL401"
    (tmp_path / "t.py").write_text("\n".join(lines) + "\n")
    assert mismatches() == []  # suppressed on its line, read from the file's text
