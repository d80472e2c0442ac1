"""Score a labelled file with a finished run's saved model and assess it (``mlstat evaluate``).

A run's figures come from its own test split, which changes whenever the training file does;
a coding office compares the models of successive cycles, or audits one, on a fixed labelled
file instead. Evaluation reads that file with the run's own loader settings (another file
given with ``--input`` or ``--set loader.KEY=VALUE``), scores every record with the saved
model (its hashes checked, nothing trained), runs the run's indicators on all of them and
writes an evaluation folder like a run folder (manifest, predictions, outputs, report), so
that ``mlstat compare`` ranks evaluations of several models on the same records.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlstat_core.artifacts import RunFolder, model_files, records_fingerprint
from mlstat_core.builtins.loaders import code_columns
from mlstat_core.components import Dataset, Model
from mlstat_core.config import PipelineConfig, load_config
from mlstat_core.engine import (
    Progress,
    Runner,
    RunResult,
    check_out_argument,
    check_out_dir,
    check_target_values,
    config_warnings,
    prediction_frame,
    sigterm_as_interrupt,
)
from mlstat_core.errors import (
    ConfigError,
    ConfigIssue,
    DataError,
    TrainingDataWarning,
    listed,
    value_kind,
)
from mlstat_core.inputs import home_path
from mlstat_core.io import first_record, quoted, resolve_path
from mlstat_core.registry import Registry, get_registry

LABELS_SHOWN = 5
"""Most unseen classes a warning names before it counts the rest."""


class Evaluator(Runner):
    """One evaluation: the run's loader on the labelled file, the saved model, the run's
    indicators."""

    folder_name_suffix = "-evaluation"
    ignored_warnings = (TrainingDataWarning,)  # the file only tests the model

    def __init__(self, config: PipelineConfig, source: RunFolder, model: Model,
                 out: str | Path | None, registry: Registry, progress: Progress | None) -> None:
        super().__init__(config, out, registry, progress)
        self.source = source
        self.model = model

    def manifest_fields(self) -> dict[str, Any]:
        fields = super().manifest_fields()
        fields["components"].pop("split", None)  # every record is scored
        manifest = self.source.manifest
        fields["evaluates"] = {
            "run_id": manifest.get("run_id"), "run_dir": str(self.source.path.resolve()),
            "model_files": model_files(manifest.get("files") or {})}
        return fields

    def _steps(self, folder: RunFolder) -> RunResult:
        cfg = self.config
        dataset: Dataset = self.step("load", self._load,
                                     lambda d: f"{len(d):,} records from {d.name}", cfg.loader)
        self._check_labelled(dataset)
        fingerprints = self._record_inputs(folder, dataset)
        trained_on = self._warn_if_trained_on(fingerprints) or self._learnt_records(dataset)
        if trained_on:  # for mlstat compare, which ranks no such evaluation
            folder.manifest["evaluates"]["read_in_training"] = trained_on
        model = self.model
        scorer = self.build_engine()  # as a run does: the predict step times scoring only
        predicted = self.step(
            "predict", lambda: self._predict(scorer, model, dataset, cfg.file.predict.chunk_size),
            lambda p: f"{len(p):,} records with the model of {self.source.path.name}", cfg.model)
        everything = np.arange(len(dataset))
        predictions = prediction_frame(dataset, everything, predicted, None,
                                       self.model_label)  # every record a test record
        return self._assess_and_persist(folder, model, dataset, dataset, predictions,
                                        fingerprints, train=dataset.subset(everything[:0]),
                                        held_out=True, refit=None)

    def test_records(self, test: Dataset) -> dict[str, Any]:
        """Rows and true values of the file: the same file gives the same fingerprint whether
        or not the run's loader declared an id column, so evaluations of runs that differ in
        that way are still ranked."""
        return records_fingerprint(test.frame, [test.roles.target], by_row=True)

    def _save_trained(self, folder: RunFolder, model: Model, dataset: Dataset,
                      learnt: pd.DataFrame | None = None) -> None:
        """Nothing: the model stays in the run it came from (``evaluates`` in the manifest)."""

    def _check_labelled(self, dataset: Dataset) -> None:
        """The file holds true values for every record, in the model's target column."""
        if not len(dataset):
            raise DataError(f"{dataset.name} holds no records to evaluate the model on")
        target = dataset.roles.target
        if not target:  # the loader checked that a declared column is there
            raise DataError(
                f"{dataset.name} gives no true values (no target column): evaluation compares "
                "the model's predictions with them; to score records without true values, "
                "use mlstat predict")
        with self.recording("load"):
            check_target_values(dataset, self.config)
        if "classification" in self.config.task.tags:
            self._check_labels(dataset)
            return
        bad = pd.to_numeric(dataset.y, errors="coerce").isna() & dataset.y.notna()
        if bad.any():
            raise DataError(
                f"column {target!r} of {dataset.name} holds values that are not numbers "
                f"({quoted(dataset.y[bad].iloc[0])} at "
                f"{first_record(dataset.frame, bad, dataset.roles.id)}), but the model "
                f"predicts numbers ({self.config.task.name}); give the true values as "
                "numbers, without units or thousands separators")

    def _check_labels(self, dataset: Dataset) -> None:
        """True classes the model cannot predict: a warning with their counts, or one error
        when none of the file's classes is the model's (another column, or names for codes)."""
        from mlstat_core.predict import unseen_labels

        model = self.model
        if model.roles is None or not model.roles.target:
            return
        unseen = unseen_labels(pd.DataFrame({model.roles.target: dataset.y}), model)
        if not unseen:
            return
        records = sum(unseen.values())
        shown = listed([f"{quoted(label)} ({n:,})" for label, n in
                        sorted(unseen.items(), key=lambda item: -item[1])], LABELS_SHOWN)
        if records == int(dataset.y.notna().sum()):
            raise DataError(
                f"none of the true values in column {dataset.roles.target!r} of "
                f"{dataset.name} is a class of the model ({shown}; the model's are e.g. "
                f"{', '.join(quoted(c) for c in list(model.classes_ or [])[:3])}): check "
                "that the column holds the codes the model was trained on")
        self.warnings.append(
            f"evaluate: {records:,} of {len(dataset):,} records carry {len(unseen)} "
            f"class(es) the model never saw in training, which it cannot predict: {shown}; "
            "they count as errors")

    def _warn_if_trained_on(self, fingerprints: dict[str, str]) -> list[str]:
        """The labelled file (the loader's ``path``) is one the run read in training: its
        figures are on records the model learned from (a warning; returned, the files). Other
        files the loader reads, such as a code list, are the run's as a matter of course."""
        path = getattr(self.config.loader.params, "path", None)
        labelled = {str(resolve_path(path, self.config.base_dir).resolve())} if path else set()
        trained = set((self.source.manifest.get("inputs") or {}).values())
        same = [name for name, digest in fingerprints.items()
                if digest in trained and (not labelled or str(Path(name).resolve()) in labelled)]
        if same:
            self.warnings.append(
                f"evaluate: {', '.join(same)} is a file the run {self.source.path.name} read "
                "in training: most of its records were learned from, so these figures "
                "overstate the model's accuracy; evaluate on records kept out of training")
        return same

    def _learnt_records(self, dataset: Dataset) -> list[str]:
        """Records of another file that the model learnt from (a superset of the training
        file, an audit sample drawn from it), by id, else by values: a warning beyond
        :data:`LEARNT_SHARE`; returned, the file, for ``mlstat compare``."""
        from mlstat_core import training_records

        found = training_records.overlap(
            self.source.path / training_records.TRAINING_RECORDS, dataset.frame,
            self.model.roles or dataset.roles, code_columns(dataset))
        if found is None or not found[1]:
            return []
        by, count = found
        share = count / len(dataset)
        if share <= LEARNT_SHARE[by]:
            return []
        how = "repeat the id, every input column and the true value of" if by == "ids" else \
            "repeat, in every input column and the true value,"
        self.warnings.append(
            f"evaluate: {count:,} of the {len(dataset):,} records of {dataset.name} ({share:.0%}) "
            f"{how} a record the run {self.source.path.name} learnt from: these figures "
            "overstate the model's accuracy on new records, and mlstat compare ranks no such "
            "evaluation; evaluate on records kept out of training")
        return [dataset.name]


