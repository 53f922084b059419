"""The one exception type users see.

Every failure a user can cause (an unknown name, a bad file, a broken plugin) is raised as a
`ZooError` whose message is a single line saying what went wrong and what to do. The CLI prints
that line and exits non-zero; anything else escaping is a bug in the zoo.
"""


class ZooError(Exception):
    """A user-facing error: `str(err)` is one line meant for people."""
