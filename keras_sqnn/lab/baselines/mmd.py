"""Maximum mean discrepancy between the groups of a sensitive attribute, in ``keras.ops``."""

from __future__ import annotations

from typing import Any

from keras import ops


def rbf_kernel(a: Any, b: Any, bandwidth: float) -> Any:
    """Gaussian kernel matrix ``k(a_i, b_j) = exp(-||a_i - b_j||^2 / (2 * bandwidth^2))``.

    Args:
        a: ``(n, d)`` tensor.
        b: ``(m, d)`` tensor.
        bandwidth: the kernel width sigma > 0.

    Returns:
        The ``(n, m)`` kernel matrix.

    Example:
        >>> import numpy as np
        >>> float(rbf_kernel(np.zeros((1, 2)), np.ones((1, 2)), 1.0)[0, 0])  # exp(-1)
        0.36787944117144233
    """
    a = ops.convert_to_tensor(a)
    b = ops.cast(ops.convert_to_tensor(b), a.dtype)
    squared = (
        ops.sum(a * a, axis=1)[:, None]
        + ops.sum(b * b, axis=1)[None, :]
        - 2.0 * (a @ ops.transpose(b))
    )
    return ops.exp(-ops.maximum(squared, 0.0) / (2.0 * bandwidth**2))


def group_mmd(representation: Any, sensitive: Any, num_groups: int, bandwidth: float) -> Any:
    """Squared MMD between each group's representations and the other groups', averaged.

    For each group k present in the batch with at least one example outside it, the biased
    (V-statistic) estimate of ``MMD^2(P(z | s = k), P(z | s != k))`` with an RBF kernel
    (Gretton et al. 2012); the result is the mean over those groups (0 when there are none).
    With two groups both terms equal ``MMD^2(P(z | s = 0), P(z | s = 1))``, the VFAE
    penalty of Louizos et al. (2016). Uses the exact ``O(batch^2)`` kernel matrix of the
    batch, not random Fourier features. Differentiable, with static shapes.

    Args:
        representation: ``(batch, d)`` float tensor.
        sensitive: ``(batch,)`` integer group ids in ``[0, num_groups)``.
        num_groups: number of groups K.
        bandwidth: RBF kernel width sigma > 0.

    Returns:
        A scalar tensor >= 0.

    Example:
        >>> import numpy as np
        >>> z = np.array([[0.0], [0.0], [1.0], [1.0]], "float32")
        >>> round(float(group_mmd(z, np.array([0, 0, 1, 1]), 2, 1.0)), 4)  # 2 - 2 exp(-1/2)
        0.7869

    References:
        - Gretton, Borgwardt, Rasch, Schölkopf and Smola, "A Kernel Two-Sample Test",
          JMLR 13, 2012.
        - Louizos, Swersky, Li, Welling and Zemel, "The Variational Fair Autoencoder",
          ICLR 2016.
    """
    z = ops.convert_to_tensor(representation)
    kernel = rbf_kernel(z, z, bandwidth)
    groups = ops.reshape(ops.cast(sensitive, "int32"), (-1,))
    total = ops.zeros((), z.dtype)
    counted = ops.zeros((), z.dtype)
    for group in range(num_groups):
        inside = ops.cast(ops.equal(groups, group), z.dtype)
        outside = 1.0 - inside
        n_in = ops.sum(inside)
        n_out = ops.sum(outside)
        w_in = inside / ops.maximum(n_in, 1.0)
        w_out = outside / ops.maximum(n_out, 1.0)
        mmd = (
            ops.sum(w_in[:, None] * kernel * w_in[None, :])
            + ops.sum(w_out[:, None] * kernel * w_out[None, :])
            - 2.0 * ops.sum(w_in[:, None] * kernel * w_out[None, :])
        )
        present = ops.cast((n_in > 0) & (n_out > 0), z.dtype)
        total = total + present * ops.maximum(mmd, 0.0)
        counted = counted + present
    return total / ops.maximum(counted, 1.0)
