import random

import pytest


@pytest.fixture
def tiny_text(tmp_path):
    """A small text with learnable structure: words from a little vocabulary, seeded."""
    rng = random.Random(0)
    words = ["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "far"]
    lines = [" ".join(rng.choice(words) for _ in range(rng.randint(3, 9))) + "." for _ in range(600)]
    path = tmp_path / "tiny.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def zoo_cli(capsys):
    """Run the `zoo` command in-process: ``code, stdout, stderr = zoo_cli("list", "--json")``."""
    from zoo.cli import main

    def run(*args):
        with pytest.raises(SystemExit) as exit_info:
            main(list(args))
            raise SystemExit(0)
        out, err = capsys.readouterr()
        return exit_info.value.code or 0, out, err

    return run
