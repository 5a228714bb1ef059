"""The review page: report.html, one self-contained page (no network) where every flag's evidence is highlighted
in the report's own text, every passed check is ticked, and a PDF's evidence pages are shown with boxes.

Built in two steps so a long batch stays cheap: each worker keeps a view of its file (text, Unit spans, evidence
page images), the run names every row of it (flag and tick ids) as the file's rows are written, and the page is
assembled from those views when the run finishes."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import time
import urllib.parse
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from auditor.documents import Document, page_images
from auditor.flags import Flag, Result

# A text longer than this is shown as excerpts around its evidence: a report is a few hundred thousand
# characters at most; a 30 MB dump would make a page no browser opens.
WHOLE_TEXT = 1_000_000
_CONTEXT = 1500

SEVERITY_ZH = {"error": "错误", "warning": "警告", "info": "提示"}
STATUS_ZH = {"flagged": "有问题", "failed": "失败", "unchecked": "未核对", "ok": "通过"}
_STATUS_RANK = {"flagged": 0, "failed": 1, "unchecked": 2, "ok": 3}


def file_key(name: str) -> str:
    """The short id of a file in the page's anchors (flag-<key>-<k>): the same for a name in every run."""
    # 48 bits: two of ten thousand files collide once in ~30 million batches.
    return hashlib.sha1(name.encode("utf-8", "surrogatepass")).hexdigest()[:12]


# --------------------------------------------------------------------------- in the worker


def file_view(doc: Document, units: Sequence[tuple[str, int, int]], rows: Iterable[Flag]) -> dict[str, Any]:
    """What the page needs of one file that the CSVs do not hold: its text, its Units' spans and, for a PDF, the
    pages that hold a flag's evidence drawn with boxes around the quotes."""
    t0 = time.perf_counter()
    wanted: dict[int, list[str]] = {}
    if doc.page_starts:
        for f in rows:
            if f.result != Result.FLAG:
                continue
            for q in f.quotes:
                if q.start is None or q.end is None or not q.text.strip():
                    continue
                first, last = doc.page_of(q.start) or 1, doc.page_of(max(q.start, q.end - 1)) or 1
                for page in range(first, last + 1):
                    wanted.setdefault(page, []).append(q.text)
    pages = [
        {
            "page": img.page,
            "image": base64.b64encode(img.image).decode("ascii"),
            "mime": img.mime,
            "width": img.width,
            "height": img.height,
            "boxes": {q: [list(b) for b in bs] for q, bs in img.boxes.items()},
        }
        for img in (page_images(doc.path, wanted) if wanted else [])
    ]
    return {
        "kind": doc.kind,
        "path": str(Path(doc.path).resolve()),
        "text": doc.text,
        "units": [list(u) for u in units],
        "pages": pages,
        "seconds": time.perf_counter() - t0,
    }


# --------------------------------------------------------------------------- as the rows are written


def named_rows(file: str, checks: Sequence[Flag]) -> tuple[list[dict[str, Any]], list[str | None]]:
    """Every row of one file as the page shows it, and the anchor of each row in `checks` (None for a tick or a
    dismissed flag): flag k of the file is flag-<key>-<k> in flags.csv order, tick n is tick-<key>-<n> among
    its checks.csv rows that hold."""
    key = file_key(file)
    shown, anchors = [], []
    k = n = 0
    for f in checks:
        if f.flagged:
            k += 1
            row_id, kind = f"flag-{key}-{k}", "flag"
            anchors.append(row_id)
        elif f.result == Result.OK:
            n += 1
            row_id, kind = f"tick-{key}-{n}", "ok"
            anchors.append(None)
        else:
            anchors.append(None)
            continue  # dismissed by the reviewer: left out of the page as it is of flags.csv
        shown.append({"id": row_id, "kind": kind, **f.record()})
    return shown, anchors


def view_path(folder: Path, file: str) -> Path:
    return folder / f"{file_key(file)}.json"


