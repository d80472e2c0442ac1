"""The ``mlstat new-plugin`` command (imports only click at load, like every CLI module)."""

from __future__ import annotations

import click


@click.command(name="new-plugin")
@click.argument("name")
@click.option("--dir", "directory", default=".", show_default=True,
              type=click.Path(file_okay=False),
              help="Folder in which to create mlstat-NAME/.")
@click.option("--description", default=None, help="One line for the package metadata.")
@click.option("--force", is_flag=True, help="Write into an existing, non-empty folder.")
def new_plugin_command(name: str, directory: str, description: str | None, force: bool) -> None:
    """Create a plugin package NAME: a loader, a model, an indicator and their tests."""
    from mlstat_core.scaffold import ScaffoldError, create_plugin

    try:
        target = create_plugin(name, directory, description=description, force=force)
    except ScaffoldError as exc:
        error = click.ClickException(str(exc))
        error.exit_code = 2
        raise error from None
    click.echo(f"created plugin {name!r} in {target}")
    click.echo("next steps:")
    click.echo(f"  cd {target}")
    click.echo('  pip install -e ".[test]"')
    click.echo("  mlstat plugins              # lists it as loaded")
    click.echo("  pytest                      # conformance checks and the example pipeline")
    click.echo("  mlstat run examples/pipeline.toml   # a run folder under examples/runs/")
