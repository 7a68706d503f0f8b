"""The "Beyond the paper" section of RESULTS.md: separation on COMPAS, intersectional groups."""

import pandas as pd

from keras_sqnn.lab.experiments import beyond_report
from tests.lab.experiments.test_tuned_report import DISTANCES, _rows, _write


def test_beyond_the_paper_section_decides_the_separation_target_on_complete_folds(tmp_path):
    distances = {**DISTANCES, "binary_bernoulli_conditional": 0.29}
    _write(tmp_path, _rows(distances))
    text = "\n".join(beyond_report.beyond_the_paper_section(tmp_path))
    # 0.29 beats binary_bernoulli's 0.30 and fairlearn_eg_eo's 0.47.
    assert "| BinaryBernoulli, I(T; S \\| Y) | 3 |" in text
    assert "Target: 0.290 against binary_bernoulli 0.300, fairlearn_eg_eo 0.470: met." in text
    # Rows of another rule are another experiment: never averaged into the target.
    objective = _rows({"binary_bernoulli_conditional": 0.1}).assign(selection="objective")
    _write(tmp_path, pd.concat([_rows(distances), objective]))
    text = "\n".join(beyond_report.beyond_the_paper_section(tmp_path))
    assert "Target: 0.290 against binary_bernoulli 0.300, fairlearn_eg_eo 0.470: met." in text
    _write(tmp_path, _rows({**distances, "binary_bernoulli_conditional": 0.31}))
    text = "\n".join(beyond_report.beyond_the_paper_section(tmp_path))
    assert "Target: 0.310 against binary_bernoulli 0.300, fairlearn_eg_eo 0.470: not met." in text
    _write(tmp_path, _rows(distances, folds=(0, 1)))
    text = "\n".join(beyond_report.beyond_the_paper_section(tmp_path))
    assert "Target: not decided until each of the three has its 3 outer folds." in text
    assert "Adult" in text and "Not run yet." in text  # no example output in tmp_path
    assert "### Both regularizers at the same gamma" in text and "either scoring" not in text
    (tmp_path / "compas_separation_check.csv").write_text(
        "regularizer,gamma,auc,gpa,audc,mi_bits,conditional_mi_bits,auc_sampled,gpa_sampled\n"
        '"I(T; S), per unit",0.0,0.8,0.3,0.1,0.05,0.02,0.7,0.2\n'
        '"I(T; S), per unit",0.9,0.7,0.2,0.0,0.001,0.001,0.6,0.05\n'
        '"I(T; S | Y), per unit",0.9,0.75,0.1,0.0,0.004,0.001,0.6,0.05\n'
    )
    text = "\n".join(beyond_report.beyond_the_paper_section(tmp_path))
    # The CSV as a markdown table, the bar in a cell escaped.
    assert (
        "| regularizer | gamma | AUC | GPA | AUDC | I(T; S) | I(T; S \\| Y) | AUC, sampled T "
        "| GPA, sampled T |\n|---|---|---|---|---|---|---|---|---|\n"
        "| I(T; S), per unit | 0.0 | 0.800 | 0.300 | 0.100 | 0.0500 | 0.0200 | 0.700 | 0.200 |\n"
    ) in text
    assert (
        "| I(T; S \\| Y), per unit | 0.9 | 0.750 | 0.100 | 0.000 | 0.0040 | 0.0010 | 0.600 "
        "| 0.050 |"
    ) in text
    # The reading is computed from it: 0.02 of 0.05 bits left, 60 % explained by Y; the
    # gamma-0.9 row scored both ways; the best L1 is the conditional row's 0.25 + 0.1.
    assert "I(T; S) = 0.050 bits" in text and "I(T; S | Y) = 0.020" in text and "60%" in text
    assert "GPA 0.200 (AUC 0.700), from" in text and "GPA 0.050 (AUC\n  0.600)" in text
    assert "either scoring: 0.350" in text
