"""Every Python snippet of README.md runs as it is written."""

import re
from pathlib import Path

import pytest

from tests.snippets import python_blocks, run_python

README = Path(__file__).resolve().parents[1] / "README.md"
SNIPPETS = python_blocks(README.read_text())


def test_the_readme_has_its_snippets():
    # The quick start (Sequential style, with model.add) and the certificate recipe; the
    # longer recipes live in docs/guide.
    assert len(SNIPPETS) >= 2
    assert any("model.add(StochasticBinaryDense" in snippet for snippet in SNIPPETS)
    assert any("certify(" in snippet for snippet in SNIPPETS)


def test_the_readme_stays_short_and_links_to_existing_pages():
    text = README.read_text()
    assert len(text.splitlines()) <= 130
    for target in re.findall(r"\]\(([^)#]+)\)", text):
        if not target.startswith("http"):
            assert (README.parent / target).exists(), target


@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_readme_snippet_runs(index, tmp_path):
    completed = run_python("-c", SNIPPETS[index], cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr[-3000:]
