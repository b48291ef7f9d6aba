"""Outputs of `portlint compare` on real model-zoo pairs of the benchmark corpus
(bench/corpus.py), written one file per pair, so that a refactoring can be checked
against real code, not only the fixtures (tests/golden.py):

    python scripts/real_golden.py OUT_DIR [--python PY] [--corpus DIR]
    diff -r BEFORE_DIR AFTER_DIR

Nothing here is committed output: the corpus lives outside the repository.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

CORPUS = Path(os.environ.get("PORTLINT_BENCH_CACHE", Path.home() / ".cache" / "portlint-bench")) / "corpus"
APPS = "keras/src/applications"
VISION = "torchvision/models"
HF = "transformers/models"

PAIRS = {
    "resnet50": (f"{APPS}/resnet.py::ResNet50", f"{VISION}/resnet.py::resnet50"),
    "densenet121": (f"{APPS}/densenet.py::DenseNet121", f"{VISION}/densenet.py::densenet121"),
    "mobilenet_v2": (f"{APPS}/mobilenet_v2.py::MobileNetV2", f"{VISION}/mobilenetv2.py::mobilenet_v2"),
    "mobilenet_v3": (f"{APPS}/mobilenet_v3.py::MobileNetV3Large", f"{VISION}/mobilenetv3.py::mobilenet_v3_large"),
    "vgg16": (f"{APPS}/vgg16.py::VGG16", f"{VISION}/vgg.py::vgg16"),
    "inception_v3": (f"{APPS}/inception_v3.py::InceptionV3", f"{VISION}/inception.py::inception_v3"),
    "convnext_tiny": (f"{APPS}/convnext.py::ConvNeXtTiny", f"{VISION}/convnext.py::convnext_tiny"),
    "efficientnet_b0": (f"{APPS}/efficientnet.py::EfficientNetB0", f"{VISION}/efficientnet.py::efficientnet_b0"),
}
for arch in ("bert", "gpt2", "vit", "resnet", "convnext", "distilbert", "roberta", "t5",
             "swin", "clip", "mobilenet_v2", "efficientnet"):
    tf, pt = f"{HF}/{arch}/modeling_tf_{arch}.py", f"{HF}/{arch}/modeling_{arch}.py"
    PAIRS[f"hf_{arch}"] = (pt, tf)


def run(python: str, corpus: Path, args: list[str]) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTLINT_")}
    env["PYTHONHASHSEED"] = "0"
    result = subprocess.run([python, "-m", "portlint", *args, "--format", "json"], cwd=corpus,
                            env=env, capture_output=True, timeout=600)
    return (f"exit: {result.returncode}\n--- stdout\n{result.stdout.decode('utf-8', 'replace')}"
            f"--- stderr\n{result.stderr.decode('utf-8', 'replace')}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    ns = parser.parse_args()
    jobs = {name: ["compare", *refs] for name, refs in PAIRS.items()}
    jobs["check_corpus"] = ["check", ".", "--no-cache"]
    ns.out.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=2) as pool:
        texts = pool.map(lambda args: run(ns.python, ns.corpus, args), jobs.values())
        for name, text in zip(jobs, texts):
            (ns.out / f"{name}.txt").write_text(text, encoding="utf-8")
    print(f"wrote {len(jobs)} files to {ns.out}")


if __name__ == "__main__":
    main()
