"""Render the application icon from ``resources/branding/flowdesk.svg``.

Writes, beside the SVG:
- ``png/flowdesk-SIZE.png`` for SIZE in 16 24 32 48 64 128 256 512 (the hicolor sizes),
- ``flowdesk.ico`` (Windows: 16…256, PNG-compressed entries),
- ``flowdesk.icns`` (macOS: 16…512 and the @2x variants, PNG entries).

The outputs are committed; run this again only when the SVG changes:
    QT_QPA_PLATFORM=offscreen python packaging/make_icons.py
Needs only PySide6 (QtSvg); the ICO and ICNS containers are written by hand.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

BRANDING = Path(__file__).resolve().parents[1] / "resources" / "branding"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS element types holding PNG data: (type, pixel size)
ICNS_TYPES = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"icp6", 64),
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic09", 512),
    (b"ic10", 1024),
    (b"ic11", 32),
    (b"ic12", 64),
    (b"ic13", 256),
    (b"ic14", 512),
)


def render(renderer: QSvgRenderer, size: int) -> bytes:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise RuntimeError(f"could not encode {size}px PNG")
    buffer.close()
    return bytes(data.data())


def ico(pngs: dict[int, bytes]) -> bytes:
    header = struct.pack("<HHH", 0, 1, len(ICO_SIZES))
    offset = 6 + 16 * len(ICO_SIZES)
    entries, blobs = b"", b""
    for size in ICO_SIZES:
        data = pngs[size]
        dim = 0 if size >= 256 else size  # 0 means 256 in an ICONDIRENTRY
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
        blobs += data
    return header + entries + blobs


def icns(pngs: dict[int, bytes]) -> bytes:
    body = b"".join(
        kind + struct.pack(">I", 8 + len(pngs[size])) + pngs[size] for kind, size in ICNS_TYPES
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(BRANDING / "flowdesk.svg"))
    if not renderer.isValid():
        sys.stderr.write("flowdesk.svg is not a valid SVG\n")
        return 1
    needed = set(SIZES) | set(ICO_SIZES) | {s for _, s in ICNS_TYPES}
    pngs = {size: render(renderer, size) for size in sorted(needed)}
    out = BRANDING / "png"
    out.mkdir(exist_ok=True)
    for size in SIZES:
        (out / f"flowdesk-{size}.png").write_bytes(pngs[size])
    (BRANDING / "flowdesk.ico").write_bytes(ico(pngs))
    (BRANDING / "flowdesk.icns").write_bytes(icns(pngs))
    for path in sorted([*out.iterdir(), BRANDING / "flowdesk.ico", BRANDING / "flowdesk.icns"]):
        sys.stdout.write(f"{path.relative_to(BRANDING.parents[1])}  {path.stat().st_size} B\n")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
