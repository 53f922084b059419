"""The analysis framework, the text features, and the cells and saturation analyzers."""

import json

import numpy as np
import pytest
import torch

import zoo
from zoo.analysis import AnalysisData, stream_layout, text_features
from zoo.plugins import plugins
from zoo.report import write_report
from zoo.vocab import Vocab

QUOTED = ('He said, "come here, now" and left.\nShe answered "no" twice; then "yes, of course".\n'
          'Nobody spoke. "Why?" asked the boy, "why not?"\nThe end came late.\n') * 12


# -- features --------------------------------------------------------------------------------------

def test_features_describe_the_text_after_each_character():
    text = 'a "bc" (d(e)) }x\n  if (x) {\n\tint y = "/*"; /* c "q" */ // z\n}\nhello'
    got = text_features(text)
    as_row = lambda name: "".join(str(int(v))[-1] for v in got[name])  # noqa: E731
    assert as_row("quote").startswith("00111000")  # on at the opening quote, off at the closing one
    assert as_row("paren-depth")[:14] == "00000001122100"
    assert as_row("brace-depth")[14:17] == "000"  # a stray closing brace never goes below zero
    assert as_row("line-position")[:18] == "123456789012345601"  # 0 on the newline itself
    comment = got["c-comment"]
    assert not comment[text.index('"/*"')]
    assert comment[text.index("/* c")]
    assert comment[text.index("// z")]
    assert got["c-string"][text.index('"/*"') + 1]
    assert not got["c-string"][text.index('"q"') + 1]
    assert got["indent"][text.index("if")] == 2
    assert got["indent"][text.index("int")] == 1
    assert got["word-position"][text.index("hello") + 4] == 5
    assert got["word-position"][text.index("hello") - 1] == 0
    assert got["after-newline"].dtype == bool
    assert got["after-newline"].sum() == text.count("\n")


def test_features_are_vectorized_over_long_texts():
    text = QUOTED * 200  # ~30k characters: each feature is array work, not a loop per character
    got = text_features(text)
    assert all(len(v) == len(text) for v in got.values())
    assert got["quote"].mean() == pytest.approx(np.mean(list(np.cumsum([ch == '"' for ch in text]) % 2)), abs=1e-9)


class NumbersFeature:
    """A third-party plugin, registered in-process: is the character a digit?"""

    @zoo.hookimpl
    def zoo_register_features(self, register):
        register("digit", lambda text: np.array([c.isdigit() for c in text]), summary="a digit")


@pytest.fixture
def digit_feature():
    plugins.cache_clear()
    plugins().register(NumbersFeature(), "numbers")
    yield
    plugins.cache_clear()


def test_a_third_party_feature_is_used_by_the_cells_analyzer(digit_feature):
    text = "call 555 1234 now, or 911.\n" * 40
    model = zoo.create_model("lstm-1x8", vocab=Vocab.from_text(text), vocab_size=len(set(text)))
    report = zoo.analyze(model, "cells", text, features="digit,quote", excerpt_length=50)
    assert set(report.summary["features"]) == {"digit", "quote"}  # listed by their best cell's score
    assert report.summary["features"]["digit"]["binary"]
    assert report.summary["features"]["digit"]["top"]


def test_a_failing_feature_is_skipped_unless_asked_for():
    class Broken:
        @zoo.hookimpl
        def zoo_register_features(self, register):
            register("broken", lambda text: 1 / 0)

    plugins.cache_clear()
    try:
        plugins().register(Broken(), "broken-plugin")
        with pytest.warns(UserWarning, match="feature 'broken'.*ZeroDivisionError"):
            assert "broken" not in text_features("abc")
        with pytest.raises(zoo.ZooError, match="feature 'broken' from plugin 'broken-plugin' failed"):
            text_features("abc", ["broken"])
    finally:
        plugins.cache_clear()


# -- the framework ---------------------------------------------------------------------------------

def _model(arch: str, text: str, seed: int = 0, scale: float = 0.08):
    torch.manual_seed(seed)
    vocab = Vocab.from_text(text)
    model = zoo.create_model(arch, vocab_size=len(vocab), vocab=vocab).eval()
    model.reset_parameters(scale)
    return model


def test_parameters_are_checked_and_typed():
    model = _model("lstm-1x8", QUOTED)
    with pytest.raises(zoo.ZooError, match="has no parameter bogus"):
        zoo.analyze(model, "saturation", QUOTED, bogus=1)
    with pytest.raises(zoo.ZooError, match="saturation.left='x': expected float"):
        zoo.analyze(model, "saturation", QUOTED, left="x")
    with pytest.raises(zoo.ZooError, match="unknown analyzer 'saturaton'.*did you mean: saturation"):
        zoo.analyze(model, "saturaton", QUOTED)
    assert zoo.get_analyzer("cells").resolve_params({"thresholds": "0.2,0.4"})["thresholds"] == (0.2, 0.4)
    for name in ("cells", "ablation"):  # an excerpt past the end of the text is refused, not moved
        with pytest.raises(zoo.ZooError, match=f"{name}: excerpt_start={len(QUOTED)} is past the end of the text"):
            zoo.analyze(model, name, QUOTED, excerpt_start=len(QUOTED))


def test_a_model_without_the_capability_is_refused_in_one_line():
    rnn = _model("rnn-1x8", QUOTED)
    with pytest.raises(zoo.ZooError, match="analyzer 'saturation' cannot run on this model: it needs gates"):
        zoo.analyze(rnn, "saturation", QUOTED)


def test_analyzers_run_on_models_built_in_code_without_a_vocabulary():
    model = zoo.create_model("gru-1x8", vocab_size=11)
    ids = torch.randint(0, 11, (500,))
    report = zoo.analyze(model, "saturation", ids)
    assert report.summary["characters"] == 500
    assert set(report.summary["gates"]) == {"layers.0.r", "layers.0.z"}
    assert report.meta["model"]["arch"] == "gru"
    assert report.meta["params"]["left"] == 0.1
    with pytest.raises(zoo.ZooError, match="cells: the analysis needs the text"):
        zoo.analyze(model, "cells", ids)


