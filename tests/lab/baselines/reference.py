"""Independent NumPy references for the baselines' maths, written from the definitions."""

import numpy as np


def reference_mmd(z, s, num_groups, bandwidth):
    """Biased MMD^2 by explicit double loops over the pairs, per group against the rest."""

    def k(a, b):
        return np.exp(-np.sum((a - b) ** 2) / (2 * bandwidth**2))

    def mean_kernel(p, q):
        return np.mean([[k(a, b) for b in q] for a in p])

    values = []
    for group in range(num_groups):
        inside, outside = z[s == group], z[s != group]
        if len(inside) and len(outside):
            values.append(
                mean_kernel(inside, inside)
                + mean_kernel(outside, outside)
                - 2 * mean_kernel(inside, outside)
            )
    return np.mean(values) if values else 0.0
