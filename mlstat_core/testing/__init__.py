"""Conformance checks that plugin authors run in their own tests.

Like scikit-learn's ``check_estimator``: every loader, splitter, model and indicator a plugin
declares is checked against the contract (complete spec, valid params, importable factory,
fit and predict on a small real data set of its task type, prediction columns, partition-wise
prediction, safe save and reload, determinism, a light plugin module). In a plugin's tests::

    from mlstat_core.testing import plugin_checks

    test_conformance = plugin_checks("myplugin")   # one pytest test per check

Outside pytest, ``assert_conforms("myplugin")`` runs them all and raises listing the failures,
and ``python -m mlstat_core.testing myplugin`` prints a table. Options a plugin's checks need
(params, data sets of its own, checks to skip) are declared once, by ``conformance_options()``
in the plugin module, and read by all of these.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from mlstat_core.testing.checks import (
    HEAVY_MODULES,
    Check,
    CheckFailed,
    CheckResult,
    CheckSkipped,
    ConformanceError,
    assert_conforms,
    check_component,
    check_plugin,
    declared_options,
    run_checks,
)
from mlstat_core.testing.samples import SAMPLE_TASKS, sample_dataset, sample_split

__all__ = [
    "HEAVY_MODULES",
    "SAMPLE_TASKS",
    "Check",
    "CheckFailed",
    "CheckResult",
    "CheckSkipped",
    "ConformanceError",
    "assert_conforms",
    "check_component",
    "check_plugin",
    "component_checks",
    "declared_options",
    "plugin_checks",
    "run_checks",
    "sample_dataset",
    "sample_split",
]


def _as_test(checks: list[Check]) -> Callable[[Check], None]:
    import pytest

    @pytest.mark.parametrize("check", checks, ids=[c.id for c in checks])
    def test_conformance(check: Check) -> None:
        __tracebackhide__ = True
        check()

    return test_conformance


def plugin_checks(plugin: str | ModuleType, **options: Any) -> Callable[[Check], None]:
    """A pytest test function parametrized with every check of ``plugin``.

    Assign it to a ``test_*`` name in a test module; options are those of
    :func:`check_plugin` (``examples``, ``datasets``, ``data_dir``, ``skip``, ``name``), added
    to those the plugin module's ``conformance_options()`` declares.
    """
    return _as_test(check_plugin(plugin, **options))


def component_checks(full_name: str, **options: Any) -> Callable[[Check], None]:
    """A pytest test function parametrized with every check of one component."""
    return _as_test(check_component(full_name, **options))
