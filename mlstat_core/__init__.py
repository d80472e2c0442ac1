"""mlstat: machine learning for official statistics.

The import is light (no pandas, no scikit-learn) so that ``mlstat --help`` and plugin
discovery stay fast; :func:`run` and :func:`load_run` import the engine when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlstat_core.hookspecs import CONTRACT_VERSION, hookimpl

__version__ = "0.1.0"
__all__ = ["CONTRACT_VERSION", "__version__", "hookimpl", "run", "load_run"]

if TYPE_CHECKING:
    from mlstat_core.engine import RunResult


def run(config: Any, overrides: list[str] | None = None, out: Any = None,
        **kwargs: Any) -> RunResult:
    """Run a pipeline (a TOML path, a dict, or a PipelineConfig) and return its result."""
    from mlstat_core.engine import run as _run

    return _run(config, overrides=overrides, out=out, **kwargs)


def load_run(run_dir: Any) -> Any:
    """Open a finished run folder (manifest checked, model loaded on demand)."""
    from mlstat_core.artifacts import RunFolder

    return RunFolder.open(run_dir)
