"""Plugin discovery through real entry points: good, broken, conflicting, and pip-installed plugins."""

import os
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest

import zoo
from zoo.plugins import PluginWarning, Plugins

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
    assert "toy" in found.names("architecture") and "lstm" in found.names("architecture")
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


def test_two_plugins_registering_one_name_is_an_error_naming_both(site):
    site("plug_lstm", """
    import zoo

    @zoo.hookimpl
    def zoo_register_architectures(register):
        register("lstm", "plug_lstm:Other")
    """)
    with pytest.warns(PluginWarning, match="'lstm' is registered by both plugin 'classic' and plugin 'plug_lstm'"):
        found = Plugins()
    with pytest.raises(zoo.ZooError, match="'classic' and 'plug_lstm'"):
        found.get("architecture", "lstm")
    assert found.get("architecture", "gru").plugin == "classic"  # everything else still works
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
    assert len(strict.stderr.strip().splitlines()) == 1 and "plug_broken" in strict.stderr


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
    assert listed.returncode == 0 and "mgu " in listed.stdout and "plugin: mgu" in listed.stdout
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
    assert hooks and all(f"`{hook}(register)`" in docs for hook in hooks)
    assert all(getattr(hookspecs, hook).__doc__ for hook in hooks)
