import csv
import math
from dataclasses import replace

import keras
import numpy as np
import pytest

from keras_sqnn.datasets import Dataset
from keras_sqnn.datasets.biased_mnist import COLOURS, load_mnist
from keras_sqnn.lab.experiments import biased_mnist, biased_mnist_data
from keras_sqnn.lab.experiments.biased_mnist import (
    CSV_COLUMNS,
    METHODS,
    MnistProtocol,
    build_mnist_classifier,
    learning_rate_callback,
    run_biased_mnist,
)
from keras_sqnn.lab.experiments.biased_mnist_data import (
    predict_digits,
    validation_rows,
    validation_split,
)
from keras_sqnn.layers import StochasticBinaryConv2D

PAPER = MnistProtocol.named("paper")


def _layers(model, kind):
    return [layer for layer in model.layers if type(layer) is kind]


def test_paper_network_is_rebias_simple_conv_net():
    model = build_mnist_classifier("vanilla", protocol=PAPER)
    convs = _layers(model, keras.layers.Conv2D)
    norms = _layers(model, keras.layers.BatchNormalization)
    assert [c.filters for c in convs] == [16, 32, 64, 128]
    assert all(
        c.kernel_size == (7, 7) and c.padding == "same" and c.strides == (1, 1) for c in convs
    )
    assert [tuple(c.output.shape) for c in convs] == [(None, 28, 28, f) for f in (16, 32, 64, 128)]
    # PyTorch's BatchNorm2d defaults: momentum 0.1 (Keras 0.9), eps 1e-5; one per conv.
    assert [(n.momentum, n.epsilon) for n in norms] == [(0.9, 1e-5)] * 4
    assert len(_layers(model, keras.layers.ReLU)) == 4
    assert not _layers(model, keras.layers.MaxPooling2D)
    assert not _layers(model, keras.layers.AveragePooling2D)
    assert len(_layers(model, keras.layers.GlobalAveragePooling2D)) == 1
    (fc,) = _layers(model, keras.layers.Dense)
    assert fc.units == 10 and fc.kernel.shape == (128, 10)
    # Each block is conv -> BN -> ReLU, in this order.
    names = [layer.name for layer in model.layers]
    for i in range(4):
        assert names.index(f"conv{i}") < names.index(f"bn{i}") < names.index(f"relu{i}")
    weights = sum(7 * 7 * a * b + b + 4 * b for a, b in [(3, 16), (16, 32), (32, 64), (64, 128)])
    assert model.count_params() == weights + 128 * 10 + 10
    assert model.output_shape == (None, 10)


def test_kaiming_normal_fan_out_initialisation():
    model = build_mnist_classifier("vanilla", protocol=PAPER, seed=3)
    kernel = keras.ops.convert_to_numpy(model.get_layer("conv3").kernel)  # 7 x 7 x 64 x 128
    # Kaiming normal, fan-out: std = sqrt(2 / (7 * 7 * 128)) = 0.0179 (fan-in would be
    # 0.0253). With 401,408 draws the sample std is within 0.3 % (2 standard errors).
    assert kernel.std() == pytest.approx(math.sqrt(2 / (49 * 128)), rel=0.01)
    assert abs(kernel.mean()) < 1e-3
    # Untruncated: values beyond 2 standard deviations exist (about 4.6 % of them).
    assert np.mean(np.abs(kernel) > 2 * kernel.std()) == pytest.approx(0.0455, abs=0.003)
    bn = model.get_layer("bn0")
    assert np.all(keras.ops.convert_to_numpy(bn.gamma) == 1)
    assert np.all(keras.ops.convert_to_numpy(bn.beta) == 0)
    fc = keras.ops.convert_to_numpy(model.get_layer("fc").kernel)
    assert np.abs(fc).max() <= 1 / math.sqrt(128)  # PyTorch's Linear: U(+-1/sqrt(fan_in))


