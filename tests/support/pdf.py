"""Reading a PDF as a person would see it, with Debian's poppler-utils (pdftoppm, pdftotext, pdffonts)."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

from lxml import html
from PIL import Image

DPI = 100
TIBETAN = re.compile(r"[\u0f00-\u0fff]")


def run(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def embedded_fonts(pdf: Path) -> list[str]:
    """The fonts' names as pdffonts lists them (after its two heading lines), e.g. ABCDEF+Noto-Serif-Tibetan."""
    return [line.split()[0] for line in run("pdffonts", str(pdf)).splitlines()[2:] if line.strip()]


def tibetan_boxes(pdf: Path) -> list[tuple[int, tuple[float, float, float, float]]]:
    """(page, (x0, y0, x1, y1) in points) of every word with Tibetan letters, from pdftotext -bbox."""
    document = html.fromstring(run("pdftotext", "-bbox", str(pdf), "-"))
    boxes = []
    for number, page in enumerate(document.iter("page"), start=1):
        for word in page.iter("word"):
            if TIBETAN.search(word.text_content()):
                boxes.append((number, tuple(float(word.get(edge)) for edge in ("xmin", "ymin", "xmax", "ymax"))))
    return boxes


def dark_pixels(pdf: Path, page: int, box: tuple[float, float, float, float], out: Path) -> int:
    """Render one page with pdftoppm and count the dark pixels inside the box (points; 72 a inch)."""
    prefix = out / f"page-{page}"
    run("pdftoppm", "-png", "-r", str(DPI), "-f", str(page), "-l", str(page), "-singlefile", str(pdf), str(prefix))
    scale = DPI / 72
    x0, y0, x1, y1 = box
    with Image.open(f"{prefix}.png") as image:
        region = image.convert("L").crop((int(x0 * scale), int(y0 * scale), int(x1 * scale) + 1, int(y1 * scale) + 1))
        return sum(region.histogram()[:128])  # grey levels below the middle
