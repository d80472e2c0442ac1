from mlstat_coding.normalise import Normaliser, normalise, stop_words, strip_diacritics
from mlstat_coding.params import NormaliseParams


def test_serbian_cyrillic_equals_latin():
    assert normalise("Чоколада за кување 100 г") == normalise("Čokolada za kuvanje 100 g")
    assert normalise("Љубичасти ЏЕМ") == "ljubičasti džem"
    assert normalise("Ђевреци и ћевапи") == "đevreci i ćevapi"


def test_cyrillic_digraphs_in_capitals_match_latin_without_case_folding():
    """ЉУТО is LJUTO in Latin, not LjUTO; Џем is Džem: they match with lowercase = false."""
    keep_case = {"lowercase": False}
    for cyrillic, latin in [("ЉУТО", "LJUTO"), ("ЏЕМ", "DŽEM"), ("КОЊ", "KONJ"),
                            ("Џем", "Džem"), ("Његош", "Njegoš"), ("ЏЏ", "DŽDŽ")]:
        assert normalise(cyrillic, keep_case) == normalise(latin, keep_case) == latin
    assert Normaliser(keep_case)(["ЉУТО", "Љубав"]) == ["LJUTO", "Ljubav"]


def test_serbian_typed_without_diacritics_matches_with_strip_diacritics():
    """Coders type Serbian Latin in ASCII: đ as dj (Djevreci), č as c, dž as dz."""
    ascii_ = {"strip_diacritics": True}
    assert normalise("Ђевреци", ascii_) == normalise("Đevreci", ascii_) == \
        normalise("Djevreci", ascii_) == "djevreci"
    assert normalise("ЂУВЕЧ, Џем", ascii_) == normalise("Djuvec, dzem", ascii_)


def test_units_are_canonical():
    assert normalise("Coca-Cola 0,5l") == normalise("Coca-Cola 500ml") == \
        normalise("coca cola 500 ML") == "coca cola 500ml _vol_"
    assert normalise("Czekolada 46 g") == "czekolada 46g _mass_"
    assert normalise("Mąka 1,5 kg") == "mąka 1500g _mass_"
    assert normalise("Woda 1.5 l") == "woda 1500ml _vol_"
    assert normalise("2x100g kawa") == "2x _count_ 100g _mass_ kawa"
    # a unit letter that starts a word is not a unit
    assert normalise("3 lody") == "3 lody"


def test_numbers_options():
    assert normalise("Mleko 3,2%", NormaliseParams(numbers="token")) == "mleko _num_"
    assert normalise("Mleko 3,2%", NormaliseParams(numbers="drop")) == "mleko"
    assert normalise("Mleko 3,2%", NormaliseParams(numbers="keep")) == "mleko 3 2"


def test_diacritics_and_case():
    assert strip_diacritics("Żółć ŁĄKA čevap") == "Zolc LAKA cevap"
    assert normalise("Żółty SER", NormaliseParams(strip_diacritics=True)) == "zolty ser"
    assert normalise("Żółty SER") == "żółty ser"
    assert normalise("Żółty SER", NormaliseParams(lowercase=False)) == "Żółty SER"


def test_nfkc_and_missing_values():
    assert normalise("ＡＢＣ\u00a0ﬁt") == "abc fit"
    assert Normaliser()([None, float("nan"), "", "  "]) == ["", "", "", ""]


def test_missing_values_of_every_kind_are_empty():
    """pandas' NA (a Parquet ``string`` column) and NaT are missing, not the words na, nat."""
    import numpy as np
    import pandas as pd

    missing = [pd.NA, pd.NaT, np.float32("nan"), float("nan"), None]
    assert Normaliser()([*missing, "Mleko"]) == [""] * 5 + ["mleko"]
    assert [normalise(v) for v in missing] == [""] * 5
    # a missing value is not the text that its repr spells, in either order in a batch
    for batch in (["None", None, "nan", float("nan"), "<NA>", pd.NA],
                  [None, "None", float("nan"), "nan", pd.NA, "<NA>"]):
        assert Normaliser()(batch) == [normalise(v) for v in batch]


def test_stop_words_per_language():
    assert "dla" in stop_words("pl") and "za" in stop_words("sr") and "the" in stop_words("en")
    params = NormaliseParams(stop_words=["pl"])
    assert normalise("Sok z jabłek i marchwi dla dzieci", params) == "sok jabłek marchwi dzieci"
    params = NormaliseParams(stop_words=["sr"])
    assert normalise("Сок од јабуке за децу", params) == "sok jabuke decu"


def test_batch_equals_one_by_one():
    texts = ["Mleko 2%", "Млеко 2%", "Mleko 2%", None]
    n = Normaliser()
    assert n(texts) == [n.one(t) for t in texts]


def test_batch_of_tricky_texts_equals_one_by_one():
    # texts are cleaned joined by NUL characters: no step may reach across a text's end
    texts = ["Sok 500", "ml jabłkowy", "0,5l", "1,5 kg x 2", "Ab\0cd 5g", None,
             float("nan"), 12, "12", "Млеко 1 l", "ﬁ ２kg", "", "  ", "x5", "5x", "-ą-ł- 3,5%",
             "cukier 1", "kg"]
    for params in ({}, {"stop_words": ["pl"]}, {"numbers": "token", "strip_diacritics": True,
                                                 "min_token_length": 2},
                   {"numbers": "drop", "units": False}):
        n = Normaliser(NormaliseParams(**params))
        assert n(texts) == [n.one(t) for t in texts], params
    assert Normaliser()(["Sok 500", "ml"]) == ["sok 500", "ml"]
