"""A MultiWorkerMirroredStrategy worker: ``python -m tests.distributed.multi_worker OUT EST UNITS``.

Reads ``TF_CONFIG``, builds the MI-only SQNN of :func:`build_model` under a
``MultiWorkerMirroredStrategy`` (ring all-reduce over gRPC, CPU), trains it on its shard of
the data and writes its final weights and the logged MI to ``OUT`` (an ``.npz``).

The data and the global batch are defined exactly: the data are the ``NUM_ROWS`` rows of
:func:`make_data`; step ``k`` consumes the global batch ``rows[64 k : 64 k + 64]``, and
worker ``i`` feeds its (single) replica the contiguous slice ``[32 i, 32 i + 32)`` of it
(sharding by ``InputContext.input_pipeline_id``). So at every step the union of the
replicas' batches is the batch a single process gets from ``fit(..., batch_size=64,
shuffle=False)``.

Training runs Keras' own ``model.train_step`` in ``strategy.run`` (the loss scaling,
gradient all-reduce and optimizer update of ``fit``) rather than ``fit`` itself:
``Model.fit`` of Keras 3.15 cannot run under MultiWorkerMirroredStrategy, whatever the model
(see the comment below the imports).
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

GLOBAL_BATCH = 64
NUM_ROWS = 128  # two global batches
NUM_GROUPS = 3
LAYER = "sbd"

# Why the worker does not call ``fit``: in Keras 3.15 ``fit`` reduces every step's logs with
# ``strategy.reduce("MEAN", value, axis=0)`` under a multi-worker strategy, which fails for
# the scalar metric results ("Invalid reduction dimension 0 for input with 0 dimensions",
# tensorflow/tensorflow#72388); and before that, ``_maybe_symbolic_build`` calls
# ``strategy.reduce`` on the whole nested batch, which fails for any (x, y) tuple or dict
# (keras-team/keras#20329).


def make_data(n: int = NUM_ROWS, seed: int = 0) -> dict[str, np.ndarray]:
    """``n`` rows of 5 features shifted by the group id s in {0, 1, 2}."""
    rng = np.random.default_rng(seed)
    s = rng.integers(0, NUM_GROUPS, n).astype("int32")
    x = (rng.normal(size=(n, 5)) + s[:, None]).astype("float32")
    return {"features": x, "sensitive": s}


def build_model(estimator: str, units: int) -> keras.Model:
    """An SQNN whose whole loss is the MI (gamma = 1, ``loss=None``), seeded initializers.

    The "bernoulli" and exact "joint" MI depend on theta only, not on the sampled codes, so a
    training step is a deterministic function of the weights and the global batch.
    """
    from keras_sqnn.layers import StochasticBinaryDense

    keras.utils.set_random_seed(0)
    x_in = keras.Input((5,), name="features")
    s_in = keras.Input((), dtype="int32", name="sensitive")
    hidden = keras.layers.Dense(
        8, activation="tanh", kernel_initializer=keras.initializers.GlorotUniform(seed=1)
    )(x_in)
    t = StochasticBinaryDense(
        units,
        mi_estimator=estimator,
        gamma=1.0,
        num_groups=NUM_GROUPS,
        kernel_initializer=keras.initializers.GlorotUniform(seed=2),
        bias_initializer=keras.initializers.RandomNormal(stddev=0.5, seed=3),
        seed=0,
        name=LAYER,
    )(hidden, sensitive=s_in)
    model = keras.Model({"features": x_in, "sensitive": s_in}, t)
    model.compile(keras.optimizers.SGD(1.0), loss=None)
    return model


def train(strategy: tf.distribute.Strategy, model: keras.Model) -> list[float]:
    """One pass over the data; returns the logged MI after each step."""
    data = make_data()

    def dataset_fn(context: tf.distribute.InputContext) -> tf.data.Dataset:
        per_replica = context.get_per_replica_batch_size(GLOBAL_BATCH)
        start = per_replica * context.input_pipeline_id
        dataset = tf.data.Dataset.from_tensor_slices(data).batch(GLOBAL_BATCH, drop_remainder=True)
        return dataset.map(lambda b: {k: v[start : start + per_replica] for k, v in b.items()})

    with strategy.scope():
        model.optimizer.build(model.trainable_variables)

    @tf.function
    def step(batch):
        logs = strategy.run(model.train_step, args=(batch,))
        # Every replica logs the MI of the global batch; the mean over replicas is that value.
        return strategy.reduce("MEAN", logs[f"{LAYER}_mi"], axis=None)

    values = []
    for batch in strategy.distribute_datasets_from_function(dataset_fn):
        model.reset_metrics()  # the logged value is then this step's MI
        values.append(float(step(batch)))
    return values


def main(out: str, estimator: str, units: int) -> None:
    options = tf.distribute.experimental.CommunicationOptions(
        implementation=tf.distribute.experimental.CommunicationImplementation.RING,
        timeout_seconds=120,
    )
    strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    with strategy.scope():
        model = build_model(estimator, units)
    step_mi = train(strategy, model)
    np.savez(
        out,
        num_replicas=strategy.num_replicas_in_sync,
        task_id=strategy.cluster_resolver.task_id,
        step_mi=np.array(step_mi),
        **{f"w{i}": w for i, w in enumerate(model.get_weights())},
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