def test_inputs_are_normalised_as_rebias_inside_the_model():
    model = build_mnist_classifier("vanilla", protocol=PAPER)
    normalise = keras.Model(model.inputs, model.get_layer("normalise").output)
    pixels = np.random.default_rng(0).integers(0, 256, (2, 28, 28, 3)).astype("float32")
    pixels[0, 0, 0] = (0, 255, 127.5)
    out = keras.ops.convert_to_numpy(normalise({"features": pixels, "sensitive": None}))
    np.testing.assert_allclose(out, (pixels / 255 - 0.5) / 0.5, atol=1e-6)
    np.testing.assert_allclose(out[0, 0, 0], [-1, 1, 0], atol=1e-6)


def test_weight_decay_is_coupled_l2_on_every_weight():
    # PyTorch's Adam(weight_decay=1e-4) adds 1e-4 * w to each gradient: the gradient of
    # 1e-4 / 2 * ||w||^2 summed over every parameter, BN scales and biases included.
    model = build_mnist_classifier("vanilla", protocol=PAPER, seed=1)
    for w in model.trainable_weights:
        w.assign(np.full(w.shape, 0.5, "float32"))
    expected = 1e-4 / 2 * sum(0.25 * np.prod(w.shape) for w in model.trainable_weights)
    model({"features": np.zeros((1, 28, 28, 3), "float32"), "sensitive": None})
    total = sum(float(keras.ops.convert_to_numpy(loss)) for loss in model.losses)
    assert total == pytest.approx(expected, rel=1e-5)


def test_cpu_network_is_the_chosen_protocol():
    protocol = MnistProtocol.named("cpu")
    assert (protocol.kernel_size, protocol.resolution, protocol.pool) == (3, 28, True)
    assert (protocol.learning_rate, protocol.schedule, protocol.epochs) == (6e-3, "onecycle", 20)
    assert protocol.validation_images == 10_000  # trains on the other 50,000 images
    model = build_mnist_classifier("vanilla", protocol=protocol)
    convs = _layers(model, keras.layers.Conv2D)
    assert [c.filters for c in convs] == [16, 32, 64, 128]
    assert all(c.kernel_size == (3, 3) for c in convs)
    # 2 x 2 max pooling after every block but the last: 28 -> 14 -> 7 -> 3.
    assert [c.output.shape[1] for c in convs] == [28, 14, 7, 3]
    assert len(_layers(model, keras.layers.MaxPooling2D)) == 3
    images = np.zeros((2, 28, 28, 3), "float32")
    assert predict_digits(model, images).shape == (2,)


def test_resolution_14_averages_2_by_2_pixels():
    protocol = replace(PAPER, kernel_size=3, resolution=14)
    model = build_mnist_classifier("vanilla", protocol=protocol)
    assert [c.output.shape[1] for c in _layers(model, keras.layers.Conv2D)] == [14] * 4
    downsample = keras.Model(model.inputs, model.get_layer("downsample").output)
    pixels = np.zeros((1, 28, 28, 3), "float32")
    pixels[0, 0, 0] = 255  # one white pixel in the top-left 2 x 2 square of -1s
    out = keras.ops.convert_to_numpy(downsample({"features": pixels, "sensitive": None}))
    np.testing.assert_allclose(out[0, 0, 0], [-0.5] * 3, atol=1e-6)
    np.testing.assert_allclose(out[0, 1:, 1:], -1, atol=1e-6)


