"""The n-NN of Karpathy et al. 2015: a fully connected network with one tanh hidden layer whose
input is the concatenated one-hot vectors of the previous n characters.

    h = tanh(W [onehot(c_{t-n+1}); ...; onehot(c_t)] + b),   p(c_{t+1}) = softmax(U h + d)

The product with the concatenated one-hot vectors is computed as a sum of n looked-up columns
(one embedding table per context position), which is the same function without materializing
the nK-wide input. Positions before the start of the text read a padding character of their own.

Training is the zoo's epoch loop (`zoo.fit`) on char-rnn's data order (`zoo.CharStreams`): the
training split in `batch_size` contiguous streams, `seq_length` positions at a time, each
window's context carried from the previous window; Adam (the paper does not give the n-NN's
optimizer), gradient-norm clipping, a progress bar, and early stopping on the validation loss
with the best weights kept.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

import zoo
from zoo import Baseline, Vocab, ZooError, atomic_write, sha256_bytes
from zoo import checkpoint_header as header


class Net(nn.Module):
    def __init__(self, vocab_size: int, order: int, hidden: int):
        super().__init__()
        self.order, self.pad = order, vocab_size
        self.inputs = nn.Parameter(torch.empty(order, vocab_size + 1, hidden))  # W, split by context position
        self.bias = nn.Parameter(torch.zeros(hidden))
        self.head = nn.Linear(hidden, vocab_size)
        nn.init.uniform_(self.inputs, -0.08, 0.08)
        nn.init.uniform_(self.head.weight, -0.08, 0.08)

    def forward(self, ids: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Logits ``[B, T, V]`` for ids ``[B, T]``; `context` holds the `order` ids before them."""
        if context is None:
            context = ids.new_full((ids.shape[0], self.order), self.pad)
        full = torch.cat([context, ids], dim=1)
        windows = full.unfold(1, self.order, 1)[:, 1:]  # [B, T, order]: the n characters ending at t
        positions = torch.arange(self.order, device=ids.device)
        pre = self.inputs[positions, windows].sum(-2) + self.bias
        return self.head(torch.tanh(pre)), full[:, -self.order:]


