"""One table, six outputs: DataFrame, LaTeX (booktabs), HTML (great-tables), Markdown, Excel, Word.

:class:`Table` holds a laid-out table (title, header rows, body rows, notes), all cells already
formatted as text. The Word output is the three-line table (三线表) Chinese journals require: top and
bottom rules 1.5 pt, the rule under the header 0.75 pt, no vertical or other lines; Chinese text in
宋体 (SimSun) and Latin text and numbers in Times New Roman, set per run through the East-Asian font
attribute (``w:rFonts w:eastAsia``) so that Word picks the right font for each script.
"""
from __future__ import annotations

import html as _html
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

__all__ = ["Table", "EAST_ASIAN_FONT", "LATIN_FONT", "has_cjk"]

EAST_ASIAN_FONT = "宋体"  # SimSun
LATIN_FONT = "Times New Roman"
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")

# rule widths of the three-line table, in eighths of a point (OOXML w:sz)
_TOP_BOTTOM_SZ = 12  # 1.5 pt
_HEADER_SZ = 6  # 0.75 pt


def has_cjk(text: str) -> bool:
    """Whether ``text`` contains Chinese (CJK) characters or full-width punctuation."""
    return bool(_CJK.search(str(text)))


def _latex_escape(s: str) -> str:
    rep = {
        "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
        "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    }
    out = "".join(rep.get(ch, ch) for ch in str(s))
    return out.replace("²", r"$^2$")


@dataclass
class Table:
    """A formatted table. ``header`` and ``body`` rows start with the stub (row label) cell.

    Examples
    --------
    >>> import os, tempfile
    >>> from analysis.tables import Table
    >>> tab = Table(header=[["", "Mean", "SD"]], body=[["income", "1.20", "0.30"]],
    ...             title="Summary", notes=["Simulated data."], lang="en")
    >>> print(tab.to_markdown())
    **Summary**
    <BLANKLINE>
    |  | Mean | SD |
    |:---|:---:|:---:|
    | income | 1.20 | 0.30 |
    <BLANKLINE>
    Simulated data.
    >>> tab.to_frame().loc["income", "SD"]
    '0.30'
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = tab.to_excel(os.path.join(folder, "summary.xlsx"))
    ...     written = path.is_file()
    >>> written
    True
    """

    header: list[list[str]]
    body: list[list[str]]
    title: str = ""
    notes: list[str] = field(default_factory=list)
    lang: str = "zh"
    midrules: list[int] = field(default_factory=list)  # body rows after which LaTeX/HTML draw a light rule

    # ---------------------------------------------------------------- frame / text outputs
    def to_frame(self) -> pd.DataFrame:
        """The table as a DataFrame of strings: index = row labels, columns = header (MultiIndex if >1 row)."""
        ncol = len(self.header[0]) - 1
        if len(self.header) == 1:
            cols = pd.Index(self.header[0][1:])
        else:
            cols = pd.MultiIndex.from_arrays([h[1:] for h in self.header])
        frame = pd.DataFrame([r[1:] for r in self.body], index=[r[0] for r in self.body], columns=cols)
        frame.index.name = self.header[-1][0] or None
        assert frame.shape[1] == ncol
        return frame

    def __repr__(self) -> str:  # pragma: no cover - display
        return self.to_markdown()

    def _repr_html_(self) -> str:  # pragma: no cover - notebooks
        return self.to_html()

    def to_markdown(self) -> str:
        """GitHub pipe table (Markdown has one header row: further header rows follow it), notes below."""
        def row(cells):
            return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

        lines = [f"**{self.title}**", ""] if self.title else []
        lines.append(row(self.header[0]))
        lines.append("|" + "|".join([":---"] + [":---:"] * (len(self.header[0]) - 1)) + "|")
        lines += [row(h) for h in self.header[1:]]
        lines += [row(r) for r in self.body]
        if self.notes:
            lines += [""] + list(self.notes)
        return "\n".join(lines)

    def to_latex(self, label: str | None = None, float_env: bool = True) -> str:
        r"""Booktabs table: ``\toprule``, ``\midrule`` under the header, ``\bottomrule``; notes below.

        Chinese labels need a CJK-capable preamble (``\usepackage{ctex}`` or ``xeCJK``); the table
        also needs ``\usepackage{booktabs}``.
        """
        k = len(self.header[0]) - 1
        out = []
        if float_env:
            out += [r"\begin{table}[htbp]", r"\centering"]
            if self.title:
                out.append(r"\caption{" + _latex_escape(self.title) + "}")
            if label:
                out.append(r"\label{" + label + "}")
        out.append(r"\begin{tabular}{l" + "c" * k + "}")
        out.append(r"\toprule")
        for h in self.header:
            out.append(" & ".join(_latex_escape(c) for c in h) + r" \\")
        out.append(r"\midrule")
        for i, r in enumerate(self.body):
            out.append(" & ".join(_latex_escape(c) for c in r) + r" \\")
            if i in self.midrules and i != len(self.body) - 1:
                out.append(r"\addlinespace")
        out.append(r"\bottomrule")
        out.append(r"\end{tabular}")
        if self.notes:
            out.append(r"\par\smallskip")
            out.append(r"\begin{minipage}{0.95\linewidth}\footnotesize")
            out.append(r" \\ ".join(_latex_escape(n) for n in self.notes))
            out.append(r"\end{minipage}")
        if float_env:
            out.append(r"\end{table}")
        return "\n".join(out)

    def to_gt(self):
        """A great-tables ``GT`` object styled as a three-line table."""
        from great_tables import GT

        frame = self.to_frame()
        flat = frame.copy()
        cols = [f"c{i}" for i in range(flat.shape[1])]
        flat.columns = cols
        stub_name = "__stub__"
        flat.insert(0, stub_name, list(frame.index))
        gt = GT(flat.reset_index(drop=True), rowname_col=stub_name)
        gt = gt.cols_label(**{c: h for c, h in zip(cols, self.header[-1][1:])})
        for level in range(len(self.header) - 1):  # extra header rows as spanners over equal labels
            row = self.header[level][1:]
            i = 0
            while i < len(row):
                j = i
                while j + 1 < len(row) and row[j + 1] == row[i]:
                    j += 1
                if row[i]:
                    gt = gt.tab_spanner(label=row[i], columns=cols[i : j + 1], id=f"s{level}_{i}")
                i = j + 1
        if self.title:
            gt = gt.tab_header(title=self.title)
        for n in self.notes:
            gt = gt.tab_source_note(n)
        fonts = [LATIN_FONT, "SimSun", EAST_ASIAN_FONT, "serif"]
        gt = gt.tab_options(
            table_font_names=fonts,
            table_border_top_style="solid", table_border_top_width="1.5pt", table_border_top_color="black",
            heading_border_bottom_style="none",
            column_labels_border_top_style="solid", column_labels_border_top_width="1.5pt",
            column_labels_border_top_color="black",
            column_labels_border_bottom_style="solid", column_labels_border_bottom_width="0.75pt",
            column_labels_border_bottom_color="black",
            table_body_hlines_style="none", table_body_vlines_style="none", column_labels_vlines_style="none",
            stub_border_style="none",
            table_body_border_top_style="none",
            table_body_border_bottom_style="solid", table_body_border_bottom_width="1.5pt",
            table_body_border_bottom_color="black",
            table_border_bottom_style="none",
            table_border_left_style="none", table_border_right_style="none",
        )
        return gt

    def to_html(self) -> str:
        """HTML via great-tables (three-line style); falls back to plain HTML if great-tables fails."""
        try:
            return self.to_gt().as_raw_html()
        except Exception:  # noqa: BLE001 - a rendering fallback, the content is the same
            return self._plain_html()

    def _plain_html(self) -> str:
        e = _html.escape
        top = "border-top:1.5pt solid black;"
        parts = [f'<table style="border-collapse:collapse;font-family:\'{LATIN_FONT}\',SimSun,serif">']
        if self.title:
            parts.append(f"<caption>{e(self.title)}</caption>")
        for i, h in enumerate(self.header):
            style = (top if i == 0 else "") + ("border-bottom:0.75pt solid black;" if i == len(self.header) - 1 else "")
            parts.append("<tr>" + "".join(f'<th style="{style}padding:2px 8px">{e(c)}</th>' for c in h) + "</tr>")
        for i, r in enumerate(self.body):
            style = "border-bottom:1.5pt solid black;" if i == len(self.body) - 1 else ""
            parts.append(
                "<tr>" + "".join(
                    f'<td style="{style}padding:2px 8px;text-align:{"left" if j == 0 else "center"}">{e(c)}</td>'
                    for j, c in enumerate(r)
                ) + "</tr>"
            )
        parts.append("</table>")
        for n in self.notes:
            parts.append(f'<p style="font-size:smaller">{e(n)}</p>')
        return "\n".join(parts)

    # ---------------------------------------------------------------- Excel
    def to_excel(self, path, sheet_name: str = "Table") -> Path:
        """Write an .xlsx sheet: three rules (medium top/bottom, thin under the header), fonts by script.

        Excel has one font per cell: cells with Chinese text get 宋体, the others Times New Roman.
        """
        from openpyxl import Workbook, load_workbook
        from openpyxl.styles import Alignment, Border, Font, Side

        path = Path(path)
        if path.exists():
            wb = load_workbook(path)
            if sheet_name in wb.sheetnames:
                del wb[sheet_name]
            ws = wb.create_sheet(sheet_name)
        else:
            wb = Workbook()
            ws = wb.active
            ws.title = sheet_name
        ncol = len(self.header[0])

        def font(text, bold=False, size=10.5):
            return Font(name=EAST_ASIAN_FONT if has_cjk(text) else LATIN_FONT, bold=bold, size=size)

        r0 = 1
        if self.title:
            ws.cell(row=1, column=1, value=self.title).font = font(self.title, bold=True, size=12)
            ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncol)
            ws.cell(row=1, column=1).alignment = Alignment(horizontal="center")
            r0 = 2
        thick, thin = Side(style="medium"), Side(style="thin")
        rows = self.header + self.body
        nh = len(self.header)
        for i, row in enumerate(rows):
            for j, val in enumerate(row):
                c = ws.cell(row=r0 + i, column=j + 1, value=val)
                c.font = font(val)
                c.alignment = Alignment(horizontal="left" if j == 0 else "center", vertical="center")
                top = thick if i == 0 else None
                bottom = thin if i == nh - 1 else (thick if i == len(rows) - 1 else None)
                c.border = Border(top=top, bottom=bottom)
        for k, note in enumerate(self.notes):
            c = ws.cell(row=r0 + len(rows) + k, column=1, value=note)
            c.font = font(note, size=9)
        ws.column_dimensions["A"].width = max(12, min(40, max(len(str(r[0])) for r in rows) * 1.6))
        for j in range(2, ncol + 1):
            ws.column_dimensions[ws.cell(row=r0, column=j).column_letter].width = 14
        wb.save(path)
        return path

    # ---------------------------------------------------------------- Word
    def to_docx(self, path=None, document=None, font_size: float = 10.5, note_size: float = 9.0):
        """Three-line table (三线表) in Word; returns the ``docx.Document``.

        Rules: table top and bottom 1.5 pt, under the header 0.75 pt, nothing else. Every run has
        ``w:rFonts`` ascii/hAnsi = Times New Roman and eastAsia = 宋体 (SimSun). Pass ``document`` to
        append to an open document; ``path`` saves it.
        """
        from docx import Document
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn
        from docx.shared import Pt

        doc = document if document is not None else Document()
        _set_style_fonts(doc.styles["Normal"], qn)

        def add_text(paragraph, text, size, bold=False):
            run = paragraph.add_run(str(text))
            run.bold = bold
            run.font.size = Pt(size)
            _set_run_fonts(run, qn, OxmlElement)
            return run

        if self.title:
            p = doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            add_text(p, self.title, font_size + 1.5, bold=True)
        rows = self.header + self.body
        ncol = len(self.header[0])
        table = doc.add_table(rows=len(rows), cols=ncol)
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        tblPr = table._tbl.tblPr
        for old in tblPr.findall(qn("w:tblBorders")):
            tblPr.remove(old)
        borders = OxmlElement("w:tblBorders")
        for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
            el = OxmlElement(f"w:{edge}")
            if edge in ("top", "bottom"):
                el.set(qn("w:val"), "single")
                el.set(qn("w:sz"), str(_TOP_BOTTOM_SZ))
                el.set(qn("w:space"), "0")
                el.set(qn("w:color"), "000000")
            else:
                el.set(qn("w:val"), "nil")
            borders.append(el)
        # schema order in w:tblPr: ... w:jc, w:tblCellSpacing, w:tblInd, w:tblBorders, w:shd, w:tblLayout,
        # w:tblCellMar, w:tblLook: insert before the first element that must follow the borders
        after = [qn(f"w:{t}") for t in ("shd", "tblLayout", "tblCellMar", "tblLook", "tblCaption", "tblDescription")]
        anchor = next((el for el in tblPr if el.tag in after), None)
        if anchor is not None:
            anchor.addprevious(borders)
        else:
            tblPr.append(borders)
        nh = len(self.header)
        for i, row in enumerate(rows):
            for j, val in enumerate(row):
                cell = table.cell(i, j)
                para = cell.paragraphs[0]
                para.alignment = WD_ALIGN_PARAGRAPH.LEFT if j == 0 else WD_ALIGN_PARAGRAPH.CENTER
                pf = para.paragraph_format
                pf.space_before = Pt(0)
                pf.space_after = Pt(0)
                add_text(para, val, font_size)
                if i == nh - 1:  # the header rule
                    tcPr = cell._tc.get_or_add_tcPr()
                    tcb = OxmlElement("w:tcBorders")
                    bottom = OxmlElement("w:bottom")
                    bottom.set(qn("w:val"), "single")
                    bottom.set(qn("w:sz"), str(_HEADER_SZ))
                    bottom.set(qn("w:space"), "0")
                    bottom.set(qn("w:color"), "000000")
                    tcb.append(bottom)
                    tcPr.append(tcb)
        for note in self.notes:
            p = doc.add_paragraph()
            p.paragraph_format.space_before = Pt(0)
            p.paragraph_format.space_after = Pt(0)
            add_text(p, note, note_size)
        if path is not None:
            doc.save(str(path))
        return doc


def _set_run_fonts(run, qn, OxmlElement) -> None:
    run.font.name = LATIN_FONT  # w:ascii and w:hAnsi
    rPr = run._element.get_or_add_rPr()
    rFonts = rPr.find(qn("w:rFonts"))
    if rFonts is None:
        rFonts = OxmlElement("w:rFonts")
        rPr.insert(0, rFonts)
    rFonts.set(qn("w:ascii"), LATIN_FONT)
    rFonts.set(qn("w:hAnsi"), LATIN_FONT)
    rFonts.set(qn("w:cs"), LATIN_FONT)
    rFonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)


def _set_style_fonts(style, qn) -> None:
    style.font.name = LATIN_FONT
    rPr = style.element.get_or_add_rPr()
    rFonts = rPr.get_or_add_rFonts()
    rFonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)
