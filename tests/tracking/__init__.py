"""Reading QR codes back in tests: PNGs with zxing-cpp, and segno's SVG by redrawing its path as pixels (no SVG
rasteriser is installed, and segno draws each row of dark modules as one horizontal stroke)."""

import io
import re
import xml.etree.ElementTree as ET

import PIL.Image
import zxingcpp

SVG_NS = "{http://www.w3.org/2000/svg}"


def decode_png(content: bytes) -> list[str]:
    image = PIL.Image.open(io.BytesIO(content))
    image.load()
    return [result.text for result in zxingcpp.read_barcodes(image)]


def svg_root(content: bytes | str) -> ET.Element:
    root = ET.fromstring(content)
    assert root.tag == f"{SVG_NS}svg", root.tag
    return root


def svg_modules(content: bytes | str) -> list[list[int]]:
    """The dark modules the SVG draws, as rows of 0/1 including the quiet zone.

    segno's path is "M x y" then, per run of dark modules, "h length" and "m dx dy" moves, on the centre line of each
    row (y + 0.5). Anything else in it fails the test rather than being misread.
    """
    root = svg_root(content)
    paths = root.findall(f"{SVG_NS}path")
    assert len(paths) == 1, "one path expected"
    size = _side(root, paths[0])
    grid = [[0] * size for _ in range(size)]
    x = y = 0.0
    tokens = re.findall(r"[A-Za-z]|-?\d+(?:\.\d+)?", paths[0].get("d"))
    i = 0
    while i < len(tokens):
        command = tokens[i]
        if command in "Mm":
            dx, dy = float(tokens[i + 1]), float(tokens[i + 2])
            x, y = (dx, dy) if command == "M" else (x + dx, y + dy)
            i += 3
        elif command == "h":
            length = float(tokens[i + 1])
            row = int(y - 0.5)
            assert y - row == 0.5, f"stroke off a row centre: {y}"
            for column in range(int(x), int(x + length)):
                grid[row][column] = 1
            x += length
            i += 2
        else:
            raise AssertionError(f"unexpected path command {command!r}")
    return grid


def _side(root, path) -> int:
    """The symbol's side in modules, quiet zone included: from the viewBox, or width over the path's scale()."""
    if root.get("viewBox"):
        _x, _y, width, height = (float(v) for v in root.get("viewBox").split())
        assert width == height
        return int(width)
    match = re.fullmatch(r"scale\(([\d.]+)\)", path.get("transform") or "scale(1)")
    return round(float(root.get("width")) / float(match.group(1)))


def decode_modules(grid: list[list[int]], pixels_per_module: int = 8) -> list[str]:
    """Draw the modules as a black-on-white picture and read it with zxing-cpp, like a phone camera would."""
    side = len(grid)
    image = PIL.Image.new("L", (side, side), 255)
    image.putdata([0 if dark else 255 for row in grid for dark in row])
    image = image.resize((side * pixels_per_module, side * pixels_per_module), PIL.Image.Resampling.NEAREST)
    return [result.text for result in zxingcpp.read_barcodes(image)]
