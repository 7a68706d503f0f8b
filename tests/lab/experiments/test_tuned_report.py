"""The tuned report: the target's cells, the constant check, the figures and RESULTS.md."""

import importlib.util
import itertools
import json
import math
import sys
from pathlib import Path

import matplotlib
import pandas as pd
import pytest

from keras_sqnn import plots
from keras_sqnn.lab.experiments import compare_report, tuned_markdown
from keras_sqnn.lab.experiments.tuned_report import (
    TUNED_METHODS,
    read_tuned,
    target_cells,
    tuned_figures,
)
from keras_sqnn.lab.experiments.tuned_report import (
    tuned_report as make_report,
)
from keras_sqnn.lab.experiments.tuned_schema import CSV_COLUMNS, constant_row

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.text import Text  # noqa: E402

# Mean L1 distance to (1, 1) per method in both planes; binary_bernoulli is best by 0.02.
DISTANCES = {
    "binary_bernoulli": 0.30,
    "binary_mi": 0.36,
    "vanilla": 0.40,
    "adv_cls": 0.32,
    "vfae": 0.34,
    "fairlearn_eg": 0.45,
    "fairlearn_eg_eo": 0.47,
    "fairlearn_adv": 0.38,
}
NO_REPRESENTATION = ("fairlearn_eg", "fairlearn_eg_eo")


def _rows(distances, dataset="compas", folds=(0, 1, 2), constant=0.5):
    """Rows of a tuned CSV whose fold distances average to ``distances``, plus constant rows.

    Folds are spread by -0.01, 0, +0.01 around the mean (their mean is the mean); GPA and
    AUDC are equal, so both planes carry the same distances.
    """
    rows = []
    for method, distance in distances.items():
        for fold in folds:
            spread = 0.01 * (fold - 1)
            auc = 0.75 + spread
            unfair = distance - (1 - auc) + spread
            probes = (math.nan,) * 3 if method in NO_REPRESENTATION else (0.55, 0.7, 0.05)
            rows.append(
                {
                    "dataset": dataset,
                    "method": method,
                    "fold": fold,
                    "selection": "auc_floor",
                    "budget": "cpu",
                    "seed": 0,
                    "params": json.dumps({"gamma": 0.1}),
                    "trials": 8,
                    "inner_score": 2.1,
                    "inner_auc": 0.74,
                    "auc": auc,
                    "accuracy": 0.7,
                    "gpa": unfair,
                    "audc": unfair,
                    "adrg": probes[2],
                    "probe_auc_s": probes[0],
                    "probe_auc_y": probes[1],
                    "tradeoff_gpa": (1 - auc) + unfair,
                    "tradeoff_audc": (1 - auc) + unfair,
                    "train_seconds": 3.0,
                    "search_seconds": 30.0,
                }
            )
    for fold in folds:
        scores = {"auc": 0.5, "accuracy": 0.55, "gpa": constant - 0.5, "audc": constant - 0.5}
        scores.update(adrg=math.nan, probe_auc_s=math.nan, probe_auc_y=math.nan)
        scores.update(tradeoff_gpa=constant, tradeoff_audc=constant)
        rows.append(constant_row(dataset, fold, 0, scores))  # as the writer makes them
    return pd.DataFrame(rows, columns=list(CSV_COLUMNS))


def _write(tmp_path, frame, dataset="compas"):
    path = tmp_path / f"tuned_{dataset}.csv"
    frame.to_csv(path, index=False)
    return path


def _cells(distances, **kwargs):
    return target_cells(_rows(distances, **kwargs))


def test_the_fixture_has_the_distances_it_claims():
    means = _rows(DISTANCES).groupby("method")["tradeoff_gpa"].mean()
    for method, distance in DISTANCES.items():
        assert means[method] == pytest.approx(distance)


