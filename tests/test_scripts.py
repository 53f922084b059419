"""The studies' scripts and the tools still run against the zoo's API: the line-ends study's
(studies/line-ends/) on the model that ships with the zoo, its test split of the bundled sample
read offline; every other Python script starts and parses its arguments, every shell script
parses."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "zoo" / "pretrained" / "lstm-2x128.sample"
STUDY = ROOT / "studies" / "line-ends"


def run_script(name: str, *args: str, cwd: Path) -> str:
    result = subprocess.run([sys.executable, str(STUDY / name), *args], cwd=cwd,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_line_ends_script_tables_figures_and_names_runs(tmp_path):
    out = run_script("line_ends.py", f"sample={SAMPLE}", "--json", "found.json", "--figure", "found.png", cwd=tmp_path)
    found, = json.loads((tmp_path / "found.json").read_text())
    assert found["name"] == "sample"
    assert found["after"] == "word"
    assert found["line_end"] == "\r"
    assert (tmp_path / "found.png").read_bytes().startswith(b"\x89PNG")
    buckets = {row["columns"]: row for row in found["buckets"]}
    assert buckets["70-73"]["model"] > 10 * buckets["0-39"]["model"]  # the shipped model counts the line
    assert re.search(r"^ *sample +0\.0\d\d", out, re.M)
    assert "actual" in out


def test_probe_and_input_similarity_scripts(tmp_path):
    out = run_script("probe_feature.py", str(SAMPLE), "--max-chars", "8000", cwd=tmp_path)
    r2 = dict(re.findall(r"([\w.*]+) (-?\d\.\d+)", out.split("R^2 of line-position", 1)[1]))
    assert set(r2) == {"layers.0.c", "layers.0.h", "layers.1.c", "layers.1.h", "all"}
    assert float(r2["all"]) > 0.5  # the column is written in its state
    out = run_script("input_similarity.py", str(SAMPLE), cwd=tmp_path)
    assert "'\\n'~' '" in out
    assert "'e'~' '" in out


PYTHON_SCRIPTS = sorted([*ROOT.glob("studies/*/*.py"), *(p for p in ROOT.glob("tools/*.py") if p.name != "release.py")])
SHELL_SCRIPTS = sorted([*ROOT.glob("studies/*/*.sh"), *ROOT.glob("tools/*.sh")])


@pytest.mark.parametrize("script", PYTHON_SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_python_scripts_start(script, tmp_path):
    """Every study script and tool imports what it uses from the zoo and parses its arguments."""
    result = subprocess.run([sys.executable, str(script), "--help"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("script", SHELL_SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_shell_scripts_parse(script):
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_gpu_tool_says_what_it_takes(tmp_path):
    """tools/gpu_train.sh documents itself and refuses a misspelt task before any work."""
    tool = ROOT / "tools" / "gpu_train.sh"
    shown = subprocess.run([str(tool), "--help"], capture_output=True, text=True)
    assert shown.returncode == 0
    assert "--time-limit" in shown.stdout
    assert "--out" in shown.stdout
    wrong = subprocess.run([str(tool), "--out", str(tmp_path / "out"), "zoo265"], capture_output=True, text=True)
    assert wrong.returncode == 2
    assert "zoo265" in wrong.stderr
    assert not (tmp_path / "out").exists()
