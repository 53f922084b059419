r"""Time and peak memory of `zoo analyze` on a whole test split, and the size and load time of its
HTML reports.

Targets: cells + saturation on War and Peace's test split (about 325,000 characters) with a
3x512 LSTM, on a 2-core CPU, under 5 minutes together with a peak resident memory under 2 GB;
each report.html under 5 MB and open in a browser in under 2 s. `--data` takes a dataset name or
a text file (docs/datasets.md). The cost does not depend on the weights, so an untrained model of the
shape serves when no trained one is at hand (pass a run directory to use one).

    python benchmarks/analysis.py --data warpeace --model lstm-3x512
    python benchmarks/analysis.py --model runs/lstm-3x512.warpeace      # its own data and split
    python benchmarks/analysis.py --data warpeace --analyzers oracles     # n-gram fits included
    python benchmarks/analysis.py --data warpeace --reference runs/ngram-20.warpeace \
        --analyzers error-overlap,char-probs,bracket-distance

Other targets: oracles on the same split and model under 5 minutes, n-gram fits included (fits
are cached under $ZOO_HOME/oracles: set ZOO_HOME to an empty directory to time them); each
comparison analyzer against a 20-gram under 3 minutes, the models' scoring included.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import torch

import zoo
from zoo.data import build_vocab, load_corpus
from zoo.report import write_report


def browser_load_seconds(page: Path) -> float | None:
    """Wall time for headless Chromium to start, load the page and run its scripts (None without one)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return None
    with tempfile.TemporaryDirectory() as profile:
        start = time.perf_counter()
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
                       capture_output=True, check=True, timeout=120)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="lstm-3x512", help="a run or checkpoint directory, or a shape (untrained)")
    parser.add_argument("--data", default="sample", help="dataset name or text file (with a shape)")
    parser.add_argument("--split", default="0.8,0.1,0.1")
    parser.add_argument("--analyzers", default="cells,saturation")
    parser.add_argument("--reference", action="append", default=[], help="a model to compare with (repeatable)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    if Path(args.model).is_dir():
        model = zoo.load_checkpoint(args.model)
        saved = zoo.checkpoint.read_config(args.model)["dataset"]
        corpus = load_corpus(saved["source"], line_endings=saved["line_endings"], split=saved["split"], progress=False)
    else:
        corpus = load_corpus(args.data, split=args.split, progress=False)
        torch.manual_seed(0)
        vocab = build_vocab(corpus.splits()[0])
        model = zoo.create_model(args.model, vocab=vocab).eval()
    train_text, _, test = corpus.splits()
    references = {Path(r).name: zoo.load_checkpoint(r) for r in args.reference}
    print(f"{args.model} on the test split of {corpus.name}: {len(test):,} characters, {args.threads} threads")
    total = 0.0
    with tempfile.TemporaryDirectory() as out:
        blank = Path(out) / "blank.html"
        blank.write_text("<!doctype html><title>blank</title>")
        start_up = browser_load_seconds(blank)
        if start_up is not None:
            print(f"  (Chromium starting and opening a blank page: {start_up:.2f} s, included below)")
        for name in args.analyzers.split(","):
            start = time.perf_counter()
            report = zoo.analyze(model, name, test, train_text=train_text, references=references, progress=True)
            analysed = time.perf_counter() - start
            folder = write_report(report, Path(out) / name, zoo.get_analyzer(name).template)
            seconds = time.perf_counter() - start
            total += seconds
            page = folder / "report.html"
            load = browser_load_seconds(page)
            shown = "no browser" if load is None else f"opens in {load:.2f} s"
            print(f"  {name:<11} {seconds:7.1f} s ({analysed:.1f} s analysing, {seconds - analysed:.1f} s writing); "
                  f"report.html {page.stat().st_size / 1e6:.2f} MB, {shown}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"  together    {total:7.1f} s; peak resident memory of the process {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
