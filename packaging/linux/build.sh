#!/usr/bin/env bash
# `make installer` on Linux: freeze the app, wrap it into dist/qa-reader_VERSION_ARCH.deb, then verify the
# package as a user gets it (packaging/linux/verify.sh: install, self-test, start under Xvfb, screenshot,
# remove). Fails on a missing input, a system library the package does not declare, or a size over budget.
#
# Environment: PYTHON (default python3.11), SKIP_VERIFY=1 to only build, DEB_COMPRESSION (zstd, the default:
# 15 s here for a 107 MB package; xz: 91 MB but three minutes on two busy cores, what CI uses for releases),
# and verify.sh's own settings.
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$SECONDS

DEB_BUDGET_MB=120
INSTALLED_BUDGET_MB=350

step() { printf '\n== %s (at %d s)\n' "$*" $((SECONDS - started)); }
fail() { printf 'build: %s\n' "$*" >&2; exit 1; }

# System packages are installed with apt-get as root or through password-less sudo (CI, a container);
# otherwise the script names them, so that a person can install them.
as_root=""
[ "$(id -u)" -eq 0 ] || as_root="sudo -n"
can_install=no
if command -v apt-get >/dev/null && { [ -z "$as_root" ] || sudo -n true 2>/dev/null; }; then can_install=yes; fi
apt_install() {
    DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# The tools this script and verify.sh use, as "command:Debian package".
tools=(dpkg-deb:dpkg readelf:binutils strip:binutils desktop-file-validate:desktop-file-utils)
[ "${SKIP_VERIFY:-}" = 1 ] || tools+=(Xvfb:xvfb xdotool:xdotool import:imagemagick xprop:x11-utils python3:python3 strace:strace)
missing=()
for tool in "${tools[@]}"; do
    command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
    [ "$can_install" = yes ] || fail "missing tools; install them with: sudo apt-get install ${missing[*]}"
    step "installing build tools: ${missing[*]}"
    $as_root apt-get update -qq
    apt_install "${missing[@]}"
fi

bash packaging/freeze.sh

python="${PYTHON:-python3.11}"
version="$("$python" packaging/contents.py version)"
architecture="$(dpkg --print-architecture)"
deb="dist/qa-reader_${version}_${architecture}.deb"
stage="build/deb/qa-reader_${version}_${architecture}"

step "package tree $stage"
rm -rf "$stage"
mkdir -p "$stage/DEBIAN" "$stage/opt" "$stage/usr/bin" "$stage/usr/share/applications" \
    "$stage/usr/share/icons/hicolor/scalable/apps" "$stage/usr/share/icons/hicolor/256x256/apps"
cp -a dist/qa-reader "$stage/opt/qa-reader"
ln -s /opt/qa-reader/qa-reader "$stage/usr/bin/qa-reader"
cp packaging/linux/qa-reader.desktop "$stage/usr/share/applications/qa-reader.desktop"
cp resources/qa-reader.svg "$stage/usr/share/icons/hicolor/scalable/apps/qa-reader.svg"
cp build/icons/qa-reader-256.png "$stage/usr/share/icons/hicolor/256x256/apps/qa-reader.png"
# A Python built from source (pyenv and the like) carries debug information, 17 MB in libpython alone. Only
# files with debug sections are touched: rewriting the wheels' patched libraries breaks them.
while IFS= read -r -d '' file; do
    if readelf -S --wide "$file" 2>/dev/null | grep -q '\.debug_info'; then strip --strip-debug "$file"; fi
done < <(find "$stage/opt/qa-reader" -type f -print0)
chmod -R u+rwX,go+rX,go-w "$stage"
desktop-file-validate "$stage/usr/share/applications/qa-reader.desktop"

installed_kib="$(du -sk --apparent-size --exclude=DEBIAN "$stage" | cut -f1)"
sed -e "s/@VERSION@/$version/" -e "s/@ARCHITECTURE@/$architecture/" -e "s/@INSTALLED_SIZE@/$installed_kib/" \
    packaging/linux/control.in > "$stage/DEBIAN/control"
install -m 0755 packaging/linux/postinst packaging/linux/postrm "$stage/DEBIAN/"
(cd "$stage" && find opt usr -type f -exec md5sum {} + | sort -k2) > "$stage/DEBIAN/md5sums"

step "system libraries against Depends"
# A library missing here cannot be traced to its package; as root, install what Depends names first.
depends="$(sed -n 's/^Depends: //p' "$stage/DEBIAN/control" | sed 's/([^)]*)//g; s/,/ /g')"
absent=()
for package in $depends; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || absent+=("$package")
done
if [ ${#absent[@]} -gt 0 ] && [ "$can_install" = yes ]; then
    echo "installing the package's dependencies to check them: ${absent[*]}"
    apt_install "${absent[@]}"
fi
"$python" packaging/linux/check_libraries.py "$stage/opt/qa-reader" "$stage/DEBIAN/control" \
    || fail "the package's Depends does not cover the libraries above (packaging/linux/control.in)"

step "building $deb"
rm -f "$deb"
case "${DEB_COMPRESSION:-zstd}" in
    zstd) compression=(-Zzstd -z12) ;;
    xz) compression=(-Zxz -z6) ;;
    *) fail "DEB_COMPRESSION is zstd or xz, not ${DEB_COMPRESSION}" ;;
