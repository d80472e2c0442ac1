"""docs/hooks.md is generated from the hook specifications and kept up to date."""

from __future__ import annotations

from pathlib import Path

from mlstat_core.testing import hookdoc

DOC = Path(__file__).resolve().parents[1] / "docs" / "hooks.md"


def test_every_hook_has_a_docstring():
    assert hookdoc.hook_specs(), "no hook specifications found"
    assert hookdoc.undocumented() == []


def test_every_hook_is_in_the_reference():
    text = hookdoc.render()
    for name, _ in hookdoc.hook_specs():
        assert f"### `{name}(" in text


def test_docs_hooks_md_is_up_to_date():
    assert DOC.read_text(encoding="utf-8") == hookdoc.render(), (
        "docs/hooks.md is stale: run `python -m mlstat_core.testing.hookdoc > docs/hooks.md`")
