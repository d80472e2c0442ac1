"""What a user sees when a third-party plugin gets something wrong: engine short names, factories
that cannot be imported, params checks that raise, params that accept typos, refused specs,
invalid defaults, and messages that point the right way.

Each test installs a small fake distribution (a ``.dist-info`` folder with an ``mlstat`` entry
point and its package) into ``tmp_path`` and discovers it, as ``mlstat`` does.
"""

from __future__ import annotations

import json
import re
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest
import tomli_w
from click.testing import CliRunner

import mlstat_core
from mlstat_core import registry as registry_module
from mlstat_core.cli import main
from mlstat_core.config import load_config
from mlstat_core.errors import ConfigError, PluginError
from mlstat_core.registry import discover

pytestmark = pytest.mark.usefixtures("isolated_plugins")

MAJORITY = "mlstat_core.builtins.models:MajorityModel"
HEADER = """\
from pydantic import BaseModel, Field

from mlstat_core import hookimpl
from mlstat_core.components import ComponentSpec, NoParams, Params
"""


def install(site: Path, plugin: str, files: dict[str, str], extras: dict[str, str] | None = None,
            requires: tuple[str, ...] = ()) -> str:
    """Write distribution ``mlstat-<plugin>`` with package ``pkg_<plugin>`` into ``site``;
    ``files`` maps module names of the package to their source. Returns the dist name."""
    dist = f"mlstat-{plugin}"
    info = site / f"mlstat_{plugin}-0.1.dist-info"
    info.mkdir(parents=True)
    meta = f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n"
    meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
    for extra, requirement in (extras or {}).items():
        meta += f"Provides-Extra: {extra}\nRequires-Dist: {requirement}; extra == \"{extra}\"\n"
    (info / "METADATA").write_text(meta)
    (info / "entry_points.txt").write_text(f"[mlstat]\n{plugin} = pkg_{plugin}.plugin\n")
    package = site / f"pkg_{plugin}"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for module, source in files.items():
        (package / f"{module}.py").write_text(textwrap.dedent(source))
    return dist


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A folder on sys.path for fake distributions; their modules are forgotten afterwards."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    before = set(sys.modules)
    monkeypatch.setattr(registry_module, "_CACHE", {})
    yield folder
    for name in set(sys.modules) - before:
        if name.startswith("pkg_"):
            del sys.modules[name]


def points(site: Path) -> list[metadata.EntryPoint]:
    return [ep for dist in metadata.distributions(path=[str(site)])
            for ep in dist.entry_points if ep.group == "mlstat"]


def pipeline(tmp_path: Path, budget_csv: Path, **sections) -> Path:
    data = {
        "pipeline": {"name": "t", "task": "tabular_classification"},
        "loader": {"component": "core.table", "path": str(budget_csv), "target": "children"},
        "model": {"component": "core.majority"},
        "indicators": ["core.classification_accuracy"],
    }
    data.update(sections)
    path = tmp_path / "pipeline.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def model_plugin(spec_args: str, extra: str = "") -> str:
    return HEADER + extra + textwrap.dedent(f"""
    @hookimpl
    def mlstat_models():
        return [ComponentSpec({spec_args})]
    """)


# --- 1. engine short names ---------------------------------------------------------------------


ENGINE_PLUGIN = HEADER + """
@hookimpl
def mlstat_engines():
    return [ComponentSpec("{name}", "engine", "mlstat_core.predict:LocalEngine",
                          description="An engine of the plugin.")]
"""


def test_an_engine_named_like_the_cores_leaves_the_short_name_to_the_core(
        site, tmp_path, budget_csv):
    install(site, "eng", {"plugin": ENGINE_PLUGIN.format(name="local")})
    registry = discover(entry_points=points(site))
    assert registry.engine("local").full_name == "core.local"
    assert registry.engine("eng.local").full_name == "eng.local"
    assert any("'eng.local'" in n and "core.local" in n for n in registry.notes)
    config = load_config(pipeline(tmp_path, budget_csv), registry=registry)  # untouched: valid
    assert config.model.name == "core.majority"
    shown = invoke("plugins")  # the clash is flagged where plugins are listed
    assert shown.exit_code == 0
    assert "warning: engine eng.local" in " ".join(shown.output.split())
    assert invoke("validate", str(pipeline(tmp_path, budget_csv))).exit_code == 0


