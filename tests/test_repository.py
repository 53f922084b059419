"""The repository is the product: every file a clone holds reads without the machines it was
built on. No path outside the repository (a clone has none of them), no word of how the project
was developed (tracker numbers, working periods, borrowed hardware, dated diary entries), and every path into
the repository that a file names, and every link a page makes, leads to something that exists.

The files are those `git ls-files` lists (tracked, and new ones git does not ignore, which a
commit would add), less binary files, the released models' folders (`released/`: model cards
and reports, written by the tools) and the bundled texts (`zoo/corpora/`, `tests/fixtures/`:
data, not prose). A match that is data on purpose is allowed: home folders in the tests (made-up
local paths that the code under test must refuse to publish), and, in other files, the exact
texts in `ALLOWED`. The words the patterns look for are spelt here with a character class
(`l[e]nt`) so that this file, which must name them, does not read as a diary itself.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIPPED = ("released/", "zoo/corpora/", "tests/fixtures/")

OUTSIDE = {  # paths that exist only on some machine, never in a clone
    "the developers' shared folder": re.compile(r"\.\./sh[a]red\b|(?<![\w.-])shared/(?:data|docs)\b"),
    "an absolute workspace path": re.compile(r"(?<![\w.-])/work/"),
    "a home folder": re.compile(r"(?<![\w.-])(?:/home/[A-Za-z_][\w.-]*|/root/|/Users/[A-Za-z_][\w.-]*)"),
}
DIARY = {  # how the project was developed: not the product's business
    "an issue number": re.compile(r"\biss[u]es? #?\d+", re.IGNORECASE),
    "a working period": re.compile(r"""(?<!scope=")(?<!scope=')\bsess[i]ons?\b""", re.IGNORECASE),  # pytest's scope aside
    "a borrowed machine": re.compile(r"\bl[e]nt\b", re.IGNORECASE),
    "borrowed hardware's clock": re.compile(r"\bdevice[ ]time\b", re.IGNORECASE),
    "scratch space": re.compile(r"\bscratch (?:space|runs?|folders?)\b|\b(?:is|are|was|were) scratch\b", re.IGNORECASE),
    "the developers' machine": re.compile(
        r"\bdevelopment (?:machine|workspace|host)\b|\bdevelopers'? (?:machine|workspace)\b|\bthis workplace\b",
        re.IGNORECASE),
    "a date": re.compile(r"\b20\d\d-[01]\d-[0-3]\d\b"),
}
# Repository folders whose files a page or a script names by path: each named path must exist.
NAMED = re.compile(r"(?<![\w./$-])(?:docs|studies|tools|benchmarks|scripts|examples|plugins)/[\w.-]+(?:/[\w.-]+)*")
LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)\s]*)?\)")  # [text](target#anchor)

ALLOWED = {  # file: exact matches that are data, with why
    "zoo/hub.py": {"/home/a", "/root/", "/work/"},  # the local paths a push refuses to publish
    "zoo/report.py": {"2026-12-01"},  # the format of a report's time stamp, by example
}
EXAMPLES = {"a home folder": "tests/"}  # what: where it is made-up data


@lru_cache(maxsize=1)
def text_files() -> tuple[tuple[str, str], ...]:
    """(path, text) of every file a commit of the working tree would hold, as the module says."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    files = []
    for name in sorted(set(filter(None, listed))):
        path = ROOT / name
        if name.startswith(SKIPPED) or not path.is_file():  # deleted in the working tree: not committed
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue
        try:
            files.append((name, data.decode("utf-8")))
        except UnicodeDecodeError:
            continue
    return tuple(files)


def found(patterns: dict[str, re.Pattern]) -> list[str]:
    """`file:line: what ('match')` for every match not in ALLOWED."""
    hits = []
    for name, text in text_files():
        if name == "tests/test_repository.py":  # its patterns, and nothing else
            continue
        for number, line in enumerate(text.splitlines(), 1):
            for what, pattern in patterns.items():
                if what in EXAMPLES and name.startswith(EXAMPLES[what]):
                    continue
                for match in pattern.finditer(line):
                    if match.group(0) not in ALLOWED.get(name, ()):
                        hits.append(f"{name}:{number}: {what} ({match.group(0)!r}): {line.strip()[:120]}")
    return hits


def test_no_path_outside_the_repository():
    hits = found(OUTSIDE)
    assert not hits, ("name datasets by name or take them as arguments (docs/datasets.md), not by where they "
                      "lay on some machine:\n" + "\n".join(hits))


def test_no_word_of_how_the_project_was_developed():
    hits = found(DIARY)
    assert not hits, ("say what was measured, on what hardware, with which command; not when, in which "
                      "sitting, or for which ticket:\n" + "\n".join(hits))


def test_named_repository_paths_exist():
    missing = []
    for name, text in text_files():
        for number, line in enumerate(text.splitlines(), 1):
            for match in NAMED.finditer(line):
                path = match.group(0).rstrip(".")
                if not (ROOT / path).exists():
                    missing.append(f"{name}:{number}: {path}")
    assert not missing, "paths into the repository that lead nowhere:\n" + "\n".join(missing)


def test_markdown_links_resolve():
    broken = []
    for name, text in text_files():
        if not name.endswith(".md"):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            for target in LINK.findall(line):
                if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:, hf: ...
                    continue
                if not (ROOT / name).parent.joinpath(target).exists():
                    broken.append(f"{name}:{number}: {target}")
    assert not broken, "links to pages or files that do not exist:\n" + "\n".join(broken)


def test_the_checks_catch_what_they_are_for():
    """The patterns find the diary and the outside paths they exist for, and pass plain prose."""
    caught = {  # joined from pieces: this file must not itself hold what it forbids
        "see .." + "/shared/data/warpeace.txt": OUTSIDE, "python x.py --data /work/main/x": OUTSIDE,
        "open /home/bob/notes": OUTSIDE, "what is" + "sue 10 asked for": DIARY, "is" + "sues 10 and 11": DIARY,
        "stopped by the ses" + "sion's end": DIARY, "no GPU was l" + "ent": DIARY, "15 minutes of device" + " time": DIARY,
        "runs/ was scratch space": DIARY, "measured 2026-11-23": DIARY, "on the development machine": DIARY,
    }
    for line, patterns in caught.items():
        assert any(p.search(line) for p in patterns.values()), line
    for line in ("@pytest.fixture(scope=\"ses" + "sion\")", "the prince was silent", "train from scratch",
                 "shared by the panels", "--data warpeace", "~/.cache/zoo", "on a 2-core CPU (torch 2.13)"):
        assert not any(p.search(line) for p in {**OUTSIDE, **DIARY}.values()), line
