"""`mlstat predict` keeps evidence safe and reads new records the way training read them:
the input and run folders are never overwritten, predictions do not depend on the chunk
size, ids keep their leading zeros, unlisted or edited model files are refused, and every
mistake is one message with exit code 2."""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import shutil
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import mlstat_core
from mlstat_core.artifacts import (
    MANIFEST,
    RunFolder,
    atomic_write_text,
    load_tensors,
    sha256_file,
)
from mlstat_core.cli import main
from mlstat_core.errors import DataError, IntegrityError, PluginError
from mlstat_core.io import TableWriter, as_text, iter_table, read_table
from mlstat_core.predict import (
    DuplicateIds,
    VersionWarning,
    load_model,
    predict_file,
    read_dtypes,
)


def invoke(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def training_frame(records: int = 160, seed: int = 0) -> pd.DataFrame:
    """Ids with leading zeros, a category whose codes look like numbers but one (``X``),
    and a target that follows the category."""
    rng = np.random.default_rng(seed)
    code = np.array(["1", "2", "3", "X"])[np.arange(records) % 4]
    y = np.where(np.isin(code, ["1", "3"]), "a", "b")
    flip = rng.random(records) < 0.1
    y = np.where(flip, np.where(y == "a", "b", "a"), y)
    return pd.DataFrame({"id": [f"{i:05d}" for i in range(records)], "code": code,
                         "num": rng.normal(size=records).round(3), "y": y})


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A finished run of core.logistic_regression on :func:`training_frame`."""
    base = tmp_path_factory.mktemp("trained")
    training_frame().to_csv(base / "train.csv", index=False)
    config = {
        "pipeline": {"name": "safety", "task": "tabular_classification", "seed": 0},
        "loader": {"component": "core.table", "path": str(base / "train.csv"), "target": "y",
                   "id": "id", "features": ["code", "num"]},
        "split": {"component": "core.stratified", "test_size": 0.25},
        "model": {"component": "core.logistic_regression"},
        "indicators": ["core.classification_accuracy"],
        "output": {"dir": str(base / "runs")},
    }
    return mlstat_core.run(config).run_dir


@pytest.fixture
def run_copy(trained: Path, tmp_path: Path) -> Path:
    """A copy of the trained run, free to damage."""
    return Path(shutil.copytree(trained, tmp_path / "run"))


def new_records(path: Path) -> Path:
    """20 new records; the first 8 hold only the codes 1, 2 and 3."""
    codes = ["1", "2", "3", "1", "2", "3", "3", "1"] + ["X", "1", "2", "3"] * 3
    frame = pd.DataFrame({"id": [f"{i:05d}" for i in range(20)], "code": codes,
                          "num": np.linspace(-1, 1, 20).round(3)})
    frame.to_csv(path, index=False)
    return path


def edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def rehash(run: Path, relative: str) -> None:
    """Record a changed file's SHA-256 in the manifest, as a careful forger would."""
    edit_json(run / MANIFEST, lambda m: m["files"].__setitem__(relative,
                                                               sha256_file(run / relative)))


# --- D1: the output never destroys the input or a run's evidence ----------------------------


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_output_equal_to_the_input_is_refused(trained, tmp_path, monkeypatch, suffix):
    monkeypatch.chdir(tmp_path)
    source = new_records(tmp_path / "same.csv")
    if suffix == ".parquet":
        pd.read_csv(source, dtype=str).to_parquet(tmp_path / "same.parquet")
        source = tmp_path / "same.parquet"
    before = source.read_bytes()
    result = invoke("predict", trained, "--input", source.name, "--output", f"./{source.name}")
    assert result.exit_code == 2
    assert "is the input file" in result.output and "Traceback" not in result.output
    assert source.read_bytes() == before


@pytest.mark.parametrize("target", ["predictions.parquet", "model/scores.csv", "scored.csv"])
def test_output_inside_a_run_folder_is_refused(run_copy, tmp_path, target):
    source = new_records(tmp_path / "new.csv")
    evidence = {p: p.read_bytes() for p in run_copy.rglob("*") if p.is_file()}
    result = invoke("predict", run_copy, "--input", source, "--output", run_copy / target)
    assert result.exit_code == 2
    assert "inside the run folder" in result.output
    assert {p: p.read_bytes() for p in run_copy.rglob("*") if p.is_file()} == evidence


def test_an_existing_output_is_replaced(trained, tmp_path):
    source = new_records(tmp_path / "new.csv")
    (tmp_path / "scored.csv").write_text("yesterday's predictions\n")
    assert invoke("predict", trained, "--input", source, "--output",
                  tmp_path / "scored.csv").exit_code == 0
    assert len(pd.read_csv(tmp_path / "scored.csv")) == 20


# --- D2: predictions do not depend on the chunk size -----------------------------------------


def test_predictions_are_the_same_for_every_chunk_size(trained, tmp_path):
    source = new_records(tmp_path / "new.csv")
    outputs = {}
    for size in (4, 10_000):
        out = tmp_path / f"chunk{size}.csv"
        predict_file(trained, source, out, chunk_size=size)
        outputs[size] = pd.read_csv(out, dtype={"record_id": str})
    pd.testing.assert_frame_equal(outputs[4], outputs[10_000])
    # a Parquet file whose codes are integers is read as the same text
    frame = pd.read_csv(source, dtype={"id": str})
    frame.to_parquet(tmp_path / "new.parquet")
    predict_file(trained, tmp_path / "new.parquet", tmp_path / "pq.csv", chunk_size=4)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "pq.csv", dtype={"record_id": str}),
                                  outputs[10_000])


def test_the_model_remembers_its_text_columns(trained):
    _folder, model, _factory, _steps = load_model(trained)
    assert model.text_columns == ["code"]


def test_iter_table_reads_text_columns_as_text_in_every_chunk(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"code": ["1", "2", "X", "007"], "n": [1, 2, 3, 4]}).to_csv(path, index=False)
    chunks = list(iter_table(path, 2, dtype={"code": str, "absent": str}))
    assert [list(c["code"]) for c in chunks] == [["1", "2"], ["X", "007"]]
    assert as_text(pd.Series([1.0, 2.5, None, 3])).tolist()[:2] == ["1", "2.5"]


# --- D3 and D5: ids are text; Parquet outputs of mixed ids ---------------------------------


@pytest.mark.parametrize("chunk_size", [1, 2, 50_000])
def test_a_blank_line_in_a_one_column_file_is_a_record_and_numbers_do_not_shift(tmp_path,
                                                                                 chunk_size):
    (tmp_path / "one.csv").write_text('product\nMleko 1l\n\nChleb\n""\nMasło\n\n\n',
                                      encoding="utf-8")
    chunks = list(iter_table(tmp_path / "one.csv", chunk_size))
    frame = pd.concat(chunks)
    # the gap and the quoted empty value are records; the blank lines ending the file are not
    assert frame.index.tolist() == [0, 1, 2, 3, 4]
    assert frame["product"].tolist()[::2] == ["Mleko 1l", "Chleb", "Masło"]
    assert frame["product"].iloc[[1, 3]].isna().all()
    # with several columns a blank line holds no fields: not a record, as before
    (tmp_path / "two.csv").write_text("a,b\n1,2\n\n3,4\n", encoding="utf-8")
    assert pd.concat(iter_table(tmp_path / "two.csv", chunk_size))["a"].tolist() == [1, 3]


