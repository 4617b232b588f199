"""Check the frozen app's system libraries against the .deb's Depends, on the machine that built it.

    python check_libraries.py dist/qa-reader packaging/linux/control.in

Every shared library that a bundled file links to and the bundle does not hold must belong to a Debian
package named in Depends, and libc6's minimum version must cover the newest glibc symbol version used.
Prints one line per system library; exits 1 when Depends falls short. Needs readelf (binutils) and dpkg.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

NEEDED = re.compile(r"\(NEEDED\)\s+Shared library: \[(?P<name>[^\]]+)\]")
GLIBC_VERSION = re.compile(r"Name: GLIBC_(?P<version>\d+(?:\.\d+)+)")
LDCONFIG_LINE = re.compile(r"^\s*(?P<name>\S+) \((?P<flags>[^)]*)\) => (?P<path>\S+)$")


def elf_files(bundle: Path) -> list[Path]:
    """The regular files of the bundle that are ELF binaries (executables, libraries, extension modules)."""
    found = []
    for path in sorted(bundle.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with open(path, "rb") as handle:
                if handle.read(4) == b"\x7fELF":
                    found.append(path)
    return found


def readelf(*args: str) -> str:
    return subprocess.run(["readelf", "--wide", *args], capture_output=True, text=True, check=True).stdout


def system_libraries() -> dict[str, Path]:
    """The 64-bit libraries the dynamic linker knows, by soname (from `ldconfig -p`)."""
    listing = subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    libraries: dict[str, Path] = {}
    for line in listing.splitlines():
        match = LDCONFIG_LINE.match(line)
        if match and "64" in match["flags"]:
            libraries.setdefault(match["name"], Path(match["path"]))
    return libraries


def owning_package(library: Path) -> str | None:
    """The Debian package that installed a library file (usr-merged paths compared by their real path)."""
    search = subprocess.run(["dpkg", "-S", f"*/{library.name}"], capture_output=True, text=True)
    real = os.path.realpath(library)
    for line in search.stdout.splitlines():
        packages, _, path = line.partition(": ")
        if os.path.realpath(path) == real:
            return packages.split(",")[0].strip().split(":")[0]
    return None


def depends(control: Path) -> tuple[set[str], tuple[int, ...]]:
    """The package names in the control file's Depends (alternatives included) and libc6's minimum version."""
    text = control.read_text(encoding="utf-8")
    field = re.search(r"^Depends:(.*(?:\n[ \t].*)*)", text, re.MULTILINE)
    names: set[str] = set()
    libc_minimum: tuple[int, ...] = ()
    for clause in (field.group(1) if field else "").split(","):
        for alternative in clause.split("|"):
            parts = re.match(r"\s*([a-z0-9][a-z0-9+.-]+)\s*(?:\(>=\s*([0-9.]+)\))?", alternative)
            if not parts:
                continue
            names.add(parts[1])
            if parts[1] == "libc6" and parts[2]:
                libc_minimum = tuple(int(number) for number in parts[2].split("."))
    return names, libc_minimum


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    bundle, control = Path(argv[0]), Path(argv[1])
    binaries = elf_files(bundle)
    bundled = {path.name for path in bundle.rglob("*")}
    needed_by: dict[str, list[str]] = {}
    newest_glibc: tuple[int, ...] = ()
    for binary in binaries:
        dynamic = readelf("--dynamic", str(binary))
        for match in NEEDED.finditer(dynamic):
            needed_by.setdefault(match["name"], []).append(binary.name)
        for match in GLIBC_VERSION.finditer(readelf("--version-info", str(binary))):
            newest_glibc = max(newest_glibc, tuple(int(number) for number in match["version"].split(".")))

    known = system_libraries()
    declared, libc_minimum = depends(control)
    problems = 0
    for name in sorted(set(needed_by) - bundled):
        users = ", ".join(sorted(set(needed_by[name]))[:3])
        path = known.get(name)
        package = owning_package(path) if path else None
        if package is None:
            print(f"MISSING  {name}: not installed here (needed by {users}); install it, add its package to Depends")
            problems += 1
        elif package not in declared:
            print(f"UNDECLARED  {name} from {package} (needed by {users}): add {package} to Depends")
            problems += 1
        else:
            print(f"ok  {name} from {package}")
    glibc = ".".join(map(str, newest_glibc))
    if newest_glibc > libc_minimum:
        print(f"UNDECLARED  glibc {glibc} symbols are used: Depends needs libc6 (>= {glibc})")
        problems += 1
    else:
        print(f"ok  newest glibc symbol version used: {glibc} (Depends: libc6 >= {'.'.join(map(str, libc_minimum))})")
    print(f"{len(binaries)} ELF files checked, {problems} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
