"""Every code snippet in the docs runs.

The convention (CONTRIBUTING.md, "Documentation"):

- a ```` ```python ```` block runs, unless the line before it is ``<!-- norun -->``;
- a ```` ```bash ```` / ```` ```console ```` / ```` ```sh ```` block runs only when the line
  before it is ``<!-- run -->`` (commands that need a cluster, the network or minutes never
  carry it);
- a block of any language preceded by ``<!-- file: PATH -->`` is written to PATH (relative to
  the repository root) before the page's later blocks run;
- other blocks (``toml``, ``text``, ``json``) are never run.

The blocks of one page run in order, each in a fresh process, in one temporary copy of the
files the docs use (``examples/``), so what a page writes (run folders, files) stays there.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)[^\n]*$")
MARKER = re.compile(r"^\s*<!--\s*(?P<word>run|norun|file:\s*(?P<path>\S+))\s*-->\s*$")
ANY_MARKER = re.compile(r"^\s*<!--\s*(run|norun|file)\b")
SHELLS = {"bash", "console", "sh", "shell"}
TIMEOUT = 180  # seconds per block: a single run of an example pipeline on a busy 2-core machine


@dataclass
class Block:
    page: Path
    line: int
    lang: str
    code: str
    marker: str | None  # "run", "norun", "file" or None
    path: str | None = None

    @property
    def action(self) -> str:
        if self.marker == "file":
            return "file"
        if self.marker == "norun":
            return "skip"
        if self.lang == "python":
            return "python"
        if self.lang in SHELLS and self.marker == "run":
            return "shell"
        return "skip"

    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The fenced code blocks of a page with the marker on the line before each."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, lang = m["indent"], m["fence"], m["lang"].lower()
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not (lines[j].strip().startswith(fence[0] * len(fence))
                                      and lines[j].strip().strip(fence[0]) == ""):
            body.append(lines[j][len(indent):] if lines[j].startswith(indent) else lines[j])
            j += 1
        k = i - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        marker = MARKER.match(lines[k]) if k >= 0 else None
        word = None
        path = None
        if marker:
            word = "file" if marker["path"] else marker["word"]
            path = marker["path"]
        found.append(Block(page, i + 1, lang, "\n".join(body) + "\n", word, path))
        i = j + 1
    return found


def runnable_pages() -> list[Path]:
    return [p for p in PAGES if any(b.action in ("python", "shell") for b in blocks(p))]


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("MLSTAT_PLUGINS", "MLSTAT_DISABLE_PLUGINS", "MLSTAT_TRACE_HOOKS")}
    environment.update(PATH=bin_dir + os.pathsep + environment.get("PATH", ""),
                       HF_HUB_OFFLINE="1", MPLBACKEND="Agg", PYTHONHASHSEED="0",
                       COLUMNS="100", NO_COLOR="1")
    return environment


def workdir(tmp_path: Path) -> Path:
    """A copy of what the docs' snippets read, laid out as the repository."""
    work = tmp_path / "repo"
    work.mkdir()
    shutil.copytree(ROOT / "examples", work / "examples",
                    ignore=shutil.ignore_patterns("runs", "__pycache__"))
    return work


@pytest.mark.slow
@pytest.mark.parametrize("page", runnable_pages(), ids=lambda p: p.name)
def test_snippets_run(page: Path, tmp_path: Path, env: dict[str, str]) -> None:
    work = workdir(tmp_path)
    for block in blocks(page):
        if block.action == "file":
            target = work / block.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.code, encoding="utf-8")
            continue
        if block.action == "python":
            command = [sys.executable, "-c", block.code]
        elif block.action == "shell":
            command = ["bash", "-euo", "pipefail", "-c", block.code]
        else:
            continue
        try:
            done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True,
                                  timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{block.where()}: the {block.lang} block ran over {TIMEOUT} s")
        assert done.returncode == 0, (
            f"{block.where()}: the {block.lang} block failed (exit {done.returncode}); mark it "
            f"<!-- norun --> if it cannot run in CI.\n--- code\n{block.code}--- stdout\n"
            f"{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}")


def test_markers_precede_a_code_block() -> None:
    """A misspelt or misplaced marker would silently stop a snippet from running."""
    problems = []
    for page in PAGES:
        lines = page.read_text(encoding="utf-8").splitlines()
        for n, line in enumerate(lines):
            if not ANY_MARKER.match(line):
                continue
            if not MARKER.match(line):
                problems.append(f"{page.name}:{n + 1}: unknown marker {line.strip()!r}")
                continue
            rest = [x for x in lines[n + 1:] if x.strip()]
            if not rest or not FENCE.match(rest[0]):
                problems.append(f"{page.name}:{n + 1}: {line.strip()} is not followed by a "
                                f"fenced code block")
    assert not problems, "\n".join(problems)


def test_blocks_are_parsed_with_their_markers(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# t\n\n```python\nprint(1)\n```\n\n<!-- norun -->\n```python\nx\n```\n\n"
                    "```bash\nmlstat plugins\n```\n\n<!-- run -->\n\n```bash\nmlstat --help\n"
                    "```\n\n<!-- file: examples/a.toml -->\n```toml\na = 1\n```\n\n"
                    "- item\n\n  ```python\n  print(2)\n  ```\n", encoding="utf-8")
    found = blocks(page)
    assert [b.action for b in found] == ["python", "skip", "skip", "shell", "file", "python"]
    assert found[4].path == "examples/a.toml" and found[4].code == "a = 1\n"
    assert found[5].code == "print(2)\n"

