"""Which Hugging Face transformers families have a TF and a PyTorch port, and which classes
of each to compare, found by reading the source (ast), never by importing it.

A *family* is one pair of files in one folder under ``transformers/models/``:
``modeling_tf_<s>.py`` next to ``modeling_<s>.py`` (``<s>`` is usually the folder's name; a
few folders hold a second pair, e.g. ``blip/modeling_tf_blip_text.py``, or only a suffixed
one, ``data2vec/modeling_tf_data2vec_vision.py``; each pair counts once, named by ``<s>``).
``auto/`` is left out: its classes are factories that choose a model from a config at run
time, not models. ``models/deprecated/`` is left out unless asked for. In transformers
4.46.3 this gives 69 families (71 with the deprecated ones, where ``transfo_xl_utilities``
is a helper file with no model pair).
"""

from __future__ import annotations

import ast
import re
import importlib.metadata
import json
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

SKIPPED_FOLDERS = ("auto",)  # factories, not models
DEPRECATED = "deprecated"

# The head pair of a family: the first suffix, in this order, with a class on both sides.
HEAD_PREFERENCE = (
    "ForSequenceClassification",
    "ForImageClassification",
    "ForCausalLM",
    "LMHeadModel",
    "ForConditionalGeneration",
    "ForMaskedLM",
    # not asked for by name; a family with none of the above still gets its main head
    "ForCTC",
    "ForAudioClassification",
    "ForQuestionAnswering",
    "ForTokenClassification",
    "ForPreTraining",
    "ForMultipleChoice",
    "MTModel",  # Marian's translation head
)
# Names that end in "Model" but are not base models.
NOT_BASE = ("PreTrainedModel", "LMHeadModel", "HeadsModel", "HeadModel")


@dataclass(frozen=True)
class Family:
    name: str                      # the file stem <s>
    folder: str                    # path of the folder, relative to the import root
    tf_file: str                   # relative to the import root (the folder holding transformers/)
    torch_file: str
    base: tuple[str, str] | None   # (TF class, torch class)
    head: tuple[str, str] | None
    base_note: str = ""            # why there is no base pair, or how it was chosen
    head_suffix: str = ""

    def to_json(self) -> dict:
        return asdict(self)


# --------------------------------------------------------------------------- the source


def locate_source(source: str | None, python: str) -> Path:
    """The `transformers` package folder: `source` if given, else the installed
    distribution of the current interpreter, else that of `python` (asked in a subprocess
    that reads metadata only; neither imports transformers)."""
    if source:
        path = Path(source).resolve()
        if (path / "transformers" / "models").is_dir():
            path = path / "transformers"
        if not (path / "models").is_dir():
            raise SystemExit(f"hf_ports: {source}: not a transformers package folder "
                             f"(no models/ in it)")
        return path
    try:
        return _from_metadata()
    except importlib.metadata.PackageNotFoundError:
        pass
    probe = ("import importlib.metadata as m; d = m.distribution('transformers'); "
             "print(d.locate_file('transformers'))")
    result = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=60)
    if result.returncode == 0 and Path(result.stdout.strip(), "models").is_dir():
        return Path(result.stdout.strip())
    raise SystemExit("hf_ports: transformers is not installed here nor in --python; "
                     "give --source FOLDER (the unpacked transformers package)")


def _from_metadata() -> Path:
    dist = importlib.metadata.distribution("transformers")
    path = Path(str(dist.locate_file("transformers")))
    if not (path / "models").is_dir():
        raise importlib.metadata.PackageNotFoundError("transformers")
    return path


def source_version(package: Path) -> str | None:
    """The version of the transformers at `package`, from its dist-info or __init__.py."""
    for info in sorted(package.parent.glob("transformers-*.dist-info")):
        return info.name[len("transformers-"):-len(".dist-info")]
    init = package / "__init__.py"
    if init.is_file():
        for line in init.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("__version__"):
                return line.split("=", 1)[1].strip().strip("\"'")
    return None


# --------------------------------------------------------------------------- enumeration


def file_pairs(package: Path, deprecated: bool = False) -> list[tuple[Path, str]]:
    """(folder, stem) of every modeling_tf_<stem>.py with a modeling_<stem>.py beside it."""
    models = package / "models"
    folders = [d for d in sorted(models.iterdir()) if d.is_dir()
               and d.name not in SKIPPED_FOLDERS and d.name != DEPRECATED]
    if deprecated and (models / DEPRECATED).is_dir():
        folders += [d for d in sorted((models / DEPRECATED).iterdir()) if d.is_dir()]
    out = []
    for folder in folders:
        for tf_file in sorted(folder.glob("modeling_tf_*.py")):
            stem = tf_file.stem[len("modeling_tf_"):]
            if (folder / f"modeling_{stem}.py").is_file():
                out.append((folder, stem))
    return out


