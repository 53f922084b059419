"""Every registered architecture passes the conformance kit, as timm's suite runs over list_models()."""

import pytest

import zoo
from zoo.testing import ArchitectureTests

# Non-default conventions each architecture must also get right.
EXTRA_OPTIONS = {
    "gru": ({"update": "torch"}, {"reset": "before"}),
    "nlstm": ({"depth": 3}, {"outer_candidate": "tanh"}),
}


class TestEveryArchitecture(ArchitectureTests):
    @pytest.fixture(params=zoo.list_architectures())
    def arch(self, request):
        return request.param

    @pytest.fixture
    def option_sets(self, arch):
        return ({},) + EXTRA_OPTIONS.get(arch, ())


def test_the_four_first_party_architectures_are_registered():
    assert {"rnn", "lstm", "gru", "nlstm"} <= set(zoo.list_architectures())
