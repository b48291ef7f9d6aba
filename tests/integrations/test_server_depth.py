"""`portlint server` on a buffer nested deeper than Python allows (issue 20): libcst's
parser died with SIGSEGV on 1,500 nested brackets and took the server with it, so the
editor lost portlint for every file. The parse now refuses such text first: one syntax
error diagnostic at its line, and the server goes on answering for the other files."""

from __future__ import annotations

from test_server import Client, project, run  # the real server over stdio


def test_deeply_nested_buffer_is_a_syntax_error_and_the_server_lives_on(tmp_path):
    keras_file, port = project(tmp_path)
    deep = port.read_text() + "\nX = " + "(" * 1500 + "1" + ")" * 1500 + "\n"
    deep_line = len(deep.splitlines()) - 1

    async def scenario():
        client = Client()
        await client.start(tmp_path)
        uri = client.open(port, deep)
        refused = await client.wait_for(uri, lambda d: len(d) > 0)
        client.change(uri, port.read_text(), 2)  # the user undoes it: checked as usual
        checked = await client.wait_for(uri, lambda d: any(x.code == "PTL101" for x in d))
        await client.stop()
        return refused, checked

    refused, checked = run(scenario())
    assert len(refused) == 1, refused
    assert "too many nested parentheses" in refused[0].message
    # The message names the line (the diagnostic's range is the server's: issue 20.4).
    assert f"torch_model.py:{deep_line + 1}:" in refused[0].message
    assert any(d.code == "PTL101" for d in checked)
