"""The autocomplete task as the trainer, `zoo eval` and the analyses use it (`zoo.Task`).

Examples are the article's observations (`zoo_autocomplete.data`): at most ``seq_length``
characters each, shuffled into batches of ``batch_size`` every epoch, the state starting at zero
for each; the loss and the figures score the words only (not padding or unknown words). An
analysed text is a sequence of observations, one a line (`data.as_text`).
"""

from __future__ import annotations

from typing import Any

import zoo

# `data` imports numpy: each method imports it, so that `zoo list` stays light.



class Autocomplete(zoo.Task):
    unit = "nats per scored character"
    split = "0.9,0.05,0.05"  # the article's, whatever the dataset's own split
    params = {
        "words": zoo.Param(0, "the most frequent training words the head scores (0: the model's classes less padding "
                              "and unknown, else the article's 16,384)", check=lambda v: v >= 0),
    }

    def recipe(self) -> zoo.Recipe:
        """Madsen 2019's: Adam with its default parameters, batches of 64 observations of at most
        200 characters (`seq_length`), two passes over the data at a constant rate, no clipping,
        no early stop, and forget gates starting open as TensorFlow's LSTM cells (`forget_bias` 1)."""
        return zoo.Recipe(optimizer="adam", lr=1e-3, lr_decay=1.0, batch_size=64, seq_length=200, clip="none",
                          max_epochs=2, patience=0, forget_bias=1.0)

    def check_config(self, config) -> None:
        if not isinstance(config.classes, int) or config.classes < 3:
            raise zoo.ZooError("an autocomplete model needs classes: its word vocabulary with padding and unknown "
                               "(at least 3)")

    def prepare(self, corpus, recipe, options, model=None, spec=None):
        from . import data as ac

        if model is not None:  # the run's own words, whatever --set words says now
            if options["words"] and options["words"] != len(model.words) - 2:
                raise zoo.ZooError(f"the run was trained with {len(model.words) - 2} words: --resume keeps them "
                                   "(drop --set words)")
            vocabulary: int | zoo.WordVocab = model.words
        else:
            classes = getattr(spec, "classes", None)  # a registry entry's word classes (16,386 in the article)
            vocabulary = options["words"] or (classes - 2 if classes else ac.WORDS)
        return Observations(ac.build(corpus.text, vocabulary, recipe.seq_length, corpus.split), corpus, recipe)

    def score(self, model, corpus, part, saved, streams, progress):
        from . import data as ac

        encoded = ac.encode(ac.rebuild(corpus, model.words, saved).part(part), model.words)
        found = ac.predictions(model, encoded, progress=progress)
        figures = ac.summarize(found)
        return zoo.Scores(found["loss"], figures, rank=found["rank"],
                          metrics={"accuracy": figures["accuracy"]})

    def check_reference(self, model, other) -> None:
        if other.words != model.words:
            raise zoo.ZooError("it knows other words than the model, so it scores other characters (an unknown word "
                               "is not scored): compare autocomplete models trained with the same words on the same "
                               "text")

    def headline(self, result: dict[str, Any], corpus_name: str) -> str:
        pm = "" if result.get("se_nats") is None else f" ± {result['se_nats']:.4f}"
        return (f"{result['split']} word-level cross-entropy on autocomplete/{corpus_name} "
                f"({result['scored_characters']:,} scored characters): {result['nats']:.4f}{pm} nats; "
                f"accuracy {result['accuracy']:.2%}, top-2 {result['top2']:.2%}, top-3 {result['top3']:.2%}")

    def card(self, config) -> dict[str, Any]:
        model, recipe = config.get("model") or {}, config.get("recipe") or {}
        words = int(model.get("classes") or 2) - 2
        passes = recipe.get("max_epochs", 0)
        # a constant rate; one that decayed within its passes says from when
        decays = recipe.get("lr_decay", 1) != 1 and passes > recipe.get("lr_decay_after", 0)
        return {"what": f"An autocomplete {model.get('arch', '?').upper()} (Madsen 2019's task: it reads characters "
                        f"and predicts the word being typed, over {words:,} words), "
                        f"{model.get('layers', '?')}x{model.get('hidden', '?')}",
                "training": f"Madsen 2019's recipe: {recipe.get('optimizer')} at {recipe.get('lr')}, batches of "
                            f"{recipe.get('batch_size')} observations of at most {recipe.get('seq_length')} characters "
                            f"(the text normalized as text8), {passes} pass{'es' if passes != 1 else ''}"
                            + (f", the rate multiplied by {recipe.get('lr_decay')} each pass after pass "
                               f"{recipe.get('lr_decay_after')}" if decays else ""),
                "hub_task": {"type": "text-classification", "name": "autocomplete (the word being typed)"},
                "tag": "autocomplete", "figure": "word-level cross-entropy",
                "commands": ['zoo autocomplete --model {repo} "the capital of fra"'],
                "analyzers": ["accuracy-by-known-chars", "connectivity"]}

    def texts(self, model, corpus, saved) -> dict[str, str]:
        from . import data as ac

        built = ac.rebuild(corpus, model.words, saved)
        return {name: ac.as_text(built.part(name)) for name in ("train", "valid", "test")}

    def read(self, text: str) -> str:
        from . import data as ac

        return ac.as_text(ac.from_text(text))

    def cut(self, text: str, most: int) -> str:
        cut = text.rfind("\n", 0, most + 1)  # whole observations only
        return text[:cut if cut > 0 else most]

    def encode(self, model, text: str):
        import torch

        return torch.from_numpy(model.vocab.encode(text.replace("\n", " ")))

    def window(self, model, text: str, start: int, length: int):
        """The observation that holds character `start`, at most `length` characters of it, with
        the word each character belongs to as its target."""
        import torch

        from . import data as ac

        observations = ac.from_text(text)
        index = min(max(text.count("\n", 0, start + 1) - 1, 0), len(observations) - 1)
        encoded = ac.encode([observations[index][:length]], model.words)
        n = int(encoded.lengths[0])
        return (torch.from_numpy(encoded.chars[0, :n].astype("int64")),
                torch.from_numpy(encoded.targets[0, :n].astype("int64")), observations[index][:n], model.words.words)

    def check_text(self, text: str) -> None:
        from . import data as ac

        if not ac.has_observations(text):
            raise zoo.ZooError("the text has no letters a-z (an autocomplete model reads letters a-z)")


