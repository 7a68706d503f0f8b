"""The object every `fetch_*` loader returns."""

from __future__ import annotations

from collections.abc import Sequence
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
            group `k`. With several sensitive attributes (`fetch_*(sensitive=(...))`), one
            column per attribute: shape `(n, k)` (a DataFrame with the columns
            `sensitive_names` when `as_frame=True`), column i in `0..group_counts[i]-1`.
        feature_names: the columns of `X` (empty for images).
        sensitive_name: what `s` is, e.g. `"sex"`; for several attributes their names
            joined by `" x "`, e.g. `"race x sex"`.
        group_names: the names of the `K` groups of `s`. For several attributes, the names
            of their `K = prod(group_counts)` intersections, such as
            `"African-American & Female"`, indexed by the mixed-radix id
            `s[:, 0] + g_0 * (s[:, 1] + g_1 * ...)` of
            `keras_sqnn.information.mixed_radix_ids` (the id a layer with
            `num_groups=group_counts` regularizes against).
        target_names: the names of the label values.
        categorical: columns of `X` to one-hot encode.
        continuous: columns of `X` to standardize.
        source: for each raw file, where it was read from.
        sha256: for each raw file, its verified sha256 digest.
        is_test: for datasets with an official test split (Adult), a boolean array that
            marks its rows; None otherwise.
        description: a short description of the preprocessing, with row counts.
        sensitive_names: for several attributes, the name of each column of `s`; empty for
            one attribute.
        attribute_group_names: for several attributes, the group names of each column of
            `s`; empty for one attribute.
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
    sensitive_names: tuple[str, ...] = ()
    attribute_group_names: tuple[list[str], ...] = ()

    @property
    def n_groups(self) -> int:
        """The number of groups `K` of the sensitive attribute (of intersections for several)."""
        return len(self.group_names)

    @property
    def group_counts(self) -> tuple[int, ...]:
        """The number of groups of each column of `s`: `(K,)` for one attribute.

        What a stochastic layer's `num_groups` takes: `num_groups=ds.group_counts`.
        """
        if self.attribute_group_names:
            return tuple(len(names) for names in self.attribute_group_names)
        return (self.n_groups,)

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
    sensitive_name: str | Sequence[str],
    group_names: list[str] | Sequence[list[str]],
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
        s: sensitive groups (cast to `int32`), shape `(n,)`, or `(n, k)` for k attributes.
        sensitive_name: what `s` is, or the name of each of its k columns.
        group_names: names of the groups, or for k attributes the names of each one's.
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
    attributes: dict[str, Any] = {}
    names: list[str]
    if isinstance(sensitive_name, str):
        s_out: Any = pd.Series(s, name=sensitive_name)
        label, names = sensitive_name, [str(each) for each in group_names]
    else:
        columns = tuple(sensitive_name)
        per_column = tuple(list(each) for each in group_names)
        s_out = pd.DataFrame(s, columns=list(columns))
        label, names = " x ".join(columns), intersection_names(per_column)
        attributes = {"sensitive_names": columns, "attribute_group_names": per_column}
    if not as_frame:
        X = frame.to_numpy(dtype=object)
        y_out, s_out = y, s
    return Dataset(
        name=name,
        X=X,
        y=y_out,
        s=s_out,
        feature_names=features,
        sensitive_name=label,
        group_names=names,
        target_names=target_names,
        categorical=categorical,
        continuous=continuous,
        source=source,
        sha256=sha256,
        is_test=None if is_test is None else np.asarray(is_test, dtype=bool),
        description=description,
        **attributes,
    )


def intersection_names(group_names: Sequence[list[str]]) -> list[str]:
    """Names of the intersections of several attributes, in mixed-radix id order.

    Id `s_0 + g_0 * (s_1 + g_1 * ...)` is named `"<name of s_0> & <name of s_1> & ..."`:
    the first attribute varies fastest.

    Example:
    >>> intersection_names([["F", "M"], ["a", "b", "c"]])[:3]
    ['F & a', 'M & a', 'F & b']
    """
    names = [""]
    for column in reversed(group_names):
        names = [f"{value} & {rest}" if rest else value for rest in names for value in column]
    return names


def sensitive_ids(
    frame: pd.DataFrame,
    sensitive: str | Sequence[str],
    choices: dict[str, list[str]],
    dataset: str,
) -> tuple[str | tuple[str, ...], np.ndarray, list[str] | tuple[list[str], ...]]:
    """Group ids of the sensitive attribute(s) a loader was asked for.

    Args:
        frame: the raw rows, with a column per name in `choices`.
        sensitive: one attribute name, or a sequence of them (one column of `s` each).
        choices: the attributes the dataset offers, with their group names in id order.
        dataset: named in error messages.

    Returns:
        `(sensitive_name, s, group_names)` for `tabular_dataset`: one name, ids of shape
        `(n,)` and a list of names for one attribute (a string or a one-item sequence);
        a tuple of names, ids of shape `(n, k)` and a tuple of lists for several.
    """
    names = (sensitive,) if isinstance(sensitive, str) else tuple(sensitive)
    unknown = [each for each in names if each not in choices]
    if not names or unknown or len(set(names)) != len(names):
        raise ValueError(
            f"Expected `sensitive` to be one of {list(choices)} or a sequence of distinct ones "
            f"for {dataset}. Received: sensitive={sensitive!r}"
        )
    columns = []
    for each in names:
        codes = pd.Categorical(frame[each], categories=choices[each]).codes
        if (codes < 0).any():
            raise ValueError(
                f"Expected {each} to be one of {choices[each]}. "
                f"Received: {sorted(set(frame[each][codes < 0]))[:5]}"
            )
        columns.append(codes.astype(np.int32))
    if len(names) == 1:
        return names[0], columns[0], list(choices[names[0]])
    return names, np.column_stack(columns), tuple(list(choices[each]) for each in names)
