import keras
import numpy as np
import pytest

from keras_sqnn.lab.baselines import VariationalFairAutoencoder, build_vfae
from keras_sqnn.lab.baselines.vfae import LOG_VARIANCE_RANGE
from keras_sqnn.metrics import audc
from tests.lab.baselines.reference import reference_mmd
from tests.lab.baselines.synthetic import biased_data


def _numpy(network, *parts):
    return np.asarray(network(np.concatenate(parts, axis=1).astype("float32")), np.float64)


def _kl(mq, lq, mp, lp):
    """KL between diagonal Gaussians, from the textbook formula, per row."""
    return np.sum(0.5 * (lp - lq) + (np.exp(lq) + (mq - mp) ** 2) / (2 * np.exp(lp)) - 0.5, 1)


def test_evaluation_loss_matches_a_numpy_reference():
    """At training=False every latent is its mean, so the loss is deterministic."""
    x, y, s = biased_data(n=40)
    model = build_vfae(6, gamma=3.0, latent_dim=3, hidden_units=(5,), classification_weight=7.0)
    loss = float(model.compute_loss(x={"features": x, "sensitive": s}, y=y, training=False))
    d = 3
    s1, y1 = np.eye(2)[s], np.eye(2)[y]
    clip = lambda v: np.clip(v, *LOG_VARIANCE_RANGE)  # noqa: E731
    q1 = _numpy(model.encoder_z1, x, s1)
    m1, l1 = q1[:, :d], clip(q1[:, d:])
    q2 = _numpy(model.encoder_z2, m1, y1)
    m2, l2 = q2[:, :d], clip(q2[:, d:])
    p1 = _numpy(model.decoder_z1, m2, y1)
    x_hat = _numpy(model.decoder_x, m1, s1)
    prob = _numpy(model.classifier, m1)[:, 0]
    expected = (
        np.mean(0.5 * np.sum((x - x_hat) ** 2, 1))
        + np.mean(_kl(m1, l1, p1[:, :d], clip(p1[:, d:])) + _kl(m2, l2, 0.0, 0.0))
        + 7.0 * np.mean(-(y * np.log(prob) + (1 - y) * np.log(1 - prob)))
        + 3.0 * reference_mmd(m1, s, 2, np.sqrt(d))
    )
    np.testing.assert_allclose(loss, expected, rtol=1e-4)


def test_trains_reloads_and_large_gamma_lowers_the_discrimination_gap(tmp_path):
    x, y, s = biased_data(n=800)
    x_test, y_test, s_test = biased_data(n=800, seed=100)
    test_inputs = {"features": x_test, "sensitive": s_test}
    gaps = []
    for gamma in (0.0, 1000.0):
        keras.utils.set_random_seed(0)
        model = build_vfae(6, gamma=gamma, latent_dim=8, hidden_units=(16,), learning_rate=1e-2)
        history = model.fit({"features": x, "sensitive": s}, y, epochs=4, batch_size=64, verbose=0)
        logs = history.history
        assert set(logs) == {"loss", "auc", "reconstruction", "kl", "classification", "mmd"}
        assert logs["loss"][-1] < logs["loss"][0]
        scores = model.predict(test_inputs, verbose=0)[:, 0]
        gaps.append(audc(y_test, scores, sensitive_features=s_test))
    # At gamma = 0 the test AUDC is about 0.42 (seed 0); the MMD term at gamma = 1000 takes
    # it to about 0.02. Over seeds 0, 1, 2 the drop was at least 0.37, hence a 0.2 margin.
    assert gaps[1] < gaps[0] - 0.2, gaps

    path = tmp_path / "vfae.keras"
    model.save(path)
    reloaded = keras.models.load_model(path, safe_mode=True)
    assert isinstance(reloaded, VariationalFairAutoencoder)
    assert reloaded.get_config() == model.get_config()
    # Inference uses the mean of q(z1 | x, s): deterministic, equal after the reload.
    np.testing.assert_array_equal(model.predict(test_inputs, verbose=0)[:, 0], scores)
    np.testing.assert_allclose(
        reloaded.predict(test_inputs, verbose=0)[:, 0], scores, rtol=1e-6, atol=1e-7
    )
    reloaded.fit(test_inputs, y_test, epochs=1, verbose=0)


def test_needs_sensitive_and_its_own_loss():
    x, y, s = biased_data(n=32)
    model = build_vfae(6)
    with pytest.raises(ValueError, match="needs the sensitive attribute"):
        model.predict(x, verbose=0)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    with pytest.raises(ValueError, match="compile it without `loss`"):
        model.fit({"features": x, "sensitive": s}, y, epochs=1, verbose=0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"gamma": -1.0}, "Expected `gamma`"),
        ({"latent_dim": 0}, "latent_dim"),
        ({"mmd_bandwidth": 0.0}, "mmd_bandwidth"),
        ({"classification_weight": float("inf")}, "classification_weight"),
    ],
)
def test_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        VariationalFairAutoencoder(4, **kwargs)
