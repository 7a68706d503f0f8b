"""fetch_compas against ProPublica's filter re-implemented with the csv module."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from keras_sqnn.datasets import fetch_compas


def _propublica_rows(path) -> list[dict[str, str]]:
    """Rows kept by ProPublica's R filter, written out field by field on the raw text."""
    with open(path, newline="") as stream:
        reader = csv.reader(stream)
        header = next(reader)
        records = list(reader)
    assert len(records) == 7214 and len(header) == 53
    # The header repeats decile_score and priors_count: keep the first of each, as R.
    first = {name: header.index(name) for name in header}
    kept = []
    for record in records:
        row = {name: record[i] for name, i in first.items()}
        days = row["days_b_screening_arrest"]
        if days == "" or not -30 <= int(days) <= 30:
            continue
        if row["is_recid"] == "-1" or row["c_charge_degree"] == "O":
            continue
        if row["score_text"] == "N/A":
            continue
        kept.append(row)
    return kept


@pytest.fixture(scope="module")
def reference(raw_files):
    return _propublica_rows(raw_files["compas"])


@pytest.fixture(scope="module")
def compas(tmp_path_factory):
    return fetch_compas(data_home=tmp_path_factory.mktemp("home"))


def test_propublica_filter_keeps_6172_rows(reference):
    assert len(reference) == 6172


def test_rows_labels_and_groups(compas, reference):
    rows = [r for r in reference if r["race"] in ("African-American", "Caucasian")]
    assert len(rows) == 5278 == len(compas)
    expected_y = np.array([int(r["two_year_recid"]) for r in rows])
    expected_s = np.array([r["race"] == "Caucasian" for r in rows], dtype=np.int32)
    np.testing.assert_array_equal(compas.y.to_numpy(), expected_y)
    np.testing.assert_array_equal(compas.s.to_numpy(), expected_s)
    np.testing.assert_array_equal(
        compas.X["priors_count"].to_numpy(), [int(r["priors_count"]) for r in rows]
    )
    assert np.bincount(compas.s).tolist() == [3175, 2103]
    assert int(compas.y.sum()) == 2483
    assert compas.y.dtype == np.int32 and compas.s.dtype == np.int32


def test_features_have_no_missing_values(compas):
    assert compas.X.shape == (5278, 8)
    assert not compas.X.isna().any().any()
    assert "race" not in compas.X.columns
    assert not {"decile_score", "score_text", "two_year_recid", "id"} & set(compas.X.columns)
    assert compas.group_names == ["African-American", "Caucasian"]
    assert compas.sensitive_name == "race"


def test_include_sensitive(tmp_path):
    ds = fetch_compas(data_home=tmp_path, include_sensitive=True, as_frame=False)
    race = ds.X[:, ds.feature_names.index("race")]
    np.testing.assert_array_equal(race == "Caucasian", ds.s == 1)
    assert "race" in ds.categorical