def test_paper_schedule_is_step_decay_every_20_epochs():
    assert (PAPER.epochs, PAPER.batch_size, PAPER.learning_rate) == (80, 256, 1e-3)
    rates = [PAPER.learning_rate_at(e) for e in range(80)]
    expected = [1e-3 * 0.1 ** (e // 20) for e in range(80)]
    np.testing.assert_allclose(rates, expected, rtol=1e-12)
    assert rates[19] == pytest.approx(1e-3) and rates[20] == pytest.approx(1e-4)
    assert rates[79] == pytest.approx(1e-6)


def test_cosine_and_one_cycle_schedules():
    cosine = replace(PAPER, schedule="cosine", epochs=10)
    rates = [cosine.learning_rate_at(e) for e in range(10)]
    assert rates[0] == pytest.approx(1e-3) and all(np.diff(rates) < 0) and rates[-1] > 0
    cycle = replace(PAPER, schedule="onecycle", epochs=10, warmup_fraction=0.3)
    rates = [cycle.learning_rate_at(e) for e in range(10)]
    np.testing.assert_allclose(rates[:4], [1e-4, 4e-4, 7e-4, 1e-3], rtol=1e-9)
    assert all(np.diff(rates[3:]) < 0) and rates[-1] > 0


def test_learning_rate_callback_sets_the_optimiser_each_epoch():
    protocol = replace(PAPER, filters=(4,), kernel_size=3, step_epochs=1, epochs=3)
    model = build_mnist_classifier("vanilla", protocol=protocol)
    seen = []
    record = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(
            float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
        )
    )
    x = {"features": np.zeros((8, 28, 28, 3), "float32"), "sensitive": np.zeros(8, "int32")}
    model.fit(x, np.zeros(8, "int32"), epochs=3, verbose=0,
              callbacks=[learning_rate_callback(protocol), record])  # fmt: skip
    np.testing.assert_allclose(seen, [1e-3, 1e-4, 1e-5], rtol=1e-6)


def _fake_mnist(n=2000):
    """MNIST-shaped training images whose first pixels spell their row in binary."""
    rng = np.random.default_rng(0)
    images = (rng.uniform(size=(n, 28, 28)) > 0.7).astype(np.uint8) * 200
    images[:, 0, 0] = 0  # background
    bits = (np.arange(n)[:, None] >> np.arange(12)) & 1
    images[:, 0, 1:13] = bits * 200
    return images, (np.arange(n) % 10).astype(np.int32)


def _rows(dataset):
    """Decode each coloured image's row: the digit's pixels are white, no colour is."""
    bits = (dataset.X[:, 0, 1:13] == 255).all(-1)
    return bits.astype(int) @ (1 << np.arange(12))


def test_validation_split_uses_only_training_images_coloured_at_rho_0_1(monkeypatch):
    images, labels = _fake_mnist()

    def fake_load_mnist(**kwargs):
        # Only the training part exists: reading the test images raises KeyError.
        return {"train": (images, labels)}, None

    monkeypatch.setattr(biased_mnist_data, "load_mnist", fake_load_mnist)
    train, validation = validation_split(0.99, seed=0, n_validation=500)
    assert (len(train), len(validation)) == (1500, 500)
    kept, held_out = validation_rows(len(labels), 500, seed=0)
    np.testing.assert_array_equal(_rows(validation), held_out)
    np.testing.assert_array_equal(_rows(train), kept)
    assert not set(kept) & set(held_out)
    np.testing.assert_array_equal(labels[held_out], validation.y)
    # Validation colours at rho = 0.1: in each digit's n images, floor(n / 10) have the
    # class colour and the nine other colours share the rest within one image.
    counts = np.zeros((10, 10), int)
    np.add.at(counts, (validation.y, validation.s), 1)
    for digit, row in enumerate(counts):
        assert row[digit] == math.floor(row.sum() * 0.1)
        others = np.delete(row, digit)
        assert others.max() - others.min() <= 1 and others.min() > 0
    np.testing.assert_array_equal(validation.X[:, 0, 0], COLOURS[validation.s])
    # Training colours at rho = 0.99: floor(0.99 n) of each class's n images.
    for digit in range(10):
        n = np.sum(train.y == digit)
        assert np.sum((train.s == digit) & (train.y == digit)) == math.floor(0.99 * n)


def test_validation_split_of_real_mnist_holds_training_images():
    parts, _ = load_mnist()
    train, validation = validation_split(0.995, seed=0)
    _, held_out = validation_rows(60_000, 10_000, seed=0)
    mask = (validation.X == 255).all(-1)
    np.testing.assert_array_equal(mask, parts["train"][0][held_out] > 0)
    np.testing.assert_array_equal(validation.y, parts["train"][1][held_out])
    assert np.mean(validation.s == validation.y) == pytest.approx(0.1, abs=1e-3)
    assert np.mean(train.s == train.y) == pytest.approx(0.995, abs=1e-3)


def test_validation_rows_are_seeded_and_disjoint():
    kept, held_out = validation_rows(60_000, 10_000, seed=1)
    assert len(held_out) == 10_000 and not set(kept) & set(held_out)
    assert len(kept) + len(held_out) == 60_000
    again = validation_rows(60_000, 10_000, seed=1)[1]
    other = validation_rows(60_000, 10_000, seed=2)[1]
    np.testing.assert_array_equal(held_out, again)
    assert not np.array_equal(held_out, other)
    with pytest.raises(ValueError, match="n_validation=0"):
        validation_rows(10, 0)


@pytest.mark.parametrize("layer, binary", [("first", [0]), ("last", [3]), ("all", [0, 1, 2, 3])])
def test_sqnn_variants_swap_the_chosen_blocks(layer, binary):
    model = build_mnist_classifier("binary_bernoulli", layer=layer, gamma=0.1)
    found = [i for i in range(4) if type(model.get_layer(f"conv{i}")) is StochasticBinaryConv2D]
    assert found == binary
    assert len(_layers(model, keras.layers.BatchNormalization)) == 4 - len(binary)
    assert all(model.get_layer(f"conv{i}").num_groups == 10 for i in binary)
    # Binary codes at test time too: the next block's BatchNormalization saw samples.
    assert all(model.get_layer(f"conv{i}").inference == "sample" for i in binary)
    assert model.output_shape == (None, 10)


def test_conditional_variant_regularizes_the_colour_given_the_digit():
    model = build_mnist_classifier("binary_bernoulli_conditional", layer="last", gamma=0.5)
    layer = model.get_layer("conv3")
    assert (layer.condition_on, layer.num_classes) == ("labels", 10)
    assert type(layer.mi_estimator).__name__ == "BernoulliMutualInformation"
    assert set(model.input) == {"features", "sensitive", "labels"}
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (40, 28, 28, 3)).astype("float32")
    digits = np.arange(40, dtype="int32") % 10
    colours = (digits + (np.arange(40) >= 20)) % 10  # two colours per digit

    def total_loss(labels, training=True):
        model({"features": images, "sensitive": colours, "labels": labels}, training=training)
        return float(sum(keras.ops.convert_to_numpy(loss) for loss in model.losses))

    def mi_loss(labels):  # model.losses also holds the weight decay, the same in both calls
        return total_loss(labels) - total_loss(labels, training=False)

    # The colour is a function of (digit, half): given the colour itself as the label, the
    # conditional MI is exactly 0; given the digit, each digit has two colours, so the
    # regularizer is positive unless the codes ignore the image (they do not at init).
    assert mi_loss(colours.astype("int32")) == pytest.approx(0.0, abs=1e-6)
    assert mi_loss(digits) > 1e-4
    # Inference needs neither the colour nor the digit.
    assert predict_digits(model, images[:3]).shape == (3,)


