"""No network in the verify worker (unless `verify --allow-downloads`).

verify builds models to count their weights and compare their outputs: it never needs
pretrained weights, and a download would make it slow, flaky and dependent on a server.
Before any framework is imported, `block()` sets the hubs' offline switches and makes every
connection or name lookup to a host other than this machine fail with `DownloadBlocked`,
recording the first attempt (the URL when it went through urllib, the host otherwise, and
the library function that made it) so the worker can say what tried to download.

Runs in the worker process; pure standard library.
"""

from __future__ import annotations

import os
import socket
import sys
import urllib.request
from typing import Any

# Offline switches of the hubs model code downloads from (Hugging Face's libraries check
# these before any request; torch hub and Keras have none, the socket block covers them).
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
               "HF_HUB_DISABLE_TELEMETRY": "1"}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0", ""}
# Frames of the machinery below a download call, skipped when naming who downloads.
PLUMBING = ("/socket.py", "/ssl.py", "/urllib/", "/http/", "/urllib3/", "/requests/",
            "/httpx/", "/httpcore/", __file__.replace("\\", "/"))

ATTEMPTS: list[dict[str, Any]] = []  # the blocked attempts, first one first


class DownloadBlocked(OSError):
    """Raised by the blocked network calls (an OSError, as a failed connection is)."""


def block() -> None:
    os.environ.update(OFFLINE_ENV)
    real_open = urllib.request.OpenerDirector.open

    def guarded_open(self: Any, fullurl: Any, *args: Any, **kwargs: Any) -> Any:
        url = fullurl if isinstance(fullurl, str) else getattr(fullurl, "full_url", str(fullurl))
        if not url.startswith(("file:", "data:")):
            _refuse(url)
        return real_open(self, fullurl, *args, **kwargs)

    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> Any:
        _check_address(self, address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        _check_address(self, address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _local(host):
            _refuse(_host_text(host, args[0] if args else kwargs.get("port")))
        return real_getaddrinfo(host, *args, **kwargs)

    urllib.request.OpenerDirector.open = guarded_open
    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
    socket.getaddrinfo = getaddrinfo


def first_attempt() -> dict[str, Any] | None:
    return ATTEMPTS[0] if ATTEMPTS else None


def describe_attempt(attempt: dict[str, Any]) -> str:
    """"`keras.src.utils.file_utils.get_file` tried to download https://...": one phrase."""
    caller = attempt.get("caller")
    who = f"`{caller}`" if caller else "the model code"
    return f"{who} tried to download {attempt['target']}"


def _check_address(sock: socket.socket, address: Any) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple) \
            and not _local(address[0]):
        _refuse(_host_text(address[0], address[1] if len(address) > 1 else None))


def _local(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    return host is None or str(host) in LOCAL_HOSTS or str(host).startswith("127.")


def _host_text(host: Any, port: Any) -> str:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    return f"{host}:{port}" if port not in (None, "") else str(host)


def _refuse(target: str) -> None:
    if not ATTEMPTS or ATTEMPTS[-1]["target"] != target:
        ATTEMPTS.append({"target": target[:300], "caller": _caller()})
    raise DownloadBlocked(f"network access blocked by portlint verify: {target[:300]} "
                          f"(--allow-downloads permits it)")


def _caller() -> str | None:
    """The innermost function above the network machinery, as `module.function`."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename.replace("\\", "/")
        if not any(part in filename for part in PLUMBING):
            module = frame.f_globals.get("__name__", "")
            name = frame.f_code.co_name
            return f"{module}.{name}" if module and module != "__main__" else name
        frame = frame.f_back
    return None
