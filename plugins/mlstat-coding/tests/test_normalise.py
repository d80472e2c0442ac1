from mlstat_coding.normalise import (
    _UNIT_RE,
    UNITS,
    Normaliser,
    normalise,
    stop_words,
    strip_diacritics,
)
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


def test_fractions_of_a_unit():
    """1/2 kg is half a kilogram, not 1 and 2 kg; a slash not before a unit is as before."""
    assert normalise("Cukier 1/2 kg") == normalise("Cukier 0,5 kg") == "cukier 500g _mass_"
    assert normalise("Mąka 1/2kg") == "mąka 500g _mass_"
    assert normalise("Śmietana 1/4 l") == "śmietana 250ml _vol_"
    assert normalise("Mleko 3/4 L") == "mleko 750ml _vol_"
    assert normalise("Ziemniaki 1 1/2 kg") == "ziemniaki 1500g _mass_"
    assert normalise("½ kg") == normalise("1/2 kg")  # NFKC writes ½ as 1⁄2
    assert normalise("6 x 1/2 l") == "6x _count_ 500ml _vol_"
    # no unit after it, or no half or quarter (2/3 kg is a size grade of 2 to 3 kg): as before
    assert normalise("Sok 1/2") == "sok 1 2"
    assert normalise("Krewetki 16/20 mrożone") == "krewetki 16 20 mrożone"
    assert normalise("Margaryna 3/4 tłuszczu") == "margaryna 3 4 tłuszczu"
    assert normalise("Ośmiornica 2/3 kg") == "ośmiornica 2 3000g _mass_"
    assert normalise("Sok 0,5l/1l") == "sok 500ml _vol_ 1000ml _vol_"
    assert normalise("Cukier 1/2 kg", {"numbers": "token"}) == "cukier 500g _mass_"
    assert normalise("Cukier 1/2 kg", {"units": False}) == "cukier 1 2 kg"


def test_vulgar_fractions_after_a_number():
    """1½ kg is one and a half kilograms: NFKC alone writes it 11⁄2 (read 11 2000g)."""
    assert normalise("Mleko 1½ kg") == normalise("Mleko 1 ½ kg") == normalise("Mleko 1 1/2 kg") \
        == "mleko 1500g _mass_"
    for text, expected in [("½ kg", "500g _mass_"), ("1½ kg", "1500g _mass_"),
                           ("2½kg", "2500g _mass_"), ("¼ l", "250ml _vol_"),
                           ("¾ l", "750ml _vol_"), ("Sok 1¾ l", "sok 1750ml _vol_"),
                           ("１½ kg", "1500g _mass_")]:
        assert normalise(text) == expected, text
        assert Normaliser()([text, "Mleko 1½ kg"]) == [expected, "mleko 1500g _mass_"]
    assert normalise("Sok 1½") == "sok 1 1 2"  # no unit: the number is not 11


def test_polish_and_serbian_unit_words():
    """Unit words in their inflected forms (2 litry, 5 litrów; 2 litra, 5 litara), Cyrillic too."""
    for text, amount in [
            ("woda 1,5 litra", "1500ml _vol_"), ("woda 1.5 litr", "1500ml _vol_"),
            ("2 litry", "2000ml _vol_"), ("6 litrów", "6000ml _vol_"),
            ("6 litrow", "6000ml _vol_"), ("250 mililitrów", "250ml _vol_"),
            ("1 gram", "1g _mass_"), ("2 gramy", "2g _mass_"), ("200 gramów", "200g _mass_"),
            ("1,5 kilograma", "1500g _mass_"), ("2 kilogramy", "2000g _mass_"),
            ("10 deka", "100g _mass_"), ("10 dag", "100g _mass_"), ("2 dekagramy", "20g _mass_"),
            ("1 litar", "1000ml _vol_"), ("5 litara", "5000ml _vol_"),
            ("200 grama", "200g _mass_"), ("1 kilograma", "1000g _mass_"),
            ("1 литар", "1000ml _vol_"), ("200 грама", "200g _mass_"),
            ("2 КИЛОГРАМА", "2000g _mass_")]:
        assert normalise(text).endswith(amount), text
        assert normalise(text, {"transliterate": False}).endswith(amount), text
    assert normalise("Mleko 2 litra") == "mleko 2000ml _vol_"
    assert normalise("5 LITRÓW", {"lowercase": False}) == "5000ml _vol_"
    # a unit word without a number before it is a word
    assert normalise("Litra cola") == "litra cola"
    assert normalise("Deka ser gram") == "deka ser gram"


def test_amounts_in_product_strings():
    """A decimal amount stays one token (31,5 g is not 31 and 5 g); an amount right after a
    word's full stop or comma is an amount."""
    assert normalise("Kisiel 31,5 g") == "kisiel 31.5g _mass_"
    assert normalise("Herbata 37,5 g (25 x 1,5 g)") == \
        "herbata 37.5g _mass_ 25x _count_ 1.5g _mass_"
    assert normalise("Witamina C 500 mg") == "witamina c 0.5g _mass_"
    assert normalise("Kisiel 31,5 g", {"numbers": "token"}) == "kisiel 31.5g _mass_"
    assert normalise("Kisiel 31,5 g", {"numbers": "drop"}) == "kisiel 31.5g _mass_"
    assert normalise("Kisiel 31,5 g", {"units": False}) == "kisiel 31 5 g"
    assert normalise("Kisiel 31.5") == "kisiel 31 5"  # a bare number: as before
    for text, expected in [
            ("2x1l", "2x _count_ 1000ml _vol_"), ("6 x 0,5 l", "6x _count_ 500ml _vol_"),
            ("6×1,5l", "6x _count_ 1500ml _vol_"), ("1kg.", "1000g _mass_"),
            ("0.33L", "330ml _vol_"), ("500 ml.", "500ml _vol_"), ("ok. 1 kg", "ok 1000g _mass_"),
            ("ok.1kg", "ok 1000g _mass_"), ("Mleko,1l", "mleko 1000ml _vol_"),
            ("NAP.Z JAB.6X1,5L", "nap z jab 6x _count_ 1500ml _vol_")]:
        assert normalise(text) == expected, text


