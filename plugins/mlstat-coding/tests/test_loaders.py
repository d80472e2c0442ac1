import re
import warnings
from pathlib import Path

import pandas as pd
import pytest
from mlstat_coding.hierarchy import Hierarchy, level_accuracy
from mlstat_coding.loaders import EcoicopLoader, TextTableLoader
from mlstat_coding.params import EcoicopParams, TextTableParams

from mlstat_core.errors import DataError

ROWS = [
    ("1", "Mleko świeże 2%", "01.1.4.1", "shop a"),
    ("2", "Ser żółty gouda", "01.1.4.5", "shop b"),
    ("3", "Masło extra 200 g", "01.1.5.1", "shop a"),
    ("4", "Ser twarogowy", "01.1.4.5", "shop b"),
    ("5", "Mleko UHT 3,2%", "01.1.4.1", "shop a"),
]


def write(tmp_path: Path, rows=ROWS, name="items.csv", encoding="utf-8") -> Path:
    path = tmp_path / name
    frame = pd.DataFrame(rows, columns=["id", "description", "code", "shop"])
    path.write_bytes(frame.to_csv(index=False).encode(encoding))
    return path


def load(tmp_path: Path, **params):
    params.setdefault("path", "items.csv")
    params.setdefault("text", ["description"])
    params.setdefault("code", "code")
    return TextTableLoader(TextTableParams(**params)).load(tmp_path)


def test_ecoicop_loader_maps_every_category_to_a_code():
    ds = EcoicopLoader(EcoicopParams()).load(Path("."))
    assert len(ds) == 16630
    assert ds.roles.text == ["product"] and ds.roles.target == "code"
    assert ds.y.nunique() == 61
    assert ds.y.str.fullmatch(r"01\.[12]\.\d\.\d").all()
    row = ds.frame[ds.frame["category"] == "Margaryna i inne tłuszcze roślinne"].iloc[0]
    assert row["code"] == "01.1.5.2"
    hierarchy = Hierarchy.from_dict(ds.metadata["code_list"])
    assert hierarchy.ancestors("01.1.5.2") == ["01", "01.1", "01.1.5", "01.1.5.2"]
    assert hierarchy.label("01.1.5") == "Oleje i tłuszcze"


def test_ecoicop_loader_can_keep_category_names():
    ds = EcoicopLoader(EcoicopParams(target="category", sample=500)).load(Path("."))
    assert ds.roles.target == "category" and len(ds) == 500
    assert "Kawa" in set(ds.y)


def test_text_table_roles_and_string_codes(tmp_path):
    write(tmp_path)
    ds = load(tmp_path, id="id", auxiliary=["shop"])
    assert ds.roles.auxiliary == ["shop"] and ds.roles.id == "id"
    assert ds.y.iloc[0] == "01.1.4.1"  # not read as a number
    assert ds.sources == [tmp_path / "items.csv"]


def test_missing_text_column_is_a_data_error(tmp_path):
    write(tmp_path)
    with pytest.raises(DataError, match="'label'"):
        load(tmp_path, text=["label"])


def test_non_utf8_file_names_the_file_and_the_encoding_option(tmp_path):
    write(tmp_path, name="cp.csv", encoding="cp1250")
    with pytest.raises(DataError) as info:
        load(tmp_path, path="cp.csv")
    assert "cp.csv" in str(info.value) and "encoding" in str(info.value)
    ds = load(tmp_path, path="cp.csv", encoding="cp1250")
    assert ds.frame["description"].iloc[1] == "Ser żółty gouda"


def test_code_seen_once_is_kept_with_a_warning(tmp_path):
    write(tmp_path)
    with pytest.warns(UserWarning, match="seen once"):
        ds = load(tmp_path)
    assert "01.1.5.1" in set(ds.y)
    with pytest.warns(UserWarning, match="dropped"):
        ds = load(tmp_path, rare_codes="drop")
    assert "01.1.5.1" not in set(ds.y)


def test_text_column_of_one_value_warns(tmp_path):
    rows = [(i, "produkt", c, s) for i, _, c, s in ROWS]
    write(tmp_path, rows)
    with pytest.warns(UserWarning, match="single value"):
        load(tmp_path)


