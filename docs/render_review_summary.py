"""Render docs/img/review-summary.png: the Summary sheet of a review of two sandbox snapshots a quarter apart.

Needs LibreOffice and poppler from Debian (``apt-get install libreoffice-calc-nogui poppler-utils``). Run from the
project root: ``.venv/bin/python docs/render_review_summary.py``. LibreOffice prints the workbook to PDF (its
first page is the Summary sheet), poppler renders that page, and the margins are cropped; everything happens in a
temporary folder, and only the PNG is written into docs/img.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageChops

import genesys_nb as gnb

OUT = Path(__file__).resolve().parent / "img" / "review-summary.png"
TOOLS = {"soffice": "libreoffice-calc-nogui", "pdftoppm": "poppler-utils"}


def main() -> int:
    missing = [package for tool, package in TOOLS.items() if shutil.which(tool) is None]
    if missing:
        print(f"needs Debian's {' and '.join(missing)}: apt-get install {' '.join(missing)}", file=sys.stderr)
        return 2
    here = Path.cwd()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.chdir(folder)  # relative snapshot paths, as a user types them: no temporary folder in the picture
        try:
            Path("snapshots").mkdir()
            with gnb.connect(sandbox=True) as client:
                old = client.snapshot("snapshots/2026-q1", progress=False)
                client.sandbox.advance(days=90)
                new = client.snapshot("snapshots/2026-q2", progress=False)
            book = gnb.review(new, previous=old).to_excel(folder / "review.xlsx")
        finally:
            os.chdir(here)
        env = {"HOME": tmp, "PATH": "/usr/bin:/bin"}
        subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", tmp, str(book)], check=True,
                       capture_output=True, env=env)
        subprocess.run(["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", "-singlefile", str(folder / "review.pdf"),
                        str(folder / "summary")], check=True, capture_output=True, env=env)
        page = Image.open(folder / "summary.png").convert("RGB")
        box = ImageChops.difference(page, Image.new("RGB", page.size, "white")).getbbox()
        margin = 24
        page.crop((max(0, box[0] - margin), max(0, box[1] - margin), min(page.width, box[2] + margin),
                   min(page.height, box[3] + margin))).quantize(64).save(OUT, optimize=True)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
