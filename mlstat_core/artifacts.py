"""The run folder: atomic writes, manifest, fingerprints, and model files in safe formats.

No pickle is ever read: scikit-learn objects go through ``skops.io`` and are loaded only when
every type in the file is trusted; torch weights go through ``safetensors``. Every model file's
SHA-256 is written in the manifest and checked before the file is opened.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import importlib.abc
import io
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from mlstat_core.errors import DataError, IntegrityError, listed
from mlstat_core.inputs import home_path

MANIFEST = "manifest.json"
MODEL_DIR = "model"
MANIFEST_SCHEMA = 1
PROFILE = "profile.json"
"""The training profile for drift checks: read at prediction time, so checked like the model."""
CONFIG = "config.toml"
"""The pipeline as run: scoring reads its loader settings (separator, decimal mark, missing
values), so it is checked like the model."""
CHECKED_WITH_MODEL = (PROFILE, CONFIG)
"""Files outside ``model/`` read with the model, whose SHA-256 is checked before they are."""
PREDICTIONS = "predictions.parquet"
"""The test records' predictions: ``record_id``, ``true``, ``split`` (:data:`SPLIT_PARTS`),
``fold`` (cross-validated runs only) and the model's columns."""
TEST_PART = "test"
TRAIN_PART = "train"
SPLIT_PARTS = (TEST_PART, TRAIN_PART)
"""Values of the ``split`` column of ``predictions.parquet``, in the words of ``[split]``
(``test_size``) and of the report (test records): ``test`` for a record the model did not
learn from (held out, in a fold's test part, or in the labelled file of an evaluation),
``train`` for one it learnt from too (``core.insample``: editing corrects the data it learns
from)."""


_ASKED_UMASK: list[int] = []
"""The umask asked of ``os.umask`` once, where /proc cannot tell it (macOS)."""


