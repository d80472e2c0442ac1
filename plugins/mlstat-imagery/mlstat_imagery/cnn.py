"""A small U-Net trained from random initialisation on patches around the labelled pixels.

Labels are sparse (pixels inside reference polygons), so the loss is computed on the labelled
training pixels of each patch only; validation pixels (other spatial blocks) pick the best
epoch. Prediction and the whole-scene map run the network tile by tile with ``overlap`` pixels
of context around each tile, keeping only the tile's centre: no seams, bounded memory.
Weights are saved with safetensors; no pickle, no download.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlstat_core.artifacts import load_tensors, save_tensors
from mlstat_core.components import Dataset, Model
from mlstat_core.errors import DataError, ModelError
from mlstat_core.sklearn_model import classification_frame
from mlstat_core.torch_devices import scoring_device, seed_torch, training
from mlstat_imagery.features import feature_stack
from mlstat_imagery.mapping import SceneMapper
from mlstat_imagery.nodata import missing_rows, without_class
from mlstat_imagery.params import CnnParams
from mlstat_imagery.scene import (
    SceneInfo,
    gather_by_tile,
    pixel_positions,
    read_window,
    release_scene_files,
)

WEIGHTS_FILE = "weights.safetensors"
IGNORE = -1


def masked_cross_entropy(weight: Any = None) -> Any:
    """Cross-entropy over the labelled pixels (target != IGNORE), weighted by class, as
    ``nn.CrossEntropyLoss(weight, ignore_index=IGNORE)``, but summed with plain reductions:
    CUDA's own weighted reduction adds with atomics, so two trainings on a GPU differed."""
    import torch

    def loss(logits: Any, target: Any) -> Any:
        labelled = target != IGNORE
        safe = torch.where(labelled, target, torch.zeros_like(target))
        # one-hot product, not gather: gather's backward adds with atomics on a GPU
        onehot = torch.nn.functional.one_hot(safe, logits.shape[1]).movedim(-1, 1)
        picked = (torch.log_softmax(logits, dim=1) * onehot).sum(dim=1)
        w = labelled.to(logits.dtype) if weight is None else weight[safe] * labelled
        return -(picked * w).sum() / w.sum()

    return loss


