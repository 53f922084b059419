"""The shape of the house: a core that names no task, plugins that import the public module
alone, a CLI that parses, calls and prints, and one module that spells a run folder's layout."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import zoo

ROOT = Path(__file__).resolve().parent.parent
CORE = sorted(p for p in (ROOT / "zoo").rglob("*") if p.suffix in (".py", ".j2") and "pretrained" not in p.parts)
PLUGINS = sorted((ROOT / "plugins").rglob("*.py"))
CLI_MOST_LINES = 40


def _functions(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            docstring = isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and len(body) > 1
            yield node.name, node.end_lineno - body[1 if docstring else 0].lineno + 1


def test_the_core_names_no_task_but_the_default():
    """Tasks are plugins: the core knows a model's task only by the name its config records."""
    named = [str(p.relative_to(ROOT)) for p in CORE if re.search(r"autocomplete", p.read_text(encoding="utf-8"), re.I)]
    assert named == []


def _zoo_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("zoo."):
            found.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.startswith("zoo.")]
    return found


@pytest.mark.parametrize("path", PLUGINS, ids=lambda p: str(p.relative_to(ROOT / "plugins")))
def test_plugins_import_the_public_module_alone(path):
    """Built-in plugins are written as a third party's: `zoo` is their whole interface."""
    assert _zoo_imports(path) == []


def test_every_public_name_resolves():
    for name in zoo.__all__:
        assert getattr(zoo, name) is not None, name


def test_the_checks_catch_what_they_are_for(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from zoo.train import fit\nimport zoo.analysis\nfrom zoo import Task\nfrom . import data\n")
    assert _zoo_imports(bad) == ["from zoo.train import ...", "import zoo.analysis"]
    long = tmp_path / "long.py"
    long.write_text('def f():\n    """Doc."""\n' + "    x = 1\n" * 41)
    assert dict(_functions(long)) == {"f": 41}


@pytest.mark.parametrize("path", sorted((ROOT / "zoo" / "cli").glob("*.py")), ids=lambda p: p.name)
def test_cli_functions_parse_call_and_print(path):
    """The commands' logic lives in the core, where Python users reach it too."""
    long = {name: lines for name, lines in _functions(path) if lines > CLI_MOST_LINES}
    assert long == {}


def test_one_module_spells_a_run_folders_layout():
    spelled = [str(p.relative_to(ROOT)) for p in CORE if p.suffix == ".py" and p.name != "runs.py"
               and re.search(r"""["']run\.json["']|/ *["'](?:epochs|steps)["']|["'](?:epochs|steps)/""",
                             p.read_text(encoding="utf-8"))]
    assert spelled == []