def process_umask() -> int:
    """The process's umask now, read from Linux's /proc: asking ``os.umask`` sets it, for a
    moment, for every thread of the process. Where there is no /proc (macOS), it is asked
    once, the first time, and that answer kept (a umask changed later is not seen there)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    if not _ASKED_UMASK:
        mask = os.umask(0)
        os.umask(mask)
        _ASKED_UMASK.append(mask)
    return _ASKED_UMASK[0]


# --- small file utilities -------------------------------------------------------------------


def split_parts(split: Any) -> tuple[Any, Any]:
    """The ``split`` column of ``predictions.parquet`` in the words of :data:`SPLIT_PARTS`,
    and each record's fold (None for a run of one split). Run folders written before
    mlstat 0.1 named the splitter's split instead of the part: ``holdout``, ``predefined``,
    ``spatial_blocks``, ``evaluation`` (every record a test record), ``fold0``, ``fold1``, ...
    (the test part of that fold) and ``insample`` (records learnt from): read as the part
    they are, so that old and new run folders read alike."""
    import pandas as pd

    text = pd.Series(split, dtype="object").astype(str)
    fold = pd.to_numeric(text.str.extract(r"^fold(\d+)$", expand=False), errors="coerce")
    parts = text.where(text.isin(SPLIT_PARTS),
                       text.map(lambda v: TRAIN_PART if v == "insample" else TEST_PART))
    return parts, (fold.astype("Int64") if fold.notna().any() else None)


def read_predictions(run_dir: str | Path, columns: list[str] | None = None) -> Any:
    """A run's ``predictions.parquet`` (checked against the manifest when it lists it), with
    ``split`` in the words of :data:`SPLIT_PARTS` and ``fold`` as numbers, whichever version
    of mlstat wrote it (:func:`split_parts`). With ``columns``, only those the file has are
    read (a ``fold`` an old file lacks still comes from its ``split``), so that a reader of
    a few columns does not load every class's probabilities."""
    import pandas as pd
    import pyarrow.parquet as pq

    folder = RunFolder.open(run_dir)
    folder.check_files(PREDICTIONS)
    path = folder.path / PREDICTIONS
    if not path.is_file():
        raise DataError(f"{folder.path} has no {PREDICTIONS}: the run was made with "
                        "[output] predictions = false, or the file was left out when the "
                        "folder was shared")
    read = None
    if columns is not None:
        held = set(pq.read_schema(path).names)
        wanted = [*columns, "split"] if "fold" in columns and "fold" not in held else columns
        read = list(dict.fromkeys(c for c in wanted if c in held))
    frame = pd.read_parquet(path, columns=read)
    if "split" in frame.columns:
        parts, fold = split_parts(frame["split"].to_numpy())
        frame["split"] = parts.to_numpy()
        if fold is not None and "fold" not in frame.columns:
            frame.insert(list(frame.columns).index("split") + 1, "fold", fold.to_numpy())
    if columns is not None:
        frame = frame[[c for c in frame.columns if c in columns]]
    return frame


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def model_files(files: dict[str, str]) -> dict[str, str]:
    """The manifest entries (name: SHA-256) of a run's model: the model folder and the
    training profile read with it at prediction time."""
    return {name: digest for name, digest in files.items()
            if name.startswith(f"{MODEL_DIR}/") or name == PROFILE}


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def records_fingerprint(frame: Any, columns: list[str] | None = None,
                        by_row: bool = True) -> dict[str, Any]:
    """Which records a table holds, whatever their order: their count and a SHA-256 of the
    sorted hashes of their rows (the ``columns`` given, every column by default, with the
    row labels when ``by_row``; values that cannot be hashed are hashed as text). Two runs
    tested on the same records have the same fingerprint, whatever features their loaders
    made, when ``columns`` name the records' id or row and target; a label read as 1.0 in one
    run and 1 in another is one label (:func:`whole_numbers_as_integers`)."""
    import numpy as np
    import pandas as pd

    keys = frame[columns] if columns is not None else frame
    keys = keys.assign(__row__=np.asarray(frame.index)) if by_row else keys
    keys = whole_numbers_as_integers(keys)
    try:
        rows = pd.util.hash_pandas_object(keys, index=False).to_numpy()
    except TypeError:  # lists or dicts in cells
        rows = pd.util.hash_pandas_object(keys.astype(str), index=False).to_numpy()
    return {"count": len(frame), "sha256": hashlib.sha256(np.sort(rows).tobytes()).hexdigest()}


