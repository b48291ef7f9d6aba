"""The benchmark corpus: real model code taken from pinned PyPI wheels.

    python bench/corpus.py [--cache DIR] [--corpus DIR] [--force]

Downloads (``pip download --no-deps``, no dependency resolution, nothing installed) the
pinned wheels below into ``CACHE/wheels`` and extracts only the model files into
``CACHE/corpus`` (default cache ``~/.cache/portlint-bench``), keeping each package's own
layout (``torchvision/models/...``, ``keras/src/applications/...``, ``timm/models/...``,
``transformers/models/<arch>/...``) so that relative imports stay as they are:

* torchvision: ``torchvision/models/**/*.py``
* Keras Applications: ``keras/src/applications/*.py``
* timm: ``timm/models/*.py`` (the model files; not the ``layers`` package)
* transformers 4.x (the last line that ships ``modeling_tf_*.py``): for each architecture
  in ``TRANSFORMERS_ARCHS``, ``modeling_<arch>.py``, ``modeling_tf_<arch>.py`` (where the
  architecture has a TF port) and ``configuration_<arch>.py``

It writes ``CORPUS.json`` (versions, wheel names and SHA-256, file counts and bytes per
source) and ``MANIFEST.tsv`` (path, bytes) into the corpus. A corpus whose CORPUS.json
matches the pins is reused as it is. ``extract_package`` also unpacks a whole package from
a wheel (``scripts/robustness.py`` uses it for transformers, which is not installed in the
project's environment).
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

DEFAULT_CACHE = Path(os.environ.get("PORTLINT_BENCH_CACHE",
                                    Path.home() / ".cache" / "portlint-bench"))

# Pinned so that two runs (and two machines) measure the same bytes. torchvision's wheel is
# platform specific (compiled ops); only its .py files are used. transformers 4.57.6 is the
# newest 4.x release: 5.0 removed the TensorFlow (and Flax) modeling files.
PINS = {
    "torchvision": "0.29.1",
    "keras": "3.15.1",
    "timm": "1.0.31",
    "transformers": "4.57.6",
}

# Whole packages, not installed in the project's environment, that scripts/robustness.py
# checks from their wheels: top-level package -> (distribution, version).
ROBUSTNESS_WHEELS = {
    "transformers": ("transformers", PINS["transformers"]),
    "timm": ("timm", PINS["timm"]),
    "torchvision": ("torchvision", PINS["torchvision"]),
    "tf_keras": ("tf-keras", "2.21.0"),
    "keras_hub": ("keras-hub", "0.32.0"),
    "diffusers": ("diffusers", "0.42.1"),
    "tensorflow_probability": ("tensorflow-probability", "0.25.0"),
    "jax": ("jax", "0.10.2"),
    "flax": ("flax", "0.12.8"),
    "scipy": ("scipy", "1.17.1"),
    "pandas": ("pandas", "3.1.1"),
    "sklearn": ("scikit-learn", "1.9.1"),
}

TRANSFORMERS_ARCHS = ("bert", "gpt2", "vit", "resnet", "convnext", "t5", "roberta",
                      "distilbert", "mobilenet_v2", "efficientnet", "swin", "clip")


def _transformers_patterns() -> list[str]:
    out = []
    for arch in TRANSFORMERS_ARCHS:
        base = f"transformers/models/{arch}/"
        out += [f"{base}modeling_{arch}.py", f"{base}modeling_tf_{arch}.py",
                f"{base}configuration_{arch}.py"]
    return out


# source name -> (distribution, fnmatch patterns on the wheel member name)
SOURCES: dict[str, tuple[str, list[str]]] = {
    "torchvision": ("torchvision", ["torchvision/models/*.py"]),  # fnmatch's * crosses /
    "keras-applications": ("keras", ["keras/src/applications/*.py"]),
    "timm": ("timm", ["timm/models/*.py"]),
    "transformers": ("transformers", _transformers_patterns()),
}


def _only_top_level(pattern: str, name: str) -> bool:
    """`keras/src/applications/*.py` and `timm/models/*.py` mean the directory itself, not
    its subpackages; torchvision's models are wanted with their subpackages."""
    if pattern.startswith("torchvision/"):
        return True
    prefix = pattern.rsplit("/", 1)[0] + "/"
    return "/" not in name[len(prefix):]


