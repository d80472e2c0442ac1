"""An office's own survey file, metadata and edit rules: what would be read as other numbers,
other columns or another rule is refused with the fix, never edited silently; what is unclear
gets the reason."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from mlstat_editimpute.loaders import SurveyLoader
from mlstat_editimpute.params import SurveyParams

from mlstat_core.components import Dataset
from mlstat_core.errors import DataError


def _load(tmp_path: Path, text: str, **settings: object) -> Dataset:
    (tmp_path / "d.csv").write_text(text, encoding="utf-8")
    return SurveyLoader(SurveyParams(path="d.csv", id="hh", **settings)).load(tmp_path)


def test_points_between_thousands_in_a_decimal_comma_file_are_refused(tmp_path: Path) -> None:
    """With decimal = ",", 1.300 is 1300 written with a thousands point (or a decimal point):
    read as 1.3 it would be imputed or kept 1000 times too small."""
    text = "hh;income;wfood\n01;1.300;0,4\n02;950;0,3\n03;2.150;0,5\n"
    with pytest.raises(DataError, match=r"column 'income' of \S*d.csv holds numbers written "
                                        r"with '\.' \(such as '1\.300'\).*without thousands "
                                        "separators"):
        _load(tmp_path, text, sep=";", decimal=",")


def test_new_records_are_read_with_the_training_files_decimal_mark(tmp_path: Path) -> None:
    """mlstat predict read an income written 1.300 in a decimal = "," file as 1.3 (the model
    converted text with '.' as the decimal mark) and flagged it as suspicious; the model now
    keeps the loader's decimal mark (also once saved) and refuses it by name."""
    import pandas as pd
    from mlstat_editimpute.models import DonorModel

    rows = "".join(f"{i:02d};{900 + 37 * i};0,{i % 9 + 1}\n" for i in range(60))
    model = DonorModel().fit(_load(tmp_path, "hh;income;wfood\n" + rows, sep=";", decimal=","))
    model.save(tmp_path / "model")
    saved = DonorModel.load(tmp_path / "model")
    new = pd.DataFrame({"hh": ["90", "91"], "income": ["1.300", "950"],
                        "wfood": ["0,4", "0,5"]})
    for scorer in (model, saved):
        with pytest.raises(DataError, match=r"column 'income' of the input holds '1\.300'"):
            scorer.predict(new)
        # decimal commas in a column given as text are read with the file's mark too
        scored = scorer.predict(new.assign(income=["1300", "950"]))
        assert scored["wfood"].iloc[0] == pytest.approx(0.4)
        # 1,300 is 1.3 or 1300 by the mark (mlstat predict --decimal may read the file with
        # another than the model's): refused, not read as 1.3 (review)
        with pytest.raises(DataError, match=r"holds '1,300', which is 1\.3 with the decimal "
                                            r"comma .* and 1300 with ','"):
            scorer.predict(new.assign(income=["1,300", "950"]))


@pytest.mark.parametrize("column, values", [
    ("date", ["01.02.2020", "03.04.2021", "05.06.2021"]),
    ("coicop", ["01.1.1", "01.1.2", "02.1"]),
    ("version", ["v1.2", "1.2", "1.3"]),
])
def test_points_in_a_text_column_not_edited_are_not_thousands(tmp_path: Path, column: str,
                                                               values: list[str]) -> None:
    """With decimal = ",", a date, a COICOP code or a version was refused as 'numbers written
    with .': only numbers shaped as thousands (1.300) are, and only where they would be
    read."""
    text = f"hh;{column};income;wfood\n" + "".join(
        f"0{i};{v};{1300 + i};0,{i + 3}\n" for i, v in enumerate(values))
    ds = _load(tmp_path, text, sep=";", decimal=",")
    assert ds.roles.features == ["income", "wfood"] and ds.frame[column].tolist() == values


def test_a_thousands_point_before_a_decimal_comma_is_called_so(tmp_path: Path) -> None:
    """'1.300,50' is unambiguous: its '.' is between thousands."""
    text = "hh;income;wfood\n01;1.300,50;0,4\n02;950;0,3\n03;2150;0,5\n"
    with pytest.raises(DataError) as info:
        _load(tmp_path, text, sep=";", decimal=",", variables=["income", "wfood"])
    message = str(info.value)
    assert "holds numbers written with '.' between thousands (such as '1.300,50')" in message
    assert "cannot tell apart" not in message


