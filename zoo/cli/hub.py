"""`zoo push` and `zoo pull`: checkpoints on the Hugging Face Hub (the work is `zoo.hub`'s)."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import ZooError
from .common import checkpoint_path, complete_models, emit_json


@click.command()
@click.argument("directory", metavar="MODEL", shell_complete=complete_models)
@click.option("--repo-id", required=True,
              help="The Hub repository, e.g. alice/lstm-3x512-warpeace (created if needed).")
@click.option("--dry-run", is_flag=True, help="Show what would be published (files, checksums, the card) and stop.")
@click.option("--to-dir", type=click.Path(file_okay=False), metavar="DIR",
              help="Write the files into DIR instead of uploading: a Hub-ready folder "
                   "(publish it, card as it is, with `zoo push DIR` or `hf upload`) that also loads as a checkpoint.")
@click.option("--overwrite-card", is_flag=True, help="Replace the repository's (or DIR's) README.md if it has one.")
@click.option("--private", is_flag=True, help="Create the repository private.")
@click.option("--license", "license_", default="mit", show_default=True, help="The card's license field.")
@click.option("--reproduces", "model_name", metavar="NAME",
              help="The registry model whose published figure the card cites (default: the model the run trained).")
@click.option("--reports", type=click.Path(exists=True, file_okay=False), metavar="DIR",
              help="Publish these analyses too (reports/<model>, or one report folder): each report's numbers and "
                   "figures under analyses/, shown in the card. They must have been made from these weights.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def push(directory, repo_id, dry_run, to_dir, overwrite_card, private, license_, model_name, reports, as_json) -> None:
    """Publish a checkpoint on the Hugging Face Hub.

    MODEL is what every command takes: a checkpoint or run directory (its best epoch), a registry
    name with weights, or hf:org/name@revision.

    \b
    Uploads model.safetensors, config.json (without local paths or optimizer state) and a model
    card README.md (with --reports, the analyses too) in one commit, and prints the commit to
    pin: `zoo pull REPO@COMMIT`. The token comes from the usual places (`hf auth login`,
    HF_TOKEN) and is never printed. A Hub-ready folder (--to-dir) publishes its own card, edits
    included.
    """
    from .. import hub

    if dry_run and to_dir:
        raise click.UsageError("--dry-run shows the files and --to-dir writes them: choose one")
    upload = hub.prepare(checkpoint_path(directory, announce=not as_json), repo_id, license_, model_name,
                         reports=reports)
    if to_dir:
        written = hub.save(upload, to_dir, overwrite_card=overwrite_card)
        if as_json:
            emit_json({"repo_id": repo_id, "directory": str(Path(to_dir).resolve()), "written": written,
                        "files": upload.describe()})
        else:
            click.echo(f"wrote {', '.join(written)} to {to_dir}; "
                       f"publish them with `zoo push {to_dir} --repo-id {repo_id}`")
        return
    if dry_run:
        if as_json:
            emit_json({"repo_id": repo_id, "files": upload.describe(), "card": upload.card})
            return
        width = max(len(row["path"]) for row in upload.describe())
        for row in upload.describe():
            click.echo(f"{row['path']:<{width}} {row['bytes']:>10,} bytes  sha256 {row['sha256']}")
        click.echo("\n" + upload.card)
        return
    commit, files = hub.push(upload, repo_id, private=private, overwrite_card=overwrite_card)
    if as_json:
        emit_json({"repo_id": repo_id, "commit": commit, "files": files})
    else:
        kept = "" if "README.md" in files else " (the repository's card was kept: --overwrite-card replaces it)"
        click.echo(f"pushed {', '.join(files)} to {repo_id} at commit {commit}{kept}; pin it: hf:{repo_id}@{commit}")


@click.command()
@click.argument("spec")
@click.option("--analyses", "with_analyses", is_flag=True,
              help="Also fetch the analyses published with the weights "
                   "(analyses/<analyzer>/: report.json and figures).")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON for scripts: the path, the commit, the weights' sha256, the analyses at hand.")
def pull(spec, with_analyses, as_json) -> None:
    """Download a checkpoint into the Hugging Face cache, verify it, and print where it is.

    SPEC is org/name@revision (or hf:org/name@revision), or a registry name whose entry pins one.
    The revision is a commit (40 hex digits: the pin to publish), or a branch or tag name.
    With HF_HUB_OFFLINE=1 only what is cached is used.
    """
    from .. import hub
    from ..checkpoint import read_config
    from ..registry import resolve

    if not spec.startswith("hf:") and "/" in spec:
        spec = "hf:" + spec
    elif not spec.startswith("hf:"):
        try:
            resolve(spec)
        except ZooError as exc:  # neither a registry name nor a repository: say how to write both
            raise ZooError(f"{exc}; a Hub repository is pulled as ORG/NAME@REVISION") from None
    path = checkpoint_path(spec, announce=False, analyses=with_analyses)
    published = hub.published_analyses(path)
    if not as_json:
        click.echo(path)  # alone on stdout: `$(zoo pull ...)` is the folder
        if with_analyses:
            click.echo(f"analyses: {', '.join(published)} (in {path / 'analyses'})" if published
                       else f"note: {spec} has no analyses published with its weights", err=True)
        return
    # the cache keeps a pinned download under snapshots/<commit>; a shipped checkpoint has no commit
    commit = path.name if path.parent.name == "snapshots" else None
    emit_json({"spec": spec, "path": str(path), "commit": commit,
                "weights_sha256": read_config(path).get("weights_sha256"), "analyses": published})
