"""Figure style with working Chinese text.

Call :func:`use_style` (every figure helper does) before drawing. It finds an installed CJK font
(Noto Sans/Serif CJK, Source Han, WenQuanYi, SimHei, Microsoft YaHei, PingFang ...) and puts it first
in matplotlib's sans-serif list, so ``lang="zh"`` labels render instead of empty boxes. ``make``
installs Debian's ``fonts-noto-cjk`` where it can; :func:`cjk_font` raises a clear error when no CJK
font is installed at all.

Every figure helper in the package takes ``lang="zh"|"en"`` and picks its text with :func:`tr`.
"""
from __future__ import annotations

from functools import lru_cache

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from .errors import SpecificationError, check_choice  # noqa: E402

__all__ = ["use_style", "cjk_font", "tr", "LANGS", "new_figure"]

LANGS = ("zh", "en")

_CJK_CANDIDATES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Serif CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
    "Droid Sans Fallback",
)


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """Name of an installed font that has Chinese glyphs."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in _CJK_CANDIDATES:
        if name in installed:
            return name
    font_manager.fontManager = font_manager.FontManager()  # fonts installed after import
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in _CJK_CANDIDATES:
        if name in installed:
            return name
    raise SpecificationError(
        "no Chinese (CJK) font is installed, so lang='zh' figures would show empty boxes. "
        "Install one (Debian/Ubuntu: apt-get install fonts-noto-cjk; conda: conda install -c "
        "conda-forge font-ttf-noto-cjk) or use lang='en'."
    )


def use_style(lang: str = "zh") -> None:
    """Apply the CountyFusion figure style; with ``lang='zh'`` put a CJK font first."""
    check_choice("lang", lang, LANGS)
    plt.rcParams.update(
        {
            "figure.dpi": 110,
            "savefig.dpi": 150,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.titlesize": 11,
            "axes.labelsize": 10,
            "legend.fontsize": 9,
            "legend.frameon": False,
            "axes.unicode_minus": False,  # CJK fonts lack U+2212
        }
    )
    if lang == "zh":
        plt.rcParams["font.family"] = "sans-serif"
        plt.rcParams["font.sans-serif"] = [cjk_font(), "DejaVu Sans"]
    else:
        plt.rcParams["font.family"] = "sans-serif"
        plt.rcParams["font.sans-serif"] = ["DejaVu Sans"]


def tr(en: str, zh: str, lang: str = "zh") -> str:
    """Pick the English or Chinese text of a label."""
    check_choice("lang", lang, LANGS)
    return zh if lang == "zh" else en


def new_figure(lang: str = "zh", **kwargs):
    """``plt.subplots`` after :func:`use_style`; returns ``(fig, ax)``."""
    use_style(lang)
    return plt.subplots(**kwargs)
