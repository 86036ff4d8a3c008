"""``countyfusion``: the command line for researchers who do not program.

Four commands, each a thin layer over the library (the numbers are exactly those of the Python
API):

``countyfusion template -o my.xlsx``
    The Excel template with canonical and yearbook (Chinese) headers
    (:func:`analysis.panel.write_template`).
``countyfusion index my.xlsx --system county_uri -o result.xlsx``
    Integration index, subsystem scores, coupling coordination and its classes, obstacle degrees
    and the weights, one Excel sheet each (:func:`analysis.indicators.build_index`,
    :func:`analysis.coupling.coupling_coordination`, :func:`analysis.coupling.obstacle_degree`).
``countyfusion did my.xlsx --policy land_reform -o did.docx``
    The staggered-adoption difference-in-differences set: two-way fixed effects
    (:func:`analysis.regression.fe`), the TWFE event study (:func:`analysis.did.event_study`) and
    Callaway and Sant'Anna (2021) (:func:`analysis.did.callaway_santanna`), written as Word
    three-line tables (:func:`analysis.tables.regression_table`).
``countyfusion reproduce``
    Every notebook on the shipped data and the reproduction report
    (:func:`analysis.reproduce.main`).

Bad input (any :class:`analysis.errors.CountyFusionError`, or another ``ValueError``) prints the
library's message and exits with status 2, without a traceback; ``--debug`` shows the traceback.
"""
from __future__ import annotations

import functools
import sys
import time
from pathlib import Path

import click

__all__ = ["main", "EXIT_BAD_INPUT"]

EXIT_BAD_INPUT = 2
_TEXT = {
    "zh": {"step": "步骤", "done": "完成", "wrote": "已写出", "error": "输入有误"},
    "en": {"step": "step", "done": "done", "wrote": "wrote", "error": "bad input"},
}


class _Steps:
    """Numbered progress lines on stderr: ``[2/5] building the index ... done in 0.3 s``."""

    def __init__(self, total: int, lang: str):
        self.total, self.i, self.lang = total, 0, lang

    def __call__(self, text: str):
        self.i += 1
        click.echo(f"[{self.i}/{self.total}] {text} ...", err=True)
        return _Timer(self.lang)


class _Timer:
    def __init__(self, lang: str):
        self.lang = lang

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            took = time.perf_counter() - self.start
            click.echo(f"      {_TEXT[self.lang]['done']} ({took:.1f} s)", err=True)
        return False


