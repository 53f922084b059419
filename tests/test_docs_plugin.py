"""The plugin docs/plugins.md walks through, built from the page's own code blocks and run.

A ```python block whose first line is a path comment (``# zoo_indrnn/model.py``) is that file, and
a line ``# other/path.py`` at the start of a line inside a block starts another file; a block whose
first line is indented continues the file of the block before it (the kit's `option_sets`
override); every other block is a fragment. The files are written into a temporary folder, the
``toml`` block's entry points become a distribution's metadata there, and the zoo discovers the
plugin as it discovers an installed one. The page's conformance test class is collected here as it
stands. So a page that tells authors something the base class does not do fails the suite.
"""

import importlib
import json
import re
import sys
import tomllib
import types
from pathlib import Path

import numpy as np
import pytest
import torch

import zoo
from zoo.analysis import text_features
from zoo.plugins import plugins
from zoo.recurrent import INIT_SCALE

PAGE = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"
PATH_LINE = re.compile(r"^# ([\w./-]+\.py)$")


def page_files(markdown: str) -> tuple[dict[str, str], str]:
    """``({path: code}, the toml block)`` from the page's fenced blocks (see the module docstring)."""
    files: dict[str, str] = {}
    toml = ""
    last = None
    for lang, body in re.findall(r"^```(\w+)\n(.*?)^```", markdown, flags=re.M | re.S):
        if lang == "toml":
            toml = body
            continue
        if lang != "python":
            continue
        lines = body.splitlines(keepends=True)
        if lines and lines[0][:1].isspace() and last is not None:
            files[last] += "\n" + body
            continue
        current = None
        for line in lines:
            found = PATH_LINE.match(line.rstrip("\n"))
            if found:
                current = found.group(1)
                files[current] = ""
            elif current is not None:
                files[current] += line
        last = current
    return files, toml


FILES, TOML = page_files(PAGE.read_text(encoding="utf-8"))
PACKAGES = sorted({path.split("/")[0] for path in FILES if "/" in path and not path.startswith("tests/")})


def _page_test_module() -> types.ModuleType:
    module = types.ModuleType("docs_plugins_test_conformance")
    module.__file__ = f"{PAGE}:tests/test_conformance.py"
    exec(compile(FILES["tests/test_conformance.py"], module.__file__, "exec"), module.__dict__)
    return module


# The page's own kit class, collected here as the page writes it (option_sets included).
TestPageConformance = next(obj for name, obj in vars(_page_test_module()).items()
                           if name.startswith("Test") and isinstance(obj, type))


@pytest.fixture(scope="module", autouse=True)
def page_plugin(tmp_path_factory):
    """The page's files on sys.path, with a .dist-info holding the toml block's entry points."""
    root = tmp_path_factory.mktemp("docs-plugin")
    for path, code in FILES.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(code, encoding="utf-8")
    project = tomllib.loads(TOML)["project"]
    info = root / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    points = "".join(f"{name} = {value}\n" for name, value in project["entry-points"]["zoo"].items())
    (info / "entry_points.txt").write_text(f"[zoo]\n{points}")
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(root))
        plugins.cache_clear()
        try:
            yield root
        finally:
            plugins.cache_clear()
            for name in [m for m in sys.modules if m.split(".")[0] in PACKAGES]:
                del sys.modules[name]


def test_the_page_holds_a_whole_plugin_found_through_its_entry_point():
    assert {"zoo_indrnn/__init__.py", "zoo_indrnn/model.py", "tests/test_conformance.py",
            "zoo_digits/__init__.py", "zoo_digits/features.py", "zoo_vowel/__init__.py",
            "zoo_vowel/task.py"} <= set(FILES)
    assert "def option_sets" in FILES["tests/test_conformance.py"]  # the indented block joined its class
    entry = plugins().get("architecture", "indrnn")
    info = plugins().info[entry.plugin]
    assert (info.distribution, info.version, info.error) == ("zoo-indrnn", "0.1.0", None)


def test_the_pages_architecture_builds_initializes_and_reads_its_options():
    """The constructor calls the page's ``reset_parameters(self, scale)`` (no default) with the
    scale, and the cell reads its conventions as the page says: ``self.config.options[...]``."""
    model = zoo.create_model("indrnn-2x8", vocab_size=5).eval()
    assert model.config.options == {"activation": "relu", "recurrent_max": 1.0}
    for layer in model.layers:
        assert layer.u.min() >= 0
        assert layer.u.max() <= 1.0
        assert layer.u.std() > 0.1
        assert layer.weight_ih.abs().max() <= INIT_SCALE  # the base class's, for the rest
    ids = torch.randint(0, 5, (2, 7), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        logits, state = model(ids)
        trace = model.trace(ids)
    assert logits.shape == (2, 7, 5)
    assert torch.isfinite(logits).all()
    assert state[0].shape == (2, 2, 8)
    assert min(trace[f"layers.{layer}.h"].min().item() for layer in (0, 1)) >= 0  # ReLU

    tanh = zoo.create_model("indrnn-1x8", vocab_size=5, options={"activation": "tanh", "recurrent_max": 0.5})
    tanh.reset_parameters(0.5)  # as the trainer and the kit call it
    assert tanh.layers[0].u.max() <= 0.5
    assert tanh.layers[0].weight_ih.abs().max() > INIT_SCALE
    with torch.no_grad():
        h = tanh.trace(ids)["layers.0.h"]
    assert h.min() < 0
    assert h.abs().max() < 1
    with pytest.raises(zoo.ZooError, match="option activation='gelu' is not allowed"):
        zoo.create_model("indrnn-1x8", vocab_size=5, options={"activation": "gelu"})


def test_the_pages_feature_plugin_describes_the_text_after_each_character():
    """Registered in-process, as the page says a notebook does."""
    plugins().register(importlib.import_module("zoo_digits"), "digits")
    got = text_features("a1b22\n", ["digit"])["digit"]
    np.testing.assert_array_equal(got, [False, True, False, True, True, False])


def test_the_pages_task_trains_scores_and_reloads(tiny_text, tmp_path, zoo_cli):
    """Section 8's task, registered in-process: a run learns whether a vowel comes next (better
    than the classes' base rate), its checkpoint reloads with its labels, `zoo eval` scores it."""
    plugins().register(importlib.import_module("zoo_vowel"), "vowel")
    corpus = zoo.load_corpus(str(tiny_text))
    result = zoo.train("lstm-1x16", corpus, zoo.Recipe(max_epochs=3, batch_size=8, seq_length=20, lr=0.01),
                       tmp_path / "run", task="vowel", progress=False, log=lambda line: None)
    train_text = corpus.splits()[0]
    rate = sum(c in "aeiouAEIOU" for c in train_text) / len(train_text)
    base = -(rate * np.log(rate) + (1 - rate) * np.log(1 - rate))  # nats: knowing nothing but the rate
    assert result.best_valid_nats < 0.8 * base
    model = zoo.load(tmp_path / "run")
    assert (model.config.task, model.config.classes, model.words.words[2:]) == ("vowel", 4, ["other", "vowel"])
    code, out, err = zoo_cli("eval", "--model", str(tmp_path / "run"), "--json", "--on", "valid")
    assert code == 0, err
    assert abs(json.loads(out)["nats"] - result.best_valid_nats) < 1e-9
