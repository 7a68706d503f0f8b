"""The object every `fetch_*` loader returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True, eq=False)
class Dataset:
    """Features, label and sensitive attribute of one dataset, with its provenance.

    Attributes:
        name: dataset name, e.g. `"adult"`.
        X: features. Tabular loaders return the raw (not encoded) features: a DataFrame
            when `as_frame=True`, else an object array with columns `feature_names`.
            Encode them with `TabularPreprocessor` fitted on a training fold. Biased-MNIST
            returns images of shape `(n, 28, 28, 3)`.
        y: label, integers (0/1, or the digit for Biased-MNIST), `int32`.
        s: sensitive attribute as integers `0..K-1`, `int32`; `group_names[k]` names
            group `k`.
        feature_names: the columns of `X` (empty for images).
        sensitive_name: what `s` is, e.g. `"sex"`.
        group_names: the names of the `K` groups of `s`.
        target_names: the names of the label values.
        categorical: columns of `X` to one-hot encode.
        continuous: columns of `X` to standardize.
        source: for each raw file, where it was read from.
        sha256: for each raw file, its verified sha256 digest.
        is_test: for datasets with an official test split (Adult), a boolean array that
            marks its rows; None otherwise.
        description: a short description of the preprocessing, with row counts.
    """

    name: str
    X: Any
    y: Any
    s: Any
    feature_names: list[str]
    sensitive_name: str
    group_names: list[str]
    target_names: list[str]
    categorical: list[str] = field(default_factory=list)
    continuous: list[str] = field(default_factory=list)
    source: dict[str, str] = field(default_factory=dict)
    sha256: dict[str, str] = field(default_factory=dict)
    is_test: np.ndarray | None = None
    description: str = ""

    @property
    def n_groups(self) -> int:
        """The number of groups `K` of the sensitive attribute."""
        return len(self.group_names)

    def __len__(self) -> int:
        return len(self.y)

    def __repr__(self) -> str:
        shape = getattr(self.X, "shape", None)
        return (
            f"Dataset(name={self.name!r}, X.shape={shape}, "
            f"sensitive_name={self.sensitive_name!r}, group_names={self.group_names})"
        )


def tabular_dataset(
    *,
    name: str,
    frame: pd.DataFrame,
    y: np.ndarray,
    s: np.ndarray,
    sensitive_name: str,
    group_names: list[str],
    target_names: list[str],
    categorical: list[str],
    continuous: list[str],
    source: dict[str, str],
    sha256: dict[str, str],
    as_frame: bool,
    is_test: np.ndarray | None = None,
    description: str = "",
) -> Dataset:
    """Build the `Dataset` of a tabular loader, as frames or as NumPy arrays.

    Args:
        name: dataset name.
        frame: raw features, one column per entry of `categorical + continuous`.
        y: labels (cast to `int32`).
        s: sensitive groups (cast to `int32`).
        sensitive_name: what `s` is.
        group_names: names of the groups.
        target_names: names of the label values.
        categorical: categorical columns.
        continuous: continuous columns.
        source: where each raw file came from.
        sha256: each raw file's digest.
        as_frame: whether `X`, `y` and `s` are pandas objects or NumPy arrays.
        is_test: marker of the official test rows, if any.
        description: the preprocessing summary.

    Returns:
        The dataset.
    """
    frame = frame.reset_index(drop=True)
    y = np.asarray(y, dtype=np.int32)
    s = np.asarray(s, dtype=np.int32)
    features = list(frame.columns)
    X: Any = frame
    y_out: Any = pd.Series(y, name="y")
    s_out: Any = pd.Series(s, name=sensitive_name)
    if not as_frame:
        X = frame.to_numpy(dtype=object)
        y_out, s_out = y, s
    return Dataset(
        name=name,
        X=X,
        y=y_out,
        s=s_out,
        feature_names=features,
        sensitive_name=sensitive_name,
        group_names=group_names,
        target_names=target_names,
        categorical=categorical,
        continuous=continuous,
        source=source,
        sha256=sha256,
        is_test=None if is_test is None else np.asarray(is_test, dtype=bool),
        description=description,
    )