def test_bad_arguments():
    with pytest.raises(ValueError, match="method='lenet'"):
        build_mnist_classifier("lenet")
    with pytest.raises(ValueError, match="layer='middle'"):
        build_mnist_classifier("binary_mi", layer="middle")
    with pytest.raises(ValueError, match="methods=\\['vanilla', 'rubi'\\]"):
        run_biased_mnist([0.99], methods=["vanilla", "rubi"])
    with pytest.raises(ValueError, match="budget='huge'"):
        MnistProtocol.named("huge")
    with pytest.raises(ValueError, match="schedule"):
        MnistProtocol(name="x", schedule="linear")


def test_run_appends_one_row_per_model_and_skips_finished_ones(monkeypatch, tmp_path):
    calls = []

    def fake_train_and_test(method, rho, *, protocol, seed, gamma, layer, backup_dir, **kw):
        calls.append((method, rho, seed, str(backup_dir)))
        kw["on_epoch"]({"epoch": 1, "learning_rate": 1e-3, "seconds": 1.0,
                        "train_accuracy": 0.5, "val_unbiased_accuracy": 0.2})  # fmt: skip
        return {c: 0 for c in CSV_COLUMNS} | {
            "method": method, "rho": rho, "seed": seed, "budget": protocol.name,
            "layer": "none" if method == "vanilla" else layer,
            "gamma": 0.0 if method == "vanilla" else gamma,
        }  # fmt: skip

    monkeypatch.setattr(biased_mnist, "train_and_test", fake_train_and_test)
    run_biased_mnist([0.99], methods=["vanilla", "binary_mi"], seeds=[0, 1], out=tmp_path)
    assert len(calls) == 4 and len({c[3] for c in calls}) == 4  # one backup dir each
    assert all(str(tmp_path / "biased_mnist_backup") in c[3] for c in calls)
    with open(tmp_path / "biased_mnist.csv") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 4
    assert len((tmp_path / "biased_mnist_curves.csv").read_text().splitlines()) == 5
    written = run_biased_mnist(
        [0.99, 0.995], methods=["vanilla", "binary_mi"], seeds=[0, 1], out=tmp_path
    )
    assert len(calls) == 8 and {r["rho"] for r in written} == {0.995}