def test_a_short_name_two_plugins_share_is_ambiguous_and_names_the_full_names(site):
    install(site, "ea", {"plugin": ENGINE_PLUGIN.format(name="fast")})
    install(site, "eb", {"plugin": ENGINE_PLUGIN.format(name="fast")})
    registry = discover(entry_points=points(site))
    with pytest.raises(ConfigError, match="ambiguous") as info:
        registry.engine("fast")
    assert "'ea.fast' or 'eb.fast'" in str(info.value)
    assert registry.engine("eb.fast").plugin == "eb"
    with pytest.raises(ConfigError) as info:
        registry.engine("nothing")
    assert "ea.fast" in str(info.value) and "local" in str(info.value)


# --- 2. factories that cannot be imported ------------------------------------------------------


def test_a_factory_with_a_syntax_error_is_one_error_naming_component_file_and_line(
        site, tmp_path, budget_csv):
    dist = install(site, "syn", {
        "plugin": model_plugin("'logreg', 'model', 'pkg_syn.models:Model', "
                               "tasks=('tabular_classification',), description='d.'"),
        "models": "import os\n\ndef broken(:\n    pass\n"})
    registry = discover(entry_points=points(site))
    with pytest.raises(PluginError) as info:
        registry.get("model", "syn.logreg").build(task="tabular_classification")
    message = str(info.value)
    assert "syn.logreg" in message and dist in message
    assert "SyntaxError" in message and f"{Path('pkg_syn') / 'models.py'}:3" in message
    # validate reports it before any run, as one issue, and the CLI says it without traceback
    path = pipeline(tmp_path, budget_csv, model={"component": "syn.logreg"})
    with pytest.raises(ConfigError) as info:
        load_config(path, registry=registry)
    assert [i.field for i in info.value.issues] == ["model.component"]
    assert "SyntaxError" in info.value.issues[0].message
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2 and "SyntaxError" in result.output
    assert "is valid" not in result.output and result.exception.__class__ is SystemExit


def test_a_module_that_raises_while_importing_is_reported_with_its_line(site):
    install(site, "boom", {
        "plugin": model_plugin("'m', 'model', 'pkg_boom.models:Model', description='d.'"),
        "models": "x = 1\nraise RuntimeError('no licence server')\n"})
    registry = discover(entry_points=points(site))
    with pytest.raises(PluginError) as info:
        registry.get("model", "boom.m").load_factory()
    assert "RuntimeError" in str(info.value) and "no licence server" in str(info.value)
    assert "models.py:2" in str(info.value)


def test_a_missing_dependency_suggests_the_module_unless_an_extra_provides_it(site):
    source = "import nonexistent_dep_xyz\n"
    spec = "'m', 'model', 'pkg_{p}.models:Model', description='d.'"
    install(site, "nodep", {"plugin": model_plugin(spec.format(p="nodep")), "models": source})
    install(site, "withx", {"plugin": model_plugin(spec.format(p="withx")), "models": source},
            extras={"fast": "nonexistent-dep-xyz>=1"})
    registry = discover(entry_points=points(site))
    with pytest.raises(PluginError) as info:
        registry.get("model", "nodep.m").build()
    assert "`pip install nonexistent_dep_xyz`" in str(info.value)
    assert "[all]" not in str(info.value)  # the distribution declares no such extra
    with pytest.raises(PluginError) as info:
        registry.get("model", "withx.m").build()
    assert '`pip install "mlstat-withx[fast]"`' in str(info.value)


def test_a_dependency_required_with_and_without_an_extra_is_not_offered_as_the_extra(site):
    """mlstat-twitter requires mlstat-coding, and its torch extra mlstat-coding[torch]: with
    mlstat-coding uninstalled the fix offered was `pip install "mlstat-twitter[torch]"`
    (some gigabytes of torch) where the distribution itself lacks a requirement."""
    spec = "'m', 'model', 'pkg_twin.models:Model', description='d.'"
    install(site, "twin", {"plugin": model_plugin(spec), "models": "import base_absent_xyz\n"},
            requires=("base-absent-xyz>=0.1",), extras={"torch": "base-absent-xyz[torch]"})
    registry = discover(entry_points=points(site))
    with pytest.raises(PluginError) as info:
        registry.get("model", "twin.m").build()
    text = str(info.value)
    assert '`pip install "mlstat-twin"`' in text and "base-absent-xyz" in text
    assert "[torch]" not in text


def test_a_module_named_unlike_its_package_points_to_what_the_plugin_declares(site):
    """``import sklearn`` comes from scikit-learn: the hint names the declared requirement
    that is not installed, never ``pip install sklearn``."""
    spec = "'m', 'model', 'pkg_decl.models:Model', description='d.'"
    install(site, "decl", {"plugin": model_plugin(spec), "models": "import skl_absent_xyz\n"},
            requires=("scikit-learn-absent-xyz>=1", "pluggy"))
    registry = discover(entry_points=points(site))
    with pytest.raises(PluginError) as info:
        registry.get("model", "decl.m").build()
    text = str(info.value)
    assert "scikit-learn-absent-xyz" in text and '`pip install "mlstat-decl"`' in text
    assert "pip install skl_absent_xyz" not in text and "pluggy" not in text