def _friendly(func):
    """Turn input errors into a message and exit status 2 (``--debug`` re-raises)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        ctx = click.get_current_context()
        debug = bool(ctx.find_root().params.get("debug"))
        try:
            return func(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except ValueError as exc:  # every CountyFusionError is a ValueError
            if debug:
                raise
            lang = ctx.params.get("lang", "zh")
            message = str(exc)
            if "missing='interpolate'" in message:
                message += " On the command line: --missing interpolate or --missing drop."
            click.echo(f"{_TEXT[lang]['error']} ({type(exc).__name__}): {message}", err=True)
            ctx.exit(EXIT_BAD_INPUT)
        except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
            if debug:
                raise
            click.echo(f"{type(exc).__name__}: {exc}", err=True)
            ctx.exit(EXIT_BAD_INPUT)

    return wrapper


def _read(path: Path, sheet: str | None, steps: _Steps):
    from .panel import read_panel

    with steps(f"reading {path.name}"):
        sheet_name = 0 if sheet is None else (int(sheet) if sheet.isdigit() else sheet)
        panel = read_panel(path, columns="yearbook", sheet_name=sheet_name)
    click.echo(f"      {panel['county'].nunique()} counties x {panel['year'].nunique()} years, "
               f"{len(panel)} rows", err=True)
    return panel


def _system(name: str):
    from .indicators import load_system

    return load_system(name)


_LANG = click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
                     help="Language of table headers and labels / 表头语言.")
_SHEET = click.option("--sheet", default=None,
                      help="Excel sheet (name or 0-based number; default the first).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show the Python traceback on errors.")
@click.version_option(package_name="countyfusion")
def main(debug: bool) -> None:
    """CountyFusion 县域城乡融合: indices, coupling coordination and policy evaluation from an
    Excel panel, without writing code.
    """


@main.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("county_panel_template.xlsx"), show_default=True,
              help="Where to write the Excel template (a CSV copy is written beside it).")
@_friendly
def template(output: Path) -> None:
    """Write the Excel template for your yearbook panel (英文列名 + 中文年鉴指标名)."""
    import shutil
    import tempfile

    from .panel import write_template

    if output.suffix.lower() != ".xlsx":
        raise click.BadParameter("the template is an Excel file: give a name ending in .xlsx",
                                 param_hint="--output")
    with tempfile.TemporaryDirectory() as tmp:
        xlsx, csv = write_template(tmp)
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(xlsx, output)
        shutil.copyfile(csv, output.with_suffix(".csv"))
    click.echo(f"wrote {output} and {output.with_suffix('.csv')}: one row per county and year; "
               "row 2 holds the Chinese yearbook names; delete the two example rows.")


@main.command()
@click.argument("panel", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--system", "system_name", default="county_uri", show_default=True,
              help="Indicator system: a shipped name (county_uri, urban_rural_two) or a YAML file.")
@click.option("--weights", default="entropy", show_default=True,
              help="entropy, critic, cv, equal or fixed (from the YAML); several joined by '+' "
                   "are combined by game theory (e.g. entropy+critic).")
@click.option("--missing", type=click.Choice(["raise", "interpolate", "drop"]), default="raise",
              show_default=True, help="Missing indicator cells: stop with a list, interpolate "
                                      "within county, or drop the rows (reported).")
@click.option("--model", type=click.Choice(["wang", "traditional", "fan"]), default="wang",
              show_default=True, help="Coupling coordination model (Wang et al. 2021 corrected).")
@click.option("--top", default=3, show_default=True, help="Obstacles listed per county-year.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("countyfusion_index.xlsx"), show_default=True)
@_SHEET
@_LANG
@_friendly
def index(panel: Path, system_name: str, weights: str, missing: str, model: str, top: int,
          output: Path, sheet: str | None, lang: str) -> None:
    """Integration index, coupling coordination, classes and obstacle degrees → Excel."""
    import pandas as pd

    from .indicators import build_index

    steps = _Steps(5, lang)
    frame = _read(panel, sheet, steps)
    system = _system(system_name)
    w = weights.split("+") if "+" in weights else weights
    with steps(f"building the index ({system.name}, {weights} weights)"):
        res = build_index(frame, system, weights=w, missing=missing)
    click.echo(f"      {res.rows}", err=True)
    with steps(f"coupling coordination ({model})"):
        cc = res.coupling(model=model, warn=False)
    with steps("obstacle degrees"):
        ob = res.obstacles(top_k=top)
    zh = lang == "zh"
    keys = res.keys.reset_index(drop=True)
    sheets = {
        ("指数" if zh else "index"): res.to_frame(),
        ("耦合协调" if zh else "coupling"): pd.concat(
            [keys, cc.to_frame().reset_index(drop=True)], axis=1),
        ("协调等级分布" if zh else "class_counts"): cc.class_counts(lang).rename_axis(
            "等级" if zh else "class").reset_index(name="县域-年份数" if zh else "county_years"),
        ("障碍度前列" if zh else "obstacles_top"): ob.top,
        ("子系统障碍度" if zh else "obstacles_subsystem"): pd.concat(
            [keys, ob.subsystem.reset_index(drop=True)], axis=1) if ob.subsystem is not None
        else keys,
        ("权重" if zh else "weights"): res.weights_table(lang),
        ("样本" if zh else "rows"): _rows_frame(res.rows, lang),
        ("设置" if zh else "settings"): _settings_frame(
            {"input": panel.name, "system": system.name, "weights": weights, "missing": missing,
             "coupling_model": model, "scope": res.settings.get("scope"),
             "method": res.settings.get("method"), "reference_index": res.reference,
             "reference_coupling": "Wang, Kong, Ren, Zhi & Dai (2021), 自然资源学报 36(3)"}),
    }
    with steps(f"writing {output.name}"):
        output.parent.mkdir(parents=True, exist_ok=True)
        with pd.ExcelWriter(output, engine="openpyxl") as xw:
            for name, table in sheets.items():
                table.to_excel(xw, sheet_name=name, index=False)
    click.echo(f"wrote {output}: sheets {', '.join(sheets)}")


def _rows_frame(rows, lang: str):
    import pandas as pd

    zh = lang == "zh"
    item, value = ("项目", "数值") if zh else ("item", "value")
    out = [{item: "输入行数" if zh else "rows in the file", value: rows.n_input},
           {item: "使用行数" if zh else "rows used", value: rows.n_used}]
    for reason, n in (getattr(rows, "dropped", None) or {}).items():
        out.append({item: f"{'删除' if zh else 'dropped'}: {reason}", value: n})
    return pd.DataFrame(out)


def _settings_frame(settings: dict):
    import pandas as pd

    return pd.DataFrame({"setting": list(settings), "value": [str(v) for v in settings.values()]})


@main.command()
@click.argument("panel", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--policy", default="land_reform", show_default=True,
              help="Policy whose first treated year is in the column <policy>_year (e.g. "
                   "land_reform -> land_reform_year; empty = never treated).")
@click.option("--policy-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Or a CSV with columns county, year (first treated year).")
@click.option("--outcome", "outcomes", multiple=True, default=("index",), show_default=True,
              help="Outcome column(s); 'index' builds the integration index from --system.")
@click.option("--system", "system_name", default="county_uri", show_default=True,
              help="Indicator system for --outcome index.")
@click.option("--controls", default="", help="Control variables, comma separated.")
@click.option("--missing", type=click.Choice(["raise", "interpolate", "drop"]), default="raise",
              show_default=True, help="Missing indicator cells when building the index.")
@click.option("--leads", default=4, show_default=True, help="Event-study periods before adoption.")
@click.option("--lags", default=4, show_default=True, help="Event-study periods after adoption.")
@click.option("--control-group", type=click.Choice(["never", "notyet"]), default="never",
              show_default=True, help="Callaway-Sant'Anna comparison group.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("countyfusion_did.docx"), show_default=True)
@click.option("--digits", default=3, show_default=True,
              help="Decimals of coefficients and standard errors in the tables.")
@click.option("--excel/--no-excel", default=True, show_default=True,
              help="Also write the tables to an .xlsx beside the .docx.")
@_SHEET
@_LANG
@_friendly
def did(panel: Path, policy: str, policy_file: Path | None, outcomes: tuple[str, ...],
        system_name: str, controls: str, missing: str, leads: int, lags: int, control_group: str,
        output: Path, digits: int, excel: bool, sheet: str | None, lang: str) -> None:
    """Policy evaluation (H1): TWFE, event study and Callaway-Sant'Anna → Word tables."""
    import pandas as pd

    from .did import callaway_santanna, event_study
    from .errors import ColumnError, SpecificationError
    from .regression import fe
    from .tables import regression_table

    if output.suffix.lower() != ".docx":
        raise click.BadParameter("the tables are a Word file: give a name ending in .docx",
                                 param_hint="--output")
    steps = _Steps(2 + 3 * len(outcomes) + ("index" in outcomes), lang)
    frame = _read(panel, sheet, steps)
    if policy_file is not None:
        pol = pd.read_csv(policy_file, dtype={"county": str})
        missing_cols = [c for c in ("county", "year") if c not in pol.columns]
        if missing_cols:
            raise ColumnError(f"{policy_file.name} needs columns county and year; it lacks "
                              f"{missing_cols} (it has {list(pol.columns)}).")
        adopt = pol.drop_duplicates("county").set_index("county")["year"].astype(float)
        frame["adopt"] = frame["county"].map(adopt)
        source = policy_file.name
    else:
        col = f"{policy}_year"
        if col not in frame.columns:
            raise ColumnError(
                f"the panel has no column {col!r} with the first treated year of {policy!r}; "
                f"add it (empty for never-treated counties) or pass --policy-file with columns "
                "county, year.")
        frame["adopt"] = pd.to_numeric(frame[col], errors="coerce")
        source = col
    n_treated = frame.loc[frame["adopt"].notna(), "county"].nunique()
    if n_treated == 0:
        raise SpecificationError(f"no county is ever treated according to {source}: every "
                                 "first treated year is empty.")
    frame["D"] = ((frame["year"] >= frame["adopt"]) & frame["adopt"].notna()).astype(int)
    click.echo(f"      treated counties: {n_treated} (from {source})", err=True)
    ctrl = [c.strip() for c in controls.split(",") if c.strip()]
    absent = [c for c in ctrl if c not in frame.columns]
    if absent:
        raise ColumnError(f"control(s) {absent} are not columns of {panel.name}.")

    zh = lang == "zh"
    labels = {}
    if "index" in outcomes:
        from .indicators import build_index

        with steps(f"building the index ({system_name})"):
            res = build_index(frame, _system(system_name), missing=missing)
        frame["index"] = res.score.reindex(frame.index)
        labels["index"] = "城乡融合指数" if zh else "integration index"
        click.echo(f"      {res.rows}", err=True)
    for y in outcomes:
        if y not in frame.columns:
            raise ColumnError(f"outcome {y!r} is not a column of {panel.name}; use 'index' or one "
                              f"of {[c for c in frame.columns if c not in ('county', 'year')][:15]}.")
        labels.setdefault(y, y)

    twfe, css, studies = {}, {}, {}
    for y in outcomes:
        with steps(f"TWFE for {y}"):
            twfe[f"{labels[y]}"] = fe(f"{y} ~ D", frame)
            if ctrl:
                twfe[f"{labels[y]} ({'控制变量' if zh else 'controls'})"] = fe(
                    " + ".join([f"{y} ~ D", *ctrl]), frame)
        with steps(f"event study for {y}"):
            es = event_study(frame, y, "adopt", leads=leads, lags=lags, controls=ctrl)
        with steps(f"Callaway-Sant'Anna for {y}"):
            cs = callaway_santanna(frame, y, "adopt", controls=ctrl, control=control_group)
            css[labels[y]] = cs.aggregate("simple")
            cs_es = cs.event_study(min_e=-leads, max_e=lags)
        studies[f"{labels[y]}: TWFE"] = es
        studies[f"{labels[y]}: CS"] = cs_es

    d_label = "政策 × 实施后" if zh else "policy × post"
    tables = [
        regression_table(twfe, lang=lang, keep=["D"], digits=digits, rename={"D": d_label},
                         title=("表1 双向固定效应估计" if zh else "Table 1. Two-way fixed effects")),
        regression_table(css, lang=lang, keep=["did"], stats=("N",), fe_rows=False, digits=digits,
                         rename={"did": "ATT"},
                         title=("表2 Callaway-Sant'Anna (2021) 总体平均处理效应" if zh
                                else "Table 2. Callaway-Sant'Anna (2021) overall ATT"),
                         notes=("未处理组：从未处理县" if control_group == "never" and zh
                                else "未处理组：尚未处理及从未处理县" if zh
                                else f"comparison group: {control_group}-treated counties")),
        regression_table(studies, lang=lang, digits=digits,
                         title=("表3 事件研究（TWFE 与 Callaway-Sant'Anna 动态效应）" if zh else
                                "Table 3. Event study (TWFE and Callaway-Sant'Anna dynamic)")),
    ]
    from docx import Document

    with steps(f"writing {output.name}"):
        output.parent.mkdir(parents=True, exist_ok=True)
        doc = Document()
        for table in tables:
            table.to_docx(document=doc)
            doc.add_paragraph("")
        doc.save(output)
        if excel:
            xlsx = output.with_suffix(".xlsx")
            if xlsx.exists():
                xlsx.unlink()
            for i, table in enumerate(tables, 1):
                table.to_excel(xlsx, sheet_name=f"{'表' if zh else 'Table '}{i}")
    extra = f" and {output.with_suffix('.xlsx')}" if excel else ""
    click.echo(f"wrote {output}{extra}: {len(tables)} tables "
               f"({len(outcomes)} outcome(s), {n_treated} treated counties)")


@main.command()
@click.option("--fast", is_flag=True, help="The test-speed run (fewer draws): fast=True.")
@click.option("--only", multiple=True, help="Run only notebooks whose name starts with this.")
@click.option("--update-expected", is_flag=True, help="Copy the produced tables to results/expected/.")
def reproduce(fast: bool, only: tuple[str, ...], update_expected: bool) -> None:
    """Run every notebook on the shipped data and write results/REPORT.md."""
    from . import reproduce as rep
    from .reporting import project_root

    if not (project_root() / "notebooks").is_dir():  # an installed wheel carries the library, not the notebooks
        raise click.UsageError(
            f"no notebooks/ folder beside the package ({project_root()}): `countyfusion reproduce` runs the "
            "notebooks of a repository checkout. Clone the repository and run it there (or `make reproduce`).")
    argv: list[str] = []
    if fast:
        argv += ["-p", "fast", "True"]
    if only:
        argv += ["--only", *only]
    if update_expected:
        argv.append("--update-expected")
    code = rep.main(argv)
    sys.exit(int(code or 0))


if __name__ == "__main__":  # pragma: no cover
    main()
