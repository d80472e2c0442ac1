"""Discovery of plugin distributions: status, control by environment, clashes, bad plugins.

The fixture distributions in ``tests/fixtures/dists/<scenario>/`` are real ``.dist-info``
folders (METADATA with Requires-Dist, entry_points.txt) next to their packages; a test puts a
scenario folder on ``sys.path`` and hands its entry points to ``discover``.
"""

from __future__ import annotations

import sys
from importlib import metadata

import pytest
from conftest import DISTS, fixture_points

from mlstat_core import __version__
from mlstat_core.errors import ConfigError, PluginError
from mlstat_core.registry import discover

pytestmark = pytest.mark.usefixtures("isolated_plugins")


def test_a_good_distribution_is_loaded_with_its_metadata(monkeypatch):
    registry = discover(entry_points=fixture_points(monkeypatch, "good"))
    record = registry.plugins["fixgood"]
    assert record.status == "loaded", record.error
    assert record.distribution == "mlstat-fixture-good"
    assert record.version == "0.1.0"
    assert record.requires_core == "<0.2,>=0.1"
    assert record.problems == []
    assert sorted(record.components) == ["indicator:share_gap", "model:tree"]
    assert registry.get("model", "fixgood.tree").distribution == "mlstat-fixture-good"
    assert registry.plugins["core"].status == "loaded"


def test_installed_distributions_are_found_on_sys_path(monkeypatch):
    monkeypatch.syspath_prepend(str(DISTS / "good"))
    registry = discover()
    assert registry.plugins["fixgood"].status == "loaded"


def test_disable_env_skips_plugins_without_importing_them(monkeypatch):
    points = fixture_points(monkeypatch, "good", "broken")
    monkeypatch.setenv("MLSTAT_DISABLE_PLUGINS", "fixgood, fixbroken")
    registry = discover(entry_points=points)
    for name in ("fixgood", "fixbroken"):
        assert registry.plugins[name].status == "disabled"
        assert "MLSTAT_DISABLE_PLUGINS" in registry.plugins[name].error
    assert "mlstat_fixture_good.plugin" not in sys.modules
    assert registry.plugins["core"].status == "loaded"
    with pytest.raises(ConfigError, match="disabled"):
        registry.get("model", "fixgood.tree")
    discover(entry_points=points, strict=True)  # disabled is not a failure


def test_names_in_the_lists_that_match_no_plugin_are_reported(monkeypatch):
    points = fixture_points(monkeypatch, "good", "broken")
    monkeypatch.setenv("MLSTAT_DISABLE_PLUGINS", "FixGood, core")
    registry = discover(entry_points=points)
    assert registry.plugins["fixgood"].status == "loaded"  # names are matched exactly ...
    notes = " | ".join(registry.notes)  # ... and a near miss is said, not ignored
    assert "'FixGood', which is no installed plugin (did you mean 'fixgood'?)" in notes
    assert "names 'core': the core's components are always loaded" in notes
    monkeypatch.setenv("MLSTAT_DISABLE_PLUGINS", "fixgood")
    assert discover(entry_points=points).notes == []


def test_allow_list_loads_only_listed_plugins_and_always_the_core(monkeypatch):
    points = fixture_points(monkeypatch, "good", "broken")
    monkeypatch.setenv("MLSTAT_PLUGINS", "fixgood")
    registry = discover(entry_points=points)
    assert registry.plugins["fixgood"].status == "loaded"
    assert registry.plugins["fixbroken"].status == "disabled"
    assert "MLSTAT_PLUGINS" in registry.plugins["fixbroken"].error
    assert registry.plugins["core"].status == "loaded"
    assert registry.find(kind="model")


def test_incompatible_core_version_is_reported_and_not_imported(monkeypatch):
    points = fixture_points(monkeypatch, "oldcore", "good")
    registry = discover(entry_points=points)
    record = registry.plugins["fixold"]
    assert record.status == "incompatible"
    assert "<0.3,>=0.2" in record.error and __version__ in record.error
    assert "mlstat_fixture_oldcore.plugin" not in sys.modules
    assert registry.plugins["fixgood"].status == "loaded"
    with pytest.raises(PluginError, match="fixold"):
        discover(entry_points=points, strict=True)


def test_two_distributions_claiming_one_name_is_an_error_naming_both(monkeypatch):
    points = fixture_points(monkeypatch, "clash", "good")
    registry = discover(entry_points=points)
    clashing = [r for r in registry.plugins.values() if r.name == "fixclash"]
    assert len(clashing) == 2
    for record in clashing:
        assert record.status == "failed"
        assert "mlstat-fixture-clash-a" in record.error
        assert "mlstat-fixture-clash-b" in record.error
    assert registry.plugins["fixgood"].status == "loaded"
    with pytest.raises(ConfigError, match="claimed by distributions"):
        registry.get("model", "fixclash.model_a")
    with pytest.raises(PluginError, match="mlstat-fixture-clash-a and mlstat-fixture-clash-b"):
        discover(entry_points=points, strict=True)