# --- 3. a params check that raises or returns the wrong type -----------------------------------


CHECK_PLUGIN = HEADER + """
class RaisingParams(Params):
    def check(self, registry, task=None):
        raise KeyError("base")


class StringParams(Params):
    def check(self, registry, task=None):
        return ["something is wrong"]


@hookimpl
def mlstat_models():
    return [
        ComponentSpec("raises", "model", "{majority}", RaisingParams, description="d."),
        ComponentSpec("strings", "model", "{majority}", StringParams, description="d."),
    ]
"""


def test_a_params_check_that_raises_or_returns_strings_is_one_issue(site, tmp_path, budget_csv):
    install(site, "chk", {"plugin": CHECK_PLUGIN.format(majority=MAJORITY)})
    registry = discover(entry_points=points(site))
    for name, why in (("raises", "KeyError"), ("strings", "'something is wrong'")):
        path = pipeline(tmp_path, budget_csv, model={"component": f"chk.{name}"})
        with pytest.raises(ConfigError) as info:
            load_config(path, registry=registry)
        (issue,) = info.value.issues
        assert issue.field == "model.component"
        assert f"chk.{name}: its params check failed" in issue.message and why in issue.message
        assert "plugin 'chk'" in issue.message


def test_the_conformance_suite_fails_a_params_check_that_raises_or_returns_strings(site):
    from mlstat_core.testing import check_plugin, run_checks

    install(site, "chk2", {"plugin": CHECK_PLUGIN.format(majority=MAJORITY)})
    registry = discover(entry_points=points(site))
    results = {r.id: r for r in run_checks(
        c for c in check_plugin("chk2", registry=registry) if c.name == "params")}
    assert results["chk2.raises-params"].status == "failed"
    assert "check raised KeyError" in results["chk2.raises-params"].message
    assert results["chk2.strings-params"].status == "failed"
    assert "not a list of ConfigIssue" in results["chk2.strings-params"].message


# --- 4 and 5. specs the registry refuses, and why validate says so ------------------------------


def test_params_that_accept_unknown_keys_are_refused_and_validate_says_why(
        site, tmp_path, budget_csv):
    extra = "\n\nclass Loose(BaseModel):\n    threshold: float = 0.5\n"
    install(site, "loose", {"plugin": model_plugin(
        f"'logreg', 'model', '{MAJORITY}', Loose, description='d.'", extra)})
    registry = discover(entry_points=points(site))
    problems = " ".join(registry.plugins["loose"].problems)
    assert "accepts unknown keys" in problems
    path = pipeline(tmp_path, budget_csv, model={"component": "loose.logreg", "treshold": 0.9})
    with pytest.raises(ConfigError) as info:
        load_config(path, registry=registry)
    message = str(info.value)
    assert "unknown model 'loose.logreg'" in message and "accepts unknown keys" in message


@pytest.mark.parametrize("source, why", [
    (HEADER + f"""
@hookimpl
def mlstat_models():
    return ComponentSpec("logreg", "model", "{MAJORITY}", description="d.")
""", "must return a list"),
    (model_plugin(f"'logreg', 'model', '{MAJORITY}', {{'C': 1.0}}, description='d.'"),
     "params is not a pydantic model class"),
])
def test_unknown_component_message_says_why_its_spec_was_refused(site, tmp_path, budget_csv,
                                                                 source, why):
    install(site, "nso", {"plugin": source})
    registry = discover(entry_points=points(site))
    path = pipeline(tmp_path, budget_csv, model={"component": "nso.logreg"})
    with pytest.raises(ConfigError) as info:
        load_config(path, registry=registry)
    (issue,) = info.value.issues
    assert "unknown model 'nso.logreg'" in issue.message and why in issue.message
    assert issue.suggestion is None


# --- 6. messages that point the right way -------------------------------------------------------


def test_a_duplicate_component_is_not_suggested_as_its_own_fix(site, tmp_path, budget_csv):
    spec = f"'logreg', 'model', '{MAJORITY}', description='d.'"
    install(site, "dup", {"plugin": HEADER + textwrap.dedent(f"""
        @hookimpl
        def mlstat_models():
            return [ComponentSpec({spec}), ComponentSpec({spec})]
        """)})
    registry = discover(entry_points=points(site))
    path = pipeline(tmp_path, budget_csv, model={"component": "dup.logreg"})
    with pytest.raises(ConfigError) as info:
        load_config(path, registry=registry)
    (issue,) = info.value.issues
    assert "declared twice" in issue.message and issue.suggestion is None
    assert "did you mean" not in str(info.value)
    assert registry.suggest("model", "dup.logreg") != "dup.logreg"


