"""The built-in table loader: CSV, Parquet or Excel, with column roles."""

from __future__ import annotations

from pathlib import Path

from mlstat_core.builtins.params import TableParams
from mlstat_core.components import ColumnRoles, Dataset, Loader
from mlstat_core.errors import DataError
from mlstat_core.io import read_table, require_table_columns, resolve_path


def table_dataset(frame, roles: ColumnRoles, path: Path, dropna_target: bool) -> Dataset:
    """Check a table against its declared roles and wrap it as a Dataset."""
    require_table_columns(frame, roles.all_columns(), path)
    if roles.target and dropna_target:
        frame = frame[frame[roles.target].notna()]
    if frame.empty:
        raise DataError(f"data set {path} has no records" +
                        (" with a target value" if roles.target else ""))
    if roles.id and frame[roles.id].duplicated().any():
        dup = frame.loc[frame[roles.id].duplicated(), roles.id].iloc[0]
        raise DataError(f"id column {roles.id!r} of {path} is not unique (e.g. {dup!r})")
    return Dataset(frame=frame.reset_index(drop=True), roles=roles, name=path.stem,
                   sources=[path])


class TableLoader(Loader):
    """Loads one table and assigns column roles; every other column is a feature by default."""

    params: TableParams

    def load(self, base_dir: Path) -> Dataset:
        p = self.params
        path = resolve_path(p.path, base_dir)
        frame = read_table(path, format=p.format, encoding=p.encoding, sep=p.sep, sheet=p.sheet)
        named = {c for c in (p.id, p.target, p.weights, p.groups) if c} | set(p.text)
        features = list(p.features) or [c for c in frame.columns if c not in named]
        roles = ColumnRoles(id=p.id, target=p.target, features=features, text=list(p.text),
                            weights=p.weights, groups=p.groups)
        return table_dataset(frame, roles, path, p.dropna_target)
