"""The single-instance server: messages split or joined on the wire, and connections that must not keep
the server alive (Qt deletes them while the app shuts down)."""

from __future__ import annotations

import json
import weakref
from pathlib import Path

from PySide6.QtNetwork import QLocalSocket

from qa_reader.gui.instance import InstanceServer, server_name

TIMEOUT_MS = 2000


def _listening(tmp_path: Path) -> InstanceServer:
    server = InstanceServer(server_name(tmp_path / "library.sqlite3"))
    assert server.listen()
    return server


def _connected(name: str) -> QLocalSocket:
    socket = QLocalSocket()
    socket.connectToServer(name)
    assert socket.waitForConnected(TIMEOUT_MS)
    return socket


def _send(socket: QLocalSocket, data: bytes) -> None:
    socket.write(data)
    assert socket.waitForBytesWritten(TIMEOUT_MS) or socket.bytesToWrite() == 0


def test_messages_arrive_whole_however_the_bytes_are_cut(qtbot, tmp_path: Path) -> None:
    server = _listening(tmp_path)
    received: list[dict] = []
    server.received.connect(received.append)
    first, second, last = ({"command": "open", "files": [f"/{n}.pdf"], "question": None} for n in "abc")
    socket = _connected(server.name)
    wire = json.dumps(first).encode() + b"\n" + json.dumps(second).encode() + b"\nnot json\n"
    _send(socket, wire[:7])
    qtbot.wait(50)
    assert received == []
    _send(socket, wire[7:] + json.dumps(last).encode())  # the last one without its newline
    qtbot.waitUntil(lambda: len(received) == 2, timeout=TIMEOUT_MS)
    socket.disconnectFromServer()
    qtbot.waitUntil(lambda: len(received) == 3, timeout=TIMEOUT_MS)
    assert received == [first, second, last]
    server.close()


def test_an_open_connection_does_not_keep_the_server_alive(qtbot, tmp_path: Path) -> None:
    server = _listening(tmp_path)
    received: list[dict] = []
    server.received.connect(received.append)
    socket = _connected(server.name)
    _send(socket, b'{"command": "open"}\n')
    qtbot.waitUntil(lambda: received == [{"command": "open"}], timeout=TIMEOUT_MS)
    # The accepted socket is alive on the server's side. Were it to hold the server (a lambda over `self`),
    # the server would die with the socket, inside the socket's destructor, and delete it a second time.
    server_ref = weakref.ref(server)
    del server
    assert server_ref() is None
    socket.disconnectFromServer()
    qtbot.wait(100)
    assert socket.state() == QLocalSocket.LocalSocketState.UnconnectedState
