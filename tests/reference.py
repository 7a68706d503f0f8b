"""Independent NumPy brute-force references for the information estimators.

Written from the definitions, by enumeration over codes and groups, sharing no code with
keras_sqnn.information.
"""

import itertools

import numpy as np


def entropy_bits(p):
    p = np.asarray(p, dtype=np.float64)
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def joint_mi_bits(theta, s, num_groups):
    """I(T;S) of the batch mixture, enumerating every code and group."""
    theta = np.asarray(theta, np.float64)
    n, m = theta.shape
    codes = np.array(list(itertools.product([0, 1], repeat=m)), dtype=np.float64)
    p_t_given_x = np.array(
        [[np.prod(np.where(code == 1, row, 1 - row)) for code in codes] for row in theta]
    )
    p_t = p_t_given_x.mean(axis=0)
    mi = entropy_bits(p_t)
    for g in range(num_groups):
        members = np.asarray(s) == g
        if members.any():
            mi -= members.mean() * entropy_bits(p_t_given_x[members].mean(axis=0))
    return mi


def per_unit_mi_bits(theta, s, num_groups):
    theta = np.asarray(theta, np.float64)
    return np.array([joint_mi_bits(theta[:, [i]], s, num_groups) for i in range(theta.shape[1])])


def counting_mi_bits(codes, s):
    """Plug-in MI of a histogram of observed codes (dictionary counting)."""
    codes = [tuple(row) for row in np.asarray(codes).astype(int)]
    s = list(np.asarray(s))
    n = len(codes)
    joint = {}
    for code, group in zip(codes, s, strict=True):
        joint[(code, group)] = joint.get((code, group), 0) + 1
    p_code = {}
    p_group = {}
    for (code, group), count in joint.items():
        p_code[code] = p_code.get(code, 0) + count / n
        p_group[group] = p_group.get(group, 0) + count / n
    return sum(
        (count / n) * np.log2((count / n) / (p_code[code] * p_group[group]))
        for (code, group), count in joint.items()
    )


def conditional_joint_mi_bits(theta, s, y, num_groups, num_classes):
    """I(T;S|Y) = sum_y p(y) [H(T|Y=y) - sum_s p(s|y) H(T|S=s,Y=y)], enumerating codes."""
    theta = np.asarray(theta, np.float64)
    s, y = np.asarray(s), np.asarray(y)
    m = theta.shape[1]
    codes = np.array(list(itertools.product([0, 1], repeat=m)), dtype=np.float64)
    p_t_given_x = np.array(
        [[np.prod(np.where(code == 1, row, 1 - row)) for code in codes] for row in theta]
    )
    mi = 0.0
    for label in range(num_classes):
        in_class = y == label
        if not in_class.any():
            continue
        inner = entropy_bits(p_t_given_x[in_class].mean(axis=0))
        for group in range(num_groups):
            members = in_class & (s == group)
            if members.any():
                share = members.sum() / in_class.sum()
                inner -= share * entropy_bits(p_t_given_x[members].mean(axis=0))
        mi += in_class.mean() * inner
    return mi


def per_unit_conditional_mi_bits(theta, s, y, num_groups, num_classes):
    theta = np.asarray(theta, np.float64)
    return np.array(
        [
            conditional_joint_mi_bits(theta[:, [i]], s, y, num_groups, num_classes)
            for i in range(theta.shape[1])
        ]
    )
