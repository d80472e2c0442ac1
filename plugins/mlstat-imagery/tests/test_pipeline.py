"""The example pipeline runs end to end through mlstat_core.run; discovery stays light."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

from mlstat_imagery import loaders

from mlstat_core.engine import run

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "imagery-landsat-nc.toml"


class _EverythingShown(set):
    """Every warning message counts as already shown in this process."""

    def __contains__(self, item: object) -> bool:
        return True


def test_example_runs(tmp_path: Path, monkeypatch) -> None:
    pipeline = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert pipeline["indicators"][0]["component"] == "imagery.field_validation"
    pipeline["indicators"][0]["confidence"] = 0.9
    monkeypatch.chdir(EXAMPLE.parent)  # the example's relative paths
    # as if the warning had been printed before in this process: the run still records it
    monkeypatch.setattr(loaders, "_ANNOUNCED", _EverythingShown())
    result = run(pipeline, overrides=["model.n_estimators=30"], out=tmp_path)
    assert result.status == "succeeded"
    metrics = result.metrics
    assert 0.6 < metrics["field_overall_accuracy"] <= 1
    assert "built_up_area_km2" in metrics and "field_kappa" in metrics
    outputs = result.run_dir / "outputs"
    assert (outputs / "map.tif").is_file() and (outputs / "map_preview.png").is_file()
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert "outputs/map.tif" in manifest["files"]
    assert len(result.predictions) == 752  # test = the usable field points
    report = (result.run_dir / "report.html").read_text()
    assert "1996" in report
    # each interval is labelled with the level its indicator used
    stored = json.loads((result.run_dir / "report.json").read_text())
    levels = {e["name"]: e.get("interval_level") for e in stored["indicators"]
              if e.get("interval") is not None}
    assert levels["field_overall_accuracy"] == levels["built_up_area_km2"] == 0.9
    assert levels["accuracy"] == 0.95 and "90% interval" in report
    # 115 points outside the scene and 133 on nodata: said as a warning of the run
    assert any(w.startswith("load: 248 of the 1,000 field points of landsat96_points.shp "
                            "(24.8%) cannot be used: 115 (11.5%) outside the scene and 133 "
                            "(13.3%)") for w in result.warnings)


def test_plugin_module_is_light() -> None:
    code = ("import sys, mlstat_imagery.plugin; heavy = [m for m in ('torch', 'torchgeo', "
            "'rasterio', 'geopandas', 'sklearn', 'pandas') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
