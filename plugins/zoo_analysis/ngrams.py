"""What the analyses that compare models share: the probability any model gives each next
character, and n-gram models to compare with (oracles, error overlap), loaded from given baseline
directories or fitted with the zoo's n-gram baseline (KenLM) to the analysed model's training
split and cached, since a 20-gram of War and Peace takes about a minute to fit.

The baseline is found through the plugin registry, like any model: this plugin imports no other.
"""

from __future__ import annotations

from zoo import Param, ZooError

ERROR_THRESHOLD = Param(0.5, "an error: the correct character gets probability below this", check=lambda v: 0 < v < 1)


def ngram_params(orders: range, use: str) -> dict:
    """The parameters of an analyzer that compares with n-gram models of the given orders."""
    return {
        "orders": Param(tuple(orders), f"{use}: characters of context n (KenLM order n+1), fitted to the "
                                       "training split and cached", check=lambda v: all(1 <= n <= 23 for n in v)),
        "ngram_models": Param((), "n-gram baseline directories to use instead of fitting (their order is read)"),
    }


def ngram_models(data, orders, directories=()) -> dict:
    """{n: fitted n-gram baseline} for n characters of context: the given directories (their
    order read from their config), else KenLM fits of the training split, cached under
    ``$ZOO_HOME/oracles/<sha256 of the split and vocabulary>/ngram-<n>``."""
    import hashlib

    import torch

    from zoo import load_checkpoint, make_folder, read_config, registered, zoo_home

    models = {}
    for directory in directories:
        order = (read_config(directory).get("baseline") or {}).get("order")
        if order is None:
            raise ZooError(f"{directory} is not an n-gram baseline (no order in its config.json)")
        models[int(order)] = load_checkpoint(directory)
    if directories:
        return dict(sorted(models.items()))
    if not data.train_text:
        raise ZooError("fitting n-gram models needs the model's training split: "
                       "pass --data, or give n-gram directories")
    ngram = registered("baseline", "ngram")
    train_ids = torch.from_numpy(data.vocab.encode(data.train_text))
    key = hashlib.sha256(data.train_text.encode("utf-8") + "".join(data.vocab.chars).encode("utf-8")).hexdigest()[:16]
    cache = make_folder(zoo_home() / "oracles" / key, "the n-gram cache folder",
                        hint="set ZOO_HOME to a folder you can write")
    from tqdm.auto import tqdm

    missing = [n for n in sorted(orders) if not (cache / f"ngram-{n}" / "config.json").is_file()]
    with tqdm(total=len(missing), desc="fitting n-gram models", unit="model", disable=not data.progress or not missing,
              leave=False) as bar:
        for n in sorted(orders):
            folder = cache / f"ngram-{n}"
            if n in missing:
                models[n] = ngram.fit(train_ids, data.vocab, order=n, directory=folder, progress=False)
                bar.update(1)
            else:
                models[n] = load_checkpoint(folder)
    return models


def own_ids(model, data):
    """The analysed text as `model` reads it: in its own vocabulary where that is not the analysed
    one (a reference trained on other text), so the positions are the same characters (the ids
    of another vocabulary would mean others)."""
    import torch

    vocab = getattr(model, "vocab", None)
    if vocab is None or data.vocab is None or vocab == data.vocab:
        return data.ids
    if data.text is None:
        raise ZooError("a model with another vocabulary than the analysed one needs the text, not bare ids")
    return torch.from_numpy(vocab.encode(data.text))


def correct_probabilities(model, data):
    """p(the next character) at every position of the analysed text (numpy, len(ids) - 1), the
    model's own fastest way (`zoo.evaluate.char_losses`), each model in its own vocabulary."""
    import numpy as np

    from zoo import char_losses

    return np.exp(-char_losses(model, own_ids(model, data)))


def ngram_probabilities(data, orders, directories=()) -> dict:
    """{n: the probability each n-gram model gives each next character of the analysed text}."""
    return {n: correct_probabilities(model, data) for n, model in ngram_models(data, orders, directories).items()}
