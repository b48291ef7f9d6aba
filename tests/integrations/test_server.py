"""`portlint server` driven by a real LSP client (pygls's) over stdio: diagnostics on
open and change, the partner file re-published, quick fixes, UTF-16 positions."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("pygls")
from lsprotocol import types  # noqa: E402

from lsp_client import TIMEOUT, Client, project  # noqa: E402
from support import SEED  # noqa: E402


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines()) if needle in line)


def run(coro):
    return asyncio.run(coro)


def test_diagnostics_on_open_point_at_the_right_lines(tmp_path):
    keras_file, port = project(tmp_path)
    text = port.read_text()

    async def scenario():
        client = Client()
        await client.start(tmp_path)
        uri = client.open(port)
        found = await client.wait_for(uri, lambda d: len(d) > 0)
        await client.stop()
        return found

    found = run(scenario())
    by_code = {d.code: d for d in found}
    assert {"PTL101", "PTL102", "PTL201", "PTL401", "PTL404"} <= set(by_code)
    assert by_code["PTL101"].range.start.line == line_of(text, "nn.BatchNorm2d")
    assert by_code["PTL101"].severity == types.DiagnosticSeverity.Error
    assert by_code["PTL101"].source == "portlint"
    related = by_code["PTL101"].related_information
    assert related and related[0].location.uri == keras_file.as_uri()


def test_code_action_fixes_the_momentum(tmp_path):
    _, port = project(tmp_path)
    text = port.read_text()

    async def scenario():
        client = Client()
        await client.start(tmp_path)
        uri = client.open(port)
        found = await client.wait_for(uri, lambda d: any(x.code == "PTL101" for x in d))
        momentum = next(d for d in found if d.code == "PTL101")
        actions = await asyncio.wait_for(client.lsp.text_document_code_action_async(
            types.CodeActionParams(text_document=types.TextDocumentIdentifier(uri=uri),
                                   range=momentum.range,
                                   context=types.CodeActionContext(diagnostics=[momentum]))), TIMEOUT)
        # Apply the edit the way an editor would, and send the new text.
        action = next(a for a in actions if "PTL101" in a.title)
        new_text = apply_edits(text, action.edit.changes[uri])
        client.change(uri, new_text, 2)
        after = await client.wait_for(uri, lambda d: not any(x.code == "PTL101" for x in d))
        await client.stop()
        return new_text, after

    new_text, after = run(scenario())
    assert "momentum=0.85" in new_text
    assert not any(d.code == "PTL101" for d in after)
    assert port.read_text() == text  # the server never writes files


def test_editing_the_original_republishes_the_port(tmp_path):
    keras_file, port = project(tmp_path)
    keras_text = keras_file.read_text()

    async def scenario():
        client = Client()
        await client.start(tmp_path)
        port_uri = client.open(port)
        await client.wait_for(port_uri, lambda d: any(x.code == "PTL101" for x in d))
        keras_uri = client.open(keras_file)
        # Make the Keras momentum torch's default equivalent: the port's PTL101 goes away.
        client.change(keras_uri, keras_text.replace("momentum=0.15", "momentum=0.9"), 2)
        after = await client.wait_for(port_uri, lambda d: not any(x.code == "PTL101" for x in d))
        await client.stop()
        return after

    after = run(scenario())
    assert any(d.code == "PTL102" for d in after)  # the epsilon is still wrong


def test_a_burst_of_changes_is_checked_once_at_its_last_version(tmp_path):
    """Typing sends a change per keystroke; checking each would queue checks of versions
    already replaced. Sixteen changes in a burst: the diagnostics are those of the last
    version, published about once."""
    _, port = project(tmp_path)
    text = port.read_text()
    bn = "nn.BatchNorm2d(num_features=32)"
    typed = "nn.BatchNorm2d(num_features=32, momentum=0.85)"
    assert bn in text

    async def scenario():
        client = Client()
        await client.start(tmp_path)
        uri = client.open(port)
        await client.wait_for(uri, lambda d: any(x.code == "PTL101" for x in d))
        before = client.publications[uri]
        # Type `, momentum=0.85` one character at a time (most versions do not parse).
        for n in range(len(typed) - len(bn) + 1):
            partial = typed[:len(bn) - 1] + typed[len(bn) - 1:len(bn) - 1 + n] + ")"
            client.change(uri, text.replace(bn, partial), 2 + n)
        final = await client.wait_for(uri, lambda d: {x.code for x in d} >= {"PTL102"}
                                      and not any(x.code == "PTL101" for x in d))
        await asyncio.sleep(1.0)  # a check still queued would publish within this
        await client.stop()
        return final, client.publications[uri] - before, len(typed) - len(bn) + 1

    final, publications, changes = run(scenario())
    assert changes == 16
    assert not any(d.code == "PTL900" for d in final)  # the last version parses
    assert 1 <= publications <= 3, publications


def test_columns_are_utf16_code_units_on_non_ascii_lines(tmp_path):
    text = (SEED / "torch_model.py").read_text()
    anchor = "            nn.BatchNorm2d(num_features=32),"
    assert anchor in text
    # A string with an astral character (two UTF-16 units) before the layer on its line.
    text = text.replace(anchor, '            ("é😀", None)[1] or nn.BatchNorm2d(num_features=32),')
    _, port = project(tmp_path, text)
    line = text.splitlines()[line_of(text, "nn.BatchNorm2d")]
    code_points = line.index("nn.BatchNorm2d")
    utf16 = len(line[:code_points].encode("utf-16-le")) // 2
    assert utf16 == code_points + 1

    async def scenario():
        client = Client()
        await client.start(tmp_path)
        uri = client.open(port)
        found = await client.wait_for(uri, lambda d: any(x.code == "PTL101" for x in d))
        await client.stop()
        return found

    momentum = next(d for d in run(scenario()) if d.code == "PTL101")
    assert momentum.range.start.character == utf16


def test_syntax_error_while_typing_is_one_diagnostic_on_its_line(tmp_path):
    """The error names the file relative to the server's directory, the editor gives it
    absolute: both are resolved before the line is taken (it was shown at line 0)."""
    _, port = project(tmp_path)
    text = port.read_text().replace("def forward(self, x):", "def forward(self, x:")

    async def scenario():
        client = Client()
        await client.start(tmp_path)
        uri = client.open(port, text)
        found = await client.wait_for(uri, lambda d: len(d) > 0)
        await client.stop()
        return found

    found = run(scenario())
    assert len(found) == 1 and "syntax error" in found[0].message
    assert found[0].range.start.line == line_of(text, "def forward(self, x:") > 0


def apply_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP edits (UTF-16 positions) to `text`, last first."""
    lines = text.splitlines(keepends=True)

    def offset(position: types.Position) -> int:
        line = lines[position.line]
        units, index = 0, 0
        while units < position.character and index < len(line):
            units += len(line[index].encode("utf-16-le")) // 2
            index += 1
        return sum(len(x) for x in lines[:position.line]) + index

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        start, end = offset(edit.range.start), offset(edit.range.end)
        text = text[:start] + edit.new_text + text[end:]
        lines = text.splitlines(keepends=True)
    return text
