"""`portlint server`: a language server over stdio (pygls, the `server` extra).

On open, change and save it checks the document the way `portlint check FILE` does,
with the editor's unsaved text: the single-file rules on its models and `compare` on
every pair that touches it (configured in pyproject.toml / portlint.toml, or declared
with `# portlint: port-of ...`). Pair findings are located in the port, so editing the
Keras original re-publishes the diagnostics of the torch port too. Fixes come back as
quick-fix code actions. Positions are converted from portlint's code-point columns to
the encoding negotiated with the client (UTF-16 unless the client offers another).

Checks never run on the event loop: a buffer over the size limit is refused on sight,
anything else is checked in a worker process (lint/server_checks.py schedules,
lint/server_pool.py runs them; a check that crashes or runs past its time limit is
reported as a diagnostic and its worker replaced). A document that is not on disk (a new
buffer, an `untitled:` one) is checked from its text under a file name of its own.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from . import __version__
from .cache import finding_from
from .findings import Finding
from .ir import Span
from .source import MAX_BYTES, display_path
from .server_checks import CHANGE_DELAY, OPEN_DELAY, Checks, Outcome

SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning,
            "info": types.DiagnosticSeverity.Information}
DOCS = "https://github.com/portlint/portlint#what-it-checks"


def uri_to_path(uri: str) -> str:
    """The path a document is checked as: its file, or for a buffer of another scheme
    (`untitled:Untitled-1`) a `.py` name of that name in the current directory."""
    parsed = urlparse(uri)
    path = unquote(parsed.path)
    if parsed.scheme in ("file", ""):
        return path
    name = os.path.basename(path.rstrip("/")) or "untitled"
    return os.path.abspath(name if name.endswith((".py", ".pyi", ".ipynb")) else name + ".py")


def path_to_uri(path: str) -> str:
    return Path(os.path.abspath(path)).as_uri()


class PortlintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("portlint", __version__)
        # uri -> the uris whose diagnostics its last check published (to clear them later)
        self.published: dict[str, set[str]] = {}
        self.findings: dict[str, list[Finding]] = {}  # uri -> findings shown there
        self.paths: dict[str, str] = {}  # real path -> uri of the open documents
        self._lines: dict[str, tuple[str, list[str]]] = {}  # uri -> (text, its lines)
        self.checks = Checks(self.open_document, self.overlays, self.refuse, self.publish,
                             self.log)

    def log(self, message: str, kind: types.MessageType = types.MessageType.Log) -> None:
        self.window_log_message(types.LogMessageParams(type=kind, message=message))

    # --- documents -----------------------------------------------------------------------

    def open_document(self, uri: str) -> tuple[str, Any, str] | None:
        """(path, version, text) of an open document; None once it is closed."""
        document = self.workspace.text_documents.get(unquote(uri))
        if document is None:
            return None
        return uri_to_path(uri), document.version, document.source

    def overlays(self) -> dict[str, str]:
        """The unsaved text of the open documents, by path, for the workers. Buffers over
        the size limit are left out: their own check is refused, and copying megabytes to
        each worker on every check would stall the event loop."""
        return {uri_to_path(uri): document.source
                for uri, document in self.workspace.text_documents.items()
                if len(document.source) <= MAX_BYTES}

    def uri_of(self, path: str) -> str:
        return self.paths.get(os.path.realpath(path)) or path_to_uri(path)

    def opened(self, uri: str) -> None:
        self.paths[os.path.realpath(uri_to_path(uri))] = uri
        self.checks.request(uri, OPEN_DELAY)

    def closed(self, uri: str) -> None:
        """Forget the document, and clear what it showed (in other documents only where
        they are not open: their own checks own their diagnostics)."""
        self.checks.close_document(uri)
        self.paths.pop(os.path.realpath(uri_to_path(uri)), None)
        for target in {uri} | {u for u in self.published.pop(uri, set())
                               if unquote(u) not in self.workspace.text_documents}:
            self.findings.pop(target, None)
            self._lines.pop(target, None)
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=target, diagnostics=[]))

    # --- results -------------------------------------------------------------------------

    def refuse(self, uri: str) -> Outcome | None:
        """A buffer over the size limit, refused before anything parses it."""
        from .errors import TooLargeError
        from .source import refuse_large_text

        document = self.open_document(uri)
        if document is None:
            return None
        path, version, text = document
        try:
            refuse_large_text(display_path(path), text)
        except TooLargeError as exc:
            return Outcome(uri, version,
                           {"input_error": str(exc), "line": 1, "severity": "warning"})
        return None

    def publish(self, outcome: Outcome) -> None:
        uri, reply = outcome.uri, outcome.reply
        path = uri_to_path(uri)
        by_uri: dict[str, list[Finding]] = {uri: []}
        if outcome.stopped:
            by_uri[uri] = [_message_finding(f"portlint: {outcome.stopped}", path, 1, "warning")]
        elif "input_error" in reply:
            by_uri[uri] = [_message_finding(reply["input_error"], path, reply["line"],
                                            reply.get("severity", "error"))]
        elif "internal_error" in reply:
            logging.error("portlint failed on %s: %s", path, reply["internal_error"])
            self.log(f"portlint: internal error: {reply['internal_error']}",
                     types.MessageType.Error)
            return
        else:
            for finding in map(finding_from, reply["findings"]):
                if finding.location is not None:
                    by_uri.setdefault(self.uri_of(finding.location.path), []).append(finding)
            for warning in reply["warnings"]:
                self.log(warning, types.MessageType.Warning)
        stale = self.published.get(uri, set()) - set(by_uri)
        for other in stale:
            by_uri[other] = []
        self.published[uri] = {u for u, found in by_uri.items() if found}
        for target, found in by_uri.items():
            self.findings[target] = found
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                uri=target, diagnostics=[self.diagnostic(f, target) for f in found]))

# --- conversions ---------------------------------------------------------------------

    def lines_of(self, uri: str) -> list[str] | tuple[str, ...]:
        """The lines of `uri` (open: its text; else the file), split once per text: a
        publication converts two positions per diagnostic."""
        document = self.workspace.text_documents.get(unquote(uri))
        if document is None:
            try:
                text = Path(uri_to_path(uri)).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):  # a partner file no longer readable
                return []
        else:
            text = document.source
        known = self._lines.get(uri)
        if known is None or known[0] != text:
            known = self._lines[uri] = (text, text.splitlines(True))
        return known[1]

    def position(self, uri: str, line: int, column: int) -> types.Position:
        """portlint's 1-based line and code-point column -> the client's units."""
        if column <= 1:  # a line's start (an input error): no need to split the text
            return types.Position(line=max(line - 1, 0), character=0)
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
            location=types.Location(uri=self.uri_of(r.span.path),
                                    range=self.range(self.uri_of(r.span.path), r.span)),
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
                     for e in fix.edits if self.uri_of(e.span.path) == uri]
            if not edits:
                continue
            actions.append(types.CodeAction(
                title=f"portlint: {fix.title or 'apply fix'} ({finding.code})",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[self.diagnostic(finding, uri)],
                is_preferred=fix.applicability == "safe",
                edit=types.WorkspaceEdit(changes={uri: edits})))
        return actions


def _message_finding(message: str, path: str, line: int, severity: str) -> Finding:
    """An input error (a syntax error while typing), a refusal or a stopped check, as one
    diagnostic at the start of its line."""
    return Finding(code="PTL900", rule="input-error", severity=severity, message=message,
                   location=Span(path, line, 1, line, 1))


def _document_handler(action: Callable[[PortlintServer, str], None]) -> Callable[..., None]:
    """An LSP notification handler that runs `action` on the notified document."""

    def handle(ls: PortlintServer, params: Any) -> None:
        action(ls, params.text_document.uri)

    return handle


def build_server() -> PortlintServer:
    server = PortlintServer()

    # A document opened or saved is checked now; while it is edited, once typing pauses.
    for event, action in (
            (types.TEXT_DOCUMENT_DID_OPEN, PortlintServer.opened),
            (types.TEXT_DOCUMENT_DID_CHANGE, lambda ls, uri: ls.checks.request(uri, CHANGE_DELAY)),
            (types.TEXT_DOCUMENT_DID_SAVE, lambda ls, uri: ls.checks.request(uri, OPEN_DELAY)),
            (types.TEXT_DOCUMENT_DID_CLOSE, PortlintServer.closed)):
        server.feature(event)(_document_handler(action))

    @server.feature(types.INITIALIZED)
    def initialized(ls: PortlintServer, params: types.InitializedParams) -> None:
        ls.checks.start()  # workers import portlint while the editor opens its files

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: PortlintServer, params: Any) -> None:
        ls.checks.close()

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
    def code_action(ls: PortlintServer, params: types.CodeActionParams) -> Any:
        return ls.code_actions(params.text_document.uri, params.range)

    return server


def main() -> None:
    build_server().start_io()
