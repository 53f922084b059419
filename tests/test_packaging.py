"""The installed package (not the source tree) carries its registry and bundled corpus."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_regular_install_has_its_data_files(tmp_path):
    target = tmp_path / "site"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                          "--target", str(target), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stderr
    check = ("import zoo, zoo.registry\n"
             f"assert zoo.registry.registry_path().is_relative_to({str(target)!r}), zoo.registry.registry_path()\n"
             "assert len(zoo.list_models()) > 70\n"
             "from zoo.data import load_corpus\n"
             "assert len(load_corpus('sample').text) > 500_000\n")
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
