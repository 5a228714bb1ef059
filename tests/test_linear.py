"""Cost grows linearly with the input: a big file or a huge paragraph takes time in proportion to its size.

Ratios against a small input of the same kind, never absolute seconds, so a slow CI machine passes too.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

from auditor.checks import run_checks
from auditor.documents import load
from auditor.extract.rules import RulesExtractor, context
from auditor.grounding import ground
from auditor.units import split

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"

_SENTENCES = [
    "项目年初预算数为{a}万元，全年执行数为{b}万元，执行率为{r}%，其中：人员经费{c}万元，公用经费{d}万元。",
    "本年度共完成培训{n}人次，较上年增长{p}%，满意度达到{s}%；",
    "全年下达资金{a}万元，实际支出{b}万元，结余{e}万元，资金到位率100%。",
    "项目自评得分{s}分，评价等级为“优”，完成指标{n}项，未完成{m}项！",
]
_FILLER = [
    "本项目围绕年度绩效目标，加强组织领导，完善管理制度，确保资金使用规范、安全、有效。",
    "通过开展绩效自评，进一步增强了预算单位的绩效意识和责任意识",
    "下一步将继续加强项目管理，提高资金使用效益，推动各项工作落到实处。",
    "一、项目基本情况",
    "（二）绩效目标完成情况分析",
]


def paragraph(size: int, seed: int = 1) -> str:
    """One paragraph (no line break) of report sentences with varying numbers, `size` bytes of UTF-8."""
    rnd = random.Random(seed)
    parts, n = [], 0
    while n < size:
        a = rnd.randint(100, 99999) / 100
        b = round(a * rnd.uniform(0.6, 1.0), 2)
        s = _SENTENCES[rnd.randrange(len(_SENTENCES))].format(
            a=f"{a:.2f}",
            b=f"{b:.2f}",
            c=f"{b / 2:.2f}",
            d=f"{b - b / 2:.2f}",
            e=f"{a - b:.2f}",
            r=f"{b / a * 100:.2f}",
            n=rnd.randint(1, 5000),
            m=rnd.randint(0, 9),
            p=rnd.randint(1, 60),
            s=f"{rnd.uniform(80, 100):.1f}",
        )
        parts.append(s)
        n += len(s.encode())
    return "".join(parts)


def real(size: int) -> str:
    """The text fixture reports (seeds and realdev cases) concatenated over and over up to `size` bytes."""
    files = sorted((FIXTURES / "seeds").glob("*.txt")) + sorted((FIXTURES / "realdev" / "cases").glob("*.txt"))
    texts = [p.read_text(encoding="utf-8") for p in files]
    return _repeat(texts, size)


def filler(size: int, seed: int = 2) -> str:
    """Lines of report prose with few numbers, paragraphs between blank lines, up to `size` bytes."""
    rnd = random.Random(seed)
    lines = []
    for k in range(400):
        line = _FILLER[rnd.randrange(len(_FILLER))]
        if k % 50 == 0:
            line += f"全年支出{rnd.randint(1, 999)}.{rnd.randint(10, 99)}万元。"
        lines.append(line + ("\n\n" if rnd.random() < 0.3 else "\n"))
    return _repeat(["".join(lines)], size)


def _repeat(texts: list[str], size: int) -> str:
    out, n, k = [], 0, 0
    while n < size:
        t = texts[k % len(texts)]
        out.append(t if t.endswith("\n") else t + "\n")
        n += len(out[-1].encode())
        k += 1
    return "\n".join(out)


MAKERS: dict[str, Callable[[int], str]] = {"para": paragraph, "real": real, "filler": filler}


def pipeline(path: Path, checks: bool = True) -> int:
    """The per-file work of `audit` with the rules extractor (without the checks if asked); the number of Units."""
    units = split(load(path))
    extractor = RulesExtractor()
    for unit in units:
        facts = ground(extractor.extract(unit).facts, unit)
        if checks:
            run_checks(facts)
    return len(units)


def extract(path: Path) -> int:
    """The pipeline up to grounded Facts: what the readers cost, without the checks."""
    return pipeline(path, checks=False)


def split_layout(path: Path) -> int:
    """Loading, splitting and the blocks of every Unit (no readers); the number of Units."""
    units = split(load(path))
    for unit in units:
        context(unit)
    return len(units)


def split_only(path: Path) -> int:
    """Loading (with the tables of the text) and splitting into Units; the number of Units."""
    return len(split(load(path)))


def _seconds(run: Callable[[Path], int], path: Path, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        run(path)
        best = min(best, time.perf_counter() - t0)
    return best


def _ratio(tmp_path: Path, make: Callable[[int], str], run: Callable[[Path], int], small: int, big: int) -> float:
    a, b = tmp_path / "small.txt", tmp_path / "big.txt"
    a.write_text(make(small), encoding="utf-8")
    b.write_text(make(big), encoding="utf-8")
    run(a)  # warm caches and imports outside the timing
    return _seconds(run, b) / _seconds(run, a, repeat=3)


def test_long_paragraph_is_linear(tmp_path: Path) -> None:
    # 20 times the text may take at most 3 times longer per byte: neither the readers nor the checks rescan
    # the paragraph or compare every pair of its figures.
    assert _ratio(tmp_path, paragraph, pipeline, 100_000, 2_000_000) <= 3 * 20


def test_big_file_is_linear(tmp_path: Path) -> None:
    # The full pipeline on 50 MB of real reports takes minutes, too long for CI: 50 MB of prose lines go
    # through loading, table finding, splitting and the layout, which a file of any size goes through.
    assert _ratio(tmp_path, filler, split_layout, 100_000, 50_000_000) <= 3 * 500