def test_a_plugin_cannot_take_the_core_name(monkeypatch):
    fixture_points(monkeypatch, "good")
    impostor = metadata.EntryPoint("core", "mlstat_fixture_good.plugin", "mlstat")
    registry = discover(entry_points=[impostor])
    assert registry.plugins["core"].status == "loaded"
    assert registry.get("model", "core.logistic_regression")
    failed = [r for r in registry.plugins.values() if r.status == "failed"]
    assert len(failed) == 1 and "mlstat-core" in failed[0].error
    # the advice is for the impostor only: "uninstall all but one" invited removing the core
    assert "plugin name 'core' is reserved for mlstat's own components" in failed[0].error
    assert "mlstat_fixture_good.plugin claims it: rename its entry point" in failed[0].error
    assert "all but one" not in failed[0].error


def test_the_same_distribution_seen_twice_counts_once(monkeypatch):
    points = fixture_points(monkeypatch, "good")
    registry = discover(entry_points=points + points)
    assert registry.plugins["fixgood"].status == "loaded"
    assert not registry.conflicts


def test_plugin_names_must_be_identifiers(monkeypatch):
    fixture_points(monkeypatch, "good")
    dotted = metadata.EntryPoint("fix.good", "mlstat_fixture_good.plugin", "mlstat")
    record = discover(entry_points=[dotted]).plugins["fix.good"]
    assert record.status == "failed" and "not an identifier" in record.error


def test_an_import_failure_names_plugin_distribution_and_fix(monkeypatch):
    registry = discover(entry_points=fixture_points(monkeypatch, "broken", "good"))
    record = registry.plugins["fixbroken"]
    assert record.status == "failed"
    assert "mlstat_fixture_not_installed_dependency" in record.error
    assert "mlstat-fixture-broken" in record.error
    assert "MLSTAT_DISABLE_PLUGINS=fixbroken" in record.error
    assert registry.plugins["fixgood"].status == "loaded"
    with pytest.raises(ConfigError, match="fixbroken.*failed"):
        registry.get("model", "fixbroken.anything")


def test_a_hook_that_breaks_its_spec_fails_only_its_plugin(monkeypatch):
    registry = discover(entry_points=fixture_points(monkeypatch, "badsig", "good"))
    record = registry.plugins["fixbadsig"]
    assert record.status == "failed"
    assert "breaks the hook contract" in record.error and "mlstat-fixture-badsig" in record.error
    assert registry.pm.get_plugin("fixbadsig") is None
    assert registry.plugins["fixgood"].status == "loaded"


def test_mistakes_in_one_plugin_leave_its_good_parts_and_other_plugins_working(monkeypatch):
    points = fixture_points(monkeypatch, "bad", "good")
    registry = discover(entry_points=points)
    record = registry.plugins["fixbad"]
    assert record.status == "loaded"
    problems = "\n".join(record.problems)
    # a hook that raises: named, with distribution and fix
    assert "hook mlstat_loaders of plugin 'fixbad' raised RuntimeError: boom" in problems
    assert "distribution mlstat-fixture-bad" in problems
    # an incomplete spec is skipped with what is missing
    assert "model 'incomplete' of plugin 'fixbad' skipped: description is empty" in problems
    # a hook name outside the contract
    assert "mlstat_indicator is not part of the mlstat contract" in problems
    assert "did you mean mlstat_indicators?" in problems
    # the good parts work
    model = registry.get("model", "fixbad.fine").build(task="tabular_classification")
    assert model.task == "tabular_classification"
    assert registry.plugins["fixgood"].status == "loaded"
    # an invalid params model and a factory pointing nowhere fail when used, clearly
    with pytest.raises(ConfigError, match="fixbad.bad_params"):
        registry.get("model", "fixbad.bad_params").build()
    with pytest.raises(PluginError, match="points nowhere") as info:
        registry.get("model", "fixbad.nowhere").build()
    assert "mlstat-fixture-bad" in str(info.value)
    with pytest.raises(PluginError, match="fixbad"):
        discover(entry_points=points, strict=True)


def test_a_failing_lifecycle_hook_is_a_warning_naming_plugin_and_distribution(monkeypatch):
    registry = discover(entry_points=fixture_points(monkeypatch, "good"))

    def explode(run):
        raise ValueError("tracker down")

    module = registry.pm.get_plugin("fixgood")
    monkeypatch.setattr(module, "mlstat_run_started", explode)
    # pluggy keeps the function it registered; replace it on the hookimpl
    for impl in registry.pm.hook.mlstat_run_started.get_hookimpls():
        if impl.plugin_name == "fixgood":
            monkeypatch.setattr(impl, "function", explode)
    warnings = registry.notify("mlstat_run_started", run="RUN")
    assert warnings == [
        "plugin fixgood (distribution mlstat-fixture-good): mlstat_run_started raised "
        "ValueError: tracker down; the run went on without it"
    ]
