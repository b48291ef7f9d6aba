"""Colour and the progress bar, on a real terminal: portlint runs with a pty (python's `pty`
module) as its stdout or stderr, and the bytes it wrote there are read back. Colour must
appear on a terminal and nowhere else (NO_COLOR, TERM=dumb, `--color never`, a pipe, the
machine formats); the progress bar must appear on a terminal's stderr only, never on
stdout, and only for a run longer than the delay (PORTLINT_PROGRESS_DELAY lowers it)."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import SOFTMAX_NET, TIMEOUT, cli_env, portlint, shown, write

SGR = re.compile(rb"\x1b\[[0-9;]*m")
BAR = b"portlint: checking ["


def on_pty(*args, cwd: Path, tty: str = "stdout", env: dict | None = None) -> tuple:
    """Run `python -m portlint ARGS` with a pty as its `tty` stream ("stdout" or "stderr")
    and a pipe as the other; returns (exit code, bytes on the pty, bytes on the pipe)."""
    environment = cli_env(TERM="xterm-256color")
    for name in ("NO_COLOR", "FORCE_COLOR", "PORTLINT_PROGRESS_DELAY"):
        environment.pop(name, None)
    environment.update(env or {})
    master, slave = pty.openpty()
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, tty: slave}
    proc = subprocess.Popen([sys.executable, "-m", "portlint", *map(str, args)], cwd=cwd,
                            env=environment, stdin=subprocess.DEVNULL, **streams)
    os.close(slave)
    seen = bytearray()
    deadline = time.monotonic() + TIMEOUT
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        other = (proc.stderr if tty == "stdout" else proc.stdout).read()
        code = proc.wait(timeout=TIMEOUT)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return code, bytes(seen), other


@pytest.fixture
def net(tmp_path: Path) -> Path:
    return write(tmp_path / "net.py", SOFTMAX_NET)


# --------------------------------------------------------------------------- colour


@pytest.mark.parametrize("form", ["text", "concise"])
def test_a_terminal_gets_colour(net, form):
    code, out, _ = on_pty("check", net.name, "--format", form, cwd=net.parent)
    assert code == 1, out
    assert b"\x1b[1;31mPTL801\x1b[0m" in out  # the rule code
    assert b"\x1b[1mnet.py:8:24\x1b[0m" in out  # the location
    if form == "text":
        assert b"\x1b[1;33mwarning\x1b[0m" in out and b"\x1b[36m8\x1b[0m |" in out


def test_colour_only_wraps_the_fields(net):
    _, coloured, _ = on_pty("check", net.name, cwd=net.parent)
    plain = portlint("check", net.name, cwd=net.parent, text=False)
    # the pty turns \n into \r\n; without the SGR sequences the bytes are the piped ones
    assert SGR.sub(b"", coloured).replace(b"\r\n", b"\n") == plain.stdout


@pytest.mark.parametrize("env, args", [
    ({"NO_COLOR": "1"}, ()),
    ({"NO_COLOR": "yes", "FORCE_COLOR": "1"}, ()),  # NO_COLOR wins over FORCE_COLOR
    ({"TERM": "dumb"}, ()),
    ({}, ("--color", "never")),
    ({"FORCE_COLOR": "1"}, ("--color", "never")),
])
def test_no_colour_when_asked(net, env, args):
    code, out, _ = on_pty("check", net.name, *args, cwd=net.parent, env=env)
    assert code == 1 and b"PTL801" in out
    assert b"\x1b" not in out, out


def test_an_empty_no_color_does_not_disable(net):
    _, out, _ = on_pty("check", net.name, cwd=net.parent, env={"NO_COLOR": ""})
    assert SGR.search(out), out


def test_a_pipe_gets_no_colour_unless_forced(net):
    piped = portlint("check", net.name, cwd=net.parent, env={"TERM": "xterm"})
    assert piped.returncode == 1 and "PTL801" in piped.stdout and "\x1b" not in piped.stdout
    for extra, env in ((("--color", "always"), {}), ((), {"FORCE_COLOR": "1"})):
        forced = portlint("check", net.name, *extra, cwd=net.parent, env=env)
        assert "\x1b[1;31mPTL801\x1b[0m" in forced.stdout, shown(forced)


@pytest.mark.parametrize("form", ["json", "sarif", "github", "rdjson"])
def test_machine_formats_are_never_coloured(net, form):
    code, out, _ = on_pty("check", net.name, "--format", form, "--color", "always",
                          cwd=net.parent)
    assert code == 1 and b"PTL801" in out
    assert b"\x1b" not in out


def test_compare_colours_too(tmp_path):
    from support import seed_pair

    keras, torch = seed_pair(tmp_path)
    code, out, _ = on_pty("compare", keras, torch, cwd=tmp_path)
    assert code == 1 and b"\x1b[1;31mPTL101\x1b[0m" in out
    code, out, _ = on_pty("compare", keras, torch, "--color", "never", cwd=tmp_path)
    assert code == 1 and b"\x1b" not in out


# --------------------------------------------------------------------------- progress


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for index in range(6):
        write(tmp_path / "pkg" / f"net{index}.py", SOFTMAX_NET)
    return tmp_path


def test_progress_on_a_terminal_after_the_delay(tree):
    code, err, out = on_pty("check", "pkg", "-j", "1", "--no-cache", cwd=tree, tty="stderr",
                            env={"PORTLINT_PROGRESS_DELAY": "0"})
    assert code == 1, err
    assert BAR in err and b"6/6 files" in err, err
    assert err.rfind(b"\r\x1b[2K") > err.rfind(BAR)  # erased at the end
    assert b"checking" not in out and b"\x1b" not in out and out.count(b"PTL801") == 6


def test_no_progress_for_a_quick_run(tree):
    # the default delay (1 s) is longer than a check of six small files
    code, err, _ = on_pty("check", "pkg", "-j", "1", "--no-cache", cwd=tree, tty="stderr")
    assert code == 1 and BAR not in err, err


def test_no_progress_when_piped_or_quiet(tree):
    piped = portlint("check", "pkg", "-j", "1", "--no-cache", cwd=tree,
                     env={"PORTLINT_PROGRESS_DELAY": "0"})
    assert piped.returncode == 1 and "checking [" not in piped.stderr + piped.stdout
    code, err, _ = on_pty("check", "pkg", "-j", "1", "--no-cache", "-q", cwd=tree,
                          tty="stderr", env={"PORTLINT_PROGRESS_DELAY": "0"})
    assert code == 1 and BAR not in err


def test_progress_with_workers(tree):
    code, err, out = on_pty("check", "pkg", "-j", "2", "--no-cache", cwd=tree, tty="stderr",
                            env={"PORTLINT_PROGRESS_DELAY": "0"})
    assert code == 1 and out.count(b"PTL801") == 6
    assert b"6/6 files" in err, err


TORCHVISION = Path("/work/corpora/torchvision-0.29.1/torchvision/models")


@pytest.mark.slow
@pytest.mark.skipif(not TORCHVISION.is_dir(), reason="needs the torchvision corpus")
def test_progress_on_a_real_long_check(tmp_path):
    # torchvision's models take several seconds: the bar appears at the default delay
    code, err, out = on_pty("check", TORCHVISION, "--no-cache", "--exit-zero", cwd=tmp_path,
                            tty="stderr")
    assert code == 0, err[-2000:]
    assert BAR in err and b" files" in err
    assert b"checking [" not in out