def enumerate_families(package: Path, deprecated: bool = False) -> list[Family]:
    root = package.parent  # the import root: relative imports resolve from here
    families = []
    for folder, stem in file_pairs(package, deprecated):
        tf_path, torch_path = folder / f"modeling_tf_{stem}.py", folder / f"modeling_{stem}.py"
        tf_classes, torch_classes = classes(tf_path), classes(torch_path)
        base, note = base_pair(stem, tf_classes, list(torch_classes))
        head, suffix = head_pair(base, list(tf_classes), list(torch_classes))
        families.append(Family(
            name=stem, folder=str(folder.relative_to(root)),
            tf_file=str(tf_path.relative_to(root)), torch_file=str(torch_path.relative_to(root)),
            base=base, head=head, base_note=note, head_suffix=suffix))
    return families


def classes(path: Path) -> dict[str, list[str]]:
    """Top-level classes of a file, in source order, with the names of their bases;
    {} if it does not parse."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (SyntaxError, ValueError):
        return {}
    return {node.name: [ast.unparse(b).rsplit(".", 1)[-1] for b in node.bases]
            for node in tree.body if isinstance(node, ast.ClassDef)}


def _is_head(name: str) -> bool:
    # "RoFormerModel" and "SwiftFormerModel" contain "For" but are no heads
    return re.search(r"For[A-Z]", name) is not None


def _norm(name: str) -> str:
    return name.replace("_", "").casefold()


def base_pair(stem: str, tf_classes: dict[str, list[str]], torch_classes: list[str]
              ) -> tuple[tuple[str, str] | None, str]:
    """The `TF<X>Model` class whose torch twin `<X>Model` exists. Several candidates (CLIP:
    CLIPModel, CLIPTextModel, CLIPVisionModel; T5: T5Model, T5EncoderModel): the one whose
    <X> is the family's name, else the one that starts with it, else the shortest. No
    `TF<X>Model` at all (DPR: encoders and a reader): the first headless class derived from
    a `...PreTrainedModel`/`...Pretrained...` class, with a note saying so."""
    torch_set = set(torch_classes)
    twins = [c for c in tf_classes if c.startswith("TF") and c[2:] in torch_set]
    candidates = [c for c in twins
                  if c.endswith("Model") and not _is_head(c) and not c.endswith(NOT_BASE)]
    if not candidates:
        own = {c for c in tf_classes if "pretrained" in c.casefold()}
        models = [c for c in twins if not _is_head(c) and c not in own
                  and any(b in own for b in tf_classes[c])]
        if models:
            return (models[0], models[0][2:]), (f"no `TF<X>Model`; took the first model "
                                                f"class, of {', '.join(models)}")
        if not twins:
            return None, "no TF class has a torch twin of the same name"
        return None, "no `TF...Model` class with a torch twin"
    family = _norm(stem)
    for rank, test in enumerate((lambda x: x == family, lambda x: x.startswith(family))):
        hits = [c for c in candidates if test(_norm(c[2:-len("Model")]))]
        if hits:
            note = "" if rank == 0 else f"`{hits[0]}` is named after a longer prefix"
            return (hits[0], hits[0][2:]), note
    best = min(candidates, key=lambda c: (len(c), c))
    return (best, best[2:]), (f"`{best}` is not named after the family; the shortest of "
                              f"{', '.join(candidates)}")


def head_pair(base: tuple[str, str] | None, tf_classes: list[str], torch_classes: list[str]
              ) -> tuple[tuple[str, str] | None, str]:
    """The first HEAD_PREFERENCE suffix with a `TF...<suffix>` class and its torch twin;
    among several with that suffix, the one sharing the base class's prefix. None of them:
    the first other `...For<Task>` twin (IDEFICS, RAG)."""
    torch_set = set(torch_classes)
    prefix = base[1][:-len("Model")] if base else None
    for suffix in HEAD_PREFERENCE:
        hits = [c for c in tf_classes if c.startswith("TF") and c.endswith(suffix)
                and c[2:] in torch_set and not c.endswith("PreTrainedModel")]
        if hits:
            same = [c for c in hits if prefix is not None and c[2:] == prefix + suffix]
            pick = (same or hits)[0]
            return (pick, pick[2:]), suffix
    others = [c for c in tf_classes if c.startswith("TF") and _is_head(c) and c[2:] in torch_set]
    if others:
        return (others[0], others[0][2:]), "other"
    return None, ""


def reference(path: str, cls: str) -> str:
    """The model reference portlint takes: PATH::CLASS, PATH relative to the import root."""
    return f"{path}::{cls}"


def main() -> int:
    """`python bench/hf_families.py [SOURCE]`: print the families as JSON lines."""
    package = locate_source(sys.argv[1] if len(sys.argv) > 1 else None, sys.executable)
    for family in enumerate_families(package):
        print(json.dumps(family.to_json()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
