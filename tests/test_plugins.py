"""Plugin discovery through real entry points: good, broken, conflicting, and pip-installed plugins."""

import json
import os
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest

import zoo
from zoo.plugins import Plugins, PluginWarning

ROOT = Path(__file__).resolve().parents[1]
ZOO = [sys.executable, "-m", "zoo"]


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A directory on sys.path where `add(name, code)` installs a plugin distribution
    (a module plus a .dist-info with its `zoo` entry point), found by importlib.metadata."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def add(name: str, code: str, entry: str | None = None) -> Path:
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(code))
        info = tmp_path / f"{name}-1.2.3.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.2.3\n")
        (info / "entry_points.txt").write_text(f"[zoo]\n{entry or name} = {name}\n")
        return tmp_path

    yield add
    for mod in [m for m in sys.modules if m.startswith("plug_")]:
        del sys.modules[mod]


GOOD = """
import zoo

@zoo.hookimpl
def zoo_register_architectures(register):
    register("toy", "plug_good:Toy", summary="a toy")

@zoo.hookimpl
def zoo_register_analyzers(register):
    register("count", object, summary="counts")
"""


def test_third_party_plugin_is_discovered(site):
    site("plug_good", GOOD)
    found = Plugins()
    assert "toy" in found.names("architecture")
    assert "lstm" in found.names("architecture")
    assert "count" in found.names("analyzer")
    info = found.info["plug_good"]
    assert (info.distribution, info.version) == ("plug_good", "1.2.3")
    assert info.registers == {"architecture": ["toy"], "analyzer": ["count"]}
    assert found.get("architecture", "toy").plugin == "plug_good"


def test_plugin_that_fails_to_import_is_skipped(site):
    site("plug_broken", "raise RuntimeError('boom at import')")
    with pytest.warns(PluginWarning, match="plugin 'plug_broken' skipped: RuntimeError: boom at import"):
        found = Plugins()
    assert "lstm" in found.names("architecture")
    assert found.info["plug_broken"].error
    with pytest.raises(zoo.ZooError, match="plug_broken.*ZOO_STRICT_PLUGINS"):
        Plugins(strict=True)


def test_plugin_whose_hook_raises_is_skipped(site):
    site("plug_raises", """
    import zoo

    @zoo.hookimpl
    def zoo_register_architectures(register):
        register("half", "plug_raises:X")
        raise ValueError("oops")
    """)
    with pytest.warns(PluginWarning, match="plug_raises.*ValueError: oops"):
        found = Plugins()
    assert "half" not in found.names("architecture")  # nothing from a failed hook call is kept


def test_hook_name_typo_is_reported(site):
    site("plug_typo", """
    import zoo

    @zoo.hookimpl
    def zoo_register_architecture(register):
        pass
    """)
    with pytest.warns(PluginWarning, match="unknown hook.*zoo_register_architecture"):
        Plugins()


def test_a_plugin_cannot_take_a_builtin_name(site):
    site("plug_lstm", """
    import zoo

    @zoo.hookimpl
    def zoo_register_architectures(register):
        register("lstm", "plug_lstm:Other")
        register("toy", "plug_lstm:Toy")
    """)
    with pytest.warns(PluginWarning, match="plugin 'plug_lstm' \\(plug_lstm 1.2.3\\): architecture 'lstm' is the zoo's "
                                           "own: this registration is skipped"):
        found = Plugins()
    assert found.get("architecture", "lstm").plugin == "classic"  # the built-in keeps its name
    assert found.get("architecture", "toy").plugin == "plug_lstm"  # and the plugin the rest of its names
    assert found.info["plug_lstm"].registers == {"architecture": ["toy"]}
    with pytest.raises(zoo.ZooError, match="the zoo's own"):
        Plugins(strict=True)


def test_two_plugins_registering_one_name_is_an_error_naming_both(site):
    for name in ("plug_a", "plug_b"):
        site(name, f"""
        import zoo

        @zoo.hookimpl
        def zoo_register_architectures(register):
            register("toy", "{name}:Toy")
            register("{name}-own", "{name}:Own")
        """)
    with pytest.warns(PluginWarning, match="'toy' is registered by both plugin 'plug_a' and plugin 'plug_b'"):
        found = Plugins()
    with pytest.raises(zoo.ZooError, match=r"'plug_a' \(plug_a\) and 'plug_b' \(plug_b\): uninstall one of them"):
        found.get("architecture", "toy")
    assert found.get("architecture", "plug_a-own").plugin == "plug_a"  # everything else still works
    with pytest.raises(zoo.ZooError, match="registered by both"):
        Plugins(strict=True)


