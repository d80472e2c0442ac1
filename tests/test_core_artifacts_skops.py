"""skops files: loading one does not import torch through scikit-learn's package walk."""

import importlib.util
import subprocess
import sys

import pytest

CODE = """
import sys
from sklearn.linear_model import LogisticRegression
from mlstat_core.artifacts import load_skops, save_skops
path = sys.argv[1]
save_skops(LogisticRegression().fit([[0.0], [1.0]], [0, 1]), path)
model = load_skops(path)
assert model.predict([[1.0]])[0] == 1
print("torch" in sys.modules)
import sklearn.externals.array_api_compat.torch  # still importable when wanted
print("torch" in sys.modules)
"""


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch installed")
def test_skops_does_not_import_torch(tmp_path):
    out = subprocess.run([sys.executable, "-c", CODE, str(tmp_path / "m.skops")],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True"]


SAVE = """
import sys
import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC
from mlstat_core.artifacts import save_skops
texts = ["mleko 2%", "chleb razowy", "ser zolty", "mleko 3,2%", "chleb", "ser"] * 3
model = make_pipeline(TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3)),
                      LinearSVC(random_state=0))
model.fit(texts, [0, 1, 2] * 6)
shared = np.arange(4.0)
save_skops({"model": model, "sparse": sp.random(6, 6, density=0.3, format="csr",
            random_state=0), "raw": b"bytes", "twice": [shared, shared]}, sys.argv[1])
"""


def test_the_same_model_saved_in_two_processes_gives_the_same_bytes(tmp_path):
    """skops names entries by memory address and stamps them with the time; mlstat's files
    depend on the model alone, so the manifest's hash tells a reproduced model."""
    import time

    from mlstat_core.artifacts import load_skops

    paths = [tmp_path / "a.skops", tmp_path / "b.skops"]
    for seed, path in zip(("1", "2"), paths, strict=True):
        subprocess.run([sys.executable, "-c", SAVE, str(path)], check=True,
                       env={**__import__("os").environ, "PYTHONHASHSEED": seed})
        time.sleep(2.1)  # zip time stamps have two-second steps
    assert paths[0].read_bytes() == paths[1].read_bytes()
    loaded = load_skops(paths[0], trusted=["scipy.sparse._csr.csr_matrix",
                                          "sklearn.svm._classes.LinearSVC"])
    assert list(loaded["model"].predict(["mleko", "ser"])) == [0, 2]
    assert loaded["raw"] == b"bytes" and loaded["sparse"].nnz == 11
    assert loaded["twice"][0] is loaded["twice"][1]  # a shared object stays shared