def test_one_empty_text_column_of_several_is_named_empty(tmp_path):
    """An empty column is said to be empty, not to hold "a single value (nan)"."""
    rows = [(i, t, c, "  " if i == "1" else "") for i, t, c, _ in ROWS]
    write(tmp_path, rows)
    with pytest.warns(UserWarning, match="'shop' of .* is empty in every record") as caught:
        ds = load(tmp_path, text=["description", "shop"])
    assert not any("single value" in str(w.message) for w in caught)
    assert len(ds.frame) == len(ROWS)


def test_all_empty_text_is_an_error(tmp_path):
    rows = [(i, "", c, s) for i, _, c, s in ROWS]
    write(tmp_path, rows)
    with pytest.raises(DataError, match="empty in every record"):
        load(tmp_path)


def test_unknown_codes_against_a_code_list(tmp_path):
    write(tmp_path)
    (tmp_path / "codes.csv").write_text(
        "code,label,parent\n01,Food,\n01.1,Food,01\n01.1.4,Milk,01.1\n01.1.4.1,Whole milk,"
        "01.1.4\n01.1.4.5,Cheese,01.1.4\n", encoding="utf-8")
    with pytest.raises(DataError, match="01.1.5.1.*code list"):
        load(tmp_path, code_list="codes.csv")
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        ds = load(tmp_path, code_list="codes.csv", unknown_codes="drop")
    assert set(ds.y) == {"01.1.4.1", "01.1.4.5"}
    assert Hierarchy.from_dict(ds.metadata["code_list"]).label("01.1.4.5") == "Cheese"