def test_an_sqnn_that_is_best_meets_the_target_in_both_planes():
    cells = _cells(DISTANCES)
    assert [(c.dataset, c.plane) for c in cells] == [("compas", "gpa"), ("compas", "audc")]
    for cell in cells:
        assert cell.status == "met"
        assert cell.best_method == "binary_bernoulli"
        assert cell.best_sqnn == "binary_bernoulli"
        assert cell.best_distance == pytest.approx(0.30)
        assert cell.gap == pytest.approx(0.0)
        assert cell.missing == ()


def test_an_sqnn_0_005_behind_the_best_meets_the_target():
    cells = _cells({**DISTANCES, "binary_bernoulli": 0.325})
    for cell in cells:
        assert cell.best_method == "adv_cls"
        assert cell.best_sqnn == "binary_bernoulli"
        assert cell.gap == pytest.approx(0.005)
        assert cell.status == "met"


def test_an_sqnn_0_02_behind_the_best_does_not_meet_it():
    cells = _cells({**DISTANCES, "binary_bernoulli": 0.34})
    for cell in cells:
        assert cell.best_method == "adv_cls"
        assert cell.best_sqnn_distance == pytest.approx(0.34)
        assert cell.gap == pytest.approx(0.02)
        assert cell.status == "not met"


def test_the_conditional_sqnn_counts_and_is_named():
    distances = {**DISTANCES, "binary_bernoulli": 0.35, "binary_bernoulli_conditional": 0.325}
    for cell in _cells(distances):
        assert cell.status == "met"
        assert cell.best_method == "adv_cls"
        assert cell.best_sqnn == "binary_bernoulli_conditional"
        assert cell.gap == pytest.approx(0.005)
        assert cell.unconditional_sqnn == "binary_bernoulli"
        assert cell.unconditional_gap == pytest.approx(0.03)


def test_a_missing_method_or_fold_makes_the_cell_incomplete():
    without_vfae = {m: d for m, d in DISTANCES.items() if m != "vfae"}
    for cell in _cells(without_vfae):
        assert cell.status == "incomplete"
        assert cell.missing == ("vfae: no folds",)
    rows = _rows(DISTANCES)
    rows = rows[~((rows["method"] == "adv_cls") & (rows["fold"] == 2))]
    cells = target_cells(rows)
    for cell in cells:
        assert cell.status == "incomplete"
        assert cell.missing == ("adv_cls: fold 2 of 0-2",)
        # What is present is still reported.
        assert cell.best_method == "binary_bernoulli"
    # A complete set whose SQNN is 0.02 behind would be "not met"; incomplete wins.
    rows = _rows({**DISTANCES, "binary_bernoulli": 0.34})
    rows = rows[~((rows["method"] == "fairlearn_adv") & (rows["fold"] == 0))]
    assert {c.status for c in target_cells(rows)} == {"incomplete"}


def test_a_method_worse_than_the_constant_predictor_is_flagged():
    report = make_report(_rows({**DISTANCES, "fairlearn_eg": 0.52}))
    flagged = report.constant[report.constant["worse_than_constant"]]
    assert sorted(set(flagged["method"])) == ["fairlearn_eg"]
    assert set(flagged["plane"]) == {"gpa", "audc"}
    assert flagged["constant_distance"].tolist() == pytest.approx([0.5, 0.5])
    text = "\n".join(tuned_markdown.report_markdown(report, "compas"))
    worse = "**Worse than the constant predictor:** fairlearn_eg"
    assert f"{worse} (AUC / 1-GPA 0.520; AUC / 1-AUDC 0.520)." in text
    none_worse = "\n".join(tuned_markdown.report_markdown(make_report(_rows(DISTANCES)), "compas"))
    assert "No method's tuned point is worse than it." in none_worse


def test_a_csv_missing_columns_raises_an_error_naming_file_and_columns(tmp_path):
    path = _write(tmp_path, _rows(DISTANCES).drop(columns=["tradeoff_audc", "probe_auc_y"]))
    with pytest.raises(ValueError, match="tuned_compas.csv") as info:
        read_tuned(path)
    assert "['probe_auc_y', 'tradeoff_audc']" in str(info.value)
    with pytest.raises(ValueError, match="no `seed` column"):
        read_tuned(_write(tmp_path, _rows(DISTANCES).drop(columns=["seed"])))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="tuned_<dataset>.csv"):
        read_tuned(empty)


