"""The released models: add a trained checkpoint to the set, and publish the set on the Hub.

Every released model is a Hub-ready folder in the repository, ``released/<registry name>/``
(exactly what `zoo push` publishes: weights, public config.json, model card, and the reports of
its analyses under ``analyses/``), and a ``released:`` field on its registry entry (the test
figure). Publishing adds a ``hub:`` pin (the commit and the files' sha256) to each entry, so an
installed wheel, which has no ``released/`` folder, pulls the same files by name.

    python tools/release.py add RUN --name lstm-3x64.warpeace --data warpeace.txt
    python tools/release.py add CHECKPOINT --name lstm-3x512.warpeace --data warpeace.txt \\
        --dtype float16 --history training-run.json
    python tools/release.py publish --org rnn-zoo --dry-run     # what each repository would receive
    python tools/release.py publish --org rnn-zoo               # push every folder, then pin them

`add` scores the checkpoint on its test split, makes its reports (`--analyses`) and writes the
folder; with `--dtype float16` (or bfloat16) the weights are stored in half the space, and only
if the test figure moves by less than `--tolerance` nats/char (the card says by how much).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
RELEASED = ROOT / "released"
REGISTRY = ROOT / "registry.yaml"
ANALYSES = "cells,saturation,line-ends"


def zoo(*args: str) -> str:
    """Run a zoo command; its stdout, or exit with its one-line error."""
    done = subprocess.run([sys.executable, "-m", "zoo", *args], capture_output=True, text=True)
    if done.returncode:
        lines = done.stderr.strip().splitlines()
        sys.exit(f"zoo {' '.join(args)}: {lines[-1] if lines else done.returncode}")
    return done.stdout


def repo_name(name: str) -> str:
    """The Hub repository's name for a registry name (the Hub allows dots, but a name reads better
    without them in a URL): lstm-3x512.warpeace -> lstm-3x512-warpeace."""
    return name.replace(".", "-")


def set_entry(registry: Path, name: str, **fields) -> None:
    """Set `fields` on the registry entry `name`, rewriting its one line (``  name: {...}``) and
    nothing else, so the file's comments and layout stay; checked against the schema after."""
    from zoo.errors import ZooError
    from zoo.registry import Registry

    lines = registry.read_text(encoding="utf-8").splitlines(keepends=True)
    at = [i for i, line in enumerate(lines) if line.startswith(f"  {name}:")]
    if len(at) != 1:
        sys.exit(f"{registry}: no one-line entry for {name} (write it as `  {name}: {{...}}`)")
    entry = yaml.safe_load(lines[at[0]])[name] or {}
    if not isinstance(entry, dict) or lines[at[0] + 1: at[0] + 2] and lines[at[0] + 1].startswith("    "):
        sys.exit(f"{registry}: the entry for {name} spans several lines; write it on one line first")
    entry.update(fields)
    text = yaml.safe_dump({name: entry}, default_flow_style=True, sort_keys=False, width=10**6).strip()
    lines[at[0]] = f"  {text.removeprefix('{').removesuffix('}')}\n"
    updated = "".join(lines)
    with tempfile.TemporaryDirectory() as tmp:  # the new file must still be a valid registry
        check = Path(tmp) / "registry.yaml"
        check.write_text(updated, encoding="utf-8")
        try:
            Registry(check)
        except ZooError as exc:
            sys.exit(f"{registry}: not changed, the entry would be invalid: {exc}")
    from zoo.fileio import atomic_write

    atomic_write(registry, updated)


def add(args) -> None:
    import torch  # noqa: F401  (the conversion below needs it; fail here, not half-way)

    from zoo.analysis import get_analyzer
    from zoo.checkpoint import checkpoint_dir, load_checkpoint, read_config, update_config
    from zoo.hub import _run_history
    from zoo.registry import Registry

    spec = Registry(args.registry).models.get(args.name)
    if spec is None:
        sys.exit(f"{args.name} is not in {args.registry}")
    source = checkpoint_dir(args.checkpoint)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / args.name
        work.mkdir()
        for file in ("model.safetensors", "config.json"):
            shutil.copyfile(source / file, work / file)
        history = (json.loads(args.history.read_text())["history"] if args.history else
                   _run_history(source).get("history"))
        saved = read_config(work)
        dataset = {**saved.get("dataset", {}), "name": spec.dataset, "source": spec.dataset}
        update_config(work, dataset=dataset, **({"history": history} if history else {}))
        figure = evaluate(work, args.data)
        if args.dtype != "float32":
            full = figure
            store_as(work, args.dtype)
            figure = evaluate(work, args.data)
            change = figure["nats"] - full["nats"]
            if abs(change) >= args.tolerance:
                sys.exit(f"{args.dtype} moves the test figure by {change:+.2e} nats/char (tolerance {args.tolerance}): "
                         "release it in float32")
            update_config(work, storage={"dtype": args.dtype, "trained": "float32", "test_change": change})
        update_config(work, metrics={"test_nats": figure["nats"], "test_se_nats": figure["se_nats"],
                                     "test_data_sha256": figure["sha256"]})
        reports = Path(tmp) / "reports"
        offered = load_checkpoint(work).capabilities  # a vanilla RNN has no gates to saturate
        names = [n for n in args.analyses.split(",") if n and get_analyzer(n).requires <= offered]
        zoo("analyze", "--model", str(work), "--data", args.data, "--analyzer", ",".join(names), "--out", str(reports),
            "--quiet", "--json")
        target = args.released / args.name
        if target.exists():
            shutil.rmtree(target)
        zoo("push", str(work), "--repo-id", f"{args.org}/{repo_name(args.name)}", "--to-dir", str(target),
            "--reports", str(reports), "--reproduces", args.name, "--overwrite-card")
    released = {"test_ce": round(figure["nats"], 4), "test_se": round(figure["se_nats"], 4),
                **({"dtype": args.dtype} if args.dtype != "float32" else {})}
    set_entry(args.registry, args.name, released=released)
    size = (target / "model.safetensors").stat().st_size
    print(f"{args.name}: test {figure['nats']:.4f} ± {figure['se_nats']:.4f} nats/char, {size / 1e6:.1f} MB of weights "
          f"in {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")


