#!/usr/bin/env bash
# `make installer` on Windows, in Git Bash (CI runs it too): freeze the app, run the frozen self-test, build
# dist/qa-reader-VERSION-setup.exe with Inno Setup 6, then install it silently for the current user into a
# scratch folder, run the installed self-test and uninstall it again.
#
# Environment: PYTHON (default python), ISCC (default: Inno Setup 6's usual place).
set -euo pipefail
cd "$(dirname "$0")/../.."
# Git Bash would rewrite the /SWITCHES of ISCC and of the installer as if they were paths.
export MSYS_NO_PATHCONV=1
export PYTHON="${PYTHON:-python}"

fail() { printf 'build: %s\n' "$*" >&2; exit 1; }

bash packaging/freeze.sh
version="$("$PYTHON" packaging/contents.py version)"
dist/qa-reader/qa-reader-cli.exe --self-test || fail "the frozen self-test failed"

iscc="${ISCC:-/c/Program Files (x86)/Inno Setup 6/ISCC.exe}"
[ -x "$iscc" ] || fail "Inno Setup 6 is not at $iscc: install it (choco install innosetup) or set ISCC."
"$iscc" /Qp "/DAppVersion=$version" 'packaging\windows\qa-reader.iss'
setup="dist/qa-reader-$version-setup.exe"
echo "built $setup"

# As a user gets it: a silent per-user install, the installed self-test, then the uninstaller.
target="$(cygpath -w "$PWD/build/windows-install")"
rm -rf build/windows-install
"$setup" /VERYSILENT /SUPPRESSMSGBOXES /NORESTART /CURRENTUSER "/DIR=$target"
build/windows-install/qa-reader-cli.exe --self-test || fail "the installed self-test failed"
build/windows-install/unins000.exe /VERYSILENT /SUPPRESSMSGBOXES /NORESTART
for _ in $(seq 30); do
    [ -e build/windows-install ] || break
    sleep 1
done
[ ! -e build/windows-install ] || fail "the uninstaller left build/windows-install behind"
echo "installed, self-tested and uninstalled $setup"
