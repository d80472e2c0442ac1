"""Drift between the training profile and new records, streamed in chunks."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from test_quality_context import budget

from mlstat_core.quality.drift import OTHER, DriftAccumulator, build_profile, psi


@pytest.fixture(scope="module")
def households() -> pd.DataFrame:
    frame = budget()
    frame["region"] = np.where(frame["age"] > 35, "north", "south")
    frame["note"] = ["household spending diary entry " * (1 + i % 3) for i in range(len(frame))]
    return frame


def accumulate(profile, frame, chunk=200) -> dict:
    acc = DriftAccumulator(profile)
    for start in range(0, len(frame), chunk):
        acc.update(frame.iloc[start:start + chunk])
    return acc.result(threshold=0.2)


def test_profile_is_small_json_and_detects_column_kinds(households) -> None:
    profile = build_profile(households.iloc[:1000], ["income", "wfood", "region", "note"])
    assert json.loads(json.dumps(profile)) == profile
    kinds = {c: e["kind"] for c, e in profile["columns"].items()}
    assert kinds == {"income": "numeric", "wfood": "numeric", "region": "categorical",
                     "note": "text"}
    income = profile["columns"]["income"]
    assert sum(income["shares"]) + income["missing"] == pytest.approx(1)
    assert len(income["edges"]) <= 9


def test_same_population_shows_no_drift(households) -> None:
    columns = ["income", "totexp", "wfood", "region", "note"]
    profile = build_profile(households.iloc[::2], columns)
    result = accumulate(profile, households.iloc[1::2])
    assert result["drifted"] == [] and result["warnings"] == []
    assert all(v["psi"] < 0.05 for v in result["columns"].values())
    assert result["records"] == len(households.iloc[1::2])


def test_a_shifted_column_is_flagged(households) -> None:
    profile = build_profile(households.iloc[::2], ["income", "wfood", "region"])
    new = households.iloc[1::2].copy()
    new["income"] = new["income"] * 1.8  # inflation the model never saw
    new["region"] = "north"
    result = accumulate(profile, new)
    assert set(result["drifted"]) == {"income", "region"}
    assert result["columns"]["income"]["ks"] > 0.3
    assert result["columns"]["wfood"]["status"] == "ok"
    assert any("income" in w for w in result["warnings"])


def test_a_handful_of_records_from_the_same_population_is_not_called_drift(households) -> None:
    """PSI over 20 records exceeds 0.2 by chance alone: no warning, a note instead."""
    columns = ["income", "totexp", "wfood"]
    profile = build_profile(households.iloc[::2], columns)
    result = accumulate(profile, households.iloc[1::2].iloc[:20])
    noisy = [c for c, v in result["columns"].items() if v["psi"] > 0.2]
    assert noisy  # the raw PSI of a small sample is large ...
    assert result["drifted"] == [] and result["warnings"] == []  # ... but not drift
    assert all(result["columns"][c]["status"] == "too_few_records" for c in noisy)
    assert result["notes"] and "chance" in result["notes"][0]
    # a real shift still shows on as few records
    shifted = households.iloc[1::2].iloc[:20].copy()
    shifted["income"] = shifted["income"] * 50
    assert "income" in accumulate(profile, shifted)["drifted"]


def test_chunking_does_not_change_the_result(households) -> None:
    profile = build_profile(households.iloc[:800], ["income", "region", "note"])
    new = households.iloc[800:]
    assert accumulate(profile, new, chunk=37) == accumulate(profile, new, chunk=10_000)


def test_counts_made_apart_combine_to_the_counts_of_one_pass(households) -> None:
    """What Spark's workers do: each counts its partition, the driver adds the states."""
    profile = build_profile(households.iloc[:800], ["income", "region", "note", "age"])
    new = households.iloc[800:].drop(columns=["age"])
    combined = DriftAccumulator(profile)
    for part in (new.iloc[:150], new.iloc[150:]):
        worker = DriftAccumulator(profile)
        worker.update(part)
        combined.add(json.loads(json.dumps(worker.state())))  # as sent between processes
    assert combined.result() == accumulate(profile, new)
    assert combined.result()["columns"]["age"]["status"] == "absent"


def test_unseen_categories_missing_values_and_absent_columns(households) -> None:
    profile = build_profile(households.iloc[:800], ["income", "region", "age"])
    assert OTHER in profile["columns"]["region"]["shares"]
    new = households.iloc[800:].drop(columns=["age"]).copy()
    new["region"] = "east"
    new.loc[new.index[:100], "income"] = np.nan
    result = accumulate(profile, new)
    assert result["columns"]["region"]["status"] == "drift"
    assert result["columns"]["income"]["missing_new"] == pytest.approx(100 / len(new))
    assert result["columns"]["age"]["status"] == "absent"
    assert any("'age'" in w for w in result["warnings"])


def test_psi_of_known_shares() -> None:
    assert psi(np.array([0.5, 0.5]), np.array([0.5, 0.5])) == 0
    expected = (0.7 - 0.5) * np.log(0.7 / 0.5) + (0.3 - 0.5) * np.log(0.3 / 0.5)
    assert psi(np.array([0.5, 0.5]), np.array([0.7, 0.3])) == pytest.approx(expected)


def test_profile_of_another_version_is_refused(households) -> None:
    profile = build_profile(households, ["income"])
    profile["version"] = 99
    with pytest.raises(ValueError, match="version"):
        DriftAccumulator(profile)