def test_an_invalid_plugin_default_is_the_plugins_defect_not_the_users(
        site, tmp_path, budget_csv):
    extra = textwrap.dedent("""

    class AllDefaults(Params):
        max_iter: int = Field(5, ge=10)


    class WithRequired(Params):
        path: str
        max_iter: int = Field(5, ge=10)
    """)
    install(site, "dflt", {"plugin": HEADER + extra + textwrap.dedent(f"""
        @hookimpl
        def mlstat_models():
            return [ComponentSpec("alldef", "model", "{MAJORITY}", AllDefaults, description="d."),
                    ComponentSpec("withreq", "model", "{MAJORITY}", WithRequired,
                                  description="d.")]
        """)})
    registry = discover(entry_points=points(site))
    # every field has a default: the spec itself is refused, saying so
    assert "rejects its own defaults" in " ".join(registry.plugins["dflt"].problems)
    path = pipeline(tmp_path, budget_csv, model={"component": "dflt.withreq", "path": "x"})
    with pytest.raises(ConfigError) as info:
        load_config(path, registry=registry)
    (issue,) = info.value.issues
    assert issue.field == "model.max_iter"
    assert "defect of plugin 'dflt'" in issue.message and "(got 5)" not in issue.message
    # a value the user gave is still the user's
    path = pipeline(tmp_path, budget_csv,
                    model={"component": "dflt.withreq", "path": "x", "max_iter": 3})
    with pytest.raises(ConfigError) as info:
        load_config(path, registry=registry)
    assert "(got 3)" in info.value.issues[0].message
    assert "defect" not in info.value.issues[0].message


def test_a_plugin_that_failed_to_import_is_reported_once(site, tmp_path, budget_csv):
    install(site, "gone", {"plugin": "raise ImportError('no module named cx_Oracle')\n"})
    registry = discover(entry_points=points(site))
    path = pipeline(tmp_path, budget_csv,
                    loader={"component": "gone.table", "target": "children"},
                    model={"component": "gone.logreg"},
                    indicators=["gone.gap"])
    with pytest.raises(ConfigError) as info:
        load_config(path, registry=registry)
    assert str(info.value).count("cx_Oracle") == 1
    assert "gone.logreg" in str(info.value) and "gone.gap" in str(info.value)


# --- 7. the [quality] table ---------------------------------------------------------------------


def test_an_unknown_quality_key_points_to_the_indicators_table(write_pipeline):
    path = write_pipeline(quality={"min_share": 0.1})
    with pytest.raises(ConfigError) as info:
        load_config(path)
    (issue,) = info.value.issues
    assert issue.field == "quality.min_share"
    assert "an indicator's own settings go in its [[indicators]] table" in issue.message


def test_the_pipeline_reference_does_not_call_quality_free_form():
    root = Path(__file__).resolve().parents[1]
    for page in ("docs/pipeline-reference.md", "scripts/gen_pipeline_reference.py",
                 "mlstat_core/config.py"):
        assert "free-form" not in (root / page).read_text(encoding="utf-8"), page


BROKEN_DEFAULT_INDICATOR = HEADER + """
@hookimpl
def mlstat_indicators():
    return [ComponentSpec("gap", "indicator", "pkg_brokenind.ind:Gap", dimension="accuracy",
                          tasks=("tabular_classification",),
                          description="An indicator whose module needs a missing package.")]
"""


def test_a_default_indicator_that_cannot_be_imported_fails_alone(site, tmp_path, budget_csv):
    """A pipeline that names no indicators still validates and runs when another plugin's
    default indicator cannot be imported: that one figure fails, the run goes on."""
    import mlstat_core

    install(site, "brokenind", {"plugin": BROKEN_DEFAULT_INDICATOR,
                                "ind": "import nonexistent_dep_xyz\n"})
    registry = discover(entry_points=points(site))
    data = {"pipeline": {"name": "t", "task": "tabular_classification"},
            "loader": {"component": "core.table", "path": str(budget_csv),
                       "target": "children"},
            "model": {"component": "core.majority"}, "output": {"dir": str(tmp_path / "runs")}}
    result = mlstat_core.run(load_config(data, registry=registry), registry=registry)
    assert result.status == "succeeded"
    [failed] = [r for r in result.indicators if r.name.startswith("brokenind.gap")
                or "brokenind.gap" in (r.error or "")]
    assert failed.status == "failed" and "nonexistent_dep_xyz" in failed.error
    named = {**data, "indicators": ["brokenind.gap"]}
    with pytest.raises(ConfigError, match="nonexistent_dep_xyz"):  # named: caught up front
        load_config(named, registry=registry)