def whole_numbers_as_integers(frame: Any) -> Any:
    """``frame`` with each column of whole numbers as one integer type, so that a column read
    as float in one run (``1.0``: it had a missing value, say), as integers in another, or as
    pandas' nullable integers in a third hashes alike: ``int64`` when no value is missing,
    ``Int64`` when some are (pandas versions hash the two types differently)."""
    import numpy as np
    import pandas as pd

    out = frame
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        if pd.api.types.is_bool_dtype(column) or not (
                pd.api.types.is_float_dtype(column) or pd.api.types.is_integer_dtype(column)):
            continue
        values = column.to_numpy(dtype=float, na_value=np.nan)
        missing = np.isnan(values)
        present = values[~missing]
        if not (np.all(np.isfinite(present)) and np.all(present == np.round(present))
                and np.all(np.abs(present) < 2.0 ** 63)):
            continue
        wanted = "Int64" if missing.any() else "int64"
        if str(column.dtype) != wanted:
            out = out.copy() if out is frame else out
            out.isetitem(position, column.astype(wanted))
    return out


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write to a temporary file beside ``path`` and rename it in place: never half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:  # a read-only folder: name the file meant, not a hidden temporary
        raise type(exc)(exc.errno, exc.strerror, str(path),
                        getattr(exc, "winerror", None)) from None
    try:
        if hasattr(os, "fchmod"):  # not on Windows before Python 3.13 (ACLs apply there)
            # mkstemp makes 0600; run folders are meant to be shared
            os.fchmod(fd, 0o666 & ~process_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename == tmp:  # name the file meant, not tmp
            raise type(exc)(exc.errno, exc.strerror, str(path),
                            getattr(exc, "winerror", None)) from None
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def to_jsonable(value: Any) -> Any:
    """Convert numpy and pandas scalars, arrays and paths into plain JSON values."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a core dependency
        np = None  # type: ignore[assignment]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if np is not None:
        if isinstance(value, np.ndarray):
            return to_jsonable(value.tolist())
        if isinstance(value, np.bool_):
            return bool(value)
        if isinstance(value, np.integer):
            return int(value)
        if isinstance(value, np.floating):
            value = float(value)
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()
    return value


def write_json(path: str | Path, data: Any) -> Path:
    text = json.dumps(to_jsonable(data), indent=2, ensure_ascii=False, allow_nan=False)
    return atomic_write_text(path, text + "\n")


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


# --- safe model formats ---------------------------------------------------------------------


class _SkipArrayBackends(importlib.abc.MetaPathFinder):
    """Refuses scikit-learn's vendored array-API adapters for libraries not yet imported.

    Importing ``skops.io`` lists every scikit-learn estimator with ``all_estimators``, whose
    package walk imports ``sklearn.externals.array_api_compat.torch`` and with it torch
    (1.5 s and 300 MB per process wherever torch is installed, as with the imagery plugin)
    although ``externals`` is then ignored. The walk skips packages that raise ImportError.
    """

    PREFIX = "sklearn.externals.array_api_compat."
    BACKENDS = ("torch", "cupy", "dask", "jax")

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.startswith(self.PREFIX):
            backend = name[len(self.PREFIX):].split(".")[0]
            if backend in self.BACKENDS and backend not in sys.modules:
                raise ImportError(f"{name} skipped while importing skops")
        return None


_SKOPS_LOCK = threading.Lock()


def _skops_io() -> Any:
    """``skops.io``, imported without pulling in torch through scikit-learn's package walk.

    Under a lock: two runs in one process (threads) would otherwise see a partially
    initialised module, and one thread could remove the other's import guard."""
    with _SKOPS_LOCK:
        guard = _SkipArrayBackends()
        sys.meta_path.insert(0, guard)
        try:
            import skops.io as sio
        finally:
            sys.meta_path.remove(guard)
    return sio


def save_skops(obj: Any, path: str | Path) -> Path:
    """Persist a scikit-learn object with skops (no pickle), atomically; the same model gives
    the same bytes in every run (:func:`canonical_skops`)."""
    sio = _skops_io()
    return atomic_write_bytes(path, canonical_skops(sio.dumps(obj)))


_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
"""The time stamp of every entry of a canonical zip file (the earliest a zip can hold)."""


def canonical_skops(data: bytes) -> bytes:
    """A skops file whose bytes depend on the model alone.

    skops names each array's entry by the array's memory address (bytes by a random UUID),
    numbers the objects by address too, and stamps every entry with the time of saving, so
    the same model saved twice gave two files with different hashes, and the manifest could
    not tell a reproduced model. Here entries are renamed in the order the schema first
    mentions them, object ids renumbered alike (references between objects kept), and every
    time stamp (those inside sparse matrices' ``.npz`` too) fixed. A file of a layout not
    understood is returned as it is."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        entries = set(source.namelist()) - {"schema.json"}
        ids: dict[int, int] = {}
        names: dict[str, str] = {}

        def renamed(node: Any) -> Any:
            if isinstance(node, list):
                return [renamed(item) for item in node]
            if not isinstance(node, dict):
                return node
            out = {}
            for key, value in node.items():
                if key == "__id__" and isinstance(value, int) and not isinstance(value, bool):
                    value = ids.setdefault(value, len(ids) + 1)  # skops reads 0 as none
                elif key == "file" and isinstance(value, str) and value in entries:
                    value = names.setdefault(value, f"{len(names)}{Path(value).suffix}")
                else:
                    value = renamed(value)
                out[key] = value
            return out

        schema = renamed(json.loads(source.read("schema.json")))
        if set(names) != entries:
            return data
        bodies = {new: source.read(old) for old, new in names.items()}
    bodies = {name: _fixed_times(body) if name.endswith(".npz") else body
              for name, body in bodies.items()}
    bodies["schema.json"] = json.dumps(schema, indent=2).encode("utf-8")
    return _zip_bytes({name: (body, zipfile.ZIP_STORED) for name, body in bodies.items()})


def _fixed_times(data: bytes) -> bytes:
    """The zip file ``data`` with every entry's time stamp fixed (compression kept)."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        return _zip_bytes({info.filename: (source.read(info), info.compress_type)
                           for info in source.infolist()})


