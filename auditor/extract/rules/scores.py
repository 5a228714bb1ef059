"""Score trees: weights and scores of 一级/二级/三级 items, from prose items and from score tables."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from auditor.extract.rules import Context, register
from auditor.extract.rules.scan import MARKER, NUM, cell_quantity, folded, number
from auditor.extract.rules.scan import style as numbering_style
from auditor.facts import Evidence, Facts, Quantity, ScoreNode, SumClaim
from auditor.layout import Para, Table
from auditor.numbers import fold, parse

_MAX_KW = r"满分|总分|指标分值|分值|权重分|权重|指标共|共"
_SCORE_KW = r"自评得分|自评|实得|评价得分|评价得|得分|得"
_NODE = re.compile(
    rf"(?:(?P<mk>{_MAX_KW})\s*[:：]?\s*(?P<max>{NUM})\s*分|[（(]\s*(?P<max2>{NUM})\s*分\s*[)）])"
    rf"(?:\s*[，,、;；]?\s*(?:(?P<sk>{_SCORE_KW})\s*(?:为)?\s*(?P<score>{NUM})\s*分|(?P<na>本项(?:目)?不扣分)))?"
)
_NA_LATER = re.compile(r"本项(?:目)?不扣分|不适用")
# A weight whose score closes the same clause chain (分值X分，…，…，得分Y分).
_SCORE_LATER = re.compile(rf"^[^。；;]*?(?:{_SCORE_KW})\s*(?:为)?\s*({NUM})\s*分")
# Only a deduction that names no other item (…，扣X分; not …；另一项扣Y分) is this item's.
_DEDUCT_LATER = re.compile(rf"(?:^|[，,。；;])\s*(?:因此|故|共|合计)?扣(?:除)?\s*({NUM})\s*分")


def _clean_name(name: str) -> str:
    name = re.sub(r"^[\s#*]+|[\s*]+$", "", name)
    name = MARKER.sub("", name)
    name = re.sub(r"[\s*]+", "", name)
    name = re.sub(r"[（(：:，,。—-]+$", "", name)
    name = re.sub(r"(情况分析|分析|情况)$", "", name)
    return name.strip("（(：:，,。—- ")


@dataclass
class ProseNode:
    node: ScoreNode
    style: str
    pos: int


def _prose_nodes(paras: list[Para]) -> list[ProseNode]:
    out: list[ProseNode] = []
    for p in paras:
        text = folded(p)
        matches = list(_NODE.finditer(text))
        for k, m in enumerate(matches):
            tail = text[m.end() : matches[k + 1].start() if k + 1 < len(matches) else len(text)]
            later_na = later_score = None
            if not m.group("score") and not m.group("na"):
                # A weight whose score comes later: （满分X分）。…本项不扣分。
                later_score = _SCORE_LATER.search(tail)
                if m.group("mk") not in {"满分", "总分", "分值", "指标分值"}:
                    # A bare (X分) after a name needs its score in the same clause (名称（X分）：…，得Y分).
                    if not (m.group("max2") and later_score is not None and re.match(r"\s*[：:]", tail)):
                        continue
                else:
                    later_na = _NA_LATER.search(tail)
                if later_na is None and later_score is None:
                    continue
            # The name is the clause before the weight; an empty clause means "the heading before".
            clause_start = max((text.rfind(c, 0, m.start()) for c in "。；;，,：:"), default=-1) + 1
            name_part = text[clause_start : m.start()]
            if re.fullmatch(
                r"[\s（(]*|[\s（(]*(?:该项|本项|此项|该部分|本部分|该|本|此)(?:指标|项目)?[\s（(]*", name_part
            ):
                # walk back to the nearest clause that opens with a numbering marker
                pos, name_part = clause_start - 1, ""
                for _ in range(4):
                    if pos <= 0:
                        break
                    prev = max((text.rfind(c, 0, pos) for c in "。；;：:"), default=-1) + 1
                    cand = text[prev:pos]
                    if MARKER.match(cand) or prev == 0:
                        name_part = cand
                        clause_start = prev
                        break
                    pos = prev - 1
            mk = MARKER.match(text[clause_start:])
            style = numbering_style(mk.group("m")) if mk else "none"
            if style == "none" and k > 0 and "其中" in text[matches[0].end() : m.start()]:
                style = "qz"  # items after 其中 nest under the scored item before it
            name = _clean_name(name_part)
            if (m.group("mk") or "").startswith("指标") and name and not name.endswith("指标"):
                name += "指标"  # 名称指标分值X分: the keyword took the name's last word
            if m.group("mk") == "共" and not name_part.rstrip().endswith("指标"):
                continue
            if not name:
                continue
            max_t = m.group("max") or m.group("max2")
            vm, dm = parse(max_t)  # type: ignore[misc]
            s0, e0 = p.doc_span(clause_start, m.end())
            ev = Evidence(quote="", start=s0, end=e0)
            max_q = Quantity(value=vm, unit="分", text=max_t, decimals=dm, evidence=ev, label="分值")
            if later_score is not None and later_na is None:
                vs, ds = parse(later_score.group(1))  # type: ignore[misc]
                ls0, le0 = p.doc_span(m.end() + later_score.start(), m.end() + later_score.end())
                score_q = number(later_score.group(1), "分", ls0, le0, "得分")
                na = False
            elif m.group("na") or later_na is not None:
                score_q = Quantity(value=vm, unit="分", text=max_t, decimals=dm, evidence=ev, label="本项不扣分")
                na = True
            else:
                vs, ds = parse(m.group("score"))  # type: ignore[misc]
                score_q = Quantity(value=vs, unit="分", text=m.group("score"), decimals=ds, evidence=ev, label="得分")
                na = False
            deduction = None
            found_d = list(_DEDUCT_LATER.finditer(tail))
            # Several deductions for one item ("扣1分 … 扣0.5分") have a total no sentence writes: leave it.
            d = found_d[0] if len(found_d) == 1 else None
            if d is not None:
                ds0, de0 = p.doc_span(m.end() + d.start(), m.end() + d.end())
                deduction = number(d.group(1), "分", ds0, de0, "扣分")
            out.append(
                ProseNode(
                    ScoreNode(
                        name=name,
                        max_score=max_q,
                        score=score_q,
                        deduction=deduction,
                        not_applicable=na,
                        source="prose",
                    ),
                    style,
                    s0,
                )
            )
    return out


def _full(node: ScoreNode) -> bool:
    """True when the children's weights already add up to the node's weight."""
    if not node.children or node.max_score is None:
        return False
    kids = [c.max_score.value for c in node.children if c.max_score is not None]
    return len(kids) == len(node.children) and sum(kids) == node.max_score.value


def _bigger(node: ScoreNode, parent: ScoreNode) -> bool:
    """A child never weighs more than its parent."""
    return node.max_score is not None and parent.max_score is not None and node.max_score.value > parent.max_score.value


def _room(node: ScoreNode, child: ScoreNode) -> bool:
    if node.max_score is None or child.max_score is None:
        return False
    used = sum((c.max_score.value for c in node.children if c.max_score is not None), Decimal(0))
    return used + child.max_score.value <= node.max_score.value


def build_tree(items: list[ProseNode]) -> list[ScoreNode]:
    """Nest prose score items by numbering style; the weights settle what the numbering leaves open.

    Reports mix numbering styles ("（3）" under "2." when it means "3."), so a parent whose
    children already fill its weight takes no more children, and an unfilled parent keeps a
    same-styled follower that fits inside it.
    """
    roots: list[ScoreNode] = []
    stack: list[tuple[ScoreNode, str]] = []
    for item in items:
        node, style = item.node, item.style
        styles = [s for _, s in stack]
        if style in styles:
            idx = len(styles) - 1 - styles[::-1].index(style)
            same = stack[idx][0]
            if same.children and not _full(same) and _room(same, node) and style != "none":
                del stack[idx + 1 :]
            else:
                del stack[idx:]
        while stack and (_full(stack[-1][0]) or _bigger(node, stack[-1][0])):
            stack.pop()
        node.level = len(stack) + 1
        (stack[-1][0].children if stack else roots).append(node)
        stack.append((node, style))
    return roots


# ----------------------------------------------------------------------------- tables

_LEVEL_HDR = {"一级指标": 1, "二级指标": 2, "三级指标": 3}


def _is_header(texts: list[str]) -> bool:
    joined = "".join(texts)
    return bool(re.search(r"[一二三]级指标", joined)) and any(re.search(r"分值|权重|得分", t) for t in texts)


def _inline_max(text: str) -> tuple[str, str | None]:
    m = re.search(rf"[（(]\s*({NUM})\s*分\s*[)）]\s*$", fold(text))
    if not m:
        return text, None
    return text[: m.start()].strip(), m.group(1)


def _leaves(nodes: list[ScoreNode]) -> list[ScoreNode]:
    out: list[ScoreNode] = []
    for n in nodes:
        out.extend(_leaves(n.children) if n.children else [n])
    return out


def _total_sums(
    label: str, total_max: Quantity | None, total_score: Quantity | None, groups: list[ScoreNode]
) -> list[SumClaim]:
    """A 合计 row against the leaves of the first-level items its table listed."""
    out: list[SumClaim] = []
    for total, what in ((total_max, "max_score"), (total_score, "score")):
        # Each group counts with its own stated figure (a 小计) when it has one, else with its items'.
        parts = [
            q
            for g in groups
            for q in ([getattr(g, what)] if getattr(g, what) else [getattr(leaf, what) for leaf in _leaves([g])])
        ]
        if total is not None and len(parts) >= 2 and all(q is not None for q in parts):
            name = "分值" if what == "max_score" else "得分"
            out.append(SumClaim(label=f"评分表{label}{name}", total=total, parts=parts, exhaustive=True))
    return out


def _score_tables(tables: list[Table]) -> tuple[list[ScoreNode], list[SumClaim]]:
    """Score trees from tables with 一级/二级/三级指标 columns; also their 合计 rows as sums."""
    roots: list[ScoreNode] = []
    totals: list[SumClaim] = []
    for t in tables:
        roles: list[str] | None = None
        prev_hdr: list[str] | None = None
        fill: dict[int, ScoreNode] = {}
        groups: list[ScoreNode] = []  # first-level items this table lists, for its 合计 row
        indicator_style = False
        for r in t.rows:
            texts = [fold(x) for x in r.texts]
            if _is_header(texts):
                roles = _roles(texts, prev_hdr)
                prev_hdr = texts
                # In a 自评表 with 指标值 columns the 总分 row also counts 预算执行率 etc. stated elsewhere.
                indicator_style = any("指标值" in x for x in texts)
                continue
            prev_hdr = texts if roles is None else prev_hdr
            if roles is None:
                continue
            cells = list(r.cells)
            first = next((i for i, x in enumerate(texts) if x.strip()), None)
            if first is None:
                continue
            if texts[first].strip() in {"合计", "总计", "总分"}:
                cells = cells[first:]
                row = {roles[i]: cells[i] for i in range(min(len(roles), len(cells)))}
                mx = [c for role, c in row.items() if role.startswith("max")]
                mq = cell_quantity(mx[0], "合计分值", cells[0], default_unit="分") if mx else None
                sq = cell_quantity(row["score"], "合计得分", cells[0], default_unit="分") if "score" in row else None
                if not indicator_style:
                    totals.extend(_total_sums(texts[first].strip(), mq, sq, groups))
                groups = []
                continue
            row = {roles[i]: cells[i] for i in range(min(len(roles), len(cells)))}
            sub = next((roles[i] for i in range(min(len(roles), len(texts))) if texts[i].strip() == "小计"), None)
            if sub is not None:
                # 小计 in a deeper level column sums the group above it: it states that group's weight and score.
                parent = fill.get(int(sub[1]) - 1) if sub.startswith("L") and sub[1:].isdigit() else None
                if parent is not None:
                    if parent.max_score is None and "max" in row:
                        parent.max_score = cell_quantity(row["max"], "小计分值", cells[first], default_unit="分")
                    if parent.score is None and "score" in row:
                        parent.score = cell_quantity(row["score"], "小计得分", cells[first], default_unit="分")
                continue
            path: list[ScoreNode] = []
            for level in (1, 2, 3):
                key = f"L{level}"
                if key not in row:
                    continue
                raw = row[key].text.strip()
                if raw in {"—", "-", "－", "/", "／", "无", "——"}:
                    # A — in a level column: the row states its first-level item's own weight and score.
                    for deeper in range(level, 4):
                        fill.pop(deeper, None)
                    break
                if not raw:
                    node = fill.get(level)
                    if node is None:
                        continue
                    path.append(node)
                    continue
                name, inline = _inline_max(raw)
                name = re.sub(r"\s+", "", name)
                parent_list = path[-1].children if path else roots
                node = next((c for c in parent_list if c.name == name), None)
                if node is None:
                    node = ScoreNode(name=name, level=level, source="table")
                    parent_list.append(node)
                if inline and node.max_score is None:
                    node.max_score = number(inline, "分", row[key].start, row[key].end, "分值")
                mk = f"max{level}"
                if mk in row and node.max_score is None:
                    node.max_score = cell_quantity(row[mk], "分值", row[key], default_unit="分")
                sk = f"score{level}"
                if sk in row and node.score is None:
                    node.score = cell_quantity(row[sk], "得分", row[key], default_unit="分")
                fill[level] = node
                for deeper in range(level + 1, 4):
                    fill.pop(deeper, None)
                path.append(node)
            if not path:
                continue
            if not any(g is path[0] for g in groups):
                groups.append(path[0])
            leaf = path[-1]
            if "max" in row and leaf.max_score is None:
                leaf.max_score = cell_quantity(row["max"], "分值", row.get(f"L{leaf.level}"), default_unit="分")
            if "score" in row and leaf.score is None:
                leaf.score = cell_quantity(row["score"], "得分", row.get(f"L{leaf.level}"), default_unit="分")
            if "deduction" in row and leaf.deduction is None:
                leaf.deduction = cell_quantity(row["deduction"], "扣分", row.get(f"L{leaf.level}"), default_unit="分")
    return roots, totals


def _roles(texts: list[str], prev: list[str] | None) -> list[str]:
    while texts and not texts[-1].strip():
        texts = texts[:-1]
    roles: list[str] = []
    last_level = 0
    for t in texts:
        t = re.sub(r"\s+", "", t)
        if t in _LEVEL_HDR or (any(k in t for k in _LEVEL_HDR) and len(t) <= 6):
            last_level = next(v for k, v in _LEVEL_HDR.items() if k in t)
            roles.append(f"L{last_level}")
        elif re.search(r"扣分", t) and not re.search(r"原因|说明|理由|依据", t):
            roles.append("deduction")
        elif re.search(r"得分", t) and not re.search(r"得分率|率", t):
            roles.append("score")
        elif re.search(r"评分分值|分值|满分", t):
            roles.append(
                f"max{last_level}"
                if last_level and roles and roles[-1] == f"L{last_level}" and "L3" not in roles
                else "max"
            )
        else:
            roles.append("")
    if "score" not in roles and prev:
        # A two-row header: the first row's lead cell spans the level columns of the second.
        extra = _roles(prev[1:], None)
        roles = roles + extra
    # A 权重 column is a percentage; the 评分分值 next to it is the weight in points.
    if "max" not in roles and f"max{last_level}" in roles and last_level == 1:
        roles = ["max" if r == "max1" else r for r in roles]
    # "一级指标 分值 得分 二级指标 分值 得分": a score column before a deeper level column is that level's.
    level = 0
    for i, r in enumerate(roles):
        if r.startswith("L"):
            level = int(r[1:])
        elif r in {"score", "max"} and level and any(x.startswith("L") for x in roles[i + 1 :]):
            roles[i] = f"{r}{level}"
    return roles


def prose_items(ctx: Context) -> list[ProseNode]:
    """The prose score items of a Unit, read once and shared with the ratings reader."""
    return ctx.once("scores.prose_items", lambda: _prose_nodes(ctx.paras))


@register("scores.prose")
def prose_scores(ctx: Context) -> Facts:
    """Score items stated in prose (分值X分，得分Y分), nested by their numbering."""
    return Facts(scores=build_tree(prose_items(ctx)))


@register("scores.table")
def table_scores(ctx: Context) -> Facts:
    """Score tables with 一级/二级/三级指标 columns, and their 合计 rows as sums."""
    roots, totals = _score_tables(ctx.tables)
    return Facts(scores=roots, sums=totals)