def test_mixed_scripts():
    """A word typed with Latin look-alikes in Cyrillic (Mлeкo: Latin M, e, o) or the other way
    round is written in one script, with transliteration on or off."""
    pairs = [("Mлeкo", "Млеко"), ("Cиp", "Сир"), ("Пaпpика", "Паприка"), ("Xлеб", "Хлеб"),
             ("Jогурт", "Јогурт"), ("Mlekо", "Mleko"), ("Рiba", "Riba"),
             ("Čоkolada", "Čokolada"), ("Кисела вода 6х1,5л", "Кисела вода 6x1,5л")]
    for params in ({}, {"transliterate": False}, {"lowercase": False},
                   {"transliterate": False, "lowercase": False, "strip_diacritics": True}):
        for mixed, clean in pairs:
            assert normalise(mixed, params) == normalise(clean, params), (mixed, params)
    assert normalise("Mлeкo") == normalise("Mleko") == "mleko"
    assert normalise("Mлeкo 1,5 л", {"transliterate": False}) == "млеко 1500ml _vol_"
    assert normalise("Кисела вода 6х1,5л") == "kisela voda 6x _count_ 1500ml _vol_"
    # every letter has a look-alike in the other script: the script of most of the letters
    assert normalise("Coк", {"transliterate": False}) == "cok"
    assert normalise("Cок", {"transliterate": False}) == "сок"


def test_cyrillic_letters_in_a_latin_word_read_as_serbian():
    """A Cyrillic letter in a Latin word (a keyboard-layout slip) is read as a Serbian reads it,
    not as the Latin letter it looks like: Šećер is šećer, not šećep; Вoda is voda, not boda."""
    for mixed, clean in [("Šećер", "šećer"), ("Вoda", "voda"), ("Нarandža", "narandža"),
                         ("Sirуp", "sirup"), ("Kečaр", "kečar"), ("Čokoladа", "čokolada"),
                         ("Šećер 1kg", "šećer 1000g _mass_")]:
        for params in ({}, {"transliterate": False}):
            assert normalise(mixed, params) == clean, (mixed, params)
    assert normalise("ŠEĆЕР", {"lowercase": False, "transliterate": False}) == "ŠEĆER"
    # Cyrillic typed with Latin look-alikes is still Cyrillic
    assert normalise("Mлeкo") == "mleko"
    assert normalise("Mлeкo", {"transliterate": False}) == "млеко"


def test_unit_words_are_looked_up_after_the_number():
    """Every unit reads after a number, in any case; a word that is no unit stays a word, also
    one that re's case-insensitive matching took for a unit (ſzt, with NFKC off, was a KeyError)."""
    for unit, (token, _, _) in UNITS.items():
        for text in (f"2 {unit}", f"2{unit.upper()}"):
            assert normalise(text, {"transliterate": False}).endswith(token), text
    assert normalise("12 ſzt", {"nfkc": False, "lowercase": False}) == "12 ſzt"
    assert normalise("2 lody 3 kgs 4x") == "2 lody 3 kgs 4x _count_"
    # the unit words are not an alternation in the pattern (that made the step twice slower)
    assert "litrów" not in _UNIT_RE.pattern


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
             "cukier 1", "kg", "Cukier 1/2 kg", "1 1/2 kg", "3/2 l", "½ kg", "ok.1kg",
             "Kisiel 31,5 g", "2 litry", "Litra cola", "Mлeкo", "Mlekо 1 л", "6х1,5л", "х5",
             "Coк", "Čоkolada 2 КГ", "Mleko 1½ kg", "¾ l", "2 lody", "Šećер", "Вoda 1½ l"]
    for params in ({}, {"stop_words": ["pl"]}, {"numbers": "token", "strip_diacritics": True,
                                                 "min_token_length": 2},
                   {"numbers": "drop", "units": False}, {"transliterate": False},
                   {"lowercase": False, "numbers": "drop"}):
        n = Normaliser(NormaliseParams(**params))
        assert n(texts) == [n.one(t) for t in texts], params
    assert Normaliser()(["Sok 500", "ml"]) == ["sok 500", "ml"]


def test_longest_word_counts_letters_of_words_not_numbers_or_units():
    from mlstat_coding.normalise import longest_word

    normaliser = Normaliser()
    cases = {"12": 0, "1 kg": 0, "1,5 l": 0, "kg": 0, "2 szt.": 0, "10 x 20 g": 0, "-": 0,
             "n/a": 1, "a": 1, "7 UP 0,5l": 2, "4Move": 4, "Por": 3, "Млеко 1 л": 5}
    assert {t: longest_word(normaliser.one(t)) for t in cases} == cases
    # with units left as they are, and numbers as _num_
    raw = Normaliser({"units": False, "numbers": "token"})
    assert [longest_word(raw.one(t)) for t in ("500ml", "12", "1,5 l", "Ser 1 kg")] == [
        0, 0, 0, 3]
