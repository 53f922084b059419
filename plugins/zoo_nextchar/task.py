"""The next-character task: a character language model, as in Karpathy et al. 2015.

The model reads the training split as char-rnn does (`zoo.CharStreams`: 100 contiguous streams
unrolled 100 steps, the state carried between steps) and is scored on every character after the
first of a split, in nats per character.
"""

from __future__ import annotations

import zoo


class NextChar(zoo.Task):
    unit = "nats/char"

    def check_config(self, config) -> None:
        if config.classes not in (None, config.vocab_size):
            raise zoo.ZooError(f"a next-char model predicts its {config.vocab_size} characters, "
                               f"not classes={config.classes}")

    def prepare(self, corpus, recipe, options, model=None, spec=None):
        vocab = model.vocab if model is not None else zoo.build_vocab(corpus.splits()[0])
        _, train_ids, valid_ids, _ = zoo.encoded_splits(corpus, vocab)
        return zoo.CharStreams(train_ids, vocab, recipe.batch_size, recipe.seq_length, valid_ids=valid_ids,
                               dataset=corpus.describe(), name=corpus.name)

    def score(self, model, corpus, part, saved, streams, progress):
        import torch

        text = self.texts(model, corpus, saved)[part]
        loss = zoo.char_losses(model, torch.from_numpy(model.vocab.encode(text)), streams=streams)
        return zoo.Scores(loss, {"streams": streams, "unknown_characters": model.vocab.unknown_count(text)})

    def headline(self, result, corpus_name) -> str:
        def pm(key: str) -> str:
            return "" if result.get(key) is None else f" ± {result[key]:.4f}"

        return (f"{result['split']} cross-entropy on {corpus_name} ({result['characters']:,} predicted characters): "
                f"{result['nats']:.4f}{pm('se_nats')} nats/char, {result['bits']:.4f}{pm('se_bits')} bits/char")

    def card(self, config):
        model, recipe = config.get("model") or {}, config.get("recipe") or {}
        limit = recipe.get("clip_value")
        clip = {"value": f"each gradient element clipped at {limit}",
                "norm": f"the gradient norm clipped at {limit}"}.get(recipe.get("clip"), "no clipping")
        return {"what": f"A character-level {model.get('arch', '?').upper()} language model, "
                        f"{model.get('layers', '?')}x{model.get('hidden', '?')}",
                "training": f"Karpathy, Johnson & Fei-Fei (2015)'s recipe: {recipe.get('optimizer')} at "
                            f"{recipe.get('lr')}, {recipe.get('batch_size')} streams x {recipe.get('seq_length')} "
                            f"steps, decay {recipe.get('lr_decay')} after epoch {recipe.get('lr_decay_after')}, "
                            f"{clip}, dropout {recipe.get('dropout', 0)}",
                "hub_task": {"type": "text-generation", "name": "character-level language modeling"},
                "tag": "language-model", "figure": "cross-entropy", "commands": [],
                "analyzers": ["cells", "saturation"]}
