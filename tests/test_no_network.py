"""No network, proven: the real command line, run under strace for longer than onnxruntime's telemetry
delay (about 9 s after a model loads), makes no call that could leave the machine."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from qa_reader import config
from tests.conftest import LIFE_CYCLE, unavailable
from tests.packaging.test_packaging import PACKAGING, load

# Long enough for onnxruntime 1.32's telemetry (its first DNS lookup comes ~9 s after the model loads).
STAY_ALIVE_SECONDS = 15
# The `qa-reader` console script is `qa_reader.cli:main`; this runs that same function, then keeps the
# process (and onnxruntime's threads) alive the way the desktop app does.
CLI_THEN_WAIT = (
    "import sys, time\n"
    "from qa_reader.cli import main\n"
    "code = main(sys.argv[1:])\n"
    f"time.sleep({STAY_ALIVE_SECONDS})\n"
    "sys.exit(code)\n"
)


def _strace() -> str:
    strace = shutil.which("strace")
    if strace is None:
        unavailable("strace is not installed", "apt-get install strace; .ci/run installs it")
    return strace


def test_the_checker_tells_local_calls_from_network_ones():
    check = load(PACKAGING / "linux" / "check_network.py")
    local = (
        "7 socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 3\n"
        '7 connect(3, {sa_family=AF_UNIX, sun_path="/tmp/.X11-unix/X0"}, 110) = 0\n'
        '7 connect(4, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("127.0.0.1")}, 16) = 0\n'
        '7 bind(4, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("127.0.0.1")}, 16) = 0\n'
        "7 socket(AF_INET6, SOCK_DGRAM, IPPROTO_IP) = 8\n"
        # glibc asks nscd for the user's home folder too; with no daemon the connect fails and nothing is sent.
        '7 connect(8, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT (No such file)\n'
    )
    assert check.network_calls(local) == []
    remote = [
        '9 connect(9, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16) = 0',
        '9 connect(9, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")}, 16) = 0',
        "9 connect(9, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), "
        'inet_pton(AF_INET6, "2001:db8::1", &sin6_addr), sin6_scope_id=0}, 28) = -1 ENETUNREACH',
        '9 connect(8, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = 0',
        "9 socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE) = 5",
        '9 bind(5, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("0.0.0.0")}, 16) = 0',
    ]
    assert check.network_calls("\n".join(remote)) == remote


@pytest.mark.slow
def test_asking_with_the_bundled_model_makes_no_network_call(tmp_path):
    strace = _strace()
    notes = tmp_path / "notes.txt"
    notes.write_text(LIFE_CYCLE, encoding="utf-8")
    trace = tmp_path / "trace.txt"
    environment = {**os.environ, "QA_READER_HOME": str(tmp_path / "home")}
    # This process imported qa_reader, which set the variable; the child must set it for itself.
    environment.pop("ORT_DISABLE_TELEMETRY", None)
    environment.pop("QA_READER_MODEL", None)
    command = [strace, "-f", "-e", "trace=network", "-o", str(trace), sys.executable, "-c", CLI_THEN_WAIT]
    command += ["ask", str(notes), "-q", "What are the phases of the incident response life cycle?"]
    done = subprocess.run(
        command, env=environment, cwd=tmp_path, capture_output=True, text=True, timeout=STAY_ALIVE_SECONDS + 90
    )
    assert done.returncode == 0, done.stderr
    assert "preparation" in done.stdout  # the bundled model loaded and answered
    assert config.default_model_dir().is_dir()
    log = trace.read_text(encoding="utf-8", errors="replace")
    assert "+++ exited with 0 +++" in log  # strace followed the process to its end
    calls = load(PACKAGING / "linux" / "check_network.py").network_calls(log)
    assert calls == [], "network calls:\n" + "\n".join(calls)


def test_importing_qa_reader_switches_telemetry_off():
    environment = {key: value for key, value in os.environ.items() if key != "ORT_DISABLE_TELEMETRY"}
    code = "import os, qa_reader; print(os.environ.get('ORT_DISABLE_TELEMETRY'))"
    done = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "1", done.stderr
