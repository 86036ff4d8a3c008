"""Chinese figure text renders with a real CJK font: no missing-glyph warnings."""
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from analysis.errors import SpecificationError  # noqa: E402
from analysis.plots import cjk_font, new_figure, tr, use_style  # noqa: E402

ZH_TEXT = "县域城乡融合发展指数（东部、中部、西部、东北）"


def _render(fig):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    plt.close(fig)
    return [str(w.message) for w in caught if "Glyph" in str(w.message) or "missing from" in str(w.message)]


def test_zh_style_renders_chinese_without_missing_glyphs():
    fig, ax = new_figure("zh")
    ax.set_title(ZH_TEXT)
    ax.set_xlabel(tr("Year", "年份", "zh"))
    ax.plot([2010, 2022], [-0.1, 0.4])  # negative tick labels: the minus sign must render too
    assert _render(fig) == []
    assert cjk_font() in plt.rcParams["font.sans-serif"]


def test_detector_catches_missing_glyphs_with_a_latin_only_font():
    use_style("en")  # DejaVu Sans has no Chinese glyphs: the same check must fail here
    fig, ax = plt.subplots()
    ax.set_title(ZH_TEXT)
    assert _render(fig), "missing-glyph warnings were expected with a Latin-only font"


def test_lang_is_checked():
    assert tr("Year", "年份", "en") == "Year"
    with pytest.raises(SpecificationError):
        use_style("fr")


def test_cjk_font_found_when_matplotlib_cache_predates_the_font(monkeypatch):
    """A font cache built before the CJK font was installed: the font is registered in place."""
    from matplotlib import font_manager

    import analysis.plots as plots

    stale = [f for f in font_manager.fontManager.ttflist if f.name not in plots._CJK_CANDIDATES]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stale)
    monkeypatch.setattr(plots.matplotlib, "get_cachedir", lambda: "/nonexistent-cache-dir")
    plots.cjk_font.cache_clear()
    try:
        use_style("en")
        fig, ax = plt.subplots()
        ax.set_title("English first")
        fig.canvas.draw()
        plt.close(fig)
        fig, ax = new_figure("zh")
        ax.set_title(ZH_TEXT)
        assert _render(fig) == []
    finally:
        plots.cjk_font.cache_clear()
