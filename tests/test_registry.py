"""registry.yaml: schema validation with line numbers, name resolution, and the Table 1 grid."""

import textwrap

import pytest
import torch

import zoo
from zoo.registry import Registry, registry

GOOD = """\
schema_version: 1
architectures:
  mgu: {install: "pip install zoo-mgu"}
models:
  lstm-2x128.warpeace: {dataset: warpeace}
  mgu-1x32: {}
"""


def write(tmp_path, text):
    path = tmp_path / "registry.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_shipped_registry_is_valid_and_complete():
    reg = registry()
    grid = [n for n, s in reg.models.items() if (s.reference or {}).get("source") == "karpathy2015-table1"]
    assert len(grid) == 3 * 3 * 4 * 2  # {rnn, lstm, gru} x {1,2,3} layers x 4 budgets x 2 datasets
    assert {"gru-2x600.text8", "lstm-2x600.text8", "nlstm-1x600.text8"} <= set(reg.models)
    assert reg.models["lstm-2x128.warpeace"].reference["test_ce"] == 1.227


def test_table1_widths_give_nearly_equal_parameter_counts():
    """RNN and GRU widths match the LSTM of the same row and depth within 1% (87 characters)."""
    reg = registry()
    lstm = {}
    counts = {}
    for name, spec in reg.models.items():
        ref = spec.reference or {}
        if ref.get("source") != "karpathy2015-table1":
            continue
        with torch.device("meta"):
            counts[name] = zoo.create_model(name, vocab_size=87).num_parameters()
        if spec.arch == "lstm":
            assert spec.hidden == ref["budget"]
            lstm[(spec.layers, ref["budget"])] = counts[name]
    for name, count in counts.items():
        spec = reg.models[name]
        target = lstm[(spec.layers, spec.reference["budget"])]
        assert abs(count - target) / target < 0.01, name


def test_schema_error_names_line_and_field(tmp_path):
    path = write(tmp_path, """\
    schema_version: 1
    models:
      lstm-2x128: {dataset: warpeace}
      lstm-3x512:
        input: telepathy
    """)
    with pytest.raises(zoo.ZooError, match=r"registry.yaml:5: models/lstm-3x512/input: 'telepathy' is not one of"):
        Registry(path)


def test_bad_model_name_in_registry(tmp_path):
    path = write(tmp_path, "schema_version: 1\nmodels:\n  LSTM_big: {}\n")
    with pytest.raises(zoo.ZooError, match="registry.yaml:3"):
        Registry(path)


def test_duplicate_keys_are_refused(tmp_path):
    path = write(tmp_path, "schema_version: 1\nmodels:\n  lstm-1x8: {}\n  lstm-1x8: {dropout: 0.1}\n")
    with pytest.raises(zoo.ZooError, match="registry.yaml:4: 'lstm-1x8' is defined twice"):
        Registry(path)


def test_invalid_yaml(tmp_path):
    path = write(tmp_path, "schema_version: 1\nmodels: {lstm-1x8: [}\n")
    with pytest.raises(zoo.ZooError, match="invalid YAML"):
        Registry(path)


def test_unknown_name_suggests_close_matches(tmp_path):
    reg = Registry(write(tmp_path, GOOD))
    with pytest.raises(zoo.ZooError) as err:
        reg.resolve("lstm-2x128.warpiece")
    message = str(err.value)
    assert "\n" not in message
    assert "lstm-2x128.warpeace" in message


def test_unknown_architecture_says_which_are_installed(tmp_path):
    reg = Registry(write(tmp_path, GOOD))
    with pytest.raises(zoo.ZooError, match="no installed plugin provides architecture 'lsmt'.*did you mean"):
        reg.resolve("lsmt-2x128")


def test_missing_plugin_names_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_REGISTRY", str(write(tmp_path, GOOD)))
    zoo.registry.registry.cache_clear()
    try:
        with pytest.raises(zoo.ZooError, match="architecture 'mgu' is not installed; to get it: pip install zoo-mgu"):
            zoo.create_model("mgu-1x32", vocab_size=5)
    finally:
        zoo.registry.registry.cache_clear()


def test_untagged_name_resolves_to_the_shape_and_lists_variants():
    spec = zoo.resolve("lstm-3x512")
    assert spec.variants == ("lstm-3x512.warpeace", "lstm-3x512.linux")
    assert not spec.registered


def test_ad_hoc_shapes_of_installed_architectures():
    model = zoo.create_model("gru-2x10", vocab_size=5)
    assert (model.config.layers, model.config.hidden) == (2, 10)


def test_registry_models_build_with_their_conventions():
    with torch.device("meta"):
        model = zoo.create_model("nlstm-1x600.text8")
    assert model.config.options == {"depth": 2, "outer_candidate": "identity"}
    assert model.config.input == "embedding"
    assert model.config.vocab_size == 27


def test_unknown_option_is_refused():
    with pytest.raises(zoo.ZooError, match="unknown option"):
        zoo.create_model("lstm-1x8", vocab_size=5, options={"peepholes": True})