def test_a_change_of_the_missing_share_alone_is_named_as_such(households) -> None:
    """Training data with 10% gaps, new data complete: PSI (missing values as a bin) flags the
    column, and the warning says the gaps changed, not the values."""
    train = households.iloc[::2].copy()
    train.loc[train.index[::10], "wfood"] = np.nan
    profile = build_profile(train, ["wfood", "income"])
    new = households.iloc[1::2].copy()
    new["income"] = new["income"] * 1.8
    result = accumulate(profile, new)
    wfood = result["columns"]["wfood"]
    assert wfood["status"] == "drift" and wfood["psi_values"] < 0.1
    [gaps] = [w for w in result["warnings"] if "'wfood'" in w]
    assert "share of missing values changed from 10.0% in training to 0.0%" in gaps
    [shift] = [w for w in result["warnings"] if "'income'" in w]
    assert "has drifted" in shift and result["columns"]["income"]["psi_values"] > 0.2


def test_a_column_missing_in_every_new_record_has_no_values_psi(households) -> None:
    profile = build_profile(households.iloc[::2], ["wfood"])
    new = households.iloc[1::2].copy()
    new["wfood"] = np.nan
    result = accumulate(profile, new)
    assert result["columns"]["wfood"]["psi_values"] is None
    [warning] = result["warnings"]
    # said as what it is: the model's reading of the column is made up, not a shift
    assert "column 'wfood' has no value in any of the new records (missing in 0.0% in " \
        "training): the model observes none of it" in warning


def test_each_column_is_tested_at_one_percent_over_the_columns_compared(households) -> None:
    """Each column was tested at 1%: with the 10 budget columns, one batch of 20 records in
    10 drawn from the training data itself was called drifted (measured by simulation). Now
    each column is tested at 1% / (columns compared) (Bonferroni), so it is at most about one
    batch in 100 however many columns; a model of one column keeps the 1% level."""
    from mlstat_core.quality.drift import chance_psi

    columns = ["wfood", "wfuel", "wcloth", "walc", "wtrans", "wother", "totexp", "income",
               "age", "children"]
    profile = build_profile(households, columns)
    new = households.sample(20, random_state=3)
    result = accumulate(profile, new)
    tested = {c: v for c, v in result["columns"].items() if v["psi_by_chance"] is not None}
    assert tested  # 20 records put several columns above 0.2 by chance
    for column, value in tested.items():
        entry = profile["columns"][column]
        expected = np.r_[entry["shares"], entry["missing"]]
        assert value["psi_by_chance"] == chance_psi(expected, 20, 1 - 0.01 / len(columns))
        assert value["psi_by_chance"] > chance_psi(expected, 20, 0.99)
    one = accumulate(build_profile(households, ["wfood"]), new)["columns"]["wfood"]
    expected = np.r_[profile["columns"]["wfood"]["shares"], 0.0]
    assert one["psi"] > 0.2  # above the threshold, so the chance test decides (0.35)
    assert one["psi_by_chance"] == chance_psi(expected, 20, 0.99)


def test_codes_count_alike_whether_read_as_text_or_as_numbers_with_gaps() -> None:
    """A code column read as text in training (core.table's `categorical`) and as 11.0 in a
    chunk of new records (a Parquet column with gaps, Spark's batches) is the same population:
    no drift, no code counted as another category."""
    rng = np.random.default_rng(0)
    codes = rng.choice(["11", "12", "21", "22"], size=2000)
    training = pd.DataFrame({"region": pd.Series(codes, dtype=object)})
    profile = build_profile(training, {"region": "categorical"})
    new = pd.DataFrame({"region": [float(c) for c in rng.choice(codes, size=1000)] + [np.nan]})
    result = accumulate(profile, new)
    assert result["columns"]["region"]["status"] == "ok"
    assert result["columns"]["region"]["psi"] < 0.05
    acc = DriftAccumulator(profile)
    acc.update(new)
    names = list(profile["columns"]["region"]["shares"])
    assert acc.counts["region"][names.index(OTHER)] == 0


def test_a_code_column_counts_11_0_as_11_and_an_old_profile_counts_as_before() -> None:
    """Columns of codes (``codes``: core.table's `categorical`) count 11.0 written as text as
    the code 11, in training and in new records, as the core's models read it; a profile
    written before (no ``codes`` in its entry) is read and counts text as it is."""
    rng = np.random.default_rng(1)
    codes = rng.choice(["11", "12", "21", "22"], size=2000)
    decimals = pd.DataFrame({"region": pd.Series([f"{c}.0" for c in codes], dtype=object)})
    whole = pd.DataFrame({"region": pd.Series(codes, dtype=object)})
    for trained, new in ((decimals, whole), (whole, decimals)):
        profile = build_profile(trained, ["region"], codes=["region"])
        entry = profile["columns"]["region"]
        assert entry["codes"] is True and set(entry["shares"]) == {"11", "12", "21", "22",
                                                                   OTHER}
        result = accumulate(json.loads(json.dumps(profile)), new)
        assert result["columns"]["region"]["psi"] < 0.05 and not result["warnings"]
    old = build_profile(whole, ["region"])
    assert "codes" not in old["columns"]["region"]
    assert accumulate(old, decimals)["columns"]["region"]["psi"] > 1
