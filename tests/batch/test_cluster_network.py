"""Nothing leaves the machine when `qa-reader batch --ray auto` starts its own Ray cluster: the real command under
`strace -f`, every process Ray starts included, sends nothing to another machine and asks no DNS question.

Ray's processes talk to each other over this machine's own address (not only loopback), listen on every
interface (token-authenticated), and find that address with a UDP `connect` that sends nothing: none of that
leaves the machine. Its dashboard process would also ask the cloud's instance-metadata address and a metadata
host name which cloud it runs on, usage statistics on or off; `qa_reader.batch.cluster` stops that, and this
test fails if it ever comes back.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import socket
import subprocess
import sys

import pytest

from tests.batch.conftest import QUESTIONS, make_documents

if os.environ.get("CI") != "true":
    pytest.importorskip("ray", reason="the Ray tests need the scale extra: pip install -e '.[test,scale]'")

pytestmark = [pytest.mark.ray, pytest.mark.slow]

_SOCKET = re.compile(r"^(\d+)\s+socket\(AF_INET6?, (SOCK_\w+)[^=]*=\s*(\d+)")
_CONNECT = re.compile(r"^(\d+)\s+connect\((\d+), \{sa_family=AF_INET6?,")
_SEND = re.compile(r"^(\d+)\s+(?:sendto|sendmsg|sendmmsg)\((\d+),")
_CLOSE = re.compile(r"^(\d+)\s+close\((\d+)\)")
_ADDRESS = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"')
_DNS_PORT = "htons(53)"


def _own_addresses() -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """This machine's addresses: the one a route out would use (a UDP connect sends nothing) and its names'."""
    found = set()
    for family, probe in ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1")):
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as probe_socket:
                probe_socket.connect((probe, 9))
                found.add(ipaddress.ip_address(probe_socket.getsockname()[0]))
        except OSError:
            continue
    return found


def _is_local(text: str, own: set) -> bool:
    address = ipaddress.ip_address(text.split("%")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified or address in own


def _joined(trace: str) -> list[str]:
    """The trace's lines with each call that strace split around another process's ("<unfinished ...>" then
    "<... call resumed>") put back together."""
    pending: dict[str, str] = {}
    lines = []
    for line in trace.splitlines():
        pid = line.split(" ", 1)[0]
        if line.endswith("<unfinished ...>"):
            pending[pid] = line[: -len("<unfinished ...>")]
        elif "resumed>" in line and pid in pending:
            lines.append(pending.pop(pid) + line.split("resumed>", 1)[1])
        else:
            lines.append(line)
    return lines


def leaving_calls(trace: str, own: set) -> list[str]:
    """The calls of an `strace -f -e trace=network,close` log that put bytes on the wire to another machine, or
    ask DNS anything: a TCP connect elsewhere, a datagram sent elsewhere (explicitly, or on a UDP socket connected
    elsewhere), and anything sent to port 53."""
    kinds: dict[tuple[str, str], str] = {}
    connected_elsewhere: set[tuple[str, str]] = set()
    found = []
    for line in _joined(trace):
        if match := _SOCKET.match(line):
            kinds[(match.group(1), match.group(3))] = match.group(2)
        elif match := _CLOSE.match(line):
            key = (match.group(1), match.group(2))
            kinds.pop(key, None)
            connected_elsewhere.discard(key)
        elif match := _CONNECT.match(line):
            key = (match.group(1), match.group(2))
            address = _ADDRESS.search(line)
            if address and not _is_local(address.group(1) or address.group(2), own):
                if kinds.get(key) == "SOCK_DGRAM":
                    connected_elsewhere.add(key)  # nothing is sent yet: only what follows on it counts
                else:
                    found.append(line)
        elif match := _SEND.match(line):
            address = _ADDRESS.search(line)
            elsewhere = address is not None and not _is_local(address.group(1) or address.group(2), own)
            if elsewhere or _DNS_PORT in line or (match.group(1), match.group(2)) in connected_elsewhere:
                found.append(line)
    return found


def test_the_trace_reader_tells_what_leaves_the_machine():
    own = {ipaddress.ip_address("192.0.2.2")}
    local = (
        "7 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 5\n"
        '7 connect(5, {sa_family=AF_INET, sin_port=htons(41000), sin_addr=inet_addr("192.0.2.2")}, 16) = 0\n'
        "8 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 6\n"
        '8 connect(6, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("8.8.8.8")}, 16) = 0\n'
        "8 close(6) = 0\n"
        '9 connect(7, {sa_family=AF_INET6, sin6_port=htons(41000), inet_pton(AF_INET6, "::ffff:192.0.2.2", '
        "&sin6_addr), sin6_scope_id=0}, 28 <unfinished ...>\n"
        "8 getpid() = 8\n"
        "9 <... connect resumed>) = -1 EINPROGRESS\n"
    )
    assert leaving_calls(local, own) == []
    metadata = (
        "7 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 23\n"
        '7 connect(23, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("169.254.169.254")}, 16) = -1\n'
    )
    dns = (
        "8 socket(AF_INET, SOCK_DGRAM|SOCK_NONBLOCK, IPPROTO_IP) = 6\n"
        '8 connect(6, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16) = 0\n'
        '8 sendmmsg(6, [{msg_hdr={msg_name=NULL, msg_iov=[{iov_base="metadata"}]}}], 2, MSG_NOSIGNAL) = 2\n'
    )
    assert len(leaving_calls(metadata, own)) == 1
    assert len(leaving_calls(dns, own)) == 1


def test_a_batch_on_its_own_ray_cluster_sends_nothing_off_the_machine(tmp_path, tiny_model_dir):
    strace = shutil.which("strace")
    if strace is None:
        if os.environ.get("CI") == "true":
            pytest.fail("strace is missing: CI must prove that no network is used (.ci/run installs it)")
        pytest.skip("strace is not installed (apt-get install strace); CI runs this check")
    documents = make_documents(tmp_path / "documents")
    questions = tmp_path / "questions.txt"
    questions.write_text("\n".join(QUESTIONS) + "\n", encoding="utf-8")
    trace = tmp_path / "trace.txt"
    environment = {**os.environ, "QA_READER_HOME": str(tmp_path / "home")}
    for name in ("RAY_ADDRESS", "ORT_DISABLE_TELEMETRY", "RAY_USAGE_STATS_ENABLED"):
        environment.pop(name, None)  # the command must set what it needs itself, and start its own cluster
    command = [strace, "-f", "-e", "trace=network,close", "-o", str(trace), sys.executable, "-m", "qa_reader"]
    command += ["--model", str(tiny_model_dir), "batch", str(documents), "--questions", str(questions)]
    command += ["--out", str(tmp_path / "answers.jsonl"), "--ray", "auto", "--ray-cpus", "1"]
    done = subprocess.run(command, env=environment, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "4 read, 3 failed" in done.stdout
    assert leaving_calls(trace.read_text(encoding="utf-8", errors="replace"), _own_addresses()) == []
