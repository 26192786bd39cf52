#!/usr/bin/env bash
# Install mlgates into a virtual environment that also sees the packages of the
# chosen Python (the model's own dependencies installed in earlier steps).
set -euo pipefail
"$MLGATES_PYTHON" -m venv --system-site-packages "$MLGATES_VENV"
if [ -x "$MLGATES_VENV/bin/python" ]; then
  venv_python="$MLGATES_VENV/bin/python"
else
  venv_python="$MLGATES_VENV/Scripts/python"
fi
"$venv_python" -m pip install --quiet --disable-pip-version-check "$MLGATES_SPEC"
"$MLGATES_BIN" --version
