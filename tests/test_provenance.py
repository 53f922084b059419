"""A checkpoint records where its plugin's distribution came from, and says how to get it back."""

from __future__ import annotations

import json
from importlib import metadata

import pytest

from zoo.checkpoint import _how_to_install
from zoo.plugins import install_source


@pytest.mark.parametrize("files, source", [
    ({"INSTALLER": "pip\n"}, "a package index"),
    ({"INSTALLER": "pip\n", "direct_url.json": json.dumps({"url": "file:///home/a/indrnn", "dir_info": {}})},
     "a local path"),
    ({"INSTALLER": "pip\n", "direct_url.json": json.dumps({"url": "https://example.org/indrnn.tar.gz"})},
     "https://example.org/indrnn.tar.gz"),
    ({}, None),
])
def test_install_source_reads_the_distributions_own_records(tmp_path, files, source):
    folder = tmp_path / "zoo_indrnn-0.1.0.dist-info"
    folder.mkdir()
    (folder / "METADATA").write_text("Metadata-Version: 2.1\nName: zoo-indrnn\nVersion: 0.1.0\n")
    for name, text in files.items():
        (folder / name).write_text(text)
    assert install_source(metadata.PathDistribution(folder)) == source


@pytest.mark.parametrize("source, says", [
    ("a package index", "pip install 'zoo-indrnn==0.1.0' (it was installed from a package index)"),
    ("a local path", "install the distribution zoo-indrnn==0.1.0 from the local path it was installed from"),
    ("https://example.org/indrnn.tar.gz", "pip install 'zoo-indrnn @ https://example.org/indrnn.tar.gz'"),
    (None, "install the distribution zoo-indrnn 0.1.0 (the checkpoint does not say where it came from)"),
])
def test_a_missing_plugin_is_named_with_a_command_only_where_its_source_is_known(source, says):
    recorded = {"entry_point": "indrnn", "distribution": "zoo-indrnn", "version": "0.1.0",
                **({"source": source} if source else {})}
    assert _how_to_install(recorded) == says
