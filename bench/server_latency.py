"""How `portlint server` answers while it checks: request latency during a slow check,
and the time to refuse a too-large file.

    python bench/server_latency.py [--runs 5] [--layers 6000]

Each run starts the real server over stdio (pygls's client) in a scratch project holding
the seed pair and a generated, valid torch model of `--layers` layers (6,000: ~750 KB, a
check of several seconds, like the 758 KB file of issue 20). With the seed port open and
checked, it times a re-check of the seed port (an edit, its 0.2 s debounce included),
opens the generated file and, while that check runs, times 10 codeAction requests and the
same re-check again; then it opens an 11 MB buffer and times its "too large" diagnostic
(from before the client serialises the open, and from once it is written). Prints one
JSON object: the per-run numbers and their medians.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

SEED = Path(__file__).resolve().parents[1] / "examples" / "seed"


def generated_model(layers: int) -> str:
    init = [f"        self.layer_{i} = nn.Linear(64, 64, bias=True)  # block {i}"
            for i in range(layers)]
    forward = [f"        x = torch.relu(self.layer_{i}(x))  # block {i}" for i in range(layers)]
    return "\n".join(["import torch", "from torch import nn", "", "",
                      "class Big(nn.Module):", "    def __init__(self):",
                      "        super().__init__()", *init, "", "    def forward(self, x):",
                      *forward, "        return x", ""])


async def one_run(root: Path, big_text: str) -> dict[str, float]:
    client = LanguageClient("bench", "1")
    port = root / "torch_model.py"
    published: dict[str, float] = {}
    arrived = asyncio.Event()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_publish(params: types.PublishDiagnosticsParams) -> None:
        published[params.uri] = time.monotonic()
        arrived.set()

    @client.feature(types.WINDOW_LOG_MESSAGE)
    def on_log(params: types.LogMessageParams) -> None:
        pass

    async def wait(uri: str, after: float) -> float:
        while published.get(uri, 0) <= after:
            arrived.clear()
            await asyncio.wait_for(arrived.wait(), 120)
        return published[uri] - after

    def open_doc(path: Path, text: str) -> str:
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=path.as_uri(), language_id="python",
                                                 version=1, text=text)))
        return path.as_uri()

    async def recheck(uri: str, version: int) -> float:
        """Seconds from an edit of the seed port to its diagnostics (0.2 s debounce)."""
        start = time.monotonic()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(
                text=port.read_text() + "\n" * version)]))
        return await wait(uri, start)

    await client.start_io(sys.executable, "-m", "portlint", "server", cwd=str(root))
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities(),
                                                         root_uri=root.as_uri()))
    client.initialized(types.InitializedParams())
    port_uri = open_doc(port, port.read_text())
    await wait(port_uri, 0)
    baseline = await recheck(port_uri, 2)
    opened = time.monotonic()
    big_uri = open_doc(root / "big_model.py", big_text)
    await asyncio.sleep(0.3)
    latencies = []
    for _ in range(10):
        start = time.monotonic()
        await client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=port_uri),
            range=types.Range(start=types.Position(line=0, character=0),
                              end=types.Position(line=1, character=0)),
            context=types.CodeActionContext(diagnostics=[])))
        latencies.append(time.monotonic() - start)
    second = await recheck(port_uri, 3)
    big_done = await wait(big_uri, opened)
    start = time.monotonic()
    huge_uri = open_doc(root / "huge_model.py", big_text * 15)
    sent = time.monotonic()
    refused = await wait(huge_uri, start)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return {"request_median_s": statistics.median(latencies), "request_max_s": max(latencies),
            "recheck_idle_s": baseline, "recheck_during_slow_check_s": second,
            "slow_check_s": big_done, "too_large_refused_s": refused,
            "too_large_refused_after_sending_s": refused - (sent - start),
            "too_large_bytes": len(big_text * 15)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--layers", type=int, default=6000)
    args = ap.parse_args()
    big_text = generated_model(args.layers)
    runs = []
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        for name in ("keras_model.py", "torch_model.py"):
            shutil.copy(SEED / name, root / name)
        (root / "pyproject.toml").write_text(
            '[tool.portlint]\npairs = [{keras = "keras_model.py", torch = "torch_model.py"}]\n')
        for _ in range(args.runs):
            runs.append(asyncio.run(one_run(root, big_text)))
    medians = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    print(json.dumps({"slow_file_bytes": len(big_text), "runs": runs, "median": medians},
                     indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