def test_thousands_points_in_the_weights_are_refused(tmp_path: Path) -> None:
    text = "hh;income;wt\n01;1300;1.250,5\n02;950;1.300\n03;2150;870,25\n"
    with pytest.raises(DataError, match=r"column 'wt' of \S*d.csv holds numbers written with "
                                        r"'\.'"):
        _load(tmp_path, text, sep=";", decimal=",", weights="wt")


def test_decimal_comma_file_without_points_still_reads(tmp_path: Path) -> None:
    text = "hh;income;wfood\n01;1300;0,4\n02;950;..\n03;2150;0,5\n"
    ds = _load(tmp_path, text, sep=";", decimal=",", na_values=[".."])
    assert ds.frame["income"].tolist() == [1300, 950, 2150]
    assert ds.frame["wfood"].tolist()[::2] == [0.4, 0.5]


def test_commas_between_thousands_are_not_taken_for_decimal_commas(tmp_path: Path) -> None:
    """'1,300' may be 1300 or 1.3: the advice to set decimal = "," alone would read the
    incomes 1000 times too small."""
    text = 'hh,income,wfood\n01,"1,300",0.4\n02,950,0.3\n03,"12,150",0.5\n'
    with pytest.raises(DataError) as info:
        _load(tmp_path, text)
    message = str(info.value)
    assert "',' between thousands (such as '1,300')" in message
    assert "remove the thousands separators" in message
    assert "written with a decimal comma" not in message


@pytest.mark.parametrize("values, shown", [(["£130", "£1,250", "£90"], "£130"),
                                           (["1 300", "950", "12 150"], "1 300")])
def test_numbers_with_currency_signs_or_spaces_are_not_called_missing_codes(
        tmp_path: Path, values: list[str], shown: str) -> None:
    """Text such as '£130' in every record is a formatted number: listing it in `na_values`
    (the advice for a code such as '.') would blank the value."""
    rows = "".join(f'0{i},"{v}",0.4\n' for i, v in enumerate(values))
    with pytest.raises(DataError) as info:
        _load(tmp_path, "hh,income,wfood\n" + rows, variables=["income", "wfood"])
    message = str(info.value)
    assert f"column 'income' of the data set d.csv holds numbers written with a currency " \
           f"sign, spaces or separators between digits (such as {shown!r}" in message
    assert "na_values" not in message
    with pytest.warns(UserWarning, match=r"such as .*as it is, 'income' is left out of "
                                         r"editing: if it is not to be edited, name the "
                                         r"variables to edit in the loader's `variables`"):
        ds = _load(tmp_path, "hh,income,wfood\n" + rows)  # not declared: a text column
    assert ds.roles.features == ["wfood"]


@pytest.mark.parametrize("column, values", [
    ("phone", ["020 7946 0001", "020 7946 0002", "020 7946 0003"]),
    ("kids", ["3,5", "4,7,9", "1,2"]),
    ("note", ["1,300", "x", "2,000"]),
    ("note", ["0,5", "0,3", "abc"]),
])
def test_a_text_column_of_mostly_numbers_not_declared_is_left_out_with_a_warning(
        tmp_path: Path, column: str, values: list[str]) -> None:
    """Without metadata or `variables`, phone numbers, lists and notes were refused (told to
    set decimal = "," or to store plain numbers): such a column is left out of editing, as
    before, with a warning that names how to declare the variables."""
    text = f"hh,{column},income,wfood\n" + "".join(
        f'0{i},"{v}",{1300 + i},0.{i + 3}\n' for i, v in enumerate(values))
    with pytest.warns(UserWarning, match=rf"column {column!r} .*left out of editing: if it is "
                                         r"not to be edited, name the variables to edit in the "
                                         r"loader's `variables`"):
        ds = _load(tmp_path, text)
    assert ds.roles.features == ["income", "wfood"]
    assert ds.frame[column].tolist() == values