def test_new_files_are_read_with_the_trained_loaders_na_values_and_decimal(budget_csv,
                                                                           tmp_path):
    data = pd.read_csv(budget_csv)
    data["income"] = data["income"].astype(object)
    data.loc[3, "income"] = ".."
    data.to_csv(tmp_path / "semi.csv", sep=";", decimal=",", index=False)
    run = mlstat_core.run({
        "pipeline": {"name": "commas", "task": "tabular_classification", "seed": 0},
        "loader": {"component": "core.table", "path": str(tmp_path / "semi.csv"),
                   "target": "children", "sep": ";", "decimal": ",", "na_values": [".."]},
        "model": {"component": "core.logistic_regression"},
        "indicators": ["core.classification_accuracy"]}, out=tmp_path / "runs")
    new = data.drop(columns="children").head(20)
    new.to_csv(tmp_path / "new.csv", sep=";", decimal=",", index=False)
    summary = predict_file(run.run_dir, tmp_path / "new.csv", tmp_path / "out.csv")
    assert summary.records == 20
    # the same as scoring the values themselves: 0,4272 is 0.4272 and '..' is missing
    expected = load_model(run.run_dir)[1].predict(
        new.assign(income=pd.to_numeric(new["income"], errors="coerce")))
    written = pd.read_csv(tmp_path / "out.csv")
    assert written["prediction"].tolist() == expected["prediction"].tolist()


def test_an_excel_input_is_read_with_the_trained_decimal_and_na_values(tmp_path):
    pd.DataFrame({"x": ["0,5", "..", "2,25"]}).to_excel(tmp_path / "new.xlsx", index=False)
    (chunk,) = iter_table(tmp_path / "new.xlsx", decimal=",", na_values=[".."])
    assert chunk["x"].tolist()[::2] == [0.5, 2.25] and pd.isna(chunk["x"].iloc[1])


def test_ids_keep_their_leading_zeros(trained, tmp_path):
    source = new_records(tmp_path / "new.csv")
    result = invoke("predict", trained, "--input", source, "--output", tmp_path / "s.csv",
                    "--id-column", "id")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "s.csv").read_text().splitlines()[1].startswith("00000,")


def test_mixed_ids_in_chunks_of_one_make_a_parquet_output(trained, tmp_path):
    frame = pd.read_csv(new_records(tmp_path / "new.csv"), dtype=str)
    frame["id"] = [str(i) for i in range(10)] + [f"A{i}" for i in range(10)]
    frame.to_csv(tmp_path / "mixed.csv", index=False)
    result = invoke("predict", trained, "--input", tmp_path / "mixed.csv", "--output",
                    tmp_path / "s.parquet", "--chunk-size", "1")
    assert result.exit_code == 0, result.output
    assert pd.read_parquet(tmp_path / "s.parquet")["record_id"].tolist() == list(frame["id"])


def test_a_later_chunk_that_needs_text_turns_the_column_into_text(tmp_path):
    writer = TableWriter(tmp_path / "out.parquet")
    writer.write(pd.DataFrame({"record_id": [1, 2], "p": [0.5, 0.25]}))
    writer.write(pd.DataFrame({"record_id": ["A3"], "p": [0.75]}))
    writer.write(pd.DataFrame({"record_id": [4], "p": [1.0]}))
    writer.close()
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert out["record_id"].tolist() == ["1", "2", "A3", "4"]
    assert out["p"].tolist() == [0.5, 0.25, 0.75, 1.0]
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]


# --- D4 and D5: every model file and the profile are listed and match --------------------


def test_a_model_file_missing_from_the_manifest_is_refused(run_copy, tmp_path):
    edit_json(run_copy / MANIFEST, lambda m: m["files"].pop("model/state.json"))
    edit_json(run_copy / "model" / "state.json", lambda s: s.__setitem__("classes", ["X", "Y"]))
    with pytest.raises(IntegrityError, match="state.json is not listed"):
        mlstat_core.load_run(run_copy).verify()
    result = invoke("predict", run_copy, "--input", new_records(tmp_path / "n.csv"),
                    "--output", tmp_path / "s.csv")
    assert result.exit_code == 2 and "state.json is not listed" in result.output
    assert not (tmp_path / "s.csv").exists()


def test_an_injected_preprocess_file_is_refused(run_copy, tmp_path):
    (run_copy / "model" / "preprocess.json").write_text('{"steps": ["twitter.normalise"]}')
    result = invoke("predict", run_copy, "--input", new_records(tmp_path / "n.csv"),
                    "--output", tmp_path / "s.csv")
    assert result.exit_code == 2 and "preprocess.json is not listed" in result.output


def test_the_profile_is_checked_like_the_model(run_copy, tmp_path):
    (run_copy / "profile.json").write_text('{"columns": 5}')
    with pytest.raises(IntegrityError, match="profile.json does not match"):
        mlstat_core.load_run(run_copy).verify()
    edit_json(run_copy / MANIFEST, lambda m: m["files"].pop("profile.json"))
    with pytest.raises(IntegrityError, match="profile.json is not listed"):
        mlstat_core.load_run(run_copy).verify()


@pytest.mark.parametrize("text", ["nope", '{"version": 1, "columns": 5}',
                                  '{"version": 1, "columns": {"num": {"kind": "numeric"}}}'])
def test_a_damaged_profile_is_one_message(run_copy, tmp_path, text):
    (run_copy / "profile.json").write_text(text)
    rehash(run_copy, "profile.json")
    result = invoke("predict", run_copy, "--input", new_records(tmp_path / "n.csv"),
                    "--output", tmp_path / "s.csv")
    assert result.exit_code == 2
    assert "the run folder is damaged" in result.output and "profile.json" in result.output


def test_classes_of_the_state_must_be_the_estimators(run_copy, tmp_path):
    edit_json(run_copy / "model" / "state.json", lambda s: s.__setitem__("classes", ["X", "Y"]))
    rehash(run_copy, "model/state.json")
    with pytest.raises(IntegrityError, match="not those of the fitted estimator"):
        load_model(run_copy)


def test_a_model_made_with_other_versions_warns_naming_them(trained, run_copy):
    edit_json(run_copy / MANIFEST, lambda m: m["environment"]["packages"].__setitem__(
        "scikit-learn", "0.20.0"))
    with pytest.warns(VersionWarning, match=r"other versions than those installed "
                      r"\(scikit-learn 0\.20\.0 -> \d[^)]*\): its model may score differently"):
        load_model(run_copy)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the versions it was made with: no warning
        load_model(trained)