def _zip_bytes(entries: dict[str, tuple[bytes, int]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name, (body, method) in entries.items():
            info = zipfile.ZipInfo(name, _ZIP_EPOCH)
            info.compress_type = method
            target.writestr(info, body)
    return buffer.getvalue()


REPLACED = ("was it replaced after the run? do not use this run folder: take the run from "
            "where it was made, or rerun the pipeline")
"""What to do about a model file that is not what mlstat writes."""


def not_a_model_file(path: str | Path, data: bytes, expected: str) -> IntegrityError:
    """The error for a model file that is not of the ``expected`` format (a pickle, say),
    naming the file and what it looks like; nothing in it is ever run."""
    looks = ("a Python pickle, which mlstat never reads (opening it could run any code)"
             if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")
             else "a torch.save file, a Python pickle, which mlstat never reads (opening it "
             "could run any code)" if data[:2] == b"PK" and b"data.pkl" in data[:4096]
             else "empty" if not data else f"not a {expected} file")
    return IntegrityError(f"{path} is {looks}; mlstat wrote a {expected} file there: {REPLACED}")


def load_skops(path: str | Path, trusted: Iterable[str] = ()) -> Any:
    """Load a skops file only if every type in it is skops-safe or listed in ``trusted``; a
    file that is no skops file (a pickle, a truncated file) is one IntegrityError."""
    sio = _skops_io()

    data = Path(path).read_bytes()
    try:  # what every skops version writes: a zip file holding a JSON schema
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            json.loads(archive.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, ValueError, EOFError, OSError):
        raise not_a_model_file(path, data, "skops") from None
    untrusted = sio.get_untrusted_types(data=data)
    allowed = set(trusted)
    refused = [t for t in untrusted if t not in allowed]
    if refused:
        error = IntegrityError(
            f"{path} contains types that are not trusted: {', '.join(refused)}; mlstat "
            f"writes only trusted types for this model, and loads nothing else: {REPLACED}"
        )
        error.untrusted_types = refused  # type: ignore[attr-defined] - for the fix's wording
        raise error
    return sio.loads(data, trusted=list(untrusted))


def save_tensors(tensors: dict[str, Any], path: str | Path) -> Path:
    """Persist torch tensors with safetensors, atomically."""
    from safetensors.torch import save as st_save

    cpu = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    return atomic_write_bytes(path, st_save(cpu))


def load_tensors(path: str | Path, device: str = "cpu") -> dict[str, Any]:
    """Torch tensors from a safetensors file; a file that is no safetensors file (a pickled
    ``torch.save``, a truncated file) is one IntegrityError, and is never unpickled."""
    from safetensors.torch import load as st_load

    data = Path(path).read_bytes()
    try:
        tensors = st_load(data)
    except Exception:  # safetensors raises its own SafetensorError, or ValueError
        raise not_a_model_file(path, data, "safetensors") from None
    return {name: tensor.to(device) for name, tensor in tensors.items()}


# --- environment ----------------------------------------------------------------------------

_REPORTED_PACKAGES = ("numpy", "pandas", "scikit-learn", "pyarrow", "pydantic", "pluggy",
                      "skops", "torch", "torchgeo", "pyspark")
#: what sets the number of threads of the numeric libraries (their default: every core)
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def environment(plugins: dict[str, str | None] | None = None) -> dict[str, Any]:
    """Versions of Python, mlstat-core, each plugin used, the main libraries and every
    installed library that those plugins declare (their optional extras' included)."""
    from mlstat_core import __version__
    from mlstat_core.requirements import installed_requirements, installed_version

    packages = {name: v for name in _REPORTED_PACKAGES if (v := installed_version(name))}
    for distribution in plugins or {}:
        packages.update(installed_requirements(distribution))
    for own in ("mlstat-core", *(plugins or {})):  # reported on their own
        packages.pop(own, None)
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "mlstat_core": __version__,
        "plugins": dict(plugins or {}),
        "packages": dict(sorted(packages.items())),
        # a multi-threaded sum depends on the number of threads: what set them, for a rerun
        # elsewhere that differs (mlstat's own models fit on a fixed number)
        "threads": {"cpus": os.cpu_count(),
                    **{name: os.environ[name] for name in THREAD_VARIABLES
                       if name in os.environ}},
    }


# --- the run folder -------------------------------------------------------------------------


def new_run_id(name: str) -> str:
    """A run folder name from the pipeline name, a time stamp and a random suffix. The stamp
    is UTC, marked ``Z`` (``20261130-091502Z``), so that folders made in two time zones, or
    across a change of daylight saving time, sort in the order they were made; nothing reads
    the name back, so folders named in local time by older versions open as before. It
    starts with a letter or digit, so a command line never takes it for an option, and holds
    only characters the file system's encoding can name (``żółć`` under a Latin-1 locale
    becomes ``----``)."""
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%d-%H%M%SZ")
    safe = "".join(c if (c.isalnum() or c in "-_") and _nameable(c) else "-"
                   for c in name).strip("-_")[:40]
    return f"{safe or 'run'}-{stamp}-{uuid.uuid4().hex[:6]}"


def _nameable(char: str) -> bool:
    """Whether a file name may hold ``char`` under the file system's encoding."""
    try:
        char.encode(sys.getfilesystemencoding())
    except UnicodeEncodeError:
        return False
    return True


@dataclass
class RunFolder:
    """One folder per run, described by ``manifest.json``."""

    path: Path
    manifest: dict[str, Any]

    @classmethod
    def create(cls, out_dir: str | Path, name: str, **fields: Any) -> RunFolder:
        run_id = new_run_id(name)
        path = Path(out_dir) / run_id
        path.mkdir(parents=True, exist_ok=False)
        manifest = {
            "schema_version": MANIFEST_SCHEMA,
            "run_id": run_id,
            "name": name,
            "status": "running",
            "started_at": now_iso(),
            "finished_at": None,
            "error": None,
            "files": {},
            **fields,
        }
        folder = cls(path, manifest)
        try:
            folder.save_manifest()
        except BaseException:  # a full disk, say: no folder that is not a run folder
            shutil.rmtree(path, ignore_errors=True)
            raise
        return folder

    @classmethod
    def open(cls, path: str | Path) -> RunFolder:
        path = home_path(path)
        manifest_path = path / MANIFEST
        if not path.exists():
            raise DataError(f"{path} does not exist; give the folder of a run (under runs/)")
        if not path.is_dir():
            inside = (path.parent / MANIFEST).is_file()  # a file of a run (its manifest, say)
            raise DataError(f"{path} is a file, not a run folder"
                            + (f"; give the folder it is in, {path.parent}" if inside else ""))
        if not manifest_path.is_file():
            raise DataError(f"{path} is not a run folder: it has no {MANIFEST}")
        try:
            manifest = read_json(manifest_path)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"{manifest_path} is not valid JSON ({exc})") from None
        if not isinstance(manifest, dict):
            raise DataError(f"the run folder is damaged: {manifest_path} holds a JSON "
                            f"{type(manifest).__name__}, not an object; rerun the pipeline")
        if not isinstance(manifest.get("files", {}), dict):
            raise DataError(f"the run folder is damaged: `files` in {manifest_path} is not an "
                            "object of file -> SHA-256; rerun the pipeline")
        check_schema(manifest, manifest_path)
        return cls(path, manifest)

    def save_manifest(self) -> None:
        write_json(self.path / MANIFEST, self.manifest)

    def update(self, **fields: Any) -> None:
        self.manifest.update(fields)
        self.save_manifest()

    def record(self, relative: str | Path) -> str:
        """Fingerprint a file written in the run folder and list it in the manifest."""
        relative = Path(relative).as_posix()
        digest = sha256_file(self.path / relative)
        self.manifest.setdefault("files", {})[relative] = digest
        return digest

    def record_tree(self, relative_dir: str | Path) -> None:
        base = self.path / relative_dir
        for file in sorted(p for p in base.rglob("*") if p.is_file()):
            self.record(file.relative_to(self.path))

    def finish(self, status: str, error: str | None = None, **fields: Any) -> None:
        """Record how the run ended. A run ends ``succeeded`` only with every file its manifest
        lists on disk: a folder deleted or cleaned while the run wrote it (then recreated
        by a later write) is an error, not a success."""
        if status == "succeeded":
            self.require_files()
        self.update(status=status, error=error, **{"finished_at": now_iso(), **fields})

    def require_files(self) -> None:
        """A DataError naming the files the manifest lists that are not on disk."""
        gone = [name for name in self.manifest.get("files", {})
                if not (self.path / name).is_file()]
        if gone:
            shown = listed(gone)
            raise DataError(f"run folder {self.path} lost {len(gone)} of its files while the run "
                            f"wrote it ({shown}): was it deleted or cleaned meanwhile? rerun the "
                            "pipeline")

    @property
    def model_dir(self) -> Path:
        return self.path / MODEL_DIR

    def require_succeeded(self, lacking: str, again: str = "rerun the pipeline") -> None:
        """A DataError unless the run succeeded, saying how it ended and what it therefore
        ``lacking`` ("it has no usable model"), with the fix: an interrupted run is done
        ``again``, a failed one is fixed first."""
        status = self.manifest.get("status")
        if "status" not in self.manifest:
            raise IntegrityError(
                f"{self.path / MANIFEST} has no `status`: it is damaged or was not written by "
                "mlstat, so whether the run finished is unknown; take the run folder again "
                "from where it was made, or rerun the pipeline")
        if status == "running":
            raise DataError(
                f"run {self.path} never finished (status 'running'): it is still running, or "
                "it was stopped with no chance to record it (killed, out of memory, the "
                f"machine restarted); {lacking}: {again}")
        if status != "succeeded":
            error = str(self.manifest.get("error") or "")
            fix = "fix that and " if error and not error.startswith("interrupted") else ""
            raise DataError(f"run {self.path} did not succeed (status {status!r}"
                            + (f": {error}" if error else "") + f"); {lacking}: {fix}"
                            f"{again}")

    def forget(self, *relatives: str) -> None:
        """Delete files the run wrote and no longer stands by, and their manifest entries
        (the report of a run that failed after writing it, which says 'succeeded')."""
        files = self.manifest.get("files", {})
        for relative in relatives:
            (self.path / relative).unlink(missing_ok=True)
            files.pop(relative, None)

    def verify(self, prefix: str = MODEL_DIR) -> None:
        """Check the files under ``prefix`` (and ``profile.json`` and ``config.toml``, read
        with the model) against the manifest: every file there must be listed, be a plain
        file (no symbolic link to elsewhere), and match its SHA-256."""
        self.require_succeeded("it has no usable model")
        listed = self.manifest.get("files", {})
        files = {k: v for k, v in listed.items() if k.startswith(prefix + "/")}
        if not files:
            raise IntegrityError(
                f"{self.path / MANIFEST} lists no files under {prefix}/: the manifest is "
                "damaged or was edited; take the run folder again from where it was made, or "
                "rerun the pipeline")
        refuse_links(self.path, prefix)
        on_disk = {p.relative_to(self.path).as_posix()
                   for p in (self.path / prefix).rglob("*") if p.is_file() or p.is_symlink()}
        if prefix == MODEL_DIR:
            for name in CHECKED_WITH_MODEL:
                if (self.path / name).exists() or (self.path / name).is_symlink() \
                        or name in listed:
                    refuse_links(self.path, name)
                    on_disk.add(name)
                    files[name] = listed.get(name)
        unlisted = sorted(on_disk - {k for k, v in files.items() if v})
        if unlisted:
            raise IntegrityError(
                f"{self.path / unlisted[0]} is not listed in {self.path / MANIFEST}: a file "
                "added or unrecorded after the run; do not load it, rerun the pipeline")
        for relative, expected in files.items():
            self.check_file(relative, expected)

    def check_files(self, *relatives: str) -> None:
        """Check each of ``relatives`` that the manifest lists against its SHA-256, before
        a command reads it (``report.json`` before ``mlstat report`` rebuilds the report
        from it and fingerprints the result, so an edit is not made to look original)."""
        listed = self.manifest.get("files", {})
        for relative in relatives:
            refuse_links(self.path, relative)  # listed or not: a command reads it
            if relative in listed:
                self.check_file(relative, listed[relative])

    def check_file(self, relative: str, expected: Any) -> None:
        """An IntegrityError when the file ``relative`` is missing or does not match the
        SHA-256 ``expected``; a name that leads out of the run folder is refused unread
        (:func:`require_inside`)."""
        require_inside(self.path, relative)
        file = self.path / relative
        if not file.is_file():
            raise IntegrityError(
                f"{file} is listed in {self.path / MANIFEST} but missing: the run folder "
                "is incomplete (copied in part, or the file was deleted); copy the whole "
                "run folder again, or rerun the pipeline")
        actual = sha256_file(file)
        if actual != expected:
            raise IntegrityError(
                f"{file} does not match the SHA-256 in {self.path / MANIFEST} "
                f"(expected {str(expected)[:12]}..., found {actual[:12]}...): the file was "
                "changed after the run; do not load it, rerun the pipeline"
            )


