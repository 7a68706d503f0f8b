import itertools

import matplotlib
import pandas as pd
import pytest

from keras_sqnn import plots

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.text import Text  # noqa: E402

METHODS = ["binary_bernoulli", "binary_mi", "adv_cls", "vanilla", "fairlearn_eg"]


def _drawn_figure(monkeypatch, tmp_path):
    """Draw the compare figure of methods that land on almost the same point; keep it open."""
    monkeypatch.setattr(plt, "close", lambda *args, **kwargs: None)
    summary = pd.DataFrame(
        {
            "method": METHODS,
            "auc": [0.700, 0.701, 0.700, 0.702, 0.701],
            "gpa": [0.100, 0.101, 0.099, 0.100, 0.102],
            "audc": [0.050, 0.051, 0.050, 0.049, 0.050],
        }
    )
    path = plots.tradeoff_figure(
        summary,
        tmp_path / "compare.png",
        pairs=[("gpa", "1 - GPA", "unfairness"), ("audc", "1 - AUDC", "unfairness")],
        title="overlapping methods",
    )
    assert path.read_bytes()[:4] == b"\x89PNG"
    figure = plt.figure(plt.get_fignums()[-1])
    figure.canvas.draw()
    return figure


def test_compare_figure_names_each_method_once_without_overprinting(monkeypatch, tmp_path):
    figure = _drawn_figure(monkeypatch, tmp_path)
    labels = [
        text for text in figure.findobj(Text) if text.get_visible() and text.get_text() in METHODS
    ]
    # Each method is named once (a legend entry), not once per panel next to its point.
    assert sorted(text.get_text() for text in labels) == sorted(METHODS)
    renderer = figure.canvas.get_renderer()
    boxes = {text.get_text(): text.get_window_extent(renderer) for text in labels}
    for (a, box_a), (b, box_b) in itertools.combinations(boxes.items(), 2):
        assert not box_a.overlaps(box_b), f"{a!r} overprints {b!r}"
    # The names lie inside the saved image.
    width, height = figure.canvas.get_width_height()
    for name, box in boxes.items():
        assert box.x0 >= 0 and box.x1 <= width and box.y0 >= 0 and box.y1 <= height, name


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    for number in plt.get_fignums():
        matplotlib.pyplot.close(number)
