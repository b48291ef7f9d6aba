"""The source of the PyPI port packages that bench/pypi_ports.py reads: downloaded with pip
(`pip download --no-deps`, a wheel where there is one, else the sdist) into a cache folder
and unpacked into one `site/` folder laid out like site-packages, one top-level package per
folder. Nothing is installed, imported or copied into the repository.

pip prepares an sdist's metadata before saving it (for efficientnet_pytorch 0.7.1, which has
no wheel, it runs that package's setup.py in an isolated build environment); that is pip's
step, the harness itself never runs or imports the packages.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

# (distribution, version): the packages of issue 19, Keras ports and the PyTorch code they
# port. image-classifiers and Keras-Applications are what segmentation-models and
# efficientnet import their backbones and helpers from.
PACKAGES = (
    ("keras-cv-attention-models", "1.4.3"),
    ("timm", "1.0.31"),
    ("vit-keras", "0.2.0"),
    ("efficientnet", "1.1.1"),
    ("efficientnet_pytorch", "0.7.1"),
    ("keras-tcn", "3.5.7"),
    ("pytorch-tcn", "1.2.3"),
    ("segmentation-models", "1.0.1"),
    ("segmentation-models-pytorch", "0.6.0"),
    ("image-classifiers", "1.0.0"),
    ("Keras-Applications", "1.0.8"),
)
UNPACKED_MARK = ".unpacked-{name}-{version}"


def normalized(name: str) -> str:
    """PEP 503 form of a distribution name (wheel and sdist file names spell it variously)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def default_cache() -> Path:
    return Path.home() / ".cache" / "portlint-bench" / "pypi"


def _archive(downloads: Path, name: str, version: str) -> Path | None:
    """The downloaded wheel (preferred) or sdist of NAME==VERSION, if it is there."""
    found = []
    for path in downloads.iterdir() if downloads.is_dir() else ():
        stem = re.sub(r"(\.tar\.gz|\.zip|\.whl)$", "", path.name)
        dist, _, rest = stem.partition("-")
        if normalized(dist) == normalized(name) and rest.split("-")[0] == version:
            found.append(path)
    found.sort(key=lambda p: (not p.name.endswith(".whl"), p.name))
    return found[0] if found else None


def download(python: str, downloads: Path, name: str, version: str, timeout: float = 600) -> Path:
    """The archive of NAME==VERSION in `downloads`, fetched by pip when it is not there yet."""
    have = _archive(downloads, name, version)
    if have is not None:
        return have
    downloads.mkdir(parents=True, exist_ok=True)
    errors = []
    for binary in (("--only-binary", ":all:"), ("--no-binary", ":all:")):
        cmd = [python, "-m", "pip", "download", "--no-deps", *binary, "--disable-pip-version-check",
               "-d", str(downloads), f"{name}=={version}"]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        have = _archive(downloads, name, version)
        if done.returncode == 0 and have is not None:
            return have
        errors.append((done.stderr.strip().splitlines() or ["?"])[-1])
    raise SystemExit(f"pypi_ports: cannot download {name}=={version}: {'; '.join(errors)}")


def unpack(archive: Path, site: Path, name: str, version: str) -> None:
    """Unpack a wheel as it is (its top level is already site-packages'), or an sdist's
    top-level packages and modules (its setup files, tests and docs are left out)."""
    mark = site / UNPACKED_MARK.format(name=normalized(name), version=version)
    if mark.exists():
        return
    site.mkdir(parents=True, exist_ok=True)
    if archive.name.endswith(".whl"):
        with zipfile.ZipFile(archive) as wheel:
            wheel.extractall(site)
    else:
        staging = site / f".sdist-{normalized(name)}"
        shutil.rmtree(staging, ignore_errors=True)
        with tarfile.open(archive) as sdist:
            sdist.extractall(staging, filter="data")
        top = next((p for p in staging.iterdir() if p.is_dir()), staging)
        for item in top.iterdir():
            package = item.is_dir() and (item / "__init__.py").is_file()
            if package or (item.suffix == ".py" and item.name != "setup.py"):
                target = site / item.name
                if target.exists():
                    shutil.rmtree(target) if target.is_dir() else target.unlink()
                shutil.move(str(item), str(target))
        shutil.rmtree(staging, ignore_errors=True)
    mark.write_text(f"{archive.name}\n")


def fetch(python: str, cache: Path, packages=PACKAGES) -> Path:
    """Download and unpack every package; returns the `site/` folder."""
    site = cache / "site"
    for name, version in packages:
        archive = download(python, cache / "downloads", name, version)
        unpack(archive, site, name, version)
        print(f"pypi_ports: {name} {version}: {archive.name}", file=sys.stderr, flush=True)
    return site


def versions(site: Path) -> dict[str, str]:
    """Distribution -> version, from the unpack marks, else the wheels' *.dist-info folders."""
    found = {}
    for path in sorted(site.glob("*.dist-info")):
        dist, _, version = path.name[:-len(".dist-info")].partition("-")
        found[normalized(dist)] = version
    for path in sorted(site.glob(".unpacked-*")):
        for name, version in PACKAGES:
            if path.name == UNPACKED_MARK.format(name=normalized(name), version=version):
                found[normalized(name)] = version
    return found
