"""COMPAS: does I(T; S | Y) lower GPA more than I(T; S) at the same gamma? A fixed network.

.venv/bin/python scripts/compas_separation_check.py > docs/results/compas_separation_check.txt

One network (the tuned BinaryBernoulli's COMPAS choice: 2 hidden layers of 12, the second
stochastic and regularised, hybrid), outer fold 0 of the tuned comparison's folds, Adam
1e-3, 10 epochs, batch 106, seed 0; each regularizer at each gamma. Test-fold AUC, GPA and
AUDC. Separation (I(T; S | Y) = 0) implies GPA = 0 for a score computed from T.
"""

import keras

from keras_sqnn.classifiers import SQNNConfig, build_sqnn_classifier
from keras_sqnn.datasets import fetch_compas, nested_folds, train_test_arrays
from keras_sqnn.metrics import auc, audc, gpa

GAMMAS = (0.0, 0.5, 0.9, 0.99)
REGULARIZERS = {
    "I(T;S), per unit": ("bernoulli", None),
    "I(T;S|Y), per unit": ("bernoulli", "labels"),
    "I(T;S|Y), joint": ("joint", "labels"),
}


def main() -> None:
    dataset = fetch_compas()
    fold = nested_folds(dataset.y, dataset.s, n_outer=3, n_inner=3, seed=0)[0]
    arrays = train_test_arrays(dataset, fold.train, fold.test)
    print("| regularizer | gamma | AUC | GPA | AUDC |")
    print("|---|---|---|---|---|")
    for name, (estimator, condition_on) in REGULARIZERS.items():
        for gamma in GAMMAS:
            keras.backend.clear_session()
            keras.utils.set_random_seed(0)
            config = SQNNConfig(
                gamma=gamma,
                estimator=estimator,
                condition_on=condition_on,
                n_hidden=2,
                hidden_size=12,
                stochastic_position=1,
                hybrid=True,
                learning_rate=1e-3,
            )
            model = build_sqnn_classifier(arrays.x_train.shape[1], config, num_groups=2, seed=0)
            model.fit(
                {"features": arrays.x_train, "sensitive": arrays.s_train},
                arrays.y_train,
                epochs=10,
                batch_size=106,
                verbose=0,
            )
            scores = model.predict(arrays.x_test, verbose=0).ravel()
            y, s = arrays.y_test, arrays.s_test
            print(
                f"| {name} | {gamma} | {auc(y, scores):.3f} "
                f"| {gpa(y, scores, sensitive_features=s):.3f} "
                f"| {audc(y, scores, sensitive_features=s):.3f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
