"""Render the app's SVG icon into the raster formats installers need: PNG, Windows .ico and macOS .icns.

    python render_icon.py resources/qa-reader.svg build/icons

Writes qa-reader-256.png, qa-reader.ico and qa-reader.icns into the output folder. Needs PySide6 (the build
environment has it); both container formats are written here, from PNG images, so no Qt image plugin is needed.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# icns entry types whose payload is a PNG of the given pixel size (macOS 10.7 and later).
ICNS_TYPES = {
    b"icp4": 16,
    b"icp5": 32,
    b"ic11": 32,
    b"ic12": 64,
    b"ic07": 128,
    b"ic13": 256,
    b"ic08": 256,
    b"ic14": 512,
    b"ic09": 512,
    b"ic10": 1024,
}


def render_png(svg: Path, size: int) -> bytes:
    """The SVG drawn on a transparent size×size canvas, as PNG bytes."""
    from PySide6.QtCore import QBuffer, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"render_icon: {svg} is not a valid SVG file")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(buffer.data().data())


def ico(images: dict[int, bytes]) -> bytes:
    """A Windows icon holding one PNG-compressed image per size (a size of 256 is written as 0)."""
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    directory, payload = b"", b""
    for size, png in sorted(images.items()):
        side = 0 if size >= 256 else size
        directory += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(png), offset + len(payload))
        payload += png
    return header + directory + payload


def icns(images: dict[bytes, bytes]) -> bytes:
    """A macOS icon file: the 'icns' header, then one (type, length, PNG) entry per image."""
    body = b"".join(kind + struct.pack(">I", 8 + len(png)) + png for kind, png in images.items())
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    svg, out = Path(argv[0]), Path(argv[1])
    if not svg.is_file():
        print(f"render_icon: the icon {svg} is missing", file=sys.stderr)
        return 1
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(["render_icon"])
    sizes = sorted(set(ICO_SIZES) | set(ICNS_TYPES.values()))
    pngs = {size: render_png(svg, size) for size in sizes}
    out.mkdir(parents=True, exist_ok=True)
    (out / "qa-reader-256.png").write_bytes(pngs[256])
    (out / "qa-reader.ico").write_bytes(ico({size: pngs[size] for size in ICO_SIZES}))
    (out / "qa-reader.icns").write_bytes(icns({kind: pngs[size] for kind, size in ICNS_TYPES.items()}))
    del app
    print(f"render_icon: {svg} -> {out}/qa-reader-256.png, qa-reader.ico, qa-reader.icns")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
