import os
import random

import pytest


@pytest.fixture(autouse=True, scope="session")
def zoo_home(tmp_path_factory):
    """The suite's own ZOO_HOME: caches (the validated registry, n-gram fits) stay out of the
    user's, and every run starts from none."""
    previous = os.environ.get("ZOO_HOME")
    os.environ["ZOO_HOME"] = str(tmp_path_factory.mktemp("zoo-home"))
    yield os.environ["ZOO_HOME"]
    if previous is None:
        os.environ.pop("ZOO_HOME", None)
    else:
        os.environ["ZOO_HOME"] = previous


@pytest.fixture
def tiny_text(tmp_path):
    """A small text with learnable structure: words from a little vocabulary, seeded."""
    rng = random.Random(0)
    words = ["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "far"]
    lines = [" ".join(rng.choice(words) for _ in range(rng.randint(3, 9))) + "." for _ in range(600)]
    path = tmp_path / "tiny.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def small_text(tmp_path_factory):
    """A few thousand characters of little words, seeded: for the commands' quick runs."""
    rng = random.Random(1)
    words = ["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "far"]
    path = tmp_path_factory.mktemp("text") / "small.txt"
    path.write_text("\n".join(" ".join(rng.choice(words) for _ in range(6)) + "." for _ in range(150)) + "\n")
    return path


@pytest.fixture
def zoo_cli(capsys):
    """Run the `zoo` command in-process: ``code, stdout, stderr = zoo_cli("list", "--json")``."""
    from zoo.cli import main

    def run(*args):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code or 0
        else:
            code = 0  # main returned without exiting
        out, err = capsys.readouterr()
        return code, out, err

    return run