def build_unet(in_channels: int, n_classes: int, width: int) -> Any:
    """Two-level U-Net (about 0.1 M parameters at width 32); input sides multiple of 4."""
    import torch
    from torch import nn

    def block(cin: int, cout: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

    class UNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            w = width
            self.enc1, self.enc2, self.mid = block(in_channels, w), block(w, 2 * w), \
                block(2 * w, 4 * w)
            self.pool = nn.MaxPool2d(2)
            self.up2 = nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2)
            self.dec2 = block(4 * w, 2 * w)
            self.up1 = nn.ConvTranspose2d(2 * w, w, 2, stride=2)
            self.dec1 = block(2 * w, w)
            self.head = nn.Conv2d(w, n_classes, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            e1 = self.enc1(x)
            e2 = self.enc2(self.pool(e1))
            m = self.mid(self.pool(e2))
            d2 = self.dec2(torch.cat([self.up2(m), e2], dim=1))
            d1 = self.dec1(torch.cat([self.up1(d2), e1], dim=1))
            return self.head(d1)

    return UNet()


class CnnModel(SceneMapper, Model):
    """Patch-trained U-Net; predicts pixels (by ``row``/``col``) and maps the scene."""

    def __init__(self, params: CnnParams | None = None, task: str = "") -> None:
        super().__init__(params if params is not None else CnnParams(), task)
        self.map_tile_size = self.params.tile_size
        self.net: Any = None
        self.state: dict[str, Any] = {}
        self.history: list[dict[str, float]] = []

    # -- data ---------------------------------------------------------------------------

    def _info(self) -> SceneInfo:
        return SceneInfo.from_dict(self.state["scene"])

    def _features(self, info: SceneInfo, row0: int, col0: int, h: int, w: int) -> np.ndarray:
        spec = self.state["features"]
        stack = feature_stack(read_window(info, row0, col0, h, w), spec["bands"],
                              spec["band_roles"], spec["indices"])
        mean = np.asarray(self.state["mean"], dtype=np.float32)[:, None, None]
        std = np.asarray(self.state["std"], dtype=np.float32)[:, None, None]
        return (stack - mean) / std

    def _patches(self, data: Dataset, info: SceneInfo) -> tuple[np.ndarray, np.ndarray]:
        """Patches (n, features, P, P) around the labelled pixels and their label grids
        (IGNORE where a pixel is not a labelled pixel of this set)."""
        size = self.params.patch_size
        margin = size // 8
        step = size - 2 * margin
        rows = data.frame["row"].to_numpy()
        cols = data.frame["col"].to_numpy()
        index = {c: i for i, c in enumerate(self.classes_ or [])}
        target = np.array([index[v] for v in data.y], dtype=np.int64)
        cells = (rows // step) * 1_000_003 + cols // step
        xs, ys = [], []
        for cell in np.unique(cells):
            members = np.nonzero(cells == cell)[0]
            row0 = int(rows[members[0]] // step) * step - margin
            col0 = int(cols[members[0]] // step) * step - margin
            x = np.nan_to_num(self._features(info, row0, col0, size, size), nan=0.0)
            y = np.full((size, size), IGNORE, dtype=np.int64)
            y[rows[members] - row0, cols[members] - col0] = target[members]
            xs.append(x)
            ys.append(y)
        return np.stack(xs).astype(np.float32), np.stack(ys)

    # -- the contract ---------------------------------------------------------------------

    def fit(self, train: Dataset, validation: Dataset | None = None) -> CnnModel:
        # a fixed number of CPU threads (param `threads`): the same model on any machine
        with training(self.params.device, self.params.threads) as device:
            return self._fit(train, validation, device)

    def _fit(self, train: Dataset, validation: Dataset | None, device: str) -> CnnModel:
        import torch
        from torch import nn

        p: CnnParams = self.params
        if "scene" not in train.metadata or "row" not in train.frame.columns:
            raise DataError("the CNN needs an imagery loader (scene metadata, row/col columns)")
        if train.y.nunique() < 2:
            raise DataError("the training pixels hold one class only; a classifier needs two")
        # it reads the scene at row/col, not the records' band and index columns (whose means
        # and spreads scale its inputs): new records need their position only
        self.roles = replace(train.roles, features=["row", "col"])
        self.classes_ = sorted(train.y.unique().tolist())
        features = train.frame[train.roles.features].to_numpy(dtype=np.float64)
        std = features.std(axis=0)
        self.state = {
            "scene": train.metadata["scene"], "features": train.metadata["features"],
            "mean": features.mean(axis=0).tolist(),
            "std": np.where(std > 0, std, 1.0).tolist(),
            "in_channels": features.shape[1],
        }
        info = self._info()
        if min(info.height, info.width) < p.patch_size:
            raise DataError(
                f"the scene is {info.height} x {info.width} pixels, smaller than patch_size = "
                f"{p.patch_size}; set patch_size to at most "
                f"{min(info.height, info.width) // 4 * 4} in [model]")
        seed_torch(self.seed, device)
        rng = np.random.default_rng(self.seed)
        try:
            x_train, y_train = self._patches(train, info)
            val = self._patches(validation, info) if validation is not None \
                and len(validation) else None
        finally:
            release_scene_files()  # masked band files read for the patches
        counts = np.bincount(y_train[y_train >= 0], minlength=len(self.classes_))
        weight = None
        if p.class_weight == "balanced":
            weight = torch.tensor(counts.sum() / (len(counts) * np.maximum(counts, 1)),
                                  dtype=torch.float32, device=device)
        net = build_unet(features.shape[1], len(self.classes_), p.width).to(device)
        optimiser = torch.optim.AdamW(net.parameters(), lr=p.learning_rate, weight_decay=1e-4)
        # on a GPU a loss of plain reductions (reproducible); on the CPU torch's own, which is
        # reproducible there and gives the figures the docs quote
        loss_fn = masked_cross_entropy(weight) if device == "cuda" else \
            nn.CrossEntropyLoss(weight=weight, ignore_index=IGNORE)
        best: tuple[float, dict[str, Any]] | None = None
        self.history = []
        for epoch in range(p.epochs):
            net.train()
            order = rng.permutation(len(x_train))
            total = 0.0
            for b in range(0, len(order), p.batch_size):
                idx = order[b:b + p.batch_size]
                xb, yb = x_train[idx], y_train[idx]
                if rng.random() < 0.5:
                    xb, yb = xb[..., ::-1], yb[..., ::-1]
                if rng.random() < 0.5:
                    xb, yb = xb[..., ::-1, :], yb[..., ::-1, :]
                xt = torch.from_numpy(np.ascontiguousarray(xb)).to(device)
                yt = torch.from_numpy(np.ascontiguousarray(yb)).to(device)
                optimiser.zero_grad()
                loss = loss_fn(net(xt), yt)
                loss.backward()
                optimiser.step()
                total += float(loss.detach()) * len(idx)
            record = {"epoch": epoch + 1, "train_loss": total / len(order)}
            if val is not None:
                record["validation_loss"] = self._loss(net, loss_fn, val, device)
                if best is None or record["validation_loss"] < best[0]:
                    best = (record["validation_loss"],
                            {k: v.detach().clone() for k, v in net.state_dict().items()})
            self.history.append(record)
        if best is not None:
            net.load_state_dict(best[1])
        self.state["history"] = self.history
        self.state["device"] = device
        self.net = net.eval()
        return self

    @staticmethod
    def _loss(net: Any, loss_fn: Any, data: tuple[np.ndarray, np.ndarray], device: str) -> float:
        import torch

        net.eval()
        with torch.no_grad():
            x = torch.from_numpy(data[0]).to(device)
            y = torch.from_numpy(data[1]).to(device)
            return float(loss_fn(net(x), y))

    def scene_probabilities(self, info: SceneInfo, row0: int, col0: int, height: int,
                            width: int) -> np.ndarray:
        import torch

        if self.net is None:
            raise ModelError("the CNN is not fitted; call fit first")
        ov = self.params.overlap
        h, w = height + 2 * ov, width + 2 * ov
        ph, pw = (-h) % 4, (-w) % 4
        x = self._features(info, row0 - ov, col0 - ov, h + ph, w + pw)
        invalid = np.isnan(x).any(axis=0)[ov:ov + height, ov:ov + width]
        device = next(self.net.parameters()).device
        with torch.no_grad():
            logits = self.net(torch.from_numpy(np.nan_to_num(x, nan=0.0)[None]).to(device))
            proba = torch.softmax(logits, dim=1)[0].cpu().numpy()
        out = proba[:, ov:ov + height, ov:ov + width].astype(np.float32)
        out[:, invalid] = np.nan
        return out

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.net is None:
            raise ModelError("the CNN is not fitted; call fit first")
        missing = [c for c in ("row", "col") if c not in frame.columns]
        if missing:
            raise DataError(f"the CNN predicts pixels by position: the frame lacks {missing}")
        info = self._info()
        size = self.params.tile_size
        rows, cols = pixel_positions(frame, info)
        empty = np.full((len(frame), len(self.classes_ or [])), np.nan)
        proba = gather_by_tile(info, rows, cols, size,
                               functools.partial(self.scene_probabilities, info), empty)
        out = classification_frame(frame.index, self.classes_ or [], proba)
        return without_class(out, missing_rows(proba), "in the scene at their row/col",
                             "the CNN reads the scene, not the records' band values: leave "
                             "them out before scoring")

    def write_outputs(self, directory: Path, predictions: pd.DataFrame,
                      test: Dataset) -> list[Path]:
        return self.write_scene_outputs(directory, test)

    def save(self, directory: Path) -> None:
        if self.net is None:
            raise ModelError("the CNN is not fitted; nothing to save")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        save_tensors(dict(self.net.state_dict()), directory / WEIGHTS_FILE)
        self.write_state(directory, state=self.state)

    @classmethod
    def load(cls, directory: Path) -> CnnModel:
        directory = Path(directory)
        model, saved = cls.read_state(directory, CnnParams)
        model.state = saved["state"]
        model.history = model.state.get("history", [])
        device = scoring_device(model.params.device)
        net = build_unet(model.state["in_channels"], len(model.classes_), model.params.width)
        net.load_state_dict(load_tensors(directory / WEIGHTS_FILE, device="cpu"))
        model.net = net.to(device).eval()
        return model