def test_discovery_runs_once_per_process(monkeypatch):
    calls = []
    real = metadata.entry_points
    monkeypatch.setattr("zoo.plugins.metadata.entry_points", lambda **kw: calls.append(kw) or real(**kw))
    zoo.plugins.plugins.cache_clear()
    try:
        zoo.create_model("lstm-1x4", vocab_size=3)
        zoo.create_model("gru-1x4", vocab_size=3)
        zoo.list_architectures()
        assert [c for c in calls if c.get("group") == "zoo"] == [{"group": "zoo"}]
    finally:
        zoo.plugins.plugins.cache_clear()


def run_zoo(*args, env_extra=None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([*ZOO, *args], capture_output=True, text=True, env=env, timeout=120)


def test_broken_plugin_does_not_break_the_cli(site, tmp_path):
    site("plug_broken", "raise ImportError('missing dependency')")
    env = {"PYTHONPATH": str(tmp_path)}
    result = run_zoo("list", env_extra=env)
    assert result.returncode == 0, result.stderr
    assert "lstm" in result.stdout
    assert result.stderr.strip().splitlines() == [
        "zoo: warning: plugin 'plug_broken' skipped: ImportError: missing dependency"
    ]
    strict = run_zoo("list", env_extra={**env, "ZOO_STRICT_PLUGINS": "1"})
    assert strict.returncode == 1
    assert len(strict.stderr.strip().splitlines()) == 1
    assert "plug_broken" in strict.stderr


def test_pip_installed_plugin_appears_in_zoo_list_and_passes_the_kit(tmp_path):
    """The example third-party distribution, really installed by pip (into a target directory)."""
    target = tmp_path / "site"
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(ROOT / "examples" / "zoo-mgu")],
        capture_output=True, text=True, timeout=300,
    )
    assert pip.returncode == 0, pip.stderr
    env = {"PYTHONPATH": str(target)}
    listed = run_zoo("list", env_extra=env)
    assert listed.returncode == 0
    assert "mgu " in listed.stdout
    assert "plugin: mgu" in listed.stdout
    info = run_zoo("info", "mgu-2x128.tinyshakespeare", "--json", env_extra=env)
    assert info.returncode == 0, info.stderr
    kit = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(ROOT / "examples" / "zoo-mgu" / "tests")],
        capture_output=True, text=True, timeout=300, env={**os.environ, **env}, cwd=tmp_path,
    )
    assert kit.returncode == 0, kit.stdout[-2000:]


def test_every_hook_is_documented_for_plugin_authors():
    """As datasette does: a hook without a section in docs/plugins.md fails the suite."""
    from zoo import hookspecs

    docs = (ROOT / "docs" / "plugins.md").read_text()
    hooks = [name for name in dir(hookspecs) if name.startswith("zoo_")]
    assert hooks
    assert all(f"`{hook}(register)`" in docs for hook in hooks)
    assert all(getattr(hookspecs, hook).__doc__ for hook in hooks)


BROKEN_CELL = """
import torch
from torch import nn
import zoo

@zoo.hookimpl
def zoo_register_architectures(register):
    register("leaky", "plug_leaky:Leaky", summary="declares an output gate it never returns")

class Leaky(zoo.RecurrentLM):
    arch = "leaky"
    internal_names = property(lambda self: ("f", "o", "h"))
    gate_names = property(lambda self: ("f", "o"))

    def build_layers(self):
        self.layers = nn.ModuleList()
        for layer in range(self.config.layers):
            m = nn.Module()
            m.w = nn.Parameter(torch.empty(self.config.hidden, self.layer_input_size(layer) + self.config.hidden))
            m.bias = nn.Parameter(torch.empty(self.config.hidden))
            self.layers.append(m)

    def cell(self, layer, xp, state):
        (h,) = state
        m = self.layers[layer]
        f = torch.sigmoid(torch.cat([xp, h], -1) @ m.w.t() + m.bias)
        h = f * h + (1 - f) * torch.tanh(xp.sum(-1, keepdim=True))
        return (h,), {"f": f, "h": h}
"""

KIT = """
import pytest
from zoo.testing import ArchitectureTests

class TestLeaky(ArchitectureTests):
    @pytest.fixture
    def arch(self):
        return "leaky"

    @pytest.fixture
    def option_sets(self):
        return [{}]
"""


