"""COMPAS: does I(T; S | Y) lower GPA more than I(T; S) at the same gamma? A fixed network.

.venv/bin/python scripts/compas_separation_check.py > docs/results/compas_separation_check.txt

One network (the tuned BinaryBernoulli's COMPAS choice: 2 hidden layers of 12, the second
stochastic and regularised, hybrid), outer fold 0 of the tuned comparison's folds, Adam
1e-3, 10 epochs, batch 106, seed 0; each regularizer at each gamma. Test-fold AUC, GPA and
AUDC, and the exact joint I(T; S) and I(T; S | Y) in bits of the regularised layer's
code on the test fold (the batch mixture of its theta, 2**12 codes enumerated). Separation
(I(T; S | Y) = 0) implies GPA = 0 for a score computed from a sampled code T, which is
what the MI covers. The layer's default inference (``"expectation"``) scores from theta
itself, a deterministic function of x that the MI does not bound, so the last two columns
score the same model from one sampled code per example (``inference="sample"``).
"""

import keras

from keras_sqnn.classifiers import SQNNConfig, build_sqnn_classifier
from keras_sqnn.datasets import fetch_compas, nested_folds, train_test_arrays
from keras_sqnn.information import conditional_mutual_information, exact_joint_mutual_information
from keras_sqnn.metrics import auc, audc, gpa, layer_probabilities

GAMMAS = (0.0, 0.5, 0.9, 0.99)
REGULARIZERS = {
    "I(T; S), per unit": ("bernoulli", None),
    "I(T; S \\| Y), per unit": ("bernoulli", "labels"),
    "I(T; S \\| Y), joint": ("joint", "labels"),
}


def main() -> None:
    dataset = fetch_compas()
    fold = nested_folds(dataset.y, dataset.s, n_outer=3, n_inner=3, seed=0)[0]
    arrays = train_test_arrays(dataset, fold.train, fold.test)
    print(
        "| regularizer | gamma | AUC | GPA | AUDC | I(T; S) | I(T; S \\| Y) "
        "| AUC, sampled T | GPA, sampled T |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
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
            theta = layer_probabilities(model, arrays.x_test, "representation")

            def estimate(ids, count, theta=theta):
                return float(exact_joint_mutual_information(theta, ids, count))

            conditional = conditional_mutual_information(estimate, s, y, 2, 2)
            model.get_layer("representation").inference = "sample"
            model.predict_function = None  # Traced again with the sampling layer.
            sampled = model.predict(arrays.x_test, verbose=0).ravel()
            print(
                f"| {name} | {gamma} | {auc(y, scores):.3f} "
                f"| {gpa(y, scores, sensitive_features=s):.3f} "
                f"| {audc(y, scores, sensitive_features=s):.3f} "
                f"| {estimate(s, 2):.4f} | {conditional:.4f} "
                f"| {auc(y, sampled):.3f} | {gpa(y, sampled, sensitive_features=s):.3f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
