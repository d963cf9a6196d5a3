"""Report documents: headings, text, tables and figures, written as Markdown or as one
self-contained HTML page.

The HTML page carries its style and its figures (inline SVG) inside it and loads nothing, so it
opens offline, can be mailed or archived, and renders the same in any browser. Text written
with backticks (```name```) is shown as code in both formats, and ``[text](relative/path)`` as
a link. Pages of the leaderboard site (:mod:`~nasbench.results.site`) also carry a few lines of
script that sort every table by any column (:data:`SORT_SCRIPT`).
"""

from __future__ import annotations

import datetime as _dt
import html
import re
from dataclasses import dataclass, field
from pathlib import Path

_CODE = re.compile(r"`([^`]+)`")
_LINK = re.compile(r"\[([^\]\[]+)\]\(([^()\s]+)\)")

SORT_SCRIPT = """
(function () {
  function fail(message) {
    var box = document.getElementById("js-error") || document.createElement("pre");
    box.id = "js-error";
    box.textContent += String(message) + "\\n";
    document.body.appendChild(box);
  }
  window.onerror = function (message, source, line) { fail(message + " (line " + line + ")"); };
  var NUMBER = /^[\\[(]?\\s*([-+\u2212]?[0-9][0-9,]*(?:\\.[0-9]+)?(?:e[-+]?[0-9]+)?)/i;
  function key(cell) {
    var text = cell ? cell.textContent.trim() : "";
    var m = text.match(NUMBER);
    return m ? {n: parseFloat(m[1].replace(/,/g, "").replace("\u2212", "-")), t: text}
             : {n: null, t: text};
  }
  function sortTable(table, col, descending) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[col]), y = key(b.cells[col]), c;
      if (x.n !== null && y.n !== null) { c = x.n - y.n; }
      else if (x.n !== null) { return -1; }
      else if (y.n !== null) { return 1; }
      else if (x.t === "\u2013" || y.t === "\u2013") { return x.t === "\u2013" ? 1 : -1; }
      else { c = x.t.localeCompare(y.t); }
      return descending ? -c : c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    var heads = table.tHead.rows[0].cells;
    for (var j = 0; j < heads.length; j++) { heads[j].removeAttribute("aria-sort"); }
    heads[col].setAttribute("aria-sort", descending ? "descending" : "ascending");
    table.setAttribute("data-sorted", col + ":" + (descending ? "desc" : "asc"));
  }
  try {
    var tables = document.querySelectorAll("table");
    Array.prototype.forEach.call(tables, function (table, i) {
      table.setAttribute("data-table", i);
      if (!table.tHead || !table.tBodies.length) { return; }
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
        th.className += " sortable";
        th.title = "sort by this column";
        th.addEventListener("click", function () {
          sortTable(table, col, table.getAttribute("data-sorted") === col + ":asc");
        });
      });
    });
    // Self-test hook: #click=T:C[:K] clicks header C of table T, K times (default once).
    var m = location.hash.match(/^#click=(\\d+):(\\d+)(?::(\\d+))?$/);
    if (m) {
      var th = tables[+m[1]].tHead.rows[0].cells[+m[2]];
      for (var k = 0; k < (m[3] ? +m[3] : 1); k++) { th.click(); }
    }
    document.documentElement.setAttribute("data-ready", "1");
  } catch (err) { fail(err); }
})();
"""
"""Sorts a table by a column when its header is clicked (numbers by value, missing values
last; a second click reverses), and writes any script error into the page (``#js-error``)
so that a headless browser's DOM shows it."""

_STYLE = """
body{font-family:-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#1d1d1f;
background:#fff;line-height:1.45}
main{max-width:1100px;margin:0 auto;padding:24px 28px 64px}
h1{font-size:1.7em;margin:.2em 0 .4em}h2{font-size:1.35em;margin-top:2em;border-bottom:1px solid
#ddd;padding-bottom:.2em}h3{font-size:1.1em;margin-top:1.6em}h4{font-size:1em}
code{font-family:"DejaVu Sans Mono",Menlo,monospace;font-size:.88em;background:#f3f3f5;
padding:0 .25em;border-radius:3px}
table{border-collapse:collapse;margin:.6em 0 1em;font-size:.88em;display:block;overflow-x:auto}
th,td{border:1px solid #d8d8dc;padding:.25em .55em;white-space:nowrap}
th{background:#f3f3f5;text-align:center}td.num{text-align:right;font-variant-numeric:tabular-nums}
caption{caption-side:top;text-align:left;font-weight:600;padding:.3em 0}
figure{margin:1em 0 1.4em}figure svg{max-width:100%;height:auto}
figcaption{font-size:.85em;color:#555;margin-top:.3em}
nav{background:#f7f7f9;border:1px solid #e3e3e8;padding:.6em 1em;font-size:.9em}
nav ul{margin:.2em 0;padding-left:1.2em}.meta{color:#666;font-size:.85em}
th.sortable{cursor:pointer}th[aria-sort=ascending]::after{content:" \\25B2"}
th[aria-sort=descending]::after{content:" \\25BC"}#js-error{color:#b00020}
"""


def _inline_html(text: str) -> str:
    # A link may hold code (``[`name`](page.html)``): links first, then code inside them.
    pieces = _LINK.split(text)
    out = []
    for i in range(0, len(pieces), 3):
        out.append(_code_html(pieces[i]))
        if i + 2 < len(pieces):
            out.append(f'<a href="{html.escape(pieces[i + 2], quote=True)}">'
                       f"{_code_html(pieces[i + 1])}</a>")
    return "".join(out)


