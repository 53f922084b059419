r"""Train the pretrained zoo: the registry's 3-layer War and Peace models of every width (LSTM, GRU
and RNN, Table 1's parameter budgets 64 to 512) and the 3x512 Linux LSTM, with the paper's
recipe. As the paper cross-validated dropout for its larger models, each model of budget >=
`--tune-from` is trained once per dropout in `--dropouts`. At the 512 budget the learning rate is
chosen first (studies/table1/README.md: at 2e-3 the 3x512 LSTM stays on the unigram plateau): one
run per rate in `--lrs` at dropout `--lr-search-dropout`, then the other dropouts at the best rate
(5 runs instead of all 9 pairs). The run with the best validation cross-entropy is kept. As soon
as a model's runs are done, its kept run is scored on the test split and written as a Hub-ready
folder, OUT/<model>/hub (`zoo push --to-dir`: weights, public config.json, model card, and the
reports of `--analyses`, by default the interpretable cells, gate saturation and line ends, under
analyses/ and in the card), and its row of the table beside the paper's Table 1 goes into
OUT/summary.md (and OUT/summary.json: one row per model, kept across calls, so the models can be
trained a few at a time).

    python tools/pretrained_zoo.py --data linux=linux.txt --device cuda --jobs 6
    python tools/pretrained_zoo.py --models 'rnn-3x132\.warpeace' --epochs 1   # a check

A model's text is its registry dataset by name (`warpeace` downloads once); `--data
DATASET=FILE` gives a file instead, and is needed for `linux`, which has no download
(docs/datasets.md). Models whose text is neither are left out.

Every run goes to OUT/<model>/dropout<d>-lr<lr>; a finished run (one with trained.json) is not
trained again, an interrupted one continues (--resume), so the script can be run again after an
interruption. Several runs share one GPU well (`--jobs`): a 3x512 LSTM uses a fraction of an H100.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from zoo.analysis import get_analyzer
from zoo.checkpoint import load_checkpoint
from zoo.fileio import atomic_write, zoo_home
from zoo.registry import registry
from zoo.runs import is_run, read_run

SPLITS = {"warpeace": "0.8,0.1,0.1", "linux": "0.9,0.05,0.05"}  # the paper's (Section 4.1)
DEFAULT_MODELS = r"(lstm|gru|rnn)-3x\d+\.warpeace|lstm-3x512\.linux"


def zoo(*args: str) -> str:
    """Run a zoo command; its stdout, or exit with its one-line error."""
    done = subprocess.run([sys.executable, "-m", "zoo", *args], capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"zoo {' '.join(args)}: "
                 f"{done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}")
    return done.stdout


def tune(name: str, spec, pool: ThreadPoolExecutor, args) -> list[Path]:
    """Every run tried for one model, trained on `pool` (see the module docstring)."""

    def runs(settings: list[tuple[float, float]]) -> list[Path]:
        return [job.result() for job in [pool.submit(train, name, spec, d, lr, args) for d, lr in settings]]

    budget = spec.reference["budget"]
    if budget < args.tune_from:
        return runs([(0.0, args.lr)])
    if budget < 512:
        return runs([(d, args.lr) for d in args.dropouts])
    first = runs([(args.lr_search_dropout, lr) for lr in args.lrs])
    best_lr = min(zip(map(best_valid, first), args.lrs))[1]
    return first + runs([(d, best_lr) for d in args.dropouts if d != args.lr_search_dropout])


def train(name: str, spec, dropout: float, lr: float, args) -> Path:
    run = args.out / name / f"dropout{dropout:g}-lr{lr:g}"
    finished = run / "trained.json"  # zoo train's summary, written once the run has ended
    if finished.is_file():
        return run
    summary = zoo("train", "--model", name, "--data", args.data[spec.dataset], "--line-endings", args.line_endings,
                  "--split", SPLITS[spec.dataset], "--dropout", str(dropout), "--lr", str(lr),
                  "--epochs", str(args.epochs), "--device", args.device, "--out", str(run), "--quiet", "--json",
                  *(["--resume"] if is_run(run) else []))
    finished.write_text(summary)
    print(f"{run}: best validation {best_valid(run):.4f}", flush=True)
    return run


def analyse(run: Path, args) -> list[str]:
    """Report `args.analyses` (those the model's capabilities allow: a vanilla RNN has no gates to
    saturate) on the kept run, for its Hub-ready folder; the `zoo push` arguments that add them."""
    offered = load_checkpoint(run).capabilities
    names = [n for n in args.analyses.split(",") if n and get_analyzer(n).requires <= offered]
    reports = run.parent / "reports"
    for folder in (reports, run.parent / "hub" / "analyses"):  # the script's own: made from a run kept earlier
        shutil.rmtree(folder, ignore_errors=True)
    if not names:
        return []
    zoo("analyze", "--model", str(run), "--analyzer", ",".join(names), "--device", args.device, "--out", str(reports),
        "--quiet", "--json")
    return ["--reports", str(reports)]


def best_valid(run: Path) -> float:
    return min(h["valid_nats"] for h in read_run(run)["history"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", action="append", default=[], metavar="DATASET=FILE",
                        help="the text of a dataset as a file (linux needs one; the others download by name); "
                             "repeatable")
    parser.add_argument("--models", default=DEFAULT_MODELS, help="a regular expression over registry names")
    parser.add_argument("--line-endings", default="crlf", choices=("lf", "crlf"), help="crlf: the paper's files")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--lr", type=float, default=2e-3, help="the paper's learning rate, for budgets below 512")
    parser.add_argument("--lrs", type=lambda s: [float(v) for v in s.split(",")], default=[2e-3, 1e-3, 5e-4],
                        help="learning rates tried at the 512 budget")
    parser.add_argument("--dropouts", type=lambda s: [float(v) for v in s.split(",")], default=[0.0, 0.25, 0.5])
    parser.add_argument("--lr-search-dropout", type=float, default=0.25,
                        help="the dropout at which the 512 budget's learning rate is chosen")
    parser.add_argument("--tune-from", type=int, default=256, help="smallest budget whose dropout is tuned")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--jobs", type=int, default=1, help="runs trained at once")
    parser.add_argument("--analyses", default="cells,saturation,line-ends",
                        help="analyzers whose reports the Hub-ready folders publish ('' for none)")
    parser.add_argument("--hub-org", default="rnn-zoo", help="the organization in the prepared repo ids")
    parser.add_argument("--out", type=Path, default=zoo_home() / "runs" / "zoo",
                        help="where the runs live: outside any clone by default ($ZOO_HOME/runs/zoo), so that a "
                             "fresh checkout never removes a run; an interrupted run resumes there")
    args = parser.parse_args()
    if any("=" not in item for item in args.data):
        parser.error("--data takes DATASET=FILE, e.g. linux=linux.txt")
    downloadable = {name: name for name, entry in registry().datasets.items()
                    if entry.get("url") or entry.get("bundled")}
    args.data = {**downloadable, **dict(item.split("=", 1) for item in args.data)}
    models = {name: spec for name, spec in registry().models.items()
              if re.fullmatch(args.models, name) and spec.reference and spec.dataset in args.data}
    if not models:
        sys.exit(f"no registry model matches {args.models!r} with a text to train on "
                 "(a file for linux: --data linux=FILE)")

    print(f"{len(models)} models, {args.jobs} runs at a time", flush=True)
    lock = threading.Lock()

    def finish(name: str, spec, pool: ThreadPoolExecutor) -> None:
        """Once a model's runs are trained: score the kept one, write its Hub-ready folder and its
        row of the summary (at once, so a long call leaves each finished model's results behind)."""
        mine = [(best_valid(run), run) for run in tune(name, spec, pool, args)]
        valid, run = min(mine)
        test = json.loads(zoo("eval", "--model", str(run), "--json"))
        row = {"kept": run.name, "tried": {r.name: v for v, r in sorted(mine, key=lambda m: m[1].name)},
               "valid": valid, "test": test["nats"], "test_se": test["se_nats"], "paper": spec.reference.get("test_ce")}
        with lock:  # the row first: the Hub-ready folder below cannot lose it
            write_summary(args.out, {name: row})
        print(f"{name}: kept {run.name}, test {test['nats']:.4f}", flush=True)
        zoo("push", str(run), "--repo-id", f"{args.hub_org}/{name.replace('.', '-')}", "--to-dir",
            str(run.parent / "hub"), "--overwrite-card", *analyse(run, args))

    with ThreadPoolExecutor(args.jobs) as pool, ThreadPoolExecutor(len(models)) as per_model:
        list(per_model.map(lambda item: finish(*item, pool), models.items()))
    print((args.out / "summary.md").read_text(), end="")


def write_summary(out: Path, rows: dict) -> None:
    """Update OUT/summary.json with `rows` (one per model, kept across calls: a call on a few
    models changes their rows only) and render OUT/summary.md in registry order."""
    summary_file = out / "summary.json"
    summary = {**(json.loads(summary_file.read_text()) if summary_file.is_file() else {}), **rows}
    atomic_write(summary_file, json.dumps(summary, indent=1))
    order = list(registry().models)
    lines = [f"| `{name}` | {row['kept']} | {'; '.join(f'{r} {v:.4f}' for r, v in row['tried'].items())} "
             f"| {row['valid']:.4f} | {row['test']:.4f} ± {row['test_se']:.4f} "
             f"| {'-' if row['paper'] is None else format(row['paper'], '.3f')} |"
             for name, row in sorted(summary.items(),
                                     key=lambda item: order.index(item[0]) if item[0] in order else len(order))]
    table = ["| model | kept run | validation of each run tried | kept: validation | test | paper |",
             "| --- | --- | --- | ---: | ---: | ---: |", *lines]
    atomic_write(out / "summary.md", "\n".join(table) + "\n")


if __name__ == "__main__":
    main()
