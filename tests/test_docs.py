"""The documentation site's generated pages are fresh and its examples match the code.

`make docs` regenerates the references, `make docs-examples` reruns the example pipelines; these
tests fail, naming the command to run, when a page no longer matches the code it documents.
`mkdocs build --strict` (in `make test`) checks links, the nav and the included snippets.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def script(name: str) -> ModuleType:
    path = ROOT / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"docs_{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def examples() -> ModuleType:
    return script("gen_quality_examples")


# --- generated references -----------------------------------------------------------------------


def test_cli_reference_is_fresh() -> None:
    gen = script("gen_cli_docs")
    assert (DOCS / "cli.md").read_text("utf-8") == gen.render(), (
        "docs/cli.md is stale: run `make docs` (python scripts/gen_cli_docs.py)")


def test_cli_reference_documents_every_command_and_option() -> None:
    import click

    from mlstat_core.cli import main

    text = (DOCS / "cli.md").read_text("utf-8")
    for name, command in main.commands.items():
        assert f"### `mlstat {name}`" in text
        for param in command.params:
            if isinstance(param, click.Option):
                assert f"`{param.opts[0]}`" in text, (name, param.opts)


def test_pipeline_reference_is_fresh() -> None:
    gen = script("gen_pipeline_reference")
    missing = gen.missing_plugins()
    hint = f" (not installed here: {', '.join(missing)})" if missing else ""
    assert (DOCS / "pipeline-reference.md").read_text("utf-8") == gen.render(), (
        "docs/pipeline-reference.md is stale: run `make docs` "
        f"(python scripts/gen_pipeline_reference.py){hint}")


def test_pipeline_reference_lists_every_section_and_param() -> None:
    from mlstat_core.builtins.params import TableParams
    from mlstat_core.config import PipelineFile

    text = (DOCS / "pipeline-reference.md").read_text("utf-8")
    for section in PipelineFile.model_fields:
        assert f"[{section}]" in text
    table = text.split("#### `core.table`", 1)[1].split("####", 1)[0]
    for name, info in TableParams.model_fields.items():
        assert f"| `{name}` |" in table
        assert info.description and info.description in table


def test_generated_pages_carry_nothing_of_this_machine() -> None:
    for name in ("cli.md", "pipeline-reference.md", "hooks.md"):
        text = (DOCS / name).read_text("utf-8")
        assert str(ROOT) not in text and "/home/" not in text and "/tmp/" not in text, name
        assert not re.search(r"\b20\d\d-\d\d-\d\dT", text), name


# --- the site -------------------------------------------------------------------------------------


def nav_pages() -> list[str]:
    import yaml

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text("utf-8"))

    def walk(node: object) -> list[str]:
        if isinstance(node, str):
            return [node]
        if isinstance(node, list):
            return [p for item in node for p in walk(item)]
        if isinstance(node, dict):
            return [p for value in node.values() for p in walk(value)]
        return []

    return walk(config["nav"])


def test_every_page_is_in_the_nav_and_exists() -> None:
    pytest.importorskip("yaml")
    pages = nav_pages()
    on_disk = sorted(p.name for p in DOCS.glob("*.md"))
    assert sorted(pages) == on_disk
    for guide in ("coding.md", "editimpute.md", "imagery.md", "twitter.md", "scaling.md"):
        assert guide in pages


PLUGIN_GUIDES = {"mlstat-coding": "coding.md", "mlstat-editimpute": "editimpute.md",
                 "mlstat-imagery": "imagery.md", "mlstat-twitter": "twitter.md",
                 "mlstat-spark": "scaling.md"}


@pytest.mark.parametrize("plugin", sorted(PLUGIN_GUIDES))
def test_plugin_readme_links_its_guidance_page(plugin: str) -> None:
    readme = ROOT / "plugins" / plugin / "README.md"
    if not readme.exists():
        pytest.fail(f"plugins/{plugin}/README.md is missing")
    assert f"docs/{PLUGIN_GUIDES[plugin]}" in readme.read_text("utf-8"), (
        f"plugins/{plugin}/README.md does not link docs/{PLUGIN_GUIDES[plugin]}")


# --- figures of the example runs ------------------------------------------------------------------


def test_quality_example_snippets_are_fresh(examples: ModuleType) -> None:
    assert examples.stale() == [], (
        "docs/examples/*.md differ from the stored runs: run python "
        "scripts/gen_quality_examples.py --render (or make docs-examples to rerun)")


def tracked(folder: Path, pattern: str) -> list[Path]:
    """The files of the repository matching ``pattern``: in a git checkout the committed and
    staged ones, so that a user's own pipeline (getting-started's ``examples/first.toml``)
    does not fail the suite; elsewhere every file."""
    import subprocess

    found = sorted(folder.glob(pattern))
    try:
        listed = subprocess.run(["git", "ls-files", "--", pattern], cwd=folder, text=True,
                                capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return found
    if listed.returncode != 0:
        return found
    names = set(listed.stdout.split())
    return [p for p in found if p.name in names]


def test_every_example_pipeline_is_accounted_for(examples: ModuleType) -> None:
    index = json.loads((DOCS / "examples" / "runs.json").read_text("utf-8"))
    listed = {e["example"] for e in index}
    on_disk = {f"examples/{p.name}" for p in tracked(ROOT / "examples", "*.toml")}
    assert on_disk <= listed, (
        f"not in docs/examples/runs.json: {sorted(on_disk - listed)}; run make docs-examples")
    unknown = {p.stem for p in tracked(ROOT / "examples", "*.toml")} - set(examples.EXAMPLES)
    assert not unknown, f"add {sorted(unknown)} to EXAMPLES in scripts/gen_quality_examples.py"
    for entry in index:
        assert entry["status"] in ("ran", "skipped", "failed")
        assert entry["status"] == "ran" or entry["reason"]


def test_quality_examples_match_the_report_schema(examples: ModuleType) -> None:
    from mlstat_core.components import DIMENSIONS
    from mlstat_core.registry import get_registry
    from mlstat_core.report import REPORT_SCHEMA_VERSION

    reports = examples.load_reports()
    assert reports, "no example run is stored in docs/examples: run make docs-examples"
    registry = get_registry()
    for stem, report in reports.items():
        assert report["schema_version"].split(".")[0] == REPORT_SCHEMA_VERSION.split(".")[0], stem
        assert report["run"]["status"] == "succeeded", stem
        assert (ROOT / report["example"]).exists(), stem
        for item in report["indicators"]:
            assert {"name", "indicator", "dimension", "status", "value", "interval",
                    "explanation", "headline", "better"} <= set(item), (stem, item)
            assert item["dimension"] in DIMENSIONS, (stem, item["name"])
            assert item["status"] in ("ok", "skipped", "failed"), (stem, item["name"])
            plugin = (item["indicator"] or "").split(".")[0]
            if plugin in registry.plugins and registry.plugins[plugin].status == "loaded":
                assert item["indicator"] in registry.components["indicator"], (
                    f"{stem}: indicator {item['indicator']} is no longer registered; "
                    f"run make docs-examples")
        for figure in report["headline"]:
            assert figure["dimension"] in DIMENSIONS and "met" in figure, (stem, figure)


def test_example_runs_match_their_pipeline_files(examples: ModuleType) -> None:
    """A stored run used the pipeline file as it is today."""
    for stem, report in examples.load_reports().items():
        path = ROOT / report["example"]
        assert report.get("example_sha256") == examples.example_sha256(path), (
            f"{report['example']} changed since its figures were stored: run python "
            f"scripts/gen_quality_examples.py --only {stem} (or make docs-examples)")
        data = tomllib.loads(path.read_text("utf-8"))
        components = report["run"]["components"]
        for section in ("loader", "model"):
            expected = data[section]["component"]
            for override in report["overrides"]:
                if override.startswith(f"{section}.component="):
                    expected = override.split("=", 1)[1]
            assert components[section] == expected, (
                f"{report['example']} now uses {expected} as its {section}; the stored run "
                f"used {components[section]}: run make docs-examples")


def test_guideline_and_lessons_quote_generated_figures_only() -> None:
    """The prose has no hand-typed results: figures come in through the snippets."""
    for name in ("quality-guideline.md", "lessons-learned.md"):
        text = (DOCS / name).read_text("utf-8")
        includes = re.findall(r'^--8<-- "(examples/[^"]+)"$', text, flags=re.M)
        assert includes, name
        for include in includes:
            assert (DOCS / include).exists(), include
        prose = "\n".join(line for line in text.splitlines() if not line.startswith("--8<--"))
        assert not re.search(r"\b\d+\.\d{2,}\b", prose), (
            f"{name} types a figure by hand; include it from docs/examples/ instead")


def test_example_figures_render_without_machine_paths(examples: ModuleType) -> None:
    for name, text in examples.render_all().items():
        assert str(ROOT) not in text and "/tmp/" not in text, name


def test_every_toml_block_of_the_docs_parses() -> None:
    """A user pastes these into a pipeline file: each must be valid TOML 1.0 (what Python's
    tomllib reads; an inline table on several lines is not)."""
    pages = [*DOCS.glob("*.md"), ROOT / "README.md", *ROOT.glob("plugins/*/README.md")]
    blocks = 0
    for page in pages:
        for block in re.findall(r"```toml\n(.*?)```", page.read_text("utf-8"), re.S):
            blocks += 1
            try:
                tomllib.loads(block)
            except tomllib.TOMLDecodeError as exc:
                pytest.fail(f"{page.relative_to(ROOT)}: a toml block does not parse ({exc}):\n"
                            f"{block}")
    assert blocks >= 5
