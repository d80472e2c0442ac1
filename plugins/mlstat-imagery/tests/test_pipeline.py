"""The example pipeline runs end to end through mlstat_core.run; discovery stays light."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mlstat_core.engine import run

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "imagery-landsat-nc.toml"


def test_example_runs(tmp_path: Path) -> None:
    result = run(EXAMPLE, overrides=["model.n_estimators=30"], out=tmp_path)
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