esac
# Debian 12 and Ubuntu 22.04, the oldest systems with the glibc the package needs (2.35), install either.
dpkg-deb --root-owner-group "${compression[@]}" --build "$stage" "$deb" >/dev/null
deb_bytes="$(stat -c %s "$deb")"
build_seconds=$((SECONDS - started))
echo "$deb: $((deb_bytes / 1000000)) MB; installed $((installed_kib * 1024 / 1000000)) MB; built in ${build_seconds} s"
[ "$deb_bytes" -le $((DEB_BUDGET_MB * 1000000)) ] || fail "the .deb is over its ${DEB_BUDGET_MB} MB budget"
[ $((installed_kib * 1024)) -le $((INSTALLED_BUDGET_MB * 1000000)) ] \
    || fail "the installed size is over its ${INSTALLED_BUDGET_MB} MB budget"

if [ "${SKIP_VERIFY:-}" = 1 ]; then
    echo "SKIP_VERIFY=1: built, not verified"
    exit 0
fi
bash packaging/linux/verify.sh "$deb"

step "summary"
# shellcheck disable=SC1091  # written by verify.sh
. build/verify/timings.env
# Time budgets are reported, not enforced: a busy build machine is slower than a user's idle one.
within() { if [ "$1" -le "$2" ]; then echo "budget $2 $3"; else echo "OVER the $2 $3 budget"; fi; }
build_budget="$(within "$build_seconds" 300 s)"
printf '%-30s %s\n' \
    "package" "$deb" \
    ".deb size" "$((deb_bytes / 1000000)) MB (budget ${DEB_BUDGET_MB} MB)" \
    "installed size" "$((installed_kib * 1024 / 1000000)) MB (budget ${INSTALLED_BUDGET_MB} MB)" \
    "build time (freeze + .deb)" "${build_seconds} s ($build_budget)" \
    "verification time" "$((SECONDS - started - build_seconds)) s" \
    "start to window, first" "${WINDOW_FIRST_MS} ms (${WINDOW_FIRST_CACHE}; $(within "$WINDOW_FIRST_MS" 1500 ms))" \
    "start to window, again" "${WINDOW_AGAIN_MS} ms ($(within "$WINDOW_AGAIN_MS" 1500 ms))" \
    "first answer after start" "${FIRST_ANSWER_MS} ms, model load + question ($(within "$FIRST_ANSWER_MS" 1000 ms))" \
    "qa-reader ask, whole process" "${ASK_PROCESS_MS} ms (start, index the sample, load, answer)" \
    "screenshot" "build/verify/qa-reader-window.png"
