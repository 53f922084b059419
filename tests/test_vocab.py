import pytest

import zoo


def test_round_trip_and_order():
    vocab = zoo.Vocab.from_text("hello, world")
    assert vocab.chars == sorted(set("hello, world"))
    assert vocab.decode(vocab.encode("world")) == "world"


def test_unknown_characters_are_explicit():
    vocab = zoo.Vocab.from_text("abc")
    with pytest.raises(zoo.ZooError, match="not in the vocabulary.*'z'"):
        vocab.encode("abz")
    with_unk = zoo.Vocab.from_text("abc", unk="?")
    assert with_unk.decode(with_unk.encode("abz")) == "ab?"


def test_non_bmp_characters():
    vocab = zoo.Vocab.from_text("a😀b")
    assert vocab.decode(vocab.encode("😀ab")) == "😀ab"


def test_serialization():
    vocab = zoo.Vocab.from_text("xyz\n", unk="\n")
    assert zoo.Vocab.from_dict(vocab.to_dict()) == vocab