def test_the_kit_fails_a_broken_architecture_with_a_clear_message(site, tmp_path):
    where = site("plug_leaky", BROKEN_CELL)
    (tmp_path / "test_kit.py").write_text(KIT)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "test_kit.py")],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(where), *sys.path])})
    assert result.returncode == 1, result.stdout[-3000:]
    assert "cell() of layer 0 returned no o, which internal_names declares" in result.stdout
    assert "leaky: cell() returned no o, which internal_names declares (it returned: f, h)" in result.stdout
    assert "KeyError" not in result.stdout
    assert "bias='double' adds no parameters" in result.stdout  # it declares both layouts but builds one


TOY = """
import zoo
from zoo_classic.models import GRU

@zoo.hookimpl
def zoo_register_architectures(register):
    register("toy", "plug_toy:Toy", summary="a GRU under another name")

@zoo.hookimpl
def zoo_register_models(register):
    register("toy-2x8.tiny", {"dataset": "sample", "description": "a named toy"})
    register("toy-1x4.bad", {"dropout": 7})

class Toy(GRU):
    arch = "toy"
"""


def run_python(code: str, env_extra: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env_extra})


def test_a_checkpoint_names_the_plugin_it_needs(site, tmp_path):
    where = site("plug_toy", TOY)
    ckpt = tmp_path / "ckpt"
    made = run_python(f"""
        import zoo
        zoo.save_checkpoint(zoo.create_model("toy-1x4", vocab=zoo.Vocab(list("abcde"))), {str(ckpt)!r})
    """, {"PYTHONPATH": str(where)})
    assert made.returncode == 0, made.stderr
    assert json.loads((ckpt / "config.json").read_text())["plugin"] == {
        "entry_point": "plug_toy", "distribution": "plug_toy", "version": "1.2.3"}
    gone = run_zoo("sample", "--model", str(ckpt), "-n", "1")  # as after `pip uninstall plug_toy`
    needs = (f"zoo: error: {ckpt} needs plug_toy 1.2.3: install the distribution plug_toy 1.2.3 (the checkpoint does "
             "not say where it came from)")  # the test's site has no installer record: no command that could mislead
    assert gone.returncode == 1
    assert gone.stderr.strip() == needs
    info = run_zoo("info", str(ckpt))  # one answer everywhere
    assert info.returncode == 1
    assert info.stderr.strip() == needs
    (where / "plug_toy.py").write_text("raise ImportError('needs numba')")
    broken = run_zoo("sample", "--model", str(ckpt), "-n", "1", env_extra={"PYTHONPATH": str(where)})
    assert broken.returncode == 1
    assert (f"{ckpt} needs architecture 'toy' from plug_toy, which is installed but failed to load: "
            "ImportError: needs numba") in broken.stderr


def test_a_plugin_contributes_named_models(site):
    where = site("plug_toy", TOY)
    listed = run_zoo("list", "toy*", "--json", env_extra={"PYTHONPATH": str(where)})
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    assert [m["name"] for m in data["models"]] == ["toy-2x8.tiny"]
    assert [a["name"] for a in data["architectures"]] == ["toy"]
    assert "model 'toy-1x4.bad' from plugin 'plug_toy' skipped" in listed.stderr
    info = run_zoo("info", "toy-2x8.tiny", env_extra={"PYTHONPATH": str(where)})
    assert "plugin       plug_toy (plug_toy 1.2.3)" in info.stdout
    assert "a named toy" in info.stdout


def test_a_broken_plugin_is_named_when_its_architecture_is_asked_for(site):
    where = site("plug_indrnn", "raise ImportError('needs a compiler')")
    site("plug_stats", """
    import zoo

    @zoo.hookimpl
    def zoo_register_analyzers(register):
        raise RuntimeError("analyzers only")
    """)
    result = run_zoo("info", "indrnn-2x64", env_extra={"PYTHONPATH": str(where)})
    assert result.returncode == 1
    assert "plug_stats" not in result.stderr.splitlines()[-1]  # it registers no architecture: not a suspect
    assert ("no installed plugin provides architecture 'indrnn'" in result.stderr)
    assert ("plugin 'plug_indrnn' (plug_indrnn 1.2.3) is installed but failed to load: ImportError: needs a compiler"
            in result.stderr)


DUPLICATE_LSTM = """
import zoo

@zoo.hookimpl
def zoo_register_architectures(register):
    register("lstm", "zoo_classic.models:LSTM", summary="another lstm")
"""


