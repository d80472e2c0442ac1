"""What runs read and made, fingerprinted for ``mlstat compare``: the software that differs,
short hashes of the data read, the model files and the predictions, and whether one run
reproduced another exactly."""

from __future__ import annotations

import hashlib
from typing import Any

from mlstat_core.artifacts import model_files
from mlstat_core.errors import listed

SOFTWARE_SHOWN = 8
"""Most differing software versions a comparison lists before it counts the rest."""


def fact_cell(value: Any) -> str:
    """A run fact as text; only a missing one is a dash (seed 0 is a fact)."""
    return "—" if value is None or value == "" else str(value)


SOFTWARE_FACTS = ("python", "mlstat_core")
"""The manifest's environment entries compared besides its packages and plugins."""


def _software(manifest: dict[str, Any]) -> dict[str, str]:
    """A run's software as ``name`` -> version: Python, mlstat-core, plugins, libraries."""
    env = manifest.get("environment") or {}
    found = {name.replace("_", "-"): env.get(name) for name in SOFTWARE_FACTS}
    for group in ("plugins", "packages"):
        found.update(env.get(group) or {})
    return {k: str(v) for k, v in found.items() if v is not None}


def software_facts(runs: list[dict[str, Any]]) -> list[list[str]]:
    """One fact row listing, per run, the software whose versions differ between the runs
    (another scikit-learn can change a figure as a setting can); none when they agree."""
    tables = [_software(r["manifest"]) for r in runs]
    keys = sorted(set.intersection(*[set(t) for t in tables]))  # what every run recorded
    differing = [k for k in keys if len({t[k] for t in tables}) > 1]
    if not differing:
        return []
    return [["software that differs", *[listed([f"{k} {t[k]}" for k in differing],
                                               SOFTWARE_SHOWN, "; ") for t in tables]]]


def _short_digest(lines: list[str]) -> str | None:
    """Twelve hex digits of the SHA-256 of the sorted lines; None for no lines."""
    if not lines:
        return None
    return hashlib.sha256("\n".join(sorted(lines)).encode("utf-8")).hexdigest()[:12]


ARTEFACTS = ("data read (sha256)", "model files (sha256)", "predictions (sha256)")
"""Fact rows that fingerprint what a run read (the input files' contents, wherever they lay)
and made (the model folder with the training profile; the test predictions), so that equal
cells mean the same data, the same model or the same predictions."""


def _artefacts(manifest: dict[str, Any]) -> list[str | None]:
    """A run's fingerprints in the order of :data:`ARTEFACTS`; an evaluation's model files
    are those of the run it evaluates."""
    files = manifest.get("files") or {}
    inputs = manifest.get("inputs") or {}
    evaluated = manifest.get("evaluates")
    if isinstance(evaluated, dict) and isinstance(evaluated.get("model_files"), dict):
        files = {**files, **evaluated["model_files"]}
    model = [f"{name} {digest}" for name, digest in model_files(files).items()]
    predictions = [digest for name, digest in files.items() if name.startswith("predictions.")]
    return [_short_digest([str(d) for d in inputs.values()]), _short_digest(model),
            _short_digest(predictions)]


def artefact_facts(runs: list[dict[str, Any]]) -> list[list[str]]:
    """The fingerprint rows, after a row naming the run whose model an evaluation scored
    (when any run is an evaluation)."""
    columns = [_artefacts(r["manifest"]) for r in runs]
    rows = [[name, *[fact_cell(c[k]) for c in columns]] for k, name in enumerate(ARTEFACTS)
            if any(c[k] for c in columns)]
    evaluated = [r["manifest"].get("evaluates") for r in runs]
    if any(isinstance(e, dict) for e in evaluated):
        rows.insert(0, ["evaluates the model of", *[
            fact_cell(e.get("run_id")) if isinstance(e, dict) else "— (its own)"
            for e in evaluated]])
    return rows


PLACES = ("path", "dir", "data_dir")
"""Settings that say where a file or folder lies: a rerun elsewhere may change them and
still read the same data (the ``data read`` fingerprint says whether it did)."""


def _settings_differ_beyond_places(runs: list[dict[str, Any]]) -> bool:
    """Whether the runs' pipeline settings differ in more than where their files lie (or a
    run's config.toml cannot be read)."""
    configs = [r["config"] for r in runs]
    if any(c is None for c in configs):
        return True
    keys = {k for c in configs for k in c}
    return any(len({c.get(k) for c in configs}) > 1 and k.rsplit(".", 1)[-1] not in PLACES
               for k in keys)


def reproduced(runs: list[dict[str, Any]], facts: list[list[str]]) -> list[str]:
    """A note when every run read the same data with the same settings and seed and wrote
    identical model files: the training was reproduced exactly."""
    table = {row[0]: row[1:] for row in facts}
    model = table.get("model files (sha256)")
    if len(runs) < 2 or model is None or len(set(table.get("seed", []))) > 1 \
            or "evaluates the model of" in table or _settings_differ_beyond_places(runs):
        return []
    for name in ("data read (sha256)", "model files (sha256)"):
        cells = table.get(name) or ["—"]
        if "—" in cells or len(set(cells)) > 1:
            return []
    same = "the same data with the same settings and seed"
    elsewhere = " (only where the files lie differs)" if "settings that differ" in table else ""
    return [f"the runs read {same}{elsewhere} and wrote identical model files: the training "
            "was reproduced exactly" + ("" if "software that differs" not in table else
                                        ", with other software versions")]