def test_a_run_records_the_versions_of_what_its_plugins_declare(site):
    """Reproducibility: the libraries a plugin requires, its optional extras' included, are
    listed with their versions; development extras and the plugins themselves are not."""
    from mlstat_core.artifacts import environment

    dist = install(site, "env", {"plugin": "x = 1\n"}, requires=("pydantic>=2",),
                   extras={"fast": "click>=8", "test": "pytest>=7", "gone": "absent-xyz>=1"})
    packages = environment({dist: "0.1"})["packages"]
    assert packages["pydantic"] == metadata.version("pydantic")
    assert packages["click"] == metadata.version("click")  # an optional extra, installed
    assert "pytest" not in packages and "absent-xyz" not in packages
    assert dist not in packages and "mlstat-core" not in packages


# --- hooks that are silently never called, and specs that serve no known task -----------------


def test_a_spec_whose_tasks_are_all_unknown_is_refused_with_the_close_task(site):
    spec = ("'tree', 'model', '{M}', description='d.', tasks=('tabular_clasification',)"
            .replace("{M}", MAJORITY))
    install(site, "typo", {"plugin": model_plugin(spec)})
    registry = discover(entry_points=points(site))
    assert "typo.tree" not in registry.components["model"]
    problem = registry.plugins["typo"].problems[0]
    assert "unknown task 'tabular_clasification'" in problem
    assert "did you mean 'tabular_classification'?" in problem
    with pytest.raises(ConfigError) as info:
        registry.get("model", "typo.tree")
    assert "refused" in str(info.value) and "tabular_clasification" in str(info.value)


def test_an_unknown_task_beside_known_ones_is_reported_and_the_component_kept(site):
    spec = ("'tree', 'model', '{M}', description='d.', "
            "tasks=('tabular_classification', 'raster_segmentaton')").replace("{M}", MAJORITY)
    install(site, "half", {"plugin": model_plugin(spec)})
    registry = discover(entry_points=points(site))
    assert "half.tree" in registry.components["model"]
    assert "unknown task 'raster_segmentaton'" in registry.plugins["half"].problems[0]
    with pytest.raises(PluginError, match="raster_segmentaton"):
        discover(strict=True, entry_points=points(site))


def test_a_hook_without_hookimpl_or_without_return_is_reported(site):
    undecorated = HEADER + f"""
def mlstat_models():
    return [ComponentSpec('tree', 'model', '{MAJORITY}', description='d.')]
"""
    no_return = HEADER + f"""
@hookimpl
def mlstat_models():
    specs = [ComponentSpec('tree', 'model', '{MAJORITY}', description='d.')]
"""
    install(site, "nodeco", {"plugin": undecorated})
    install(site, "noret", {"plugin": no_return})
    registry = discover(entry_points=points(site))
    for plugin, expected in (("nodeco", "not marked @hookimpl"), ("noret", "returned None")):
        with pytest.raises(ConfigError) as info:
            registry.get("model", f"{plugin}.tree")
        assert f"plugin {plugin!r} has" in str(info.value) and expected in str(info.value)


def test_validate_names_a_misspelt_hook_when_its_component_is_missing(site, tmp_path,
                                                                       budget_csv):
    typo = model_plugin(f"'tree', 'model', '{MAJORITY}', description='d.'").replace(
        "def mlstat_models", "def mlstat_model")
    install(site, "hooktypo", {"plugin": typo})
    result = invoke("validate", str(pipeline(tmp_path, budget_csv,
                                             model={"component": "hooktypo.tree"})))
    text = " ".join(result.output.split())
    assert result.exit_code != 0 and "Traceback" not in text
    assert "has no mlstat_models hook" in text and "did you mean mlstat_models?" in text


def test_an_extra_named_unlike_its_module_is_offered_for_a_missing_module(site):
    """``import cv2`` comes from opencv-python: no requirement is named cv2, so the hint
    offers the extras that lack something, then the module itself."""
    spec = "'m', 'model', 'pkg_vision.models:Model', description='d.'"
    install(site, "vision", {"plugin": model_plugin(spec), "models": "import cv2_absent_xyz\n"},
            extras={"vision": "opencv-absent-xyz>=4", "test": "pytest-absent-xyz"})
    registry = discover(entry_points=points(site))
    with pytest.raises(PluginError) as info:
        registry.get("model", "vision.m").build()
    text = str(info.value)
    assert '`pip install "mlstat-vision[vision]"` (opencv-absent-xyz)' in text
    assert "pip install cv2_absent_xyz" in text and "[test]" not in text