def test_a_taken_builtin_name_is_shown_and_the_builtin_still_works(site):
    where = site("plug_dup", DUPLICATE_LSTM)
    env = {"PYTHONPATH": str(where)}
    shown = run_zoo("plugins", env_extra=env)
    assert shown.returncode == 0
    assert "conflict: architecture 'lstm' is the zoo's own: this registration is skipped" in shown.stdout
    strict = run_zoo("plugins", env_extra={**env, "ZOO_STRICT_PLUGINS": "1"})
    assert strict.returncode == 1
    assert "conflict:" in strict.stdout
    made = run_python('import zoo\nprint(zoo.create_model("lstm-1x8", vocab_size=5).config.arch)', env)
    assert made.stdout.strip().endswith("lstm")
    evaluated = run_zoo("eval", "--model", "lstm-2x128.sample", "--resamples", "0", env_extra=env)
    assert evaluated.returncode == 0, evaluated.stderr
    assert "architecture 'lstm' is the zoo's own" in evaluated.stderr  # said, once, as a warning


def test_a_failing_hook_shows_its_traceback_on_request(site):
    where = site("plug_raise", """
        import zoo

        @zoo.hookimpl
        def zoo_register_architectures(register):
            raise RuntimeError("bad registration")
    """)
    quiet = run_zoo("plugins", env_extra={"PYTHONPATH": str(where)})
    assert "error: zoo_register_architectures raised RuntimeError: bad registration" in quiet.stdout
    traced = run_zoo("list", env_extra={"PYTHONPATH": str(where), "ZOO_PLUGIN_TRACEBACK": "1"})
    assert "Traceback (most recent call last)" in traced.stderr
    assert 'plug_raise.py", line 6' in traced.stderr


CRASHING_CONSTRUCTOR = """
import zoo
from zoo_classic.models import GRU

@zoo.hookimpl
def zoo_register_architectures(register):
    register("crash", "plug_crash:Crash", summary="raises when built")
    register("slip", "plug_crash:Slip", summary="raises when run")

class Crash(GRU):
    arch = "crash"

    def __init__(self, config, **kw):
        raise RuntimeError("boom in init")

class Slip(GRU):
    arch = "slip"

    def forward(self, *args, **kw):
        return super().forward(None)  # the base class fails on what this plugin passed it
"""


def test_an_architecture_whose_constructor_raises_is_one_line_naming_its_plugin(site, tmp_path):
    env = {"PYTHONPATH": str(site("plug_crash", CRASHING_CONSTRUCTOR))}
    expected = "architecture 'crash' from plugin 'plug_crash' failed: RuntimeError: boom in init"
    info = run_zoo("info", "crash-2x8", env_extra=env)
    assert info.returncode == 1
    assert expected in info.stderr
    assert "Traceback" not in info.stderr
    out = tmp_path / "run"
    trained = run_zoo("train", "--model", "crash-2x8", "--data", "sample", "--epochs", "1", "--out", str(out), env_extra=env)
    assert trained.returncode == 1
    assert expected in trained.stderr
    assert "Traceback" not in trained.stderr
    assert not out.exists()
    traced = run_zoo("info", "crash-2x8", env_extra={**env, "ZOO_PLUGIN_TRACEBACK": "1"})
    assert "Traceback (most recent call last)" in traced.stderr
    assert "plug_crash.py" in traced.stderr


def test_a_plugin_that_fails_while_it_runs_is_one_line_naming_it(site, tmp_path):
    """An error no code path expected, raised inside a plugin's code (here in the built-in base
    class it extends, called wrongly): one line naming the plugin zoo called into."""
    env = {"PYTHONPATH": str(site("plug_crash", CRASHING_CONSTRUCTOR))}
    out = tmp_path / "run"
    trained = run_zoo("train", "--model", "slip-1x4", "--data", "sample", "--epochs", "1", "--out", str(out), env_extra=env)
    assert trained.returncode == 1
    assert "Traceback" not in trained.stderr
    assert trained.stderr.splitlines()[-1].startswith("zoo: error: plugin 'plug_crash' failed: AttributeError: ")
    traced = run_zoo("train", "--model", "slip-1x4", "--data", "sample", "--epochs", "1", "--out", str(tmp_path / "b"),
                     env_extra={**env, "ZOO_TRACEBACK": "1"})
    assert "Traceback (most recent call last)" in traced.stderr
    assert "plug_crash.py" in traced.stderr


def test_an_unexpected_error_outside_plugins_is_one_line(monkeypatch, zoo_cli):
    import zoo.registry

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device", "/runs/x")

    monkeypatch.setattr(zoo.registry, "resolve", disk_full)
    code, _, err = zoo_cli("info", "lstm-2x8")
    assert code == 1
    assert err == "zoo: error: OSError: [Errno 28] No space left on device: '/runs/x'\n"

    def bug(*args, **kwargs):
        return {}["missing"]

    monkeypatch.setattr(zoo.registry, "resolve", bug)
    code, _, err = zoo_cli("info", "lstm-2x8")
    assert code == 1
    assert err.startswith("zoo: error: unexpected KeyError: 'missing': a bug in zoo")
    assert err.count("\n") == 1


