"""The untuned sections of RESULTS.md: `keras-sqnn compare` per dataset and Figure 3's sweep."""

import pandas as pd

from keras_sqnn.lab.experiments.compare_report import sweep_section, untuned_section
from keras_sqnn.lab.experiments.harness import METRICS
from keras_sqnn.lab.experiments.tuned_markdown import markdown_table

# L1 distance to (1, 1) of each method in the two planes: VFAE is best in AUC/1-GPA,
# BinaryBernoulli in AUC/1-AUDC.
TRADEOFFS = {
    "binary_bernoulli": (0.30, 0.20),
    "binary_mi": (0.35, 0.25),
    "adv_cls": (0.32, 0.30),
    "vfae": (0.28, 0.26),
    "fairlearn_eg": (0.40, 0.40),
}


def _compare_csv(path, folds=(0, 1)):
    rows = []
    for method, (gpa_plane, audc_plane) in TRADEOFFS.items():
        for fold in folds:
            row = dict.fromkeys(METRICS, 0.5)
            row.update(tradeoff_gpa=gpa_plane, tradeoff_audc=audc_plane, train_seconds=2.0)
            rows.append(
                {"dataset": "compas", "method": method, "param_name": "gamma", "param": 0.1}
                | {"fold": fold}
                | row
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False)


def test_markdown_table_writes_a_header_a_rule_and_one_row_per_line():
    frame = pd.DataFrame({"method": ["a", "b"], "auc": [0.5, 0.75]})
    assert markdown_table(frame) == "| method | auc |\n|---|---|\n| a | 0.5 |\n| b | 0.75 |"


def test_untuned_section_reports_each_dataset_its_best_and_the_target(tmp_path):
    results, figures = tmp_path / "results", tmp_path / "figures"
    figures.mkdir()
    _compare_csv(results / "compas" / "compare.csv")
    (results / "compas" / "compare.png").write_bytes(b"\x89PNG figure")
    lines = untuned_section(results, figures)
    assert lines[0].startswith("## Untuned comparison (fixed parameters): `keras-sqnn compare")
    text = "\n".join(lines)
    compas = text[text.index("### compas") : text.index("### adult")]
    assert compas.startswith("### compas (untuned, 2 outer folds, mean ± std)\n\n")
    assert (
        "| method | param | auc | accuracy | gpa | audc | adrg | tradeoff_gpa | tradeoff_audc "
        "| train_seconds |\n|---|---|---|---|---|---|---|---|---|---|\n"
        "| binary_bernoulli | 0.1 | 0.500 ± 0.000 | 0.500 ± 0.000 | 0.500 ± 0.000 "
        "| 0.500 ± 0.000 | 0.500 ± 0.000 | 0.300 ± 0.000 | 0.200 ± 0.000 | 2.000 ± 0.000 |"
    ) in compas
    assert "AUC/1-GPA **vfae**, AUC/1-AUDC **binary_bernoulli**." in compas
    assert (
        "Target (SQNN's trade-off better than AdvCls, VFAE, EG): "
        "AUC/1-GPA: best SQNN 0.300 beats adv_cls, fairlearn_eg; not vfae | "
        "AUC/1-AUDC: best SQNN 0.200 beats adv_cls, vfae, fairlearn_eg (target met)"
    ) in compas
    assert "![compas](figures/compas_compare.png)" in compas
    assert (figures / "compas_compare.png").read_bytes() == b"\x89PNG figure"
    assert "### adult (untuned)\n\nNot run yet." in text
    assert "### banks (untuned)\n\nNot run yet." in text


def test_sweep_section_states_the_stability_target(tmp_path):
    results, figures = tmp_path / "results", tmp_path / "figures"
    figures.mkdir()
    missing = sweep_section(results, figures)
    assert missing[0] == "## Stability in gamma (Figure 3): `keras-sqnn sweep --dataset compas`"
    assert missing[2:] == ["Not run yet.", ""]
    sweep = results / "compas" / "sweep_correlations.csv"
    sweep.parent.mkdir(parents=True)
    for ours, verdict in ((0.95123, "met"), (0.9, "missed")):
        frame = pd.DataFrame(
            {"method": ["binary_bernoulli", "adv_cls"], "pearson_gamma_1_minus_gpa": [ours, 0.8]}
        )
        frame.to_csv(sweep, index=False)
        text = "\n".join(sweep_section(results, figures))
        assert f"| binary_bernoulli | {round(ours, 3)} |\n| adv_cls | 0.8 |" in text
        assert f"{ours:.3f} vs 0.800, {verdict}." in text
    assert "![sweep]" not in text
    (results / "compas" / "sweep.png").write_bytes(b"\x89PNG sweep")
    assert "![sweep](figures/compas_sweep.png)" in sweep_section(results, figures)
    assert (figures / "compas_sweep.png").read_bytes() == b"\x89PNG sweep"