def test_summary_reads_one_selection_rule_and_keeps_the_last_rerun(tmp_path):
    rows = _rows(DISTANCES)
    rows.loc[(rows["method"] == "vfae") & (rows["fold"] == 0), "selection"] = (
        "auc_floor:none_eligible"
    )
    objective = rows[rows["method"] == "binary_mi"].assign(selection="objective", auc=0.6)
    rerun = rows[(rows["method"] == "binary_mi") & (rows["fold"] == 1)].assign(auc=0.9)
    partial = rows[~((rows["method"] == "vanilla") & (rows["fold"] == 2))]
    path = _write(tmp_path, pd.concat([partial, objective, rerun]))
    table = read_tuned(path)
    assert table.attrs["superseded"] == 1
    summary = make_report(table).summary.loc["compas"]
    assert summary.loc["vanilla", "folds"] == 2
    # A none_eligible fold is an auc_floor fold, and says so.
    assert summary.loc["vfae", "selection"] == "auc_floor:none_eligible (1), auc_floor (2)"
    # The objective rows (AUC 0.6) are another experiment: never mixed into a fold.
    assert summary.loc["binary_mi", "auc"] == pytest.approx((0.74 + 0.9 + 0.76) / 3)
    assert summary.loc["binary_bernoulli", "auc_std"] == pytest.approx(0.01)
    assert list(summary.index)[-1] == "constant" and summary.loc["constant", "folds"] == 3
    other = read_tuned(path, selection="objective")
    assert sorted(set(other["method"])) == ["binary_mi", "constant"]
    assert other.loc[other["method"] == "binary_mi", "auc"].tolist() == [0.6] * 3


def test_several_budgets_or_seeds_are_never_mixed(tmp_path):
    rows = _rows(DISTANCES)
    more = _rows({**DISTANCES, "binary_bernoulli": 0.5})
    more = more[more["method"] != "constant"].assign(budget="cpu_trials20")
    both = pd.concat([rows, more], ignore_index=True)
    path = _write(tmp_path, both)
    found = r"found budgets \['cpu', 'cpu_trials20'\]\. Pass budget="
    with pytest.raises(ValueError, match=found):
        read_tuned(path)
    with pytest.raises(ValueError, match=found):
        target_cells(both)
    for budget, best in (("cpu", ("binary_bernoulli", 0.30)), ("cpu_trials20", ("adv_cls", 0.32))):
        table = read_tuned(path, budget=budget)
        assert (table["method"] == "constant").sum() == 3  # the constant rows join each
        assert set(table.loc[table["method"] != "constant", "budget"]) == {budget}
        cell = target_cells(table)[0]
        assert (cell.best_method, cell.best_distance) == (best[0], pytest.approx(best[1]))
        assert target_cells(both, budget=budget)[0].best_method == best[0]
    seeds = pd.concat([rows, rows.assign(seed=1, auc=0.1)], ignore_index=True)
    with pytest.raises(ValueError, match=r"found seeds \[0, 1\]"):
        read_tuned(_write(tmp_path, seeds))
    table = read_tuned(tmp_path / "tuned_compas.csv", seed=1)
    assert (table["auc"] == 0.1).all() and len(table) == len(rows)
    # The tuned section names the command of the budget it reports, and needs one.
    path = _write(tmp_path, both)
    with pytest.raises(ValueError, match="cpu_trials20"):
        tuned_markdown.tuned_section(tmp_path, tmp_path / "figures")
    text = "\n".join(tuned_markdown.tuned_section(tmp_path, tmp_path / "f", budget="cpu_trials20"))
    assert "`keras-sqnn tune --dataset compas --budget cpu --max-trials 20`" in text
    assert "| adv_cls | 0.320 |" in text


