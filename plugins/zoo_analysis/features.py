"""Built-in text features: one value per character, describing the text after reading it.

Each is vectorized over the whole text (numpy over code points, or one C-speed regular expression
for the C lexer), with no Python loop per character. Boolean results are on/off features; numbers
are graded. Karpathy et al. 2015 found LSTM cells that track several of these: inside a quotation,
position in the line, depth of brackets, inside a comment (Fig. 2).
"""

from __future__ import annotations

import re

import numpy as np


def _codes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def _last(mask: np.ndarray) -> np.ndarray:
    """For each t, the largest s <= t where `mask[s]`, or -1."""
    return np.maximum.accumulate(np.where(mask, np.arange(len(mask)), -1))


def _is(codes: np.ndarray, chars: str) -> np.ndarray:
    return np.isin(codes, [ord(c) for c in chars])


def inside_quotes(text: str) -> np.ndarray:
    """Inside a double-quoted passage: an odd number of straight quotes read so far, or a
    curly opening quote read since the last closing one. The closing quote itself is outside."""
    codes = _codes(text)
    straight = np.cumsum(codes == ord('"')) % 2 == 1
    opened, closed = _last(codes == ord("\u201c")), _last(codes == ord("\u201d"))
    return straight | (opened > closed)


def line_position(text: str) -> np.ndarray:
    """Characters read since the last newline (0 on the newline itself)."""
    return np.arange(len(text)) - _last(_codes(text) == 10)


def _depth(text: str, opening: str, closing: str) -> np.ndarray:
    """Nesting depth after each character, never below zero (a text may start inside a block):
    the walk d_t = max(0, d_{t-1} + step_t), which is S_t - min(0, min_{s<=t} S_s) in closed form."""
    codes = _codes(text)
    walk = np.cumsum((codes == ord(opening)).astype(np.int64) - (codes == ord(closing)))
    return walk - np.minimum(np.minimum.accumulate(walk), 0)


def paren_depth(text: str) -> np.ndarray:
    """Depth of round brackets ``( )``."""
    return _depth(text, "(", ")")


def brace_depth(text: str) -> np.ndarray:
    """Depth of curly braces ``{ }`` (blocks in C)."""
    return _depth(text, "{", "}")


def bracket_depth(text: str) -> np.ndarray:
    """Depth of square brackets ``[ ]``."""
    return _depth(text, "[", "]")


# One left-to-right scan finds C comments and string/character literals together, so a quote
# inside a comment, or "/*" inside a string, is read the way a compiler reads it.
_C_TOKENS = re.compile(r"""(?P<comment>/\*.*?(?:\*/|\Z)|//[^\n]*)"""
                       r"""|(?P<string>"(?:\\.|[^"\\\n])*"?)"""
                       r"""|'(?:\\.|[^'\\\n])*'?""", re.S)


def _c_spans(text: str, kind: str) -> np.ndarray:
    marks = np.zeros(len(text) + 1, dtype=np.int64)
    for match in _C_TOKENS.finditer(text):
        if match.lastgroup == kind:
            marks[match.start()] += 1
            marks[match.end()] -= 1
    return np.cumsum(marks[:-1]) > 0


def c_comment(text: str) -> np.ndarray:
    """Inside a C comment, ``/* ... */`` or ``// ...`` to the end of the line, delimiters included."""
    return _c_spans(text, "comment")


def c_string(text: str) -> np.ndarray:
    """Inside a C string literal ``"..."``, quotes included (not in comments or character literals)."""
    return _c_spans(text, "string")


def indentation(text: str) -> np.ndarray:
    """The current line's indentation read so far: leading spaces and tabs (a tab counts one)."""
    codes = _codes(text)
    index = np.arange(len(codes))
    line_start = np.r_[-1, _last(codes == 10)[:-1]] + 1  # a newline belongs to the line it ends
    blank = _is(codes, " \t")
    next_ink = np.minimum.accumulate(np.where(blank, len(codes), index)[::-1])[::-1]  # first non-blank at or after t
    return np.minimum(index - line_start + 1, next_ink[line_start] - line_start)


def word_position(text: str) -> np.ndarray:
    """Letters read so far in the current word (0 on anything that is not a letter)."""
    codes = _codes(text)
    alphabet, where = np.unique(codes, return_inverse=True)
    letter = np.array([chr(c).isalpha() for c in alphabet.tolist()], dtype=bool)[where]  # per distinct character
    return np.where(letter, np.arange(len(codes)) - _last(~letter), 0)


def after_newline(text: str) -> np.ndarray:
    """The character just read is a newline (the next one starts a line)."""
    return _codes(text) == 10


def after_space(text: str) -> np.ndarray:
    """The character just read is a space (the next one starts a word)."""
    return _codes(text) == 32