def test_a_column_of_numbers_with_a_missing_value_code_is_not_left_out_silently(
        tmp_path: Path) -> None:
    """Without metadata or `variables` every numeric column is edited: an income column
    with a code such as '.' (read as text) is left out with a warning naming the fix."""
    with pytest.warns(UserWarning, match=r"column 'income' .*list it in the loader's "
                                         r"`na_values` \(na_values = \[\"\.\"\]\).*left out "
                                         r"of editing"):
        _load(tmp_path, "hh,income,wfood\n01,.,0.4\n02,950,0.3\n03,1200,0.5\n")
    ds = _load(tmp_path, "hh,income,wfood,town\n01,.,0.4,Leeds\n02,950,0.3,York\n"
                         "03,1200,0.5,Hull\n", na_values=["."])
    assert ds.roles.features == ["income", "wfood"]


@pytest.mark.parametrize("rule, shown", [
    ("spend: totexp <= income +- 5 and totexp >= 10", "+- 5"),
    ("balance: wfood + wfuel + wcloth + walc + wtrans + wother == 1 +-0.01 and wfood >= 0",
     "+-0.01"),
    ("spread: wfood ± 0.1 <= wfuel", "± 0.1"),
    ("if children > 0 +- 1 then age >= 18", "+- 1"),
])
def test_a_tolerance_inside_a_rule_is_refused_by_validate(rule: str, shown: str) -> None:
    """Python reads 'income +- 5' as income + (-5): the rule would silently be tightened by 5
    (and '1 +-0.01' make the balance 0.99), not given a tolerance."""
    from mlstat_core.config import load_config
    from mlstat_core.errors import ConfigError

    pipeline = {"pipeline": {"name": "r", "task": "tabular_imputation"},
                "loader": {"component": "editimpute.budget_uk"},
                "model": {"component": "editimpute.pmm",
                          "rules": ["income_positive: income >= 10", rule]}}
    with pytest.raises(ConfigError) as caught:
        load_config(pipeline)
    (issue,) = caught.value.issues
    assert issue.field == "model.rules.1"
    assert f"has {shown!r} before its end; a tolerance is written once, at the end of the " \
           "rule" in str(issue)


@pytest.mark.parametrize("rule, variables, const", [
    ("total == a + -b", ["total", "a", "b"], 0.0),
    ("total == a + - b", ["total", "a", "b"], 0.0),
    ("x + -1 <= y", ["y", "x"], -1.0),
    ("a +-b >= 0", ["a", "b"], 0.0),
])
def test_adding_a_negative_term_is_no_tolerance(rule: str, variables: list[str],
                                                const: float) -> None:
    """'+ -' with a space, or '+-' before a variable, is arithmetic: these rules were
    refused as a tolerance inside the rule."""
    from mlstat_editimpute.rules import RuleSet

    (parsed,) = RuleSet.parse([rule]).rules
    assert parsed.tol == 0 and sorted(parsed.variables) == sorted(variables)
    assert parsed.consequence_atoms[0].const == const


def test_a_trailing_tolerance_still_applies_to_the_rule() -> None:
    from mlstat_editimpute.rules import RuleSet

    (rule,) = RuleSet.parse(["0 <= wfood <= 1 +- 0.001"]).rules
    assert rule.tol == 0.001 and rule.expression == "0 <= wfood <= 1"


@pytest.mark.parametrize("rule, detail", [
    ("food_min: wfood >= 0,02", "has the number '0,02'; write numbers with '.' as the decimal "
                                "mark and without thousands separators"),
    ("food_min: wfood >= 0,5", "has the number '0,5'; write numbers with '.'"),
    ("income_max: income <= 10,000", "has the number '10,000'; write numbers with '.'"),
    ("spend: totexp <= 4income", "write '*' between a number and a variable"),
    ("spend: totexp <= 4 income", "write '*' between a number and a variable"),
    ("balance: wfood + wfuel == 1 +- 0,01", "has the number '0,01'; write numbers with '.'"),
    ("class_max: class <= 5", "'class' is a reserved word: a variable of that name cannot be "
                              "used in a rule (rename the column, e.g. 'class_')"),
])
def test_rules_written_as_an_office_writes_numbers_get_the_fix(
        rule: str, detail: str, capfd: pytest.CaptureFixture[str]) -> None:
    """A decimal comma in a rule was 'leading zeros ... octal integers' or 'uses Tuple'."""
    from mlstat_editimpute.rules import RuleError, RuleSet

    with pytest.raises(RuleError, match=re.escape(detail)):
        RuleSet.parse([rule])
    assert "SyntaxWarning" not in capfd.readouterr().err