def broken_skops() -> bytes:
    """A zip file with a skops schema that no skops version can read back."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("schema.json", json.dumps({"__class__": "X", "protocol": 2}))
    return buffer.getvalue()


def test_a_damaged_model_file_that_passes_its_hash_check_is_not_blamed_on_its_author(
        run_copy, tmp_path):
    skops = run_copy / "model" / "estimator.skops"
    skops.write_bytes(skops.read_bytes()[:200])  # cut short, then hashed again
    rehash(run_copy, "model/estimator.skops")
    with pytest.raises(IntegrityError, match=r"estimator.skops is not a skops file; .*was it "
                       r"replaced after the run\? .*rerun the pipeline"):
        load_model(run_copy)
    skops.write_bytes(broken_skops())  # a skops file, but not one this skops can read
    rehash(run_copy, "model/estimator.skops")
    with pytest.raises(PluginError, match=r"step load: .*pass their hash check but could not be "
                       r"read back: if the run folder's files were changed after the run"):
        load_model(run_copy)
    edit_json(run_copy / MANIFEST, lambda m: m["environment"]["packages"].__setitem__(
        "skops", "0.1.0"))
    with pytest.raises(PluginError, match=r"other versions than those installed \(skops 0\.1\.0 "
                       r"-> [^)]*\); install those versions, or rerun the pipeline"):
        load_model(run_copy)


@pytest.mark.parametrize("manifest", ["[]", "files-list", "model-list"])
def test_a_damaged_manifest_is_one_message(run_copy, tmp_path, manifest):
    path = run_copy / MANIFEST
    if manifest == "[]":
        path.write_text("[]")
    elif manifest == "files-list":
        edit_json(path, lambda m: m.__setitem__("files", []))
    else:
        edit_json(path, lambda m: m.__setitem__("model", ["core.logistic_regression"]))
    result = invoke("predict", run_copy, "--input", new_records(tmp_path / "n.csv"),
                    "--output", tmp_path / "s.csv")
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: ") and len(result.output.splitlines()) == 1


# --- run folders received from elsewhere: tampered, forged, incomplete ---------------------


class RunsCode:
    """Unpickling this runs ``os.mkdir(marker)``: what a forged model file could do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


class OwnClass:
    """A class of the user's own module: no model of mlstat's holds one."""

    def __init__(self) -> None:
        self.value = 1


def predict_output(run: Path, tmp_path: Path):
    return invoke("predict", run, "--input", new_records(tmp_path / "n.csv"),
                  "--output", tmp_path / "s.csv")


def test_a_pickle_put_in_place_of_the_model_runs_no_code_even_with_a_forged_hash(
        run_copy, tmp_path):
    marker = tmp_path / "code-ran"
    (run_copy / "model" / "estimator.skops").write_bytes(pickle.dumps(RunsCode(marker)))
    result = predict_output(run_copy, tmp_path)
    assert result.exit_code == 2 and "does not match the SHA-256" in result.output
    rehash(run_copy, "model/estimator.skops")  # the forger rewrites the manifest too
    result = predict_output(run_copy, tmp_path)
    assert result.exit_code == 2, result.output
    assert len(result.output.splitlines()) == 1 and "Traceback" not in result.output
    assert "estimator.skops is a Python pickle, which mlstat never reads" in result.output
    assert "rerun the pipeline" in result.output
    assert not marker.exists() and not (tmp_path / "s.csv").exists()


def test_a_skops_file_holding_an_untrusted_type_is_refused_even_with_a_forged_hash(
        run_copy, tmp_path):
    from mlstat_core.artifacts import _skops_io

    (run_copy / "model" / "estimator.skops").write_bytes(
        _skops_io().dumps({"estimator": OwnClass(), "call": os.system}))
    rehash(run_copy, "model/estimator.skops")
    result = predict_output(run_copy, tmp_path)
    assert result.exit_code == 2, result.output
    assert "contains types that are not trusted" in result.output
    assert "OwnClass" in result.output and "system" in result.output
    assert "rerun the pipeline" in result.output and not (tmp_path / "s.csv").exists()


def test_a_torch_save_file_in_place_of_safetensors_is_refused_unread(tmp_path):
    torch = pytest.importorskip("torch")
    marker = tmp_path / "code-ran"
    weights = tmp_path / "weights.safetensors"
    torch.save({"w": RunsCode(marker)}, weights)
    with pytest.raises(IntegrityError, match=r"weights.safetensors is a torch.save file, a "
                       r"Python pickle, which mlstat never reads"):
        load_tensors(weights)
    weights.write_bytes(b"")
    with pytest.raises(IntegrityError, match="weights.safetensors is empty"):
        load_tensors(weights)
    assert not marker.exists()


@pytest.mark.parametrize("damage", ["edited", "deleted"])
def test_the_config_read_at_prediction_time_is_checked_like_the_model(
        run_copy, tmp_path, damage):
    config = run_copy / "config.toml"
    if damage == "edited":  # would read new files with a decimal comma
        config.write_text(config.read_text().replace("[loader]\n", '[loader]\ndecimal = ","\n'))
    else:
        config.unlink()
    result = predict_output(run_copy, tmp_path)
    assert result.exit_code == 2, result.output
    assert "config.toml" in result.output and "rerun the pipeline" in result.output
    assert not (tmp_path / "s.csv").exists()


@pytest.mark.parametrize("where", ["model/estimator.skops", "model"])
def test_a_symbolic_link_in_place_of_the_model_is_refused(run_copy, tmp_path, where):
    real = tmp_path / "elsewhere"
    shutil.move(run_copy / where, real)
    (run_copy / where).symlink_to(real)  # same bytes, but writable by whoever owns the target
    result = predict_output(run_copy, tmp_path)
    assert result.exit_code == 2, result.output
    assert f"{where} is a symbolic link" in result.output
    assert "cp --dereference" in result.output and not (tmp_path / "s.csv").exists()


@pytest.mark.parametrize("name", ["model/../../outside.txt", "model/x/../../../outside.txt"])
def test_a_manifest_naming_a_file_outside_the_run_is_refused_unread(run_copy, tmp_path, name):
    """A forged manifest listed model/../../etc/passwd with its hash: the file was read,
    matched, and the run scored; with a wrong hash the message quoted the file's own."""
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    digest = hashlib.sha256(b"secret").hexdigest()
    edit_json(run_copy / MANIFEST, lambda m: m["files"].update({name: "0" * 64}))
    result = predict_output(run_copy, tmp_path)
    assert result.exit_code == 2, result.output
    assert f"lists {name!r}, which is not a file of the run folder" in result.output
    assert digest[:12] not in result.output and not (tmp_path / "s.csv").exists()


