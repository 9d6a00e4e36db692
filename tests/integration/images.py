# SPDX-License-Identifier: LGPL-2.1-or-later
"""Just enough image reading for tests, without imaging libraries: PNG (8-bit RGB or RGBA, as
QEMU's screendump writes it) and XWD (xwd -root of a 24/32-bit X server). Images are
(width, height, rows) with each row bytes of RGB triples; find() looks for one inside
another, pixel for pixel."""
import struct
import zlib


def read_png(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and color in (2, 6), (depth, color)
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 0xFF
            elif f == 2:
                line[x] = (line[x] + b) & 0xFF
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[x] = (line[x] + pred) & 0xFF
        prev = line
        if bpp == 4:
            line = bytearray(b for i, b in enumerate(line) if i % 4 != 3)
        rows.append(bytes(line))
    return width, height, rows


def read_xwd(data):
    fields = struct.unpack(">25I", data[:100])
    header_size, _, fmt, depth, width, height = fields[:6]
    byte_order, bpp, bytes_per_line = fields[7], fields[11], fields[12]
    ncolors = fields[19]
    # (xwd writes bits_per_pixel 24 for a 32-bit layout: the line length tells)
    assert fmt == 2 and bytes_per_line >= width * 4, (fmt, bpp, bytes_per_line)
    pos = header_size + ncolors * 12
    rows = []
    for y in range(height):
        line = data[pos + y * bytes_per_line:pos + y * bytes_per_line + width * 4]
        if byte_order == 0:  # LSB first: B G R X
            rgb = bytearray(width * 3)
            rgb[0::3], rgb[1::3], rgb[2::3] = line[2::4], line[1::4], line[0::4]
        else:  # X R G B
            rgb = bytearray(width * 3)
            rgb[0::3], rgb[1::3], rgb[2::3] = line[1::4], line[2::4], line[3::4]
        rows.append(bytes(rgb))
    return width, height, rows


def find(haystack, needle):
    """(x, y) where NEEDLE appears pixel for pixel inside HAYSTACK, or None. The needle's most
    varied row is looked for first, then every row is checked."""
    nw, nh, nrows = needle
    hw, hh, hrows = haystack
    key = max(range(nh), key=lambda y: len(set(nrows[y][i:i + 3]
                                              for i in range(0, len(nrows[y]), 3))))
    for hy in range(key, hh - (nh - key) + 1):
        start = 0
        while True:
            at = hrows[hy].find(nrows[key], start)
            if at < 0:
                break
            start = at + 1
            if at % 3:
                continue
            y0 = hy - key
            x = at
            if all(hrows[y0 + y][x:x + nw * 3] == nrows[y] for y in range(nh)):
                return x // 3, y0
    return None


def bright_box(img, x0=0, y0=0, x1=None, y1=None, level=80):
    """The bounding box (x, y, x_end, y_end) of pixels brighter than LEVEL inside the given
    region, or None."""
    w, h, rows = img
    x1, y1 = x1 or w, y1 or h
    xs, ys = [], []
    for y in range(y0, y1):
        row = rows[y]
        for x in range(x0, x1):
            if row[3 * x] + row[3 * x + 1] + row[3 * x + 2] > 3 * level:
                xs.append(x)
                ys.append(y)
    if not xs:
        return None
    return min(xs), min(ys), max(xs) + 1, max(ys) + 1


def block_means(img, box, cols, lines):
    """The mean brightness of COLS x LINES blocks covering BOX."""
    w, h, rows = img
    x0, y0, x1, y1 = box
    out = []
    for by in range(lines):
        for bx in range(cols):
            xa, xb = x0 + (x1 - x0) * bx // cols, x0 + (x1 - x0) * (bx + 1) // cols
            ya, yb = y0 + (y1 - y0) * by // lines, y0 + (y1 - y0) * (by + 1) // lines
            total = n = 0
            for y in range(ya, max(yb, ya + 1)):
                row = rows[y]
                for x in range(xa, max(xb, xa + 1)):
                    total += row[3 * x] + row[3 * x + 1] + row[3 * x + 2]
                    n += 1
            out.append(total / (3 * n))
    return out


def correlation(a, b):
    n = len(a)
    ma, mb = sum(a) / n, sum(b) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    va = sum((x - ma) ** 2 for x in a) ** 0.5
    vb = sum((y - mb) ** 2 for y in b) ** 0.5
    return cov / (va * vb) if va and vb else 0.0


def text_box(img, x0=0, y0=0, x1=None, y1=None, level=80):
    """Like bright_box, over text: bands of bright rows, leaving out narrow ones (a blinking
    cursor), so that two pictures of one screen taken a moment apart give the same box."""
    w, h, rows = img
    x1, y1 = x1 or w, y1 or h
    bands, cur = [], None
    for y in range(y0, y1):
        row = rows[y]
        xs = [x for x in range(x0, x1)
              if row[3 * x] + row[3 * x + 1] + row[3 * x + 2] > 3 * level]
        if xs:
            if cur and y - cur[3] <= 2:
                cur = [min(cur[0], xs[0]), cur[1], max(cur[2], xs[-1] + 1), y + 1]
            else:
                cur = [xs[0], y, xs[-1] + 1, y + 1]
                bands.append(cur)
            bands[-1] = cur
    if not bands:
        return None
    widest = max(b[2] - b[0] for b in bands)
    keep = [b for b in bands if b[2] - b[0] >= widest * 0.1]
    return (min(b[0] for b in keep), min(b[1] for b in keep), max(b[2] for b in keep),
            max(b[3] for b in keep))


def _lum(row, x):
    return row[3 * x] + row[3 * x + 1] + row[3 * x + 2]


def sparkline_heights(img, ink=600):
    """virt-manager's CPU usage column: the graph cells of its domain list, top to bottom,
    each as the share (0..1) of the cell's height that its graph's line covers. The window
    sits at the screen's top left (no window manager); the column is the list's last, by the
    window's right edge; a cell is a light box between two border rows of one colour whose
    inside is mostly white (the group header above the first row is solid colour)."""
    w, h, rows = img
    right = next(x for x in range(w - 20) if all(_lum(rows[5], x + i) == 0 for i in range(20)))
    stripe = range(right - 60, right - 30)
    borders = [y for y in range(h)
               if len({_lum(rows[y], x) for x in stripe}) == 1 and
               560 <= _lum(rows[y], stripe[0]) <= 700]
    heights = []
    for top, bottom in zip(borders, borders[1:]):
        inside = range(top + 2, bottom - 1)
        if not 20 <= len(inside) <= 80 or _lum(rows[top], right - 45) != _lum(rows[bottom],
                                                                            right - 45):
            continue
        light = sorted(_lum(rows[y], right - 45) for y in inside)
        if light[len(light) // 2] <= 700:
            continue
        inked = [y for y in inside if any(_lum(rows[y], x) < ink for x in range(right - 95, right - 10))]
        heights.append((max(inked) - min(inked) + 1) / len(inside) if inked else 0.0)
    return heights