@pytest.mark.parametrize("rule", ["income <= 1e6 and", "income <= 2.5E+6 and totexp >="])
def test_a_number_in_scientific_notation_gets_no_hint_to_write_a_star(rule: str) -> None:
    """'1e6' is a number, not 1 times a variable 'e6'."""
    from mlstat_editimpute.rules import RuleError, RuleSet

    with pytest.raises(RuleError, match="is not a valid expression") as info:
        RuleSet.parse([rule])
    assert "write '*'" not in str(info.value)
    (parsed,) = RuleSet.parse(["income <= 1e6 and totexp >= 10"]).rules
    assert parsed.consequence_atoms[0].const == -1e6  # income - 1e6 <= 0


def test_a_ratio_rule_dividing_zero_by_zero_names_the_rule_for_the_clerk() -> None:
    """0/0 gives no answer: the record is held, and its reason names the rule rather than 'no
    adjustment lets the record pass' with no failed rule listed."""
    from mlstat_editimpute.loaders import BudgetUkLoader
    from mlstat_editimpute.models import PmmModel
    from mlstat_editimpute.params import BudgetParams, PmmParams

    ds = BudgetUkLoader(BudgetParams(rules=["ratio: totexp / income <= 4"])).load(Path("."))
    ds.frame.loc[:2, ["income", "totexp"]] = 0.0
    model = PmmModel(PmmParams(max_iter=20, detect=False))
    out = model.fit(ds).predict(ds.frame.iloc[:5])
    assert out["needs_review"].tolist() == [True, True, True, False, False]
    assert (out["review_reason"].iloc[:3] == "edit rule(s) 'ratio' cannot be checked on this "
            "record: with its values the rule gives no number (such as 0 divided by 0)").all()


def test_metadata_columns_are_read_whatever_their_case(tmp_path: Path) -> None:
    """A SAS export writes VARIABLE, TYPE, MIN, MAX, IMPUTABLE: ignored, children would be
    imputed against `imputable = false` and age lose its range and whole-number edit."""
    from mlstat_editimpute.metadata import read_metadata

    (tmp_path / "m.csv").write_text("Variable,TYPE,MIN,MAX,IMPUTABLE,Weight \n"
                                    "age,integer,16,120,true,1.5\nchildren,integer,0,20,no,2\n")
    infos = read_metadata(tmp_path / "m.csv")
    assert (infos["age"].type, infos["age"].min, infos["age"].max) == ("integer", 16, 120)
    assert infos["children"].imputable is False and infos["children"].weight == 2


@pytest.mark.parametrize("column, meant", [
    ("maximum", "max"), ("imputeable", "imputable"), ("Minimum", "min"), ("types", "type"),
    ("max_", "max"), ("min_value", "min"), ("weights", "weight")])
def test_a_misspelt_metadata_column_is_refused(tmp_path: Path, column: str, meant: str) -> None:
    from mlstat_editimpute.metadata import read_metadata

    (tmp_path / "m.csv").write_text(f"variable,type,{column}\nchildren,integer,false\n")
    with pytest.raises(DataError, match=rf"has a column {column.lower()!r}, which is not read: "
                                        rf"did you mean {meant!r}\?"):
        read_metadata(tmp_path / "m.csv")


@pytest.mark.parametrize("column", ["domain", "median", "main", "admin", "mix", "table", "tape",
                                    "notes", "label", "description", "unit", "source", "wgt",
                                    "impute", "mini"])
def test_an_ordinary_extra_metadata_column_is_read_as_before(tmp_path: Path,
                                                             column: str) -> None:
    """Only clear variants of an editing column are refused: 'domain' or 'median' was
    refused as 'did you mean min?', 'table' as 'imputable', 'tape' as 'type'."""
    from mlstat_editimpute.metadata import read_metadata

    (tmp_path / "m.csv").write_text(f"variable,type,min,max,{column}\nincome,numeric,0,9,x\n")
    assert read_metadata(tmp_path / "m.csv")["income"].max == 9


