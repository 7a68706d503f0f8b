"""Every script in examples/ runs with a tiny budget."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

EXAMPLES = [
    ("quickstart.py", ["--epochs", "1"]),
    ("functional_with_sensitive.py", ["--epochs", "1"]),
    ("tuner_search.py", ["--max-trials", "1", "--epochs", "1"]),
    ("export_and_serve.py", ["--epochs", "1"]),
    ("conditional_and_intersectional.py", ["--epochs", "1"]),
]


@pytest.mark.slow
@pytest.mark.parametrize(("script", "arguments"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_example_runs(script, arguments, tmp_path):
    if script == "export_and_serve.py":
        arguments = [*arguments, "--path", str(tmp_path / "serving")]
    if script == "tuner_search.py":
        arguments = [*arguments, "--directory", str(tmp_path / "search")]
    completed = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script), *arguments],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]


def test_every_example_is_exercised():
    assert {p.name for p in (ROOT / "examples").glob("*.py")} == {e[0] for e in EXAMPLES}
