"""One running app per user and library: a second `qa-reader ...` hands its files or question over a
QLocalSocket to the running one (which listens with a QLocalServer) and exits."""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_MS = 500
WRITE_TIMEOUT_MS = 1000
MAX_MESSAGE_BYTES = 1 << 20


def server_name(library_path: Path) -> str:
    """The socket name: per user and per library, so two libraries (or test runs) never collide."""
    try:
        user = getpass.getuser()
    except Exception:  # no login name (some containers): the library path still keeps names apart
        user = "user"
    digest = hashlib.sha256(str(library_path.expanduser().resolve()).encode("utf-8")).hexdigest()[:12]
    safe_user = "".join(c for c in user if c.isalnum()) or "user"
    return f"qa-reader-{safe_user}-{digest}"


def hand_over(name: str, message: dict) -> bool:
    """Send `message` to the running app listening on `name`; False when none is running."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
        return False
    payload = json.dumps(message).encode("utf-8") + b"\n"
    socket.write(payload)
    written = socket.waitForBytesWritten(WRITE_TIMEOUT_MS) or socket.bytesToWrite() == 0
    socket.disconnectFromServer()
    if socket.state() != QLocalSocket.LocalSocketState.UnconnectedState:
        socket.waitForDisconnected(WRITE_TIMEOUT_MS)
    return written


class InstanceServer(QObject):
    """Listens for the messages of later `qa-reader` calls; emits `received` with each one."""

    received = Signal(dict)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_new_connection)

    def listen(self) -> bool:
        """Start listening, clearing a socket file left behind by a crashed app; False if that fails."""
        if self._server.listen(self.name):
            return True
        QLocalServer.removeServer(self.name)
        if self._server.listen(self.name):
            return True
        log.warning("Cannot listen on %s: %s", self.name, self._server.errorString())
        return False

    def close(self) -> None:
        """Stop listening; connections already accepted still deliver what they send."""
        self._server.close()

    # Each accepted socket is a child of the QLocalServer and is deleted by Qt (disconnected -> deleteLater).
    # Its signals reach bound methods and C++ slots only, never a lambda or partial that holds `self`: such a
    # callable is a reference from the socket to its own server, and PySide drops it while Qt destroys the
    # socket. When that was the server's last reference, the server was deleted in the middle of the
    # socket's destructor and deleted the socket a second time ("pure virtual method called", SIGSEGV).

    @Slot()
    def _on_new_connection(self) -> None:
        while (socket := self._server.nextPendingConnection()) is not None:
            socket.readyRead.connect(self._on_ready_read)
            socket.disconnected.connect(self._on_disconnected)
            socket.disconnected.connect(socket.deleteLater)
            self._read_lines(socket)

    @Slot()
    def _on_ready_read(self) -> None:
        socket = self.sender()
        if isinstance(socket, QLocalSocket):
            self._read_lines(socket)

    @Slot()
    def _on_disconnected(self) -> None:
        socket = self.sender()
        if not isinstance(socket, QLocalSocket):
            return
        self._read_lines(socket)
        last_line = bytes(socket.readAll().data())  # a message sent without its newline
        if last_line.strip():
            self._deliver(last_line)

    def _read_lines(self, socket: QLocalSocket) -> None:
        # The socket keeps a partial line in its own buffer until the newline arrives.
        if socket.bytesAvailable() > MAX_MESSAGE_BYTES:
            log.warning("Dropped an oversized message from another qa-reader")
            socket.abort()
            return
        while socket.canReadLine():
            self._deliver(bytes(socket.readLine().data()).rstrip(b"\n"))

    def _deliver(self, line: bytes) -> None:
        try:
            message = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            log.warning("Ignored a message that is not JSON from another qa-reader")
            return
        if isinstance(message, dict):
            self.received.emit(message)