def test_a_text_column_of_categories_is_not_called_a_missing_value_code(tmp_path: Path) -> None:
    """'North' in every record is a category: na_values = ["North"] would blank it."""
    (tmp_path / "m.csv").write_text("variable,type\nincome,numeric\nregion,numeric\n")
    text = "hh,income,region\n" + "".join(f"0{i},{900 + i},{r}\n" for i, r in
                                          enumerate(["North", "South", "Wales", "North"]))
    with pytest.raises(DataError) as info:
        _load(tmp_path, text, metadata="m.csv")
    message = str(info.value)
    assert "column 'region' of the data set d.csv holds text such as 'North' and 'South' in " \
           "4 of its 4 values" in message
    assert "recode the column as numeric codes (e.g. 1 = North, 2 = South)" in message
    assert "na_values" not in message


def test_metadata_on_a_later_sheet_says_which_sheet_was_read(tmp_path: Path) -> None:
    import pandas as pd
    from mlstat_editimpute.metadata import read_metadata

    with pd.ExcelWriter(tmp_path / "m.xlsx") as book:
        pd.DataFrame({"note": ["see the next sheet"]}).to_excel(book, sheet_name="README",
                                                                index=False)
        pd.DataFrame({"variable": ["income"], "min": [0]}).to_excel(book, sheet_name="vars",
                                                                   index=False)
    with pytest.raises(DataError, match=r"needs a 'variable' column; it has note; it was read "
                                        r"from the first of the workbook's sheets \('README', "
                                        r"'vars'\): put the metadata on the first sheet"):
        read_metadata(tmp_path / "m.xlsx")


def test_a_variable_observed_in_almost_no_record_is_warned_of() -> None:
    """Income observed in 1 record of 1,519 would give every other record that one income,
    flagged but learnt from nothing: fit says so."""
    from mlstat_editimpute.loaders import BudgetUkLoader
    from mlstat_editimpute.models import PmmModel
    from mlstat_editimpute.params import BudgetParams, PmmParams

    ds = BudgetUkLoader(BudgetParams()).load(Path("."))
    ds.frame.loc[1:, "income"] = np.nan
    model = PmmModel(PmmParams(max_iter=20, detect=False))
    with pytest.warns(UserWarning, match=r"'income' has a usable training value in only 1 of "
                                         r"1,519 records \(0\.1%.*learnt from almost nothing"):
        model.fit(ds)
    assert any("'income' has a usable" in w for w in model.fit_warnings)
    assert not any("'wfood' has a usable" in w for w in model.fit_warnings)


def test_a_rule_typed_with_combining_accents_keeps_its_name() -> None:
    """A Mac writes 'dochód' as 'o' and a combining accent (NFD); the data's columns are read
    in NFC. The rule was 'not a valid expression'."""
    import unicodedata

    from mlstat_editimpute.rules import RuleSet

    text = unicodedata.normalize("NFD", "dochód_min: dochód >= 10")
    (rule,) = RuleSet.parse([text]).rules
    assert rule.name == "dochód_min" and rule.variables == ["dochód"]


@pytest.mark.parametrize("codec, encoding", [("utf-8-sig", "utf-8"), ("cp1250", "cp1250")])
def test_json_metadata_is_read_in_the_loaders_encoding(tmp_path: Path, codec: str,
                                                       encoding: str) -> None:
    """A JSON file saved by Windows Notepad (a byte order mark) or in cp1250 was 'not valid
    JSON' or a UnicodeDecodeError traceback, though the metadata is read in `encoding`."""
    import json

    from mlstat_editimpute.metadata import read_metadata

    text = json.dumps([{"variable": "dochód", "max": 9000}], ensure_ascii=False)
    (tmp_path / "m.json").write_bytes(text.encode(codec))
    assert read_metadata(tmp_path / "m.json", encoding)["dochód"].max == 9000


def test_json_metadata_in_another_encoding_names_the_setting(tmp_path: Path) -> None:
    from mlstat_editimpute.metadata import read_metadata

    (tmp_path / "m.json").write_bytes('[{"variable": "dochód"}]'.encode("cp1250"))
    with pytest.raises(DataError, match=r"m.json is not valid utf-8 text; save it as UTF-8 or "
                                        r"set the loader's `encoding`"):
        read_metadata(tmp_path / "m.json")