def _code_html(text: str) -> str:
    parts = _CODE.split(text)
    return "".join(f"<code>{html.escape(p)}</code>" if i % 2 else html.escape(p)
                   for i, p in enumerate(parts))


def _numeric(cell: str) -> bool:
    return bool(re.match(r"^[\s<>±\[\]\-+–.,0-9%e]*$", cell)) and any(c.isdigit() for c in cell)


@dataclass
class Heading:
    level: int
    text: str
    anchor: str = ""


@dataclass
class Paragraph:
    text: str


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    caption: str = ""


@dataclass
class Figure:
    svg: str
    caption: str = ""


Block = Heading | Paragraph | Bullets | Table | Figure


@dataclass
class Document:
    """An ordered list of blocks with a title."""

    title: str
    blocks: list[Block] = field(default_factory=list)

    def heading(self, level: int, text: str) -> None:
        anchor = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
        taken = {b.anchor for b in self.blocks if isinstance(b, Heading)}
        base, i = anchor or "section", 1
        while anchor in taken or not anchor:
            i += 1
            anchor = f"{base}-{i}"
        self.blocks.append(Heading(level, text, anchor))

    def paragraph(self, text: str) -> None:
        self.blocks.append(Paragraph(text))

    def bullets(self, items: list[str]) -> None:
        self.blocks.append(Bullets(list(items)))

    def table(self, header: list[str], rows: list[list[str]], caption: str = "") -> None:
        self.blocks.append(Table(list(header), [list(r) for r in rows], caption))

    def figure(self, svg: str, caption: str = "") -> None:
        self.blocks.append(Figure(svg, caption))

    def extend(self, other: Document) -> None:
        self.blocks.extend(other.blocks)

    # -- Markdown ------------------------------------------------------------------------------
    def markdown(self) -> str:
        """The document as Markdown; figures are left to the HTML page and named by caption."""
        lines = [f"# {self.title}", ""]
        for block in self.blocks:
            if isinstance(block, Heading):
                lines += [f"{'#' * (block.level + 1)} {block.text}", ""]
            elif isinstance(block, Paragraph):
                lines += [block.text, ""]
            elif isinstance(block, Bullets):
                lines += [f"- {item}" for item in block.items] + [""]
            elif isinstance(block, Table):
                if block.caption:
                    lines += [f"**{block.caption}**", ""]
                lines.append("| " + " | ".join(block.header) + " |")
                lines.append("|" + "|".join("---" if i == 0 else "---:"
                                            for i in range(len(block.header))) + "|")
                lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |"
                          for row in block.rows]
                lines.append("")
            elif isinstance(block, Figure) and block.caption:
                lines += [f"*Figure (in report.html): {block.caption}*", ""]
        return "\n".join(lines).rstrip() + "\n"

    # -- HTML ----------------------------------------------------------------------------------
    def html(self, generator: str = "nasbench", *, sortable: bool = False) -> str:
        """The document as one self-contained HTML page (inline style and SVG; with
        ``sortable``, the inline :data:`SORT_SCRIPT` too, and nothing loaded from elsewhere)."""
        toc = [b for b in self.blocks if isinstance(b, Heading) and b.level <= 2]
        body: list[str] = [f"<h1>{_inline_html(self.title)}</h1>",
                           f'<p class="meta">Generated by {html.escape(generator)} on '
                           f"{_dt.datetime.now(_dt.UTC).isoformat(timespec='seconds')}.</p>"]
        if len(toc) > 2:
            items = "".join(
                f'<li style="margin-left:{(b.level - 1) * 1.2}em"><a href="#{b.anchor}">'
                f"{_inline_html(b.text)}</a></li>" for b in toc)
            body.append(f"<nav><strong>Contents</strong><ul>{items}</ul></nav>")
        for block in self.blocks:
            body.append(_block_html(block))
        return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                f"<title>{html.escape(self.title)}</title><style>{_STYLE}</style></head>"
                f"<body><main>\n" + "\n".join(body) + "\n</main>"
                + (f"<script>{SORT_SCRIPT}</script>" if sortable else "")
                + "</body></html>\n")

    def write(self, directory: Path, stem: str) -> tuple[Path, Path]:
        """Write ``<stem>.md`` and ``<stem>.html`` into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        md, page = directory / f"{stem}.md", directory / f"{stem}.html"
        md.write_text(self.markdown())
        page.write_text(self.html())
        return md, page


def _block_html(block: Block) -> str:
    if isinstance(block, Heading):
        tag = f"h{min(block.level + 1, 6)}"
        return f'<{tag} id="{block.anchor}">{_inline_html(block.text)}</{tag}>'
    if isinstance(block, Paragraph):
        return f"<p>{_inline_html(block.text)}</p>"
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{_inline_html(i)}</li>" for i in block.items) + "</ul>"
    if isinstance(block, Table):
        caption = f"<caption>{_inline_html(block.caption)}</caption>" if block.caption else ""
        head = "".join(f"<th>{_inline_html(h)}</th>" for h in block.header)
        rows = "".join(
            "<tr>" + "".join(
                f'<td class="num">{_inline_html(c)}</td>' if j and _numeric(c)
                else f"<td>{_inline_html(c)}</td>" for j, c in enumerate(row)) + "</tr>"
            for row in block.rows)
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    caption = f"<figcaption>{_inline_html(block.caption)}</figcaption>" if block.caption else ""
    return f"<figure>{block.svg}{caption}</figure>"
