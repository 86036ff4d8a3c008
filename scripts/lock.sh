#!/bin/sh
# Rebuild requirements.lock: a fresh venv with the project and its test extras, then pip freeze.
set -eu
tmp=$(mktemp -d)
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet --upgrade pip
"$tmp/venv/bin/pip" install --quiet ".[test]"
"$tmp/venv/bin/pip" freeze --exclude-editable | grep -v -i '^countyfusion' > requirements.lock
rm -rf "$tmp"
echo "requirements.lock: $(wc -l < requirements.lock) pinned packages"