def test_json_metadata_of_another_shape_is_one_error(tmp_path: Path) -> None:
    from mlstat_editimpute.metadata import read_metadata

    (tmp_path / "m.json").write_text('{"income": "numeric", "age": "integer"}')
    with pytest.raises(DataError, match=r"must hold a list of objects"):
        read_metadata(tmp_path / "m.json")


def test_variables_typed_with_combining_accents_match_the_data(tmp_path: Path) -> None:
    """'dochód' typed on a Mac in `variables` was 'lacks declared column(s) 'dochód'; it has
    ... 'dochód''."""
    import unicodedata

    nfd = unicodedata.normalize("NFD", "dochód")
    ds = _load(tmp_path, "hh,dochód,wydatki\n01,1300,900\n02,950,800\n", variables=[nfd])
    assert ds.roles.features == ["dochód"]


def test_metadata_names_typed_with_combining_accents_match_the_data(tmp_path: Path) -> None:
    import unicodedata

    from mlstat_editimpute.metadata import read_metadata

    (tmp_path / "m.csv").write_text(unicodedata.normalize("NFD", "variable,max\ndochód,9\n"))
    assert list(read_metadata(tmp_path / "m.csv")) == ["dochód"]


def test_a_column_named_twice_is_refused(tmp_path: Path) -> None:
    """pandas reads a second 'income' as 'income.1': the rules would silently edit the
    first."""
    with pytest.raises(DataError, match=r"d.csv has more than one column named 'income' \(the "
                                        r"second read as 'income.1'\)"):
        _load(tmp_path, "hh,income,wfood,income\n01,900,0.4,950\n02,950,0.3,1000\n")


@pytest.mark.parametrize("header, variables", [("q1,q1.1", ["q1", "q1.1"]),
                                               ("income,income.2023", ["income.2023"])])
def test_names_that_look_like_a_renamed_twin_are_read(tmp_path: Path, header: str,
                                                      variables: list[str]) -> None:
    """'q1' beside 'q1.1' is no column named twice: they were refused, even unused."""
    ds = _load(tmp_path, f"hh,{header}\n01,1,2\n02,3,4\n")
    assert ds.roles.features == header.split(",")
    ds = _load(tmp_path, f"hh,{header}\n01,1,2\n02,3,4\n", variables=variables)
    assert ds.roles.features == variables
    # two blank header cells beside them are no name used twice
    ds = _load(tmp_path, f"hh,,{header},\n01,,1,2,\n02,,3,4,\n", variables=variables)
    assert ds.roles.features == variables


def test_an_excel_column_named_twice_is_refused(tmp_path: Path) -> None:
    _workbook(tmp_path / "d.xlsx", ("data", [["hh", "q1", "q1"], ["01", 1, 2], ["02", 3, 4]]))
    with pytest.raises(DataError, match=r"more than one column named 'q1' \(the second read "
                                        r"as 'q1.1'\)"):
        SurveyLoader(SurveyParams(path="d.xlsx", id="hh")).load(tmp_path)
    _workbook(tmp_path / "d.xlsx", ("data", [["hh", "q1", "q1.1"], ["01", 1, 2], ["02", 3, 4]]))
    assert SurveyLoader(SurveyParams(path="d.xlsx", id="hh")).load(tmp_path).roles.features \
        == ["q1", "q1.1"]


def _workbook(path: Path, *sheets: tuple[str, list[list[object]]]) -> None:
    import pandas as pd

    with pd.ExcelWriter(path) as book:
        for name, rows in sheets:
            pd.DataFrame(rows).to_excel(book, sheet_name=name, index=False, header=False)


DATA_ROWS = [["hh", "income", "wfood"], ["01", 900, 0.4], ["02", 950, 0.3]]


def test_an_excel_header_below_a_title_row_is_named(tmp_path: Path) -> None:
    _workbook(tmp_path / "d.xlsx", ("data", [["Household budgets, 2024", None, None],
                                             *DATA_ROWS]))
    loader = SurveyLoader(SurveyParams(path="d.xlsx", id="hh"))
    with pytest.raises(DataError, match=r"lacks declared column\(s\) 'hh'.*its header seems "
                                        r"not to be on the first row; delete the rows above it"):
        loader.load(tmp_path)


