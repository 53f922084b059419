"""The autocomplete task (Madsen 2019): dataset builder, word head, training, evaluation, the
`autocomplete` command and the accuracy-by-known-chars analyzer, on tiny corpora whose answers
are known."""

import dataclasses
import json
import shutil

import numpy as np
import pytest
import torch
from test_cli_analyze import CHROMIUM, open_in_browser
from zoo_autocomplete import data as ac
from zoo_autocomplete.task import Autocomplete

import zoo
from zoo.data import load_corpus
from zoo.trainer import train
from zoo.vocab import WordVocab

MADSEN = Autocomplete().recipe()

CYCLE = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]


@pytest.fixture(scope="module")
def cycle_text(tmp_path_factory):
    """Eight words that always follow each other in the same order: after a word and a space, the
    next word is certain, so a trained model must get (almost) every word right."""
    path = tmp_path_factory.mktemp("cycle") / "cycle.txt"
    path.write_text(" ".join(CYCLE * 300).title() + "!\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trained(cycle_text, tmp_path_factory):
    """A small LSTM trained on the cycle until it knows it."""
    recipe = dataclasses.replace(MADSEN, batch_size=16, lr=0.02, max_epochs=20)
    run = tmp_path_factory.mktemp("runs") / "cycle"
    result = train("lstm-1x32", load_corpus(str(cycle_text), split="0.9,0.05,0.05"), recipe, run, task="autocomplete",
                   progress=False, log=lambda line: None, overrides={"input": "embedding"})
    return run, result


def test_normalization_follows_text8():
    assert ac.normalize("Hello, World!  In 1984\nÉlève's   café.") == "hello world in one nine eight four eleve s cafe"
    assert ac.normalize("  --  ") == ""
    assert set(ac.normalize("Ünïcödé — text, 42 % ß")) <= set(ac.ALPHABET)


def test_observations_never_cut_a_word_and_keep_the_text():
    text = ac.normalize("The quick brown fox jumps over the lazy dog. " * 40 + "x" * 30)
    observations, dropped = ac.pack(text, max_length=25)
    assert dropped == 1  # the 30-letter word cannot fit in 25 characters
    assert all(o.startswith(" ") and len(o) <= 25 and "  " not in o for o in observations)
    assert " ".join(o[1:] for o in observations) == text.rsplit(" ", 1)[0]  # every word, in order
    # greedy: the next observation's first word would not have fitted
    for a, b in zip(observations, observations[1:]):
        assert len(a) + 1 + len(b.split()[0]) > 25
    for text in ("!!! ...\n??", "x" * 30 + "\n!!", "!!\n" + "x" * 30 + " ok", "1984", ""):  # has_observations: from_text's
        assert ac.has_observations(text, max_length=25) == bool(ac.from_text(text, max_length=25)), text


def test_dataset_split_and_vocabulary(cycle_text):
    raw = cycle_text.read_text()
    data = ac.build(raw, words=5)
    n = sum(data.settings["observations"].values())
    assert data.settings["observations"] == {"train": int(n * 0.9), "valid": int(n * 0.05),
                                             "test": n - int(n * 0.9) - int(n * 0.05)}
    assert sorted(data.train + data.valid + data.test) == sorted(ac.pack(ac.normalize(raw))[0])
    assert data.words.words[:2] == ["<pad>", "<unk>"]
    assert len(data.words) == 7
    again = ac.build(raw, words=5)
    assert again.test == data.test
    assert again.words == data.words
    assert ac.build(raw, words=5, seed=1).test != data.test


def test_word_vocabulary_keeps_the_most_frequent_words():
    vocab = WordVocab.from_words(["b", "a", "c", "a", "b", "a", "d"], 2)
    assert vocab.words == ["<pad>", "<unk>", "a", "b"]
    assert vocab.encode(["b", "z", "a"]).tolist() == [3, 1, 2]
    with pytest.raises(zoo.ZooError):
        WordVocab(["a", "b"])


def test_each_character_targets_its_word_and_a_space_the_next_word():
    vocab = WordVocab(["<pad>", "<unk>", "the", "cat"])
    enc = ac.encode([" the cat", " the dog the"], vocab)
    assert enc.lengths.tolist() == [8, 12]
    assert enc.targets[0].tolist() == [2, 2, 2, 2, 3, 3, 3, 3, 0, 0, 0, 0]
    assert enc.targets[1].tolist() == [2, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2]  # dog is unknown
    assert enc.known()[1].tolist() == [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]
    assert ac.char_vocab().decode(enc.chars[1]) == " the dog the"


def test_masked_loss_ignores_padding_and_unknown_words():
    logits = torch.randn(1, 4, 5)
    targets = torch.tensor([[2, 1, 3, 0]])
    direct = torch.nn.functional.cross_entropy(logits[0, [0, 2]], targets[0, [0, 2]])
    torch.testing.assert_close(ac.loss(logits, targets), direct)


def test_the_article_models_have_the_article_parameter_counts():
    """Madsen 2019, appendix table: embedding 16,200; recurrent GRU 4,323,600, LSTM and Nested
    LSTM 5,764,800; dense 9,847,986."""
    with torch.device("meta"):
        for name, recurrent in [("gru-2x600.text8", 4_323_600), ("lstm-2x600.text8", 5_764_800),
                                ("nlstm-1x600.text8", 5_764_800)]:
            model = zoo.create_model(name)
            assert model.config.task == "autocomplete"
            assert model.config.output_size == 16_386
            assert model.num_parameters(recurrent_only=True) == recurrent
            assert model.embedding.weight.numel() == 16_200
            assert sum(p.numel() for p in model.head.parameters()) == 9_847_986
            assert "words" in model.capabilities
            assert "log_probs" not in model.capabilities


def test_a_trained_model_completes_words_it_has_learned(trained):
    run, result = trained
    model = zoo.load_checkpoint(run)
    assert model.words == result.model.words
    assert model.config.task == "autocomplete"
    assert result.history[-1]["valid_accuracy"] > 0.95
    assert ac.suggest(model, "Alpha beta ")[0][0] == "gamma"  # the next word, after a space
    assert ac.suggest(model, "zeta e")[0][0] == "eta"  # the word being typed
    suggestions = ac.suggest(model, "delta", count=3)
    assert len(suggestions) == 3
    assert all(w not in ("<pad>", "<unk>") for w, _ in suggestions)
    assert sum(p for _, p in ac.suggest(model, "alpha ", count=8)) == pytest.approx(1, abs=1e-3)
    # a long text is read as one observation would be: its last words within max_length
    a, b = "alpha beta " * 50 + "zeta e", "gamma delta " * 50 + "alpha beta " * 5 + "zeta e"
    assert ac.suggest(model, a, max_length=30) == ac.suggest(model, b, max_length=30)
    assert ac.suggest(model, a, max_length=30) == ac.suggest(model, " ".join(a.split()[-6:]))  # " alpha beta alpha beta zeta e"


def test_accuracy_by_known_chars_on_known_answers():
    from zoo_autocomplete.analyzer import by_known

    known = np.array([0, 0, 1, 1, 1, 3])
    rank = np.array([1, 0, 2, 3, 1, 0])
    rows = by_known(known, rank, 3)
    assert [r["known"] for r in rows] == [0, 1, 3]
    assert rows[0] == {"known": 0, "characters": 2, "top1": 0.5, "top2": 0.5, "top3": 0.5}
    assert rows[1]["top1"] == pytest.approx(1 / 3)
    assert rows[1]["top2"] == pytest.approx(2 / 3)
    assert rows[1]["top3"] == 1
    assert rows[2]["top3"] == 0


def test_the_lead_over_a_reference_is_paired_by_character():
    from zoo_autocomplete.analyzer import lead

    own = {"rank": np.array([1, 0, 1, 1]), "loss": np.array([1.0, 2.0, 3.0, 4.0]), "known": np.array([0, 0, 1, 1])}
    theirs = {"rank": np.array([0, 0, 1, 2]), "loss": np.array([2.0, 2.0, 3.0, 5.0]), "known": own["known"]}
    found = lead(own, theirs)  # per character, model minus reference in top-1: 1, 0, 0, 1
    assert found["top1"] == 0.5
    assert found["top1_se"] == pytest.approx(np.std([1, 0, 0, 1], ddof=1) / 2)
    assert found["nats"] == 0.5
    assert found["nats_se"] == pytest.approx(np.std([1, 0, 0, 1], ddof=1) / 2)
    assert [(r["known"], r["characters"], r["top1"]) for r in found["by_known"]] == [(0, 2, 0.5), (1, 2, 0.5)]
    assert [r["top1_se"] for r in found["by_known"]] == pytest.approx([0.5, 0.5])  # std([1, 0]) / sqrt(2)
    runs = lead(own, theirs, block=2)  # runs (1, 0) and (0, 1): the same sum each, so no spread between runs
    assert runs["top1"] == pytest.approx(0.5)
    assert runs["top1_se"] == pytest.approx(0, abs=1e-12)
    same = lead(own, own)
    assert same["top1"] == pytest.approx(0, abs=1e-12)
    assert same["top1_se"] == pytest.approx(0, abs=1e-12)
    assert all(r["top1"] == pytest.approx(0, abs=1e-12) for r in same["by_known"])


def test_eval_analyze_and_autocomplete_commands(zoo_cli, trained, tmp_path):
    run, _ = trained
    code, out, err = zoo_cli("eval", "--model", str(run), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["task"] == "autocomplete"
    assert result["accuracy"] > 0.95
    assert result["top3"] >= result["accuracy"]
    card = zoo.hub.prepare(run, "someone/cycle").card  # eval wrote the metrics the model card reports
    assert "name: word accuracy" in card
    assert "split: test" in card
    assert "zoo autocomplete --model" in card
    assert "nats/char" not in card
    code, out, err = zoo_cli("eval", "--model", str(run), "--reference", str(run), "--json")  # the same words
    assert code == 0, err
    same = json.loads(out)["references"][0]
    assert same["accuracy"] == pytest.approx(result["accuracy"])
    assert same["accuracy_difference"] == pytest.approx(0, abs=1e-12)
    assert same["difference_nats"] == pytest.approx(0, abs=1e-12)
    chars = zoo.save_checkpoint(zoo.create_model("lstm-1x8", vocab=zoo.Vocab(list("abc "))), tmp_path / "chars")
    code, out, err = zoo_cli("eval", "--model", str(run), "--reference", str(chars))
    assert code == 1
    assert "made for the task next-char, the model for autocomplete" in err
    assert err.count("\n") == 1
    other = tmp_path / "other-words"  # the same weights, two words swapped: other scored characters
    shutil.copytree(zoo.checkpoint.checkpoint_dir(run), other)
    config = json.loads((other / "config.json").read_text())
    config["words"][2], config["words"][3] = config["words"][3], config["words"][2]
    (other / "config.json").write_text(json.dumps(config))
    code, out, err = zoo_cli("eval", "--model", str(run), "--reference", str(other))
    assert code == 1
    assert "knows other words than the model" in err
    assert err.count("\n") == 1
    code, out, err = zoo_cli("analyze", "--model", str(run), "--analyzer", "accuracy-by-known-chars", "--reference",
                             str(other), "--reference", str(run), "--out", str(tmp_path / "paired"), "--quiet", "--json")
    assert code == 0, err
    paired = json.loads(out)["accuracy-by-known-chars"]["summary"]
    (label, lead), = paired["lead"].items()  # the model itself, given again: paired
    assert paired["unpaired"] == ["other-words"]
    assert label.endswith("cycle")
    assert lead["top1"] == 0
    code, out, err = zoo_cli("analyze", "--model", str(run), "--analyzer", "accuracy-by-known-chars",
                             "--out", str(tmp_path / "acc"), "--quiet", "--json")
    assert code == 0, err
    summary = json.loads(out)["accuracy-by-known-chars"]["summary"]
    assert summary["overall"]["cycle"]["accuracy"] == pytest.approx(result["accuracy"])  # the same test observations
    rows = summary["by_known"]["cycle"]
    assert rows[0]["known"] == 0
    assert all(r["top3"] >= r["top1"] for r in rows)
    assert min(r["top1"] for r in rows if r["known"] >= 1) > 0.95  # one letter and the context give the word
    assert (tmp_path / "acc" / "accuracy.png").is_file()
    code, out, err = zoo_cli("autocomplete", "--model", str(run), "beta gamma del", "-n", "2")
    assert code == 0, err
    assert out.splitlines()[0].split()[-1] == "delta"
    assert len(out.splitlines()) == 2


def test_connectivity_targets_the_word(zoo_cli, trained, tmp_path):
    from zoo_analysis.connectivity import connectivity_matrix

    run, _ = trained
    model = zoo.load_checkpoint(run)
    enc = ac.encode([" alpha beta gamma"], model.words)
    ids, targets = torch.from_numpy(enc.chars[0].astype(np.int64)), torch.from_numpy(enc.targets[0].astype(np.int64))
    sweep, logits = connectivity_matrix(model, ids, targets=targets, method="sweep")
    rows, _ = connectivity_matrix(model, ids, targets=targets, method="rows", block=5)
    assert sweep.shape == (17, 17)
    assert logits.shape == (17, len(model.words))
    torch.testing.assert_close(sweep, rows, rtol=1e-5, atol=1e-8 * float(rows.max()))
    code, out, err = zoo_cli("analyze", "--model", str(run), "--analyzer", "connectivity", "--text",
                             "Alpha beta gamma delta", "--out", str(tmp_path / "conn"), "--quiet", "--json")
    assert code == 0, err
    summary = json.loads(out)["connectivity"]["summary"]
    assert summary["predicts"] == "words"
    assert summary["window"]["characters"] == len(" alpha beta gamma delta")


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium to open the report in: install Debian's chromium")
def test_word_model_reports_render_in_a_real_browser(zoo_cli, trained, tmp_path):
    run, _ = trained
    code, _, err = zoo_cli("analyze", "--model", str(run), "--analyzer", "accuracy-by-known-chars,connectivity",
                           "--reference", str(run), "--out", str(tmp_path / "r"), "--quiet")
    assert code == 0, err
    pages = {}
    for name in ("accuracy-by-known-chars", "connectivity"):
        dom, log = open_in_browser(tmp_path / "r" / name / "report.html", tmp_path)
        assert "CONSOLE" not in log
        assert "<h1>" in dom
        pages[name] = dom
    assert "letters read" in pages["accuracy-by-known-chars"]
    assert '<img src="data:image/png;base64,' in pages["accuracy-by-known-chars"]
    assert "Ahead of" in pages["accuracy-by-known-chars"]
    assert "top-1 lead (points)" in pages["accuracy-by-known-chars"]
    assert pages["accuracy-by-known-chars"].count('<img src="data:image/png;base64,') == 2  # the curves, the lead
    assert "its word is" in pages["connectivity"]
    assert "the word being typed" in pages["connectivity"]


def test_resume_gives_the_uninterrupted_run(cycle_text, tmp_path):
    corpus = load_corpus(str(cycle_text), split="0.9,0.05,0.05")
    recipe = dataclasses.replace(MADSEN, batch_size=16, max_epochs=2)
    kwargs = {"progress": False, "log": lambda line: None, "overrides": {"input": "embedding"}}
    kwargs = {**kwargs, "task": "autocomplete"}
    train("gru-1x8", corpus, recipe, tmp_path / "straight", options={"words": 6}, **kwargs)
    train("gru-1x8", corpus, dataclasses.replace(recipe, max_epochs=1), tmp_path / "split", options={"words": 6},
          **kwargs)
    # resumed without --set words: the run's own six words, not the default 16,384
    train("gru-1x8", corpus, recipe, tmp_path / "split", resume=True, task="autocomplete", progress=False,
          log=lambda line: None)
    a = zoo.load_checkpoint(tmp_path / "straight").state_dict()
    b = zoo.load_checkpoint(tmp_path / "split").state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_resume_from_the_command_line_keeps_the_task(zoo_cli, cycle_text, tmp_path):
    """`zoo train --resume` continues an autocomplete run without being told its task again."""
    out = str(tmp_path / "run")
    first = ["train", "--model", "gru-1x8", "--data", str(cycle_text), "--out", out, "--batch-size", "16", "--quiet"]
    code, _, err = zoo_cli(*first, "--task", "autocomplete", "--input", "embedding", "--epochs", "1")
    assert code == 0, err
    code, _, err = zoo_cli(*first, "--task", "next-char", "--epochs", "2", "--resume")
    assert code == 1
    assert "trains for --task autocomplete, not next-char" in err
    assert len(err.strip().splitlines()) == 1
    code, out_text, err = zoo_cli(*first, "--epochs", "2", "--resume", "--json")
    assert code == 0, err
    assert json.loads(out_text)["epochs"] == 2
    assert zoo.load_checkpoint(out).words is not None


@pytest.mark.parametrize("args, fragment", [
    (["sample", "--model", "{run}"], "no next-character distribution"),
    (["analyze", "--model", "{run}", "--analyzer", "oracles"], "log_probs"),
    (["autocomplete", "--model", "{plain}", "the"], "not an autocomplete model"),
    (["analyze", "--model", "{run}", "--analyzer", "accuracy-by-known-chars", "--reference", "{plain}"],
     "reference 'plain' cannot be compared: it needs words"),
    (["analyze", "--model", "{plain}", "--analyzer", "char-probs", "--reference", "{run}", "--text", "abba"],
     "cannot be compared: it needs log_probs"),
    (["train", "--model", "lstm-1x4", "--data", "{text}", "--set", "words=10"],
     "not a parameter of the task next-char (none) nor an option of lstm"),
    (["train", "--model", "lstm-1x4", "--data", "{empty}", "--task", "autocomplete"], "too few"),
])
def test_misuse_is_one_line(zoo_cli, trained, cycle_text, tmp_path, monkeypatch, args, fragment):
    monkeypatch.chdir(tmp_path)
    run, _ = trained
    vocab = zoo.Vocab.from_text("ab")
    plain = zoo.save_checkpoint(zoo.create_model("lstm-1x4", vocab=vocab), tmp_path / "plain")
    (tmp_path / "empty.txt").write_text("123 !!! ... ?\n")
    values = {"run": str(run), "plain": str(plain), "text": str(cycle_text), "empty": str(tmp_path / "empty.txt")}
    code, _, err = zoo_cli(*[a.format(**values) for a in args])
    assert not (tmp_path / "runs").exists()
    assert code != 0
    assert fragment in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_checkpoint_without_its_words_is_refused(trained, tmp_path):
    run, result = trained
    copy = tmp_path / "copy"
    shutil.copytree(zoo.checkpoint.checkpoint_dir(run), copy)
    config = json.loads((copy / "config.json").read_text())
    del config["words"]
    (copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(zoo.ZooError, match="words"):
        zoo.load_checkpoint(copy)
