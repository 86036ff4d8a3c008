"""Regression and descriptive tables for papers: DataFrame, LaTeX, HTML, Markdown, Excel and Word.

``regression_table(models, ...)`` sets CountyFusion results, pyfixest, statsmodels and linearmodels
models side by side; ``descriptive_table(data, columns, ...)`` summarises variables. Both return a
:class:`Table` with ``.to_frame()``, ``.to_latex()`` (booktabs), ``.to_html()`` (great-tables),
``.to_markdown()``, ``.to_excel(path)`` and ``.to_docx(path)`` (三线表 with 宋体 / Times New Roman).
"""
from .adapters import ModelSummary, summarize_model
from .descriptive import DESCRIPTIVE_STATS, DescriptiveTable, descriptive_table
from .regression import FE_LABELS, STAT_LABELS, RegressionTable, regression_table
from .render import EAST_ASIAN_FONT, LATIN_FONT, Table

__all__ = [
    "regression_table",
    "descriptive_table",
    "Table",
    "RegressionTable",
    "DescriptiveTable",
    "ModelSummary",
    "summarize_model",
    "FE_LABELS",
    "STAT_LABELS",
    "DESCRIPTIVE_STATS",
    "EAST_ASIAN_FONT",
    "LATIN_FONT",
]
