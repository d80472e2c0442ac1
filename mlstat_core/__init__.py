"""mlstat: machine learning for official statistics.

The import is light (no pandas, no scikit-learn) so that ``mlstat --help`` and plugin
discovery stay fast; :func:`run`, :func:`evaluate`, :func:`load_run` and :func:`load_model`
import the engine when called.

:func:`run` and :func:`evaluate` return a ``RunResult`` (:mod:`mlstat_core.engine`):
``run_dir``, ``metrics`` (scalar figures by name), ``metric(name)``, ``indicators`` (every
figure with its details), ``warnings`` and ``predictions``. A failed run raises its error,
whose ``run_dir`` is the folder marked failed. To score a file in bounded memory:
``mlstat_core.predict.predict_file(run_dir, input_path, output_path)``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from mlstat_core.hookspecs import CONTRACT_VERSION, hookimpl

__version__ = "0.1.0"
__all__ = ["CONTRACT_VERSION", "__version__", "hookimpl", "run", "evaluate", "load_run",
           "load_model"]

if TYPE_CHECKING:
    from mlstat_core.artifacts import RunFolder
    from mlstat_core.components import Model
    from mlstat_core.config import PipelineConfig
    from mlstat_core.engine import RunResult


def run(config: str | os.PathLike[str] | dict[str, Any] | PipelineConfig,
        overrides: list[str] | str | None = None, out: str | os.PathLike[str] | None = None,
        **kwargs: Any) -> RunResult:
    """Run a pipeline (a TOML file path, a dict, or a PipelineConfig) and return its result.

    ``overrides``: ``section.key=value`` strings (one string is one override); ``out``: the
    folder that receives the run folder (default: the pipeline's ``[output] dir``)."""
    from mlstat_core.engine import run as _run

    return _run(config, overrides=overrides, out=out, **kwargs)


def evaluate(run_dir: str | os.PathLike[str], input_file: str | os.PathLike[str] | None = None,
             overrides: list[str] | str | None = None,
             out: str | os.PathLike[str] | None = None, **kwargs: Any) -> RunResult:
    """Assess the saved model of a finished run on a labelled file (its figures on every
    record of ``input_file``, read with the run's loader settings; ``overrides`` change
    them) and return the evaluation, whose folder goes into ``out`` (default: beside the
    run). ``mlstat compare`` ranks evaluations of several runs on one file."""
    from mlstat_core.evaluation import evaluate as _evaluate

    return _evaluate(run_dir, input_file, overrides, out, **kwargs)


def load_run(run_dir: str | os.PathLike[str]) -> RunFolder:
    """Open a run folder and read its manifest; the model is not loaded (:func:`load_model`).

    A failed or unfinished run opens too, so that its ``manifest["status"]`` and
    ``manifest["error"]`` can be read; its ``verify()`` refuses it (DataError), as
    :func:`load_model` and ``mlstat predict`` do."""
    from mlstat_core.artifacts import RunFolder
    from mlstat_core.predict import check_path_argument

    check_path_argument(run_dir, "run_dir")
    return RunFolder.open(run_dir)


def load_model(run_dir: str | os.PathLike[str]) -> Model:
    """The fitted model of a succeeded run, with its preprocessing steps, after its files
    were checked against the manifest's SHA-256: ``load_model(run_dir).predict(frame)``
    scores a DataFrame, held to the contract as ``mlstat predict`` holds it (one row per
    record, in order; a missing input column named). A failed or unfinished run is a
    DataError."""
    from mlstat_core.predict import checked_model, task_of
    from mlstat_core.predict import load_model as _load_model

    folder, model, _factory, _steps = _load_model(run_dir)
    name = str((folder.manifest.get("model") or {}).get("component") or "the model")
    return checked_model(model, name, task_of(folder))
