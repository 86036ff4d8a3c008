"""Kernel density of a panel variable by year, on one grid with one bandwidth.

Distribution-dynamics figures compare densities across years; with a bandwidth re-chosen every year
changes in peaks are partly bandwidth artefacts. Here the
Gaussian-kernel bandwidth is chosen once on the pooled sample (Silverman's rule
h = 0.9·min(s, IQR/1.349)·N^(-1/5), as Stata ``kdensity`` and statsmodels ``bw="silverman"``;
or Scott's 1.059 constant, or a number) and reported.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ColumnError, MissingValueError, NonNumericError, SpecificationError, describe_rows
from ..plots import new_figure, tr

__all__ = ["bandwidth", "kde", "kde_panel", "plot_kde_ridges"]


def bandwidth(x, rule: str | float = "silverman") -> float:
    """Gaussian-kernel bandwidth: ``"silverman"`` (0.9 A n^-1/5), ``"scott"`` (1.059 A n^-1/5), or a number.

    A = min(sample SD (ddof 1), IQR/1.349), as statsmodels' ``bandwidths.bw_silverman``/``bw_scott``.

    Examples
    --------
    For 1..5, SD = 1.581 and IQR/1.349 = 1.483, so h = 0.9 * 1.483 * 5**-0.2:

    >>> x = [1.0, 2.0, 3.0, 4.0, 5.0]
    >>> round(bandwidth(x), 4), round(bandwidth(x, "scott"), 4), bandwidth(x, 0.5)
    (0.9671, 1.1379, 0.5)
    """
    if not isinstance(rule, str):
        if rule <= 0:
            raise SpecificationError("a numeric bandwidth must be positive.")
        return float(rule)
    x = np.asarray(x, dtype=float)
    sd = np.std(x, ddof=1)
    q75, q25 = np.percentile(x, [75, 25])
    a = min(sd, (q75 - q25) / 1.349) if q75 > q25 else sd
    const = {"silverman": 0.9, "scott": 1.059}.get(rule)
    if const is None:
        raise SpecificationError(f"bandwidth rule {rule!r} is not 'silverman', 'scott' or a number.")
    return float(const * a * len(x) ** (-0.2))


def kde(x, grid, h: float) -> np.ndarray:
    """Gaussian kernel density f(x) = 1/(n h) Σ φ((x_i - x)/h) at the grid points.

    Examples
    --------
    One point at 0 with h = 1 gives the standard normal density, 1/sqrt(2 pi) = 0.3989 at 0:

    >>> import numpy as np
    >>> np.round(kde([0.0], [-1.0, 0.0, 1.0], h=1.0), 4).tolist()
    [0.242, 0.3989, 0.242]
    """
    x = np.asarray(x, dtype=float)[:, None]
    u = (np.asarray(grid, dtype=float)[None, :] - x) / h
    return np.exp(-0.5 * u**2).sum(axis=0) / (len(x) * h * np.sqrt(2 * np.pi))


def kde_panel(data: pd.DataFrame, value: str, time: str = "year", bw: str | float = "silverman",
              n_grid: int = 200, grid=None) -> pd.DataFrame:
    """Densities by year on a common grid with one pooled bandwidth.

    Returns a long DataFrame (year, x, density) with ``attrs["bandwidth"]`` and ``attrs["rule"]``.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"year": np.repeat([2010, 2020], 50), "uri": rng.normal(size=100)})
    >>> dens = kde_panel(df, "uri", n_grid=100)
    >>> dens.shape, dens.columns.tolist(), dens.attrs["rule"]
    ((200, 3), ['year', 'x', 'density'], 'silverman')
    >>> step = dens["x"].iloc[1] - dens["x"].iloc[0]  # each density integrates to about one
    >>> (dens.groupby("year")["density"].sum() * step).round(2).tolist()
    [1.0, 1.0]
    """
    if value not in data.columns or time not in data.columns:
        raise ColumnError(f"columns {value!r} and {time!r} are needed.")
    if not pd.api.types.is_numeric_dtype(data[value]):
        raise NonNumericError(f"{value!r} is not numeric (dtype {data[value].dtype}); convert it with "
                              "pd.to_numeric(...) first.")
    missing = data[value].isna()
    if missing.any():
        raise MissingValueError(f"{value!r} is missing at {describe_rows(data.index[missing])}; fill or drop first.")
    x = data[value].to_numpy(dtype=float)
    h = bandwidth(x, bw)
    if grid is None:
        grid = np.linspace(x.min() - 3 * h, x.max() + 3 * h, n_grid)
    rows = []
    for year, frame in data.groupby(time, sort=True):
        rows.append(pd.DataFrame({time: year, "x": grid, "density": kde(frame[value].to_numpy(float), grid, h)}))
    out = pd.concat(rows, ignore_index=True)
    out.attrs.update({"bandwidth": h, "rule": bw})
    return out


def plot_kde_ridges(densities: pd.DataFrame, time: str = "year", lang: str = "zh", label: str | None = None,
                    overlap: float = 0.6):
    """Ridge plot of yearly densities (one curve per year, stacked); returns the figure.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"year": np.repeat([2010, 2020], 50), "uri": rng.normal(size=100)})
    >>> fig = plot_kde_ridges(kde_panel(df, "uri"), lang="en", label="integration index")
    >>> type(fig).__name__
    'Figure'
    >>> plt.close(fig)
    """
    fig, ax = new_figure(lang, figsize=(6.5, 5))
    years = sorted(densities[time].unique())
    peak = densities["density"].max()
    step = peak * (1 - overlap)
    cmap = __import__("matplotlib").colormaps["viridis"]
    for i, year in enumerate(years):
        d = densities[densities[time] == year]
        base = i * step
        ax.fill_between(d["x"], base, base + d["density"], color=cmap(i / max(len(years) - 1, 1)), alpha=0.7, lw=0)
        ax.plot(d["x"], base + d["density"], color="black", lw=0.5)
        ax.text(d["x"].min(), base + step * 0.1, str(year), fontsize=8, va="bottom")
    ax.set_yticks([])
    ax.set_xlabel(label or tr("value", "数值", lang))
    ax.set_title(tr(f"Kernel density by year (Gaussian kernel, h = {densities.attrs.get('bandwidth', float('nan')):.4f})",
                    f"核密度演进（高斯核，带宽 h = {densities.attrs.get('bandwidth', float('nan')):.4f}）", lang))
    ax.grid(False)
    return fig
