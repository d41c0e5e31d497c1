"""Shared pieces of the Herald reports: the self-contained HTML page (CSS, Chart.js and the chart
glue inlined from reports/templates and reports/node_modules), escaping and number formatting.
Python 3 standard library only."""

import html
import json
import os
import statistics

REPORTS_DIR = os.path.dirname(os.path.abspath(__file__))
TEMPLATES_DIR = os.path.join(REPORTS_DIR, "templates")
CHARTJS_PATH = os.path.join(REPORTS_DIR, "node_modules", "chart.js", "dist", "chart.umd.min.js")
CHARTJS_PACKAGE = os.path.join(REPORTS_DIR, "node_modules", "chart.js", "package.json")

HERALD_COLOUR = "#0f766e"
NATS_COLOUR = "#64748b"
BAD_COLOUR = "#dc2626"
WARN_COLOUR = "#d97706"
GOOD_COLOUR = "#16a34a"


class MissingChartJs(Exception):
    pass


def esc(value):
    return html.escape(str(value), quote=True)


def read_template(name):
    with open(os.path.join(TEMPLATES_DIR, name), encoding="utf-8") as f:
        return f.read()


def chartjs_source():
    """The minified Chart.js UMD build without its source-map comment (the page is offline)."""
    if not os.path.exists(CHARTJS_PATH):
        raise MissingChartJs(
            f"{CHARTJS_PATH} is missing: run `npm install` in {REPORTS_DIR} (make bench does it)")
    with open(CHARTJS_PATH, encoding="utf-8") as f:
        source = f.read()
    lines = [line for line in source.splitlines() if not line.startswith("//# sourceMappingURL")]
    source = "\n".join(lines)
    if "</script" in source.lower():
        raise ValueError("Chart.js source contains </script>: cannot inline it")
    return source


def chartjs_version():
    try:
        with open(CHARTJS_PACKAGE, encoding="utf-8") as f:
            return json.load(f).get("version", "?")
    except OSError:
        return "?"


def script_json(value):
    """JSON that is safe inside <script type="application/json">."""
    text = json.dumps(value, separators=(",", ":"))
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def page(kind, title, subtitle, body, charts, footer):
    """The whole HTML document. `charts` is a list of {id, type, data, options} specs."""
    replacements = {
        "{{generator}}": esc(f"herald reports/{kind}_report.py, Chart.js {chartjs_version()}"),
        "{{title}}": esc(title),
        "{{kind}}": esc(kind),
        "{{subtitle}}": subtitle,
        "{{css}}": read_template("report.css"),
        "{{body}}": body,
        "{{footer}}": footer,
        "{{chart_specs}}": script_json(charts),
        "{{chartjs}}": chartjs_source(),
        "{{charts_js}}": read_template("charts.js"),
    }
    document = read_template("page.html")
    # One pass, so text inserted for one placeholder is never scanned for another.
    out, i = [], 0
    while True:
        j = document.find("{{", i)
        if j < 0:
            out.append(document[i:])
            break
        k = document.find("}}", j)
        key = document[j:k + 2]
        out.append(document[i:j])
        out.append(replacements.get(key, key))
        i = k + 2
    return "".join(out)


def chart_block(chart_id, title, wide=False, tall=False, height=None):
    """A titled chart panel; `height` (px) overrides the CSS height, e.g. for one bar per row."""
    classes = "chart" + (" wide" if wide else "") + (" tall" if tall else "")
    style = f' style="height:{int(height)}px"' if height else ""
    return (f'<div class="{classes}"><h3>{esc(title)}</h3>'
            f'<div class="box"{style}><canvas id="{esc(chart_id)}" role="img" aria-label="{esc(title)}"></canvas></div></div>')


def table(headers, rows, table_id=None, row_classes=None, numeric=None):
    """headers: list of str; rows: list of lists of already-escaped HTML cells."""
    numeric = numeric or set()
    attr = f' id="{esc(table_id)}"' if table_id else ""
    out = [f"<table{attr}><thead><tr>"]
    for i, h in enumerate(headers):
        out.append(f'<th{" class=num" if i in numeric else ""}>{esc(h)}</th>')
    out.append("</tr></thead><tbody>")
    for r, row in enumerate(rows):
        cls = row_classes[r] if row_classes and row_classes[r] else ""
        out.append(f'<tr{f" class={cls}" if cls else ""}>')
        for i, cell in enumerate(row):
            out.append(f'<td{" class=num" if i in numeric else ""}>{cell}</td>')
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def md_table(headers, rows, right=None):
    right = right or set()
    out = ["| " + " | ".join(headers) + " |",
           "| " + " | ".join("---:" if i in right else "---" for i in range(len(headers))) + " |"]
    for row in rows:
        out.append("| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |")
    return "\n".join(out)


def si(value, digits=3):
    """12,345,678 -> '12.3 M'."""
    if value is None:
        return "–"
    v = abs(value)
    for limit, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if v >= limit:
            return f"{value / limit:.{digits}g} {suffix}"
    return f"{value:.{digits}g}"


def grouped(value):
    return "–" if value is None else f"{value:,.0f}"


def duration_ns(ns):
    if ns is None:
        return "–"
    if ns >= 1e9:
        return f"{ns / 1e9:.3g} s"
    if ns >= 1e6:
        return f"{ns / 1e6:.3g} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.3g} µs"
    return f"{ns:.3g} ns"


def pct(change):
    return "–" if change is None else f"{change * 100:+.1f}%"


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def quartiles(values):
    """(q1, q3) by the inclusive method, or (min, max) below 4 values."""
    values = sorted(v for v in values if v is not None)
    if not values:
        return None, None
    if len(values) < 4:
        return values[0], values[-1]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[2]


def write_text(path, text):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