def test_streams_cover_every_character_once():
    model = _model("lstm-1x4", QUOTED)
    from zoo.analysis import stream_trace

    ids = torch.from_numpy(model.vocab.encode(QUOTED[:1001]))
    seen = torch.cat([part.index[part.valid] for part in stream_trace(model, ids, "layers.0.h", streams=7, chunk=30)])
    assert sorted(seen.tolist()) == list(range(1001))
    assert stream_layout(1001, 7) == (7, 143)


# -- saturation ------------------------------------------------------------------------------------

@pytest.mark.parametrize("arch", ["lstm-2x12", "gru-2x12", "nlstm-1x12"])
def test_saturation_equals_a_direct_computation_on_a_trace(arch):
    model = _model(arch, QUOTED, scale=0.8)  # large weights, so that gates saturate
    ids = torch.from_numpy(model.vocab.encode(QUOTED))
    streams = 5
    report = zoo.analyze(model, "saturation", ids, streams=streams, chunk=40, left=0.2, right=0.8)
    rows, steps = stream_layout(len(ids), streams)
    grid = torch.zeros(rows * steps, dtype=torch.long)
    grid[: len(ids)] = ids
    valid = (torch.arange(rows * steps) < len(ids)).view(rows, steps)
    with torch.no_grad():
        trace = model.trace(grid.view(rows, steps), path="loop")
    assert set(report.summary["gates"]) == set(model.gates)
    assert model.gates
    for gate in model.gates:
        values = trace[gate][valid]
        np.testing.assert_allclose(report.arrays[f"{gate}.left"], (values < 0.2).double().mean(0).numpy(), atol=1e-12)
        np.testing.assert_allclose(report.arrays[f"{gate}.right"], (values > 0.8).double().mean(0).numpy(), atol=1e-12)
    layer0 = report.summary["layers"][0]
    assert 0 <= layer0["mean_left"] <= 1
    assert layer0["mean_left"] + layer0["mean_right"] + layer0["mean_unsaturated"] == pytest.approx(1)


def test_gate_value_histograms_fill_the_page_with_labelled_thinned_axes():
    """The histograms as drawn: the page's width, a y label, a log axis shared by every panel with
    at most four labelled decades and no labelled minor ticks, three x ticks."""
    from zoo_analysis.saturation import _histogram_figure

    from zoo.report import PAGE_WIDTH, render_html

    model = _model("lstm-2x8", QUOTED, scale=0.8)
    report = zoo.analyze(model, "saturation", QUOTED)
    image = report.figures["gate-values.png"]
    assert int.from_bytes(image[16:20], "big") == pytest.approx(PAGE_WIDTH * 100, abs=2)  # the PNG's width in pixels
    fig = _histogram_figure({g: report.arrays[f"{g}.hist"] for g in model.gates}, 0.1, 0.9)
    fig.draw_without_rendering()
    axes = fig.axes
    assert len(axes) == len(model.gates)
    assert len({ax.get_ylim() for ax in axes}) == 1
    for ax in axes:
        low, high = ax.get_ylim()
        shown = [t for t in ax.yaxis.get_major_ticks() if low <= t.get_loc() <= high and t.label1.get_text()]
        assert ax.get_yscale() == "log"
        assert 2 <= len(shown) <= 4, [t.label1.get_text() for t in shown]
        assert not any(t.label1.get_text() for t in ax.yaxis.get_minor_ticks())
        assert len(ax.get_xticks()) == 3
    for ax in axes[::3]:  # the first column: 2 layers x 3 gates, row by row
        assert "share of values" in ax.get_ylabel()
    assert "share of all values" in render_html(report, zoo.get_analyzer("saturation").template)


# -- cells -----------------------------------------------------------------------------------------

def _plant_quote_cell(model, unit: int) -> None:
    """Set one LSTM unit's weights so that its cell flips sign at every double quote and holds
    otherwise: tanh(c) is about +0.76 inside quotes and -0.76 outside."""
    layer, h = model.layers[0], model.config.hidden
    quote = model.vocab.chars.index('"')
    i, f, g, o = (slice(k * h + unit, k * h + unit + 1) for k in range(4))
    with torch.no_grad():
        for rows in (i, f, g, o):
            layer.weight_ih[rows] = 0
            layer.weight_hh[rows] = 0
        layer.weight_ih[i, quote], layer.bias_ih[i] = 20.0, -10.0  # write only at a quote
        layer.weight_ih[f, quote], layer.bias_ih[f] = -20.0, 10.0  # forget only at a quote
        layer.weight_hh[g, unit], layer.bias_ih[g] = -10.0, 3.0  # write the opposite of what it holds
        layer.bias_ih[o] = 10.0


def test_a_planted_quote_cell_is_found_as_the_top_quote_cell():
    model = _model("lstm-1x16", QUOTED, seed=3)
    _plant_quote_cell(model, unit=11)
    report = zoo.analyze(model, "cells", QUOTED, streams=1, features="quote,line-position", excerpt_length=120)
    best = report.summary["features"]["quote"]["top"][0]
    assert best["cell"] == "0:11"
    assert best["r"] > 0.99
    assert best["f1"] > 0.99
    assert best["sign"] == "+"
    assert report.summary["state"] == "tanh(c)"
    np.testing.assert_allclose(report.arrays["correlation"].shape, (16, 2))
    assert "cell-quote.png" in report.figures
    assert report.figures["cell-quote.png"].startswith(b"\x89PNG")
    excerpt = report.arrays["excerpt"][11]
    inside = text_features(QUOTED[:120], ["quote"])["quote"]
    before = QUOTED.index('"')  # characters before the first quote hold zero
    assert (excerpt[inside] > 0.5).all()
    assert (excerpt[~inside][before:] < -0.5).all()
    assert (abs(excerpt[:before]) < 0.01).all()


