"""Ruled-table PDFs drawn with PyMuPDF, to compare the ruled-table port in auditor.documents with find_tables.

Merged cells, two tables on a page, a table continued across pages, cells drawn as rectangles or as lines, rules
drawn as thin filled bars, shaded rows, text in several fonts close to the rules, a slanted watermark and a
rotated page. Usage: python scripts/make_ruled_pdfs.py OUT_DIR
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pymupdf

FONTS = ("china-s", "helv", "tiro", "cour")


def grid(
    page,
    x0: float,
    y0: float,
    widths: list[float],
    heights: list[float],
    *,
    style: str,
    merged=(),
    font: str = "china-s",
    size: float = 9,
    shade: bool = False,
    texts=None,
) -> None:
    """A ruled table at (x0, y0); `merged` holds (row, col, rows, cols) spans; `style` is lines, rects or bars."""
    xs = [x0]
    for w in widths:
        xs.append(xs[-1] + w)
    ys = [y0]
    for h in heights:
        ys.append(ys[-1] + h)
    covered = {}
    for r, c, nr, nc in merged:
        for i in range(r, r + nr):
            for j in range(c, c + nc):
                covered[(i, j)] = (r, c, nr, nc)
    boxes = []
    for i in range(len(heights)):
        for j in range(len(widths)):
            span = covered.get((i, j))
            if span and (span[0], span[1]) != (i, j):
                continue
            nr, nc = (span[2], span[3]) if span else (1, 1)
            boxes.append((i, j, pymupdf.Rect(xs[j], ys[i], xs[j + nc], ys[i + nr])))
    shape = page.new_shape()
    if shade:
        for i in range(0, len(heights), 2):
            shape.draw_rect(pymupdf.Rect(xs[0], ys[i], xs[-1], ys[i + 1]))
        shape.finish(fill=(0.9, 0.9, 0.9), color=None)
    if style == "rects":
        for _, _, rect in boxes:
            shape.draw_rect(rect)
        shape.finish(color=(0, 0, 0), width=0.5)
    elif style == "bars":
        for _, _, rect in boxes:
            for a, b in ((rect.tl, rect.tr), (rect.bl, rect.br)):
                shape.draw_rect(pymupdf.Rect(a.x, a.y - 0.25, b.x, b.y + 0.25))
            for a, b in ((rect.tl, rect.bl), (rect.tr, rect.br)):
                shape.draw_rect(pymupdf.Rect(a.x - 0.25, a.y, b.x + 0.25, b.y))
        shape.finish(fill=(0, 0, 0), color=None)
    else:
        for _, _, rect in boxes:
            shape.draw_line(rect.tl, rect.tr)
            shape.draw_line(rect.bl, rect.br)
            shape.draw_line(rect.tl, rect.bl)
            shape.draw_line(rect.tr, rect.br)
        shape.finish(color=(0, 0, 0), width=0.6)
    shape.commit()
    for i, j, rect in boxes:
        text = texts(i, j) if texts else ("项目" if j == 0 else f"{(i + 1) * (j + 3) * 12.5:,.2f}")
        page.insert_text((rect.x0 + 2, rect.y0 + min(rect.height - 2, size + 2)), text, fontname=font, fontsize=size)


def make(out: Path) -> list[Path]:
    """Write the PDFs into `out`; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    made = []
    rng = random.Random(5)

    def save(doc, name: str) -> None:  # type: ignore[no-untyped-def]
        path = out / name
        doc.save(path)
        made.append(path)

    for style in ("lines", "rects", "bars"):
        doc = pymupdf.open()
        page = doc.new_page()
        page.insert_text((72, 60), "表1 项目支出绩效自评表", fontname="china-s", fontsize=12)
        grid(page, 72, 80, [120, 80, 80, 80], [20] * 6, style=style, merged=[(0, 0, 2, 1), (2, 1, 1, 3), (4, 2, 2, 2)])
        page.insert_text((72, 250), "说明：以上数据来自财务系统。", fontname="china-s", fontsize=10)
        grid(page, 72, 280, [150, 90, 90], [18] * 4, style=style, shade=True)
        save(doc, f"merged_two_tables_{style}.pdf")

        doc = pymupdf.open()
        for n in range(2):
            page = doc.new_page()
            grid(page, 60, 600 if n == 0 else 50, [140, 100, 100, 100], [22] * (8 if n == 0 else 5), style=style)
            page.insert_text((60, 40 if n else 580), f"第{n + 1}页", fontname="china-s", fontsize=9)
        save(doc, f"continued_{style}.pdf")

    for font in FONTS:
        doc = pymupdf.open()
        page = doc.new_page()
        grid(
            page,
            50,
            50,
            [100, 70, 70, 70, 70],
            [16, 14, 12, 12, 12],
            style="lines",
            font=font,
            size=10,
            texts=lambda i, j: "Total" if j == 0 else f"{i}{j}.5%",
        )
        # Text touching and crossing the rules; a frame around a paragraph (one column); an empty grid.
        page.insert_text((50, 160), "ab", fontname=font, fontsize=10)
        grid(page, 50, 200, [300], [40], style="rects", font=font, texts=lambda i, j: "A framed note")
        grid(page, 50, 300, [60, 60], [20, 20], style="lines", texts=lambda i, j: " ")
        grid(page, 50, 400, [80, 80, 80], [10, 10], style="rects", font=font, size=11)
        save(doc, f"fonts_{font}.pdf")

    for k in range(6):
        doc = pymupdf.open()
        page = doc.new_page()
        widths = [rng.choice([40, 60, 90, 120]) for _ in range(rng.randint(2, 6))]
        heights = [rng.choice([12, 16, 20, 28]) for _ in range(rng.randint(1, 9))]
        merged = []
        if len(heights) > 2 and len(widths) > 2:
            merged.append((1, 1, 2, 2))
        grid(
            page,
            rng.uniform(30, 80),
            rng.uniform(30, 300),
            widths,
            heights,
            style=rng.choice(["lines", "rects", "bars"]),
            merged=merged,
            shade=rng.random() < 0.5,
            font=rng.choice(FONTS),
            size=rng.choice([7, 9, 10.5, 12]),
        )
        shape = page.new_shape()
        for _ in range(rng.randint(0, 8)):  # stray rules and boxes
            x, y = rng.uniform(20, 500), rng.uniform(20, 750)
            if rng.random() < 0.5:
                shape.draw_line((x, y), (x + rng.uniform(2, 200), y + rng.choice([0, 0, 0.5, 2, 40])))
            else:
                shape.draw_rect(pymupdf.Rect(x, y, x + rng.uniform(1, 100), y + rng.uniform(1, 60)))
        shape.finish(color=(0, 0, 0), width=0.5)
        shape.commit()
        page.insert_text((40, 800), "第1页 共1页", fontname="china-s", fontsize=8)
        save(doc, f"random_{k}.pdf")

    doc = pymupdf.open()
    page = doc.new_page()
    grid(page, 72, 80, [120, 80, 80], [20] * 4, style="lines")
    page.insert_text(
        (150, 500),
        "仅供内部使用",
        fontname="china-s",
        fontsize=40,
        rotate=0,
        morph=((pymupdf.Point(150, 500)), pymupdf.Matrix(30)),
    )
    save(doc, "watermark.pdf")

    doc = pymupdf.open()
    page = doc.new_page()
    grid(page, 72, 80, [120, 80, 80], [20] * 4, style="rects")
    page.set_rotation(90)
    save(doc, "rotated.pdf")
    return made


if __name__ == "__main__":
    for p in make(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/ruled_pdfs")):
        print(p)
