import numpy as np
import pytest

from keras_sqnn.experiments.biased_mnist import (
    METHODS,
    MnistProtocol,
    build_mnist_classifier,
    predict_digits,
)


@pytest.mark.parametrize("method", METHODS)
def test_each_method_trains_on_colour_images_and_predicts_from_images_alone(method):
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(64, 28, 28, 3)).astype("float32")
    y = rng.integers(0, 10, 64).astype("int32")
    model = build_mnist_classifier(method, gamma=0.2, seed=0)
    history = model.fit({"features": x, "sensitive": y}, y, epochs=1, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert ("first_mi" in history.history) == (method != "vanilla")
    digits = predict_digits(model, x, batch_size=20)
    assert digits.shape == (64,) and set(digits) <= set(range(10))


def test_bad_method_and_budget():
    with pytest.raises(ValueError, match="method='lenet'"):
        build_mnist_classifier("lenet")
    with pytest.raises(ValueError, match="budget='huge'"):
        MnistProtocol.named("huge")
    assert MnistProtocol.named("paper").epochs == 80