def test_data_on_a_later_excel_sheet_names_the_sheet_setting(tmp_path: Path) -> None:
    _workbook(tmp_path / "d.xlsx", ("README", [["note"], ["see the data sheet"]]),
              ("data", DATA_ROWS))
    with pytest.raises(DataError, match=r"it was read from the first of the workbook's sheets "
                                        r"\('README', 'data'\): set the loader's `sheet` "
                                        r"\(for example sheet = \"data\"\)"):
        SurveyLoader(SurveyParams(path="d.xlsx", id="hh")).load(tmp_path)
    ds = SurveyLoader(SurveyParams(path="d.xlsx", id="hh", sheet="data")).load(tmp_path)
    assert ds.frame["hh"].tolist() == ["01", "02"]


def test_a_code_among_decimal_commas_is_the_value_named(tmp_path: Path) -> None:
    """With decimal = ",", a '-' keeps the column as text: '0,4' was named (as a missing-value
    code, or as a formatted number), not the '-'."""
    text = "hh;income;wfood\n01;900;0,4\n02;950;-\n03;1000;0,5\n"
    with pytest.raises(DataError, match=r"column 'wfood' .* holds text such as '-' \(1 value"
                                        r"\(s\), first at data row 2\).*na_values = \[\"-\"\]"):
        _load(tmp_path, text, sep=";", decimal=",", variables=["income", "wfood"])
    ds = _load(tmp_path, text, sep=";", decimal=",", na_values=["-"])
    assert ds.frame["wfood"].tolist()[::2] == [0.4, 0.5]
    with pytest.warns(UserWarning, match=r"column 'wfood' of \S*d.csv holds numbers written "
                                         r"with a decimal comma \(such as '0,4'\)"):
        _load(tmp_path, text, sep=";")  # without decimal = ",": the decimal comma is named
    with pytest.raises(DataError, match=r"column 'wfood' of \S*d.csv holds numbers written with "
                                        r"a decimal comma \(such as '0,4'\)"):
        _load(tmp_path, text, sep=";", variables=["income", "wfood"])


def test_the_id_or_weights_among_the_loaders_variables_is_refused_by_validate() -> None:
    """Named among `variables`, the id ('00017') was read as the number 17 and edited and
    imputed like an answer; so were the weights."""
    from mlstat_core.config import load_config
    from mlstat_core.errors import ConfigError

    pipeline = {"pipeline": {"name": "r", "task": "tabular_imputation"},
                "loader": {"component": "editimpute.survey", "path": __file__, "id": "hh",
                           "weights": "wt", "variables": ["hh", "income", "wt"]},
                "model": {"component": "editimpute.pmm"}}
    with pytest.raises(ConfigError) as caught:
        load_config(pipeline)
    found = {i.field: str(i) for i in caught.value.issues}
    assert "'hh' is the `id` column, which is never edited or imputed" in \
        found["loader.variables.0"]
    assert "'wt' is the `weights` column" in found["loader.variables.2"]


def test_the_id_among_the_models_variables_is_refused(tmp_path: Path) -> None:
    from mlstat_editimpute.models import PmmModel
    from mlstat_editimpute.params import PmmParams

    from mlstat_core.errors import ConfigError

    ds = _load(tmp_path, "hh,income,wfood\n" + "".join(
        f"{i:03d},{900 + i},0.{i % 9 + 1}\n" for i in range(40)))
    with pytest.raises(ConfigError, match=r"model `variables` names 'hh', the data set's id "
                                          r"column, which is never edited or imputed"):
        PmmModel(PmmParams(variables=["hh", "income"], max_iter=20)).fit(ds)


def test_a_decimal_comma_in_the_metadata_gets_the_fix(tmp_path: Path) -> None:
    """'1,000' as a maximum may be 1000 or 1.0: refused with how to write it."""
    from mlstat_editimpute.metadata import read_metadata

    (tmp_path / "m.csv").write_text("variable;min;max\nwfood;0;1,0\n")
    with pytest.raises(DataError, match=r"row 2 \(wfood\): '1,0' is not a number; write it "
                                        r"with '\.' as the decimal mark and without thousands "
                                        r"separators"):
        read_metadata(tmp_path / "m.csv")
