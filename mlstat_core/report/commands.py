"""The ``mlstat report`` and ``mlstat compare`` commands (registered by ``mlstat_core.cli``).

Heavy modules are imported inside the command bodies so ``mlstat --help`` stays fast. User
mistakes raise :class:`~mlstat_core.errors.DataError`, which the CLI prints without a
traceback.
"""

from __future__ import annotations

from pathlib import Path

import click


@click.command("report")
@click.argument("run_dir", type=click.Path(path_type=Path))
def report_command(run_dir: Path) -> None:
    """Rebuild report.json and report.html of RUN_DIR from its report.json and manifest."""
    from mlstat_core.report.build import rebuild_report

    for path in rebuild_report(run_dir):
        click.echo(f"wrote {path}")


@click.command("compare")
@click.argument("runs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--html", "html_file", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="also write the comparison as a self-contained HTML file")
def compare_command(runs: tuple[Path, ...], html_file: Path | None) -> None:
    """Put the quality figures of two or more run folders side by side.

    The first rows give each run's facts (model, seed, ...), the pipeline settings and the
    software versions in which the runs differ, and short fingerprints of the data read, the
    model files and the predictions (equal: the same files, wherever they lie), with a note
    when a run reproduced another exactly; a figure's best run is in bold where higher or
    lower is better. No run is ranked when the runs serve different tasks or were tested on
    different records, and the figures that read the [quality] settings are not ranked when
    those differ (a setting left out counts as its default).
    """
    if len(runs) < 2:
        raise click.UsageError("give at least two run folders to compare")
    if html_file is not None:
        check_html_output(html_file)
    from mlstat_core.artifacts import atomic_write_text
    from mlstat_core.report.compare import (
        comparison,
        print_comparison,
        render_comparison_html,
    )

    table = comparison(list(runs))
    print_comparison(table)
    if html_file is not None:
        atomic_write_text(html_file, render_comparison_html(table))
        click.echo(f"wrote {html_file}")


def check_html_output(html_file: Path) -> None:
    """Refuse an ``--html`` file that is not ``.html``/``.htm`` (a data file given by
    mistake) or that lies inside a run folder (its report or manifest would be replaced)."""
    from mlstat_core.predict import run_folder_around

    if html_file.suffix.lower() not in (".html", ".htm"):
        raise click.BadParameter(f"{html_file} does not end in .html: give a file such as "
                                 "compare.html (an existing file is replaced)",
                                 param_hint="'--html'")
    folder = run_folder_around(html_file)
    if folder is not None:
        raise click.BadParameter(f"{html_file} lies inside the run folder {folder}: writing "
                                 "there would change the run's evidence; write the comparison "
                                 "outside run folders", param_hint="'--html'")
