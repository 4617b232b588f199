#!/usr/bin/env bash
# Start Xvfb, launch the real app on a PDF, ask a question and save screenshots of the answer.
#
#   packaging/screenshot.sh [OUT.png]
#
# Environment: PDF (default ../shared/data/pdfs/NIST.SP.800-61r2.pdf), QUESTION, QA_READER_MODEL (the model
# folder; default the bundled one), SCALE (Qt's device pixel ratio, default 1), SCREEN (default 1440x900).
# Needs: Xvfb (apt-get install xvfb libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0); imagemagick is optional.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/build/screenshots/qa-reader.png}"
pdf="${PDF:-$root/../shared/data/pdfs/NIST.SP.800-61r2.pdf}"
question="${QUESTION:-What are the phases of the incident response life cycle?}"
screen="${SCREEN:-1440x900}"
python="${PYTHON:-$root/.venv/bin/python}"
[ -x "$python" ] || python=python3

display_number=99
while [ -e "/tmp/.X11-unix/X$display_number" ]; do display_number=$((display_number + 1)); done
Xvfb ":$display_number" -screen 0 "${screen}x24" -nolisten tcp >/dev/null 2>&1 &
xvfb_pid=$!
home="$(mktemp -d)"
trap 'kill "$xvfb_pid" 2>/dev/null || true; rm -rf "$home"' EXIT
for _ in $(seq 50); do
    [ -e "/tmp/.X11-unix/X$display_number" ] && break
    sleep 0.1
done

export DISPLAY=":$display_number" QT_QPA_PLATFORM=xcb QA_READER_HOME="$home" QT_SCALE_FACTOR="${SCALE:-1}"
mkdir -p "$(dirname "$out")"
cd "$root"
status=0
"$python" -m qa_reader.gui.screenshot "$out" --file "$pdf" --question "$question" || status=$?
echo "saved $out and ${out%.png}-screen.png"
exit "$status"
