"""Checkpoints refuse pickles, corruption and mismatches with one clear line, and write atomically."""

import json
import os
import pickle

import pytest
import torch

import zoo
from zoo.checkpoint import CONFIG, WEIGHTS
from zoo.testing import make_model, random_ids


@pytest.fixture
def ckpt(tmp_path):
    model = make_model("lstm", layers=2)
    model.vocab = zoo.Vocab(list("abcdefg"))
    path = zoo.save_checkpoint(model, tmp_path / "ckpt", metrics={"test_ce": 1.5})
    return model, path


def test_config_is_self_describing(ckpt):
    _, path = ckpt
    config = json.loads((path / CONFIG).read_text())
    assert config["model"]["arch"] == "lstm"
    assert config["vocab"]["chars"] == "abcdefg"
    assert config["zoo_version"] == zoo.__version__
    assert config["metrics"] == {"test_ce": 1.5}
    assert len(config["weights_sha256"]) == 64


def test_torch_save_pickle_is_refused_without_unpickling(ckpt):
    model, path = ckpt
    torch.save(model.state_dict(), path / WEIGHTS)
    with pytest.raises(zoo.ZooError, match="pickle.*never unpickles"):
        zoo.load_checkpoint(path)


def test_plain_pickle_is_refused(ckpt):
    _, path = ckpt
    (path / WEIGHTS).write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(zoo.ZooError, match="pickle"):
        zoo.load_checkpoint(path)


def test_a_folder_of_pickled_weights_is_named_as_such(ckpt, tmp_path):
    """Someone else's `pytorch_model.bin` folder, config or not: the refusal says what it found."""
    model, _ = ckpt
    folder = tmp_path / "theirs"
    folder.mkdir()
    torch.save(model.state_dict(), folder / "pytorch_model.bin")
    with pytest.raises(zoo.ZooError, match=r"config.json is missing \(found pytorch_model.bin: pickled weights"):
        zoo.load_checkpoint(folder)
    (folder / CONFIG).write_text("{}")
    with pytest.raises(zoo.ZooError, match=r"model.safetensors is missing \(found pytorch_model.bin"):
        zoo.checkpoint._read_weights(folder, None, {})


def test_corrupt_weights_are_refused(ckpt):
    _, path = ckpt
    data = (path / WEIGHTS).read_bytes()
    flipped = bytearray(data)
    flipped[-5] ^= 0xFF  # one weight's byte: the file still parses, only the checksum tells
    (path / WEIGHTS).write_bytes(bytes(flipped))
    with pytest.raises(zoo.ZooError, match="does not match the sha256"):
        zoo.load_checkpoint(path)
    (path / WEIGHTS).write_bytes(data[: len(data) // 2])  # cut short: its header says more than it holds
    with pytest.raises(zoo.ZooError, match="not a valid safetensors file: .* lies outside the file"):
        zoo.load_checkpoint(path)
    config = json.loads((path / CONFIG).read_text())
    del config["weights_sha256"]
    (path / CONFIG).write_text(json.dumps(config))
    with pytest.raises(zoo.ZooError, match="not a valid safetensors file"):
        zoo.load_checkpoint(path)


@pytest.mark.parametrize("damage, message", [
    (lambda p: (p / CONFIG).unlink(), "config.json is missing"),
    (lambda p: (p / WEIGHTS).unlink(), "model.safetensors is missing"),
    (lambda p: (p / CONFIG).write_text("{not json"), "not valid JSON"),
    (lambda p: (p / CONFIG).write_text('{"format": "other"}'), "not a zoo checkpoint"),
    (lambda p: (p / CONFIG).write_bytes(b"\xff\xfe\x00"), "not valid JSON"),
])
def test_damaged_checkpoints(ckpt, damage, message):
    _, path = ckpt
    damage(path)
    with pytest.raises(zoo.ZooError, match=message):
        zoo.load_checkpoint(path)


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["model"].update(hidden=16), r"do not fit its config: head.weight is \[7, 8\], the config needs \[7, 16\]"),
    (lambda c: c["vocab"].update(chars="abcdef"), "its vocabulary has 6 characters, its model 7"),
    (lambda c: c["model"].update(arch="mgu"), "'mgu' is not installed; to get it: pip install"),
])
def test_a_config_that_does_not_fit_its_weights_or_the_installed_plugins(ckpt, edit, message):
    _, path = ckpt
    config = json.loads((path / CONFIG).read_text())
    edit(config)
    (path / CONFIG).write_text(json.dumps(config))
    with pytest.raises(zoo.ZooError, match=message):
        zoo.load_checkpoint(path)


def test_interrupted_write_keeps_the_previous_checkpoint(ckpt, monkeypatch):
    model, path = ckpt
    before = {name: (path / name).read_bytes() for name in (WEIGHTS, CONFIG)}
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        zoo.save_checkpoint(model, path)
    monkeypatch.undo()
    assert {name: (path / name).read_bytes() for name in (WEIGHTS, CONFIG)} == before
    assert sorted(p.name for p in path.iterdir()) == sorted([WEIGHTS, CONFIG])  # no temporary left behind
    zoo.load_checkpoint(path)


def test_loaded_model_equals_saved(ckpt):
    model, path = ckpt
    loaded = zoo.load_checkpoint(path)
    ids = random_ids()
    with torch.no_grad():
        assert torch.equal(loaded(ids)[0], model(ids)[0])
    assert not loaded.training


def test_saving_replaces_a_checkpoint_and_nothing_else(ckpt, tmp_path):
    """save_checkpoint writes config.json and model.safetensors: over an earlier checkpoint, never
    over a user's files, a training run or one of its epochs."""
    model, path = ckpt
    zoo.save_checkpoint(model, path, metrics={"test_ce": 1.25})  # a checkpoint again: replaced
    assert zoo.read_config(path)["metrics"] == {"test_ce": 1.25}
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / CONFIG).write_text('{"my": "settings"}')
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / WEIGHTS).write_bytes(b"someone else's")
    epoch = tmp_path / "run" / "epochs" / "0001"
    zoo.save_checkpoint(model, epoch, training={"epoch": 1})
    (tmp_path / "run" / "run.json").write_text(json.dumps({"last": "epochs/0001", "best": "epochs/0001"}))
    for folder, message in [(mine, "its config.json is not a zoo checkpoint's"),
                            (tmp_path / "weights", "its model.safetensors belongs to no zoo checkpoint"),
                            (tmp_path / "run", "it holds a training run"),
                            (epoch, "it is an epoch of a training run")]:
        before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
        with pytest.raises(zoo.ZooError, match=message):
            zoo.save_checkpoint(model, folder)
        assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before


def test_analyzing_ids_outside_the_vocabulary_is_one_line(ckpt):
    model, _ = ckpt
    with pytest.raises(zoo.ZooError, match="character ids run from 0 to 86; this model reads ids 0 to 6"):
        zoo.analyze(model, "saturation", torch.arange(87))
