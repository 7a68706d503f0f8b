"""One harness run over every stochastic binary layer."""

import inspect

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_sqnn import information
from keras_sqnn.layers import StochasticBinaryConv2D, StochasticBinaryDense

NEW_ARGUMENTS = {
    "mi_estimator",
    "gamma",
    "num_groups",
    "condition_on",
    "num_classes",
    "inference",
    "sampler",
    "seed",
}

LAYERS = [
    pytest.param(StochasticBinaryDense, keras.layers.Dense, dict(units=6), (8, 5), id="dense"),
    pytest.param(
        StochasticBinaryConv2D,
        keras.layers.Conv2D,
        dict(filters=2, kernel_size=3),
        (8, 5, 5, 3),
        id="conv2d",
    ),
]


def _inputs(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


@pytest.mark.parametrize(("cls", "keras_cls", "args", "shape"), LAYERS)
def test_arguments_match_the_keras_layer(cls, keras_cls, args, shape):
    ours = inspect.signature(cls.__init__).parameters
    theirs = inspect.signature(keras_cls.__init__).parameters
    assert set(ours) == (set(theirs) - {"activation"}) | NEW_ARGUMENTS
    for name, parameter in theirs.items():
        if name != "activation":
            assert ours[name].default == parameter.default, name


@pytest.mark.parametrize(("cls", "keras_cls", "args", "shape"), LAYERS)
def test_shapes_weights_and_probabilities(cls, keras_cls, args, shape):
    layer = cls(**args, seed=1)
    reference = keras_cls(**args)
    x = _inputs(shape)
    out = layer(x, training=True).numpy()
    assert out.shape == tuple(reference(x).shape)
    assert set(np.unique(out)) <= {0.0, 1.0}
    assert len(layer.trainable_weights) == len(reference.trainable_weights) == 2
    reference.set_weights(layer.get_weights()[: len(reference.get_weights())])
    np.testing.assert_allclose(
        layer.probabilities(x).numpy(), tf.sigmoid(reference(x)).numpy(), rtol=1e-6
    )


@pytest.mark.parametrize(("cls", "keras_cls", "args", "shape"), LAYERS)
def test_config_round_trip(cls, keras_cls, args, shape):
    layer = cls(
        **args, mi_estimator="joint", gamma=0.2, num_groups=3, inference="threshold", seed=4
    )
    clone = cls.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert "activation" not in layer.get_config()


@pytest.mark.parametrize(("cls", "keras_cls", "args", "shape"), LAYERS)
def test_save_and_reload_without_custom_objects(cls, keras_cls, args, shape, tmp_path):
    inputs = keras.Input(shape[1:])
    outputs = cls(**args, mi_estimator="bernoulli", seed=3)(inputs)
    model = keras.Model(inputs, keras.layers.Flatten()(outputs))
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.models.load_model(path, safe_mode=True)
    x = _inputs(shape)
    np.testing.assert_allclose(model.predict(x, verbose=0), reloaded.predict(x, verbose=0))
    assert type(reloaded.layers[1]) is cls


@pytest.mark.parametrize(("cls", "keras_cls", "args", "shape"), LAYERS)
def test_seed_reproduces_samples_and_successive_calls_differ(cls, keras_cls, args, shape):
    x = _inputs(shape)
    first, second = cls(**args, seed=7), cls(**args, seed=7)
    first.build(x.shape)
    second.build(x.shape)
    second.set_weights(first.get_weights())
    a1, a2 = first(x, training=True).numpy(), first(x, training=True).numpy()
    b1 = second(x, training=True).numpy()
    np.testing.assert_array_equal(a1, b1)
    assert not np.array_equal(a1, a2)


@pytest.mark.parametrize("sampler", ["philox", "tfp"])
def test_samples_follow_bernoulli_theta(sampler):
    layer = StochasticBinaryDense(
        4,
        sampler=sampler,
        seed=0,
        kernel_initializer="zeros",
        bias_initializer=keras.initializers.Constant([-2.0, -0.5, 0.5, 2.0]),
    )
    x = np.zeros((20000, 3), "float32")
    mean = layer(x, training=True).numpy().mean(axis=0)
    expected = 1 / (1 + np.exp(-np.array([-2.0, -0.5, 0.5, 2.0])))
    # Binomial standard error with n = 20000 is at most 0.0036; allow 5 of them.
    np.testing.assert_allclose(mean, expected, atol=0.018)


@pytest.mark.parametrize("sampler", ["tfp", "philox"])
def test_samples_under_xla_follow_bernoulli_theta(sampler):
    from keras_sqnn.layers.sampling import bernoulli_sample

    theta = np.tile(np.array([0.1, 0.5, 0.9], "float32"), (20000, 1))
    draw = tf.function(
        lambda t: bernoulli_sample(t, tf.constant([3, 4]), sampler), jit_compile=True
    )
    mean = draw(theta).numpy().mean(axis=0)
    # Binomial standard error with n = 20000 is at most 0.0036; allow 5 of them.
    np.testing.assert_allclose(mean, [0.1, 0.5, 0.9], atol=0.018)


def test_philox_sampler_draws_the_same_bits_with_and_without_xla():
    from keras_sqnn.layers.sampling import bernoulli_sample

    theta = np.random.default_rng(0).uniform(size=(64, 8)).astype("float32")
    seed = tf.constant([5, 9], tf.int32)
    eager = bernoulli_sample(theta, seed, "philox").numpy()
    compiled = tf.function(lambda t: bernoulli_sample(t, seed, "philox"), jit_compile=True)
    np.testing.assert_array_equal(eager, compiled(theta).numpy())
    assert not np.array_equal(eager, bernoulli_sample(theta, seed + 1, "philox").numpy())


def test_straight_through_gradient_is_sigmoid_derivative():
    layer = StochasticBinaryDense(3, seed=0)
    x = _inputs((10, 4))
    layer.build(x.shape)
    with tf.GradientTape() as tape:
        out = layer(x, training=True)
        loss = tf.reduce_sum(out * tf.constant([1.0, 2.0, 3.0]))
    kernel_gradient = tape.gradient(loss, layer.kernel).numpy()
    theta = layer.probabilities(x).numpy()
    expected = x.T @ (theta * (1 - theta) * np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(kernel_gradient, expected, rtol=1e-5)


def test_inference_modes():
    # theta = 0.5 +- 0.01 depending on the sign of x: nearly uninformative units.
    layer = StochasticBinaryDense(1, kernel_initializer="ones", seed=0)
    x = np.array([[0.04], [-0.04]], "float32")
    layer.build(x.shape)
    theta = layer.probabilities(x).numpy()
    np.testing.assert_allclose(layer(x, training=False).numpy(), theta)
    layer.inference = "threshold"
    np.testing.assert_array_equal(layer(x, training=False).numpy(), [[1.0], [0.0]])
    layer.inference = "sample"
    samples = np.concatenate([layer(x, training=False).numpy() for _ in range(50)])
    assert set(np.unique(samples)) == {0.0, 1.0}


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(units=0), ValueError, "units=0"),
        (dict(units=3, gamma=-0.1), ValueError, "gamma=-0.1"),
        (dict(units=3, gamma=float("nan")), ValueError, "gamma"),
        (dict(units=3, mi_estimator="mine"), ValueError, "mi_estimator='mine'"),
        (dict(units=3, inference="mode"), ValueError, "inference='mode'"),
        (dict(units=3, num_groups=1), ValueError, "num_groups=1"),
        (dict(units=3, num_groups=2.5), TypeError, "num_groups=2.5"),
        (dict(units=3, sampler="mt"), ValueError, "sampler='mt'"),
        (dict(units=3, activation="relu"), ValueError, "activation='relu'"),
        # A gamma without an estimator would silently train without the regularizer.
        (dict(units=3, gamma=0.3), ValueError, "gamma=0.3, mi_estimator=None"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        StochasticBinaryDense(**kwargs)


def test_conv2d_bad_filters_and_rank():
    with pytest.raises(ValueError, match="filters=0"):
        StochasticBinaryConv2D(0, 3)
    with pytest.raises(ValueError, match="ndim"):
        StochasticBinaryConv2D(2, 3)(np.zeros((4, 5, 5), "float32"))


def _mi_layer(**kwargs):
    return StochasticBinaryDense(
        4, mi_estimator="bernoulli", gamma=0.5, seed=0, name="sbd", **kwargs
    )


def test_sensitive_errors_in_eager():
    x = _inputs((6, 3))
    with pytest.raises(ValueError, match="sensitive=None"):
        _mi_layer()(x, training=True)
    with pytest.raises(TypeError, match="dtype=string.*encode_groups"):
        _mi_layer()(x, sensitive=np.array(["a", "b"] * 3), training=True)
    with pytest.raises(ValueError, match=r"values \[0\.25\]"):
        _mi_layer()(x, sensitive=np.full(6, 0.25, "float32"), training=True)
    with pytest.raises(ValueError, match=r"values \[2\]"):
        _mi_layer()(x, sensitive=np.array([0, 1, 2, 0, 1, 0]), training=True)
    with pytest.raises(ValueError, match=r"values \[-1\]"):
        _mi_layer()(x, sensitive=np.array([0, 1, -1, 0, 1, 0]), training=True)
    with pytest.raises(ValueError, match="batch size"):
        _mi_layer()(x, sensitive=np.array([0, 1, 0]), training=True)


def _functional_model(layer, features=3):
    x = keras.Input((features,), name="features")
    s = keras.Input((), dtype="int32", name="sensitive")
    out = keras.layers.Dense(1, activation="sigmoid")(layer(x, sensitive=s))
    return keras.Model({"features": x, "sensitive": s}, out)


def test_out_of_range_sensitive_is_caught_inside_fit():
    model = _functional_model(_mi_layer())
    model.compile("adam", "binary_crossentropy")
    x, y = _inputs((32, 3)), np.zeros(32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="sensitive"):
        model.fit({"features": x, "sensitive": np.full(32, 5)}, y, verbose=0)


def test_nan_reaching_the_mi_term_names_the_layer():
    model = _functional_model(_mi_layer())
    model.compile("adam", "binary_crossentropy")
    x, y = _inputs((32, 3)), np.zeros(32)
    x[3, 1] = np.nan
    with pytest.raises(tf.errors.InvalidArgumentError, match="Layer sbd"):
        model.fit({"features": x, "sensitive": np.arange(32) % 2}, y, verbose=0)


@pytest.mark.parametrize("estimator", ["bernoulli", "joint"])
def test_fit_adds_gamma_times_mi_and_logs_it_per_layer(estimator):
    keras.utils.set_random_seed(0)
    layer = StochasticBinaryDense(4, mi_estimator=estimator, gamma=0.7, seed=2, name="rep")
    other = StochasticBinaryDense(2, mi_estimator=estimator, gamma=0.1, seed=3, name="rep2")
    x_in = keras.Input((3,), name="features")
    s_in = keras.Input((), dtype="int32", name="sensitive")
    t = other(layer(x_in, sensitive=s_in), sensitive=s_in)
    model = keras.Model({"features": x_in, "sensitive": s_in}, keras.layers.Dense(1)(t))
    x, s = _inputs((16, 3)), (np.arange(16) % 2).astype("int32")
    outputs = model({"features": x, "sensitive": s}, training=True)
    assert outputs.shape == (16, 1)
    theta = layer.probabilities(x).numpy()
    expected = information.per_unit_mutual_information(theta, s, 2).numpy().sum()
    if estimator == "joint":
        expected = float(information.exact_joint_mutual_information(theta, s, 2))
    # The MI is a difference of float32 entropies of ~1 bit per unit: 1e-6 absolute.
    assert float(model.losses[0]) == pytest.approx(0.7 * expected, rel=1e-5, abs=1e-6)
    model.compile("adam", "mse")
    history = model.fit({"features": x, "sensitive": s}, np.zeros(16), epochs=1, verbose=0)
    assert {"rep_mi", "rep2_mi"} <= set(history.history)


def test_joint_sampled_estimator_trains_down_the_exact_mi():
    # 8 units with max_exact_units=4 forces the sampled estimator; the exact MI of the
    # same layer (enumerable for 8 units) must drop when it is minimised.
    from keras_sqnn.estimators import JointMutualInformation

    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    s = rng.integers(0, 2, 256).astype("int32")
    x = (rng.normal(size=(256, 4)) + 2.0 * s[:, None]).astype("float32")
    layer = StochasticBinaryDense(
        8,
        mi_estimator=JointMutualInformation(max_exact_units=4),
        gamma=1.0,
        seed=0,
        kernel_initializer=keras.initializers.RandomNormal(stddev=2.0, seed=0),
    )
    model = _functional_model(layer, features=4)
    model.compile(keras.optimizers.Adam(0.05), loss=None)
    before = float(information.exact_joint_mutual_information(layer.probabilities(x), s, 2))
    model.fit({"features": x, "sensitive": s}, epochs=100, batch_size=256, verbose=0)
    after = float(information.exact_joint_mutual_information(layer.probabilities(x), s, 2))
    assert before > 0.3
    assert after < 0.25 * before


def test_philox_bits_are_reproducible_uniform_and_differ_between_steps():
    from keras_sqnn.layers.sampling import philox_bits

    shape = (4096,)
    first = philox_bits(shape, tf.constant([7, 0], tf.int64)).numpy()
    np.testing.assert_array_equal(first, philox_bits(shape, tf.constant([7, 0], tf.int64)))
    # int32 and int64 seeds of the same values give the same stream.
    np.testing.assert_array_equal(first, philox_bits(shape, tf.constant([7, 0], tf.int32)))
    next_step = philox_bits(shape, tf.constant([7, 1], tf.int64)).numpy()
    other_key = philox_bits(shape, tf.constant([8, 0], tf.int64)).numpy()
    for other in (next_step, other_key):
        # Two independent uniform uint32 streams of 4096 words share a word with p ~ 4e-3.
        assert len(np.intersect1d(first, other)) <= 1
    uniform = first / 2.0**32
    # Mean of 4096 U(0, 1): standard error 0.0045; allow 5 of them. Every bit is set half
    # of the time: standard error 0.0078 per bit position; allow 5 of them.
    assert abs(uniform.mean() - 0.5) < 0.023
    bit_means = ((first[:, None] >> np.arange(32, dtype=np.uint32)) & 1).mean(axis=0)
    assert np.all(np.abs(bit_means - 0.5) < 0.04)


def test_philox_key_counter_layout_and_replica_streams():
    from keras_sqnn.layers.sampling import philox_bits, philox_key_counter

    key, counter = philox_key_counter(tf.constant([-3, 11], tf.int64), stream=2)
    # Key: the seed (int64 -3 wraps to 2**64 - 3); counter: (stream * 2**48, step).
    np.testing.assert_array_equal(key.numpy(), np.array([2**64 - 3], np.uint64))
    np.testing.assert_array_equal(counter.numpy(), np.array([2 * 2**48, 11], np.uint64))
    direct = tf.raw_ops.StatelessRandomUniformFullIntV2(
        shape=[64], key=key, counter=counter, alg=1, dtype=tf.uint32
    )
    seed = tf.constant([-3, 11], tf.int64)
    np.testing.assert_array_equal(philox_bits([64], seed, stream=2).numpy(), direct.numpy())
    # Replica 0's stream is the stream of a run without replicas; replica 1's is another.
    np.testing.assert_array_equal(
        philox_bits([64], seed, stream=0).numpy(), philox_bits([64], seed).numpy()
    )
    assert not np.array_equal(
        philox_bits([64], seed, stream=1).numpy(), philox_bits([64], seed).numpy()
    )


@pytest.mark.parametrize("graph", [False, True])
def test_each_training_call_moves_the_seed_generator_one_step(graph):
    from keras_sqnn.layers.sampling import bernoulli_sample

    layer = StochasticBinaryDense(8, seed=5)
    x = _inputs((16, 3))
    layer.build(x.shape)
    call = tf.function(lambda x: layer(x, training=True)) if graph else layer.__call__
    theta = layer.probabilities(x)
    for step in (1, 2, 3):
        codes = call(x) if graph else call(x, training=True)
        # The state after the call is (seed, step); the call drew with the state before it.
        np.testing.assert_array_equal(layer.seed_generator.state.numpy(), [5, step])
        expected = bernoulli_sample(theta, tf.constant([5, step - 1], tf.int64))
        np.testing.assert_array_equal(codes.numpy(), expected.numpy())


def test_stateless_call_draws_like_call_and_leaves_the_seed_state_alone():
    layer = StochasticBinaryDense(8, seed=5)
    x = _inputs((16, 3))
    layer.build(x.shape)
    codes, non_trainable = layer.stateless_call(
        layer.trainable_variables, layer.non_trainable_variables, x, training=True
    )
    np.testing.assert_array_equal(layer.seed_generator.state.numpy(), [5, 0])
    stepped = [np.asarray(v) for v in non_trainable if np.asarray(v).dtype == np.int64]
    np.testing.assert_array_equal(stepped, [[5, 1]])
    np.testing.assert_array_equal(np.asarray(codes), layer(x, training=True).numpy())


def test_the_default_sampler_is_tfp_bernoulli_with_the_seed_generators_stateless_seed():
    import tensorflow_probability as tfp

    layer = StochasticBinaryDense(8, seed=5)
    assert layer.sampler == "tfp"
    x = _inputs((16, 3))
    layer.build(x.shape)
    theta = layer.probabilities(x)
    codes = layer(x, training=True).numpy()
    # The first call draws with the seed generator's initial state, (seed, 0).
    expected = tfp.distributions.Bernoulli(probs=theta, dtype=tf.float32).sample(
        seed=tf.constant([5, 0], tf.int32)
    )
    np.testing.assert_array_equal(codes, expected.numpy())


def test_the_package_imports_no_private_keras_module():
    import pathlib

    import keras_sqnn

    root = pathlib.Path(keras_sqnn.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "keras.src" in path.read_text() or "tensorflow.python" in path.read_text()
    ]
    assert offenders == []


@keras.saving.register_keras_serializable(package="keras_sqnn_tests")
class _ScaledBernoulli(__import__("keras_sqnn").estimators.BernoulliMutualInformation):
    """A user's estimator with a constructor argument."""

    def __init__(self, scale=1.0):
        self.scale = scale

    def __call__(self, theta, codes, sensitive, num_groups, logits=None):
        return self.scale * super().__call__(theta, codes, sensitive, num_groups)

    def get_config(self):
        return {"scale": self.scale}


@pytest.mark.parametrize(("cls", "keras_cls", "args", "shape"), LAYERS)
def test_a_registered_user_estimator_survives_save_and_safe_load(
    cls, keras_cls, args, shape, tmp_path
):
    x_in = keras.Input(shape[1:], name="features")
    s_in = keras.Input((), dtype="int32", name="sensitive")
    layer = cls(**args, mi_estimator=_ScaledBernoulli(scale=3.0), gamma=0.5, seed=1, name="sb")
    out = keras.layers.Dense(1)(keras.layers.Flatten()(layer(x_in, sensitive=s_in)))
    model = keras.Model({"features": x_in, "sensitive": s_in}, out)
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    estimator = reloaded.get_layer("sb").mi_estimator
    assert type(estimator) is _ScaledBernoulli
    assert estimator.scale == 3.0
    # The reloaded layer uses it: its loss is 3 times the plain BinaryBernoulli term.
    x, s = _inputs(shape), np.arange(shape[0]) % 2
    reloaded({"features": x, "sensitive": s}, training=True)
    theta = reloaded.get_layer("sb").probabilities(x).numpy().reshape(shape[0], -1)
    plain = float(information.bernoulli_mutual_information(theta, s, 2))
    assert float(reloaded.losses[0]) == pytest.approx(0.5 * 3.0 * plain, rel=1e-5, abs=1e-6)


def test_estimators_serialize_the_keras_way_and_read_names_and_old_configs():
    from keras_sqnn import estimators

    joint = estimators.JointMutualInformation(max_exact_units=5)
    config = estimators.serialize(joint)
    assert config == keras.saving.serialize_keras_object(joint)
    assert config["registered_name"] == "keras_sqnn>JointMutualInformation"
    assert estimators.deserialize(config).max_exact_units == 5
    assert estimators.serialize(None) is None and estimators.get(None) is None
    assert type(estimators.get("bernoulli")) is estimators.BernoulliMutualInformation
    # The form earlier versions saved in layer configs still loads.
    old = {"class_name": "JointMutualInformation", "config": {"max_exact_units": 3}}
    assert estimators.get(old).max_exact_units == 3
    with pytest.raises(ValueError, match="mi_estimator='mine'"):
        estimators.get("mine")
