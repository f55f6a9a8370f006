"""The review site in headless Chromium: screenshots of a topic page, checked where the answer bubble's text lines
end. In Arabic (right to left) they end flush at the bubble's right padding and are ragged on the left; in German
the other way round. The same page with ``dir="rtl"`` taken away must fail the check (a control run)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import ndimage

from bot.core.model import Knowledge
from bot.site.build import write_site
from bot.site.parts import Options, Worklist
from bot.site.style import BUBBLE

Image = NDArray[np.uint8]
TOPIC = "doctor"
TIMEOUT = 60.0  # seconds for all screenshots together (about 2 s on the development machine)
WIDE, PHONE = (1000, 2400), (412, 3600)  # tall enough that no page scrolls: nothing depends on scrolling
FLUSH = 3  # pixels: a line ends at the text edge
RAGGED = 30  # pixels: a line ends this far short of it


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed; .ci/run installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium); CI installs it and runs this test")
    return found


# -- reading the screenshots -------------------------------------------------------------------------------------


def read_png(path: Path) -> Image:
    """An 8-bit RGB(A), non-interlaced PNG (what Chromium writes) as a height x width x 3 array."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos, chunks, header = 8, [], b""
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
    width, height = int.from_bytes(header[:4], "big"), int.from_bytes(header[4:8], "big")
    depth, colour, interlace = header[8], header[9], header[12]
    assert depth == 8 and colour in (2, 6) and interlace == 0, f"unexpected PNG format {header!r}"
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * bpp
    rows = np.zeros((height, stride), dtype=np.uint8)
    prior = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        start = y * (stride + 1)
        line = np.frombuffer(raw, np.uint8, stride, start + 1)
        method = raw[start]
        if method == 0:
            row = line.copy()
        elif method == 1:  # Sub: a running sum per channel (uint8 wraps as the filter does)
            row = np.cumsum(line.reshape(width, bpp), axis=0, dtype=np.uint8).reshape(stride)
        elif method == 2:  # Up
            row = line + prior
        else:
            row = _unfilter(method, line, prior, bpp)
        rows[y] = row
        prior = row
    return rows.reshape(height, width, bpp)[:, :, :3]


