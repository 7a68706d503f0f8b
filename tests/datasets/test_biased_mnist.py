"""Biased-MNIST: the MNIST content, the colour protocol, the splits and the tf.data helper."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest

from keras_sqnn.datasets import (
    COLOURS,
    biased_mnist_tf_dataset,
    fetch_biased_mnist,
)
from keras_sqnn.datasets.biased_mnist import assign_colours, colourize, load_mnist

# sha256 of the four official (uncompressed) MNIST IDX files, as published by many
# independent projects that pin them.
IDX_SHA256 = {
    "train-images": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "test-images": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "test-labels": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
# Digit counts of the MNIST training and test sets.
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def _idx_digest(array: np.ndarray, magic: int) -> str:
    """sha256 of an array written as an IDX file (big-endian header, then the bytes)."""
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return hashlib.sha256(header + array.astype(np.uint8).tobytes()).hexdigest()


def _within_binomial(count: int, n: int, rho: float) -> bool:
    """Whether `count` of `n` is within 4 binomial standard deviations (+1 for rounding).

    Were each image given its class colour independently with probability `rho`, `count`
    would be Binomial(n, rho) and fall outside this band with probability below 1e-4
    (normal approximation). ReBias' exact counts, `floor(n * rho)`, are within 1 of n * rho.
    """
    return abs(count - n * rho) <= 4 * math.sqrt(n * rho * (1 - rho)) + 1


@pytest.fixture(scope="module")
def mnist(tmp_path_factory):
    parts, _ = load_mnist(data_home=tmp_path_factory.mktemp("home"))
    return parts


@pytest.fixture(scope="module")
def unbiased_test(tmp_path_factory):
    return fetch_biased_mnist(split="test", data_home=tmp_path_factory.mktemp("home"))


def test_mnist_is_the_official_data(mnist):
    (x_train, y_train), (x_test, y_test) = mnist["train"], mnist["test"]
    assert _idx_digest(x_train, 2051) == IDX_SHA256["train-images"]
    assert _idx_digest(y_train, 2049) == IDX_SHA256["train-labels"]
    assert _idx_digest(x_test, 2051) == IDX_SHA256["test-images"]
    assert _idx_digest(y_test, 2049) == IDX_SHA256["test-labels"]
    assert np.bincount(y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == TEST_COUNTS
    assert x_train.dtype == np.uint8 and y_train.dtype == np.int32


@pytest.mark.parametrize("rho", [0.99, 0.995, 0.997, 0.999, 0.5, 0.1, 1.0])
def test_class_colour_fraction_matches_rho(mnist, rho):
    labels = mnist["train"][1]
    colours = assign_colours(labels, rho, np.random.default_rng(0))
    for digit in range(10):
        own = colours[labels == digit]
        n, count = len(own), int((own == digit).sum())
        assert _within_binomial(count, n, rho), (digit, count, n)
        assert count == math.floor(n * rho + 1e-9)  # ReBias: exact count per class
        others = np.bincount(own[own != digit], minlength=10)
        others = np.delete(others, digit)
        assert others.max() - others.min() <= 1  # the rest spread evenly on nine colours


def test_unbiased_test_split_is_independent_of_the_digit(unbiased_test):
    ds = unbiased_test
    assert ds.X.shape == (10000, 28, 28, 3) and ds.X.dtype == np.float32
    table = np.zeros((10, 10), dtype=int)
    np.add.at(table, (ds.y, ds.s), 1)
    expected = np.array(TEST_COUNTS)[:, None] / 10
    assert np.abs(table - expected).max() <= 1
    assert ds.n_groups == 10 and ds.s.dtype == np.int32 and ds.y.dtype == np.int32


def test_biased_test_split_always_uses_the_class_colour(tmp_path):
    ds = fetch_biased_mnist(split="test_biased", data_home=tmp_path, dtype="uint8")
    np.testing.assert_array_equal(ds.s, ds.y)
    assert ds.X.dtype == np.uint8


def test_foreground_is_white_and_unchanged(mnist, unbiased_test):
    images = mnist["test"][0]
    x = unbiased_test.X
    white = (x == 1.0).all(axis=-1)
    np.testing.assert_array_equal(white, images > 0)
    background = np.broadcast_to(COLOURS[unbiased_test.s][:, None, None, :], x.shape) / 255.0
    np.testing.assert_allclose(x[~white], background[~white].astype(np.float32), rtol=0)
    assert x.min() >= 0.0 and x.max() == 1.0


def test_colourize_on_a_subset(mnist):
    images, labels = mnist["train"][0][:500], mnist["train"][1][:500]
    colours = np.arange(500) % 10
    out = colourize(images, colours)
    assert out.shape == (500, 28, 28, 3) and out.dtype == np.uint8
    for i in (0, 123, 499):
        foreground = images[i] > 0
        assert (out[i][foreground] == 255).all()
        assert (out[i][~foreground] == COLOURS[colours[i]]).all()
    assert labels.shape == (500,)


def test_seeded_and_deterministic(mnist):
    labels = mnist["test"][1]
    a = assign_colours(labels, 0.9, np.random.default_rng(3))
    b = assign_colours(labels, 0.9, np.random.default_rng(3))
    c = assign_colours(labels, 0.9, np.random.default_rng(4))
    np.testing.assert_array_equal(a, b)
    assert (a != c).any()


def test_fetch_is_deterministic_for_a_seed(tmp_path, unbiased_test):
    again = fetch_biased_mnist(split="test", data_home=tmp_path, seed=0, dtype="uint8")
    other = fetch_biased_mnist(split="test", data_home=tmp_path, seed=1, dtype="uint8")
    np.testing.assert_array_equal(again.s, unbiased_test.s)
    np.testing.assert_array_equal(again.X.astype(np.float32) / 255, unbiased_test.X)
    assert (other.s != again.s).any()
    assert again.source == unbiased_test.source and set(again.sha256) == {"mnist"}


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"split": "valid"}, ValueError, r"Received: split='valid'"),
        ({"rho": 0}, ValueError, r"Expected rho in \(0, 1\]. Received: rho=0"),
        ({"rho": -0.5}, ValueError, r"Received: rho=-0.5"),
        ({"rho": 1.01}, ValueError, r"Received: rho=1.01"),
        ({"rho": float("nan")}, ValueError, r"Received: rho=nan"),
        ({"rho": "0.99"}, TypeError, r"Received: rho='0.99'"),
        ({"rho": True}, TypeError, r"Received: rho=True"),
        ({"split": "test", "rho": 0.99}, ValueError, r"rho=0.1 for split='test'"),
        ({"split": "test_biased", "rho": 0.5}, ValueError, r"rho=1.0 for split='test_biased'"),
        ({"dtype": "float64"}, ValueError, r"Received: dtype='float64'"),
        ({"seed": -1}, ValueError, r"Received: seed=-1"),
    ],
)
def test_bad_input_is_a_clear_error(kwargs, error, message, no_packages, tmp_path):
    # Arguments are checked before any file is looked up (no_packages would fail later).
    with pytest.raises(error, match=message):
        fetch_biased_mnist(data_home=tmp_path, download_if_missing=False, **kwargs)


def test_tf_dataset_builds_float_batches_from_uint8(tmp_path):
    ds = fetch_biased_mnist(split="test_biased", data_home=tmp_path, dtype="uint8")
    data = biased_mnist_tf_dataset(ds, batch_size=512, shuffle=True, seed=0)
    seen_y, batches = [], 0
    for x, y in data:
        assert x.dtype.name == "float32" and x.shape[1:] == (28, 28, 3)
        assert y.dtype.name == "int32"
        seen_y.append(y.numpy())
        batches += 1
        if batches == 1:
            first_x, first_y = x.numpy(), y.numpy()
    assert batches == math.ceil(10000 / 512)
    assert sorted(np.concatenate(seen_y).tolist()) == sorted(ds.y.tolist())
    # Each image is the uint8 image scaled to [0, 1]: find it by its label and colour.
    index = np.flatnonzero(ds.y == first_y[0])
    match = [i for i in index if np.array_equal(ds.X[i].astype(np.float32) / 255, first_x[0])]
    assert match, "the first shuffled image is not an image of the dataset"
    sensitive = next(iter(biased_mnist_tf_dataset(ds, batch_size=4, with_sensitive=True)))
    (x, s), y = sensitive
    np.testing.assert_array_equal(s.numpy(), ds.s[:4])
    np.testing.assert_allclose(x.numpy(), ds.X[:4].astype(np.float32) / 255)


def test_tf_dataset_rejects_bad_input(unbiased_test):
    with pytest.raises(ValueError, match="Received: 0"):
        biased_mnist_tf_dataset(unbiased_test, batch_size=0)
    flat = type(unbiased_test)(**{**vars(unbiased_test), "X": np.zeros((3, 784))})
    with pytest.raises(ValueError, match=r"Received: X.shape=\(3, 784\)"):
        biased_mnist_tf_dataset(flat)


@pytest.mark.slow
@pytest.mark.parametrize("rho", [0.99, 0.995, 0.997, 0.999])
def test_full_training_split_for_the_paper_rhos(rho, mnist, tmp_path):
    ds = fetch_biased_mnist(split="train", rho=rho, data_home=tmp_path)
    assert ds.X.shape == (60000, 28, 28, 3) and ds.X.dtype == np.float32
    for digit in range(10):
        own = ds.s[ds.y == digit]
        assert _within_binomial(int((own == digit).sum()), len(own), rho)
    white = (ds.X == 1.0).all(axis=-1)
    np.testing.assert_array_equal(white, mnist["train"][0] > 0)
    np.testing.assert_array_equal(ds.y, mnist["train"][1])