class NNN(Baseline):
    name = "nnn"
    params = {
        "hidden": zoo.Param(512, "units in the hidden layer", check=lambda v: v >= 1),
        "epochs": zoo.Param(30, "at most this many passes over the training split", check=lambda v: v >= 1),
        "patience": zoo.Param(2, "stop after this many epochs without a better validation loss (0: never)",
                              check=lambda v: v >= 0),
        "lr": zoo.Param(2e-3, "Adam's learning rate", check=lambda v: v > 0),
        "batch_size": zoo.Param(32, "contiguous streams of the training split read at once", check=lambda v: v >= 1),
        "seq_length": zoo.Param(64, "positions per step of each stream", check=lambda v: v >= 1),
        "clip": zoo.Param(5.0, "the largest gradient norm", check=lambda v: v > 0),
        "seed": zoo.Param(0, "seed of the initial weights"),
        "device": zoo.Param("cpu", "where to train: cpu, cuda, cuda:N or mps",
                            check=lambda v: re.fullmatch(r"cpu|cuda(:\d+)?|mps", v) is not None),
    }

    def __init__(self, net: Net, vocab: Vocab, meta: dict[str, Any]):
        self.net = net.eval()
        self.vocab = vocab
        self.meta = meta
        self.order = net.order

    @classmethod
    def fit(cls, train_ids: Tensor, vocab: Vocab, order: int = 3, directory: str | Path | None = None,
            valid_ids: Tensor | None = None, hidden: int = 512, epochs: int = 30, patience: int = 2,
            lr: float = 2e-3, batch_size: int = 32, seq_length: int = 64, clip: float = 5.0, seed: int = 0,
            sections: dict[str, Any] | None = None, progress: bool = True, device: str = "cpu") -> NNN:
        """Train on `train_ids` with the zoo's epoch loop (`zoo.fit`), stopping when `valid_ids`'
        loss has not improved for `patience` epochs; writes the best weights to `directory`
        whenever they improve."""
        if not isinstance(order, int) or order < 1:
            raise ZooError(f"the n-NN's order (characters of context) must be at least 1, got {order!r}")
        if len(train_ids) < 2:
            raise ZooError("an n-NN needs a training text of at least two characters")
        batch_size = min(batch_size, max(1, (len(train_ids) - 1) // seq_length))
        recipe = zoo.Recipe(optimizer="adam", lr=lr, lr_decay=1.0, batch_size=batch_size, seq_length=seq_length,
                            clip="norm", clip_value=clip, max_epochs=epochs, patience=patience, seed=seed)
        torch.manual_seed(seed)
        net = Net(len(vocab), order, hidden).to(device)
        meta = {**header(),
                "baseline": {"name": "nnn", "order": order, "hidden": hidden, "optimizer": "adam", "lr": lr,
                             "history": []}, "vocab": vocab.to_dict(), **(sections or {})}
        model = cls(net, vocab, meta)

        def validate(_net) -> dict[str, float]:
            _net.eval()
            ids = valid_ids if valid_ids is not None else train_ids
            return {"valid_nats": float(-model.target_log_probs(ids).mean())}

        class KeepBest(zoo.Callback):
            def on_epoch(self, entry, _net, best) -> None:
                meta["baseline"]["history"].append({k: entry[k] for k in ("epoch", "train_nats", "valid_nats")})
                if best and directory is not None:
                    model.save(directory)

        data = zoo.CharStreams(torch.as_tensor(train_ids), vocab, batch_size, seq_length, validate=validate)
        zoo.fit(net, data, recipe, device=device, callbacks=[KeepBest()], progress=progress, log=lambda line: None)
        net.eval()
        if directory is None:
            return model
        zoo.update_config(directory, baseline={"history": meta["baseline"]["history"]})
        return cls.load(directory)

    @torch.no_grad()
    def log_probs(self, ids: Tensor) -> Tensor:
        """``[T, V]`` log-distributions; the first positions see the padding character as context."""
        logits, _ = self.net(torch.as_tensor(ids).to(self.net.bias.device)[None])
        return F.log_softmax(logits[0], dim=-1).cpu()

    @torch.no_grad()
    def target_log_probs(self, ids: Tensor) -> Tensor:
        """``out[t] = ln p(ids[t+1] | ids[:t+1])``, in chunks with the context carried."""
        ids = torch.as_tensor(ids).to(self.net.bias.device)
        out, context = [], None
        for start in range(0, len(ids) - 1, 65_536):
            x = ids[start : start + 65_537]
            logits, context = self.net(x[None, :-1], context)
            out.append(F.log_softmax(logits[0], -1).gather(1, x[1:, None])[:, 0])
        return torch.cat(out).cpu()

    def save(self, directory: str | Path) -> None:
        import safetensors.torch

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        weights = safetensors.torch.save({k: v.detach().cpu().contiguous() for k, v in self.net.state_dict().items()})
        atomic_write(directory / "model.safetensors", weights)
        atomic_write(directory / "config.json",
                     json.dumps({**self.meta, "weights_sha256": sha256_bytes(weights)}, indent=2) + "\n")

    @classmethod
    def load(cls, directory: str | Path) -> NNN:
        directory = Path(directory)
        meta = zoo.read_config(directory)
        data = (directory / "model.safetensors").read_bytes()
        if sha256_bytes(data) != meta.get("weights_sha256"):
            raise ZooError(f"{directory / 'model.safetensors'} does not match its config.json")
        import safetensors.torch

        vocab = Vocab.from_dict(meta["vocab"])
        net = Net(len(vocab), meta["baseline"]["order"], meta["baseline"]["hidden"])
        net.load_state_dict(safetensors.torch.load(data))
        return cls(net, vocab, meta)
