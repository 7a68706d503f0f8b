"""A functional SQNN on COMPAS with the joint MI regularizer against race, and its fairness.

.venv/bin/python examples/functional_with_sensitive.py [--epochs 20] [--gamma 0.3]
"""

import argparse

import keras

from keras_sqnn import metrics
from keras_sqnn.datasets import fetch_compas, nested_folds, train_test_arrays
from keras_sqnn.layers import StochasticBinaryDense
from keras_sqnn.losses import TradeoffLoss


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--gamma", type=float, default=0.3)
    args = parser.parse_args()
    data = fetch_compas()
    fold = nested_folds(data.y, data.s, seed=0)[0]
    a = train_test_arrays(data, fold.train, fold.test)

    features = keras.Input((a.x_train.shape[1],), name="features")
    race = keras.Input((), dtype="int32", name="sensitive", optional=True)
    h = keras.layers.Dense(32, activation="relu")(features)
    t = StochasticBinaryDense(10, mi_estimator="joint", gamma=args.gamma, seed=0, name="t")(
        h, sensitive=race
    )
    out = keras.layers.Dense(1, activation="sigmoid")(t)
    model = keras.Model({"features": features, "sensitive": race}, out)
    model.compile("adam", TradeoffLoss("binary_crossentropy", gamma=args.gamma))
    model.fit(
        {"features": a.x_train, "sensitive": a.s_train},
        a.y_train.astype("float32"),
        epochs=args.epochs,
        batch_size=128,
        verbose=2,
    )
    scores = model.predict({"features": a.x_test, "sensitive": a.s_test}, verbose=0).ravel()
    print("AUC ", metrics.auc(a.y_test, scores))
    print("GPA ", metrics.gpa(a.y_test, scores, sensitive_features=a.s_test))
    print("AUDC", metrics.audc(a.y_test, scores, sensitive_features=a.s_test))
    print(
        metrics.information_report(
            model,
            {"features": a.x_test, "sensitive": a.s_test},
            a.y_test,
            sensitive_features=a.s_test,
            n_samples=5,
        ).T
    )


if __name__ == "__main__":
    main()
