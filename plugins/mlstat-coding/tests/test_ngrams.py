"""Hashed n-grams: the same TF-IDF matrix as scikit-learn's, in any batch."""

import numpy as np
import pytest
from mlstat_coding.ngrams import NgramTfidf, char_ngram_hashes, token_hashes, word_ngram_hashes
from sklearn.feature_extraction.text import TfidfVectorizer

TEXTS = ["mleko 2 l łaciate", "ser gouda plastry", "mleko mleko owsiane", "a", "",
         "kawa ziarnista 1kg _mass_", "ser", "żółć ćma"]


@pytest.mark.parametrize(("analyzer", "ngrams"), [("word", (1, 2)), ("word", (1, 3)),
                                                  ("char_wb", (2, 5)), ("char_wb", (1, 3))])
def test_matrix_equals_scikit_learn(analyzer, ngrams):
    mine = NgramTfidf(analyzer, ngrams).fit(TEXTS)
    theirs = TfidfVectorizer(analyzer=analyzer, ngram_range=ngrams, sublinear_tf=True,
                             token_pattern=r"(?u)\b\w+\b").fit(TEXTS)
    names = mine.get_feature_names_out()
    assert sorted(names) == sorted(theirs.vocabulary_)
    order = [theirs.vocabulary_[n] for n in names]
    new = ["mleko ser", "nieznane słowo", "", "gouda"]
    np.testing.assert_allclose(mine.transform(TEXTS + new).toarray(),
                               theirs.transform(TEXTS + new)[:, order].toarray(), atol=1e-6)


def test_hashes_do_not_depend_on_the_batch():
    a = word_ngram_hashes(["kawa mielona", "ser"], 2)[1]
    b = word_ngram_hashes(["ser", "x y", "kawa mielona"], 2)[1]
    assert set(a.tolist()) <= set(b.tolist())
    assert token_hashes(["kawa"])[0] == token_hashes(["ser", "kawa"])[1]
    rows, hashes = char_ngram_hashes(["ab", "abc"], 2, 3)
    assert (rows == 0).sum() == 3 + 2  # " ab " -> " a", "ab", "b " and " ab", "ab "
    assert set(hashes[rows == 0].tolist()) < set(hashes.tolist())
    assert char_ngram_hashes([], 2, 5)[0].shape == (0,)


@pytest.mark.parametrize("analyzer", ["word", "char_wb"])
def test_rows_are_the_same_in_any_batch(analyzer):
    model = NgramTfidf(analyzer, (1, 3)).fit(TEXTS + ["owsiane mleko owsiane"])
    alone = model.transform(["mleko owsiane 1 l"])
    together = model.transform(["ser owsiane", "mleko owsiane 1 l", "owsiane mleko"])[1]
    # same entries in the same order (downstream float sums follow that order)
    assert alone.indices.tolist() == together.indices.tolist()
    assert alone.data.tolist() == together.data.tolist()


def test_min_df_and_errors():
    model = NgramTfidf("word", (1, 1), min_df=2).fit(TEXTS)
    assert set(model.get_feature_names_out()) == {"mleko", "ser"}
    with pytest.raises(ValueError, match="min_df"):
        NgramTfidf("word", (1, 1), min_df=50).fit(TEXTS)
    with pytest.raises(ValueError, match="analyzer"):
        NgramTfidf("char", (1, 1)).fit(TEXTS)


def test_tokenise_fast_path_equals_the_general_one():
    from mlstat_coding.ngrams import tokenise

    regular = ["mleko 2 l", "", "ser", "a b c", ""]
    irregular = ["mleko  2 l", " ser", "a\tb", "c ", ""]
    for texts in (regular, irregular, regular + irregular):
        words, ids, lengths = tokenise(texts)
        splits = [t.split() for t in texts]
        assert lengths.tolist() == [len(x) for x in splits]
        assert [words[i] for i in ids] == [w for x in splits for w in x]


def test_feature_names_survive_skops_and_older_models(tmp_path):
    from mlstat_core.artifacts import load_skops, save_skops

    model = NgramTfidf("char_wb", (2, 4)).fit(TEXTS)
    names = model.get_feature_names_out().tolist()
    assert "żó" in names and len(names) == len(model.idf_)
    save_skops(model, tmp_path / "m.skops")
    again = load_skops(tmp_path / "m.skops",
                       trusted=["mlstat_coding.ngrams.NgramTfidf"])
    assert again.get_feature_names_out().tolist() == names
    # models saved before the names were packed keep a plain list
    older = NgramTfidf("char_wb", (2, 4)).fit(TEXTS)
    del older.names_utf8_, older.names_ends_
    older.feature_names_ = names
    assert older.get_feature_names_out().tolist() == names
