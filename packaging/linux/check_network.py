"""Read an `strace -f -e trace=network` log and list every call that could reach another machine.

    python check_network.py TRACE     (exit 1 and one line per call when there is any)

Allowed: Unix sockets (Qt's single-instance socket, X11, D-Bus) and loopback addresses. Not allowed: a
connection to, datagram for or listening socket on any other address, and any DNS query, even one sent to
a loopback resolver or through the name-service daemons' Unix sockets (nscd, systemd-resolved; a connect
to them that failed carried nothing and is not counted). No imports
beyond the standard library: verify.sh runs it with the system's python3.
"""

from __future__ import annotations

import ipaddress
import re
import sys
from pathlib import Path

# bind too: listening on a non-loopback address lets other machines in.
_ADDRESSED = re.compile(r"\b(connect|bind|sendto|sendmsg|sendmmsg)\(")
_INET_FAMILY = re.compile(r"sa_family=AF_INET6?\b")
_PORT = re.compile(r"sin6?_port=htons\((\d+)\)")
_ADDRESS = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"')
_UNIX_PATH = re.compile(r'sun_path=@?"([^"]*)"')
_SOCKET = re.compile(r"\bsocket\((AF_[A-Z0-9]+)")
_RESOLVER_SOCKETS = ("/var/run/nscd/", "/run/nscd/", "/run/systemd/resolve/")
_FAILED = re.compile(r"\)\s*= -1 E[A-Z]+")
_LOCAL_FAMILIES = {"AF_UNIX", "AF_LOCAL", "AF_INET", "AF_INET6"}  # inet use is judged by its addresses


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False


def network_calls(trace: str) -> list[str]:
    """The lines of an strace log that reach, or try to reach, beyond this machine (none: an empty list)."""
    found = []
    for line in trace.splitlines():
        socket_call = _SOCKET.search(line)
        if socket_call and socket_call.group(1) not in _LOCAL_FAMILIES:
            found.append(line.strip())
            continue
        if not _ADDRESSED.search(line):
            continue
        unix_path = _UNIX_PATH.search(line)
        if unix_path and unix_path.group(1).startswith(_RESOLVER_SOCKETS):
            # glibc also asks nscd for users and groups (Qt looks up the home folder): a connect that failed
            # (no daemon here) carried nothing, and a real lookup then falls back to port 53, caught below.
            if not _FAILED.search(line):
                found.append(line.strip())
            continue
        if not _INET_FAMILY.search(line):
            continue
        port = _PORT.search(line)
        address = _ADDRESS.search(line)
        host = (address.group(1) or address.group(2)) if address else ""
        if not _is_loopback(host) or (port and port.group(1) == "53"):
            found.append(line.strip())
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    calls = network_calls(Path(argv[0]).read_text(encoding="utf-8", errors="replace"))
    for call in calls:
        print(f"network: {call}")
    return 1 if calls else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
