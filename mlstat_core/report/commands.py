"""The ``mlstat report`` and ``mlstat compare`` commands (registered by ``mlstat_core.cli``).

Heavy modules are imported inside the command bodies so ``mlstat --help`` stays fast. User
mistakes raise :class:`~mlstat_core.errors.DataError`, which the CLI prints without a
traceback.
"""

from __future__ import annotations

from pathlib import Path

import click

from mlstat_core.json_output import JsonCommand, echo_json_failure, json_failures


@click.command("report")
@click.argument("run_dir", type=click.Path(path_type=Path))
def report_command(run_dir: Path) -> None:
    """Rebuild report.json and report.html of RUN_DIR from its report.json and manifest."""
    from mlstat_core.report.build import rebuild_report

    for path in rebuild_report(run_dir):
        click.echo(f"wrote {path}")


@click.command("compare", cls=JsonCommand)
@click.argument("runs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--html", "html_file", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="also write the comparison as a self-contained HTML file")
@click.option("--json", "as_json", is_flag=True,
              help="print the comparison as one JSON object instead of the table")
def compare_command(runs: tuple[Path, ...], html_file: Path | None, as_json: bool) -> None:
    """Put the quality figures of two or more run folders side by side.

    The first rows give each run's facts (model, seed, ...), the pipeline settings and the
    software versions in which the runs differ, and short fingerprints of the data read, the
    model files and the predictions (equal: the same files, wherever they lie), with a note
    when the runs reproduced one training exactly. A figure's best run is in bold where higher or
    lower is better and it is better than every other run beyond chance at the figure's
    confidence level: record by record where the runs scored the same test records (exact
    McNemar test for accuracy, paired bootstrap for F1, kappa and MCC), else by intervals
    that do not overlap; otherwise the run that reads best is said not to be distinguishable
    from the others, and a figure without an interval is not ranked. No run is ranked when
    the runs serve different tasks or were tested on different records, and the figures
    that read the [quality] settings are not ranked when those differ (a setting left out
    counts as its default).
    """
    try:
        if len(runs) < 2:
            raise click.UsageError("give at least two run folders to compare")
        if html_file is not None:
            check_html_output(html_file)
    except click.UsageError as exc:
        if as_json:
            echo_json_failure("compare", exc.format_message())
        raise
    from mlstat_core.artifacts import atomic_write_text
    from mlstat_core.report.compare import (
        comparison,
        comparison_json,
        print_comparison,
        render_comparison_html,
    )

    with json_failures("compare", as_json):
        table = comparison(list(runs))
    if as_json:
        click.echo(comparison_json(table))
    else:
        print_comparison(table)
    if html_file is not None:
        atomic_write_text(html_file, render_comparison_html(table))
        click.echo(f"wrote {html_file}", err=as_json)


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