def evaluate(checkpoint: Path, data: str) -> dict:
    found = json.loads(zoo("eval", "--model", str(checkpoint), "--data", data, "--json"))
    return {"nats": found["nats"], "se_nats": found["se_nats"], "sha256": read_sha(checkpoint, data)}


def read_sha(checkpoint: Path, data: str) -> str:
    from zoo.checkpoint import read_config
    from zoo.data import trained_corpus

    return trained_corpus(read_config(checkpoint), data, progress=False).sha256


def store_as(checkpoint: Path, dtype: str) -> None:
    """Rewrite the checkpoint's floating-point weights in `dtype` (sha256 updated)."""
    import safetensors.torch
    import torch

    from zoo.checkpoint import safetensors_bytes, update_config
    from zoo.fileio import atomic_write, sha256_bytes

    tensors = safetensors.torch.load((checkpoint / "model.safetensors").read_bytes())
    kind = getattr(torch, dtype)
    half = {k: (v.to(kind) if v.is_floating_point() else v).contiguous() for k, v in tensors.items()}
    data = safetensors_bytes(half, metadata={"format": "pt"})
    atomic_write(checkpoint / "model.safetensors", data)
    update_config(checkpoint, weights_sha256=sha256_bytes(data))


def released_names(registry: Path) -> list[str]:
    from zoo.registry import Registry

    return [name for name, spec in Registry(registry).models.items() if spec.released]


def publish(args) -> None:
    """Push every released folder to ORG/<name>, then pin each entry to the commit it made."""
    from zoo import hub
    from zoo.fileio import sha256_bytes

    names = [n for n in released_names(args.registry) if re.fullmatch(args.models, n)]
    if not names:
        sys.exit("no released model matches --models")
    missing = [n for n in names if not (args.released / n / "config.json").is_file()]
    if missing:
        sys.exit(f"released/ lacks the folders of {', '.join(missing)}")
    for name in names:
        repo_id = f"{args.org}/{repo_name(name)}"
        upload = hub.prepare(args.released / name, repo_id)
        if args.dry_run:
            print(f"{repo_id} ({name}):")
            for row in upload.describe():
                print(f"  {row['path']:<44} {row['bytes']:>11,} bytes  sha256 {row['sha256']}")
            continue
        commit, files = hub.push(upload, repo_id, overwrite_card=True)
        checksums = {f: sha256_bytes(upload.files[f]) for f in ("model.safetensors", "config.json")}
        set_entry(args.registry, name, hub={"repo_id": repo_id, "revision": commit, "sha256": checksums})
        print(f"{name}: hf:{repo_id}@{commit} ({len(files)} files)")


def table(args) -> None:
    """The README's table of the released models, from the registry and their folders."""
    import numpy as np
    import safetensors

    from zoo.registry import Registry

    print("| model | parameters | test (nats/char) | paper | weights on disk |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, spec in Registry(args.registry).models.items():
        folder = args.released / name
        if not spec.released or not folder.is_dir():
            continue
        with safetensors.safe_open(folder / "model.safetensors", "np") as weights:
            names = weights.keys()  # a safe_open handle is not iterable itself
            count = sum(int(np.prod(weights.get_slice(k).get_shape())) for k in names)
        paper = (spec.reference or {}).get("test_ce")
        dtype = f" ({spec.released['dtype']})" if spec.released.get("dtype") else ""
        size = (folder / "model.safetensors").stat().st_size / 1e6
        print(f"| `{name}` | {count:,} | {spec.released['test_ce']:.4f} ± {spec.released['test_se']:.4f} | "
              f"{'-' if paper is None else format(paper, '.3f')} | {size:.1f} MB{dtype} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--registry", type=Path, default=REGISTRY, help=argparse.SUPPRESS)
    parser.add_argument("--released", type=Path, default=RELEASED, help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("add", help="add (or replace) a released model")
    one.add_argument("checkpoint", type=Path, help="a run (its best epoch) or checkpoint directory")
    one.add_argument("--name", required=True, help="its registry name, e.g. lstm-3x64.warpeace")
    one.add_argument("--data", required=True, help="the text it was trained on (its test split is scored)")
    one.add_argument("--dtype", choices=("float32", "float16", "bfloat16"), default="float32")
    one.add_argument("--tolerance", type=float, default=1e-3, help="largest change of the test figure a dtype may make")
    one.add_argument("--history", type=Path, help="the run's run.json, for a checkpoint kept outside its run")
    one.add_argument("--analyses", default=ANALYSES, help="the reports published with it")
    one.add_argument("--org", default="rnn-zoo", help="the Hub organisation its card names")
    every = commands.add_parser("publish", help="push every released folder and record the pins")
    every.add_argument("--org", required=True, help="the Hub organisation (or user) to publish under")
    every.add_argument("--models", default=".*", help="a regular expression over released names")
    every.add_argument("--dry-run", action="store_true", help="print what each repository would receive, and stop")
    commands.add_parser("table", help="print the README's table of the released models")
    args = parser.parse_args()
    from zoo.errors import ZooError

    try:
        {"add": add, "publish": publish, "table": table}[args.command](args)
    except ZooError as exc:
        sys.exit(f"release: {exc}")


if __name__ == "__main__":
    main()