@pytest.mark.slow
def test_one_epoch_on_2000_images_for_each_method(tmp_path):
    rows = run_biased_mnist(
        [0.99], methods=METHODS, seeds=[0], out=tmp_path, train_images=2000, epochs=1
    )
    with open(tmp_path / "biased_mnist.csv") as f:
        table = list(csv.DictReader(f))
    assert [r["method"] for r in table] == list(METHODS) and tuple(table[0]) == CSV_COLUMNS
    for row in rows:
        assert row["train_images"] == 2000 and row["epochs"] == 1 and row["budget"] == "cpu"
        assert 0 <= row["unbiased_accuracy"] <= 1 and 0 <= row["biased_accuracy"] <= 1
    assert not any((tmp_path / "biased_mnist_backup").glob("*/*"))  # deleted when done


def _tiny_dataset(n, seed):
    rng = np.random.default_rng(seed)
    return Dataset(
        name="biased_mnist",
        X=rng.integers(0, 256, (n, 28, 28, 3)).astype(np.uint8),
        y=(np.arange(n) % 10).astype(np.int32),
        s=(np.arange(n) % 10).astype(np.int32),
        feature_names=[],
        sensitive_name="background colour",
        group_names=[str(i) for i in range(10)],
        target_names=[str(i) for i in range(10)],
    )


def test_a_killed_model_resumes_at_its_last_finished_epoch(monkeypatch, tmp_path):
    monkeypatch.setattr(biased_mnist, "training_data", lambda *a: (_tiny_dataset(64, 0), None))
    monkeypatch.setattr(biased_mnist, "fetch_biased_mnist", lambda **kw: _tiny_dataset(20, 1))
    protocol = replace(PAPER, filters=(4,), kernel_size=3, epochs=3, batch_size=32)
    epochs = []

    def killed_in_epoch_2(record):
        if record["epoch"] == 2:
            raise KeyboardInterrupt  # before BackupAndRestore saves epoch 2
        epochs.append(record["epoch"])

    common = {"protocol": protocol, "backup_dir": tmp_path / "backup"}
    with pytest.raises(KeyboardInterrupt):
        biased_mnist.train_and_test("vanilla", 0.99, on_epoch=killed_in_epoch_2, **common)
    assert epochs == [1] and any((tmp_path / "backup").iterdir())
    row = biased_mnist.train_and_test(
        "vanilla", 0.99, on_epoch=lambda r: epochs.append(r["epoch"]), **common
    )
    assert epochs == [1, 2, 3]  # epoch 1 was not trained again
    assert row["epochs"] == 3 and 0 <= row["unbiased_accuracy"] <= 1
    assert not (tmp_path / "backup").exists() or not any((tmp_path / "backup").iterdir())
