"""The Python snippet of docs/imagery.md that maps another scene with a saved model runs as
written (the repository's snippet runner skips it: it needs a run folder)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "imagery.md"
PIPELINE = """
[pipeline]
name = "crop"
task = "raster_segmentation"
seed = 0

[loader]
component = "imagery.landsat_nc"
directory = "{crop}"

[split]
component = "imagery.spatial_blocks"
block_size = 16
validation_size = 0.2

[model]
component = "imagery.context_forest"
n_estimators = 5
cv_block_size = 16

[[indicators]]
component = "imagery.field_validation"

[output]
dir = "runs"
"""


def scene_map_snippet() -> str:
    """The fenced Python block of the guide that calls ``scene_map``, dedented."""
    blocks = re.findall(r"^( *)```python\n(.*?)^\1```", GUIDE.read_text(encoding="utf-8"),
                        flags=re.MULTILINE | re.DOTALL)
    found = [re.sub(rf"^{indent}", "", code, flags=re.MULTILINE) for indent, code in blocks
             if "scene_map(" in code]
    assert len(found) == 1, "docs/imagery.md should hold one Python snippet calling scene_map"
    return found[0]


@pytest.mark.skipif(not GUIDE.is_file(), reason="the repository's docs are not here")
def test_the_guides_scene_map_snippet_runs(crop_dir: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from mlstat_core.engine import run

    pipeline = tmp_path / "crop.toml"
    pipeline.write_text(PIPELINE.format(crop=crop_dir), encoding="utf-8")
    result = run(pipeline, out=tmp_path / "runs")
    code = scene_map_snippet()
    # the run and the new scene (the crop again) stand in for the snippet's placeholders
    code, n_run = re.subn(r"^run_folder = .*$", f"run_folder = {str(result.run_dir)!r}", code,
                          flags=re.MULTILINE)
    code, n_scene = re.subn(r"^scene_folder = .*$", f"scene_folder = Path({str(crop_dir)!r})",
                            code, flags=re.MULTILINE)
    assert n_run == n_scene == 1
    monkeypatch.chdir(tmp_path)
    exec(compile(code, str(GUIDE), "exec"), {})
    assert "built_up" in capsys.readouterr().out
    assert (tmp_path / "map-2005" / "map.tif").is_file()


def mlstat_commands() -> list[tuple[str, str]]:
    """The mlstat command lines with arguments in docs/imagery.md and the plugin's README
    (inline code and fenced shell lines): (file name, command)."""
    found = []
    for path in (GUIDE, Path(__file__).resolve().parents[1] / "README.md"):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        spans = re.findall(r"`(mlstat [^`]+)`", re.sub(r"\s*\n\s*", " ", text))
        for block in re.findall(r"^ *```(?:bash|sh|console)?\n(.*?)^ *```", text,
                                flags=re.MULTILINE | re.DOTALL):
            spans += re.findall(r"^\s*(mlstat .+?)(?:\s+#.*)?$", block, flags=re.MULTILINE)
        found += [(path.name, span) for span in spans if len(span.split()) > 2]
    return found


def test_the_guides_mlstat_commands_parse() -> None:
    """docs/imagery.md told users to run `mlstat predict RUN bands.csv`, which the command
    refuses (it takes --input and --output). Every mlstat command line with arguments in
    the guide and the README now parses as the CLI reads it (nothing is run)."""
    import shlex

    import click

    from mlstat_core.cli import main

    commands = mlstat_commands()
    assert any("mlstat predict" in c for _, c in commands)
    for name, command in commands:
        args = shlex.split(command)[1:]
        with main.make_context("mlstat", ["--help"], resilient_parsing=True) as ctx:
            sub = main.get_command(ctx, args[0])
            assert sub is not None, f"{name}: {command}"
            try:
                sub.make_context(args[0], args[1:], parent=ctx)
            except click.UsageError as err:
                pytest.fail(f"{name}: `{command}`: {err.format_message()}")
