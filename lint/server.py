"""`portlint server`: a language server over stdio (pygls, the `server` extra).

On open, change and save it checks the document the way `portlint check FILE` does,
with the editor's unsaved text: the single-file rules on its models and `compare` on
every pair that touches it (configured in pyproject.toml / portlint.toml, or declared
with `# portlint: port-of ...`). Pair findings are located in the port, so editing the
Keras original re-publishes the diagnostics of the torch port too. Fixes come back as
quick-fix code actions. Positions are converted from portlint's code-point columns to
the encoding negotiated with the client (UTF-16 unless the client offers another).

A change is checked once the document has been quiet for `CHANGE_DELAY`: a check runs on
the event loop and blocks it, so checking every keystroke of a burst would queue checks
of versions the user has already replaced (a large model file takes 0.1-0.5 s to check
again, bench/edit_latency.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from . import __version__
from .errors import InputError
from .findings import Finding
from .ir import Span

SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning,
            "info": types.DiagnosticSeverity.Information}
DOCS = "https://github.com/portlint/portlint#what-it-checks"
CHANGE_DELAY = 0.2  # seconds without a change before a changed document is checked


def uri_to_path(uri: str) -> str:
    return unquote(urlparse(uri).path)


def path_to_uri(path: str) -> str:
    return Path(os.path.abspath(path)).as_uri()


class PortlintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("portlint", __version__)
        # uri -> the uris whose diagnostics its last check published (to clear them later)
        self.published: dict[str, set[str]] = {}
        self.findings: dict[str, list[Finding]] = {}  # uri -> findings shown there
        self.pending: dict[str, asyncio.TimerHandle] = {}  # uri -> its scheduled check

    def check_later(self, uri: str) -> None:
        """Check `uri` once no change has come for CHANGE_DELAY (each change restarts it)."""
        self.cancel_pending(uri)
        self.pending[uri] = asyncio.get_running_loop().call_later(
            CHANGE_DELAY, self._check_pending, uri)

    def cancel_pending(self, uri: str) -> None:
        handle = self.pending.pop(uri, None)
        if handle is not None:
            handle.cancel()

    def _check_pending(self, uri: str) -> None:
        self.pending.pop(uri, None)
        self.check_document(uri)

    # --- checking ------------------------------------------------------------------------

    def check_document(self, uri: str) -> None:
        self.cancel_pending(uri)
        from .check import check
        from .config import Settings, discover
        from .source import set_overlay

        path = uri_to_path(uri)
        document = self.workspace.get_text_document(uri)
        set_overlay(path, document.source)
        by_uri: dict[str, list[Finding]] = {uri: []}
        try:
            settings = Settings.make(discover(start=Path(path).parent))
            result = check([path], settings)
            for finding in result.findings:
                if finding.location is not None:
                    by_uri.setdefault(path_to_uri(finding.location.path), []).append(finding)
        except InputError as exc:
            by_uri[uri] = [_input_error_finding(str(exc), path)]
        except Exception as exc:  # an editor must keep working: log, never crash
            logging.exception("portlint failed on %s", path)
            self.window_log_message(types.LogMessageParams(
                type=types.MessageType.Error, message=f"portlint: internal error: {exc}"))
            return
        stale = self.published.get(uri, set()) - set(by_uri)
        for other in stale:
            by_uri[other] = []
        self.published[uri] = {u for u, found in by_uri.items() if found}
        for target, found in by_uri.items():
            self.findings[target] = found
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                uri=target, diagnostics=[self.diagnostic(f, target) for f in found]))

    # --- conversions ---------------------------------------------------------------------

    def lines_of(self, uri: str) -> list[str]:
        document = self.workspace.get_text_document(uri)
        try:
            return document.lines
        except OSError:  # a partner file that is not open and no longer on disk
            return []

    def position(self, uri: str, line: int, column: int) -> types.Position:
        """portlint's 1-based line and code-point column -> the client's units."""
        lines = self.lines_of(uri)
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        prefix = text[:max(column - 1, 0)]
        units = self.workspace.position_codec.client_num_units(prefix)
        return types.Position(line=max(line - 1, 0), character=units)

    def range(self, uri: str, span: Span) -> types.Range:
        return types.Range(start=self.position(uri, span.line, span.column),
                           end=self.position(uri, span.end_line, span.end_column))

    def diagnostic(self, finding: Finding, uri: str) -> types.Diagnostic:
        related = [types.DiagnosticRelatedInformation(
            location=types.Location(uri=path_to_uri(r.span.path),
                                    range=self.range(path_to_uri(r.span.path), r.span)),
            message=r.message) for r in finding.related]
        return types.Diagnostic(
            range=self.range(uri, finding.location),
            message=f"{finding.message} [{finding.rule}]",
            severity=SEVERITY.get(finding.severity, types.DiagnosticSeverity.Information),
            code=finding.code,
            code_description=types.CodeDescription(href=DOCS),
            source="portlint",
            related_information=related or None,
            data={"fixable": finding.fix is not None},
        )

    def code_actions(self, uri: str, wanted: types.Range) -> list[types.CodeAction]:
        actions = []
        for finding in self.findings.get(uri, []):
            fix = finding.fix
            if fix is None or finding.location is None:
                continue
            where = self.range(uri, finding.location)
            if where.end.line < wanted.start.line or where.start.line > wanted.end.line:
                continue
            edits = [types.TextEdit(range=self.range(uri, e.span), new_text=e.content)
                     for e in fix.edits if path_to_uri(e.span.path) == uri]
            if not edits:
                continue
            actions.append(types.CodeAction(
                title=f"portlint: {fix.title or 'apply fix'} ({finding.code})",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[self.diagnostic(finding, uri)],
                is_preferred=fix.applicability == "safe",
                edit=types.WorkspaceEdit(changes={uri: edits})))
        return actions


def _input_error_finding(message: str, path: str) -> Finding:
    """An input error (a syntax error while typing) as one diagnostic at its line."""
    line = 1
    rest = message[len(path) + 1:] if message.startswith(path + ":") else ""
    head = rest.split(":", 1)[0]
    if head.isdigit():
        line = int(head)
    return Finding(code="PTL900", rule="input-error", severity="error", message=message,
                   location=Span(path, line, 1, line, 1))


def _document_handler(action: Callable[[PortlintServer, str], None]) -> Callable[..., None]:
    """An LSP notification handler that runs `action` on the notified document."""

    def handle(ls: PortlintServer, params: Any) -> None:
        action(ls, params.text_document.uri)

    return handle


def build_server() -> PortlintServer:
    server = PortlintServer()

    # A document opened or saved is checked now; while it is edited, once typing pauses.
    for event, action in ((types.TEXT_DOCUMENT_DID_OPEN, PortlintServer.check_document),
                          (types.TEXT_DOCUMENT_DID_CHANGE, PortlintServer.check_later),
                          (types.TEXT_DOCUMENT_DID_SAVE, PortlintServer.check_document)):
        server.feature(event)(_document_handler(action))

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: PortlintServer, params: types.DidCloseTextDocumentParams) -> None:
        from .source import set_overlay

        ls.cancel_pending(params.text_document.uri)
        set_overlay(uri_to_path(params.text_document.uri), None)

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
    def code_action(ls: PortlintServer, params: types.CodeActionParams) -> Any:
        return ls.code_actions(params.text_document.uri, params.range)

    return server


def main() -> None:
    build_server().start_io()
