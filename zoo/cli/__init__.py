"""The ``zoo`` command.

Every subcommand prints human-readable text by default and JSON with ``--json``. Every error is
one line on stderr and exit status 1 (2 for bad usage, as click does): a user's mistake as a
ZooError, anything else through `zoo.plugins.explain` (the failing plugin, the system, or a bug in
zoo, with the traceback under ZOO_TRACEBACK=1). ``zoo --help``,
``zoo list`` and ``zoo plugins`` never import torch.

The commands live in one module per family (catalog, training, hub, scoring, analyze) and are
added to the group below; `common` holds what they share.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
import warnings

import click

from ..errors import OUT_OF_MEMORY, ZooError, plain_line
from .analyze import analyze
from .catalog import info, list_cmd, plugins_cmd
from .common import ZooInterrupted
from .hub import pull, push
from .scoring import eval_cmd, sample
from .training import baseline, train


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    click.echo(f"zoo: warning: {message}", err=True)


class _ZooGroup(click.Group):
    """The zoo's own commands, then those that plugins register (`zoo_register_commands`): a
    plugin's command is imported only when it is listed or run, and one that fails to load is
    left out with a warning, as a broken plugin is everywhere else."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_plugin_commands()})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        entry = None if command is not None else _plugin_commands().get(name)
        if entry is None:
            return command
        try:
            command = entry.load()
        except ZooError as exc:
            warnings.warn(str(exc), stacklevel=1)
            return None
        if not isinstance(command, click.Command):
            warnings.warn(f"command '{name}' from plugin '{entry.plugin}' is not a click command", stacklevel=1)
            return None
        return command


def _plugin_commands() -> dict:
    from ..plugins import plugins

    return plugins().entries["command"]


@click.group(cls=_ZooGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="rnn-zoo", prog_name="zoo")
def cli() -> None:
    """RNN Zoo: train, share and take apart character-level recurrent language models.

    \b
    Models are named <arch>-<layers>x<hidden>[.<tag>], e.g. lstm-3x512 or lstm-2x128.warpeace.
    Architectures, tasks, baselines, analyzers and some commands come from plugins (entry-point
    group "zoo"); `zoo plugins` shows which are installed.
    """


for command in (list_cmd, info, plugins_cmd, train, baseline, push, pull, eval_cmd, sample, analyze):
    cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: ZooError -> one line on stderr, exit 1."""
    warnings.showwarning = _show_warning
    try:
        code = cli.main(args=argv, prog_name="zoo", standalone_mode=False)
    except ZooInterrupted as exc:
        click.echo(f"zoo: {exc}", err=True)
        sys.exit(130)
    except ZooError as exc:
        if os.environ.get("ZOO_TRACEBACK", "") not in ("", "0"):  # where a refusal came from, for a bug report
            traceback.print_exc()
        _error(exc)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("zoo: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("zoo: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:  # still one line: out of memory, which plugin, the system, or our bug
        try:
            from ..plugins import explain

            line = explain(exc)
        except Exception as failure:  # even that import can run out of memory
            line = plain_line(exc, failure)
        _error(line)
        sys.exit(1)
    if isinstance(code, int) and code:  # a command that has shown its answer and exits non-zero (click.exceptions.Exit)
        sys.exit(code)


_NO_MEMORY_LINE = f"zoo: error: {OUT_OF_MEMORY}\n".encode()  # made now: when it is needed, memory may not be


def _error(message: object) -> None:
    """``zoo: error: MESSAGE`` on stderr; where even that fails, the line written as bytes (the
    out-of-memory line, ready-made, when it failed for want of memory)."""
    try:
        click.echo(f"zoo: error: {message}", err=True)
    except Exception as failure:
        with contextlib.suppress(Exception):  # stderr is gone: the exit status still says it
            os.write(2, _NO_MEMORY_LINE if isinstance(failure, MemoryError)
                     else f"zoo: error: {message}\n".encode(errors="replace"))
