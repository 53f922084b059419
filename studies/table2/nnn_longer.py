"""Train the War and Peace n-NN of order n for more epochs than table2.py's 30 and print its test
cross-entropy as JSON (the check behind studies/table2/README.md's n-NN paragraph).

    python studies/table2/nnn_longer.py N EPOCHS [--data warpeace|FILE] [--device cuda]
"""

import argparse
import json
import time

import torch

from zoo.data import encoded_splits, load_corpus
from zoo.evaluate import char_losses, summarize
from zoo.plugins import plugins


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("order", type=int)
    parser.add_argument("epochs", type=int)
    parser.add_argument("--data", default="warpeace",
                        help="War and Peace: the dataset name or its file (docs/datasets.md)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", default=None, help="where to keep the model (default: runs/nnn-longer-N)")
    args = parser.parse_args()
    corpus = load_corpus(args.data, line_endings="crlf", split=(0.8, 0.1, 0.1), progress=False)
    vocab, *ids = encoded_splits(corpus)
    start = time.time()
    model = plugins().get("baseline", "nnn").load().fit(
        ids[0], vocab, order=args.order, directory=args.out or f"runs/nnn-longer-{args.order}", valid_ids=ids[1],
        epochs=args.epochs, patience=3, device=args.device, progress=False)
    history = model.meta["baseline"]["history"]
    print(json.dumps({"n": args.order, "epochs_run": len(history),
                      "best_epoch": min(history, key=lambda e: e["valid_nats"])["epoch"],
                      "test": summarize(char_losses(model, ids[2])), "seconds": round(time.time() - start)}))


if __name__ == "__main__":
    main()