class Observations(zoo.TaskData):
    """The split observations of one run (`data.Dataset`), as the trainer drives them."""

    def __init__(self, built, corpus, recipe: zoo.Recipe):
        from . import data as ac

        self.built, self.seed, self.batch_size = built, recipe.seed, recipe.batch_size
        self.vocab, self.words = ac.char_vocab(), built.words
        self.model_options = {"classes": len(built.words)}
        self.dataset = {**corpus.describe(), "autocomplete": built.settings}
        self.train, self.valid = ac.encode(built.train, built.words), ac.encode(built.valid, built.words)
        self.steps = -(-len(self.train) // recipe.batch_size)
        self.characters = int(self.train.lengths.sum())
        self.name = f"autocomplete/{corpus.name}"
        self.summary = f"{len(self.train):,} observations, {len(built.words) - 2:,} words"

    def batches(self, epoch: int, rank: int = 0, world: int = 1):
        import numpy as np

        from . import data as ac

        order = np.random.default_rng([self.seed, epoch]).permutation(len(self.train))
        return ac.batches(self.train, self.batch_size, order)

    def loss(self, logits, targets):
        from . import data as ac

        return ac.loss(logits, targets)

    def validate(self, model) -> dict[str, float]:
        from . import data as ac

        found = ac.summarize(ac.predictions(model, self.valid))
        return {"valid_nats": found["nats"], "valid_accuracy": found["accuracy"]}

    def describe(self, figures: dict[str, float]) -> str:
        return f"{figures['valid_nats']:.4f} {Autocomplete.unit}, accuracy {figures['valid_accuracy']:.2%}"
