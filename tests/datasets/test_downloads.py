"""The download step (keras.utils.get_file with pinned digests), offline and on loopback.

No test here reaches the internet: downloads come from `file://` URLs or from an HTTP
server on 127.0.0.1 that the test starts and stops.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import http.server
import shutil
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

from keras_sqnn.datasets import (
    adult,
    banks,
    biased_mnist,
    compas,
    fetch_adult,
    fetch_banks,
    fetch_biased_mnist,
    fetch_compas,
)
from keras_sqnn.datasets.biased_mnist import load_mnist


def _offline_spec(module, attribute: str, url: str, **download_changes) -> None:
    """Point a FileSpec at `url` with no package copy; optionally change its digest."""
    spec = getattr(module, attribute)
    cached = list(spec.cached)
    cached[0] = dataclasses.replace(cached[0], **download_changes)
    return dataclasses.replace(spec, url=url, package=None, cached=tuple(cached))


@pytest.fixture
def served(tmp_path):
    """A directory of files served over HTTP on 127.0.0.1, stopped after the test."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_adult_downloads_over_http_with_the_pinned_digests(
    monkeypatch, served, raw_files, empty_home
):
    root, base = served
    shutil.copy(raw_files["adult.data"], root / "adult.data")
    shutil.copy(raw_files["adult.test"], root / "adult.test")
    for attribute, name in (("ADULT_TRAIN_FILE", "adult.data"), ("ADULT_TEST_FILE", "adult.test")):
        spec = _offline_spec(adult, attribute, f"{base}/{name}")
        monkeypatch.setattr(adult, attribute, spec)
    ds = fetch_adult(data_home=empty_home)
    assert ds.source["adult.data"] == (
        f"download: {base}/adult.data -> {empty_home / 'adult.data'}"
    )
    assert (empty_home / "adult.test").is_file()
    assert len(ds) == 48842
    # The next call finds the downloaded files in the cache and makes no request.
    root.joinpath("adult.data").unlink()
    assert fetch_adult(data_home=empty_home).source["adult.data"].startswith("cache: ")


def test_compas_downloads_from_a_file_url(monkeypatch, raw_files, empty_home, tmp_path):
    origin = tmp_path / "origin.csv"
    shutil.copy(raw_files["compas"], origin)
    monkeypatch.setattr(
        compas, "COMPAS_FILE", _offline_spec(compas, "COMPAS_FILE", origin.as_uri())
    )
    ds = fetch_compas(data_home=empty_home)
    assert ds.source["compas-scores-two-years.csv"].startswith(f"download: {origin.as_uri()}")
    assert len(ds) == 5278


def test_download_with_another_digest_is_refused_and_removed(
    monkeypatch, raw_files, empty_home, tmp_path
):
    origin = tmp_path / "origin.csv"
    origin.write_bytes(raw_files["compas"].read_bytes().replace(b"Caucasian", b"Other"))
    monkeypatch.setattr(
        compas, "COMPAS_FILE", _offline_spec(compas, "COMPAS_FILE", origin.as_uri())
    )
    with pytest.raises(RuntimeError, match=r"Could not download .*hash does not match"):
        fetch_compas(data_home=empty_home)
    assert not (empty_home / "compas-scores-two-years.csv").exists()


def test_banks_downloads_the_uci_zip(monkeypatch, uci_bank_full, empty_home, tmp_path):
    archive = tmp_path / "bank.zip"
    with zipfile.ZipFile(archive, "w") as stream:
        stream.writestr("bank-full.csv", uci_bank_full)
        stream.writestr("bank.csv", "a 10% sample, unused\n")
    # The zip's own bytes differ from UCI's (timestamps), so its digest is replaced; the
    # member bank-full.csv is still checked against UCI's pinned digest.
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    spec = _offline_spec(banks, "BANK_FILE", archive.as_uri(), sha256=digest)
    monkeypatch.setattr(banks, "BANK_FILE", spec)
    ds = fetch_banks(data_home=empty_home)
    assert ds.source["bank-full.csv"].startswith("download: ")
    assert (empty_home / "bank.zip").is_file()
    reference = fetch_banks(data_home=tmp_path / "other_home")  # from the mlba package
    assert ds.X.equals(reference.X)
    np.testing.assert_array_equal(ds.y, reference.y)


def test_zip_with_a_changed_member_is_refused(monkeypatch, uci_bank_full, empty_home):
    archive = empty_home / "bank.zip"
    content = uci_bank_full.replace(b'"yes"', b'"no"', 1)
    with zipfile.ZipFile(archive, "w") as stream:
        stream.writestr("bank-full.csv", content)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    monkeypatch.setattr(banks, "BANK_FILE", _offline_spec(banks, "BANK_FILE", "", sha256=digest))
    with pytest.raises(ValueError, match=r"Expected bank-full.csv in .* sha256=d1513ec"):
        fetch_banks(data_home=empty_home)


def test_mnist_npz_download_gives_the_same_arrays(monkeypatch, empty_home, tmp_path):
    parts, _ = load_mnist(data_home=tmp_path / "pkl_home")
    npz = tmp_path / "served.npz"
    np.savez(
        npz,
        x_train=parts["train"][0],
        y_train=parts["train"][1].astype(np.uint8),
        x_test=parts["test"][0],
        y_test=parts["test"][1].astype(np.uint8),
    )
    # Keras' real mnist.npz cannot be rebuilt byte for byte offline: pin this one instead.
    digest = hashlib.sha256(npz.read_bytes()).hexdigest()
    spec = _offline_spec(biased_mnist, "MNIST_FILE", npz.as_uri(), sha256=digest)
    monkeypatch.setattr(biased_mnist, "MNIST_FILE", spec)
    from_npz = fetch_biased_mnist(split="test", data_home=empty_home, dtype="uint8")
    assert from_npz.source["mnist"].startswith("download: ")
    assert (empty_home / "mnist.npz").is_file()
    monkeypatch.undo()
    from_pickle = fetch_biased_mnist(split="test", data_home=tmp_path / "h2", dtype="uint8")
    np.testing.assert_array_equal(from_npz.X, from_pickle.X)
    np.testing.assert_array_equal(from_npz.y, from_pickle.y)


def test_unreachable_url_names_the_install_command(monkeypatch, empty_home, tmp_path):
    missing = Path(tmp_path / "nowhere.csv").as_uri()
    monkeypatch.setattr(compas, "COMPAS_FILE", _offline_spec(compas, "COMPAS_FILE", missing))
    with pytest.raises(RuntimeError) as info:
        fetch_compas(data_home=empty_home)
    assert "Could not download compas-scores-two-years.csv" in str(info.value)
    assert "bash scripts/setup.sh" in str(info.value)
