"""The zoo command: output for people and scripts, one-line errors, and a torch-free start."""

import json
import os
import re
import subprocess
import sys

import pytest
import torch

import zoo


def test_list_shows_architectures_and_models(zoo_cli):
    code, out, _ = zoo_cli("list")
    assert code == 0
    for arch in ("rnn", "lstm", "gru", "nlstm"):
        assert f"  {arch} " in out
    assert "lstm-3x512.warpeace" in out
    assert "  ngram " in out
    assert "  nnn " in out
    assert "Analyzers:\n" in out
    assert "  cells " in out
    assert "  quote " in out


def test_list_says_which_named_models_have_weights(zoo_cli):
    from zoo.registry import registry

    code, out, _ = zoo_cli("list", "--pretrained")
    released = [name for name, spec in registry().models.items() if spec.released]
    assert code == 0
    assert out.splitlines()[0] == f"Models ({len(released) + 1} with weights):"
    assert re.search(r"^  lstm-2x128\.sample +weights: shipped with the zoo$", out, re.M)
    assert {line.split()[0] for line in out.splitlines()[1:]} == {"lstm-2x128.sample", *released}
    code, out, _ = zoo_cli("list", "lstm-2x128*", "--json")
    weights = {m["name"]: m["weights"] for m in json.loads(out)["models"]}
    assert weights["lstm-2x128.sample"] == "shipped with the zoo"
    assert weights["lstm-2x128.warpeace"] is None


def test_list_json_and_pattern(zoo_cli):
    code, out, _ = zoo_cli("list", "*.text8", "--json")
    data = json.loads(out)
    assert code == 0
    assert [m["name"] for m in data["models"]] == ["gru-2x600.text8", "lstm-2x600.text8", "nlstm-1x600.text8"]
    assert data["architectures"] == []  # the pattern filters every list
    code, out, _ = zoo_cli("list", "lstm*", "--json")
    assert [a["name"] for a in json.loads(out)["architectures"]] == ["lstm"]


def test_info_shows_spec_and_parameter_count(zoo_cli):
    code, out, _ = zoo_cli("info", "nlstm-1x600.text8", "--json")
    data = json.loads(out)
    assert code == 0
    assert data["parameters"]["recurrent"] == 5_764_800
    assert data["config"]["options"] == {"depth": 2, "outer_candidate": "identity"}
    code, out, _ = zoo_cli("info", "lstm-3x512")
    assert code == 0
    assert "5,427,200 recurrent" in out
    assert "lstm-3x512.linux" in out
    assert out.startswith("lstm-3x512  (the shape of the registered variants below)\n")
    assert "  weights      lstm-3x512.warpeace's: released (released/lstm-3x512.warpeace)\n" in out  # what --model loads
    code, out, _ = zoo_cli("info", "lstm-1x64.warpeace")  # released: counted for the vocabulary of its weights
    assert "  parameters   42,962 (37,632 recurrent) for a vocabulary of 82\n" in out
    code, out, _ = zoo_cli("info", "nlstm-2x64")  # each option with what it means, for `zoo train --set`
    assert "  options      depth=2: an integer from 2 to 16: memory levels per unit\n" in out
    assert "               outer_candidate=identity: activation of level 0's candidate\n" in out
    code, out, _ = zoo_cli("info", "gru-2x600.text8")
    assert "  reference    source madsen2019-distill, test_ce 2.117, accuracy 0.5201\n" in out


def test_info_on_a_checkpoint_directory(zoo_cli, tmp_path):
    model = zoo.create_model("gru-1x8", vocab_size=5)
    zoo.save_checkpoint(model, tmp_path / "c")
    code, out, _ = zoo_cli("info", str(tmp_path / "c"), "--json")
    assert code == 0
    assert json.loads(out)["config"]["arch"] == "gru"
    assert json.loads(out)["weights"].startswith("verified")
    config = json.loads((tmp_path / "c" / "config.json").read_text())
    config["model"]["hidden"] = 9  # a config edited by hand: the weights no longer fit
    (tmp_path / "c" / "config.json").write_text(json.dumps(config))
    code, out, _ = zoo_cli("info", str(tmp_path / "c"))
    assert code == 1  # shown, and a script sees it
    assert "  weights      refused: the weights in" in out
    assert "do not fit its config" in out
    code, out, _ = zoo_cli("info", str(zoo.registry.PRETRAINED / "lstm-2x128.sample"))
    assert code == 0
    assert "  metrics      valid_nats 1.3191, epoch 52\n" in out
    assert "sha256 30b16e59303c…, characters 611,742, split 0.8/0.1/0.1, line_endings crlf" in out