def test_linear_probes_equal_a_direct_ridge_fit_on_the_trace():
    """The probe's R^2, from Gram sums added chunk by chunk over parallel streams, equals a ridge
    regression fitted on the first half of the whole trace and scored on the second."""
    text = QUOTED * 4
    model = _model("lstm-2x8", text, seed=2, scale=0.5)
    _plant_quote_cell(model, unit=3)
    report = zoo.analyze(model, "cells", text, streams=3, chunk=7, features="quote,line-position", probe_ridge=0.1)
    streams, steps = stream_layout(len(text), 3)
    feats = text_features(text, ["quote", "line-position"])
    half = len(text) // 2
    for layer in (0, 1):
        with torch.no_grad():  # each stream from the zero state
            states = torch.cat([model.trace(torch.from_numpy(model.vocab.encode(text[k * steps:(k + 1) * steps]))[None])
                                [f"layers.{layer}.c"][0] for k in range(streams)]).tanh().double().numpy()
        x = np.c_[states, np.ones(len(text))]
        for name, y in feats.items():
            y = y.astype(np.float64)
            w = np.linalg.solve(x[:half].T @ x[:half] + 0.1 * np.eye(x.shape[1]), x[:half].T @ y[:half])
            r2 = 1 - ((y[half:] - x[half:] @ w) ** 2).sum() / ((y[half:] - y[half:].mean()) ** 2).sum()
            assert report.summary["features"][name]["probe_r2"][f"layers.{layer}.c"] == pytest.approx(r2, abs=1e-6)
    assert report.summary["features"]["quote"]["probe_r2"]["layers.0.c"] > 0.95  # the planted cell alone reads it


def test_cells_uses_h_where_a_model_has_no_memory_cells_and_checks_cell_names():
    model = _model("gru-2x8", QUOTED)
    report = zoo.analyze(model, "cells", QUOTED[:800], cells="1:7", top=2)
    assert report.summary["state"] == "h"
    assert report.summary["recorded"] == ["layers.0.h", "layers.1.h"]
    assert report.summary["chosen"] == ["1:7"]
    assert "cell-1-7.png" in report.figures
    with pytest.raises(zoo.ZooError, match="unit 8 is out of range for layers.1.h"):
        zoo.analyze(model, "cells", QUOTED[:800], cells="1:8")
    nested = _model("nlstm-1x6", QUOTED)
    report = zoo.analyze(nested, "cells", QUOTED[:300], cells="layers.0.nest.1.c:5", top=1)
    assert report.summary["recorded"] == ["layers.0.nest.0.c", "layers.0.nest.1.c"]
    assert report.summary["chosen"] == ["layers.0.nest.1.c:5"]


# -- reports ---------------------------------------------------------------------------------------

def test_report_directory_is_complete_and_reproducible(tmp_path):
    model = _model("lstm-1x8", QUOTED)
    report = zoo.analyze(model, "saturation", QUOTED, meta={"model": {"name": "tiny"}})
    out = write_report(report, tmp_path / "r", zoo.get_analyzer("saturation").template)
    record = json.loads((out / "report.json").read_text())
    assert record["meta"]["analyzer"] == "saturation"
    assert record["meta"]["zoo_version"] == zoo.__version__
    assert record["meta"]["params"]["right"] == 0.9
    assert record["summary"]["characters"] == len(QUOTED)
    with np.load(out / "arrays.npz") as arrays:
        assert "layers.0.f.right" in arrays.files
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html
    assert "<script src" not in html
    assert "http" not in html.split("<body>")[1]
    assert sorted(p.name for p in out.iterdir()) == ["arrays.npz", "gate-values.png", "report.html", "report.json", "saturation.png"]


