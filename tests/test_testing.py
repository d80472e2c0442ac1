"""The conformance suite finds each kind of broken plugin and says how to fix it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DISTS

from mlstat_core.testing import (
    ConformanceError,
    assert_conforms,
    check_component,
    check_plugin,
    run_checks,
    sample_dataset,
    sample_split,
)

pytestmark = pytest.mark.usefixtures("isolated_plugins")


def results(checks):
    return {r.id: r for r in run_checks(checks)}


@pytest.mark.parametrize("task,rows,target", [
    ("tabular_classification", 300, "children"),
    ("tabular_regression", 300, "wfood"),
    ("text_classification", 554, "category"),
])
def test_sample_datasets_are_real_tables_with_roles(task, rows, target):
    dataset = sample_dataset(task)
    assert len(dataset) == rows and dataset.roles.target == target
    assert dataset.sources[0].is_file()
    train, test = sample_split(dataset)
    assert len(train) + len(test) == rows and not set(train.frame.index) & set(test.frame.index)


def test_sample_dataset_for_an_unknown_task_says_what_exists():
    with pytest.raises(KeyError, match="tabular_classification"):
        sample_dataset("raster_segmentation")


def test_a_good_plugin_passes_and_checks_are_named(monkeypatch):
    monkeypatch.syspath_prepend(str(DISTS / "good"))
    found = results(check_plugin("fixgood"))
    assert [r for r in found.values() if r.status != "passed"] == []
    assert {"fixgood-discovery", "fixgood-light_import", "fixgood.tree-spec",
            "fixgood.tree-fit_predict-tabular_classification",
            "fixgood.tree-save_load-tabular_classification",
            "fixgood.tree-partition-tabular_classification",
            "fixgood.share_gap-compute-tabular_classification"} <= set(found)


def test_examples_keyed_by_something_else_than_a_component_fail(monkeypatch):
    monkeypatch.syspath_prepend(str(DISTS / "good"))
    found = results(check_plugin("fixgood", examples={"fixgood.tre": {}}))
    check = found["fixgood-examples"]
    assert check.status == "failed"
    assert "'fixgood.tre' (did you mean 'fixgood.tree'?)" in check.message
    assert results(check_plugin("fixgood", examples={"tree": {}}))["fixgood-examples"].ok


def test_a_plugin_module_can_be_checked_before_it_is_installed(monkeypatch):
    monkeypatch.syspath_prepend(str(DISTS / "good"))
    checks = check_plugin("mlstat_fixture_good.plugin", name="mine")
    assert checks[0].id == "mine-discovery"
    assert all(r.ok for r in run_checks(checks))


def test_each_mistake_fails_its_own_check_naming_plugin_distribution_and_fix(monkeypatch):
    monkeypatch.syspath_prepend(str(DISTS / "bad"))
    found = results(check_plugin("fixbad"))
    where = "(plugin 'fixbad', distribution mlstat-fixture-bad)"

    discovery = found["fixbad-discovery"]
    assert discovery.status == "failed"
    assert "mlstat_loaders of plugin 'fixbad' raised RuntimeError" in discovery.message
    assert "mlstat_indicator is not part of the mlstat contract" in discovery.message

    spec = found["fixbad.incomplete-spec"]
    assert spec.status == "failed" and where in spec.message
    assert "description is empty" in spec.message and "Fix: complete the ComponentSpec" \
        in spec.message

    params = found["fixbad.bad_params-params"]
    assert params.status == "failed" and "rejects its own defaults" in params.message
    assert "depth" in params.message and where in params.message

    factory = found["fixbad.nowhere-factory"]
    assert factory.status == "failed" and "points nowhere" in factory.message
    assert "Fix: correct the attribute" in factory.message
    assert found["fixbad.nowhere-fit_predict-tabular_classification"].status == "failed"
    assert found["fixbad.nowhere-save_load-tabular_classification"].status == "skipped"

    plot = found["fixbad.badplot-compute-tabular_classification"]
    assert plot.status == "failed" and "plot 'curve' cannot be drawn (TypeError" in plot.message
    assert "docs/report-schema.md" in plot.message

    status = found["fixbad.warnstatus-compute-tabular_classification"]
    assert status.status == "failed" and "status 'warning' is not one of ok" in status.message
    assert "details['warnings']" in status.message

    # the good model of the same plugin passes everything
    fine = [r for i, r in found.items() if i.startswith("fixbad.fine-")]
    assert fine and all(r.status == "passed" for r in fine)


def test_heavy_imports_at_discovery_are_found_and_located(monkeypatch):
    monkeypatch.syspath_prepend(str(DISTS / "heavy"))
    found = results(check_plugin("fixheavy"))
    light = found["fixheavy-light_import"]
    assert light.status == "failed"
    assert "pandas (first imported at" in light.message
    assert "mlstat_fixture_heavy/plugin.py:3" in light.message


def test_a_missing_plugin_is_one_failing_check():
    checks = check_plugin("no_such_plugin_here")
    assert [c.id for c in checks] == ["no_such_plugin_here-discovery"]
    result = checks[0].run()
    assert result.status == "failed" and "no plugin named 'no_such_plugin_here'" in result.message
    with pytest.raises(ConformanceError, match="pip install"):
        checks[0]()


def test_check_component_and_skip(monkeypatch):
    checks = check_component("core.majority", skip=["deterministic"])
    found = results(checks)
    assert found["core.majority-deterministic-tabular_classification"].status == "skipped"
    assert found["core.majority-fit_predict-tabular_classification"].status == "passed"
    unknown = [r for r in (c.run() for c in check_component("core.majorty"))
               if r.status != "passed"]
    assert len(unknown) == 1 and "did you mean 'core.majority'" in unknown[0].message


def test_assert_conforms_lists_every_failure(monkeypatch):
    monkeypatch.syspath_prepend(str(DISTS / "bad"))
    with pytest.raises(ConformanceError) as info:
        assert_conforms("fixbad")
    text = str(info.value)
    assert "fixbad.incomplete-spec" in text and "fixbad.nowhere-factory" in text


def test_a_model_that_breaks_prediction_rules_is_caught(monkeypatch):
    from mlstat_core.builtins.models import MajorityModel
    from mlstat_core.components import ComponentSpec
    from mlstat_core.registry import PluginRecord, Registry

    class NoConfidence(MajorityModel):
        def predict(self, frame):
            return super().predict(frame)[["prediction"]]

    class WrongIndex(MajorityModel):
        def predict(self, frame):
            return super().predict(frame).reset_index(drop=True)

    class Pickler(MajorityModel):
        def save(self, directory):
            super().save(directory)
            (Path(directory) / "model.pkl").write_bytes(b"\x80\x04.")

    class Stray(MajorityModel):  # mlstat run would refuse it at persist
        def save(self, directory):
            super().save(directory)
            (Path(directory).parent / "stray.json").write_text("{}")

    class BatchShare(MajorityModel):  # confidence: the batch's size, a batch-level figure
        def predict(self, frame):
            out = super().predict(frame)
            out["confidence"] = 1.0 / max(len(frame), 1)
            return out

    class DeclaredBatchShare(BatchShare):
        def batch_dependence(self):
            return "confidence is shared by the batch; no setting removes it"

    models = (NoConfidence, WrongIndex, Pickler, Stray, BatchShare, DeclaredBatchShare)
    module = type(sys)("mlstat_fixture_inline")
    for cls in models:
        setattr(module, cls.__name__, cls)
    monkeypatch.setitem(sys.modules, "mlstat_fixture_inline", module)
    registry = Registry()
    record = PluginRecord("inline", "mlstat_fixture_inline")
    registry.plugins["inline"] = record
    for cls in models:
        spec = ComponentSpec(cls.__name__.lower(), "model", f"mlstat_fixture_inline:{cls.__name__}",
                             tasks=("tabular_classification",), description="test model")
        registry._add("model", "inline", record, spec)
    found = {}
    for name in (cls.__name__.lower() for cls in models):
        found.update(results(check_component(f"inline.{name}", registry=registry)))
    task = "tabular_classification"
    missing = found[f"inline.noconfidence-fit_predict-{task}"].message
    assert "lack column(s) ['confidence']" in missing
    assert "another index" in found[f"inline.wrongindex-fit_predict-{task}"].message
    assert "pickle files ['model.pkl']" in found[f"inline.pickler-save_load-{task}"].message
    assert "outside the directory it is given: ['stray.json']" in found[
        f"inline.stray-save_load-{task}"].message
    undeclared = found[f"inline.batchshare-partition-{task}"]
    assert undeclared.status == "failed" and "batch_dependence()" in undeclared.message
    declared = found[f"inline.declaredbatchshare-partition-{task}"]
    assert declared.status == "passed" and "as declared" in declared.message


PYTEST_FILE = '''
from mlstat_core.testing import component_checks
test_majority = component_checks("core.majority")
'''


def test_the_pytest_helper_makes_one_test_per_check(tmp_path):
    (tmp_path / "test_author.py").write_text(PYTEST_FILE, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(tmp_path / "test_author.py")],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # the core's conformance_options(), spec, params, factory, and fit_predict, partition,
    # save_load, deterministic for each of the two tasks core.majority serves
    assert "12 passed" in proc.stdout


def test_command_line_runner(monkeypatch):
    proc = subprocess.run([sys.executable, "-m", "mlstat_core.testing", "core.majority"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASSED  core.majority-save_load-tabular_classification" in proc.stdout


# --- a plugin's own suite options: conformance_options() in its module ----------------------

DECLARING_PLUGIN = '''
from mlstat_core import hookimpl
from mlstat_core.builtins.params import TableParams
from mlstat_core.components import ComponentSpec


@hookimpl
def mlstat_loaders():
    return [ComponentSpec("households", "loader", "mlstat_core.builtins.loaders:TableLoader",
                          TableParams, ("tabular_classification",), "The shipped households.")]
'''

DECLARATION = '''

def conformance_options():
    return {"examples": {"households": {"path": "budget.csv", "target": "children"}},
            "data_dir": "data", "skip": ["*-factory"]}
'''


def declaring_plugin(tmp_path: Path, monkeypatch, declaration: str = DECLARATION) -> str:
    """A plugin package shipping a table in ``data/`` that only its declaration names; the
    current folder is elsewhere, so relative paths must be resolved from the package."""
    package = tmp_path / "src" / "mlstat_fixture_declares"
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "plugin.py").write_text(DECLARING_PLUGIN + declaration, encoding="utf-8")
    sample = Path(sample_dataset("tabular_classification").sources[0])
    (package / "data" / "budget.csv").write_bytes(sample.read_bytes())
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    return "mlstat_fixture_declares.plugin"


def test_declared_options_are_used_without_being_passed(tmp_path, monkeypatch):
    module = declaring_plugin(tmp_path, monkeypatch)
    found = results(check_plugin(module, name="households"))
    assert found["households-conformance_options"].status == "passed"
    assert "1 example(s), 1 skip pattern(s)" in found["households-conformance_options"].message
    load = found["households.households-load"]
    assert load.status == "passed" and load.message.startswith("300 records")
    assert found["households.households-factory"].status == "skipped"


def test_options_given_by_the_caller_take_precedence(tmp_path, monkeypatch):
    module = declaring_plugin(tmp_path, monkeypatch)
    found = results(check_plugin(module, name="households", skip=["*-spec"],
                                 examples={"households": {"path": "other.csv"}}))
    load = found["households.households-load"]
    assert load.status == "failed" and "other.csv" in load.message  # the caller's example
    assert found["households.households-spec"].status == "skipped"  # the caller's skip
    assert found["households.households-factory"].status == "skipped"  # the declared one


def test_without_a_declaration_the_failure_says_where_to_declare(tmp_path, monkeypatch):
    module = declaring_plugin(tmp_path, monkeypatch, declaration="")
    found = results(check_plugin(module, name="households"))
    assert "households-conformance_options" not in found
    load = found["households.households-load"]
    assert load.status == "failed" and "conformance_options() in the plugin module" in load.message


@pytest.mark.parametrize("declaration,expected", [
    ("\nconformance_options = {'examples': {}}\n", "is a dict, not a function"),
    ("\ndef conformance_options():\n    raise OSError('no scene')\n",
     "conformance_options() raised OSError: no scene"),
    ("\ndef conformance_options():\n    return [('skip', [])]\n", "returned list, not a dict"),
    ("\ndef conformance_options():\n    return {'example': {}}\n",
     "unknown option(s) example (did you mean 'examples'?)"),
])
def test_a_broken_declaration_fails_its_own_check(tmp_path, monkeypatch, declaration, expected):
    module = declaring_plugin(tmp_path, monkeypatch, declaration=declaration)
    found = results(check_plugin(module, name="households"))
    check = found["households-conformance_options"]
    assert check.status == "failed"
    assert expected in check.message and "Fix:" in check.message
    assert found["households-discovery"].status == "passed"


def kit(*args: str, cwd: Path | None = None, path: Path | None = None):
    env = dict(os.environ)
    if path is not None:
        env["PYTHONPATH"] = str(path)
    return subprocess.run([sys.executable, "-m", "mlstat_core.testing", *args], env=env,
                          capture_output=True, text=True, timeout=300, cwd=cwd)


def test_command_line_reads_the_declaration_of_a_plugin_module(tmp_path, monkeypatch):
    module = declaring_plugin(tmp_path, monkeypatch)
    proc = kit(module, cwd=tmp_path / "elsewhere", path=tmp_path / "src")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASSED  mlstat_fixture_declares.households-load: 300 records" in proc.stdout
    assert proc.stdout.rstrip().endswith("all checks passed")


def test_command_line_help_explains_the_targets():
    proc = kit("--help")
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.startswith("usage: python -m mlstat_core.testing")
    for text in ("PLUGIN.COMPONENT", "PACKAGE.MODULE", "conformance_options()"):
        assert text in proc.stdout


@pytest.mark.parametrize("target,expected", [
    ("cor", "no plugin named 'cor' is installed (did you mean 'core'?)"),
    ("core.majorty", "plugin 'core' has no component 'core.majorty' (did you mean "
                     "'core.majority'?)"),
    ("pkg.module", "'pkg.module' is neither a component ('pkg' is no installed plugin) nor an "
                   "importable module"),
    ("json.decoder", "module 'json.decoder' defines no mlstat hook"),
])
def test_command_line_refuses_an_unknown_target_in_one_line(target, expected):
    proc = kit("core.majority", target)
    assert proc.returncode == 2 and proc.stdout == ""  # nothing is run
    assert expected in proc.stderr and "Fix:" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