LEARNT_SHARE = {"ids": 0.0, "values": 0.5}
"""Beyond this share of the file's records found among those the model learnt from (by id
and values, or by values alone where there are no ids: identical records occur by chance, a
product name with its code say), the evaluation is taken as one on training records: warned
of, and not ranked by ``mlstat compare``."""


SUPPORTED = "runs whose task has a target (classification or regression of tables or texts)"
OPTIONS = {"input_file": "--input", "overrides": "--set", "out": "--out"}
"""evaluate()'s arguments -> the ``mlstat evaluate`` options that give them."""


def _named(argument: str, cli: bool) -> str:
    """An argument as the caller names it: the command's option with ``cli``."""
    return OPTIONS[argument] if cli else argument


def evaluate(
    run_dir: str | Path,
    input_file: str | Path | None = None,
    overrides: list[str] | str | None = None,
    out: str | Path | None = None,
    progress: Progress | None = None,
    registry: Registry | None = None,
    cli: bool = False,
) -> RunResult:
    """Score a labelled file with the saved model of the run in ``run_dir`` and assess the
    predictions with the run's indicators; return the evaluation (an evaluation folder in
    ``out``, by default the folder that holds the run).

    ``input_file`` replaces the ``path`` of the run's loader (relative to the current
    folder); ``overrides`` (``section.key=value`` strings) change any other setting of the
    run's pipeline, such as the loader of a built-in data set. Raises MlstatError on user
    mistakes."""
    from mlstat_core.predict import check_path_argument, load_model

    registry = registry or get_registry()
    check_out_argument(out, cli)
    check_path_argument(run_dir, "run_dir", cli)
    if input_file is not None and not isinstance(input_file, str | os.PathLike):
        raise DataError(f"{_named('input_file', cli)} is {value_kind(input_file)}; "
                        "give the path of a labelled file (CSV, Parquet or Excel)")
    source, model, _factory, _steps = load_model(run_dir, registry)
    require_manifest_fields(source)
    task = registry.task(str(source.manifest.get("task")))
    if not task.needs_target or "raster" in task.tags:
        raise ConfigError(f"run {source.path.name} is a {task.name!r} run; mlstat evaluate "
                          f"assesses {SUPPORTED}")
    settings = _overrides(source, input_file, overrides, registry, cli)
    with config_warnings() as caught:
        try:
            config = load_config(source.path / "config.toml", settings, registry, cli=cli,
                                 how=None if input_file is None else _set_advice(cli))
        except ConfigError as exc:
            if input_file is None:
                raise
            raise _input_mismatch(exc, home_path(input_file).resolve(), cli,
                                  overrides) or exc from None
        runner = Evaluator(config, source, model,
                           out if out is not None else source.path.parent, registry, progress)
        check_out_dir(runner.out_dir, out, config.source, cli,
                      default="the folder the evaluated run lies in")
    runner.keep_warnings("config", caught)  # a loader setting --set replaced, say
    with sigterm_as_interrupt():
        return runner.execute()