def _fig4_tick_labels_do_not_overlap(figure):
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    axis = figure.axes[0]
    labels = [t for t in axis.get_xticklabels() if t.get_text()]
    boxes = [t.get_window_extent(renderer) for t in labels]
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)
    legend = figure.legends[0].get_window_extent(renderer)
    for box in boxes:
        assert not legend.overlaps(box)
    return [t.get_text() for t in labels]


def test_tuned_figures_write_both_figures_per_dataset(tmp_path, monkeypatch):
    monkeypatch.setattr(plt, "close", lambda *args, **kwargs: None)
    _write(tmp_path, _rows(DISTANCES))
    _write(tmp_path, _rows({**DISTANCES, "vfae": 0.2}, dataset="banks"), dataset="banks")
    (tmp_path / "tuned_compas_trials.csv").write_text("not,a,tuned,table\n")  # ignored
    paths = tuned_figures(tmp_path, tmp_path / "figures")
    assert [p.name for p in paths] == [
        "tuned_compas_fig2.png",
        "tuned_compas_fig4.png",
        "tuned_banks_fig2.png",
        "tuned_banks_fig4.png",
    ]
    for path in paths:
        assert path.read_bytes()[:4] == b"\x89PNG" and path.stat().st_size > 10_000
    fig2, fig4 = (plt.figure(n) for n in plt.get_fignums()[:2])
    fig2.canvas.draw()
    names = {t.get_text() for t in fig2.findobj(Text) if t.get_visible()}
    assert "constant (reference)" in names and set(TUNED_METHODS) <= names
    # The equal-tradeoff line passes through the best method (0.30), not the constant.
    assert "equal tradeoff (0.300)" in names
    # Figure 4 leaves the constant out and marks the methods without a representation.
    assert _fig4_tick_labels_do_not_overlap(fig4) == list(TUNED_METHODS)
    assert sum(t.get_text() == "n/a" for t in fig4.findobj(Text)) == len(NO_REPRESENTATION)


def test_probe_figure_handles_all_nan_probe_columns(tmp_path):
    summary = pd.DataFrame(
        {
            "method": ["fairlearn_eg", "binary_bernoulli"],
            "probe_auc_s": [math.nan, 0.52],
            "probe_auc_y": [math.nan, math.nan],
            "adrg": [math.nan, 0.01],
        }
    )
    path = plots.probe_figure(summary, tmp_path / "fig4.png", title="nan")
    assert path.stat().st_size > 5_000
    only_nan = summary.iloc[:1]
    assert plots.probe_figure(only_nan, tmp_path / "nan.png", title="x").stat().st_size > 5_000


