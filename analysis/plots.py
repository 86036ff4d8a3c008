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


def _cjk_files() -> list[str]:
    """Font files with Chinese glyphs that fontconfig knows, or that sit in the usual folders."""
    import glob
    import shutil
    import subprocess

    files: list[str] = []
    if shutil.which("fc-list"):
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, check=False).stdout
        files += [line.split(":")[0].strip() for line in out.splitlines() if line.strip()]
    for pattern in ("/usr/share/fonts/**/*CJK*", "/usr/share/fonts/**/wqy*", "/usr/share/fonts/**/*[Ss]im[Hh]ei*",
                    "/Library/Fonts/*", "/System/Library/Fonts/PingFang*", "C:/Windows/Fonts/sim*", "C:/Windows/Fonts/msyh*"):
        files += glob.glob(pattern, recursive=True)
    return sorted({f for f in files if f.lower().endswith((".ttf", ".otf", ".ttc"))})


def _installed_cjk() -> str | None:
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in _CJK_CANDIDATES if name in installed), None)


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """Name of an installed font that has Chinese glyphs.

    matplotlib keeps a cache of the fonts it found when it was first imported; a CJK font installed
    later (``make`` installs one) is missing from it. Then the font files are registered with the
    running font manager (``addfont``, in place, so every figure sees them) and the cache is
    rewritten, so the next process finds them at once.
    """
    name = _installed_cjk()
    if name:
        return name
    for path in _cjk_files():
        try:
            font_manager.fontManager.addfont(path)
        except (OSError, RuntimeError, ValueError):  # unreadable or unsupported file: skip it
            continue
    for cached in (getattr(font_manager.FontManager, "_findfont_cached", None),
                   getattr(font_manager, "_get_font", None)):
        if hasattr(cached, "cache_clear"):
            cached.cache_clear()
    name = _installed_cjk()
    if name:
        try:  # persist, so other processes do not redo this
            from pathlib import Path

            cache = Path(matplotlib.get_cachedir()) / f"fontlist-v{font_manager.FontManager.__version__}.json"
            font_manager.json_dump(font_manager.fontManager, cache)
        except OSError:
            pass
        return name
    raise SpecificationError(
        "no Chinese (CJK) font is installed, so lang='zh' figures would show empty boxes. "
        "Install one (Debian/Ubuntu: apt-get install fonts-noto-cjk; conda: conda install -c "
        "conda-forge font-ttf-noto-cjk) or use lang='en'."
    )


def use_style(lang: str = "zh") -> None:
    """Apply the CountyFusion figure style; with ``lang='zh'`` put a CJK font first.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from analysis.plots import use_style
    >>> with plt.rc_context():  # restores the global style afterwards
    ...     use_style("en")
    ...     plt.rcParams["axes.spines.top"], plt.rcParams["font.sans-serif"]
    (False, ['DejaVu Sans'])
    """
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
    """Pick the English or Chinese text of a label.

    Examples
    --------
    >>> from analysis.plots import tr
    >>> tr("Rural income", "农村居民收入", lang="en"), tr("Rural income", "农村居民收入", lang="zh")
    ('Rural income', '农村居民收入')
    """
    check_choice("lang", lang, LANGS)
    return zh if lang == "zh" else en


def new_figure(lang: str = "zh", **kwargs):
    """``plt.subplots`` after :func:`use_style`; returns ``(fig, ax)``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from analysis.plots import new_figure
    >>> with plt.rc_context():
    ...     fig, axes = new_figure("en", ncols=2, figsize=(4, 2))
    >>> type(fig).__name__, len(axes)
    ('Figure', 2)
    >>> plt.close(fig)
    """
    use_style(lang)
    return plt.subplots(**kwargs)
