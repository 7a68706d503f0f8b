"""fetch_compas / fetch_adult with several sensitive columns: `sensitive=("race", "sex")`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from keras_sqnn.datasets import fetch_adult, fetch_compas, nested_folds, train_test_arrays
from keras_sqnn.information import mixed_radix_ids

ADULT_RACES = ["Amer-Indian-Eskimo", "Asian-Pac-Islander", "Black", "Other", "White"]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def compas_all(home):
    """The default dataset, with the sensitive column kept: the reference for the ids."""
    return fetch_compas(data_home=home, include_sensitive=True)


@pytest.fixture(scope="module")
def compas_both(home):
    return fetch_compas(data_home=home, sensitive=("race", "sex"))


def test_compas_race_and_sex_columns_hold_the_ids_of_each_attribute(compas_all, compas_both):
    assert len(compas_both) == len(compas_all) == 5278
    assert isinstance(compas_both.s, pd.DataFrame)
    assert list(compas_both.s.columns) == ["race", "sex"]
    assert compas_both.s.shape == (5278, 2)
    np.testing.assert_array_equal(compas_both.s["race"], compas_all.s)
    expected_sex = (compas_all.X["sex"] == "Male").to_numpy().astype(np.int32)
    np.testing.assert_array_equal(compas_both.s["sex"], expected_sex)
    assert compas_both.s.dtypes.tolist() == [np.int32, np.int32]
    np.testing.assert_array_equal(compas_both.y, compas_all.y)
    assert np.bincount(compas_both.s["race"]).tolist() == [3175, 2103]
    assert np.bincount(compas_both.s["sex"]).tolist() == [1031, 4247]


def test_compas_group_counts_names_and_features(compas_both):
    assert compas_both.group_counts == (2, 2)
    assert compas_both.n_groups == 4
    assert compas_both.sensitive_names == ("race", "sex")
    assert compas_both.sensitive_name == "race x sex"
    assert compas_both.attribute_group_names == (
        ["African-American", "Caucasian"],
        ["Female", "Male"],
    )
    assert compas_both.group_names == [
        "African-American & Female",
        "Caucasian & Female",
        "African-American & Male",
        "Caucasian & Male",
    ]
    assert "sex" not in compas_both.feature_names and "race" not in compas_both.feature_names
    assert len(compas_both.feature_names) == 7  # the default 8 less sex


def test_compas_intersection_names_follow_the_layers_mixed_radix_id(compas_all, compas_both):
    ids = np.asarray(mixed_radix_ids(compas_both.s.to_numpy(), compas_both.group_counts))
    names = np.array(compas_both.group_names)[ids]
    race = np.array(compas_all.group_names)[compas_all.s.to_numpy()]
    expected = [f"{r} & {x}" for r, x in zip(race, compas_all.X["sex"], strict=True)]
    np.testing.assert_array_equal(names, expected)


def test_compas_arrays_and_one_other_attribute(home, compas_all):
    arrays = fetch_compas(data_home=home, sensitive=("race", "sex"), as_frame=False)
    assert isinstance(arrays.s, np.ndarray)
    assert arrays.s.shape == (5278, 2) and arrays.s.dtype == np.int32
    by_sex = fetch_compas(data_home=home, sensitive="sex")
    assert by_sex.s.ndim == 1 and by_sex.s.name == "sex"
    assert by_sex.group_names == ["Female", "Male"] and by_sex.group_counts == (2,)
    assert "sex" not in by_sex.feature_names and "race" in by_sex.feature_names
    age = fetch_compas(data_home=home, sensitive=["age_cat"])  # a one-name sequence: 1-D
    assert age.s.ndim == 1 and age.n_groups == 3
    order = ["Less than 25", "25 - 45", "Greater than 45"]
    np.testing.assert_array_equal(
        age.s, pd.Categorical(compas_all.X["age_cat"], categories=order).codes
    )


def test_default_is_unchanged_and_single_attribute_counts_are_one_tuple(compas_all):
    assert compas_all.group_counts == (2,)
    assert compas_all.sensitive_names == () and compas_all.attribute_group_names == ()
    assert compas_all.s.ndim == 1


@pytest.mark.parametrize("sensitive", ["age", ("race", "race"), (), ("race", "income")])
def test_unknown_or_repeated_attributes_are_rejected(home, sensitive):
    with pytest.raises(ValueError, match=r"Expected `sensitive` to be one of \['race', 'sex'"):
        fetch_compas(data_home=home, sensitive=sensitive)
    with pytest.raises(ValueError, match=r"Expected `sensitive` to be one of \['sex', 'race'\]"):
        fetch_adult(data_home=home, sensitive=sensitive)


def test_adult_sex_and_race(home):
    reference = fetch_adult(data_home=home, include_sensitive=True)
    both = fetch_adult(data_home=home, sensitive=("sex", "race"))
    assert both.s.shape == (48842, 2) and list(both.s.columns) == ["sex", "race"]
    assert both.group_counts == (2, 5) and both.n_groups == 10
    np.testing.assert_array_equal(both.s["sex"], reference.s)
    np.testing.assert_array_equal(
        both.s["race"], [ADULT_RACES.index(r) for r in reference.X["race"]]
    )
    assert np.bincount(both.s["race"]).tolist() == [470, 1519, 4685, 406, 41762]
    assert both.group_names[:3] == [
        "Female & Amer-Indian-Eskimo",
        "Male & Amer-Indian-Eskimo",
        "Female & Asian-Pac-Islander",
    ]
    assert "race" not in both.feature_names and "sex" not in both.feature_names
    np.testing.assert_array_equal(both.is_test, reference.is_test)
    kept = fetch_adult(data_home=home, sensitive=("sex", "race"), include_sensitive=True)
    assert {"race", "sex"} <= set(kept.feature_names)


def test_folds_stratify_on_intersections_and_arrays_keep_the_columns(compas_both):
    folds = nested_folds(compas_both.y, compas_both.s, seed=0)
    s = compas_both.s.to_numpy()
    ids = s[:, 0] + 2 * s[:, 1]
    for fold in folds:  # each intersection is split in the same proportion as the data
        for group in range(4):
            share = np.mean(ids[fold.test] == group)
            assert share == pytest.approx(np.mean(ids == group), abs=2 / len(fold.test))
    arrays = train_test_arrays(compas_both, folds[0].train, folds[0].test)
    assert arrays.s_train.shape == (len(folds[0].train), 2)
    np.testing.assert_array_equal(arrays.s_test, s[folds[0].test])