def require_inside(run_dir: Path, relative: str) -> None:
    """An IntegrityError when ``relative``, a name the manifest gives, leads out of the run
    folder (``..``, an absolute path, a drive): a forged manifest would have any file read,
    folders walked and links or hashes quoted."""
    parts = PurePosixPath(relative).parts
    if not parts or PurePosixPath(relative).is_absolute() or "\\" in relative \
            or ".." in parts or ":" in parts[0]:
        raise IntegrityError(
            f"{run_dir / MANIFEST} lists {relative!r}, which is not a file of the run "
            "folder: the manifest was edited; do not load the run, rerun the pipeline")


def refuse_links(run_dir: Path, relative: str) -> None:
    """An IntegrityError when ``relative`` (a file or folder of the run), or anything under
    it, is a symbolic link: a run writes plain files only, and a link lets whoever can write
    its target change the model after its hash was checked. A name leading out of the run
    is refused first (:func:`require_inside`)."""
    require_inside(run_dir, relative)
    top = run_dir / relative
    links = [top] if top.is_symlink() else []
    if not links and top.is_dir():
        links = sorted(p for p in top.rglob("*") if p.is_symlink())
    if links:
        link = links[0]
        raise IntegrityError(
            f"{link} is a symbolic link (to {os.readlink(link)}), not what the run wrote: "
            "whoever can write its target could change the model; put the file itself in "
            "its place (cp --dereference), or rerun the pipeline")


def check_schema(manifest: dict[str, Any], manifest_path: Path) -> None:
    """A DataError for a manifest written by a newer mlstat, in a layout this one may
    misread (a manifest without ``schema_version`` predates it: layout 1)."""
    version = manifest.get("schema_version", MANIFEST_SCHEMA)
    if isinstance(version, int) and not isinstance(version, bool) \
            and version <= MANIFEST_SCHEMA:
        return
    environment = manifest.get("environment")
    core = environment.get("mlstat_core") if isinstance(environment, dict) else None
    from mlstat_core import __version__

    made_with = f"mlstat-core {core}" if isinstance(core, str) else "another mlstat-core"
    raise DataError(
        f"{manifest_path} was written by {made_with} in manifest layout {version!r}, which "
        f"mlstat-core {__version__} (layout {MANIFEST_SCHEMA}) cannot read safely; install "
        f"the mlstat-core that made the run" + (f" (pip install 'mlstat-core=={core}')"
                                                if isinstance(core, str) else ""))
