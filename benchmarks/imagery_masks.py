"""What GDAL masks cost when a scene is read (docs/imagery.md, "masks"): the bundled Landsat
scene read tile by tile as it is stored (nodata values removed) and with every band file
carrying an internal mask, at tiles of 256, 64 and 16 pixels.

    python benchmarks/imagery_masks.py [--repeat 3]

Prints the best of ``--repeat`` passes for each; about 30 seconds.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

BANDS = ["10", "20", "30", "40", "50", "70"]


def _copy(target: Path, masked: bool) -> None:
    import rasterio
    from mlstat_imagery.loaders import BUNDLED

    target.mkdir(parents=True)
    for band in BANDS:
        path = target / f"lsat7_2000_{band}.tif"
        shutil.copy(BUNDLED / path.name, path)
        with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(path, "r+") as dst:
            dst.nodata = None
            if masked:
                mask = np.full(dst.shape, 255, dtype=np.uint8)
                mask[:5] = 0
                dst.write_mask(mask)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    from mlstat_imagery.scene import open_scene, read_window, release_scene_files, tiles

    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("unmasked", "masked"):
            folder = Path(tmp) / kind
            _copy(folder, kind == "masked")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                info = open_scene(folder, "lsat7_2000_{band}.tif", BANDS)
            read_window(info, 0, 0, 8, 8)  # torchgeo indexes the files on the first read
            for size in (256, 64, 16):
                best = float("inf")
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    for row0, col0, height, width in tiles(info, size):
                        read_window(info, row0, col0, height, width)
                    best = min(best, time.perf_counter() - start)
                    release_scene_files()
                print(f"{kind:9} masked bands {len(info.masked)}  tiles of {size:3}: "
                      f"{best:.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