def test_codes_that_lost_their_leading_zeros_are_named(tmp_path):
    """A code list (or data) saved from a spreadsheet as numbers: 0111 became 111."""
    rows = [(i, t, c.replace(".", ""), s) for i, t, c, s in ROWS]  # 01141
    write(tmp_path, rows)
    (tmp_path / "codes.csv").write_text(
        "code,label,parent\n114,Milk,\n1141,Whole milk,114\n1145,Cheese,114\n"
        "1151,Butter,114\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"3 of them differ only in zeros.*'01141' and "
                                        r"'1141'.*as text"):
        load(tmp_path, code_list="codes.csv")
    (tmp_path / "codes.csv").write_text(
        "code,label,parent\n1,Food,\n1.1,Milk,01\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"parent\(s\) 01 .*'01' and '1'"):
        load(tmp_path, code_list="codes.csv")
    (tmp_path / "codes.csv").write_text(
        "code,label,parent\n01,Food,\n01141,Whole milk,01\n", encoding="utf-8")
    with pytest.raises(DataError, match="not in the code list") as caught:
        load(tmp_path, code_list="codes.csv")
    assert "zeros" not in str(caught.value)


def test_missing_text_in_a_parquet_string_column_is_empty_text(tmp_path):
    """A Parquet file's ``string`` column gives pandas' NA for a missing text: the record is
    left out of fitting and routed to manual coding as empty text, not coded as "na"."""
    from conftest import build
    from mlstat_coding.routing import REASON_EMPTY

    texts = ["mleko", "ser", "masło", "chleb"]
    frame = pd.DataFrame({
        "description": pd.array([f"{t} {i}" for i in range(6) for t in texts] + [None],
                                dtype="string"),
        "code": [f"0{k}" for _ in range(6) for k in range(1, 5)] + ["01"]})
    frame.to_parquet(tmp_path / "items.parquet")
    data = load(tmp_path, path="items.parquet")
    model = build("linear_svm", target_accuracy=0.5, holdout=0.3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(data)
    assert any("1 training record(s) have empty text" in str(w.message) for w in caught)
    preds = model.predict(data.frame.tail(1))
    assert preds["reason"].tolist() == [REASON_EMPTY]


def test_parquet_codes_stored_as_numbers_read_as_mlstat_predict_reads_them(tmp_path):
    """A float code column (gaps make pandas store 1141 as 1141.0) gives the codes 1141, not
    1141.0, in training as in mlstat predict; the same for a Parquet code list."""
    codes = [1141.0, 1145.0, 1141.0, 1145.0, None]
    pd.DataFrame({"id": range(5), "description": ["a b", "c d", "a", "c", "e"],
                  "code": codes}).to_parquet(tmp_path / "items.parquet")
    pd.DataFrame({"code": [114.0, 1141.0, 1145.0], "label": ["Milk", "Whole", "Cheese"],
                  "parent": [None, 114.0, 114.0]}).to_parquet(tmp_path / "codes.parquet")
    with pytest.warns(UserWarning, match="no code"):
        ds = load(tmp_path, path="items.parquet", id="id", code_list="codes.parquet")
    assert sorted(set(ds.y)) == ["1141", "1145"]
    assert ds.frame["id"].tolist() == ["0", "1", "2", "3"]
    assert Hierarchy.from_dict(ds.metadata["code_list"]).ancestors("1141") == ["114", "1141"]


def test_a_code_typed_partly_as_a_number_warns(tmp_path):
    """An Excel code column typed partly as text (0111), partly as numbers (111)."""
    from mlstat_core.errors import TrainingDataWarning

    codes = ["0111", 111, "0111", 111, "0112", "0112"]
    pd.DataFrame({"description": list("abcdef"), "code": codes}).to_excel(
        tmp_path / "items.xlsx", index=False)
    with pytest.warns(TrainingDataWarning, match=r"'0111' and '111'\) and learnt as different "
                                                 r"codes; if they are one code.*as text"):
        ds = load(tmp_path, path="items.xlsx")
    assert sorted(set(ds.y)) == ["0111", "0112", "111"]
    # codes of the code list are distinct codes: ISCO's 011 and 11
    (tmp_path / "codes.csv").write_text("code,label,parent\n0,Armed,\n01,Officers,0\n011,Co,"
                                        "01\n1,Managers,\n11,Chief,1\n", encoding="utf-8")
    pd.DataFrame({"description": list("abcd"), "code": ["011", "11"] * 2}).to_csv(
        tmp_path / "items.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingDataWarning)
        load(tmp_path, code_list="codes.csv")


def test_bad_code_list_is_a_data_error(tmp_path):
    write(tmp_path)
    (tmp_path / "codes.csv").write_text("code,name\n01,Food\n", encoding="utf-8")
    with pytest.raises(DataError, match="parent"):
        load(tmp_path, code_list="codes.csv")
    (tmp_path / "codes.csv").write_text("code,label,parent\n01,Food,99\n", encoding="utf-8")
    with pytest.raises(DataError, match="99"):
        load(tmp_path, code_list="codes.csv")


def test_duplicate_ids_and_bad_weights(tmp_path):
    rows = [("1", *r[1:]) for r in ROWS]
    write(tmp_path, rows)
    with pytest.raises(DataError, match="not unique"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        load(tmp_path, id="id")
    for blanks in (["3"], ["2", "4"]):  # one blank id was let through, two "not unique (nan)"
        write(tmp_path, [("" if r[0] in blanks else r[0], *r[1:]) for r in ROWS])
        with pytest.raises(DataError, match=f"{len(blanks)} missing value.*data row "
                                            f"{blanks[0]}\\b.*give every record an id"), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            load(tmp_path, id="id")
    write(tmp_path)
    with pytest.raises(DataError, match="weights"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        load(tmp_path, weights="shop")
    # all zero: a DataError, not the model's ValueError blamed on the plugin
    write(tmp_path, [(*r[:3], "0") for r in ROWS])
    with pytest.raises(DataError, match="zero for every record"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        load(tmp_path, weights="shop")
    write(tmp_path, [(*r[:3], "1,5" if r[0] == "4" else "1") for r in ROWS])
    with pytest.raises(DataError, match="not numbers.*'1,5' at record id '4'"), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        load(tmp_path, weights="shop", id="id")
    write(tmp_path, [(*r[:3], "2.5") for r in ROWS])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert load(tmp_path, weights="shop").frame["shop"].tolist() == [2.5] * len(ROWS)


# country of birth: NA is Namibia; pandas reads NA, null, None, N/A, nan as missing by default
AS_WRITTEN = [
    ("1", "None", "NA", "NA"), ("2", "NA", "NA", "x"), ("3", "born abroad", "null", ""),
    ("4", "null", "null", "NA"), ("5", "", "PL", "x"), ("6", "N/A", "PL", "NA"),
    ("7", "text", "", "x"),
]


def as_written(tmp_path: Path, name: str = "items.csv"):
    """The loaded AS_WRITTEN table (written as ``name``) and the warnings of its load."""
    frame = pd.DataFrame(AS_WRITTEN, columns=["id", "description", "code", "shop"])
    path = tmp_path / name
    if name.endswith(".xlsx"):
        frame.replace("", None).to_excel(path, index=False)
    else:
        frame.to_csv(path, index=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = load(tmp_path, path=name, id="id", auxiliary=["shop"])
    return ds, [str(w.message) for w in caught]


@pytest.mark.parametrize("name", ["items.csv", "items.xlsx"])
def test_text_table_reads_codes_texts_and_auxiliaries_as_written(tmp_path, name):
    ds, caught = as_written(tmp_path, name)
    # only the record with an empty code is left out; NA (Namibia) and null are codes
    assert [m for m in caught if "have no code" in m] == [
        f"1 record(s) of {tmp_path / name} have no code and are left out"]
    assert list(ds.frame["id"]) == ["1", "2", "3", "4", "5", "6"]
    assert list(ds.y) == ["NA", "NA", "null", "null", "PL", "PL"]
    assert list(ds.frame["description"].iloc[[0, 1, 3, 5]]) == ["None", "NA", "null", "N/A"]
    assert pd.isna(ds.frame["description"].iloc[4])  # an empty cell is still missing
    assert list(ds.frame["shop"].iloc[[0, 1, 3]]) == ["NA", "x", "NA"]
    assert pd.isna(ds.frame["shop"].iloc[2])


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load(tmp_path, path="nope.csv")


def test_prefix_levels_and_level_accuracy():
    h = Hierarchy()
    assert h.ancestors("01.1.5.2") == ["01", "01.1", "01.1.5", "01.1.5.2"]
    assert h.at_level("01.1.5.2", 2) == "01.1"
    acc = level_accuracy(["01.1.5.2", "01.2.1.1"], ["01.1.5.1", "01.1.1.1"], h)
    assert acc == {1: 1.0, 2: 0.5, 3: 0.5, 4: 0.0}


CODE_LIST = ("code,label,parent\n01,Żywność,\n01.1,Żywność,01\n01.1.4,Mleko, sery i jaja,01.1\n"
             "01.1.4.1,Mleko pełne,01.1.4\n01.1.4.5,Sery i twarogi,01.1.4\n01.1.5,Oleje i tłuszcze,"
             "01.1\n01.1.5.1,Masło,01.1.5\n").replace("Mleko, sery i jaja", '"Mleko, sery i jaja"')


def test_a_code_list_exported_with_cp1250_data_is_read_with_the_loaders_encoding(tmp_path):
    """An old Polish export writes the data and its code list in cp1250: the loader's
    `encoding` reads both, and a UTF-8 code list beside cp1250 data keeps its labels."""
    write(tmp_path, name="cp.csv", encoding="cp1250")
    (tmp_path / "codes_cp.csv").write_bytes(CODE_LIST.encode("cp1250"))
    (tmp_path / "codes_utf8.csv").write_bytes(CODE_LIST.encode("utf-8"))
    for codes in ("codes_cp.csv", "codes_utf8.csv"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = load(tmp_path, path="cp.csv", encoding="cp1250", code_list=codes)
        labels = Hierarchy.from_dict(ds.metadata["code_list"])
        assert labels.label("01.1.4.5") == "Sery i twarogi"
        assert labels.label("01.1.5.1") == "Masło", codes


def test_a_code_list_in_another_encoding_names_its_own_option(tmp_path):
    """A cp1250 code list beside UTF-8 data: the message names the code list and the option
    that reads it (not the loader's `encoding`, which reads the data), and that option works."""
    write(tmp_path)
    (tmp_path / "codes.csv").write_bytes(CODE_LIST.encode("cp1250"))
    with pytest.raises(DataError) as info:
        load(tmp_path, code_list="codes.csv")
    message = str(info.value)
    assert "codes.csv" in message and "code_list_encoding = \"cp1250\"" in message
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = load(tmp_path, code_list="codes.csv", code_list_encoding="cp1250")
    assert Hierarchy.from_dict(ds.metadata["code_list"]).label("01.1.5.1") == "Masło"


def test_a_code_list_reads_na_as_a_code_like_the_data(tmp_path):
    """NA (Namibia) is a code in the training file, so it is one in the code list too."""
    rows = [("1", "born in Windhoek", "NA", "x"), ("2", "born in Swakopmund", "NA", "x"),
            ("3", "born in Kraków", "PL", "x"), ("4", "born in Gdańsk", "PL", "x")]
    write(tmp_path, rows)
    (tmp_path / "codes.csv").write_text("code,label,parent\nAF,Africa,\nNA,Namibia,AF\n"
                                        "EU,Europe,\nPL,Poland,EU\n", encoding="utf-8")
    ds = load(tmp_path, code_list="codes.csv")
    hierarchy = Hierarchy.from_dict(ds.metadata["code_list"])
    assert list(ds.y) == ["NA", "NA", "PL", "PL"]
    assert hierarchy.label("NA") == "Namibia" and hierarchy.ancestors("NA") == ["AF", "NA"]


def test_a_run_of_the_bundled_data_reads_na_in_new_records_as_text(tmp_path):
    """A run trained with coding.ecoicop_pl reads new records as coding.text_table runs do:
    the product names 'NA' and 'null' are scored as text, not routed as empty records, and
    the queue shows them."""
    from mlstat_coding.queue import main

    from mlstat_core import engine

    (tmp_path / "pipeline.toml").write_text(
        '[pipeline]\nname = "eco"\ntask = "text_classification"\nseed = 0\n\n'
        '[loader]\ncomponent = "coding.ecoicop_pl"\nsample = 1500\n\n'
        '[split]\ncomponent = "core.stratified"\ntest_size = 0.15\nvalidation_size = 0.15\n\n'
        '[model]\ncomponent = "coding.linear_svm"\n\n[output]\ndir = "runs"\n',
        encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = engine.run(tmp_path / "pipeline.toml", out=tmp_path / "runs")
    pd.DataFrame({"record_id": ["a", "b", "c"], "product": ["NA", "null", ""]}).to_csv(
        tmp_path / "new.csv", index=False)
    assert main([str(result.run_dir), "--input", str(tmp_path / "new.csv"), "--output",
                 str(tmp_path / "q.csv"), "--all"]) == 0
    queue = pd.read_csv(tmp_path / "q.csv", dtype=str, keep_default_na=False).set_index("record")
    assert queue.loc[["a", "b"], "product"].tolist() == ["NA", "null"]
    assert (queue.loc[["a", "b"], "reason"] != "empty text").all()
    assert queue.loc["c", "reason"] == "empty text"


def test_records_coded_to_a_class_and_to_its_subclasses_warn(tmp_path):
    """A coder coded some cheeses to the class 01.1.4 when unsure: the model would learn it
    as one more code beside 01.1.4.1 and 01.1.4.5; the load says so and what to do."""
    from mlstat_core.errors import TrainingDataWarning

    rows = [*ROWS, ("6", "Ser pleśniowy", "01.1.4", "shop a"), ("7", "Jogurt", "01.1.4", "x")]
    write(tmp_path, rows)
    (tmp_path / "codes.csv").write_text(CODE_LIST, encoding="utf-8")
    with pytest.warns(TrainingDataWarning, match=r"2 record\(s\) .* coded to 1 code\(s\) that "
                                                 r"have codes under them in use too \('01.1.4'\)"):
        ds = load(tmp_path, code_list="codes.csv")
    assert "01.1.4" in set(ds.y)  # kept: the warning informs, the coder decides
    write(tmp_path)  # every record at the lowest level: no such warning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load(tmp_path, code_list="codes.csv")
    assert not [w for w in caught if "under them" in str(w.message)]


def test_a_code_list_saved_with_semicolons_beside_comma_data_is_read(tmp_path):
    """Excel in a Polish locale saves CSV with ';': a code list saved so beside ','-separated
    data is read with ';' (its header names the columns on it), not refused."""
    write(tmp_path)
    (tmp_path / "codes.csv").write_text(CODE_LIST.replace(",", ";"), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = load(tmp_path, code_list="codes.csv")
    labels = Hierarchy.from_dict(ds.metadata["code_list"])
    assert labels.ancestors("01.1.5.1") == ["01", "01.1", "01.1.5", "01.1.5.1"]


def test_a_semicolon_code_list_lacking_a_column_names_that_column(tmp_path):
    """No separator gives all three columns: the message names the one missing on the
    list's own separator, not a wrong advice to save it with ','."""
    (tmp_path / "codes.csv").write_text("code;label\n01;Food\n01.1;Milk, eggs\n",
                                        encoding="utf-8")
    with pytest.raises(DataError, match=r"lacks column\(s\) parent") as info:
        Hierarchy.from_csv(tmp_path / "codes.csv", sep=";")
    assert "save it with ','" not in str(info.value)


def test_a_code_list_saved_with_the_datas_semicolons_is_read_with_the_loaders_sep(tmp_path):
    """Data and code list exported from a Polish Excel: both ';'-separated, read with the
    loader's sep = ";"; a ','-separated code list beside ';' data is read too."""
    frame = pd.DataFrame(ROWS, columns=["id", "description", "code", "shop"])
    frame.to_csv(tmp_path / "items.csv", sep=";", index=False)
    (tmp_path / "semi.csv").write_text(CODE_LIST.replace(",", ";").replace('"Mleko; sery i jaja"',
                                                                          "Mleko, sery i jaja"),
                                       encoding="utf-8")
    (tmp_path / "comma.csv").write_text(CODE_LIST, encoding="utf-8")
    for codes in ("semi.csv", "comma.csv"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = load(tmp_path, sep=";", code_list=codes)
        labels = Hierarchy.from_dict(ds.metadata["code_list"])
        assert labels.label("01.1.4") == "Mleko, sery i jaja", codes
        assert labels.ancestors("01.1.5.1") == ["01", "01.1", "01.1.5", "01.1.5.1"]


@pytest.mark.parametrize(("rows", "loop"), [
    ("01,Food,\n01.1,Food,01\n01.1.4,Milk,01.1.4\n", "'01.1.4' -> '01.1.4'"),
    ("01,Food,\n01.1,Food,01.1.4\n01.1.4,Milk,01.1\n", "'01.1' -> '01.1.4' -> '01.1'"),
])
def test_a_code_list_whose_parents_loop_names_the_file_and_the_codes(tmp_path, rows, loop):
    write(tmp_path, [("1", "Mleko", "01.1.4", "a"), ("2", "Ser", "01.1.4", "b")])
    (tmp_path / "codes.csv").write_text("code,label,parent\n" + rows, encoding="utf-8")
    with pytest.raises(DataError) as info:
        load(tmp_path, code_list="codes.csv")
    message = str(info.value)
    assert "codes.csv has a cycle of parents" in message and loop in message, message
    assert "correct the parent of one of them" in message


@pytest.mark.parametrize(("role", "inputs"), [("code", "auxiliary"), ("code", "text"),
                                              ("id", "auxiliary"), ("id", "text")])
def test_the_code_or_id_column_is_refused_as_a_model_input(role, inputs):
    """A code column read as an auxiliary or text column too gave accuracy 1.000."""
    params = {"path": "items.csv", "text": ["description"], "code": "code", "id": "id",
              "auxiliary": ["shop"]}
    params[inputs] = [*params[inputs], params[role]]
    with pytest.raises(ValueError, match=rf"column '{params[role]}' is the {role} column and "
                                         rf"is also in {inputs}; remove it from {inputs}"):
        TextTableParams(**params)
    TextTableParams(**{**params, inputs: params[inputs][:-1]})  # without it: valid


@pytest.mark.parametrize(("role", "name"), [
    ("auxiliary", "route"), ("auxiliary", "confidence"), ("text", "prediction"),
    ("text", "top_codes"), ("auxiliary", "proba_01.1"), ("id", "reason"),
    ("auxiliary", "fallback_label"), ("id", "margin")])
def test_a_model_input_named_as_a_prediction_column_is_refused(role, name):
    """A shop column named `route`: last cycle's predictions file holds the shop as
    `input_route` and the routing as `route`, which the next cycle's model read as the shop."""
    params = {"path": "items.csv", "text": ["description"], "code": "code",
              "auxiliary": ["shop"], "id": "id"}
    params[role] = name if role == "id" else [*params[role], name]
    with pytest.raises(ValueError, match=rf"{role} column '{re.escape(name)}' has the name of a "
                                         r"column the coding models' predictions hold.*rename "
                                         r"the column in the data"):
        TextTableParams(**params)


def test_the_prediction_columns_refused_as_inputs_are_those_the_models_write():
    """One list of the prediction columns: each column a coding model's predict() writes
    (with a fallback level, so every column) is in it."""
    import numpy as np
    from mlstat_coding.outputs import is_prediction_column
    from mlstat_coding.routing import coding_frame

    proba = np.array([[0.7, 0.2, 0.1], [0.2, 0.3, 0.5]])
    frame = coding_frame(pd.RangeIndex(2), ["01.1.1", "01.1.2", "01.2.1"], proba,
                         np.array([False, True]), 0.6, "margin", 2, Hierarchy(),
                         fallback_level=2)
    assert "fallback_code" in frame and "margin" in frame
    assert [c for c in frame.columns if not is_prediction_column(c)] == []


def test_a_semicolon_code_list_with_a_bad_row_says_what_is_wrong_with_it(tmp_path):
    """The loader's sep = ";" and a ';' code list with an extra field in one row: the error
    names the row's problem, not a ',' reading that finds no columns."""
    frame = pd.DataFrame(ROWS, columns=["id", "description", "code", "shop"])
    frame.to_csv(tmp_path / "items.csv", sep=";", index=False)
    (tmp_path / "codes.csv").write_text("code;label;parent\n01;Food;\n01.1;Milk;01;\n",
                                        encoding="utf-8")
    with pytest.raises(DataError) as info:
        load(tmp_path, sep=";", code_list="codes.csv", unknown_codes="drop")
    message = str(info.value)
    assert "codes.csv is not a well-formed CSV file (Expected 3 fields in line 3, saw 4)" in \
        message and "(';' was used)" in message, message
    assert "lacks column" not in message


def semicolon_code_list(tmp_path: Path) -> Path:
    """CODE_LIST as a Polish Excel saves it: ';' between fields."""
    path = tmp_path / "codes.csv"
    path.write_text(CODE_LIST.replace(",", ";").replace('"Mleko; sery i jaja"',
                                                        "Mleko, sery i jaja"), encoding="utf-8")
    return path


def test_a_semicolon_code_list_beside_excel_data_is_read(tmp_path):
    """Excel data has no field separator to share: the code list is read with the one its
    first lines suggest (it was refused, 'save it with ',' between fields')."""
    pd.DataFrame(ROWS, columns=["id", "description", "code", "shop"]).to_excel(
        tmp_path / "items.xlsx", index=False)
    semicolon_code_list(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = load(tmp_path, path="items.xlsx", code_list="codes.csv")
    labels = Hierarchy.from_dict(ds.metadata["code_list"])
    assert labels.label("01.1.4") == "Mleko, sery i jaja"
    assert labels.ancestors("01.1.5.1") == ["01", "01.1", "01.1.5", "01.1.5.1"]
    (tmp_path / "codes.csv").write_text("code;label;parent\n01;Food;\n01.1;Milk;01;\n",
                                        encoding="utf-8")  # a row that does not fit: named
    with pytest.raises(DataError, match=r"Expected 3 fields in line 3, saw 4"):
        load(tmp_path, path="items.xlsx", code_list="codes.csv")


def test_the_ecoicop_loader_and_the_accuracy_indicator_read_a_semicolon_code_list(tmp_path):
    """The same reading of a code list for the ecoicop loader and the
    coding.hierarchical_accuracy indicator, which know no data separator."""
    from types import SimpleNamespace

    from mlstat_coding.indicators import context_hierarchy

    semicolon_code_list(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = EcoicopLoader(EcoicopParams(code_list="codes.csv", unknown_codes="drop",
                                         sample=500)).load(tmp_path)
    assert Hierarchy.from_dict(ds.metadata["code_list"]).label("01.1.4") == "Mleko, sery i jaja"
    ctx = SimpleNamespace(settings={"base_dir": str(tmp_path)})
    hierarchy = context_hierarchy(ctx, "codes.csv")
    assert hierarchy.ancestors("01.1.4.5") == ["01", "01.1", "01.1.4", "01.1.4.5"]