def _unfilter(method: int, line: Image, prior: Image, bpp: int) -> Image:
    """The Average (3) and Paeth (4) filters, byte by byte."""
    cur, up = bytearray(line.tobytes()), prior.tobytes()
    for i in range(len(cur)):
        a = cur[i - bpp] if i >= bpp else 0
        b = up[i]
        if method == 3:
            cur[i] = (cur[i] + ((a + b) >> 1)) & 255
            continue
        c = up[i - bpp] if i >= bpp else 0
        pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
        cur[i] = (cur[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    return np.frombuffer(bytes(cur), np.uint8)


@dataclass(frozen=True, slots=True)
class Bubble:
    """A message bubble on a screenshot and its text lines: each line's distance from the bubble's left and right
    edges."""

    top: int
    left: int
    right: int
    lines: tuple[tuple[int, int], ...]

    def flush(self, side: int) -> float:
        """The share of lines that end at the text edge of ``side`` (0 left, 1 right)."""
        edge = min(line[side] for line in self.lines)
        return sum(line[side] <= edge + FLUSH for line in self.lines) / len(self.lines)

    def ragged(self, side: int) -> int:
        """How many lines end well short of the text edge of ``side``."""
        edge = min(line[side] for line in self.lines)
        return sum(line[side] >= edge + RAGGED for line in self.lines)

    def right_to_left(self) -> bool:
        return self.flush(1) >= 0.9 and self.ragged(0) >= 3 and self.flush(0) < 0.7

    def left_to_right(self) -> bool:
        return self.flush(0) >= 0.9 and self.ragged(1) >= 3 and self.flush(1) < 0.7


def bubbles(image: Image) -> list[Bubble]:
    """The answer bubbles: areas of the bubble's colour (the only one on the page) at least 150 x 40 pixels, left to
    right, then top to bottom; with the lines of dark ink in each."""
    found = []
    labels, _ = ndimage.label(np.all(image == BUBBLE, axis=2))
    for area in ndimage.find_objects(labels):
        rows, cols = area
        if cols.stop - cols.start >= 150 and rows.stop - rows.start >= 40:
            found.append(Bubble(rows.start, cols.start, cols.stop, _lines(image[rows, cols])))
    return sorted(found, key=lambda b: (b.left, b.top))


def _lines(part: Image) -> tuple[tuple[int, int], ...]:
    ink = part.min(axis=2) < 160  # text, not the bubble's anti-aliased rounded corners
    lines, start = [], None
    for y, on in enumerate([*ink.any(axis=1), False]):
        if on and start is None:
            start = y
        elif not on and start is not None:
            if y - start >= 6:  # a line of text, not a speck
                cols = np.flatnonzero(ink[start:y].any(axis=0))
                lines.append((int(cols[0]), int(part.shape[1] - 1 - cols[-1])))
            start = None
    return tuple(lines)


# -- the screenshots ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shots(knowledge: Knowledge, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Image]:
    """Screenshots of the topic page, taken at once: Arabic beside German (#ar), German alone (#de), the same Arabic
    page without ``dir="rtl"`` (the control), and Arabic on a phone-sized screen."""
    chromium = _chromium()
    out = tmp_path_factory.mktemp("site")
    write_site(knowledge, out, Worklist(note="left out"), Options())
    page = out / "topics" / f"{TOPIC}.html"
    control = page.with_name(f"{TOPIC}-no-rtl.html")
    control.write_text(page.read_text(encoding="utf-8").replace(' dir="rtl"', ""), encoding="utf-8")
    runs = {"ar": (page, "ar", WIDE), "de": (page, "de", WIDE), "no-rtl": (control, "ar", WIDE)}
    runs["phone"] = (page, "ar", PHONE)
    started: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
    for name, (path, lang, (width, height)) in runs.items():
        shot = out / f"{name}.png"
        command = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
            "--force-device-scale-factor=1", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            f"--user-data-dir={out / f'profile-{name}'}", f"--screenshot={shot}", f"--window-size={width},{height}",
            f"{path.as_uri()}#{lang}",
        ]  # fmt: skip
        started[name] = (subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT), shot)
    deadline = time.monotonic() + TIMEOUT
    images: dict[str, Image] = {}
    try:
        for name, (process, shot) in started.items():
            output, _ = process.communicate(timeout=max(0.1, deadline - time.monotonic()))
            assert process.returncode == 0 and shot.exists(), f"chromium ({name}): {output.decode(errors='replace')}"
            images[name] = read_png(shot)
    except subprocess.TimeoutExpired:
        pytest.fail(f"chromium took longer than {TIMEOUT:.0f} s for the screenshots")
    finally:
        for process, _ in started.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    return images


def test_the_pages_are_not_blank(shots: dict[str, Image]) -> None:
    for name, image in shots.items():
        colours = np.unique(image.astype(np.uint32) @ np.array([1 << 16, 1 << 8, 1], dtype=np.uint32))
        assert len(colours) > 100, f"{name}: hardly any colours"
        found = bubbles(image)
        assert found, f"{name}: no answer bubble"
        assert all(len(b.lines) >= 4 for b in found), f"{name}: a bubble with hardly any text"


def test_arabic_lines_end_at_the_right_and_german_at_the_left(shots: dict[str, Image]) -> None:
    german, arabic = bubbles(shots["ar"])  # #ar shows Arabic beside the German text (languages.yaml: de first)
    assert german.right < arabic.left
    assert arabic.right_to_left(), arabic
    assert german.left_to_right(), german
    (alone,) = bubbles(shots["de"])  # German alone
    assert alone.left_to_right(), alone


def test_the_check_fails_when_the_arabic_block_loses_dir_rtl(shots: dict[str, Image]) -> None:
    _, arabic = bubbles(shots["no-rtl"])
    assert not arabic.right_to_left(), arabic
    assert arabic.left_to_right(), arabic  # what a browser does with Arabic in a left-to-right block


def test_on_a_phone_the_languages_are_stacked_and_fit_the_screen(shots: dict[str, Image]) -> None:
    image = shots["phone"]
    found = sorted(bubbles(image), key=lambda b: b.top)
    assert len(found) == 2
    german, arabic = found
    width = image.shape[1]
    assert german.top < arabic.top and all(b.left > 0 and b.right < width for b in found)
    assert arabic.right_to_left(), arabic
    assert german.left_to_right(), german
