"""A worker of the MultiWorkerMirroredStrategy test: ``python multi_worker.py OUT ESTIMATOR UNITS``.

Reads ``TF_CONFIG``, builds the MI-only SQNN of :func:`build_model` under a
``MultiWorkerMirroredStrategy`` (ring all-reduce, CPU), trains it on its shard of the data and
writes its final weights and the logged MI to ``OUT`` (an ``.npz``).

The data and "global batch" are defined exactly: the data are the ``NUM_ROWS`` rows of
:func:`make_data`; step ``k`` consumes the global batch ``rows[64 k : 64 k + 64]`` and worker
``i`` of ``n`` feeds its replica the contiguous slice ``[32 i, 32 i + 32)`` of it (sharding by
``InputContext.input_pipeline_id``). So the union of the replicas' batches at each step is
the global batch a single process gets from ``fit(..., batch_size=64, shuffle=False)``.
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
NUM_ROWS = 128  # two steps of one epoch
NUM_GROUPS = 3
LAYER = "sbd"


def make_data(n: int = NUM_ROWS, seed: int = 0) -> np.ndarray:
    """``(n, 6)`` float32 rows ``[x (5 features) | s]`` with s in {0, 1, 2} shifting x."""
    rng = np.random.default_rng(seed)
    s = rng.integers(0, NUM_GROUPS, n)
    x = rng.normal(size=(n, 5)) + s[:, None]
    return np.concatenate([x, s[:, None]], axis=1).astype("float32")


def build_model(estimator: str, units: int) -> keras.Model:
    """An SQNN whose whole loss is the MI (gamma = 1, ``loss=None``), seeded initializers.

    The "bernoulli" and exact "joint" MI depend on theta only, not on the sampled codes, so a
    training step is a deterministic function of the weights and the global batch.
    """
    from keras_sqnn.layers import StochasticBinaryDense

    keras.utils.set_random_seed(0)
    # One packed input [features | s]: Keras 3.15's `fit` under MultiWorkerMirroredStrategy
    # fails on datasets of dicts or tuples (keras-team/keras#20329: `_maybe_symbolic_build`
    # calls `strategy.reduce` on the nested batch). Float32 holds the small group ids exactly.
    packed = keras.Input((6,), name="packed")
    x_in = packed[:, :5]
    s_in = keras.ops.cast(packed[:, 5], "int32")
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
    model = keras.Model(packed, t)
    model.compile(keras.optimizers.SGD(1.0), loss=None)
    return model


class FirstStepMI(keras.callbacks.Callback):
    """Records the logged MI after the first step (the running mean is then that step's MI)."""

    def __init__(self) -> None:
        super().__init__()
        self.value: float | None = None

    def on_train_batch_end(self, batch, logs=None):  # noqa: D401
        if batch == 0:
            self.value = float(logs[f"{LAYER}_mi"])


def main(out: str, estimator: str, units: int) -> None:
    keras.config.disable_traceback_filtering()
    options = tf.distribute.experimental.CommunicationOptions(
        implementation=tf.distribute.experimental.CommunicationImplementation.RING,
        timeout_seconds=120,
    )
    strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    data = make_data()

    def dataset_fn(context: tf.distribute.InputContext) -> tf.data.Dataset:
        per_replica = context.get_per_replica_batch_size(GLOBAL_BATCH)
        start = per_replica * context.input_pipeline_id
        dataset = tf.data.Dataset.from_tensor_slices(data).batch(GLOBAL_BATCH, drop_remainder=True)
        return dataset.map(lambda batch: batch[start : start + per_replica])

    with strategy.scope():
        model = build_model(estimator, units)
    # Keras 3.15 reduces the step's logs under MultiWorkerMirroredStrategy with
    # `strategy.reduce("MEAN", value, axis=0)`, which fails on scalar metrics
    # (tensorflow/tensorflow#72388). "first" logs this worker's replica's value instead; the
    # MI a replica computes is already that of the global batch (estimators all-reduce).
    model.distribute_reduction_method = "first"
    dataset = strategy.distribute_datasets_from_function(dataset_fn)
    first = FirstStepMI()
    history = model.fit(dataset, epochs=1, verbose=0, callbacks=[first])
    task = strategy.cluster_resolver.task_id
    np.savez(
        out,
        num_replicas=strategy.num_replicas_in_sync,
        task_id=task,
        epoch_mi=history.history[f"{LAYER}_mi"][-1],
        first_step_mi=first.value,
        **{f"w{i}": w for i, w in enumerate(model.get_weights())},
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
