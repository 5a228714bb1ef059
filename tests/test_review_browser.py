"""OUT/report.html as a reviewer uses it, in headless Chromium (Debian's, via playwright; see tests/browser.py).

The real command runs on the seed reports and on one PDF; the page must then agree with the run's flags.csv and
checks.csv: one red highlight per placed flag and one green tick per placed passed check, each file's flags listed
in its section, a click on a flag scrolling to its evidence and showing its details, the check filter hiding the
other checks, PDF pages drawn as data: images with boxes, and not one request leaving the page.

Set AUDITOR_SCREENSHOTS=1 to also save docs/review-index.png and docs/review-flag.png for the README."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .browser import chromium, open_page
from .conftest import FIXTURES, ROOT, SEEDS, rows

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

# One page, two flags (both listed in the expected.csv beside it).
PDF = FIXTURES / "tables" / "income_balance" / "pdf_err1.pdf"
SCREENSHOT_SEED = "001_58accd15f871133c.txt"  # flagged: 5 errors, 1 warning
DOCS = ROOT / "docs"

# Everything the checks need from the page, read in one go.
SUMMARY_JS = r"""
() => {
  const tokens = (el, attr) => (el.getAttribute(attr) || '').split(/\s+/).filter(Boolean);
  const union = (els, attr) => [...new Set(els.flatMap(el => tokens(el, attr)))];
  const colours = el => { const s = getComputedStyle(el); return [s.backgroundColor, s.color, s.borderBottomColor]; };
  // A tick's ✓: in one of its marks (text or ::before/::after), or right after one of them.
  const startsWithTick = node => !!node && node.textContent.trimStart().startsWith('✓');
  const tickGlyph = el => ['::before', '::after'].some(p => getComputedStyle(el, p).content.includes('✓'))
    || el.textContent.includes('✓') || startsWithTick(el.nextSibling);

  const external = [];
  for (const el of document.querySelectorAll('[src]')) {
    const src = el.getAttribute('src');
    if (!src.startsWith('data:')) external.push(`<${el.tagName.toLowerCase()} src=${src}>`);
  }
  for (const el of document.querySelectorAll('link[href]')) {
    if (!el.getAttribute('href').startsWith('data:')) external.push(`<link href=${el.getAttribute('href')}>`);
  }
  const cssUrls = text => [...text.matchAll(/url\(\s*["']?([^"')\s]+)/g)].map(m => m[1])
    .filter(u => !u.startsWith('data:') && !u.startsWith('#'));
  for (const sheet of document.styleSheets) {
    for (const rule of sheet.cssRules) {
      if (rule instanceof CSSImportRule) external.push(`@import ${rule.href}`);
      for (const u of cssUrls(rule.cssText)) external.push(`css url(${u})`);
    }
  }
  for (const el of document.querySelectorAll('[style]')) {
    for (const u of cssUrls(el.getAttribute('style'))) external.push(`style url(${u})`);
  }

  const flagMarks = [...document.querySelectorAll('mark.ev.flag[data-flags]')];
  const tickMarks = [...document.querySelectorAll('mark.ev[data-ticks]')];
  const okMarks = [...document.querySelectorAll('mark.ev.ok')];

  const sections = {};
  for (const sec of document.querySelectorAll('section.report')) {
    const s = sections[sec.dataset.file] ??= {flags: [], ticks: [], items: []};
    s.flags.push(...union([...sec.querySelectorAll('mark.ev.flag[data-flags]')], 'data-flags'));
    s.ticks.push(...union([...sec.querySelectorAll('mark.ev[data-ticks]')], 'data-ticks'));
    for (const li of sec.querySelectorAll('li.flag-item')) {
      const a = li.querySelector('a.flag-link');
      s.items.push({flag: li.dataset.flag, check: li.dataset.check, severity: li.dataset.severity,
                    href: a ? a.getAttribute('href') : null});
    }
  }

  // The element with id flag-…: one of that flag's evidence marks, or an anchor in or just before one (two flags
  // quoting the same text share a mark, and one element holds one id). Which of its marks is left to the page:
  // the first in the text, or the flag's own first quote (flags.csv's start).
  const anchors = {};
  for (const id of union(flagMarks, 'data-flags')) {
    const el = document.getElementById(id);
    if (!el) { anchors[id] = 'no element has this id'; continue; }
    const mark = el.closest('mark.ev.flag')
      || flagMarks.find(m => el.compareDocumentPosition(m) & Node.DOCUMENT_POSITION_FOLLOWING);
    const sec = el.closest('section.report');
    anchors[id] = !mark || !tokens(mark, 'data-flags').includes(id) ? 'is not on or just before a mark of this flag'
      : sec ? 'in ' + sec.dataset.file : 'is outside every section.report';
  }

  const ticksShown = new Set(tickMarks.filter(tickGlyph).flatMap(m => tokens(m, 'data-ticks')));
  return {
    lang: document.documentElement.getAttribute('lang'),
    external,
    flagIds: union(flagMarks, 'data-flags'),
    tickIds: union(tickMarks, 'data-ticks'),
    ticksWithoutGlyph: union(tickMarks, 'data-ticks').filter(id => !ticksShown.has(id)),
    flagColours: [...new Set(flagMarks.map(m => colours(m).join('|')))],
    okColours: [...new Set(okMarks.map(m => colours(m).join('|')))],
    sections,
    anchors,
    reportRows: document.querySelectorAll('table#index tr.report-row').length,
    filters: Object.fromEntries(['filter-check', 'filter-severity'].map(id => {
      const sel = document.querySelector(`select#${id}`);
      return [id, sel ? [...sel.options].map(o => o.value) : null];
    })),
    figures: [...document.querySelectorAll('figure.page-image')].map(f => ({
      page: f.dataset.page,
      images: [...f.querySelectorAll('img')].map(i => ({src: i.getAttribute('src').slice(0, 16),
                                                         loaded: i.complete && i.naturalWidth > 0})),
      boxes: f.querySelectorAll('div.box').length,
    })),
  };
}
"""

RECT_JS = """id => { const el = document.getElementById(id); if (!el) return null; const r = el.getBoundingClientRect();
  return {top: r.top, bottom: r.bottom, y: r.top + window.scrollY, height: window.innerHeight}; }"""
VISIBLE_JS = "() => [...document.querySelectorAll('li.flag-item')].map(li => [li.dataset.check, li.checkVisibility()])"


# --------------------------------------------------------------------------- what the CSVs promise


def key(file: str) -> str:
    return hashlib.sha1(file.encode("utf-8")).hexdigest()[:12]


def unguard(cell: str) -> str:
    """The text as the page shows it: without the ' that keeps Excel from running a cell as a formula."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in ("=", "+", "-", "@", "\t", "\r") else cell


@dataclass
class Expected:
    flags: list[dict[str, str]] = field(default_factory=list)  # flags.csv rows, each with its "id"
    ticks: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # file -> placed tick ids
    reports: int = 0

    def placed(self, file: str | None = None) -> set[str]:
        return {f["id"] for f in self.flags if f["start"] and file in (None, f["file"])}

    def files(self) -> set[str]:
        return {f["file"] for f in self.flags if f["start"]} | {file for file, ids in self.ticks.items() if ids}


def expected(out: Path) -> Expected:
    exp = Expected(reports=len(rows(out / "reports.csv")))
    k: dict[str, int] = defaultdict(int)
    for row in rows(out / "flags.csv"):
        k[row["file"]] += 1
        exp.flags.append({**row, "id": f"flag-{key(row['file'])}-{k[row['file']]}"})
    n: dict[str, int] = defaultdict(int)
    for row in rows(out / "checks.csv"):
        if row["result"] == "ok":
            n[row["file"]] += 1
            if row["start"]:
                exp.ticks[row["file"]].add(f"tick-{key(row['file'])}-{n[row['file']]}")
    return exp


# --------------------------------------------------------------------------- runs and the browser


def audit(src: Path, out: Path) -> Path:
    """The real command in its own process, as a user runs it."""
    res = subprocess.run(
        [sys.executable, "-m", "auditor", str(src), "-o", str(out), "--fail-on", "never", "-q"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert (out / "report.html").is_file(), f"the run wrote no report.html; it wrote {sorted(os.listdir(out))}"
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def seeds_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return audit(SEEDS, tmp_path_factory.mktemp("seeds"))


@pytest.fixture(scope="module")
def pdf_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert PDF.is_file()
    return audit(PDF, tmp_path_factory.mktemp("pdf"))


def rgba(colour: str) -> tuple[float, ...]:
    parts = [float(x) for x in re.findall(r"[\d.]+", colour)]
    return (*parts[:3], parts[3] if len(parts) > 3 else 1.0)


def tinted(colours: str, channel: int) -> bool:
    """Some of background, text or underline colour has `channel` (0 red, 1 green) above the other two."""
    for colour in colours.split("|"):
        c = rgba(colour)
        if c[3] > 0 and all(c[channel] > c[i] for i in range(3) if i != channel):
            return True
    return False


def check_page(page: Page, out: Path) -> dict[str, Any]:
    """The page against the run's CSVs; returns what it read for further checks."""
    exp = expected(out)
    got = page.evaluate(SUMMARY_JS)
    assert got["lang"] == "zh-CN"
    assert not got["external"], f"not self-contained: {got['external'][:5]}"

    flag_ids, tick_ids = set(got["flagIds"]), {t for ids in exp.ticks.values() for t in ids}
    assert len(flag_ids) == len(exp.placed()), (
        f"{len(flag_ids)} flags highlighted, flags.csv has {len(exp.placed())} with a place in the text"
    )
    assert flag_ids == exp.placed(), diff(flag_ids, exp.placed())
    assert len(set(got["tickIds"])) == len(tick_ids), (
        f"{len(set(got['tickIds']))} ticks shown, checks.csv has {len(tick_ids)} passed checks with a place"
    )
    assert set(got["tickIds"]) == tick_ids, diff(set(got["tickIds"]), tick_ids)
    assert not got["ticksWithoutGlyph"], f"ticks without ✓: {got['ticksWithoutGlyph'][:5]}"
    assert all(tinted(c, 0) for c in got["flagColours"]), f"flag highlights not red: {got['flagColours']}"
    assert all(tinted(c, 1) for c in got["okColours"]), f"tick highlights not green: {got['okColours']}"

    for fid, where in got["anchors"].items():
        file = next(f["file"] for f in exp.flags if f["id"] == fid)
        assert where == f"in {file}", f"#{fid} {where}"

    sections = got["sections"]
    assert exp.files() <= set(sections), f"no section.report for {exp.files() - set(sections)}"
    for file in {f["file"] for f in exp.flags} | set(sections):
        sec = sections.get(file)
        assert sec is not None, f"no section.report for {file}, which has flags"
        assert set(sec["flags"]) == exp.placed(file), f"flags in {file}: {diff(set(sec['flags']), exp.placed(file))}"
        ticks = exp.ticks.get(file, set())
        assert set(sec["ticks"]) == ticks, f"ticks in {file}: {diff(set(sec['ticks']), ticks)}"
        listed = [(i["flag"], i["check"], i["severity"], i["href"]) for i in sec["items"]]
        want = [(f["id"], f["check"], f["severity"], "#" + f["id"]) for f in exp.flags if f["file"] == file]
        assert listed == want, f"flag list of {file}"

    rows_shown = got["reportRows"]
    assert rows_shown == exp.reports, f"{rows_shown} tr.report-row in table#index, reports.csv has {exp.reports} rows"
    assert got["filters"]["filter-check"] is not None, "no select#filter-check"
    assert {f["check"] for f in exp.flags} <= set(got["filters"]["filter-check"])
    assert got["filters"]["filter-severity"] is not None, "no select#filter-severity"
    return got


def diff(got: set[str], want: set[str]) -> str:
    return f"missing {sorted(want - got)[:5]}, unexpected {sorted(got - want)[:5]}"


def rect(page: Page, fid: str) -> dict[str, float]:
    r = page.evaluate(RECT_JS, fid)
    assert r is not None, f"no element with id {fid}"
    return r


def in_view(r: dict[str, float]) -> bool:
    return r["top"] >= 0 and r["bottom"] <= r["height"]


def click_flag(page: Page, fid: str) -> dict[str, float]:
    """Clicks the flag's link and waits (smooth scrolling allowed) until its evidence is in the viewport."""
    page.locator(f'a.flag-link[href="#{fid}"]').first.click()
    for _ in range(30):
        r = rect(page, fid)
        if in_view(r):
            break
        page.wait_for_timeout(100)
    return r


# --------------------------------------------------------------------------- the tests


def test_seed_page_agrees_with_the_csvs(browser: Browser, seeds_out: Path) -> None:
    with open_page(browser, seeds_out / "report.html") as page:
        got = check_page(page, seeds_out)
    assert got["flagIds"] and got["tickIds"], "the seeds have both flags and passed checks"


def test_clicking_a_flag_scrolls_to_its_evidence_and_shows_it(browser: Browser, seeds_out: Path) -> None:
    exp = expected(seeds_out)
    with open_page(browser, seeds_out / "report.html") as page:
        placed = [f for f in exp.flags if f["start"] and f["stated"] and f["computed"]]
        # Far down the page first; the link itself is scrolled into view, then the evidence must be out of it.
        placed.sort(key=lambda f: -rect(page, f["id"])["y"])
        for flag in placed:
            page.locator(f'a.flag-link[href="#{flag["id"]}"]').first.scroll_into_view_if_needed()
            before = rect(page, flag["id"])
            if before["bottom"] <= 0 or before["top"] >= before["height"]:
                break
        else:
            pytest.fail("every flag's evidence is already in view beside its link: no click to test")
        after = click_flag(page, flag["id"])
        assert in_view(after), f"#{flag['id']} not in the viewport after the click: {after}"
        detail = page.locator("#detail")
        assert detail.is_visible(), "#detail not shown after the click"
        text = detail.inner_text()
        message = unguard(flag["message"])
        assert message in text, f"#detail lacks the message {message!r}: {text!r}"
        rest = text.replace(message, "", 1)  # the message itself quotes both numbers
        for column in ("stated", "computed"):
            assert unguard(flag[column]) in rest, f"#detail lacks the {column} value {flag[column]!r}: {text!r}"

    if os.environ.get("AUDITOR_SCREENSHOTS") == "1":
        save_screenshots(browser, seeds_out)


def save_screenshots(browser: Browser, out: Path) -> None:
    """For the README: the index, and a flagged seed's section after a click on its first flag."""
    DOCS.mkdir(exist_ok=True)
    with open_page(browser, out / "report.html") as page:
        page.locator("#index").scroll_into_view_if_needed()
        page.screenshot(path=str(DOCS / "review-index.png"))
    with open_page(browser, out / "report.html") as page:
        fid = f"flag-{key(SCREENSHOT_SEED)}-1"
        assert in_view(click_flag(page, fid))
        page.wait_for_timeout(300)
        page.screenshot(path=str(DOCS / "review-flag.png"))


def test_check_filter_hides_the_other_checks(browser: Browser, seeds_out: Path) -> None:
    checks = sorted({f["check"] for f in expected(seeds_out).flags})
    assert len(checks) > 1
    with open_page(browser, seeds_out / "report.html") as page:
        before = page.evaluate(VISIBLE_JS)
        assert all(shown for _, shown in before), "a flag-item is hidden before any filter is chosen"
        page.select_option("#filter-check", value=checks[0])
        page.wait_for_timeout(100)
        after = page.evaluate(VISIBLE_JS)
    assert len(after) == len(before)
    assert [c for c, shown in after if shown] == [c for c, _ in before if c == checks[0]], after


def test_no_request_leaves_the_page(browser: Browser, seeds_out: Path) -> None:
    """open_page fails the test on any request but the page's own and data: URLs, after every link and filter."""
    with open_page(browser, seeds_out / "report.html") as page:
        links = page.locator("li.flag-item a.flag-link")
        assert links.count() == len(expected(seeds_out).flags)
        for i in range(links.count()):
            links.nth(i).click()
        for select in ("#filter-check", "#filter-severity"):
            for value in page.eval_on_selector(select, "s => [...s.options].map(o => o.value)"):
                page.select_option(select, value=value)


def test_pdf_page_is_drawn_with_boxes(browser: Browser, pdf_out: Path) -> None:
    assert [f["check"] for f in rows(pdf_out / "flags.csv")], "the PDF run gives flags"
    with open_page(browser, pdf_out / "report.html") as page:
        got = check_page(page, pdf_out)
    drawn = [f for f in got["figures"] if f["boxes"] and f["images"]]
    assert drawn, f"no figure.page-image with an image and a div.box: {got['figures']}"
    for fig in got["figures"]:
        assert fig["page"].isdigit(), fig
        for img in fig["images"]:
            assert img["src"].startswith("data:image/") and img["loaded"], fig
