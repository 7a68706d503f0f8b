"""The paper's trade-off objective ``gamma * MI + (1 - gamma) * task loss`` with plain compile."""

from __future__ import annotations

from typing import Any

import keras

from keras_sqnn.api_export import keras_sqnn_export


@keras_sqnn_export
class TradeoffLoss(keras.losses.Loss):
    """A task loss weighted by ``1 - gamma``, for the paper's Eq. 10.

    A stochastic layer with ``gamma`` adds ``gamma * MI`` to the model's losses, so compiling
    with this loss (same ``gamma``) makes ``fit`` minimise exactly
    ``gamma * MI + (1 - gamma) * task_loss``. (``compile(loss_weights=1 - gamma)`` does the
    same except at ``gamma = 1``, where Keras reads the weight 0.0 as "no weights".)

    Args:
        loss: the task loss: a name (``"binary_crossentropy"``), a function or a
            ``keras.losses.Loss``.
        gamma: trade-off in ``[0, 1]``.

    Example:
        >>> import keras
        >>> loss = TradeoffLoss("binary_crossentropy", gamma=0.25)
        >>> round(float(loss([[1.0]], [[0.5]])), 4)  # 0.75 * log(2)
        0.5199
    """

    def __init__(
        self,
        loss: Any = "binary_crossentropy",
        gamma: float = 0.0,
        reduction: str = "sum_over_batch_size",
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or not 0 <= gamma <= 1:
            raise ValueError(f"Expected `gamma` to be a float in [0, 1]. Received: gamma={gamma!r}")
        super().__init__(name=name or "tradeoff_loss", reduction=reduction, dtype=dtype)
        self.task_loss = keras.losses.get(loss)
        if self.task_loss is None:
            raise ValueError(f"Expected `loss` to name a Keras loss. Received: loss={loss!r}")
        self.gamma = float(gamma)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        y_pred = keras.ops.convert_to_tensor(y_pred)
        y_true = keras.ops.cast(y_true, y_pred.dtype)
        if len(y_true.shape) == len(y_pred.shape) - 1:
            # Labels of shape (batch,) against a (batch, 1) sigmoid output, as Keras' own
            # losses accept.
            y_true = keras.ops.expand_dims(y_true, -1)
        task = self.task_loss
        per_example = (
            task.call(y_true, y_pred)
            if isinstance(task, keras.losses.Loss)
            else task(y_true, y_pred)
        )
        return (1.0 - self.gamma) * per_example

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"loss": keras.losses.serialize(self.task_loss), "gamma": self.gamma})
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TradeoffLoss:
        config = dict(config)
        config["loss"] = keras.losses.deserialize(config["loss"])
        return cls(**config)