def test_a_plugin_module_missing_a_dependency_names_where_and_what_to_install(site):
    install(site, "plugdep", {"plugin": "import absent_dep_xyz\n"},
            extras={"fast": "absent-dep-xyz>=1"})
    record = discover(entry_points=points(site)).plugins["plugdep"]
    assert record.status == "failed"
    assert "plugin.py:1" in record.error
    assert '`pip install "mlstat-plugdep[fast]"`' in record.error


def test_a_typo_in_a_plugins_import_of_its_own_module_is_not_a_missing_dependency(site):
    spec = "'m', 'model', 'pkg_owntypo.models:Model', description='d.'"
    install(site, "owntypo", {"plugin": model_plugin(spec),
                              "models": "import pkg_owntypo.paramz\n"})
    install(site, "plugtypo", {"plugin": "import pkg_plugtypo.paramz\n"})
    registry = discover(entry_points=points(site))
    with pytest.raises(PluginError) as info:
        registry.get("model", "owntypo.m").build()
    text = str(info.value)
    assert "imports 'pkg_owntypo.paramz', which its own package lacks" in text
    assert "pip install" not in text
    record = registry.plugins["plugtypo"]
    assert "pip install" not in record.error and "Fix or reinstall mlstat-plugtypo" in record.error


def test_a_plugin_that_calls_sys_exit_fails_alone(site, tmp_path, budget_csv):
    """sys.exit() while importing, in a hook or in a factory module: that plugin is reported,
    mlstat and the other plugins go on."""
    install(site, "quits",
            {"plugin": "import sys\nsys.exit('site config missing: set NSO_HOME')\n"})
    install(site, "hookquits", {"plugin": HEADER + textwrap.dedent("""
        import sys

        @hookimpl
        def mlstat_models():
            sys.exit('no licence')
        """)})
    spec = "'m', 'model', 'pkg_facquits.models:Model', description='d.'"
    install(site, "facquits", {"plugin": model_plugin(spec),
                               "models": "import sys\nsys.exit(3)\n"})
    registry = discover(entry_points=points(site))
    record = registry.plugins["quits"]
    assert record.status == "failed"
    assert "SystemExit: the plugin called sys.exit('site config missing: set NSO_HOME')" \
        in record.error
    assert any("mlstat_models of plugin 'hookquits' raised SystemExit: the plugin called "
               "sys.exit('no licence')" in p
               for p in registry.plugins["hookquits"].problems)
    with pytest.raises(PluginError) as info:
        registry.get("model", "facquits.m").build()
    assert "SystemExit" in str(info.value) and "models.py:2" in str(info.value)
    assert load_config(pipeline(tmp_path, budget_csv), registry=registry).model.name \
        == "core.majority"


@pytest.mark.parametrize("name, spec_params, class_params, fix", [
    ("noptype", "params=TreeParams, ", "", "set params_type = TreeParams in the class"),
    ("nospecparams", "", "params_type = TreeParams",
     "give params=TreeParams in the component's ComponentSpec"),
    # a subclass of the params its class reads: its own settings are unknown keys at load
    ("subparams", "params=SubParams, ", "params_type = TreeParams",
     "name one class in both: params=TreeParams in the ComponentSpec or params_type = "
     "SubParams in the class"),
])
def test_a_sklearn_model_whose_params_type_is_not_its_specs_says_which_to_set(
        site, tmp_path, budget_csv, name, spec_params, class_params, fix):
    """The guide's "write build_estimator" model that leaves out params_type, or a spec that
    leaves out params: refused by validation, before any run folder, naming the fix. The first
    used to fail at fit, the second at fit with advice to set params_type = NoParams, which
    would have stripped the model of its params."""
    install(site, name, {
        "plugin": model_plugin(f"'tree', 'model', 'pkg_{name}.models:Tree', {spec_params}"
                               "description='d.', tasks=('tabular_classification',)",
                               extra=TREE_PARAMS),
        "models": textwrap.dedent(f"""
            from mlstat_core.sklearn_model import SklearnModel
            from pkg_{name}.plugin import TreeParams

            class Tree(SklearnModel):
                {class_params}

                def build_estimator(self, train):
                    from sklearn.tree import DecisionTreeClassifier
                    return DecisionTreeClassifier(max_depth=self.params.max_depth)
            """)})
    registry = discover(entry_points=points(site))
    path = pipeline(tmp_path, budget_csv, model={"component": f"{name}.tree"})
    with pytest.raises(ConfigError) as info:
        mlstat_core.run(path, out=tmp_path / "runs", registry=registry)
    assert f"{fix}" in str(info.value) and f"mlstat-{name}" in str(info.value)
    assert not (tmp_path / "runs").exists()