def _set_advice(cli: bool) -> Callable[[str, str], str]:
    """How the user of evaluate sets a reading option of the loader (the ``how`` of the
    input files' checks): an override (``pass --set loader.sep=";"``), not the run's
    config.toml, which is not what to mend."""
    overrides = _named("overrides", cli)
    return lambda option, example: f"pass {overrides} loader.{option}={json.dumps(example)}"


def _set_keys(overrides: list[str] | str | None, cli: bool) -> set[str]:
    """The settings the user's overrides give (``loader.target``)."""
    from mlstat_core.config import parse_override

    given = [overrides] if isinstance(overrides, str) else list(overrides or [])
    return {".".join(parse_override(item, cli)[0]) for item in given}


def _input_mismatch(exc: ConfigError, path: Path, cli: bool,
                    overrides: list[str] | str | None) -> ConfigError | None:
    """The run's configuration refused only for what the labelled file given (``path``)
    holds (the loader's input checks, issues marked ``in_file``: a column its header lacks):
    each issue said of that file, or of the override that gave the setting (a misspelt
    ``--set loader.target=chidren`` is the override's problem), not of the run's
    config.toml, which is not what to mend. None for any other refusal."""
    if not exc.issues or not all(issue.in_file and issue.field.startswith("loader.")
                                 for issue in exc.issues):
        return None  # the overrides are parsed only then: a malformed one is refused as it is
    set_keys = _set_keys(overrides, cli)
    given, by_set = _named("input_file", cli), _named("overrides", cli)
    issues = [ConfigIssue(by_set if issue.field in set_keys else given, issue.field,
                          issue.message, issue.suggestion, in_file=True)
              for issue in exc.issues]
    from_set = sum(issue.file == by_set for issue in issues)
    if not from_set:
        fits = "the run's loader"
    elif from_set == len(issues):
        fits = f"the setting(s) given with {by_set}"
    else:
        fits = f"the run's loader and the setting(s) given with {by_set}"
    return ConfigError(f"the labelled file given with {given} ({path}) does not fit "
                       f"{fits}: {len(issues)} problem(s)", issues)


