"""KenLM n-gram costs: fitting (time, peak memory of lmplz and build_binary) and scoring the test split.

    python benchmarks/ngram.py --data warpeace --order 20     # the paper's 21-gram

`--data` takes a dataset name or a text file (docs/datasets.md). Targets: the 21-gram on War and Peace
fits in under 5 minutes and 8 GiB; the 320k-character test split's correct-character log-probabilities
score in under 30 s.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time

from zoo.data import encoded_splits, load_corpus
from zoo.plugins import plugins


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="a dataset name (warpeace) or a text file")
    parser.add_argument("--order", type=int, default=20)
    parser.add_argument("--line-endings", default="crlf")
    parser.add_argument("--full-limit", type=int, default=None,
                        help="score full distributions on this many test characters (default: all)")
    args = parser.parse_args()
    NGram = plugins().get("baseline", "ngram").load()
    corpus = load_corpus(args.data, line_endings=args.line_endings, progress=False)
    vocab, train_ids, _, test_ids = encoded_splits(corpus)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        model = NGram.fit(train_ids, vocab, order=args.order, directory=tmp)
        fit_s = time.perf_counter() - start
        peak_gib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # KiB -> GiB, largest child
        start = time.perf_counter()
        target = model.target_log_probs(test_ids)
        score_s = time.perf_counter() - start
        full_ids = test_ids[: args.full_limit] if args.full_limit else test_ids
        start = time.perf_counter()
        model.log_probs(full_ids)
        full_s = time.perf_counter() - start
    print(f"{args.order + 1}-gram on {corpus.name} "
          f"({len(train_ids):,} training characters, {len(vocab)} in the vocabulary)")
    print(f"  fit (lmplz + build_binary)      {fit_s:8.1f} s, peak memory {peak_gib:.2f} GiB")
    print(f"  correct-character log-probs     {score_s:8.1f} s for {len(test_ids):,} characters "
          f"({len(test_ids) / score_s:,.0f}/s), cross-entropy {-target.mean():.3f} nats/char")
    print(f"  full distributions              {full_s:8.1f} s "
          f"for {len(full_ids):,} positions x {len(vocab)} characters")


if __name__ == "__main__":
    main()
