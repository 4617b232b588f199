#!/usr/bin/env bash
# Verify a QA Reader .deb as a user gets it: install it, run the installed `qa-reader --self-test`, start the
# installed app under Xvfb on the sample document and screenshot its window, check under strace that it makes
# no network call, then remove the package and check that only the user's library is left.
#
#   packaging/linux/verify.sh dist/qa-reader_VERSION_ARCH.deb
#
# As root, or with password-less sudo, the package is installed on this machine with apt-get (dpkg when apt
# cannot) and purged at the end; KEEP_INSTALLED=1 keeps it. Otherwise (or with VERIFY_MODE=scratch) it is
# unpacked into a scratch root and run from there. The app runs as a fresh user: a temporary HOME.
# Writes build/verify/: self-test.txt, app.log, qa-reader-window.png, qa-reader-screen.png, network-trace.txt,
# timings.env.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -eq 1 ] && [ -f "$1" ] || { echo "usage: $0 PACKAGE.deb" >&2; exit 2; }
deb="$(realpath "$1")"
out="$PWD/build/verify"
rm -rf "$out"
mkdir -p "$out"

step() { printf '\n== %s\n' "$*"; }
fail() { printf 'verify: FAIL %s\n' "$*" >&2; exit 1; }
pass() { printf 'verify: ok   %s\n' "$*"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

sudo=""
mode="${VERIFY_MODE:-system}"
if [ "$(id -u)" -ne 0 ]; then
    if sudo -n true 2>/dev/null; then sudo="sudo -n"; else mode=scratch; fi
fi

home="$(mktemp -d)"
xvfb_pid="" app_pid="" scratch=""
cleanup() {
    [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null || true
    [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true
    rm -rf "$home" ${scratch:+"$scratch"}
}
trap cleanup EXIT

step "installing $(basename "$deb") ($mode)"
if [ "$mode" = system ]; then
    if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$deb" >/dev/null; then
        $sudo dpkg -i "$deb" || fail "the package does not install (apt-get and dpkg both refused it)"
    fi
    install_dir=/opt/qa-reader
    [ "$(command -v qa-reader)" = /usr/bin/qa-reader ] || fail "qa-reader is not /usr/bin/qa-reader on the PATH"
    [ "$(readlink -f /usr/bin/qa-reader)" = "$install_dir/qa-reader" ] || fail "/usr/bin/qa-reader is not the app"
    pass "qa-reader on the PATH: /usr/bin/qa-reader -> $install_dir/qa-reader"
    desktop=/usr/share/applications/qa-reader.desktop
    desktop-file-validate "$desktop" || fail "$desktop does not validate"
    for icon in scalable/apps/qa-reader.svg 256x256/apps/qa-reader.png; do
        [ -f "/usr/share/icons/hicolor/$icon" ] || fail "icon $icon missing"
    done
    pass "desktop entry and icons installed"
    for type in application/pdf text/plain text/markdown application/epub+zip; do
        grep -q "^$type=.*qa-reader.desktop" /usr/share/applications/mimeinfo.cache \
            || fail "$type is not associated with qa-reader.desktop"
    done
    pass "PDF, TXT, MD and EPUB open with QA Reader (mimeinfo.cache)"
    qa_reader=/usr/bin/qa-reader
else
    scratch="$(mktemp -d)"
    dpkg-deb -x "$deb" "$scratch"
    install_dir="$scratch/opt/qa-reader"
    qa_reader="$install_dir/qa-reader"
    pass "unpacked into $scratch"
fi
fingerprint() { find "$install_dir" -printf '%P %s %T@\n' | sort | sha256sum; }
install_before="$(fingerprint)"
resources="$install_dir/_internal/resources"

# A first-time user: nothing in HOME, the XDG folders under it.
export HOME="$home" XDG_DATA_HOME="$home/.local/share" XDG_CONFIG_HOME="$home/.config" \
    XDG_CACHE_HOME="$home/.cache" XDG_RUNTIME_DIR="$home/runtime"
unset QA_READER_HOME QA_READER_MODEL
mkdir -m 0700 "$XDG_RUNTIME_DIR"

step "qa-reader --self-test"
"$qa_reader" --self-test | tee "$out/self-test.txt" || fail "the installed self-test failed"
model_ms="$(sed -n 's/.*model loaded in \([0-9]*\) ms.*/\1/p' "$out/self-test.txt")"
question_ms="$(grep -- "' -> " "$out/self-test.txt" | head -1 | sed -n 's/.* in \([0-9]*\) ms$/\1/p')"
first_answer_ms=$((model_ms + question_ms))

sample="$resources/sample/welcome.md"
question="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["questions"][0]["question"])' \
    "$resources/sample/selftest.json")"
started="$(now_ms)"
# A library of its own, so that the desktop app below answers afresh rather than from this cache.
"$qa_reader" --library "$home/ask.sqlite3" ask "$sample" -q "$question" --top-k 1 > "$out/ask.txt" 2>&1 \
    || fail "qa-reader ask failed (build/verify/ask.txt)"
ask_ms=$(($(now_ms) - started))
pass "qa-reader ask, whole process: $ask_ms ms: $(sed -n 2p "$out/ask.txt" | sed 's/^ *//')"

step "the desktop app under Xvfb"
display_number=90
while [ -e "/tmp/.X11-unix/X$display_number" ]; do display_number=$((display_number + 1)); done
Xvfb ":$display_number" -screen 0 1280x800x24 -nolisten tcp -noreset >/dev/null 2>&1 &  # -noreset: the server resets when the last client leaves, and a start that connects then fails
xvfb_pid=$!
for _ in $(seq 100); do
    [ -e "/tmp/.X11-unix/X$display_number" ] && break
    sleep 0.05
done
export DISPLAY=":$display_number"

# Launch the installed app; sets app_pid, window (its main window) and window_ms (until it is on screen).
# With `traced` set (a command prefix), the app runs under it.
traced=()
launch() {
    local started
    started="$(now_ms)"
    ${traced[@]+"${traced[@]}"} "$qa_reader" "$@" >> "$out/app.log" 2>&1 &
    app_pid=$!
    window=""
    until window="$(xdotool search --onlyvisible --name '^QA Reader' 2>/dev/null | head -1)" && [ -n "$window" ]; do
        kill -0 "$app_pid" 2>/dev/null || fail "the app exited before showing a window (build/verify/app.log)"
        [ $(($(now_ms) - started)) -lt 30000 ] || fail "no window after 30 s (build/verify/app.log)"
        sleep 0.02
    done
    window_ms=$(($(now_ms) - started))
}
quit() {
    xdotool windowfocus --sync "$1" key --clearmodifiers ctrl+q
    for _ in $(seq 100); do
        kill -0 "$app_pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$app_pid" 2>/dev/null; then fail "the app did not quit on Ctrl+Q"; fi
    wait "$app_pid" || fail "the app exited with status $? (build/verify/app.log)"
    app_pid=""
}

# The first start reads the install from disk when the page cache can be dropped (root on a real kernel).
cache="page cache warm"
if sync && { echo 3 > /proc/sys/vm/drop_caches; } 2>/dev/null; then cache="page cache dropped"; fi
launch open "$sample" --question "$question"
window_first_ms=$window_ms
pass "first start: window on screen in $window_first_ms ms ($cache; $(tail -1 "$out/app.log"))"
sleep "${SETTLE_SECONDS:-6}"  # long enough to open the sample and show the answer
import -window "$window" "$out/qa-reader-window.png"
import -window root "$out/qa-reader-screen.png"
pass "screenshots: build/verify/qa-reader-window.png, qa-reader-screen.png ($(xprop -id "$window" WM_CLASS))"
quit "$window"
pass "the app quit on Ctrl+Q with status 0"
launch
window_again_ms=$window_ms
pass "second start: window on screen in $window_again_ms ms ($(tail -1 "$out/app.log"))"
quit "$window"

# onnxruntime 1.32 phones home ~9 s after a model loads unless told not to (qa_reader/__init__.py does):
# the app (which loads its model as it starts) runs under strace and stays open past that delay.
step "no network: the app under strace for ${NETWORK_SECONDS:=15} s"
traced=(strace -f -e trace=network -o "$out/network-trace.txt")
launch open "$sample" --question "$question"
traced=()
sleep "$NETWORK_SECONDS"
quit "$window"
python3 packaging/linux/check_network.py "$out/network-trace.txt" \
    || fail "the app used the network (build/verify/network-trace.txt)"
pass "no network call in $NETWORK_SECONDS s with the model loaded (only Unix sockets and loopback)"

step "the user's data and the install folder"
library="$XDG_DATA_HOME/qa-reader/library.sqlite3"
[ -f "$library" ] || fail "no library at $library"
pass "the library is in the XDG data folder: ${library#"$home"/}"
[ "$(fingerprint)" = "$install_before" ] || fail "the app wrote into $install_dir"
pass "nothing was written into $install_dir"

if [ "$mode" = system ] && [ "${KEEP_INSTALLED:-}" != 1 ]; then
    step "removing the package"
    $sudo dpkg --purge qa-reader >/dev/null
    for path in /opt/qa-reader /usr/bin/qa-reader /usr/share/applications/qa-reader.desktop \
        /usr/share/icons/hicolor/scalable/apps/qa-reader.svg /usr/share/icons/hicolor/256x256/apps/qa-reader.png; do
        [ ! -e "$path" ] && [ ! -L "$path" ] || fail "$path is left after removal"
    done
    if grep -q qa-reader.desktop /usr/share/applications/mimeinfo.cache 2>/dev/null; then
        fail "file associations are left after removal"
    fi
    pass "removed: /opt/qa-reader, the command, the desktop entry, icons and associations are gone"
    [ -f "$library" ] || fail "removing the package removed the user's library"
    pass "the user's library is still there"
fi

cat > "$out/timings.env" <<EOF
WINDOW_FIRST_MS=$window_first_ms
WINDOW_FIRST_CACHE="$cache"
WINDOW_AGAIN_MS=$window_again_ms
FIRST_ANSWER_MS=$first_answer_ms
ASK_PROCESS_MS=$ask_ms
EOF
echo "verify: all checks passed"
