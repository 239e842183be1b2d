"""Fixtures shared by the bytepiece_cpp tests: the shared data folder and its models and goldens.

BYTEPIECE_SHARED_DIR names the folder with models/, golden/ and corpus/ (the CTest test sets
it); tests that need it are skipped, saying why, when it is absent.
"""

import json
import os
import pathlib

import pytest

MODEL_NAMES = [
    "bytepiece.plus.40k",
    "bytepiece.eu.plus.40k",
    "bytepiece.eu.plus.160k",
    "bytepiece.zh.id.eu.40k",
]


def _shared():
    d = os.environ.get("BYTEPIECE_SHARED_DIR")
    if not d:
        here = pathlib.Path(__file__).resolve().parents[2] / ".." / "shared"
        d = str(here)
    return pathlib.Path(d)


@pytest.fixture(scope="session")
def shared_dir():
    d = _shared()
    if not (d / "models").is_dir():
        pytest.skip(f"shared data folder {d} is absent (set BYTEPIECE_SHARED_DIR)")
    return d


@pytest.fixture(scope="session")
def models_dir(shared_dir):
    return shared_dir / "models"


@pytest.fixture(scope="session")
def golden_dir(shared_dir):
    return shared_dir / "golden"


def model_path(shared_dir, name):
    p = shared_dir / "models" / f"{name}.model"
    if not p.is_file():
        pytest.skip(f"{p} is absent")
    return p


@pytest.fixture(scope="session", params=MODEL_NAMES)
def model_name(request):
    return request.param


@pytest.fixture(scope="session")
def small_corpus(shared_dir):
    """Path of corpus/small.txt (skips when it is absent)."""
    p = shared_dir / "corpus" / "small.txt"
    if not p.is_file():
        pytest.skip(f"{p} is absent")
    return p


@pytest.fixture(scope="session")
def small_model(shared_dir):
    """Path of the smallest released model (str, as the reference wants)."""
    return str(model_path(shared_dir, "bytepiece.eu.plus.40k"))


@pytest.fixture(scope="session")
def tokenizer(small_model):
    import bytepiece_cpp

    return bytepiece_cpp.Tokenizer(small_model)


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
