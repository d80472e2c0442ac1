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