def require_manifest_fields(source: RunFolder) -> None:
    """A DataError naming what an evaluation reads from the run's manifest (its task, its
    loader) and the manifest lacks: a damaged or hand-edited manifest."""
    components = source.manifest.get("components")
    missing = [field for field, value in (
        ("task", source.manifest.get("task")),
        ("components.loader", components.get("loader") if isinstance(components, dict)
         else None)) if not isinstance(value, str) or not value]
    if missing:
        raise DataError(f"{source.path / 'manifest.json'} has no {' and no '.join(missing)}: "
                        "the manifest is damaged or was edited; take the run folder again "
                        "from where it was made, or rerun the pipeline")


def _overrides(source: RunFolder, input_file: str | Path | None,
               overrides: list[str] | str | None, registry: Registry, cli: bool) -> list[str]:
    """The settings changed for the evaluation: ``loader.path`` for the input file, then the
    overrides given."""
    from mlstat_core.config import parse_override

    given = [overrides] if isinstance(overrides, str) else list(overrides or [])
    if input_file is None:
        if not given:
            raise ConfigError(f"give the labelled file to evaluate on "
                              f"({_named('input_file', cli)} FILE), or the loader settings "
                              f"that read it ({_named('overrides', cli)} loader.KEY=VALUE)")
        return given
    loader = (source.manifest.get("components") or {}).get("loader")
    for item in given:
        key, value = parse_override(item, cli)
        if key == ["loader", "component"]:
            loader = value
    entry = registry.get("loader", str(loader))
    if "path" not in entry.spec.params.model_fields:
        raise ConfigError(
            f"the run's loader {loader} reads no file of yours (it has no `path` setting), so "
            f"{_named('input_file', cli)} has nowhere to go; name a loader that reads your "
            f"file, e.g. {_named('overrides', cli)} loader.component=core.table "
            "with its settings, as the run's pipeline would")
    path = home_path(input_file)
    if not path.is_file():
        raise DataError(f"{path} does not exist or is not a file; give the labelled file to "
                        "evaluate on")
    return [*given, f"loader.path={json.dumps(str(path.resolve()))}"]