def _make_results():
    path = Path(__file__).parents[3] / "scripts" / "make_results.py"
    spec = importlib.util.spec_from_file_location("make_results", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# RESULTS.md's sections, in page order.
PAGE_ORDER = ("tuned untuned sweep biased_mnist beyond_the_paper certified reading").split()


def test_make_results_assembles_the_page_and_replaces_sections_by_title(tmp_path, monkeypatch):
    make_results = _make_results()
    assert list(make_results.SECTIONS) == PAGE_ORDER
    # The sections are rendered in the lab, next to their experiments.
    assert make_results.SECTIONS["untuned"] is compare_report.untuned_section
    assert make_results.SECTIONS["sweep"] is compare_report.sweep_section
    assert make_results.SECTIONS["reading"](None, None) is make_results.READING
    existing = ["# Results", "", "## Alpha: `cmd a`", "old a", "", "## Beta", "old b", ""]
    replaced = make_results.replace_sections(existing, [["## Beta: `cmd b`", "new b", ""]])
    assert replaced == [*existing[:5], "## Beta: `cmd b`", "new b", ""]
    with pytest.raises(SystemExit, match=r"No section titled \['## Gamma'\]"):
        make_results.replace_sections(existing, [["## Gamma: `cmd`", "new"]])

    # main: the whole page, then `--only` replaces one section in place.
    def stub(name, version):
        return lambda results, figures: [f"## {name}: `cmd`", f"{name} {version}", ""]

    monkeypatch.setattr(make_results, "SECTIONS", {name: stub(name, 1) for name in PAGE_ORDER})
    output = tmp_path / "docs" / "RESULTS.md"
    output.parent.mkdir()
    monkeypatch.setattr(sys, "argv", ["make_results.py", str(tmp_path / "none"), str(output)])
    make_results.main()
    sections = [[f"## {name}: `cmd`", f"{name} 1", ""] for name in PAGE_ORDER]
    page = [*make_results.HEADER, *itertools.chain.from_iterable(sections)]
    assert output.read_text() == "\n".join(page).rstrip("\n") + "\n"
    assert (output.parent / "figures").is_dir()
    make_results.SECTIONS["sweep"] = stub("sweep", 2)
    monkeypatch.setattr(sys, "argv", [*sys.argv, "--only", "sweep"])
    make_results.main()
    assert output.read_text() == "\n".join(page).rstrip("\n").replace("sweep 1", "sweep 2") + "\n"


def test_results_section_reports_cells_figures_and_missing_datasets(tmp_path):
    results, figures = tmp_path / "results", tmp_path / "figures"
    results.mkdir()
    _write(results, _rows({**DISTANCES, "binary_bernoulli": 0.34}))
    partial = _rows(DISTANCES, dataset="adult")
    _write(results, partial[partial["method"] != "fairlearn_adv"], dataset="adult")
    text = "\n".join(tuned_markdown.tuned_section(results, figures))
    compas = text[text.index("### compas (tuned)") : text.index("### adult (tuned)")]
    adult = text[text.index("### adult (tuned)") : text.index("### banks (tuned)")]
    banks = text[text.index("### banks (tuned)") :]
    assert "`keras-sqnn tune --dataset compas --budget cpu`" in compas
    assert compas.count("**not met**") == 2 and "| adv_cls | 0.320 |" in compas
    assert "| binary_bernoulli | 0.340 | 0.020 |" in compas
    assert "![compas figure 2](figures/tuned_compas_fig2.png)" in compas
    assert "![compas figure 4](figures/tuned_compas_fig4.png)" in compas
    assert adult.count("**incomplete**") == 2 and "fairlearn_adv: no folds" in adult
    assert "Not run yet." in banks
    assert (figures / "tuned_compas_fig2.png").stat().st_size > 0
    assert sorted(p.name for p in figures.iterdir()) == [
        "tuned_adult_fig2.png",
        "tuned_adult_fig4.png",
        "tuned_compas_fig2.png",
        "tuned_compas_fig4.png",
    ]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    for number in plt.get_fignums():
        matplotlib.pyplot.close(number)


def test_budget_check_section_sets_the_larger_search_beside_the_budgets_own(tmp_path):
    larger = tmp_path / "trials28"
    assert "Not run yet." in tuned_markdown.budget_check_section(tmp_path, larger)
    _write(tmp_path, _rows(DISTANCES))
    larger.mkdir()
    more = _rows({"vanilla": 0.40, "binary_bernoulli": 0.31, "binary_mi": 0.29, "vfae": 0.25})
    more.loc[more["method"] != "constant", ["budget", "trials"]] = ["cpu_trials28", 28]
    _write(larger, more)
    text = "\n".join(tuned_markdown.budget_check_section(tmp_path, larger))
    assert "--budget cpu --max-trials 28 --method vanilla binary_bernoulli binary_mi vfae" in text
    assert "continued to 28 trials" in text
    assert "| BinaryBernoulli | cpu | 3 | 0.750 |" in text
    assert "| BinaryMI | cpu_trials28 | 3 | 0.750 |" in text
    # At the cpu budget BinaryBernoulli (0.30) beats VFAE (0.34); with more trials
    # BinaryMI (0.29) is the better SQNN, and VFAE (0.25) beats it.
    assert "cpu: BinaryBernoulli 0.300 against VFAE 0.340 (SQNN minus VFAE -0.040)" in text
    assert "cpu_trials28: BinaryMI 0.290 against VFAE 0.250 (SQNN minus VFAE +0.040)" in text
