import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN_TINY = os.path.dirname(HERE)
REPO = os.path.abspath(os.path.join(TRAIN_TINY, "..", ".."))
sys.path.insert(0, TRAIN_TINY)
sys.path.insert(0, os.path.join(REPO, "tools", "export"))

SHIPPED_MODEL = os.path.join(REPO, "models", "tiny-bilingual")
SHIPPED_GALLERY = os.path.join(REPO, "examples", "data")


@pytest.fixture(scope="session")
def golden_dir():
    path = os.environ.get("CBIR_GOLDEN_DIR") or os.path.join(REPO, "..", "shared", "golden")
    if not os.path.isfile(os.path.join(path, "tokenizer.jsonl")):
        pytest.skip(f"golden parity data not found at {path} (set CBIR_GOLDEN_DIR)")
    return path