def test_a_name_out_of_the_run_is_refused_before_any_folder_is_walked(run_copy, tmp_path):
    """mlstat compare checks every model/ entry: a link found by walking model/../../secret
    was quoted with its target (os.readlink) before the name was checked."""
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key").symlink_to("/etc/hostname")
    folder = RunFolder.open(run_copy)
    with pytest.raises(IntegrityError, match="which is not a file of the run folder") as info:
        folder.check_files("model/../../secret")
    assert "/etc/hostname" not in str(info.value)


def test_a_report_that_is_a_link_out_of_the_run_is_refused_listed_or_not(run_copy, tmp_path):
    """mlstat report rebuilt report.html from a report.json linked to a file elsewhere when
    the manifest did not list it."""
    from mlstat_core.report.build import rebuild_report

    outside = tmp_path / "elsewhere.json"
    shutil.copy(run_copy / "report.json", outside)
    (run_copy / "report.json").unlink()
    (run_copy / "report.json").symlink_to(outside)
    edit_json(run_copy / MANIFEST, lambda m: m["files"].pop("report.json"))
    with pytest.raises(IntegrityError, match="report.json is a symbolic link"):
        rebuild_report(run_copy)


def test_a_manifest_of_a_newer_layout_names_the_version_to_install(run_copy, tmp_path):
    def newer(manifest: dict) -> None:
        manifest["schema_version"] = 99
        manifest["environment"]["mlstat_core"] = "9.1.0"

    edit_json(run_copy / MANIFEST, newer)
    with pytest.raises(DataError, match=r"written by mlstat-core 9\.1\.0 in manifest layout 99"
                       r".*pip install 'mlstat-core==9\.1\.0'"):
        mlstat_core.load_run(run_copy)
    result = predict_output(run_copy, tmp_path)
    assert result.exit_code == 2 and "manifest layout 99" in result.output


@pytest.mark.parametrize("field", ["status", "files"])
def test_a_manifest_without_its_status_or_files_says_it_is_damaged(run_copy, tmp_path, field):
    edit_json(run_copy / MANIFEST, lambda m: m.pop(field))
    result = predict_output(run_copy, tmp_path)
    assert result.exit_code == 2, result.output
    assert "manifest.json" in result.output and "rerun the pipeline" in result.output
    assert "None" not in result.output


def test_a_model_file_listed_but_missing_says_the_folder_is_incomplete(run_copy, tmp_path):
    (run_copy / "model" / "state.json").unlink()
    result = predict_output(run_copy, tmp_path)
    assert result.exit_code == 2, result.output
    assert "state.json is listed in" in result.output
    assert "copy the whole run folder again" in result.output


def test_model_files_shipped_to_workers_are_checked_again(run_copy, tmp_path):
    from mlstat_core.predict import ScoringJob

    folder, model, factory, _steps = load_model(run_copy)
    job = ScoringJob(folder, model, factory, "in.csv", tmp_path / "s.parquet")
    assert set(job.model_files()) == {"estimator.skops", "state.json"}
    skops = run_copy / "model" / "estimator.skops"  # swapped after the check, before shipping
    skops.write_bytes(skops.read_bytes()[:-1] + b"x")
    with pytest.raises(IntegrityError, match=r"estimator.skops changed while it was being "
                       r"scored"):
        job.model_files()


def test_a_failed_run_copied_in_has_no_model_to_score_and_says_what_to_do(run_copy, tmp_path):
    def failed(manifest: dict) -> None:
        manifest["status"] = "failed"
        manifest["error"] = "interrupted (SIGTERM)"

    edit_json(run_copy / MANIFEST, failed)
    result = predict_output(run_copy, tmp_path)
    assert result.exit_code == 2, result.output
    assert "did not succeed (status 'failed': interrupted (SIGTERM)); it has no usable " \
        "model: rerun the pipeline" in result.output  # nothing to fix: it was stopped


def test_a_report_json_edited_after_the_run_is_refused_by_check_files(run_copy):
    folder = mlstat_core.load_run(run_copy)
    folder.check_files("report.json", "not-listed.txt")  # as written: nothing to say
    edit_json(run_copy / "report.json", lambda r: r.__setitem__("edited", True))
    with pytest.raises(IntegrityError, match=r"report.json does not match the SHA-256"):
        folder.check_files("report.json")


def test_report_and_compare_refuse_a_run_whose_figures_or_model_were_edited(run_copy, trained):
    """`mlstat report` would rebuild an edited report.json and fingerprint it as original, and
    `mlstat compare` rank its figures or say a changed model reproduced the training."""
    runner = CliRunner()
    refused = runner.invoke(main, ["compare", str(trained), str(run_copy)])
    assert refused.exit_code == 2 and "are the same run" in refused.output  # a copy, intact
    report = run_copy / "report.json"
    original = report.read_bytes()
    edit_json(report, lambda r: r.__setitem__("edited", True))
    for args in (["report", str(run_copy)], ["compare", str(trained), str(run_copy)]):
        result = runner.invoke(main, args)
        assert result.exit_code == 2, result.output
        assert "report.json does not match the SHA-256" in result.output
    report.write_bytes(original)
    model = run_copy / "model" / "estimator.skops"
    model.write_bytes(model.read_bytes()[:-1] + b"x")
    result = runner.invoke(main, ["compare", str(trained), str(run_copy)])
    assert result.exit_code == 2 and "estimator.skops does not match" in result.output


def test_a_write_refused_by_a_read_only_folder_names_the_file_not_a_temporary(
        tmp_path, monkeypatch):
    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / ".report.json.x.tmp"))

    monkeypatch.setattr("mlstat_core.artifacts.tempfile.mkstemp", refused)
    with pytest.raises(PermissionError) as caught:
        atomic_write_text(tmp_path / "report.json", "{}")
    assert caught.value.filename == str(tmp_path / "report.json")


# --- D6: two runs in one process -------------------------------------------------------------


RACE = """
import sys, threading, time
from mlstat_core.artifacts import _skops_io
found = []
first = threading.Thread(target=_skops_io)
first.start()
while "skops.io" not in sys.modules and first.is_alive():
    time.sleep(0.0005)
found.append(hasattr(_skops_io(), "loads"))
first.join()
print(found)
"""


