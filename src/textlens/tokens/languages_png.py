"""The premium report as PNG pictures (matplotlib, from ``textlens[topics]`` or ``pip install matplotlib``): the
heatmap of premiums, languages × tokenizers grouped by script, and the median premium per script as grouped bars."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from textlens.errors import InputError
from textlens.html import CATEGORICAL

if TYPE_CHECKING:
    from textlens.tokens.languages import LanguageReport


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError(
            "PNG pictures need matplotlib, which is not installed",
            hint="pip install 'textlens[topics]' (or matplotlib), or write --html instead.",
        ) from None
    return plt


def write_png(report: LanguageReport, path: Path) -> list[Path]:
    """Write the heatmap to ``path`` and the script chart to ``<stem>-scripts.png`` beside it; return both."""
    import numpy as np

    plt = _pyplot()
    names = [t.name for t in report.tokenizers]
    rows = report.rows
    grid = np.array([[r.cells[n].premium for n in names] for r in rows], dtype=float)
    lossy = np.array([[r.cells[n].roundtrip_loss > report.lossy_above for n in names] for r in rows])
    shown = np.ma.masked_where(lossy, np.log2(np.clip(grid, 1e-3, None)))
    height = max(4.0, 0.11 * len(rows) + 1.5)
    fig, ax = plt.subplots(figsize=(2.2 + 0.55 * len(names), height))
    image = ax.imshow(shown, aspect="auto", cmap="RdYlGn_r", vmin=-1, vmax=4, interpolation="nearest")
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(rows)), [f"{r.name[:28]} ({r.script_name[:10]})" for r in rows], fontsize=4)
    ax.xaxis.tick_top()
    bar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    ticks = [-1, 0, 1, 2, 3, 4]
    bar.set_ticks(ticks, labels=[f"{2**t:g}×" for t in ticks])
    bar.set_label(f"tokens over {report.pivot}'s (grey: round trip loses >{report.lossy_above:.0%})")
    ax.set_facecolor("#cccccc")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150)
    plt.close(fig)

    scripts = list(report.by_script().items())[:24]
    fig, ax = plt.subplots(figsize=(9, 0.25 * len(scripts) * max(1, len(names)) ** 0.5 + 1.5))
    step = 0.8 / max(1, len(names))
    for k, name in enumerate(names):
        values = [row[name] if row[name] is not None else math.nan for _, row in scripts]
        ys = [i + k * step for i in range(len(scripts))]
        ax.barh(ys, values, height=step, color=CATEGORICAL[k % len(CATEGORICAL)], label=name)
    ax.set_yticks([i + 0.4 - step / 2 for i in range(len(scripts))], [s for s, _ in scripts], fontsize=7)
    ax.invert_yaxis()
    ax.axvline(1.0, color="#666", linestyle="--", linewidth=0.8)
    ax.set_xlabel(f"median premium over {report.pivot}")
    ax.legend(fontsize=6, ncol=2, loc="lower right")
    fig.tight_layout()
    other = path.with_name(path.stem + "-scripts.png")
    fig.savefig(other, dpi=150)
    plt.close(fig)
    return [path, other]
