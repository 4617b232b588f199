#!/usr/bin/env bash
# Freeze QA Reader with PyInstaller (one folder) from a clean build environment: dist/qa-reader/ on Linux
# and Windows, dist/QA Reader.app on macOS. The platform build scripts call it; it runs on Linux, macOS and
# Windows (Git Bash).
#
# Environment: PYTHON (default python3.11), BUILD_VENV (default build/venv).
set -euo pipefail
cd "$(dirname "$0")/.."

python="${PYTHON:-python3.11}"
venv="${BUILD_VENV:-build/venv}"

step() { printf '\n== %s\n' "$*"; }
fail() { printf 'freeze: %s\n' "$*" >&2; exit 1; }

command -v "$python" >/dev/null || fail "$python is not on the PATH; set PYTHON to a Python 3.11 interpreter."

step "bundled files"
"$python" packaging/contents.py check || fail "missing files, listed above."

# The build environment holds the runtime dependencies and PyInstaller, nothing else: PyInstaller bundles
# every module it can reach, and the dev environment's torch, transformers and test tools would come along.
# The project itself is not installed: the spec reads it from the source tree, so a build never ships a
# stale copy. The environment is made again whenever the dependency list changes.
step "build environment $venv"
wanted="$("$python" packaging/contents.py requirements; echo "pyinstaller>=6.10")"
bin="$venv/bin"
[ -d "$venv/Scripts" ] && bin="$venv/Scripts"
if [ ! -f "$venv/.ready" ] || [ "$(cat "$venv/.ready")" != "$wanted" ]; then
    rm -rf "$venv"
    "$python" -m venv "$venv"
    bin="$venv/bin"
    [ -d "$venv/Scripts" ] && bin="$venv/Scripts"
    "$bin/python" -m pip install --quiet --quiet --upgrade pip
    printf '%s\n' "$wanted" > "$venv/requirements.txt"
    "$bin/python" -m pip install --quiet --quiet -r "$venv/requirements.txt"
    printf '%s\n' "$wanted" > "$venv/.ready"
fi
for module in torch transformers pytest; do
    if "$bin/python" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('$module') is None)"; then
        fail "$module is importable in $venv, so PyInstaller would bundle it; remove $venv and run again."
    fi
done
echo "runtime dependencies and PyInstaller $("$bin/python" -m PyInstaller --version); no torch, no test tools"

step "icons"
QT_QPA_PLATFORM=offscreen "$bin/python" packaging/render_icon.py resources/qa-reader.svg build/icons

step "PyInstaller"
"$bin/python" -m PyInstaller --noconfirm --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/qa-reader.spec
echo "frozen into dist/"