TREE_PARAMS = textwrap.dedent("""
    class TreeParams(Params):
        max_depth: int = Field(3, ge=1, description="Depth.")

    class SubParams(TreeParams):
        min_leaf: int = Field(1, ge=1, description="Leaf size.")
    """)


def test_params_that_cannot_be_written_as_json_refuse_the_component(site):
    """A callable in params passed validate and crashed `mlstat run` writing config.toml."""
    install(site, "fnparams", {"plugin": model_plugin(
        "'m', 'model', 'mlstat_core.builtins.models:MajorityModel', params=FnParams, "
        "description='d.'", extra=textwrap.dedent("""
        from typing import Callable

        class FnParams(Params):
            fn: Callable = Field(print, description="What to call.")
            depth: int = Field(3, description="Depth.")
        """))})
    registry = discover(entry_points=points(site))
    problems = " ".join(registry.plugins["fnparams"].problems)
    assert "params FnParams has field(s) that cannot be written to a pipeline or state file: " \
           "fn" in problems
    assert "depth" not in problems
    assert "fnparams.m" in registry.refused


def test_a_task_declared_again_with_other_columns_is_reported_not_dropped_silently(site):
    tasks = textwrap.dedent("""
        from mlstat_core.tasks import TaskType

        @hookimpl
        def mlstat_tasks():
            return [TaskType("tabular_classification", "Mine.", tags=("mine",)),
                    TaskType("household_typing", "Types of household.",
                             prediction_columns={columns})]
        """)
    install(site, "tasksa", {"plugin": HEADER + tasks.format(columns='("prediction",)')})
    install(site, "tasksb", {"plugin": HEADER + tasks.format(
        columns='("prediction", "confidence")')})
    registry = discover(entry_points=points(site))
    problems_a = " ".join(registry.plugins["tasksa"].problems)
    problems_b = " ".join(registry.plugins["tasksb"].problems)
    assert "task 'tabular_classification' of plugin 'tasksa' is ignored: plugin 'core'" \
        in problems_a
    assert "household_typing" not in problems_a  # the first to declare it keeps it
    assert "task 'household_typing' of plugin 'tasksb' is ignored: plugin 'tasksa'" \
        in problems_b
    assert registry.tasks["household_typing"].prediction_columns == ("prediction",)


def test_predict_with_the_runs_plugin_uninstalled_names_what_to_install(site, tmp_path,
                                                                        budget_csv):
    import shutil

    from mlstat_core.predict import predict_file

    install(site, "nsofmt", {"plugin": model_plugin(
        f"'logit', 'model', {MAJORITY!r}, description='d.', "
        "tasks=('tabular_classification',)")})
    registry = discover(entry_points=points(site))
    path = pipeline(tmp_path, budget_csv, model={"component": "nsofmt.logit"})
    run = mlstat_core.run(path, out=tmp_path / "runs", registry=registry)
    shutil.rmtree(site / "mlstat_nsofmt-0.1.dist-info")  # pip uninstall
    with pytest.raises(ConfigError) as info:
        predict_file(run.run_dir, budget_csv, tmp_path / "out.csv",
                     registry=discover(entry_points=points(site)))
    text = str(info.value)
    assert "needs the model 'nsofmt.logit' of plugin 'nsofmt', which is not installed" in text
    assert "pip install 'mlstat-nsofmt==0.1'" in text and "did you mean" not in text


# --- listing a component's params ----------------------------------------------------------------


NESTED_PARAMS = """
class Window(BaseModel):
    size: int = Field(7, ge=1, description="days in a window")
    label: str = Field(description="the window's name")


class NestedParams(Params):
    window: Window = Field(default_factory=lambda: Window(label="week"),
                           description="the window of the statistic")
    extra: list[Window] = Field(default_factory=list, description="more windows")
"""


def test_components_lists_the_keys_of_a_table_of_params(site) -> None:
    """A table of settings is listed with each of its keys (``window.size``), as a pipeline
    file writes them, not as the repr of a Python object in its default."""
    install(site, "nest", {"plugin": model_plugin(
        '"nested", "model", "' + MAJORITY + '", params=NestedParams, '
        'description="A model with nested params."', extra=NESTED_PARAMS)})
    rows = {r["name"]: r for r in json.loads(invoke("components", "--json").output)}
    params = {p["name"]: p for p in rows["nest.nested"]["params"]}
    assert params["window"]["default"] == {"size": 7, "label": "week"}
    assert params["window"]["table"] and not params["window.size"]["table"]
    assert params["window.size"]["default"] == 7
    assert params["window.size"]["constraints"] == {"ge": 1}
    assert params["extra[].label"]["required"]
    text = " ".join(invoke("components", "--kind", "model").output.split())
    assert "- window: table (its keys below) the window of the statistic" in text
    assert "- window.size: integer (>= 1; default 7) days in a window" in text
    assert "- extra: list[table] (default []) more windows" in text
    assert "- extra[].label: string (required) the window's name" in text
    assert "Window(" not in text


