"""The one exception type users see.

Every failure a user can cause (an unknown name, a bad file, a broken plugin) is raised as a
`ZooError` whose message is a single line saying what went wrong and what to do. The CLI prints
that line and exits non-zero; anything else escaping is a bug in the zoo.

`plain_line` is the last resort of the code that explains other exceptions (`zoo.plugins`): when
attributing or formatting an error fails in turn, most often because memory ran out, it still
gives one line, without importing or looking anything up.
"""

MEMORY_ADVICE = "a smaller model, --batch-size or text may fit; or free memory, or raise the limit (ulimit -v)"
OUT_OF_MEMORY = f"out of memory ({MEMORY_ADVICE})"


class ZooError(Exception):
    """A user-facing error: `str(err)` is one line meant for people."""


def plain_line(exc: BaseException, failure: BaseException | None = None) -> str:
    """One line for `exc` when explaining it raised `failure`: out of memory if either is a
    MemoryError, else the exception's type and first line, else its type alone."""
    if isinstance(exc, MemoryError) or isinstance(failure, MemoryError):
        return OUT_OF_MEMORY
    try:
        first = str(exc).strip().partition("\n")[0]
        return f"unexpected {type(exc).__name__}{': ' + first if first else ''} (ZOO_TRACEBACK=1 prints the traceback)"
    except Exception:  # an exception whose str() fails: its type still says something
        return f"unexpected {type(exc).__name__} (ZOO_TRACEBACK=1 prints the traceback)"
