"""What a user names -> the checkpoint behind it -> the model: one way for the CLI and for Python.

    >>> import zoo
    >>> model = zoo.load("lstm-3x512.warpeace")     # a released model
    >>> model = zoo.load("lstm-3x512")              # its default variant (the first with weights)
    >>> model = zoo.load("runs/lstm-2x128.sample")  # a run: its best epoch
    >>> model = zoo.load("hf:org/name@<commit>")    # a Hub checkpoint, pulled once, verified

A name resolves, in order, to a checkpoint directory (or a run's best epoch), a Hub checkpoint,
or a registry name's weights: shipped inside the package, released in the repository's
`released/` folder (a clone has them offline), or pinned on the Hub.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from .errors import ZooError


def _say(text: str) -> None:
    print(f"zoo: {text}", file=sys.stderr, flush=True)


def locate(spec: str, announce: bool = True, analyses: bool = False) -> Path:
    """The directory behind `spec` (see the module's docstring). Hub checkpoints are pulled into
    the Hugging Face cache on first use; `announce` says on stderr where a name led."""
    from . import hub
    from .registry import resolve_weights

    if Path(spec).is_dir():
        return Path(spec)
    on_hub = hub.parse_spec(spec)
    if on_hub:
        path = hub.pull(*on_hub, progress=announce, analyses=analyses)
        if announce:
            _say(f"using {spec} from the Hugging Face cache: {path}")
        return path
    if spec.startswith("hf:"):
        raise ZooError(f"'{spec}' is not a Hub checkpoint's name: write hf:ORG/NAME@REVISION")
    if Path(spec).exists():
        raise ZooError(f"{spec} is a file, not a checkpoint or run directory")
    if "/" in spec or os.sep in spec:  # registry names hold no slash: this was meant as a folder
        raise ZooError(f"no checkpoint or run directory at {spec}")
    named, where = resolve_weights(spec)
    if named.name != spec and announce:
        _say(f"{spec} is {named.name}, the first of its variants with weights")
    if isinstance(where, Path):
        return where
    return hub.pull(where["repo_id"], where["revision"], where.get("sha256"), progress=announce, analyses=analyses)


def load(spec: str | Path, device: str = "cpu", announce: bool = False) -> Any:
    """The model behind `spec`, in eval mode on `device` ("auto": a GPU if there is one), with its
    vocabulary; ``model.checkpoint`` is the directory it came from. A checkpoint saved without a
    vocabulary is refused: every use of a loaded model reads text."""
    from .checkpoint import checkpoint_dir, load_checkpoint
    from .devices import pick_device

    path = checkpoint_dir(locate(str(spec), announce=announce))
    model = load_checkpoint(path)
    if getattr(model, "vocab", None) is None:
        raise ZooError(f"{path} has no vocabulary: it cannot read text")
    if hasattr(model, "to"):
        model = model.to(pick_device(device))
    model.checkpoint = path
    return model
