"""fetch_banks, and proof that mlba's file is UCI's bank-full.csv."""

from __future__ import annotations

import csv
import gzip
import hashlib

import numpy as np
import pytest

from keras_sqnn.datasets import fetch_banks
from keras_sqnn.datasets.banks import BANK_FULL_SHA256, age_groups


def _mlba_records(path) -> list[list[str]]:
    with gzip.open(path, "rt", newline="") as stream:
        return list(csv.reader(stream))


@pytest.fixture(scope="module")
def banks(tmp_path_factory):
    return fetch_banks(data_home=tmp_path_factory.mktemp("home"))


def test_mlba_copy_is_uci_bank_full(uci_bank_full):
    # The pinned digest of UCI's bank-full.csv is reproduced from mlba's table.
    assert hashlib.sha256(uci_bank_full).hexdigest() == BANK_FULL_SHA256


def test_rows_labels_and_groups(banks, raw_files):
    header, *records = _mlba_records(raw_files["bank"])
    assert len(records) == 45211 == len(banks) and len(header) == 17
    age = np.array([int(r[0]) for r in records])
    expected_s = np.array([a < 25 or a > 65 for a in age], dtype=np.int32)
    expected_y = np.array([r[16] == "yes" for r in records], dtype=np.int32)
    np.testing.assert_array_equal(banks.s.to_numpy(), expected_s)
    np.testing.assert_array_equal(banks.y.to_numpy(), expected_y)
    assert int(expected_y.sum()) == 5289  # bank-names.txt: 45,211 rows, 11.7% "yes"
    assert np.bincount(banks.s).tolist() == [43651, 1560]
    assert (int((age < 25).sum()), int((age > 65).sum())) == (809, 751)
    assert banks.y.dtype == np.int32 and banks.s.dtype == np.int32


def test_features(banks):
    assert banks.X.shape == (45211, 15)
    assert "age" not in banks.X.columns and "y" not in banks.X.columns
    assert not banks.X.isna().any().any()
    assert set(banks.categorical) | set(banks.continuous) == set(banks.feature_names)
    assert banks.group_names == ["25-65", "<25 or >65"]


def test_include_sensitive_keeps_age(tmp_path):
    ds = fetch_banks(data_home=tmp_path, include_sensitive=True)
    assert "age" in ds.continuous
    np.testing.assert_array_equal(age_groups(ds.X["age"].to_numpy()), ds.s.to_numpy())


def test_uci_csv_in_cache_gives_the_same_dataset(banks, uci_bank_full, tmp_path):
    (tmp_path / "bank-full.csv").write_bytes(uci_bank_full)
    cached = fetch_banks(data_home=tmp_path)
    assert cached.source["bank-full.csv"].startswith("cache: ")
    assert cached.sha256["bank-full.csv"] == BANK_FULL_SHA256
    assert cached.X.equals(banks.X)
    np.testing.assert_array_equal(cached.y, banks.y)


@pytest.mark.parametrize("age", [24, 25, 65, 66])
def test_age_group_boundaries(age):
    assert age_groups(np.array([age])).tolist() == [int(age < 25 or age > 65)]