def test_an_interrupted_write_keeps_the_previous_report(tmp_path, monkeypatch):
    model = _model("lstm-1x8", QUOTED)
    report = zoo.analyze(model, "saturation", QUOTED)
    out = write_report(report, tmp_path / "r")
    before = (out / "report.json").read_text()

    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez_compressed", fail)
    with pytest.raises(KeyboardInterrupt):
        write_report(report, tmp_path / "r")
    assert (out / "report.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]  # no staging directory left behind


def test_a_directory_that_is_not_a_report_is_never_replaced(tmp_path):
    precious = tmp_path / "mine"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    report = zoo.analyze(_model("lstm-1x8", QUOTED), "saturation", QUOTED)
    with pytest.raises(zoo.ZooError, match="not a zoo report"):
        write_report(report, precious)
    assert (precious / "notes.txt").read_text() == "keep me"
    write_report(report, tmp_path / "r")  # a report's folder, then a file of the user's put into it
    (tmp_path / "r" / "notes.txt").write_text("keep me too")
    with pytest.raises(zoo.ZooError, match=r"holds files besides its report \(notes.txt\)"):
        write_report(report, tmp_path / "r")
    assert (tmp_path / "r" / "notes.txt").read_text() == "keep me too"
    (tmp_path / "r" / "notes.txt").unlink()
    write_report(report, tmp_path / "r")  # its own files only: replaced


def test_analysis_data_carries_training_text_and_references():
    model = _model("lstm-1x8", QUOTED)
    data = AnalysisData(ids=torch.from_numpy(model.vocab.encode(QUOTED)), text=QUOTED, vocab=model.vocab,
                        train_text=QUOTED, references={"same": model}, source={"name": "quoted"})
    report = zoo.analyze(model, "saturation", data)
    assert report.meta["references"] == ["same"]
    assert report.meta["data"] == {"name": "quoted", "characters": len(QUOTED), "predicted": len(QUOTED) - 1}


def test_reports_name_both_counts_and_the_predictions_are_what_eval_scores():
    """A text of n characters is n - 1 predictions: `zoo eval`'s count is the second, the
    reports give both, each named, in the page, the index and the model card's data line."""
    from zoo.evaluate import char_losses, summarize
    from zoo.report import data_line, render_html

    model = _model("lstm-1x8", QUOTED)
    data = AnalysisData(ids=torch.from_numpy(model.vocab.encode(QUOTED)), text=QUOTED, vocab=model.vocab,
                        source={"name": "quoted", "split": "test"})
    report = zoo.analyze(model, "saturation", data)
    scored = summarize(char_losses(model, data.ids, streams=1))["characters"]
    assert report.meta["data"]["predicted"] == scored == len(QUOTED) - 1
    assert data_line(report.meta) == f"quoted, test split, {len(QUOTED):,} characters ({scored:,} predicted)"
    page = " ".join(render_html(report, zoo.get_analyzer("saturation").template).split())
    assert f"{len(QUOTED):,} characters, {scored:,} of them predicted" in page
    assert data_line({"data": {"name": "old", "characters": 10}}) == "old, 10 characters"  # earlier reports


# -- connectivity ----------------------------------------------------------------------------------

def _direct_connectivity(model, ids, space="onehot"):
    """One backward pass per target: the reference the batched computation must equal."""
    steps = len(ids) - 1
    out = torch.zeros(steps, steps, dtype=torch.float64)
    for t in range(steps):
        x = model.embed(ids[None, :steps]).detach().requires_grad_(True)
        logits, _ = model.forward_embedded(x)
        (grad,) = torch.autograd.grad(logits[0, t, ids[t + 1]], x)
        if space == "onehot" and model.config.input == "embedding":
            grad = grad @ model.embedding.weight.T
        out[t] = (grad[0] ** 2).sum(-1).double().detach()
    return out


@pytest.mark.parametrize("arch, options", [("lstm-2x12", {}), ("gru-2x12", {}), ("rnn-1x12", {}),
                                           ("nlstm-1x8", {}), ("lstm-1x10", {"input": "embedding", "embed_dim": 6})])
def test_connectivity_equals_one_backward_pass_per_target(arch, options):
    from zoo_analysis.connectivity import connectivity_matrix

    torch.manual_seed(1)
    vocab = Vocab.from_text(QUOTED)
    model = zoo.create_model(arch, vocab_size=len(vocab), vocab=vocab, **options).eval()
    model.reset_parameters(0.5)
    ids = torch.from_numpy(vocab.encode(QUOTED[:41]))
    direct = _direct_connectivity(model, ids)
    for method in ("sweep", "rows"):
        batched, _ = connectivity_matrix(model, ids, method=method, block=7)  # blocks that do not divide the window
        assert torch.all(batched.triu(1) == 0)  # no input after the target matters
        # 1e-5 relative; elements below 1e-8 of the window's largest (vanished gradients) only to that scale
        torch.testing.assert_close(batched, direct, rtol=1e-5, atol=1e-8 * float(direct.max()))


def test_connectivity_report_has_horizons_and_refuses_models_without_gradients(tmp_path, tiny_text):
    model = _model("lstm-1x8", QUOTED)
    report = zoo.analyze(model, "connectivity", QUOTED, length=60, norm="l2")
    h50, h90 = report.arrays["horizon_50"], report.arrays["horizon_90"]
    assert len(h50) == 60
    assert (h50 <= h90).all()
    assert (h90 <= np.arange(60)).all()
    assert report.summary["horizon_90"]["mean"] == pytest.approx(h90.mean())
    assert len(report.html["predictions"][0]) == 5
    assert report.html["targets"][0] == QUOTED[1]
    conn = report.arrays["connectivity"]
    assert report.arrays["mass_by_distance"][0] == pytest.approx(np.mean(np.diag(conn) / conn.sum(1)))
    from zoo.data import encoded_splits, load_corpus

    corpus = load_corpus(str(tiny_text))
    vocab, train, _, _ = encoded_splits(corpus)
    from zoo.plugins import plugins

    nnn = plugins().get("baseline", "nnn").load().fit(train, vocab, order=2, directory=tmp_path / "nnn", epochs=1, progress=False)
    with pytest.raises(zoo.ZooError, match="analyzer 'connectivity' cannot run on this model: it needs gradients"):
        zoo.analyze(nnn, "connectivity", corpus.splits()[2])


# -- oracles ---------------------------------------------------------------------------------------

def _categories(text, p, train="", ngrams=None, **options):
    from zoo_analysis.oracles import CATEGORIES, _breakdown

    settings = {"threshold": 0.5, "memory": 5, "rare": 2, "boost": 0.25, **options}
    b = _breakdown(np.asarray(p, dtype=float), text, ngrams or {}, train, **settings)
    return [CATEGORIES[c] if c >= 0 else None for c in b["category"]], b


def test_each_oracle_removes_its_own_kind_of_error():
    text = "qwxzv and qwxzv, then zebra."
    p = np.full(len(text) - 1, 0.1)  # position k predicts text[k + 1]: every character an error
    p[text.index("nd") - 1] = 0.9  # ...but 'n' of "and" is right
    p[text.index("then") + 1] = 0.3  # predicts the 'e' of "then" (character index + 2): within the boost
    at = lambda i: i - 1  # noqa: E731  (the prediction of character i)
    ngram = np.full(len(text) - 1, 0.0)
    ngram[at(text.index("d"))] = 0.8  # a 2-gram predicts the 'd' of "and"
    cats, b = _categories(text, p, train="zebra and then then then qwxzv qwxzv qwxzv", ngrams={2: ngram})
    second = text.index("qwxzv", 1)
    assert cats[at(text.index("n"))] is None
    assert cats[at(text.index("d"))] == "n-gram"
    assert b["ngram_order"][at(text.index("d"))] == 2
    assert cats[at(second + 4)] == "dynamic memory"  # "qwxzv" seen before: its last character is memory
    assert cats[at(second + 1)] == "unexplained"  # "nd qw" never seen; a frequent word; not after a space
    assert cats[at(text.index("ebra") + 1)] == "rare words"  # "zebra" occurs once in training
    assert cats[at(text.index("then"))] == "word model"  # after a space
    assert cats[at(text.index(","))] == "punctuation"
    assert cats[at(len(text) - 1)] == "punctuation"
    assert cats[at(text.index("then") + 1)] == "unexplained"  # 'h' of then: frequent word, p=0.1
    assert cats[at(text.index("then") + 2)] == "boost"


def test_oracle_categories_add_up_and_run_on_an_ngram_baseline(tmp_path, tiny_text):
    from zoo.data import encoded_splits, load_corpus
    from zoo.plugins import plugins

    corpus = load_corpus(str(tiny_text))
    vocab, train, _, test = encoded_splits(corpus)
    ngram = plugins().get("baseline", "ngram").load().fit(train, vocab, order=1, directory=tmp_path / "ng", progress=False)
    report = zoo.analyze(ngram, "oracles", corpus.splits()[2], train_text=corpus.splits()[0],
                         ngram_models=str(tmp_path / "ng"), examples=3)
    rows = report.summary["categories"]
    assert sum(r["count"] for r in rows) == report.summary["errors"] > 0
    assert rows[0]["name"] == "n-gram"
    assert rows[0]["count"] == 0
    assert all(len(report.html["examples"][r["name"]]) == min(3, r["count"]) for r in rows)
    with pytest.raises(zoo.ZooError, match="oracles' needs the model's training split"):
        zoo.analyze(ngram, "oracles", corpus.splits()[2])


# -- comparisons -----------------------------------------------------------------------------------

class KnownModel:
    """A hand-built language model for a known text: the next character gets probability
    `p(char)` and the rest is spread evenly. Only what `LanguageModel` asks for."""

    capabilities = frozenset({"log_probs"})

    def __init__(self, text, vocab, p):
        self.vocab, self.text, self.p = vocab, text, p

    def log_probs(self, ids):
        size = len(self.vocab)
        nxt = list(self.text[1:]) + [self.text[0]]
        chosen = torch.tensor([self.p(c) for c in nxt], dtype=torch.float64)
        out = ((1 - chosen) / (size - 1))[:, None].repeat(1, size)
        out[torch.arange(len(nxt)), torch.from_numpy(self.vocab.encode("".join(nxt)))] = chosen
        return out.log().float()


def test_two_models_that_differ_on_one_character():
    text = "a fox, a box; six x and an axe.\n" * 5
    vocab = Vocab.from_text(text)
    good = KnownModel(text, vocab, lambda c: 0.9)
    bad_x = KnownModel(text, vocab, lambda c: 0.2 if c == "x" else 0.9)
    data = AnalysisData(ids=torch.from_numpy(vocab.encode(text)), text=text, vocab=vocab, references={"bad-x": bad_x})
    report = zoo.analyze(good, "char-probs", data)
    rows = report.summary["references"]["bad-x"]
    assert rows[0]["char"] == "x"
    assert rows[0]["difference"] == pytest.approx(0.7, abs=1e-6)
    assert rows[0]["count"] == text.count("x")
    assert all(abs(r["difference"]) < 1e-6 for r in rows[1:])
    assert all(r["difference_se"] == pytest.approx(0, abs=1e-6) for r in rows)  # the same at every occurrence
    assert {r["shown"] for r in rows} >= {"␣", "↵"}
    runs = zoo.analyze(good, "char-probs", data, block=32).summary
    assert runs["block"] == 32
    assert len(runs["references"]["bad-x"]) == len(rows)
    for got, want in zip(runs["references"]["bad-x"], rows):  # the same differences, still no spread (up to rounding)
        assert got.keys() == want.keys()
        for key, value in want.items():
            if isinstance(value, float):
                assert got[key] == pytest.approx(value, abs=1e-9), key
            else:
                assert got[key] == value, key
    overlap = zoo.analyze(good, "error-overlap", data).summary["comparisons"][0]
    assert (overlap["both"], overlap["only_model"], overlap["only_reference"]) == (0, 0, text[1:].count("x"))
    same = zoo.analyze(bad_x, "error-overlap", AnalysisData(ids=data.ids, text=text, vocab=vocab, references={"same": bad_x}))
    assert same.summary["comparisons"][0]["only_model"] == 0 == same.summary["comparisons"][0]["only_reference"]


def test_paired_differences_by_group():
    from zoo.analysis import paired_difference

    groups = np.array([0, 0, 0, 2])
    found = paired_difference(groups, np.array([1.0, 2.0, 6.0, 5.0]), np.array([0.0, 0.0, 3.0, 1.0]), minlength=4)
    assert found["count"].tolist() == [3, 0, 1, 0]
    assert found["mean"][0] == pytest.approx(2.0)
    assert found["mean"][2] == pytest.approx(4.0)
    assert found["se"][0] == pytest.approx(np.std([1, 2, 3], ddof=1) / np.sqrt(3))
    assert np.isnan(found["se"][1])
    assert np.isnan(found["se"][2])
    assert np.isnan(found["mean"][1])
    runs = paired_difference(groups, np.array([1.0, 2.0, 6.0, 5.0]), np.array([0.0, 0.0, 3.0, 1.0]), minlength=4, block=2)
    assert runs["count"].tolist() == [3, 0, 1, 0]
    assert runs["mean"][0] == pytest.approx(2.0)
    # group 0 holds the runs (1, 2) and (3): sums 3 and 3 of 2 and 1 positions; residuals 3 - 2*2, 3 - 2*1
    assert runs["se"][0] == pytest.approx(np.sqrt(((-1.0) ** 2 + 1.0 ** 2) * 2 / 1) / 3)


def test_paired_errors_in_runs_allow_for_neighbours_being_alike():
    """Differences that hold for stretches of 50 characters: counted one by one their error is
    far too small; in runs of 50 (or more) it is that of the 2,000 stretches. Differences that are
    independent give the same error either way."""
    from zoo.analysis import paired_difference

    rng = np.random.default_rng(0)
    n = 100_000
    groups = rng.integers(0, 3, n)
    stretches = np.repeat(rng.choice([-1.0, 1.0], n // 50), 50)
    alone, runs = (paired_difference(groups, stretches, np.zeros(n), block=b)["se"] for b in (1, 50))
    assert np.allclose(runs, 1 / np.sqrt(n // 50), rtol=0.1)
    assert (runs > 3 * alone).all()
    independent = rng.normal(size=n)
    alone, runs = (paired_difference(groups, independent, np.zeros(n), block=b)["se"] for b in (1, 100))
    assert np.allclose(runs, alone, rtol=0.1)
    shifted = paired_difference(groups[::2], stretches[::2], np.zeros(n // 2), block=50, positions=np.arange(0, n, 2))
    assert np.allclose(shifted["se"], 1 / np.sqrt(n // 50), rtol=0.1)  # a subset: its runs by text position


def test_closing_brackets_are_bucketed_by_the_distance_to_their_match():
    from zoo_analysis.comparisons import bracket_pairs

    text = "} {ab} {" + "x" * 30 + "{y}" + "} {" + "z" * 150 + "}"
    opening, closing = bracket_pairs(text, "{", "}")
    assert (closing - opening).tolist() == [3, 2, 34, 151]  # the stray first } is skipped; nested pairs match inside out
    vocab = Vocab.from_text(text)
    far = KnownModel(text, vocab, lambda c: 0.8 if c == "}" else 0.5)
    near = KnownModel(text, vocab, lambda c: 0.3 if c == "}" else 0.5)
    data = AnalysisData(ids=torch.from_numpy(vocab.encode(text)), text=text, vocab=vocab, references={"near": near})
    report = zoo.analyze(far, "bracket-distance", data, edges="1,10,100")
    buckets = {row["distance"]: row for row in report.summary["buckets"]}
    assert [buckets[k]["count"] for k in ("1-9", "10-99", "100+")] == [2, 1, 1]
    assert buckets["100+"]["model"] == pytest.approx(0.8)
    assert buckets["100+"]["near"] == pytest.approx(0.3)
    assert buckets["1-9"]["difference_se"]["near"] == pytest.approx(0, abs=1e-6)  # two pairs, the same difference
    assert buckets["100+"]["difference_se"]["near"] is None  # one pair: no error
    runs = zoo.analyze(far, "bracket-distance", data, edges="1,10,100", block=1000).summary
    assert runs["block"] == 1000
    assert runs["buckets"][0]["difference_se"]["near"] is None
    report = zoo.analyze(far, "bracket-distance", data, edges="3,10")  # the pair at distance 2 is in no bucket
    assert [row["count"] for row in report.summary["buckets"]] == [1, 2]
    with pytest.raises(zoo.ZooError, match="compares with a reference model"):
        zoo.analyze(far, "bracket-distance", text)


def _best_detector_f1(values, on, thresholds):
    """Per unit (column of `values`), the best F1 of "fires above t or below -t" against `on`."""
    best = np.zeros(values.shape[1])
    for t in thresholds:
        for fired in (values > t, values < -t):
            hits = (fired & on[:, None]).sum(0)
            precision = np.where(fired.sum(0) > 0, hits / np.maximum(fired.sum(0), 1), 0)
            recall = hits / on.sum()
            f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-300), 0)
            best = np.maximum(best, f1)
    return best


def test_detector_scores_equal_a_direct_computation():
    model = _model("lstm-2x6", QUOTED, seed=4, scale=0.6)
    thresholds = (0.5, 0.1, 0.3)  # not sorted: results follow the parameter's order
    report = zoo.analyze(model, "cells", QUOTED, streams=1, features="after-space,quote", thresholds=thresholds, top=12)
    with torch.no_grad():
        trace = model.trace(torch.from_numpy(model.vocab.encode(QUOTED))[None])
    values = torch.cat([trace["layers.0.c"][0], trace["layers.1.c"][0]], -1).tanh().numpy()
    on = text_features(QUOTED, ["after-space"])["after-space"]
    column = list(report.arrays["detector_features"]).index("after-space")
    np.testing.assert_allclose(report.arrays["detector_f1"][:, column], _best_detector_f1(values, on, thresholds),
                               atol=1e-9)
    for row in report.summary["features"]["after-space"]["top"]:
        assert row["threshold"] in thresholds
    assert report.summary["unbounded"] == []
    assert (report.arrays["unit_divisor"] == 1).all()


def _relu_counter(text: str, unit: int = 2):
    """A one-layer ReLU RNN whose `unit` counts the characters read since the last newline: its h
    is unbounded (it reaches the longest line's length), the other units small and random."""
    from zoo_classic.models import RNN

    class ReluRNN(RNN):
        def run(self, x, state):
            return self.run_loop(x, state)

        def trace_layer(self, layer, x, state, record, recorded):
            return self.loop_layer(layer, x, state, record, recorded)

        def cell(self, layer, xp, state):
            h = torch.relu(xp + self._recurrent(layer, state[0]))
            return (h,), {"h": h}

    base = _model("rnn-1x6", text, seed=5, scale=0.3)
    model = ReluRNN(base.config, vocab=base.vocab).eval()
    model.load_state_dict(base.state_dict())
    layer = model.layers[0]
    with torch.no_grad():
        layer.weight_ih[unit], layer.weight_hh[unit] = 0.0, 0.0
        layer.weight_ih[unit, model.vocab.chars.index("\n")] = -1000.0  # back to 0 at a newline
        layer.weight_hh[unit, unit], layer.bias_ih[unit] = 1.0, 1.0  # else one more
    return model


def test_cells_reads_an_unbounded_internal_relative_to_its_range_and_says_so():
    """A ReLU state reaching 47: colours, thresholds and the probe read it divided by 47
    (scale=range), or as it is (scale=fixed), and the page says that it leaves [-1, 1]."""
    import base64

    from zoo.report import render_html

    model = _relu_counter(QUOTED)
    longest = max(len(line) for line in QUOTED.splitlines())
    with torch.no_grad():
        values = model.trace(torch.from_numpy(model.vocab.encode(QUOTED))[None])["layers.0.h"][0].double().numpy()
    assert values.max() == pytest.approx(longest)
    thresholds = (0.3, 0.5, 0.7)
    on = text_features(QUOTED, ["after-space"])["after-space"]
    template = zoo.get_analyzer("cells").template
    quantized = {}
    for scale, divisor in (("range", longest), ("fixed", 1.0)):
        report = zoo.analyze(model, "cells", QUOTED, streams=1, chunk=50, features="after-space,line-position",
                             excerpt_length=400, probe_ridge=30.0, scale=scale, top=6)
        summary = report.summary
        assert summary["unbounded"] == ["layers.0.h"]
        assert summary["scale"] == scale
        assert summary["ranges"]["layers.0.h"]["max"] == pytest.approx(longest)
        assert summary["ranges"]["layers.0.h"]["divisor"] == pytest.approx(divisor)
        np.testing.assert_allclose(report.arrays["unit_divisor"], divisor)
        best = summary["features"]["line-position"]["top"][0]
        assert best["cell"] == "0:2"
        assert best["r"] > 0.999
        column = list(report.arrays["detector_features"]).index("after-space")
        np.testing.assert_allclose(report.arrays["detector_f1"][:, column],
                                   _best_detector_f1(values / divisor, on, thresholds), atol=1e-9)
        for row in summary["features"]["after-space"]["top"]:
            assert row["value_threshold"] == pytest.approx(row["threshold"] * divisor)
        x = np.c_[values / divisor, np.ones(len(values))]  # the probe: a ridge fit on the scaled values
        half = len(values) // 2
        y = text_features(QUOTED, ["line-position"])["line-position"].astype(np.float64)
        w = np.linalg.solve(x[:half].T @ x[:half] + 30.0 * np.eye(x.shape[1]), x[:half].T @ y[:half])
        r2 = 1 - ((y[half:] - x[half:] @ w) ** 2).sum() / ((y[half:] - y[half:].mean()) ** 2).sum()
        assert summary["features"]["line-position"]["probe_r2"]["layers.0.h"] == pytest.approx(r2, abs=1e-6)
        q = np.frombuffer(base64.b64decode(report.html["values"]), dtype=np.int8).reshape(6, -1)
        np.testing.assert_allclose(q[2], np.clip(np.round(values[:400, 2] / divisor * 127), -127, 127), atol=1)
        quantized[scale] = q[2]
        page = render_html(report, template)
        assert "layers.0.h is not within [−1, 1]" in page
        assert ("divided by its" in page) == (scale == "range")
        assert ("clip at ±1" in page) == (scale == "fixed")
    assert (quantized["range"] == 127).mean() < 0.05 < 0.8 < (quantized["fixed"] == 127).mean()  # not a solid panel
    bounded = zoo.analyze(_model("gru-1x6", QUOTED), "cells", QUOTED[:300], features="quote")
    assert bounded.summary["unbounded"] == []
    assert "is not within" not in render_html(bounded, template)


class GradientsOnly(torch.nn.Module):
    """A model that offers `gradients` through `forward_embedded` but no step function (not a
    RecurrentLM): connectivity falls back to one batch row per target."""

    capabilities = frozenset({"log_probs", "gradients"})

    def __init__(self, inner):
        super().__init__()
        self.inner, self.config, self.vocab = inner, inner.config, inner.vocab

    def embed(self, ids):
        return self.inner.embed(ids)

    def forward_embedded(self, x, state=None):
        return self.inner.forward_embedded(x, state)


def test_connectivity_of_a_model_without_a_step_function():
    from zoo_analysis.connectivity import connectivity_matrix

    inner = _model("gru-2x10", QUOTED, seed=2, scale=0.5)
    ids = torch.from_numpy(inner.vocab.encode(QUOTED[:31]))
    rows, _ = connectivity_matrix(GradientsOnly(inner), ids, block=4)  # auto: the only way for it
    direct = _direct_connectivity(inner, ids)
    torch.testing.assert_close(rows, direct, rtol=1e-5, atol=1e-8 * float(direct.max()))
    with pytest.raises(zoo.ZooError, match="method=sweep needs a recurrent model's step function"):
        connectivity_matrix(GradientsOnly(inner), ids, method="sweep")


def test_connectivity_refuses_what_it_cannot_do_before_it_starts():
    inner = _model("gru-2x10", QUOTED, seed=2, scale=0.5)
    with pytest.raises(zoo.ZooError, match="method=sweep needs a recurrent model's step function"):
        zoo.analyze(GradientsOnly(inner), "connectivity", QUOTED[:31], method="sweep")
    with pytest.raises(zoo.ZooError, match="start=30 leaves no target in a text of 31 characters"):
        zoo.analyze(inner, "connectivity", QUOTED[:31], start=30)


class ColumnModel:
    """A hand-built language model whose p(line end) at every position is `p_end(column)`, the
    rest going to the space: one that knows how far the line has come, or (constant) one that
    does not."""

    capabilities = frozenset({"log_probs"})

    def __init__(self, text, vocab, p_end, end="\n"):
        self.vocab, self.text, self.p_end, self.end = vocab, text, p_end, end

    def log_probs(self, ids):
        from zoo_analysis.features import line_position

        column = line_position(self.text)
        out = torch.full((len(self.text), len(self.vocab)), 1e-6, dtype=torch.float64)
        chosen = torch.tensor([self.p_end(c) for c in column.tolist()], dtype=torch.float64)
        out[:, self.vocab.chars.index(self.end)] = chosen
        out[:, self.vocab.chars.index(" ")] = 1 - chosen
        return (out / out.sum(1, keepdim=True)).log().float()


def test_line_ends_by_column_follow_the_models_probabilities():
    words = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "and", "then", "some", "more", "words", "run", "on"]
    lines, line = [], ""
    for k in range(400):  # wrapped at 30 columns: a line ends where the next word would not fit
        word = words[k % len(words)]
        if line and len(line) + 1 + len(word) > 30:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    text = "\n".join(lines) + "\n"
    vocab = Vocab.from_text(text)
    counter = ColumnModel(text, vocab, lambda c: min(1.0, c / 30))
    flat = ColumnModel(text, vocab, lambda c: 0.1)
    data = AnalysisData(ids=torch.from_numpy(vocab.encode(text)), text=text, vocab=vocab, references={"flat": flat})
    report = zoo.analyze(counter, "line-ends", data, edges="0,20")
    summary = report.summary
    ended = report.arrays["ended"]
    assert summary["line_end"] == "\n"
    assert summary["after"] == "word"
    assert summary["line_ends"] == len(lines) == ended.sum()
    assert summary["word_ends"] == text.count(" ") + len(lines)
    column = report.arrays["column"]
    assert np.allclose(report.arrays["p_model"], np.minimum(1.0, column / 30), atol=1e-4)
    assert np.allclose(report.arrays["p_flat"], 0.1, atol=1e-4)
    low, high = summary["buckets"]
    assert low["columns"] == "0-19"
    assert high["columns"] == "20+"
    assert low["line_ends"] == 0
    assert low["word_ends"] + high["word_ends"] == summary["word_ends"]
    assert high["actual"] == pytest.approx(ended[column >= 20].mean())
    assert high["model"] == pytest.approx(np.minimum(1, column[column >= 20] / 30).mean(), abs=1e-4)
    lead = summary["differences"]["flat"]["at_line_ends"]
    assert lead["mean"] == pytest.approx((np.minimum(1, column[ended] / 30) - 0.1).mean(), abs=1e-4)
    assert summary["models"]["flat"]["at_line_ends"] == pytest.approx(0.1, abs=1e-4)
    assert list(report.figures) == ["line-ends.png"]
    crlf = text.replace("\n", "\r\n")  # the same columns; the carriage return is the line end
    vocab = Vocab.from_text(crlf)
    counter = ColumnModel(crlf, vocab, lambda c: min(1.0, c / 30), end="\r")
    found = zoo.analyze(counter, "line-ends", AnalysisData(ids=torch.from_numpy(vocab.encode(crlf)), text=crlf, vocab=vocab))
    assert found.summary["line_end"] == "\r"
    assert found.summary["line_ends"] == summary["line_ends"]
    assert np.allclose(found.arrays["p_model"], report.arrays["p_model"], atol=1e-4)
    paragraphs = text.replace("\n", "\n\r").replace("\n\r", "\n\r\n\r", 3)  # LF CR: the newline ends the lines
    vocab = Vocab.from_text(paragraphs)
    found = zoo.analyze(ColumnModel(paragraphs, vocab, lambda c: 0.5), "line-ends",
                        AnalysisData(ids=torch.from_numpy(vocab.encode(paragraphs)), text=paragraphs, vocab=vocab))
    assert "\r\n" in paragraphs
    assert found.summary["line_end"] == "\n"
    assert found.summary["line_ends"] == len(lines)
    spaced = text.replace("\n", " \n")  # every line keeps its last space: the line ends after a space
    vocab = Vocab.from_text(spaced)
    found = zoo.analyze(ColumnModel(spaced, vocab, lambda c: min(1.0, c / 30)), "line-ends",
                        AnalysisData(ids=torch.from_numpy(vocab.encode(spaced)), text=spaced, vocab=vocab))  # auto: space
    assert found.summary["after"] == "space"
    assert found.summary["line_ends"] == len(lines)
    assert found.summary["word_ends"] == spaced.count(" ")  # each space: a word or the line end follows
    assert np.allclose(found.arrays["p_model"], np.minimum(1.0, found.arrays["column"] / 30), atol=1e-4)
    assert found.arrays["column"][found.arrays["ended"]].tolist() == [len(line) + 1 for line in lines]
    with pytest.raises(zoo.ZooError, match="no word followed by a space or a line end"):
        zoo.analyze(_model("lstm-1x8", "abc"), "line-ends", "abcabc")
    with pytest.raises(zoo.ZooError, match="no space followed by a line end or a word"):
        zoo.analyze(_model("lstm-1x8", "abc"), "line-ends", "abcabc", after="space")


def test_a_reference_with_another_vocabulary_reads_the_text_in_its_own():
    from zoo.evaluate import char_losses

    text = QUOTED * 3
    model, other = _model("lstm-1x8", text, seed=1), _model("gru-1x8", text + "~#", seed=2)  # 2 more characters
    assert other.vocab != model.vocab
    report = zoo.analyze(model, "error-overlap", text, references={"other": other})
    own = torch.exp(-torch.as_tensor(char_losses(other, torch.from_numpy(other.vocab.encode(text)))))
    np.testing.assert_allclose(report.arrays["p_other"], own.numpy(), rtol=1e-5)


def test_a_params_check_may_give_its_own_reason():
    def even(value):
        if value % 2:
            raise zoo.ZooError(f"n={value}: an even number, since the units come in pairs")
        return True

    param = zoo.Param(2, "units, in pairs", check=even)
    assert param.coerce("x.n", "4") == 4
    with pytest.raises(zoo.ZooError, match="n=3: an even number, since the units come in pairs"):
        param.coerce("x.n", "3")
    with pytest.raises(zoo.ZooError, match=r"x.n=-1 is not allowed \(at least 0\)"):
        zoo.Param(0, "at least 0", check=lambda v: v >= 0).coerce("x.n", "-1")
