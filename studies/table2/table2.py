"""Reproduce Karpathy et al. 2015, Table 2: test cross-entropy of the n-gram (unpruned modified
Kneser-Ney, n = 1..9 and 20) and the n-NN (n = 1..6) on War and Peace and the Linux kernel, with
the paper's splits and Windows line endings.

    python studies/table2/table2.py --warpeace warpeace --linux linux.txt                  # n-gram rows
    python studies/table2/table2.py --warpeace warpeace --linux linux.txt --baseline nnn   # n-NN rows

`--warpeace` and `--linux` take a dataset name or a text file (docs/datasets.md: the Linux corpus
has no download, so it is a file); either may be left out.

Each model is fitted as `zoo baseline fit` does and scored on the test split as `zoo eval` does;
results accumulate in OUT/results-<baseline>.json, so an interrupted run continues. Prints a
Markdown table.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from zoo.data import encoded_splits, load_corpus
from zoo.evaluate import char_losses, summarize
from zoo.plugins import plugins

PAPER = {
    "ngram": {
        "warpeace": {1: 2.399, 2: 1.928, 3: 1.521, 4: 1.314, 5: 1.232, 6: 1.203, 7: 1.194, 8: 1.194, 9: 1.194,
                     20: 1.195},
        "linux": {1: 2.702, 2: 1.954, 3: 1.440, 4: 1.213, 5: 1.097, 6: 1.027, 7: 0.982, 8: 0.953, 9: 0.933,
                  20: 0.889},
    },
    "nnn": {
        "warpeace": {1: 2.399, 2: 1.931, 3: 1.553, 4: 1.451, 5: 1.339, 6: 1.321},
        "linux": {1: 2.707, 2: 1.974, 3: 1.505, 4: 1.395, 5: 1.256, 6: 1.376},
    },
}
SPLITS = {"warpeace": (0.8, 0.1, 0.1), "linux": (0.9, 0.05, 0.05)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warpeace", help="War and Peace: the dataset name (warpeace) or its file")
    parser.add_argument("--linux", help="the Linux corpus's file")
    parser.add_argument("--baseline", choices=sorted(PAPER), default="ngram")
    parser.add_argument("--orders", help="default: the paper's (n-gram 1-9 and 20, n-NN 1-6)")
    parser.add_argument("--out", default="runs/table2")
    parser.add_argument("--device", default="cpu", help="for the n-NN")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / f"results-{args.baseline}.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    baseline = plugins().get("baseline", args.baseline).load()
    paper = PAPER[args.baseline]
    orders = args.orders or ",".join(map(str, paper["warpeace"]))
    datasets = [d for d in ("warpeace", "linux") if getattr(args, d)]
    for dataset, path in ((d, getattr(args, d)) for d in datasets):
        corpus = load_corpus(path, line_endings="crlf", split=SPLITS[dataset], progress=False)
        vocab, train_ids, valid_ids, test_ids = encoded_splits(corpus)
        for n in map(int, orders.split(",")):
            key = f"{dataset}/{n}"
            if key in results:
                continue
            start = time.perf_counter()
            model = baseline.fit(train_ids, vocab, order=n, directory=out / f"{args.baseline}-{dataset}-{n}",
                                 sections={"dataset": corpus.describe()}, valid_ids=valid_ids, progress=False,
                                 **({"device": args.device} if args.baseline == "nnn" else {}))
            fit_s = time.perf_counter() - start
            start = time.perf_counter()
            stats = summarize(char_losses(model, test_ids))
            results[key] = {**stats, "fit_seconds": round(fit_s, 1),
                            "score_seconds": round(time.perf_counter() - start, 1), "paper": paper[dataset][n],
                            "train_characters": len(train_ids), "test_characters": len(test_ids)}
            results_path.write_text(json.dumps(results, indent=2))
            (out / f"{args.baseline}-{dataset}-{n}" / "model.binary").unlink(missing_ok=True)  # 20-grams are large
            print(f"{key}: {stats['nats']:.3f} ± {stats['se_nats']:.3f} (paper {paper[dataset][n]}), "
                  f"fit {fit_s:.0f} s", flush=True)
    print("\n| dataset | n | zoo (nats/char) | paper | difference |\n| --- | ---: | ---: | ---: | ---: |")
    for key, r in results.items():
        dataset, n = key.split("/")
        print(f"| {dataset} | {n} | {r['nats']:.3f} ± {r['se_nats']:.3f} | {r['paper']:.3f} "
              f"| {r['nats'] - r['paper']:+.3f} |")


if __name__ == "__main__":
    main()
