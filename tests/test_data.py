"""Datasets, splits, line endings, downloads (from a real HTTP server on loopback) and batching."""

import hashlib
import http.server
import threading
import zipfile

import pytest
import torch

import zoo
from zoo.data import bptt_batches, build_vocab, convert_line_endings, load_corpus


def test_bundled_sample_needs_no_network():
    corpus = load_corpus("sample")
    train, valid, test = corpus.splits()
    assert len(corpus.text) > 500_000
    assert corpus.text.startswith('"Well, Prince')
    assert train + valid + test == corpus.text
    assert abs(len(train) / len(corpus.text) - 0.8) < 1e-3


def test_local_file_and_split(tiny_text):
    corpus = load_corpus(str(tiny_text), split="0.9,0.05,0.05")
    assert corpus.name == "tiny.txt"
    assert corpus.split == (0.9, 0.05, 0.05)
    assert corpus.sha256 == hashlib.sha256(tiny_text.read_bytes()).hexdigest()


def test_line_endings():
    assert convert_line_endings("a\r\nb\rc\n", "lf") == "a\nb\nc\n"
    assert convert_line_endings("a\nb\r\n", "crlf") == "a\r\nb\r\n"
    assert convert_line_endings("a\rb", "keep") == "a\rb"


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"\xef\xbb\xbf", "is empty"),
    (b"abc\xff\xfedef", "not UTF-8 text \\(byte 3"),
])
def test_bad_files(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(zoo.ZooError, match=message):
        load_corpus(str(path))


def test_missing_and_too_short(tmp_path):
    with pytest.raises(zoo.ZooError, match="no dataset or file named"):
        load_corpus(str(tmp_path / "nope.txt"))
    short = tmp_path / "short.txt"
    short.write_text("hello")
    with pytest.raises(zoo.ZooError, match=r"the validation split has 0 characters \(it needs 2\); the text \(5 characters\) is too short"):
        load_corpus(str(short)).splits()


def test_vocab_from_training_split_maps_unseen_characters():
    vocab = build_vocab("aab")
    assert vocab.decode(vocab.encode("abz")) == "ab\ufffd"


def test_bptt_batches_are_contiguous_streams():
    ids = torch.arange(1000)
    x, y = bptt_batches(ids, batch_size=4, seq_length=10)
    assert x.shape == y.shape == (24, 4, 10)  # 999 // 4 = 249 per stream -> 24 windows of 10
    assert torch.equal(y, x + 1)
    for b in range(4):
        stream = x[:, b].reshape(-1)  # consecutive windows continue each other
        assert torch.equal(stream, torch.arange(b * 249, b * 249 + 240))
    with pytest.raises(zoo.ZooError, match="too few"):
        bptt_batches(torch.arange(50), batch_size=10, seq_length=10)
    with pytest.raises(zoo.ZooError, match="^1,500 characters are too few for batches of 1,000 streams x 10 steps"):
        bptt_batches(torch.arange(1500), batch_size=1000, seq_length=10)


class _Server:
    def __init__(self, files):
        self.hits = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits += 1
                body = files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


@pytest.fixture
def served(tmp_path, monkeypatch):
    text = ("It was the best of times.\n" * 40).encode()
    buffer = tmp_path / "t.zip"
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("inner.txt", text)
    server = _Server({"/t.txt": text, "/t.zip": buffer.read_bytes()})
    sha = hashlib.sha256(text).hexdigest()
    registry = tmp_path / "registry.yaml"
    registry.write_text(f"""schema_version: 1
datasets:
  good: {{url: "{server.url}/t.txt", sha256: {sha}, split: [0.8, 0.1, 0.1]}}
  wrong: {{url: "{server.url}/t.txt", sha256: "{"0" * 64}", split: [0.8, 0.1, 0.1]}}
  unpinned: {{url: "{server.url}/t.txt", sha256: null, split: [0.8, 0.1, 0.1]}}
  zipped: {{url: "{server.url}/t.zip", member: inner.txt, split: [0.8, 0.1, 0.1]}}
  gone: {{url: "{server.url}/missing.txt", split: [0.8, 0.1, 0.1]}}
  offline: {{split: [0.9, 0.05, 0.05], description: "pass the file with --data PATH"}}
models: {{}}
""")
    monkeypatch.setenv("ZOO_REGISTRY", str(registry))
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    zoo.registry.registry.cache_clear()
    yield server, text
    server.close()
    zoo.registry.registry.cache_clear()


def test_download_once_with_checksum(served, tmp_path):
    server, text = served
    assert load_corpus("good", progress=False).text == text.decode()
    assert load_corpus("good", progress=False).text == text.decode()
    assert server.hits == 1  # the second load came from the cache
    assert (tmp_path / "home" / "datasets" / "good" / "t.txt").is_file()


def test_checksum_mismatch_is_an_error(served):
    with pytest.raises(zoo.ZooError, match="expected 0000"):
        load_corpus("wrong", progress=False)


def test_unknown_checksum_is_pinned_by_the_first_download(served, tmp_path, capsys):
    load_corpus("unpinned", progress=False)
    pin = tmp_path / "home" / "datasets" / "unpinned" / "t.txt.sha256"
    assert "pinned" in capsys.readouterr().out
    assert len(pin.read_text().strip()) == 64
    (tmp_path / "home" / "datasets" / "unpinned" / "t.txt").write_text("changed under us")
    with pytest.raises(zoo.ZooError, match="expected"):
        load_corpus("unpinned", progress=False)


def test_zip_member(served):
    _, text = served
    assert load_corpus("zipped", progress=False).text == text.decode()


def test_failed_download_leaves_nothing_behind(served, tmp_path):
    with pytest.raises(zoo.ZooError, match="cannot download") as refused:
        load_corpus("gone", progress=False)
    assert list((tmp_path / "home" / "datasets" / "gone").iterdir()) == []
    assert f"offline, put the file at {tmp_path / 'home' / 'datasets' / 'gone'}" in str(refused.value)


def test_dataset_without_a_download(served):
    with pytest.raises(zoo.ZooError, match="no public download: pass the file"):
        load_corpus("offline", progress=False)