def save_view(folder: Path, file: str, view: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """Keep one file's view and named rows until the page is assembled (and for a later --resume)."""
    data = dict(view, file=file, rows=rows)
    path = view_path(folder, file)
    tmp = path.with_name(f".{path.name}.tmp")
    # surrogatepass: a file name that is not UTF-8 keeps its bytes through the view (os.fsdecode's escapes).
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8", errors="surrogatepass")
    os.replace(tmp, path)


def load_view(folder: Path, file: str) -> dict[str, Any] | None:
    try:
        data = json.loads(view_path(folder, file).read_text(encoding="utf-8", errors="surrogatepass"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("file") == file else None


# --------------------------------------------------------------------------- when the run finishes


def write_page(
    target: Path, order: Sequence[str], reports: Sequence[dict[str, str]], views: Path, dismissed: int = 0
) -> float:
    """Write report.html (to `target`, beside the CSVs) for the files of `order` from their reports.csv rows and
    saved views; returns the seconds the workers spent drawing evidence pages, so the caller can tell what the
    whole page cost."""
    passed: dict[tuple[str, str], int] = {}
    checks_of: dict[str, set[str]] = {}
    severities_of: dict[str, set[str]] = {}
    drawn = 0.0
    have: list[str] = []
    for name in order:
        view = load_view(views, name)
        if view is None:
            continue
        try:
            drawn += float(view.get("seconds") or 0.0)
            for r in view["rows"]:
                if r["kind"] == "ok":
                    passed[(name, r["unit"])] = passed.get((name, r["unit"]), 0) + 1
                else:
                    checks_of.setdefault(name, set()).add(r["check"])
                    severities_of.setdefault(name, set()).add(r["severity"])
        except (KeyError, TypeError, ValueError, AttributeError):
            continue  # a damaged view: the file keeps its index row, without a section
        have.append(name)
    with target.open("w", encoding="utf-8", errors="replace") as out:
        out.write(_head(reports, dismissed))
        out.write(_index(reports, passed, checks_of, severities_of))
        out.write('<main id="reports">\n')
        for name in have:
            view = load_view(views, name)
            if view is None:
                continue
            try:
                section = "".join(_section(name, view, target.parent))
            except (KeyError, TypeError, ValueError, AttributeError, IndexError):
                section = f'<section class="report" data-file="{_e(name)}"><h2>{_e(name)}</h2>' + (
                    '<p class="none">本文件的复核视图已损坏，无法显示；请查看 flags.csv。</p></section>\n'
                )
            out.write(section)
        out.write("</main>\n")
        out.write(_DETAIL + "<script>" + _SCRIPT + "</script>\n</body>\n</html>\n")
    return drawn


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _head(reports: Sequence[dict[str, str]], dismissed: int) -> str:
    counts = {s: sum(r.get("status") == s for r in reports) for s in STATUS_ZH}
    summary = "，".join(f"{STATUS_ZH[s]} {counts[s]} 份" for s in ("flagged", "failed", "unchecked", "ok"))
    left_out = f"；按复核底稿排除 {dismissed} 条已排除的问题" if dismissed else ""
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        # Nothing may leave the page: it is opened from USB sticks on machines with no network.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
        f"<title>审核复核页面</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<header><h1>绩效自评报告审核结果</h1><p>共 {len(reports)} 份报告：{summary}{left_out}。"
        "红色为问题的证据，绿色 ✓ 为核对通过的数字，其余数字未核对。</p>\n"
    )


def _index(
    reports: Sequence[dict[str, str]],
    passed: dict[tuple[str, str], int],
    checks_of: dict[str, set[str]],
    severities_of: dict[str, set[str]],
) -> str:
    all_checks = sorted({c for cs in checks_of.values() for c in cs})
    options = "".join(f'<option value="{_e(c)}">{_e(c)}</option>' for c in all_checks)
    parts = [
        '<div class="filters"><label>检查 <select id="filter-check"><option value="">全部</option>',
        options,
        '</select></label> <label>严重程度 <select id="filter-severity"><option value="">全部</option>',
        "".join(f'<option value="{s}">{z}</option>' for s, z in SEVERITY_ZH.items()),
        "</select></label></div>\n</header>\n",
        '<table id="index"><thead><tr><th>文件</th><th>报告</th><th>状态</th><th>错误</th><th>警告</th>'
        "<th>核对通过</th><th>说明</th></tr></thead><tbody>\n",
    ]
    ranked = sorted(enumerate(reports), key=lambda ir: (_STATUS_RANK.get(ir[1].get("status", ""), 9), ir[0]))
    for _, r in ranked:
        name = r.get("file", "")  # the caller gives the file as named (report.finish undoes the CSV's guard)
        status = r.get("status", "")
        key = file_key(name)
        unit = _unguarded(r.get("unit", ""))
        ok = passed.get((name, unit), 0)
        link = f'<a href="#file-{key}">{_e(name)}</a>' if name in checks_of or ok or status != "failed" else _e(name)
        parts.append(
            f'<tr class="report-row status-{_e(status)}" data-status="{_e(status)}" '
            f'data-checks="{_e(" ".join(sorted(checks_of.get(name, ()))))}" '
            f'data-severities="{_e(" ".join(sorted(severities_of.get(name, ()))))}">'
            f"<td>{link}</td><td>{_e(unit)}</td>"
            f'<td class="status">{_e(STATUS_ZH.get(status, status))}</td><td>{_e(r.get("errors", ""))}</td>'
            f"<td>{_e(r.get('warnings', ''))}</td><td>{ok if status != 'failed' else ''}</td>"
            f"<td>{_e(r.get('detail', ''))}</td></tr>\n"
        )
    parts.append("</tbody></table>\n")
    return "".join(parts)


def _unguarded(cell: str) -> str:
    # The CSVs guard a cell Excel would run as a formula with '; the page shows the text itself.
    return cell[1:] if cell[:1] == "'" and cell[1:2] in ("=", "+", "-", "@", "\t", "\r") else cell


def _section(name: str, view: dict[str, Any], out_dir: Path) -> Iterator[str]:
    key = file_key(name)
    rows = view["rows"]
    flags = [r for r in rows if r["kind"] == "flag"]
    open_ = " open" if flags else ""
    yield f'<section class="report" id="file-{key}" data-file="{_e(name)}">\n<h2>{_e(name)}</h2>\n'
    source = _source_link(view.get("path", ""), out_dir)
    if flags:
        yield '<ol class="flags">\n'
        for r in flags:
            yield _flag_item(r, view, source)
        yield "</ol>\n"
    else:
        yield '<p class="none">本文件没有发现问题。</p>\n'
    if view.get("pages"):
        yield '<div class="pages">\n'
        for p in view["pages"]:
            yield _figure(key, p, flags)
        yield "</div>\n"
    yield f'<details class="body"{open_}><summary>报告全文</summary>\n<div class="text">'
    yield from _marked_text(view["text"], view.get("units", []), rows, key)
    yield "</div>\n</details>\n</section>\n"


def _source_link(path: str, out_dir: Path) -> str:
    """A link from the page to the file itself, relative so the output folder and the reports can move together."""
    if not path:
        return ""
    try:
        rel = os.path.relpath(path, out_dir)
    except ValueError:  # another drive on Windows
        return html.escape(Path(path).as_uri())
    # Percent-encoded from the name's bytes, so a name that is not UTF-8 still links to its file.
    return urllib.parse.quote(os.fsencode(Path(rel).as_posix()))


def _flag_item(r: dict[str, Any], view: dict[str, Any], source: str) -> str:
    pages = sorted({q["page"] for q in r["quotes"] if q["page"]})
    goto = "".join(
        f' <a class="goto-page" href="#page-{r["id"].split("-")[1]}-{p}">第{p}页图像</a>'
        for p in pages
        if any(pg["page"] == p for pg in view.get("pages", []))
    )
    if source and view.get("kind") == "pdf" and pages:
        goto += f' <a class="open-pdf" href="{source}#page={pages[0]}">在PDF中打开第{pages[0]}页</a>'
    numbers = "".join(
        f'<span class="num"><b>{label}</b> {_e(r[field])}</span>'
        for label, field in (("报告所写", "stated"), ("核算结果", "computed"), ("差额", "difference"))
        if r[field]
    )
    formula = f'<div class="formula"><b>公式</b> {_e(r["formula"])}</div>' if r["formula"] else ""
    where = f'<div class="where"><b>位置</b> {_e(r["location"])}{goto}</div>' if r["location"] or goto else ""
    return (
        f'<li class="flag-item sev-{_e(r["severity"])}" data-flag="{r["id"]}" data-check="{_e(r["check"])}" '
        f'data-severity="{_e(r["severity"])}">'
        f'<a class="flag-link" href="#{r["id"]}"><span class="sev">{SEVERITY_ZH.get(r["severity"], "")}</span> '
        f"<code>{_e(r['check'])}</code> {_e(r['message'])}</a>"
        f'<div class="info"><div class="message">{_e(r["message"])}</div><div class="unit"><b>报告</b> {_e(r["unit"])}'
        f"</div><div>{numbers}</div>{formula}{where}</div></li>\n"
    )


def _figure(key: str, page: dict[str, Any], flags: list[dict[str, Any]]) -> str:
    boxes = []
    for r in flags:
        for q in r["quotes"]:
            if q["page"] is None:
                continue
            for x0, y0, x1, y1 in page["boxes"].get(q["text"], []):
                boxes.append(
                    f'<div class="box" data-flags="{r["id"]}" style="left:{x0 * 100:.2f}%;top:{y0 * 100:.2f}%;'
                    f'width:{(x1 - x0) * 100:.2f}%;height:{(y1 - y0) * 100:.2f}%"></div>'
                )
    return (
        f'<figure class="page-image" id="page-{key}-{page["page"]}" data-page="{page["page"]}">'
        f'<div class="sheet"><img alt="第{page["page"]}页" width="{page["width"]}" height="{page["height"]}" '
        f'src="data:{page.get("mime", "image/png")};base64,{page["image"]}">{"".join(boxes)}</div>'
        f"<figcaption>第{page['page']}页</figcaption></figure>\n"
    )


def _marked_text(text: str, units: list[list[Any]], rows: list[dict[str, Any]], key: str) -> Iterator[str]:
    """The text with a mark on every stretch some row quotes: red where a flag does (the flag's anchor before its
    first quote), green with a ✓ at its end where only passed checks do. Stretches are cut at every quote's ends,
    so overlapping quotes each keep their ids."""
    n = len(text)
    events: dict[int, list[tuple[str, str]]] = {}  # offset → ("+"/"-", id)
    anchors: dict[int, list[str]] = {}
    for r in rows:
        spans = [(q["start"], q["end"]) for q in r["quotes"] if q["start"] is not None and q["end"] is not None]
        placed = [(a, b) for a, b in spans if 0 <= a < b <= n]
        for a, b in placed:
            events.setdefault(a, []).append(("+", r["id"]))
            events.setdefault(b, []).append(("-", r["id"]))
        if r["kind"] == "flag" and placed:
            anchors.setdefault(placed[0][0], []).append(r["id"])
    for i, (title, start, _end) in enumerate(units, 1):
        anchors.setdefault(start, []).append(f"unit:{i}:{title}")
    cuts = sorted({0, n, *events, *anchors})
    windows = _windows(n, rows) if n > WHOLE_TEXT else [(0, n)]
    active: dict[str, int] = {}
    w = shown = 0
    for a, b in zip(cuts, [*cuts[1:], n], strict=False):
        for sign, row_id in events.get(a, ()):
            if sign == "+":
                active[row_id] = active.get(row_id, 0) + 1
            elif active.get(row_id, 0) > 1:
                active[row_id] -= 1
            else:
                active.pop(row_id, None)
        for anchor in anchors.get(a, ()):
            if anchor.startswith("unit:"):
                _, i, title = anchor.split(":", 2)
                yield f'<span class="unit-start" id="unit-{key}-{i}" title="{_e(title)}"></span>'
            else:
                yield f'<a class="anchor" id="{anchor}"></a>'
        if a >= b:
            continue
        flags = [i for i in active if i.startswith("flag-")]
        ticks = [i for i in active if i.startswith("tick-")]
        ending = [i for sign, i in events.get(b, ()) if sign == "-" and i.startswith("tick-") and i in active]
        while w < len(windows) and windows[w][1] <= a:
            w += 1
        while w < len(windows) and windows[w][0] < b:
            lo, hi = max(a, windows[w][0]), min(b, windows[w][1])
            if lo > shown:
                yield f'<span class="gap">…（略去{lo - shown}字）…</span>'
            piece = _e(text[lo:hi])
            if flags:
                extra = f' data-ticks="{" ".join(ticks)}"' if ticks else ""
                yield f'<mark class="ev flag" data-flags="{" ".join(flags)}"{extra}>{piece}</mark>'
            elif ticks:
                yield f'<mark class="ev ok" data-ticks="{" ".join(ticks)}">{piece}</mark>'
            else:
                yield piece
            if ending and hi == b:
                yield '<span class="tick" aria-hidden="true">✓</span>'
            shown = hi
            if windows[w][1] > b:
                break
            w += 1
    if shown < n:
        yield f'<span class="gap">…（略去{n - shown}字）…</span>'


def _windows(n: int, rows: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """Stretches of a text too long to show whole: the neighbourhood of every quote, merged."""
    spans = sorted(
        (max(0, q["start"] - _CONTEXT), min(n, q["end"] + _CONTEXT))
        for r in rows
        for q in r["quotes"]
        if q["start"] is not None and q["end"] is not None
    )
    merged: list[tuple[int, int]] = []
    for a, b in spans or [(0, min(n, 2 * _CONTEXT))]:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


_DETAIL = (
    '<aside id="detail" hidden><button type="button" id="detail-close" aria-label="关闭">×</button>'
    '<div id="detail-body"></div></aside>\n'
)

_STYLE = """
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC",sans-serif;margin:0 auto;max-width:1200px;
padding:0 16px 40vh;color:#222;line-height:1.6}
h1{font-size:22px;margin:16px 0 4px}h2{font-size:18px;border-top:2px solid #ccc;padding-top:12px;margin-top:32px}
.filters{margin:8px 0}select{font-size:14px;margin-right:12px}
#index{border-collapse:collapse;width:100%;font-size:14px}#index th,#index td{border:1px solid #ddd;padding:3px 6px;
text-align:left;vertical-align:top}#index th{background:#f3f3f3;position:sticky;top:0}
.status-flagged .status{color:#b00020;font-weight:bold}.status-failed .status{color:#8a5a00;font-weight:bold}
.status-ok .status{color:#1b7e34}.status-unchecked .status{color:#666}
ol.flags{padding-left:24px}li.flag-item{margin:6px 0}li.flag-item .info{display:none}
a.flag-link{color:#222;text-decoration:none}a.flag-link:hover{text-decoration:underline}
.sev{display:inline-block;padding:0 6px;border-radius:3px;color:#fff;background:#b00020;font-size:12px}
.sev-warning .sev{background:#c77700}.sev-info .sev{background:#607d8b}
li.flag-item.current a.flag-link{font-weight:bold}
.text{white-space:pre-wrap;font-size:14px;border:1px solid #eee;padding:8px;background:#fcfcfc}
mark.ev.flag{background:#ffd6d6;border-bottom:2px solid #d00;color:inherit;cursor:pointer}
mark.ev.ok{background:#dcf5df;color:inherit}
mark.ev.flag.current{background:#ff8a8a;outline:2px solid #d00}
.tick{color:#1b7e34;font-weight:bold;font-size:12px}
.gap{color:#888;display:block;margin:6px 0}
.pages{display:flex;flex-wrap:wrap;gap:12px}.page-image{margin:0}
.sheet{position:relative;display:inline-block;border:1px solid #ccc}.sheet img{display:block;max-width:560px;
height:auto}.box{position:absolute;border:2px solid #d00;background:rgba(255,0,0,.08)}
.box.current{border-width:3px;background:rgba(255,0,0,.25)}figcaption{font-size:12px;color:#666}
#detail{position:fixed;right:16px;bottom:16px;width:420px;max-height:45vh;overflow:auto;background:#fff;
border:2px solid #b00020;border-radius:6px;padding:10px 14px;box-shadow:0 4px 16px rgba(0,0,0,.2);font-size:14px}
#detail .info{display:block}#detail-close{float:right;border:0;background:none;font-size:20px;cursor:pointer}
.num{margin-right:14px}.formula,.where,.unit{margin-top:2px}.message{font-weight:bold}
[hidden]{display:none !important}
"""

_SCRIPT = """
(function(){
  var detail=document.getElementById('detail'),body=document.getElementById('detail-body');
  function clear(){document.querySelectorAll('.current').forEach(function(e){e.classList.remove('current');});}
  function show(id,scroll){
    var item=document.querySelector('li.flag-item[data-flag="'+id+'"]'),anchor=document.getElementById(id);
    if(!item){return;}
    clear();item.classList.add('current');
    document.querySelectorAll('[data-flags~="'+id+'"]').forEach(function(e){e.classList.add('current');});
    var info=item.querySelector('.info');body.innerHTML='';body.appendChild(info.cloneNode(true));detail.hidden=false;
    var target=anchor?(anchor.nextElementSibling&&anchor.nextElementSibling.matches('mark')?
      anchor.nextElementSibling:anchor):item;
    var box=target.closest('details');if(box){box.open=true;}
    if(scroll){target.scrollIntoView({block:'center'});}
  }
  document.addEventListener('click',function(ev){
    var link=ev.target.closest('a.flag-link');
    if(link){ev.preventDefault();var id=link.getAttribute('href').slice(1);history.replaceState(null,'','#'+id);
      show(id,true);return;}
    var mark=ev.target.closest('mark.ev.flag,.box');
    if(mark){show(mark.getAttribute('data-flags').split(' ')[0],false);}
  });
  document.getElementById('detail-close').addEventListener('click',function(){detail.hidden=true;clear();});
  function filter(){
    var c=document.getElementById('filter-check').value,s=document.getElementById('filter-severity').value;
    document.querySelectorAll('li.flag-item').forEach(function(li){
      li.hidden=(c&&li.dataset.check!==c)||(s&&li.dataset.severity!==s);});
    document.querySelectorAll('tr.report-row').forEach(function(tr){
      var cs=tr.dataset.checks.split(' '),ss=tr.dataset.severities.split(' ');
      tr.hidden=(c&&cs.indexOf(c)<0)||(s&&ss.indexOf(s)<0);});
  }
  document.getElementById('filter-check').addEventListener('change',filter);
  document.getElementById('filter-severity').addEventListener('change',filter);
  function fromHash(){var id=decodeURIComponent(location.hash.slice(1));if(id.indexOf('flag-')===0){show(id,true);}}
  window.addEventListener('hashchange',fromHash);
  if(location.hash){fromHash();}
})();
"""