ABSTRACT_MODEL = """
import pandas as pd

from mlstat_core.components import Model


class Threshold(Model):
    def fit(self, train, validation=None):
        return self

    def predict(self, frame):
        return pd.DataFrame(index=frame.index)

    def save(self, directory):
        self.write_state(directory)

    @classmethod
    def lode(cls, directory):  # misspelt: load() is never implemented
        return cls()
"""


@pytest.mark.parametrize("factory, said", [
    ("mlstat_core.builtins.loaders:TableLoader",
     "its factory class TableLoader is a Loader, not a Model"),
    ("pkg_shape.impl:Threshold", "its factory class Threshold does not implement load, which "
                                 "every model must")])
def test_validate_refuses_a_factory_of_the_wrong_shape(site, tmp_path, budget_csv, factory,
                                                       said):
    """It used to pass validation and fail late in the run with a TypeError 'to report to the
    plugin's authors', leaving a failed run folder."""
    install(site, "shape", {"plugin": model_plugin(
        f'"threshold", "model", "{factory}", description="A model."'),
        "impl": ABSTRACT_MODEL})
    path = pipeline(tmp_path, budget_csv, model={"component": "shape.threshold"})
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert said in text and "Fix:" in text and "Traceback" not in text
    assert not (tmp_path / "runs").exists()


def test_components_of_a_plugin_that_is_not_installed_are_one_problem(site, tmp_path,
                                                                      budget_csv):
    """A plugin not installed, or installed without its entry point in the `mlstat` group:
    three bare 'unknown ...' issues became one that says which plugin and what to check."""
    path = pipeline(tmp_path, budget_csv,
                    loader={"component": "towns.towns", "path": str(budget_csv)},
                    model={"component": "towns.threshold"})
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert text.count("no installed plugin is named 'towns'") == 1
    assert "[project.entry-points.mlstat]" in text and "also needed by [model]" in text
    assert re.search(r"\(installed: [a-z, ]*\bcore\b[a-z, ]*\)", text)


def test_one_of_mlstats_own_plugins_not_installed_is_named_with_its_pip_command():
    """A pipeline of the bundled examples on a machine without that plugin was told to
    "install the plugin that provides it", naming no distribution."""
    registry = discover(entry_points=[])
    said = registry.plugin_failure("editimpute.survey", "loader")
    assert "it is one of mlstat's own plugins, the distribution mlstat-editimpute; install " \
           "it with `pip install mlstat-editimpute`" in said
    assert "[project.entry-points.mlstat]" in registry.plugin_failure("towns.towns", "loader")


def test_an_indicator_listed_twice_is_refused_at_validation(tmp_path, budget_csv):
    """Its figures would have the same names (the second copy failed in the run, saying to
    rename figures a user cannot rename)."""
    path = pipeline(tmp_path, budget_csv, indicators=[
        "core.classification_accuracy",
        {"component": "core.auto_coding", "target_accuracy": 0.9},
        {"component": "core.auto_coding", "target_accuracy": 0.95}])
    with pytest.raises(ConfigError) as info:
        load_config(path)
    (issue,) = info.value.issues
    assert issue.field == "indicators[2].component"
    assert "core.auto_coding is listed twice in [[indicators]] (tables 2 and 3)" in issue.message


# --- a long-lived process (a notebook) ---------------------------------------------------------


def test_a_plugin_installed_or_a_setting_changed_between_two_runs_of_one_process_is_seen(
        site, monkeypatch):
    """The registry was discovered once per process: a plugin installed in a notebook after
    its first run, or MLSTAT_DISABLE_PLUGINS / MLSTAT_TRACE_HOOKS set then, was ignored
    until the kernel restarted."""
    from mlstat_core.registry import get_registry

    first = get_registry()
    assert get_registry() is first  # discovered once while nothing changes
    install(site, "late", {"plugin": ENGINE_PLUGIN.format(name="late")})
    assert get_registry().engine("late").full_name == "late.late"
    monkeypatch.setenv("MLSTAT_DISABLE_PLUGINS", "late")
    assert get_registry().plugins["late"].status == "disabled"
    monkeypatch.setenv("MLSTAT_TRACE_HOOKS", "1")
    assert get_registry().tracer is not None
