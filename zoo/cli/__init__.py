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

import sys
import warnings

import click

from ..errors import ZooError
from .analyze import analyze
from .catalog import info, list_cmd, plugins_cmd
from .common import ZooInterrupted
from .hub import pull, push
from .scoring import autocomplete, eval_cmd, sample
from .training import baseline, train


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    click.echo(f"zoo: warning: {message}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="rnn-zoo", prog_name="zoo")
def cli() -> None:
    """RNN Zoo: train, share and take apart character-level recurrent language models.

    \b
    Models are named <arch>-<layers>x<hidden>[.<tag>], e.g. lstm-3x512 or lstm-2x128.warpeace.
    Architectures, baselines and analyzers come from plugins (entry-point group "zoo");
    `zoo plugins` shows which are installed.
    """


for command in (list_cmd, info, plugins_cmd, train, baseline, push, pull, eval_cmd, sample, autocomplete, analyze):
    cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: ZooError -> one line on stderr, exit 1."""
    warnings.showwarning = _show_warning
    try:
        cli.main(args=argv, prog_name="zoo", standalone_mode=False)
    except ZooInterrupted as exc:
        click.echo(f"zoo: {exc}", err=True)
        sys.exit(130)
    except ZooError as exc:
        click.echo(f"zoo: error: {exc}", err=True)
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
    except Exception as exc:  # still one line: which plugin, out of memory, the system, or our bug
        from ..plugins import explain

        click.echo(f"zoo: error: {explain(exc)}", err=True)
        sys.exit(1)
