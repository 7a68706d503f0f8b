import keras
import numpy as np
import pytest

from keras_sqnn.classifiers import SQNNConfig, build_sqnn_classifier
from keras_sqnn.lab.baselines import build_vanilla_classifier, layer_outputs
from keras_sqnn.layers import StochasticBinaryMixin
from tests.lab.baselines.synthetic import biased_data


@pytest.mark.parametrize("hybrid", [True, False])
def test_vanilla_has_the_sqnn_weights_without_stochastic_layers(hybrid):
    config = SQNNConfig(n_hidden=3, hidden_size=7, hybrid=hybrid)
    vanilla = build_vanilla_classifier(5, config)
    sqnn = build_sqnn_classifier(5, config)
    vanilla.build((None, 5))
    sqnn.build((None, 5))
    assert [w.shape for w in vanilla.weights if "kernel" in w.path or "bias" in w.path] == [
        w.shape for w in sqnn.weights if "kernel" in w.path or "bias" in w.path
    ]
    assert not any(isinstance(layer, StochasticBinaryMixin) for layer in vanilla.stack)
    # Same seeded initial weights as the SQNN: only the stochastic part differs.
    np.testing.assert_array_equal(vanilla.stack[0].kernel.numpy(), sqnn.stack[0].kernel.numpy())
    activations = [layer.activation.__name__ for layer in vanilla.stack[:-1]]
    assert activations == (["relu", "relu", "sigmoid"] if hybrid else ["sigmoid"] * 3)
    assert vanilla.loss == "binary_crossentropy"


def test_vanilla_trains_on_sqnn_data_and_reloads(tmp_path):
    x, y, s = biased_data(n=600)
    keras.utils.set_random_seed(0)
    model = build_vanilla_classifier(6, SQNNConfig(n_hidden=2, hidden_size=16, learning_rate=1e-2))
    history = model.fit({"features": x, "sensitive": s}, y, epochs=4, batch_size=64, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < losses[0] - 0.05
    path = tmp_path / "vanilla.keras"
    model.save(path)
    reloaded = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(
        reloaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6, atol=1e-7
    )
    codes = layer_outputs(model, x[:10])
    assert codes.shape == (10, 16) and np.all((codes > 0) & (codes < 1))


def test_layer_outputs_rejects_unknown_layer():
    model = build_vanilla_classifier(3, SQNNConfig(n_hidden=1, hidden_size=2))
    with pytest.raises(ValueError, match="Received: layer_name='nope'"):
        layer_outputs(model, np.zeros((1, 3), "float32"), "nope")