def test_a_second_thread_waits_for_the_skops_import():
    out = subprocess.run([sys.executable, "-c", RACE], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert out.strip() == "[True]"


# --- D7: messages ------------------------------------------------------------------------------


def test_messages_name_the_right_folder_and_suffixes(trained, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    missing = invoke("predict", trained, "--input", "nonexist.csv", "--output", "x.csv")
    assert missing.exit_code == 2 and "current folder" in missing.output
    assert "pipeline file" not in missing.output
    new_records(tmp_path / "n.csv")
    json_out = invoke("predict", trained, "--input", "n.csv", "--output", "p.json")
    assert json_out.exit_code == 2 and ".csv or .parquet" in json_out.output
    assert "Excel" not in json_out.output
    helptext = " ".join(invoke("predict", "--help").output.split())
    assert "TSV" in helptext and "Excel" in helptext and "existing file is replaced" in helptext


def test_duplicate_ids_are_a_warning_with_count_and_example(trained, tmp_path):
    frame = pd.read_csv(new_records(tmp_path / "n.csv"), dtype=str)
    frame.loc[[5, 12, 17], "id"] = "00001"
    frame.to_csv(tmp_path / "dup.csv", index=False)
    summary = predict_file(trained, tmp_path / "dup.csv", tmp_path / "s.csv", chunk_size=3)
    [warning] = [w for w in summary.warnings if "repeat the id" in w]
    assert warning.startswith("3 record(s)") and "'00001'" in warning
    clean = predict_file(trained, tmp_path / "n.csv", tmp_path / "c.csv", chunk_size=3)
    assert not [w for w in clean.warnings if "repeat the id" in w]


def test_a_record_id_column_of_the_input_keeps_its_ids(trained, tmp_path):
    """The output's id column is record_id: an input that has one (and not the model's id
    column) keeps its ids there, never replaced by row numbers."""
    frame = pd.read_csv(new_records(tmp_path / "n.csv"), dtype={"id": str, "code": str})
    frame = frame.drop(columns="id")
    frame.insert(0, "record_id", [f"X{900 - i}" for i in range(len(frame))])
    frame.to_parquet(tmp_path / "ids.parquet")
    result = invoke("predict", trained, "--input", tmp_path / "ids.parquet", "--output",
                    tmp_path / "o.parquet", "--no-probabilities")
    assert result.exit_code == 0, result.output
    out = pd.read_parquet(tmp_path / "o.parquet")
    assert out["record_id"].tolist()[:3] == ["X900", "X899", "X898"]
    assert "--id-column" not in result.stderr


def test_numbered_records_are_said_in_the_summary(trained, tmp_path):
    frame = pd.read_csv(new_records(tmp_path / "n.csv"), dtype=str).drop(columns="id")
    frame.to_csv(tmp_path / "noid.csv", index=False)
    result = invoke("predict", trained, "--input", tmp_path / "noid.csv", "--output",
                    tmp_path / "o.csv")
    assert result.exit_code == 0, result.output
    assert pd.read_csv(tmp_path / "o.csv")["record_id"].tolist() == list(range(20))
    [note] = [line for line in result.stderr.splitlines() if "record_id" in line]
    assert note.startswith("note: ")
    assert "neither the model's id column 'id' nor 'record_id'" in note
    assert "numbers the records" in note and "--id-column" in note
    kept = invoke("predict", trained, "--input", new_records(tmp_path / "n.csv"),
                  "--output", tmp_path / "k.csv")
    assert "--id-column" not in kept.stderr


def test_duplicate_ids_are_counted_across_chunks():
    ids = DuplicateIds()
    ids.update(pd.Series(["a", "b", "a"]), "id")
    ids.update(pd.Series(["c", "b", None]), "id")
    ids.update(pd.Series(["b", "d"]), "id")
    assert ids.repeated == 3 and ids.example == "a"


def test_predict_reading_a_missing_file_raises_data_error(trained, tmp_path):
    with pytest.raises(DataError, match="current folder"):
        predict_file(trained, tmp_path / "absent.csv", tmp_path / "out.csv")


# --- production audit: concurrent outputs, vanished partials, repeated chunks ---------------


def test_two_writers_of_one_output_never_share_a_partial_file(tmp_path):
    out = tmp_path / "scored.csv"
    first, second = TableWriter(out), TableWriter(out)
    assert first.tmp != second.tmp
    first.write(pd.DataFrame({"a": [1, 2]}))
    second.write(pd.DataFrame({"a": [3]}))
    second.abort()  # one job's failure leaves the other's file alone
    assert first.tmp.exists()
    assert first.close() == 2
    assert pd.read_csv(out)["a"].tolist() == [1, 2]


def test_a_partial_file_that_vanished_is_an_error_not_an_empty_output(tmp_path):
    out = tmp_path / "scored.parquet"
    writer = TableWriter(out)
    writer.write(pd.DataFrame({"a": [1, 2]}))
    writer._writer.close()
    writer._writer = None
    writer.tmp.unlink()
    with pytest.raises(DataError, match="vanished"):
        writer.close()
    assert not out.exists()


def test_partials_of_dead_processes_are_swept_live_ones_kept(tmp_path):
    out = tmp_path / "scored.csv"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    from mlstat_core.io import host_tag

    stale = tmp_path / f".scored.csv.{host_tag()}.{dead}-00000000.partial"
    other = tmp_path / f".scored.csv.elsewhere.{dead}-00000000.partial"
    other.write_text("another machine's job")
    stale.write_text("half a file")
    live = TableWriter(out)
    live.write(pd.DataFrame({"a": [1]}))
    TableWriter(out).abort()  # a second job starting: sweeps the dead one's file only
    assert not stale.exists() and live.tmp.exists() and other.exists()
    live.close()


def test_on_windows_a_leftovers_process_is_asked_after_never_signalled(tmp_path,
                                                                      monkeypatch):
    """os.kill(pid, 0), which asks after a process on Linux and macOS, ends it on Windows
    (TerminateProcess): sweeping a folder would have killed the live job whose partial file
    it looked at, or whatever process had taken its pid."""
    from mlstat_core import io

    def kill(pid, sig):
        raise AssertionError(f"os.kill({pid}, {sig}) would end the process on Windows")

    asked = []
    monkeypatch.setattr(io.os, "kill", kill)
    monkeypatch.setattr(io, "WINDOWS", True)
    monkeypatch.setattr(io, "_windows_process_gone", lambda pid: asked.append(pid) or False)
    live = tmp_path / f".scored.csv.{io.host_tag()}.4242-00000000.partial"
    live.write_text("a job still writing")
    TableWriter(tmp_path / "scored.csv").abort()
    assert asked == [4242] and live.exists()
    monkeypatch.undo()
    assert io._windows_process_gone(4242) is False  # no Windows API here: cannot tell


def test_a_tsv_output_is_tab_separated(tmp_path):
    writer = TableWriter(tmp_path / "scored.tsv")
    writer.write(pd.DataFrame({"a": [1], "b": ["x"]}))
    writer.close()
    assert (tmp_path / "scored.tsv").read_text().splitlines()[0] == "a\tb"


def test_a_chunk_of_only_repeated_ids_is_counted():
    ids = DuplicateIds()
    ids.update(pd.Series([f"{i}" for i in range(100)]), "id")
    for _ in range(2):
        ids.update(pd.Series([f"{i}" for i in range(100)]), "id")
    ids.update(pd.Series(["new", "0"]), "id")
    assert ids.repeated == 201 and ids.example == "0"


def test_output_in_a_nested_folder_of_a_run_is_refused(run_copy, tmp_path):
    source = new_records(tmp_path / "new.csv")
    result = invoke("predict", run_copy, "--input", source, "--output",
                    run_copy / "model" / "sub" / "deeper" / "x.csv")
    assert result.exit_code == 2 and "inside the run folder" in result.output
    assert not (run_copy / "model" / "sub").exists()


def test_a_text_target_is_read_as_text(tmp_path):
    """Labels ``0110`` of new records are the model's ``0110``, not the number 110."""
    from mlstat_core.predict import unseen_labels

    frame = training_frame()
    frame["y"] = np.where(frame["y"] == "a", "0110", "0220")
    frame.to_csv(tmp_path / "train.csv", index=False)
    run = mlstat_core.run({
        "pipeline": {"name": "zeros", "task": "tabular_classification", "seed": 0},
        "loader": {"component": "core.table", "path": str(tmp_path / "train.csv"),
                   "target": "y", "id": "id", "features": ["code", "num"]},
        "split": {"component": "core.stratified", "test_size": 0.25},
        "model": {"component": "core.logistic_regression"},
        "indicators": ["core.classification_accuracy"],
        "output": {"dir": str(tmp_path / "runs")}}).run_dir
    _folder, model, _factory, _steps = load_model(run)
    [chunk] = list(iter_table(tmp_path / "train.csv", dtype=read_dtypes(model)))
    assert unseen_labels(chunk, model) == {}
    # blank labels (a Parquet or Excel file keeps "" and " " as text) are missing, not labels
    chunk["y"] = chunk["y"].astype(object)
    chunk.loc[chunk.index[:3], "y"] = ["", " ", "0330"]
    assert unseen_labels(chunk, model) == {"0330": 1}


def test_an_encoding_error_names_its_line_and_the_records_of_its_chunk(tmp_path):
    """The line of the file, and the chunk as it is (36 records, not 31 to 40); the readers'
    own positions (a byte of their buffer, "unexpected end of data") would mislead."""
    path = tmp_path / "bad.csv"
    path.write_bytes(b"text\n" + b"ok\n" * 30 + b"caf\xe9\n" + b"ok\n" * 5)
    with pytest.raises(DataError, match=r"on line 32, in records 31 to 36\)") as info:
        list(iter_table(path, 10))
    assert "encoding='cp1250'" in str(info.value)  # a library caller's argument
    assert "end of data" not in str(info.value)


def test_damage_in_records_of_several_lines_is_named_by_record_and_line(tmp_path):
    """Records whose text holds a quoted line break take two lines each: an encoding error
    was placed in records 1,101 to 1,200 of a file of 1,000, and pandas' "line 601" of a
    malformed record was its row, the record being on lines 1,200-1,201."""
    rows = [f'{i},"name {i}\nsecond line"' for i in range(1, 31)]
    bad = list(rows)
    bad[19] = '20,"caf\xe9\nsecond line"'  # record 20: lines 40 and 41
    path = tmp_path / "bad.csv"
    path.write_bytes(("id,text\n" + "\n".join(bad) + "\n").encode("latin-1"))
    with pytest.raises(DataError, match=r"on line 40 \(record 20\), in records 11 to 20\)"):
        list(iter_table(path, 10))
    bad = list(rows)
    bad[19] = '20,"name\nsecond line",extra'
    path.write_text("id,text\n" + "\n".join(bad) + "\n")
    with pytest.raises(DataError, match=r"Expected 2 fields in record 20 \(lines 40-41 of the "
                                        r"file\), saw 3"):
        list(iter_table(path, 10))
    with pytest.raises(DataError, match=r"Expected 2 fields in record 20 \(lines 40-41"):
        read_table(path)
    # pandas counts a blank line as a row of its "line", but no record; a multi-line record
    # as one row: record 4 on line 7 was "record 5 (line 8)", the good record after it
    path.write_text('a,b\n1,"x\ny"\n\n2,3\n4,5\n3,4,5\n8,9\n')
    for read in (lambda: read_table(path), lambda: list(iter_table(path, 2))):
        with pytest.raises(DataError, match=r"Expected 2 fields in record 4 \(line 7 of the "
                                            r"file\), saw 3"):
            read()


def test_in_a_file_of_one_column_blank_lines_are_records_of_the_chunk_named(tmp_path):
    """A one-column file keeps a blank line as a record (an empty value): the chunk named
    must count them, or it names records already read."""
    path = tmp_path / "names.csv"
    path.write_bytes(b"name\nA\n\n\n\nB\nC\n\xffD\nE\n")
    with pytest.raises(DataError, match=r"on line 8, in records 7 to 8\)"):
        list(iter_table(path, 2))


def test_predict_names_the_encoding_option_and_the_real_records(trained, tmp_path):
    path = tmp_path / "cp1250.csv"
    frame = pd.read_csv(new_records(tmp_path / "n.csv"), dtype=str)
    frame = pd.concat([frame] * 15, ignore_index=True)  # 300 records
    frame.loc[149, "code"] = "\u017c"  # ż
    frame.to_csv(path, index=False, encoding="cp1250")
    result = invoke("predict", trained, "--input", path, "--output", tmp_path / "o.csv")
    assert result.exit_code == 2
    assert f"{path} is not valid utf-8 text" in result.stderr
    assert "line 151, in records 1 to 300)" in result.stderr
    assert "--encoding cp1250" in result.stderr and "encoding option" not in result.stderr


def test_a_semicolon_file_read_with_commas_suggests_the_separator(trained, tmp_path):
    path = tmp_path / "semi.csv"
    frame = pd.read_csv(new_records(tmp_path / "n.csv"), dtype=str).assign(note="plain")
    frame.loc[7, "note"] = "bakery, retail"
    frame.to_csv(path, sep=";", index=False)
    result = invoke("predict", trained, "--input", path, "--output", tmp_path / "o.csv")
    assert result.exit_code == 2 and "Traceback" not in result.output
    [line] = result.stderr.splitlines()
    assert str(path) in line and "line 9" in line and "tokenizing" not in line
    assert line.endswith("its first lines look ';'-separated: pass --sep ';'")
    with pytest.raises(DataError, match=r"look ';'-separated: pass sep=';'$"):
        list(iter_table(path))
    assert invoke("predict", trained, "--input", path, "--output", tmp_path / "o.csv",
                  "--sep", ";").exit_code == 0


@pytest.mark.parametrize("damage", ["class", "params"])
def test_a_state_of_another_model_is_one_message(run_copy, tmp_path, damage):
    """A manifest edited to name another model (or saved params that do not fit) is refused
    with one message, not a pydantic traceback."""
    state = run_copy / "model" / "state.json"

    def change(data):
        if damage == "class":
            data["class"] = "mlstat_coding.models:TfidfLogregModel"
        else:
            data["params"]["C"] = "not a number"

    edit_json(state, change)
    rehash(run_copy, "model/state.json")
    result = invoke("predict", run_copy, "--input", new_records(tmp_path / "n.csv"),
                    "--output", tmp_path / "o.csv")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "rerun the pipeline" in result.output


def test_sigterm_during_predict_removes_the_partial_output(trained, tmp_path, monkeypatch):
    """A job stopped by SIGTERM (a scheduler's timeout) leaves neither an output nor its
    temporary file, as Ctrl-C does."""
    import os
    import signal

    from mlstat_core.engine import Interrupted

    source = new_records(tmp_path / "n.csv")
    _folder, model, _factory, _steps = load_model(trained)
    calls = []
    original = type(model).predict

    def predict_then_terminated(self, frame):
        calls.append(len(frame))
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return original(self, frame)

    monkeypatch.setattr(type(model), "predict", predict_then_terminated)
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Interrupted):
        predict_file(trained, source, tmp_path / "out.csv", chunk_size=5)
    assert signal.getsignal(signal.SIGTERM) == before
    assert not list(tmp_path.glob("*out.csv*")) and len(calls) == 2


def test_a_manifest_json_that_is_not_a_run_s_does_not_block_the_output(trained, tmp_path):
    """Only mlstat's run folders are protected: a project folder with its own manifest.json
    (a web app, a data package) is an ordinary place to write to."""
    (tmp_path / "manifest.json").write_text('{"name": "web app"}')
    out = tmp_path / "sub" / "out" / "scored.csv"
    result = invoke("predict", trained, "--input", new_records(tmp_path / "n.csv"),
                    "--output", out)
    assert result.exit_code == 0 and len(pd.read_csv(out)) == 20


def test_a_writer_that_may_not_make_its_folder_leaves_a_removed_one_removed(tmp_path):
    """A Spark task still running after its job failed: the driver removed the job's
    temporary folder, and the task must not make it again (an empty hidden folder would stay
    behind the failed predict)."""
    gone = tmp_path / ".out.parquet.partial"
    with pytest.raises(DataError, match="is gone"):
        TableWriter(gone / "part-00001.parquet", "parquet", make_folder=False)
    assert not gone.exists()
    TableWriter(gone / "part-00001.parquet", "parquet")  # the default makes it
    assert gone.is_dir()


def test_a_parquet_output_in_a_folder_without_permission_is_a_users_message(tmp_path,
                                                                            monkeypatch):
    """pyarrow's PermissionError names no file: the writer names the output, so the user gets
    the one-line file-system message instead of a "report it to its authors"."""
    import pyarrow.parquet as pq

    def refuse(*args, **kwargs):
        raise PermissionError(13, "[Errno 13] Failed to open local file")

    monkeypatch.setattr(pq, "ParquetWriter", refuse)
    with pytest.raises(DataError) as info:
        TableWriter(tmp_path / "out.parquet").write(pd.DataFrame({"a": [1]}))
    assert str(info.value) == (f"cannot write {tmp_path / 'out.parquet'}: no permission: "
                               "choose a folder you can write to, or change its permissions")


def test_csv_cells_a_spreadsheet_would_run_are_kept_and_named(tmp_path):
    """Values are the data, so they are written as they are; a CSV says how to open it
    safely, Parquet (whose cells stay text) has nothing to say."""
    frame = pd.DataFrame({"record_id": ["=1+1", "2", "3"], "prediction": ["-5", "+x", "@a"],
                          "p": [-1.0, 0.5, 0.2]})
    writer = TableWriter(tmp_path / "out.csv")
    writer.write(frame)
    with pytest.warns(UserWarning, match=r"3 cell\(s\) of .*out\.csv begin with =, \+, -, @ or "
                      r"a tab \(e\.g\. '=1\+1'\).*write Parquet"):
        writer.close()
    assert pd.read_csv(tmp_path / "out.csv", dtype=str)["record_id"].tolist() == ["=1+1", "2",
                                                                                  "3"]
    writer = TableWriter(tmp_path / "out.parquet")
    writer.write(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        writer.close()


def test_an_excel_input_is_read_from_the_trained_sheet_or_the_one_given(tmp_path):
    """Training read the sheet "Dane 2024" of a workbook whose first sheet is notes; new
    records come from the same sheet by default, or from --sheet."""
    import mlstat_core

    frame = training_frame().drop(columns="id")
    notes = pd.DataFrame({"opis": ["read me"]})
    with pd.ExcelWriter(tmp_path / "zeszyt ł.xlsx") as book:
        notes.to_excel(book, sheet_name="Info", index=False)
        frame.to_excel(book, sheet_name="Dane 2024", index=False)
    config = {"pipeline": {"name": "xl", "task": "tabular_classification"},
              "loader": {"component": "core.table", "path": str(tmp_path / "zeszyt ł.xlsx"),
                         "sheet": "Dane 2024", "target": "y"},
              "model": {"component": "core.logistic_regression"},
              "indicators": ["core.classification_accuracy"]}
    run = mlstat_core.run(config, out=tmp_path / "runs").run_dir
    out = tmp_path / "scored.csv"
    assert predict_file(run, tmp_path / "zeszyt ł.xlsx", out).records == len(frame)
    with pd.ExcelWriter(tmp_path / "nowe.xlsx") as book:
        notes.to_excel(book, sheet_name="Info", index=False)
        frame.head(7).to_excel(book, sheet_name="Nowe", index=False)
    outcome = invoke("predict", run, "--input", tmp_path / "nowe.xlsx", "--output", out)
    said = " ".join(outcome.output.split())
    assert outcome.exit_code == 2 and "has no sheet 'Dane 2024'; its sheets are 'Info', " \
        "'Nowe'" in said and "--sheet Info" in said
    for sheet in ("Nowe", "1"):
        outcome = invoke("predict", run, "--input", tmp_path / "nowe.xlsx", "--output", out,
                         "--sheet", sheet)
        assert outcome.exit_code == 0, outcome.output
        assert len(pd.read_csv(out)) == 7


def test_column_names_in_another_unicode_form_are_the_same_columns(tmp_path):
    """A macOS export writes 'dochód' decomposed (NFD); the pipeline and the trained model
    name it composed: the same column, in training and in new records."""
    import unicodedata

    import mlstat_core

    frame = training_frame().drop(columns="id").rename(columns={"num": "dochód"})
    decomposed = frame.rename(columns={"dochód": unicodedata.normalize("NFD", "dochód")})
    decomposed.to_csv(tmp_path / "train.csv", index=False)
    config = {"pipeline": {"name": "nfd", "task": "tabular_classification"},
              "loader": {"component": "core.table", "path": str(tmp_path / "train.csv"),
                         "target": "y", "features": ["code", "dochód"]},
              "model": {"component": "core.logistic_regression"},
              "indicators": ["core.classification_accuracy"]}
    run = mlstat_core.run(config, out=tmp_path / "runs").run_dir
    frame.to_csv(tmp_path / "new_nfc.csv", index=False)
    decomposed.to_csv(tmp_path / "new_nfd.csv", index=False)
    for name in ("new_nfc.csv", "new_nfd.csv"):
        assert predict_file(run, tmp_path / name, tmp_path / f"out_{name}").records == 160
    assert (pd.read_csv(tmp_path / "out_new_nfc.csv")["prediction"]
            == pd.read_csv(tmp_path / "out_new_nfd.csv")["prediction"]).all()


def test_a_sheet_named_with_digits_is_that_sheet_and_other_digits_count_from_0(tmp_path):
    from mlstat_core.io import iter_table

    with pd.ExcelWriter(tmp_path / "book.xlsx") as book:
        pd.DataFrame({"a": [1]}).to_excel(book, sheet_name="Info", index=False)
        pd.DataFrame({"b": [2, 3]}).to_excel(book, sheet_name="2024", index=False)
    assert list(next(iter_table(tmp_path / "book.xlsx", sheet="2024")).columns) == ["b"]
    assert list(next(iter_table(tmp_path / "book.xlsx", sheet="0")).columns) == ["a"]
    with pytest.raises(DataError, match=r"has no sheet 7; its sheets are 'Info', '2024'"):
        next(iter_table(tmp_path / "book.xlsx", sheet="7"))


def test_changed_versions_name_python_by_its_minor_version_and_the_core():
    import platform

    from mlstat_core.requirements import changed_versions

    now = platform.python_version()
    same_minor = ".".join(now.split(".")[:2]) + ".0"
    assert changed_versions({"python": same_minor, "plugins": {}}) == []
    assert changed_versions({"python": "3.9.1"}) == [f"Python 3.9.1 -> {now}"]
    assert changed_versions({"plugins": {"mlstat-core": "0.0.1"}}) == [
        f"mlstat-core 0.0.1 -> {mlstat_core.__version__}"]


def test_records_with_fewer_fields_than_the_header_are_warned_of(write_pipeline, tmp_path,
                                                                 budget_csv):
    """pandas reads a record cut short, or written with `;` in a `,` file, with its missing
    fields empty and says nothing: the record was scored from missing values (1 in a million
    moves no drift figure), where the Spark engine refuses the file. Now `mlstat predict` says
    how many and shows the first; a quoted line break is no short record."""
    run = mlstat_core.run(write_pipeline())
    lines = budget_csv.read_text().splitlines()
    header = "hh," + lines[0]  # an id first: the `;` record's whole line becomes its id
    rows = [f"h{i:03d},{line}" for i, line in enumerate(lines[1:41])]
    fields = rows[5].split(",")
    bad = [*rows[:10], ",".join(fields[:5]), ";".join(fields), *rows[10:]]
    (tmp_path / "bad.csv").write_text("\n".join([header, *bad]) + "\n")
    result = CliRunner().invoke(main, ["predict", str(run.run_dir), "--input",
                                       str(tmp_path / "bad.csv"), "--output",
                                       str(tmp_path / "p.csv"), "--json"])
    assert result.exit_code == 0, result.output
    said = json.loads(result.stdout)["warnings"]
    short = [w for w in said if "fewer fields than its header" in w]
    assert len(short) == 1 and short[0].startswith("2 record(s) of ")
    assert repr(",".join(fields[:5])) in short[0]
    assert len(pd.read_csv(tmp_path / "p.csv")) == 42  # scored, and said

    quoted = pd.read_csv(budget_csv).head(20).assign(note="two\nlines")
    quoted.to_csv(tmp_path / "quoted.csv", index=False)
    text = (tmp_path / "quoted.csv").read_text()  # a header name holding a line break too
    (tmp_path / "quoted.csv").write_text(text.replace("note", '"note\n(free text)"', 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        predict_file(run.run_dir, tmp_path / "quoted.csv", tmp_path / "q.csv")


def test_a_header_naming_a_column_twice_is_warned_of(write_pipeline, tmp_path, budget_csv):
    """pandas reads the second `income` as `income.1`, and the model reads the first, which
    may not hold the values meant."""
    run = mlstat_core.run(write_pipeline())
    frame = pd.read_csv(budget_csv).head(20)
    text = frame.to_csv(index=False).splitlines()
    (tmp_path / "twice.csv").write_text("\n".join(
        [text[0] + ",income", *[r + ",9999" for r in text[1:]]]) + "\n")
    with pytest.warns(UserWarning, match=r"names column\(s\) 'income' \(the second read as "
                                         r"'income.1'\) more than once"):
        predict_file(run.run_dir, tmp_path / "twice.csv", tmp_path / "p.csv")


def test_a_spark_master_without_the_spark_engine_names_both_options(write_pipeline, tmp_path,
                                                                    budget_csv):
    run = mlstat_core.run(write_pipeline())
    result = CliRunner().invoke(main, ["predict", str(run.run_dir), "--input", str(budget_csv),
                                       "--output", str(tmp_path / "p.csv"),
                                       "--spark-master", "local[2]"])
    assert result.exit_code == 2
    assert "--spark-master local[2] needs --engine spark" in result.output
    assert not (tmp_path / "p.csv").exists()


def test_an_output_that_cannot_replace_the_old_one_leaves_no_partial_file(tmp_path):
    """On Windows an output open in Excel cannot be replaced: mlstat predict said so but left
    its full-size partial file beside it."""
    out = tmp_path / "scored.csv"
    writer = TableWriter(out)
    writer.write(pd.DataFrame({"a": [1, 2]}))
    out.mkdir()  # stands in for the locked file: the final rename fails
    (out / "keep.txt").write_text("x")
    with pytest.raises(DataError, match=f"cannot write {out}"):
        writer.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scored.csv"]


def test_a_file_open_in_another_program_on_windows_is_named_so():
    """Windows reads a file Excel holds open as a PermissionError: the message said "no
    permission: choose a folder you can write to"."""
    from mlstat_core.errors import user_message, write_failure

    locked = PermissionError(13, "The process cannot access the file", "queue.csv")
    locked.winerror = 32  # ERROR_SHARING_VIOLATION, as Windows sets it
    assert user_message(locked) == ("cannot use queue.csv: it is open in another program "
                                    "(Excel locks the files it shows): close it there and run "
                                    "again")
    assert "close it there" in str(write_failure("queue.csv", locked))
    denied = PermissionError(13, "Access is denied", "queue.csv")
    denied.winerror = 5
    assert "no permission, or it is open in another program" in user_message(denied)
    assert "choose a folder you can write to" in user_message(
        PermissionError(13, "Permission denied", "queue.csv"))  # Linux, macOS: as before


def test_a_file_written_whole_onto_a_folder_is_named_not_its_temporary_file(tmp_path):
    """os.replace names its source: the message named the hidden temporary file, which was
    removed by then, not the file meant."""
    from mlstat_core.artifacts import atomic_write_text
    from mlstat_core.errors import user_message

    target = tmp_path / "index.csv"
    target.mkdir()
    (target / "keep.txt").write_text("x")
    with pytest.raises(OSError) as failure:
        atomic_write_text(target, "a\n")
    assert user_message(failure.value) == (f"cannot use {target}: the path is a folder, not a "
                                           "file: give a file name")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.csv"]
