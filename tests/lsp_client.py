"""A real LSP client (pygls's) driving `portlint server` over stdio, for the server's
tests (tests/integrations/test_server*.py): the diagnostics it received per uri, the
server's log messages, and the seed pair in a project."""

from __future__ import annotations

import asyncio
import collections
import os
import re
import shutil
import sys
import time
from pathlib import Path

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.client import LanguageClient

from support import SEED

TIMEOUT = 60


class Client:
    """A pygls client with the diagnostics it received, per uri."""

    def __init__(self) -> None:
        self.lsp = LanguageClient("portlint-test", "1")
        self.diagnostics: dict[str, list[types.Diagnostic]] = {}
        self.updates = asyncio.Queue()
        self.publications: collections.Counter[str] = collections.Counter()
        self.log: list[str] = []  # the server's window/logMessage messages

        @self.lsp.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: types.PublishDiagnosticsParams) -> None:
            self.diagnostics[params.uri] = params.diagnostics
            self.publications[params.uri] += 1
            self.updates.put_nowait(params.uri)

        @self.lsp.feature(types.WINDOW_LOG_MESSAGE)
        def logged(params: types.LogMessageParams) -> None:
            self.log.append(params.message)

    async def start(self, root: Path, **env: str) -> None:
        """Start the server in `root`, with `env` added to its environment."""
        await self.lsp.start_io(sys.executable, "-m", "portlint", "server", cwd=str(root),
                                env={**os.environ, **env})
        await asyncio.wait_for(self.lsp.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=root.as_uri())), TIMEOUT)
        self.lsp.initialized(types.InitializedParams())

    async def wait_for(self, uri: str, predicate=lambda d: True) -> list[types.Diagnostic]:
        async def loop():
            while True:
                if uri in self.diagnostics and predicate(self.diagnostics[uri]):
                    return self.diagnostics[uri]
                await self.updates.get()
        return await asyncio.wait_for(loop(), TIMEOUT)

    def open(self, path: Path | str, text: str | None = None, version: int = 1) -> str:
        """Open a file (its text unless `text`), or a uri of any scheme with `text`."""
        uri = path.as_uri() if isinstance(path, Path) else path
        self.lsp.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=version,
                                                 text=path.read_text() if text is None else text)))
        return uri

    def change(self, uri: str, text: str, version: int) -> None:
        self.lsp.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))

    def close(self, uri: str) -> None:
        self.lsp.text_document_did_close(types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))

    async def timed_code_action(self, uri: str) -> float:
        """Seconds a codeAction request on `uri` takes to be answered."""
        start = time.monotonic()
        await asyncio.wait_for(self.lsp.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(line=0, character=0),
                              end=types.Position(line=1, character=0)),
            context=types.CodeActionContext(diagnostics=[]))), TIMEOUT)
        return time.monotonic() - start

    async def timed_hover(self, uri: str) -> float:
        """Seconds a hover request on `uri` takes to be answered (an error counts)."""
        start = time.monotonic()
        try:
            await asyncio.wait_for(self.lsp.text_document_hover_async(types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=0, character=0))), TIMEOUT)
        except JsonRpcException:  # method not found: answered all the same
            pass
        return time.monotonic() - start

    def worker_pids(self) -> list[int]:
        """The check workers the server said it started, oldest first."""
        return [int(m.group(1)) for line in self.log
                for m in [re.search(r"check worker started \(pid (\d+)\)", line)] if m]

    async def stop(self) -> None:
        await asyncio.wait_for(self.lsp.shutdown_async(None), TIMEOUT)
        self.lsp.exit(None)
        await self.lsp.stop()


def project(tmp_path: Path, torch_text: str | None = None) -> tuple[Path, Path]:
    """The seed pair in a project whose pyproject.toml declares it."""
    shutil.copy(SEED / "keras_model.py", tmp_path / "keras_model.py")
    port = tmp_path / "torch_model.py"
    port.write_text(torch_text if torch_text is not None else (SEED / "torch_model.py").read_text())
    (tmp_path / "pyproject.toml").write_text(
        '[tool.portlint]\npairs = [{keras = "keras_model.py", torch = "torch_model.py"}]\n')
    return tmp_path / "keras_model.py", port