@pytest.mark.parametrize("args, fragment", [
    (["info", "lstm-3x512.warpiece"], "unknown model 'lstm-3x512.warpiece'"),
    (["info", "bogus"], "model names look like"),
    (["info", "mgu-2x128.tinyshakespeare"], "'mgu' is not installed; to get it"),
])
def test_errors_are_one_line(zoo_cli, args, fragment):
    code, out, err = zoo_cli(*args)
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("zoo: error: ")
    assert fragment in err


@pytest.mark.parametrize("command", [["eval"], ["sample", "-n", "3"], ["analyze", "--analyzer", "cells"]])
def test_a_checkpoint_without_a_vocabulary_cannot_read_text(zoo_cli, tmp_path, command):
    zoo.save_checkpoint(zoo.create_model("gru-1x8", vocab_size=5), tmp_path / "c")
    code, out, err = zoo_cli(command[0], "--model", str(tmp_path / "c"), *command[1:])
    assert code == 1
    assert err == f"zoo: error: {tmp_path / 'c'} has no vocabulary: it cannot read text\n"


@pytest.mark.parametrize("device, fragment", [
    ("tpu", "--device tpu: not a device name torch knows"),
    pytest.param("mps", "--device mps is not available on this machine",
                 marks=pytest.mark.skipif(torch.backends.mps.is_available(), reason="this machine has mps")),
    ("meta", "--device meta holds shapes, not numbers"),
])
def test_a_device_that_is_not_there(zoo_cli, device, fragment):
    code, out, err = zoo_cli("eval", "--model", "lstm-2x128.sample", "--device", device)
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert fragment in err


def test_plugins_json(zoo_cli):
    code, out, _ = zoo_cli("plugins", "--json")
    plugins = {p["name"]: p for p in json.loads(out)["plugins"]}
    assert plugins["classic"]["registers"] == {"architecture": ["rnn", "lstm", "gru"]}
    assert plugins["classic"]["version"] == zoo.__version__
    assert plugins["nlstm"]["hooks"] == ["zoo_register_architectures"]


@pytest.mark.parametrize("args", [["--help"], ["list"], ["plugins"]])
def test_fast_commands_do_not_import_torch(args):
    code = (
        "import sys; from zoo.cli import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "assert 'numpy' not in sys.modules, 'numpy was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def complete(words: str) -> list[str]:
    """What bash completion offers for the last word of `words` (click's protocol, as the script
    `_ZOO_COMPLETE=bash_source zoo` prints calls it), without importing torch."""
    env = {**os.environ, "_ZOO_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split(" ")) - 1)}
    code = ("import sys; from zoo.cli import main\ntry:\n    main([])\nexcept SystemExit:\n    pass\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_shell_completion_offers_names_analyzers_and_directories():
    assert "plain,lstm-2x128.sample" in complete("zoo eval --model lstm-2")  # a name with weights
    assert "dir,lstm-2" in complete("zoo eval --model lstm-2")  # and directories
    assert "plain,lstm-2x128.warpeace" not in complete("zoo eval --model lstm-2")  # no weights to load
    assert {"plain,gru-3x75.warpeace", "plain,gru-3x149.warpeace"} <= set(complete("zoo train --model gru-3x"))
    assert "plain,lstm-3x512.warpeace" in complete("zoo info lstm-3x5")
    assert complete("zoo analyze --analyzer cells,sat") == ["plain,cells,saturation"]
    assert "plain,all" in complete("zoo analyze --analyzer a")
    assert "plain,cells,all" not in complete("zoo analyze --analyzer cells,a")


def test_a_refusal_shows_where_it_came_from_under_zoo_traceback():
    def info(env):
        return subprocess.run([sys.executable, "-m", "zoo", "info", "foo-bar"], capture_output=True, text=True,
                              timeout=60, env={**os.environ, **env})

    plain, traced = info({"ZOO_TRACEBACK": "0"}), info({"ZOO_TRACEBACK": "1"})
    line = "zoo: error: unknown model 'foo-bar': model names look like"
    assert plain.returncode == traced.returncode == 1
    assert plain.stderr.startswith(line)
    assert traced.stderr.startswith("Traceback (most recent call last):")
    assert traced.stderr.splitlines()[-1].startswith(line)
