"""Reproduce Karpathy et al. 2015, Table 2 (the n-gram rows): test cross-entropy of unpruned
modified Kneser-Ney character n-grams for n = 1..9 and 20, on War and Peace and the Linux kernel,
with the paper's splits and Windows line endings.

    python scripts/table2.py --warpeace PATH --linux PATH --out runs/table2   # prints a Markdown table

Each model is fitted with KenLM (as `zoo baseline fit ngram`) and scored on the test split (as
`zoo eval`); results accumulate in OUT/results.json, so an interrupted run continues.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from zoo.data import build_vocab, load_corpus
from zoo.evaluate import char_losses, summarize
from zoo.plugins import plugins

PAPER = {
    "warpeace": {1: 2.399, 2: 1.928, 3: 1.521, 4: 1.314, 5: 1.232, 6: 1.203, 7: 1.194, 8: 1.194, 9: 1.194, 20: 1.195},
    "linux": {1: 2.702, 2: 1.954, 3: 1.440, 4: 1.213, 5: 1.097, 6: 1.027, 7: 0.982, 8: 0.953, 9: 0.933, 20: 0.889},
}
SPLITS = {"warpeace": (0.8, 0.1, 0.1), "linux": (0.9, 0.05, 0.05)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warpeace", required=True)
    parser.add_argument("--linux")
    parser.add_argument("--orders", default="1,2,3,4,5,6,7,8,9,20")
    parser.add_argument("--out", default="runs/table2")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    NGram = plugins().get("baseline", "ngram").load()
    for dataset, path in (("warpeace", args.warpeace), ("linux", args.linux)):
        if not path:
            continue
        corpus = load_corpus(path, line_endings="crlf", split=SPLITS[dataset], progress=False)
        train_text, _, test_text = corpus.splits()
        vocab = build_vocab(train_text)
        train_ids, test_ids = (torch.from_numpy(vocab.encode(t)) for t in (train_text, test_text))
        for n in map(int, args.orders.split(",")):
            key = f"{dataset}/{n}"
            if key in results:
                continue
            start = time.perf_counter()
            model = NGram.fit(train_ids, vocab, order=n, directory=out / f"{dataset}-{n}", sections={"dataset": corpus.describe()})
            fit_s = time.perf_counter() - start
            start = time.perf_counter()
            stats = summarize(char_losses(model, test_ids))
            results[key] = {**stats, "fit_seconds": round(fit_s, 1), "score_seconds": round(time.perf_counter() - start, 1),
                            "paper": PAPER[dataset][n], "train_characters": len(train_text), "test_characters": len(test_text)}
            results_path.write_text(json.dumps(results, indent=2))
            (out / f"{dataset}-{n}" / "model.binary").unlink()  # 20-grams are large; the figure is what we keep
            print(f"{key}: {stats['nats']:.3f} ± {stats['se_nats']:.3f} (paper {PAPER[dataset][n]}), fit {fit_s:.0f} s", flush=True)
    print("\n| dataset | n | zoo (nats/char) | paper | difference |\n| --- | ---: | ---: | ---: | ---: |")
    for key, r in results.items():
        dataset, n = key.split("/")
        print(f"| {dataset} | {n} | {r['nats']:.3f} ± {r['se_nats']:.3f} | {r['paper']:.3f} | {r['nats'] - r['paper']:+.3f} |")


if __name__ == "__main__":
    main()