def wheel_path(cache: Path, dist: str, version: str | None = None) -> Path:
    """The cached wheel of `dist` (downloaded once with `pip download --no-deps`)."""
    version = version or PINS[dist]
    wheels = cache / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    norm = dist.replace("-", "_").lower()
    for path in sorted(wheels.glob("*.whl")):
        name, _, rest = path.name.partition("-")
        if name.lower() == norm and rest.startswith(version + "-"):
            return path
    with tempfile.TemporaryDirectory(prefix="portlint-bench-dl-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
               "--disable-pip-version-check", "-q", "-d", tmp, f"{dist}=={version}"]
        print(f"corpus: {' '.join(cmd[2:])}", file=sys.stderr, flush=True)
        subprocess.run(cmd, check=True)
        got = sorted(Path(tmp).glob("*.whl"))
        if len(got) != 1:
            raise SystemExit(f"corpus: expected one wheel for {dist}=={version}, got {got}")
        target = wheels / got[0].name
        shutil.move(str(got[0]), target)
    return target


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build(cache: Path = DEFAULT_CACHE, corpus: Path | None = None, force: bool = False,
          quiet: bool = False) -> dict:
    """Build (or reuse) the corpus; returns its CORPUS.json data (plus `root`)."""
    corpus = Path(corpus) if corpus else cache / "corpus"
    meta_path = corpus / "CORPUS.json"
    if meta_path.is_file() and not force:
        meta = json.loads(meta_path.read_text())
        if meta.get("pins") == PINS and meta.get("archs") == list(TRANSFORMERS_ARCHS):
            meta["root"] = str(corpus)
            return meta
    tmp = corpus.with_name(corpus.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    sources: dict[str, dict] = {}
    wheels: dict[str, dict] = {}
    manifest: list[tuple[str, int]] = []
    for source, (dist, patterns) in SOURCES.items():
        whl = wheel_path(cache, dist)
        wheels[dist] = {"file": whl.name, "sha256": sha256(whl)}
        count = size = 0
        with zipfile.ZipFile(whl) as archive:
            for name in sorted(archive.namelist()):
                if not any(fnmatch.fnmatchcase(name, p) and _only_top_level(p, name)
                           for p in patterns):
                    continue
                data = archive.read(name)
                target = tmp / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                manifest.append((name, len(data)))
                count += 1
                size += len(data)
        sources[source] = {"distribution": dist, "version": PINS[dist], "files": count,
                           "bytes": size}
    manifest.sort()
    (tmp / "MANIFEST.tsv").write_text("".join(f"{p}\t{n}\n" for p, n in manifest))
    meta = {
        "pins": PINS,
        "archs": list(TRANSFORMERS_ARCHS),
        "wheels": wheels,
        "sources": sources,
        "files": len(manifest),
        "bytes": sum(n for _, n in manifest),
        "lines": sum((tmp / p).read_bytes().count(b"\n") for p, _ in manifest),
    }
    (tmp / "CORPUS.json").write_text(json.dumps(meta, indent=2) + "\n")
    shutil.rmtree(corpus, ignore_errors=True)
    tmp.rename(corpus)
    if not quiet:
        print(f"corpus: {corpus}: {meta['files']} files, {meta['bytes']:,} bytes",
              file=sys.stderr)
    meta["root"] = str(corpus)
    return meta


def corpus_files(root: Path) -> list[Path]:
    """The corpus's Python files, in MANIFEST order."""
    manifest = Path(root) / "MANIFEST.tsv"
    return [Path(root) / line.split("\t", 1)[0]
            for line in manifest.read_text().splitlines() if line.strip()]


def extract_package(cache: Path, dist: str, version: str | None = None,
                    top: str | None = None) -> Path:
    """Unpack every `.py` file of `dist`'s wheel under CACHE/packages/DIST-VERSION and
    return the directory of its top-level package `top` (default: `dist`)."""
    version = version or PINS.get(dist)
    if version is None:
        raise SystemExit(f"no pinned version for {dist}; give one")
    top = top or dist.replace("-", "_")
    root = cache / "packages" / f"{dist}-{version}"
    done = root / ".complete"
    if not done.is_file():
        whl = wheel_path(cache, dist, version)
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        with zipfile.ZipFile(whl) as archive:
            for name in archive.namelist():
                if name.endswith(".py") and ".dist-info/" not in name:
                    target = root / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(archive.read(name))
        done.write_text(f"{whl.name}\n")
    return root / top


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--corpus", type=Path, default=None,
                    help="corpus directory (default: CACHE/corpus)")
    ap.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = ap.parse_args()
    meta = build(args.cache, args.corpus, args.force)
    print(json.dumps({k: meta[k] for k in ("root", "files", "bytes", "lines", "sources")},
                     indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
