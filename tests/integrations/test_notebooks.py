"""Jupyter notebooks as sources: code cells joined, magics ignored, cell-aware locations."""

from __future__ import annotations

import json
from pathlib import Path

from portlint.compare import compare
from portlint.notebook import read_notebook

from support import SEED_KERAS, SEED_TORCH, portlint


def notebook(cells: list[tuple[str, str]]) -> str:
    return json.dumps({
        "cells": [{"cell_type": kind, "metadata": {}, "source": text.splitlines(keepends=True),
                   **({"outputs": [], "execution_count": None} if kind == "code" else {})}
                  for kind, text in cells],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def seed_port_notebook(tmp_path: Path) -> tuple[Path, int]:
    """The seed port split over cells (markdown, imports, magics + the class); returns
    the path and the BatchNorm2d line within its cell."""
    lines = SEED_TORCH.read_text().splitlines()
    imports = [line for line in lines if line.startswith(("import ", "from "))]
    body = [line for line in lines if line not in imports]
    cell = "%matplotlib inline\n!pip list\n" + "\n".join(body) + "\n"
    bn_line = next(i for i, line in enumerate(cell.splitlines(), 1) if "BatchNorm2d" in line)
    path = tmp_path / "port.ipynb"
    path.write_text(notebook([("markdown", "# The port\n"), ("code", "\n".join(imports) + "\n"),
                              ("code", cell)]))
    return path, bn_line


def test_seed_port_as_notebook_gives_the_same_findings_in_cells(tmp_path):
    path, bn_line = seed_port_notebook(tmp_path)
    from_py = compare(str(SEED_KERAS), str(SEED_TORCH))
    from_nb = compare(str(SEED_KERAS), str(path))
    assert sorted(f.code for f in from_nb.findings) == sorted(f.code for f in from_py.findings)
    momentum = next(f for f in from_nb.findings if f.code == "PTL101")
    assert (momentum.location.cell, momentum.location.cell_line) == (3, bn_line)
    assert momentum.location.shown.startswith(f"{path}:cell 3:{bn_line}:")


def test_text_and_json_show_cell_locations(tmp_path):
    path, bn_line = seed_port_notebook(tmp_path)
    text = portlint("compare", SEED_KERAS, path)
    assert text.returncode == 1
    assert f"{path}:cell 3:{bn_line}:13: PTL101" in text.stdout
    data = json.loads(portlint("compare", SEED_KERAS, path, "--format", "json").stdout)
    location = next(f for f in data["findings"] if f["code"] == "PTL101")["location"]
    assert location["cell"] == 3 and location["cell_line"] == bn_line


def test_keras_model_in_a_notebook_as_the_origin(tmp_path):
    keras_nb = tmp_path / "model.ipynb"
    keras_nb.write_text(notebook([("code", SEED_KERAS.read_text())]))
    result = compare(str(keras_nb), str(SEED_TORCH))
    assert result.alignment.keras.total_counts().trainable == 13_108_694


def test_magics_become_comments_and_lines_stay_put():
    code, cells = read_notebook(notebook([("code", "%%time\nx = 1\n"), ("markdown", "text"),
                                          ("code", "!ls\nimport torch\n%load_ext foo\n")]))
    lines = code.splitlines()
    assert lines[0] == "# %%time" and lines[1] == "# x = 1"  # a cell magic: the whole cell
    assert cells.locate(lines.index("import torch") + 1) == (3, 2)
    assert "# !ls" in lines and "# %load_ext foo" in lines


def test_syntax_error_names_the_cell(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text(notebook([("code", "import torch\n"), ("code", "x = (1,\ny = 2\n")]))
    result = portlint("compare", SEED_KERAS, path)
    assert result.returncode == 2
    assert "cell 2:" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_invalid_notebook_is_an_input_error(tmp_path):
    path = tmp_path / "bad.ipynb"
    path.write_text("{not json")
    result = portlint("compare", SEED_KERAS, path)
    assert result.returncode == 2 and "not a notebook" in result.stderr


def test_fix_does_not_touch_a_notebook(tmp_path):
    path, _ = seed_port_notebook(tmp_path)
    before = path.read_bytes()
    result = portlint("compare", SEED_KERAS, path, "--fix")
    assert result.returncode == 1
    assert path.read_bytes() == before
    assert "notebook" in result.stderr
