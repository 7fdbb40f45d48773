#!/usr/bin/env bash
# Regenerate tests/importers/fixtures/ with the REAL tools (MLflow, W&B, DVC).
#
# The tools go into a throwaway venv OUTSIDE the repository: they are neither runtime
# nor test dependencies of sitegen (the tests only read the committed fixtures).
#
#   scripts/make-import-fixtures.sh [mlflow|wandb|dvc ...]
#
# Needs python3 (3.11+), git, and network access to PyPI. VENV overrides the venv path.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${VENV:-/tmp/sitegen-import-venv}"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet mlflow wandb dvc
fi
"$venv/bin/pip" freeze | grep -iE '^(mlflow|wandb|dvc)==' || true

cd "$repo"
"$venv/bin/python" tests/importers/make_fixtures.py "$@"
du -sh --apparent-size tests/importers/fixtures
