"""The zoo's conformance kit, run on this plugin."""

import pytest

from zoo.testing import ArchitectureTests


class TestMGU(ArchitectureTests):
    @pytest.fixture
    def arch(self):
        return "mgu"
