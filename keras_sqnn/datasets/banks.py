"""The UCI Bank marketing dataset (bank-full)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from os import PathLike

import numpy as np
import pandas as pd

from keras_sqnn.datasets._dataset import Dataset, tabular_dataset
from keras_sqnn.datasets.sources import (
    SETUP_COMMAND,
    CachedFile,
    FileSpec,
    PackageFile,
    ResolvedFile,
    resolve,
)

# sha256 of UCI's bank-full.csv (inside bank.zip). The mlba copy is the same table in
# another layout (comma-separated, unquoted, CRLF); tests rebuild UCI's bytes from it.
BANK_FULL_SHA256 = "d1513ec63b385506f7cfce9f2c5caa9fe99e7ba4e8c3fa264b3aaf0f849ed32d"
BANK_FILE = FileSpec(
    name="bank-full.csv",
    cached=(
        CachedFile(
            "bank.zip", "99d7e8eb12401ed278b793984423915411ea8df099e1795f9fefe254f513fe5e", "zip"
        ),
        CachedFile("bank-full.csv", BANK_FULL_SHA256, "uci-csv"),
    ),
    package=PackageFile(
        "mlba==2.0.5",
        "mlba",
        "csvFiles/Bank-bias-data.csv.gz",
        "455eeb37c77daff603109318052ae5af575e111615c3b98b4a477ca9a9f1316d",
        "mlba-csv-gz",
    ),
    url="https://archive.ics.uci.edu/ml/machine-learning-databases/00222/bank.zip",
)

COLUMNS = [
    "age",
    "job",
    "marital",
    "education",
    "default",
    "balance",
    "housing",
    "loan",
    "contact",
    "day",
    "month",
    "duration",
    "campaign",
    "pdays",
    "previous",
    "poutcome",
    "y",
]
CONTINUOUS = ["age", "balance", "day", "duration", "campaign", "pdays", "previous"]
CATEGORICAL = [
    "job",
    "marital",
    "education",
    "default",
    "housing",
    "loan",
    "contact",
    "month",
    "poutcome",
]
GROUP_NAMES = ["25-65", "<25 or >65"]


def read_bank_file(file: ResolvedFile) -> pd.DataFrame:
    """Read bank-full from UCI's zip or csv (`;`-separated) or from mlba's gzip csv.

    Args:
        file: the resolved raw file; its `fmt` says which layout it has.

    Returns:
        The 17 columns, numbers as int64 and the others as strings.
    """
    dtypes = {c: str for c in COLUMNS if c not in CONTINUOUS}
    if file.fmt == "mlba-csv-gz":
        frame = pd.read_csv(file.path, compression="gzip", dtype=dtypes)
    elif file.fmt == "uci-csv":
        frame = pd.read_csv(file.path, sep=";", dtype=dtypes)
    elif file.fmt == "zip":
        frame = pd.read_csv(io.BytesIO(_zip_member(file)), sep=";", dtype=dtypes)
    else:
        raise ValueError(f"Expected a known bank file format. Received: fmt={file.fmt!r}")
    if list(frame.columns) != COLUMNS:
        raise ValueError(f"Expected the columns {COLUMNS}. Received: {list(frame.columns)}")
    return frame


def _zip_member(file: ResolvedFile) -> bytes:
    """Return `bank-full.csv` from UCI's `bank.zip`, checked against its pinned digest."""
    with zipfile.ZipFile(file.path) as archive:
        data = archive.read("bank-full.csv")
    digest = hashlib.sha256(data).hexdigest()
    if digest != BANK_FULL_SHA256:
        raise ValueError(
            f"Expected bank-full.csv in {file.path} to have sha256={BANK_FULL_SHA256}. "
            f"Delete the archive or run `{SETUP_COMMAND}`. Received: sha256={digest}"
        )
    return data


def age_groups(age: np.ndarray) -> np.ndarray:
    """Return the paper's binary age group: 1 when `age < 25` or `age > 65`, else 0.

    Example:
    >>> age_groups(np.array([24, 25, 65, 66])).tolist()
    [1, 0, 0, 1]
    """
    age = np.asarray(age)
    return ((age < 25) | (age > 65)).astype(np.int32)


def fetch_banks(
    *,
    data_home: str | PathLike[str] | None = None,
    as_frame: bool = True,
    include_sensitive: bool = False,
    download_if_missing: bool = True,
) -> Dataset:
    """Load UCI Bank marketing (bank-full): label subscription, sensitive attribute age.

    Preprocessing of `bank-full.csv` (45,211 rows, 17 columns, no missing values; the
    string `"unknown"` is an ordinary category):

    - label `y = 1` when the client subscribed a term deposit (`y == "yes"`: 5,289 rows);
    - `s` = age group, the paper's definition: 1 when age < 25 or age > 65 (1,560 rows:
      809 under 25, 751 over 65), else 0 (43,651 rows);
    - features: the 16 attributes except `age` (unless `include_sensitive=True`), all
      rows kept. Continuous: age, balance, day, duration, campaign, pdays, previous;
      categorical: job, marital, education, default, housing, loan, contact, month,
      poutcome. `duration` is kept as published although UCI notes that it is only known
      after the call.

    Features are returned raw; encode them with `TabularPreprocessor` fitted on a training
    fold (see `nested_folds` and `train_test_arrays`).

    The data comes from the cache dir (`bank.zip` or `bank-full.csv`), else the
    `mlba==2.0.5` package (the same table, comma-separated), else UCI's `bank.zip`; each
    file is checked against its pinned sha256.

    Args:
        data_home: cache dir; default `$KERAS_HOME/datasets` or `~/.keras/datasets`.
        as_frame: return `X` as a DataFrame and `y`, `s` as Series; else NumPy arrays.
        include_sensitive: keep the `age` column in `X`.
        download_if_missing: download `bank.zip` from UCI when no copy is on disk.

    Returns:
        A `Dataset` with 45,211 rows.

    Example:
    >>> ds = fetch_banks()
    >>> ds.X.shape, ds.group_names
    ((45211, 15), ['25-65', '<25 or >65'])

    References:
        Moro, S., Cortez, P., Rita, P. (2014). A data-driven approach to predict the
        success of bank telemarketing. Decision Support Systems 62, 22-31.
    """
    file = resolve(BANK_FILE, data_home, download_if_missing)
    frame = read_bank_file(file)
    labels = sorted(set(frame["y"]))
    if labels != ["no", "yes"]:
        raise ValueError(f"Expected y in {{'no', 'yes'}}. Received: {labels}")
    features = [c for c in COLUMNS if c != "y" and (include_sensitive or c != "age")]
    return tabular_dataset(
        name="banks",
        frame=frame[features],
        y=(frame["y"] == "yes").to_numpy(),
        s=age_groups(frame["age"].to_numpy()),
        sensitive_name="age",
        group_names=list(GROUP_NAMES),
        target_names=["no", "yes"],
        categorical=list(CATEGORICAL),
        continuous=[c for c in CONTINUOUS if c in features],
        source={BANK_FILE.name: file.source},
        sha256={BANK_FILE.name: file.sha256},
        as_frame=as_frame,
        description="UCI bank-full (45,211 rows); s = age < 25 or > 65",
    )
