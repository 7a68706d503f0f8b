"""The Python blocks of a markdown page, and a fresh Python process to run them in."""

import re
import subprocess
import sys


def python_blocks(text):
    """The code of every ```python block of a markdown text, in order."""
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def run_python(*arguments, cwd):
    """``python *arguments`` in ``cwd``: the completed process, output captured."""
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
