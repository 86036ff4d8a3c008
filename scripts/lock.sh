#!/bin/sh
# Rebuild requirements.lock: a fresh venv with the project and its test extras, then pip freeze.
set -eu
tmp=$(mktemp -d)
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet --upgrade pip "setuptools>=70.1"
"$tmp/venv/bin/pip" install --quiet ".[test]"
# --all keeps setuptools (>= 70.1 builds wheels itself): tests/test_packaging.py builds the wheel offline
"$tmp/venv/bin/pip" freeze --all --exclude-editable | grep -v -i -E '^(countyfusion|pip)==' > requirements.lock
rm -rf "$tmp"
echo "requirements.lock: $(wc -l < requirements.lock) pinned packages"