COMMANDS = """
import click
import zoo

@click.command()
@click.argument("who")
def hello(who):
    '''Greet WHO.'''
    click.echo(f"hello {who}")

@zoo.hookimpl
def zoo_register_commands(register):
    register("hello", "plug_commands:hello", summary="greets")
    register("gone", "plug_commands_missing:command", summary="cannot load")
    register("list", "plug_commands:hello", summary="would hide zoo list")
"""


def test_a_plugin_adds_commands_and_a_broken_one_leaves_zoo_working(site, tmp_path):
    """A command registered by a plugin runs as `zoo NAME`; one whose module is missing is left
    out of `zoo --help` with one warning; a plugin's command never replaces the zoo's own."""
    site("plug_commands", COMMANDS)
    env = {"PYTHONPATH": str(tmp_path)}
    hello = run_zoo("hello", "world", env_extra=env)
    assert hello.returncode == 0, hello.stderr
    assert hello.stdout == "hello world\n"
    listed = run_zoo("--help", env_extra=env)
    assert listed.returncode == 0, listed.stderr
    assert "hello" in listed.stdout
    assert "gone" not in listed.stdout
    assert "plug_commands_missing" in listed.stderr
    assert len(listed.stderr.strip().splitlines()) == 1
    own = run_zoo("list", "--json", env_extra=env)
    assert own.returncode == 0, own.stderr
    assert "architectures" in json.loads(own.stdout)


UNIGRAM = """
import json
from pathlib import Path

import torch
import zoo


class Unigram(zoo.Baseline):
    name = "unigram"
    params = {"k": zoo.Param(1.0, "add-k smoothing", check=lambda v: v > 0)}

    def __init__(self, counts, vocab, sections=None):
        self.counts, self.vocab, self.sections = counts, vocab, sections or {}

    @classmethod
    def fit(cls, train_ids, vocab, order=1, directory=None, sections=None, valid_ids=None, progress=False, k=1.0):
        return cls(torch.bincount(train_ids, minlength=len(vocab)).double() + k, vocab, sections)  # save() writes

    def log_probs(self, ids):
        return (self.counts / self.counts.sum()).log().float().expand(len(ids), -1)

    def save(self, directory):
        Path(directory).mkdir(parents=True, exist_ok=True)
        (Path(directory) / "config.json").write_text(json.dumps({**zoo.checkpoint_header(), "vocab": self.vocab.to_dict(),
            "baseline": {"name": "unigram", "counts": self.counts.tolist()}, **self.sections}))

    @classmethod
    def load(cls, directory):
        config = json.loads((Path(directory) / "config.json").read_text())
        return cls(torch.tensor(config["baseline"]["counts"]), zoo.Vocab.from_dict(config["vocab"]))


class Lost(Unigram):
    name = "lost"

    def save(self, directory):  # writes nothing anywhere
        pass


@zoo.hookimpl
def zoo_register_baselines(register):
    register("unigram", "plug_unigram:Unigram", summary="add-k unigram")
    register("lost", "plug_unigram:Lost", summary="saves nothing")
"""


def test_a_third_party_baseline_fits_is_saved_and_names_its_plugin(site, tmp_path, tiny_text):
    """`zoo baseline fit` keeps what the baseline's fit or save writes, records the plugin, and
    refuses to report a fit that left no checkpoint."""
    env = {"PYTHONPATH": str(site("plug_unigram", UNIGRAM))}
    fitted = run_zoo("baseline", "fit", "unigram", "--order", "1", "--data", str(tiny_text), "--out",
                     str(tmp_path / "uni"), "--set", "k=0.5", "--quiet", env_extra=env)
    assert fitted.returncode == 0, fitted.stderr
    assert json.loads((tmp_path / "uni" / "config.json").read_text())["plugin"]["distribution"] == "plug_unigram"
    scored = run_zoo("eval", "--model", str(tmp_path / "uni"), "--json", env_extra=env)
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)["nats"] > 0
    gone = run_zoo("eval", "--model", str(tmp_path / "uni"), env_extra={"PYTHONPATH": ""})
    assert gone.returncode == 1
    assert "needs plug_unigram 1.2.3" in gone.stderr
    lost = run_zoo("baseline", "fit", "lost", "--order", "1", "--data", str(tiny_text), "--out", str(tmp_path / "lost"),
                   "--quiet", env_extra=env)
    assert lost.returncode == 1
    assert "baseline 'lost' wrote no config.json into" in lost.stderr
    assert not (tmp_path / "lost").exists()
