"""Is a screenshot a real window?  ``python3 packaging/check_png.py SHOT.png [W H]``

Prints the size, the number of distinct colours and the share of the most common
colour; exits 1 when the image looks blank (fewer than 64 colours, or one colour
covering more than 90 % of it) or has the wrong size. Uses Qt's QImage when
PySide6 is importable, else decodes the PNG itself (zlib + the five PNG filters),
so any Python 3 will do.
"""

from __future__ import annotations

import struct
import sys
import zlib
from collections import Counter
from pathlib import Path

MIN_COLOURS = 64
MAX_DOMINANT = 0.90


def pixels_qt(path: Path) -> tuple[int, int, Counter[int]] | None:
    try:
        from PySide6.QtGui import QImage
    except ImportError:
        return None
    image = QImage(str(path))
    if image.isNull():
        raise ValueError(f"{path}: Qt cannot read it")
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    width, height = image.width(), image.height()
    data = bytes(image.constBits())[: image.sizeInBytes()]
    stride = image.bytesPerLine()
    counts: Counter[int] = Counter()
    for y in range(height):
        row = data[y * stride : y * stride + width * 4]
        counts.update(struct.unpack(f"<{width}I", row))
    return width, height, counts


def pixels_png(path: Path) -> tuple[int, int, Counter[int]]:
    raw = path.read_bytes()
    if raw[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(raw):
        length, kind = struct.unpack(">I4s", raw[pos : pos + 8])
        chunk = raw[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    if header is None:
        raise ValueError(f"{path}: no IHDR")
    width, height, depth, colour, _, _, interlace = header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace:
        raise ValueError(f"{path}: only 8-bit non-interlaced grey/RGB(A) PNGs are decoded here")
    bpp, stride = channels, width * channels
    data = zlib.decompress(idat)
    prev = bytearray(stride)
    counts: Counter[bytes] = Counter()
    for y in range(height):
        start = y * (stride + 1)
        kind, row = data[start], bytearray(data[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                row[i] = (row[i] + row[i - bpp]) & 255
        elif kind == 2:
            row = bytearray((a + b) & 255 for a, b in zip(row, prev, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = row[i - bpp] if i >= bpp else 0
                row[i] = (row[i] + ((left + prev[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                a = row[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                row[i] = (row[i] + pred) & 255
        counts.update(bytes(row[i : i + bpp]) for i in range(0, stride, bpp))
        prev = row
    return width, height, counts  # type: ignore[return-value]


def main(argv: list[str]) -> int:
    if not argv:
        sys.stderr.write(__doc__ or "")
        return 2
    path = Path(argv[0])
    want = (int(argv[1]), int(argv[2])) if len(argv) >= 3 else None
    result = pixels_qt(path)
    how = "QImage"
    if result is None:
        result, how = pixels_png(path), "zlib"
    width, height, counts = result
    total = width * height
    dominant = counts.most_common(1)[0][1] / total if total else 1.0
    ok = len(counts) >= MIN_COLOURS and dominant <= MAX_DOMINANT
    if want is not None and (width, height) != want:
        ok = False
    sys.stdout.write(
        f"{path.name}: {width}x{height}, {len(counts)} distinct colours, "
        f"most common {dominant:.0%} ({how}) -> {'not blank' if ok else 'BLANK or wrong size'}\n"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
