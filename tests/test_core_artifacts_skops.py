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
