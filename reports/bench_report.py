#!/usr/bin/env python3
"""Benchmark report: turns a micro-benchmark run (bench/micro.sh, google-benchmark JSON) and a
side-by-side macro run (bench/compare.sh JSON) into a summary JSON, one self-contained HTML page
with Chart.js charts, and a Markdown summary, each compared with a baseline summary
(reports/baseline/bench.json) so regressions stand out. `check` exits 1 when a benchmark falls
more than the noise margin below the baseline (see reports/README.md for the rule).

  bench_report.py render   (--micro M.json --macro C.json | --summary S.json)
                           [--baseline B.json] [--summary-out S.json] [--html OUT.html] [--md OUT.md]
  bench_report.py check    (--micro M.json --macro C.json | --summary S.json) --baseline B.json
                           [--margin 0.25]
  bench_report.py baseline (--micro M.json --macro C.json | --summary S.json) --out B.json

Python 3 standard library only."""

import argparse
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report_page as rp  # noqa: E402

SCHEMA = "herald-bench-summary/1"
DEFAULT_MARGIN = 0.30
UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
# Left out of the matrix, and why; shown in every report so nobody reads absence as a pass.
NOT_MEASURED = [
    ("a raft append/commit round (micro)", "no benchmark yet (the raft module has none)"),
]


# ---------------------------------------------------------------------------------------------
# Summaries


def summarize_micro(raw):
    """google-benchmark JSON (possibly with repetitions) -> per-benchmark medians and spread."""
    context = dict(raw.get("context", {}))
    runs = {}
    order = []
    for b in raw.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration" or b.get("error_occurred"):
            continue
        name = b.get("run_name", b["name"])
        if name not in runs:
            runs[name] = []
            order.append(name)
        runs[name].append(b)
    # Registration order (family, then instance), whatever order the repetitions ran in: micro.sh
    # interleaves them randomly.
    order.sort(key=lambda n: (runs[n][0].get("family_index", 0), runs[n][0].get("per_family_instance_index", 0)))
    benchmarks = []
    for name in order:
        reps = runs[name]
        scale = UNIT_NS.get(reps[0].get("time_unit", "ns"), 1.0)
        times = [r["real_time"] * scale for r in reps]
        items = [r.get("items_per_second") for r in reps if r.get("items_per_second") is not None]
        byts = [r.get("bytes_per_second") for r in reps if r.get("bytes_per_second") is not None]
        allocs = [r.get("allocs/op") for r in reps if r.get("allocs/op") is not None]
        benchmarks.append({
            "name": name,
            "family": name.split("/")[0],
            "reps": len(reps),
            "time_ns": {"median": rp.median(times), "min": min(times), "max": max(times)},
            "items_per_second": ({"median": rp.median(items), "min": min(items), "max": max(items)}
                                 if items else None),
            "bytes_per_second": ({"median": rp.median(byts), "min": min(byts), "max": max(byts)}
                                 if byts else None),
            "allocs_per_op": rp.median(allocs) if allocs else None,
        })
    keep = ("date", "host_name", "num_cpus", "mhz_per_cpu", "library_build_type", "load_avg",
            "herald")
    return {"context": {k: context[k] for k in keep if k in context}, "benchmarks": benchmarks}


def summarize_macro(raw):
    cases = []
    for case, entry in raw.get("summary", {}).items():
        item = {k: entry.get(k) for k in ("label", "metric", "unit", "higher_is_better")}
        item["case"] = case
        for server in ("nats", "herald"):
            e = entry.get(server)
            if not e:
                item[server] = None
                continue
            values = e.get("values")
            if values is None:  # compare.sh before min/max were recorded: rebuild from runs.
                values = [_get(r, entry["metric"]) for r in raw.get("runs", [])
                          if r.get("case") == case and r.get("server") == server and r.get("ok")]
            values = [v for v in values if v is not None]
            q1, q3 = rp.quartiles(values)
            item[server] = {
                "median": e.get("median"), "min": min(values) if values else None,
                "max": max(values) if values else None, "q1": q1, "q3": q3, "values": values,
                "runs": e.get("runs"), "ok_runs": e.get("ok_runs"), "errors": e.get("errors", []),
            }
            for extra in ("p99_median", "pub_median"):
                if extra in e:
                    item[server][extra] = e[extra]
        n = (item.get("nats") or {}).get("median")
        h = (item.get("herald") or {}).get("median")
        item["ratio"] = (h / n) if (n and h) else None
        # How many times better Herald is: the ratio for rates, its inverse for latencies.
        if item["ratio"]:
            item["advantage"] = item["ratio"] if item["higher_is_better"] else 1 / item["ratio"]
        else:
            item["advantage"] = None
        cases.append(item)
    return {"machine": raw.get("machine", {}), "cases": cases}


def _get(row, key):
    for part in key.split("."):
        row = row.get(part) if isinstance(row, dict) else None
    return row


def load_summary(args):
    if getattr(args, "summary", None):
        with open(args.summary) as f:
            summary = json.load(f)
        if summary.get("schema") != SCHEMA:
            sys.exit(f"{args.summary}: not a {SCHEMA} file")
        return summary
    micro = macro = None
    if args.micro:
        with open(args.micro) as f:
            micro = summarize_micro(json.load(f))
    if args.macro:
        with open(args.macro) as f:
            macro = summarize_macro(json.load(f))
    if micro is None and macro is None:
        sys.exit("give --micro and/or --macro, or --summary")
    machine = {}
    if micro:
        h = micro["context"].get("herald", {})
        machine = {"date": micro["context"].get("date"), "commit": h.get("commit"),
                   "cpu": h.get("cpu"), "cores": micro["context"].get("num_cpus"),
                   "kernel": h.get("kernel")}
    if macro:
        machine.update({k: v for k, v in macro["machine"].items() if v not in (None, "")})
    return {"schema": SCHEMA, "machine": machine, "micro": micro, "macro": macro}


def load_baseline(path):
    if not path:
        return None
    if not os.path.exists(path):
        print(f"note: no baseline at {path}", file=sys.stderr)
        return None
    with open(path) as f:
        baseline = json.load(f)
    if baseline.get("schema") != SCHEMA:
        sys.exit(f"{path}: not a {SCHEMA} file")
    return baseline


# ---------------------------------------------------------------------------------------------
# Comparison with the baseline


def micro_metric(b):
    """(median, best) of the rate compared: items/s, or operations/s from the time."""
    if b.get("items_per_second"):
        return b["items_per_second"]["median"], b["items_per_second"]["max"]
    t = b["time_ns"]
    return 1e9 / t["median"], 1e9 / t["min"]


def compare(summary, baseline, margin):
    """Marks every micro benchmark and macro case with its change against the baseline.
    A regression: the best repetition is more than `margin` below the baseline median (noise on a
    shared machine only slows runs down); for macro cases, also Herald's advantage over
    nats-server (measured alternately, so it cancels the machine's load) fell by more than
    `margin` (when nats-server was measured in both)."""
    out = {"margin": margin, "micro": {}, "macro": {}, "baseline": None, "regressions": [], "missing": []}
    if not baseline:
        return out
    out["baseline"] = baseline.get("machine", {})
    base_micro = {b["name"]: b for b in (baseline.get("micro") or {}).get("benchmarks", [])}
    for b in (summary.get("micro") or {}).get("benchmarks", []):
        base = base_micro.get(b["name"])
        if not base:
            out["micro"][b["name"]] = {"status": "new"}
            continue
        med, best = micro_metric(b)
        base_med, _ = micro_metric(base)
        change, best_change = med / base_med - 1, best / base_med - 1
        if best_change < -margin:
            status = "regression"
        elif change < -margin:
            status = "noisy"
        elif change > margin:
            status = "faster"
        else:
            status = "same"
        out["micro"][b["name"]] = {"status": status, "change": change, "best_change": best_change,
                                   "baseline": base_med}
        if status == "regression":
            out["regressions"].append(
                f"micro {b['name']}: best {rp.si(best)}/s vs baseline {rp.si(base_med)}/s "
                f"({rp.pct(best_change)}, margin -{margin * 100:.0f}%)")
    current_micro = {b["name"] for b in (summary.get("micro") or {}).get("benchmarks", [])}
    out["micro_absent"] = [n for n in base_micro if n not in current_micro] if summary.get("micro") else []
    base_macro = {c["case"]: c for c in (baseline.get("macro") or {}).get("cases", [])}
    for c in (summary.get("macro") or {}).get("cases", []):
        base = base_macro.get(c["case"])
        h, bh = c.get("herald"), (base or {}).get("herald")
        if base and bh and bh.get("median") is not None and (not h or h.get("median") is None):
            if h and h.get("runs"):
                # Herald ran and failed every repetition of a case it passed in the baseline.
                out["macro"][c["case"]] = {"status": "regression"}
                out["regressions"].append(f"macro {c['label']}: Herald failed all {h['runs']} runs "
                                          f"({'; '.join(h.get('errors') or [])}); the baseline passed")
            else:
                out["macro"][c["case"]] = {"status": "missing"}
                out["missing"].append(f"macro {c['label']}: Herald not measured (the baseline has it)")
            continue
        if not base or not h or not bh or h.get("median") is None or bh.get("median") is None:
            out["macro"][c["case"]] = {"status": "new" if not base else "n/a"}
            continue
        higher = c["higher_is_better"]
        best = h["max"] if higher else h["min"]
        change = (h["median"] / bh["median"] - 1) if higher else (bh["median"] / h["median"] - 1)
        best_change = (best / bh["median"] - 1) if higher else (bh["median"] / best - 1)
        adv_change = None
        if c.get("advantage") and base.get("advantage"):
            adv_change = c["advantage"] / base["advantage"] - 1
        herald_down = best_change < -margin
        advantage_down = adv_change is None or adv_change < -margin
        if herald_down and advantage_down:
            status = "regression"
        elif change < -margin:
            status = "noisy"
        elif change > margin:
            status = "faster"
        else:
            status = "same"
        out["macro"][c["case"]] = {"status": status, "change": change, "best_change": best_change,
                                   "advantage_change": adv_change, "baseline": bh["median"],
                                   "baseline_advantage": base.get("advantage")}
        if status == "regression":
            out["regressions"].append(
                f"macro {c['label']}: Herald best {fmt_metric(best, c['unit'])} vs baseline median "
                f"{fmt_metric(bh['median'], c['unit'])} ({rp.pct(best_change)}); advantage over "
                f"nats-server {rp.pct(adv_change)} (margin -{margin * 100:.0f}%)")
    return out


def fmt_metric(value, unit):
    if value is None:
        return "–"
    if unit and unit.startswith("us"):
        return f"{value:,.1f} µs"
    return f"{rp.si(value)} msg/s"


STATUS_TEXT = {
    "regression": ("bad", "REGRESSION"), "noisy": ("warn", "slower, within noise"),
    "faster": ("good", "faster"), "same": ("muted", "same"), "new": ("muted", "new"),
    "n/a": ("muted", "n/a"), "missing": ("bad", "not measured"),
}


def status_html(cmp_entry):
    if not cmp_entry:
        return '<span class="muted">no baseline</span>'
    cls, text = STATUS_TEXT[cmp_entry["status"]]
    change = cmp_entry.get("change")
    extra = f" {rp.pct(change)}" if change is not None else ""
    return f'<span class="{cls}">{rp.esc(text)}{rp.esc(extra)}</span>'


def status_md(cmp_entry):
    if not cmp_entry:
        return "no baseline"
    text = STATUS_TEXT[cmp_entry["status"]][1]
    change = cmp_entry.get("change")
    text = f"**{text}**" if cmp_entry["status"] == "regression" else text
    return text + (f" {rp.pct(change)}" if change is not None else "")


def confirm_micro(summary, cmp, binary, baseline, margin):
    """Runs the micro benchmarks marked as regressions again (5 repetitions, interleaved) and
    merges them into `summary`: the best of all repetitions counts, the median is the new run's.
    A burst of load from another process hits all consecutive repetitions of one benchmark;
    a second, later run shows whether the slowdown stays. Returns the new comparison."""
    names = [n for n, e in cmp["micro"].items() if e["status"] == "regression"]
    if not names:
        return cmp
    pattern = "^(" + "|".join(re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", n) for n in names) + ")$"
    print(f"bench-check: confirming {len(names)} micro regression(s) with a second run", file=sys.stderr)
    proc = subprocess.run([binary, f"--benchmark_filter={pattern}", "--benchmark_repetitions=5",
                           "--benchmark_min_time=0.2", "--benchmark_enable_random_interleaving=true",
                           "--benchmark_format=json"], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        print(f"bench-check: confirmation run failed (exit {proc.returncode}); keeping the first verdict",
              file=sys.stderr)
        return cmp
    again = {b["name"]: b for b in summarize_micro(json.loads(proc.stdout))["benchmarks"]}
    for b in summary["micro"]["benchmarks"]:
        new = again.get(b["name"])
        if not new:
            continue
        for key, best in (("items_per_second", max), ("bytes_per_second", max), ("time_ns", min)):
            if b.get(key) and new.get(key):
                merged = dict(new[key])
                worst = min if best is max else max
                merged["max" if best is max else "min"] = best(b[key]["max" if best is max else "min"],
                                                               new[key]["max" if best is max else "min"])
                merged["min" if best is max else "max"] = worst(b[key]["min" if best is max else "max"],
                                                                new[key]["min" if best is max else "max"])
                b[key] = merged
        b["reps"] = b.get("reps", 0) + new["reps"]
        b["confirmed_by_rerun"] = True
    return compare(summary, baseline, margin)


# ---------------------------------------------------------------------------------------------
# Rendering


def machine_line(m):
    parts = []
    if m.get("commit"):
        parts.append(f"commit {m['commit']}")
    if m.get("cpu"):
        parts.append(f"{m['cpu']}, {m.get('cores', '?')} cores")
    if m.get("kernel"):
        parts.append(m["kernel"])
    if m.get("nats_server"):
        parts.append(m["nats_server"])
    if m.get("herald_server_built"):
        parts.append(f"herald-server built {m['herald_server_built']}")
    load = []
    if m.get("loadavg_at_start"):
        load.append(f"{m['loadavg_at_start']} at start")
    if m.get("loadavg_at_end"):
        load.append(f"{m['loadavg_at_end']} at end")
    if load:
        parts.append("load average " + ", ".join(load))
    if m.get("date"):
        parts.append(m["date"])
    return "; ".join(str(p) for p in parts)


def spread_text(e, unit):
    if not e or e.get("min") is None:
        return ""
    lat = unit and unit.startswith("us")
    f = (lambda v: f"{v:,.1f}") if lat else (lambda v: rp.si(v))
    n = len(e.get("values") or [])
    runs = e.get("runs") or n
    count = f"n={n}" if runs == n else f"n={n} of {runs} runs"
    return f"{f(e['min'])}–{f(e['max'])} ({count})"


def macro_failures(macro):
    """'herald pubsub 1:1 1 KiB: 2 of 3 runs ok (...)' for every cell with a failed run; a server
    that fails a case is skipped for its later repetitions (bench/compare.sh)."""
    out = []
    for c in macro["cases"]:
        for server, name in (("nats", "nats-server"), ("herald", "Herald")):
            e = c.get(server) or {}
            if e.get("errors"):
                out.append(f"{name} {c['label']}: {e.get('ok_runs')} of {e.get('runs')} runs ok, later "
                           f"repetitions skipped; {'; '.join(e['errors'])}")
    return out


def value_text(e, unit):
    if not e:
        return "n/a"
    if e.get("median") is None:
        return "fail"
    if unit and unit.startswith("us"):
        return f"{e['median']:,.1f}"
    return rp.grouped(e["median"])


def render(summary, cmp, html_path, md_path):
    macro = summary.get("macro") or {"cases": []}
    micro = summary.get("micro") or {"benchmarks": []}
    machine = summary.get("machine", {})
    margin = cmp["margin"]
    charts = []
    body = []

    # Headline cards.
    regressions = cmp["regressions"]
    advs = [c["advantage"] for c in macro["cases"] if c.get("advantage")]
    cards = [
        ("Scenarios vs nats-server", str(len(macro["cases"])), ""),
        ("Herald ahead in", f"{sum(1 for a in advs if a >= 1)} of {len(advs)}",
         "good" if advs and all(a >= 1 for a in advs) else "warn"),
        ("Micro benchmarks", str(len(micro["benchmarks"])), ""),
        ("Regressions vs baseline", str(len(regressions)) if cmp["baseline"] else "no baseline",
         ("bad" if regressions else "good") if cmp["baseline"] else ""),
    ]
    body.append('<section class="cards" id="cards">' + "".join(
        f'<div class="card {cls}"><div class="label">{rp.esc(label)}</div>'
        f'<div class="value">{rp.esc(value)}</div></div>' for label, value, cls in cards) + "</section>")
    if cmp["baseline"]:
        body.append(f'<p class="note">Baseline: {rp.esc(machine_line(cmp["baseline"]))}. A regression is a '
                    f'benchmark whose <em>best</em> repetition is more than {margin * 100:.0f}% below the '
                    f'baseline median (for side-by-side cases: and Herald\'s advantage over nats-server '
                    f'also fell by more than {margin * 100:.0f}%).</p>')
    if regressions:
        body.append('<section id="regressions"><h2 class="bad">Regressions</h2><ul>' +
                    "".join(f"<li>{rp.esc(r)}</li>" for r in regressions) + "</ul></section>")
    if cmp["missing"]:
        body.append('<section id="missing"><h2 class="bad">Not measured in this run</h2><ul>' +
                    "".join(f"<li>{rp.esc(m)}</li>" for m in cmp["missing"]) + "</ul></section>")

    # Side by side.
    if macro["cases"]:
        body.append('<section id="macro"><h2>Herald vs nats-server, side by side</h2>')
        body.append(f'<p class="note">{rp.esc(machine_line(macro.get("machine", {})))}; '
                    f'{rp.esc(macro.get("machine", {}).get("reps", "?"))} repetitions per cell, the '
                    'servers alternating; median with min–max of the repetitions.</p>')
        rows, classes = [], []
        for c in macro["cases"]:
            ce = cmp["macro"].get(c["case"]) if cmp["baseline"] else None
            ratio = c.get("ratio")
            ratio_cell = "–" if ratio is None else (
                f'{ratio:.2f}' + ("" if c["higher_is_better"] else ' <span class="muted">(lower is better)</span>'))
            adv = c.get("advantage")
            adv_cls = "good" if adv and adv >= 1 else "bad"
            rows.append([
                rp.esc(c["label"]), rp.esc(c["unit"]),
                rp.esc(value_text(c.get("nats"), c["unit"])),
                f'<span class="muted">{rp.esc(spread_text(c.get("nats"), c["unit"]))}</span>',
                f'<span class="herald">{rp.esc(value_text(c.get("herald"), c["unit"]))}</span>',
                f'<span class="muted">{rp.esc(spread_text(c.get("herald"), c["unit"]))}</span>',
                f'<span class="{adv_cls}">{ratio_cell}</span>',
                status_html(ce) if cmp["baseline"] else '<span class="muted">no baseline</span>',
            ])
            classes.append({"regression": "regression", "faster": "improvement"}.get((ce or {}).get("status"), ""))
        body.append(rp.table(["scenario", "metric", "nats-server", "spread", "Herald", "spread",
                              "Herald/nats", "Herald vs baseline"], rows, "macro-table", classes,
                             numeric={2, 3, 4, 5, 6}))
        failures = macro_failures(macro)
        if failures:
            body.append('<p class="bad">Failed runs:</p><ul id="macro-failures">' +
                        "".join(f"<li>{rp.esc(x)}</li>" for x in failures) + "</ul>")
        body.append('<div class="charts">')
        body.append(rp.chart_block("chart-advantage", "How many times better Herald is than nats-server "
                                   "(rates: Herald/nats; latency: nats/Herald; 1× = parity)", wide=True))
        labels = [c["label"] for c in macro["cases"]]
        datasets = [{"label": "this run", "data": [c.get("advantage") for c in macro["cases"]],
                     "backgroundColor": [rp.HERALD_COLOUR if (c.get("advantage") or 0) >= 1 else rp.BAD_COLOUR
                                         for c in macro["cases"]]}]
        if cmp["baseline"]:
            datasets.append({"label": "baseline", "backgroundColor": "#cbd5e1",
                             "data": [(cmp["macro"].get(c["case"]) or {}).get("baseline_advantage")
                                      for c in macro["cases"]]})
        charts.append({"id": "chart-advantage", "type": "bar",
                       "data": {"labels": labels, "datasets": datasets},
                       "options": {"indexAxis": "y", "plugins": {"legend": {"position": "bottom"}},
                                   "scales": {"x": {"beginAtZero": True, "ticks": {"format": "ratio"}}}}})
        for i, c in enumerate(macro["cases"]):
            cid = f"chart-case-{i}"
            unit = c["unit"]
            lat = unit.startswith("us")
            body.append(rp.chart_block(cid, f"{c['label']} ({'µs, lower is better' if lat else unit})"))
            n, h = c.get("nats") or {}, c.get("herald") or {}
            bars = [n.get("median"), h.get("median")]
            ranges = [[n.get("min"), n.get("max")] if n.get("min") is not None else None,
                      [h.get("min"), h.get("max")] if h.get("min") is not None else None]
            case_labels = ["nats-server", "Herald"]
            colours = [rp.NATS_COLOUR, rp.HERALD_COLOUR]
            ce = cmp["macro"].get(c["case"]) or {}
            if ce.get("baseline") is not None:
                case_labels.append("Herald baseline")
                bars.append(ce["baseline"])
                ranges.append(None)
                colours.append("#99c9c4" if ce.get("status") != "regression" else rp.BAD_COLOUR)
            charts.append({"id": cid, "type": "bar", "data": {"labels": case_labels, "datasets": [
                {"label": "median", "data": bars, "backgroundColor": colours},
                {"label": "min–max", "data": ranges, "backgroundColor": "rgba(15,23,42,0.18)",
                 "borderColor": "#0f172a", "borderWidth": 1, "barPercentage": 0.35}]},
                "options": {"plugins": {"legend": {"position": "bottom"}},
                            "scales": {"x": {"stacked": True},
                                       "y": {"beginAtZero": True, "ticks": {"format": "si"}}}}})
        body.append("</div></section>")

    # Micro.
    if micro["benchmarks"]:
        ctx = micro.get("context", {})
        h = ctx.get("herald", {})
        body.append('<section id="micro"><h2>Micro benchmarks (google-benchmark)</h2>')
        note = (f"{ctx.get('num_cpus', '?')} CPUs at {ctx.get('mhz_per_cpu', '?')} MHz; "
                f"{h.get('repetitions', '?')} repetitions of at least {h.get('min_time', '?')} s each, median shown; "
                f"binary built {h.get('binary_built', '?')}; "
                f"load average {h.get('loadavg_at_start', '?')} at start, {h.get('loadavg_at_end', '?')} at end; "
                "allocs/op counts operator new per operation (bench/support/alloc_counter.h).")
        body.append(f'<p class="note">{rp.esc(note)}</p>')
        rows, classes = [], []
        for b in micro["benchmarks"]:
            ce = cmp["micro"].get(b["name"]) if cmp["baseline"] else None
            items = b.get("items_per_second") or {}
            byts = b.get("bytes_per_second") or {}
            t = b["time_ns"]
            rows.append([
                f"<code>{rp.esc(b['name'])}</code>",
                rp.esc(rp.duration_ns(t["median"])),
                f'<span class="muted">{rp.esc(rp.duration_ns(t["min"]))}–{rp.esc(rp.duration_ns(t["max"]))}</span>',
                rp.esc(rp.si(items.get("median")) + "/s" if items else "–"),
                rp.esc(rp.si(byts.get("median")) + "B/s" if byts else "–"),
                rp.esc("–" if b.get("allocs_per_op") is None else f"{b['allocs_per_op']:.3g}"),
                status_html(ce) if cmp["baseline"] else '<span class="muted">no baseline</span>',
            ])
            classes.append({"regression": "regression", "faster": "improvement"}.get((ce or {}).get("status"), ""))
        body.append(rp.table(["benchmark", "time/iter", "min–max", "items/s", "bytes/s", "allocs/op",
                              "vs baseline"], rows, "micro-table", classes, numeric={1, 2, 3, 4, 5}))
        body.append('<div class="charts">')
        if cmp["baseline"]:
            names = [b["name"] for b in micro["benchmarks"] if "change" in (cmp["micro"].get(b["name"]) or {})]
            changes = [cmp["micro"][n]["change"] * 100 for n in names]
            colours = [{"regression": rp.BAD_COLOUR, "noisy": rp.WARN_COLOUR, "faster": rp.GOOD_COLOUR}
                       .get(cmp["micro"][n]["status"], "#94a3b8") for n in names]
            body.append(rp.chart_block("chart-micro-change",
                                       f"Change vs baseline, median rate (%; red: regression beyond -{margin * 100:.0f}%)",
                                       wide=True, height=max(240, 16 * len(names) + 70)))
            charts.append({"id": "chart-micro-change", "type": "bar",
                           "data": {"labels": names, "datasets": [
                               {"label": "change %", "data": changes, "backgroundColor": colours}]},
                           "options": {"indexAxis": "y", "plugins": {"legend": {"display": False}},
                                       "scales": {"x": {"ticks": {"format": "percent"}},
                                                  "y": {"ticks": {"autoSkip": False, "font": {"size": 10}}}}}})
        families = []
        for b in micro["benchmarks"]:
            if b["family"] not in families:
                families.append(b["family"])
        for i, fam in enumerate(families):
            members = [b for b in micro["benchmarks"] if b["family"] == fam]
            cid = f"chart-micro-{i}"
            # A log axis only where the family spans more than a factor of 20 (e.g. 1 to 1M subs).
            log = max(b["time_ns"]["max"] for b in members) > 20 * min(b["time_ns"]["min"] for b in members)
            y_axis = ({"type": "logarithmic", "ticks": {"format": "ns"}} if log
                      else {"beginAtZero": True, "ticks": {"format": "ns"}})
            body.append(rp.chart_block(cid, f"{fam}: time per iteration (ns{', log scale' if log else ''}; "
                                            "median with min–max)"))
            charts.append({"id": cid, "type": "bar", "data": {
                "labels": [b["name"][len(fam) + 1:] or fam for b in members],
                "datasets": [
                    {"label": "median ns", "data": [b["time_ns"]["median"] for b in members],
                     "backgroundColor": rp.HERALD_COLOUR},
                    {"label": "min–max", "data": [[b["time_ns"]["min"], b["time_ns"]["max"]] for b in members],
                     "backgroundColor": "rgba(15,23,42,0.18)", "borderColor": "#0f172a", "borderWidth": 1,
                     "barPercentage": 0.35}]},
                "options": {"plugins": {"legend": {"position": "bottom"}},
                            "scales": {"x": {"stacked": True}, "y": y_axis}}})
        body.append("</div></section>")

    body.append('<section id="not-measured"><h2>Not measured yet</h2><ul>' + "".join(
        f"<li><strong>{rp.esc(what)}</strong>: {rp.esc(why)}</li>" for what, why in NOT_MEASURED) + "</ul></section>")
    body.append('<section id="reproduce"><h2>Reproduce</h2><pre>make bench          # micro + side by side + this report\n'
                'make bench-check    # the same, then fail on a regression beyond the margin\n'
                'bench/micro.sh; bench/compare.sh; reports/bench_report.py render --help</pre></section>')

    title = "Herald benchmarks"
    subtitle = rp.esc(machine_line(machine))
    footer = rp.esc(f"Generated by reports/bench_report.py with Chart.js {rp.chartjs_version()} inlined; "
                    "self-contained, works offline.")
    if html_path:
        rp.write_text(html_path, rp.page("bench", title, subtitle, "\n".join(body), charts, footer))
    md = render_md(summary, cmp)
    if md_path:
        rp.write_text(md_path, md)
    return md


def render_md(summary, cmp):
    macro = summary.get("macro") or {"cases": []}
    micro = summary.get("micro") or {"benchmarks": []}
    out = ["# Herald benchmarks", "", f"- {machine_line(summary.get('machine', {}))}"]
    if cmp["baseline"]:
        out.append(f"- baseline: {machine_line(cmp['baseline'])}; noise margin {cmp['margin'] * 100:.0f}%")
        out.append(f"- regressions: {len(cmp['regressions']) or 'none'}")
    for r in cmp["regressions"]:
        out.append(f"  - **{r}**")
    for m in cmp["missing"]:
        out.append(f"  - not measured: {m}")
    if macro["cases"]:
        m = macro.get("machine", {})
        out += ["", "## Herald vs nats-server, side by side", "",
                f"{m.get('reps', '?')} repetitions per cell, servers alternating; median [min–max].", ""]
        rows = []
        for c in macro["cases"]:
            ratio = c.get("ratio")
            rows.append([c["label"], c["unit"],
                         f"{value_text(c.get('nats'), c['unit'])} [{spread_text(c.get('nats'), c['unit'])}]",
                         f"{value_text(c.get('herald'), c['unit'])} [{spread_text(c.get('herald'), c['unit'])}]",
                         "–" if ratio is None else f"{ratio:.2f}" + ("" if c["higher_is_better"] else " (lower is better)"),
                         status_md(cmp["macro"].get(c["case"])) if cmp["baseline"] else "no baseline"])
        out.append(rp.md_table(["scenario", "metric", "nats-server", "Herald", "Herald/nats", "vs baseline"],
                               rows, right={2, 3, 4}))
        failures = macro_failures(macro)
        if failures:
            out += ["", "Failed runs:"] + [f"- {x}" for x in failures]
    if micro["benchmarks"]:
        out += ["", "## Micro benchmarks", ""]
        rows = []
        for b in micro["benchmarks"]:
            items = b.get("items_per_second")
            byts = b.get("bytes_per_second")
            rows.append([f"`{b['name']}`", rp.duration_ns(b["time_ns"]["median"]),
                         rp.si(items["median"]) + "/s" if items else "–",
                         rp.si(byts["median"]) + "B/s" if byts else "–",
                         "–" if b.get("allocs_per_op") is None else f"{b['allocs_per_op']:.3g}",
                         status_md(cmp["micro"].get(b["name"])) if cmp["baseline"] else "no baseline"])
        out.append(rp.md_table(["benchmark", "time/iter", "items/s", "bytes/s", "allocs/op", "vs baseline"],
                               rows, right={1, 2, 3, 4}))
    out += ["", "Not measured yet:"] + [f"- {what}: {why}" for what, why in NOT_MEASURED]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("render", "check", "baseline"):
        p = sub.add_parser(name)
        p.add_argument("--micro")
        p.add_argument("--macro")
        p.add_argument("--summary")
        if name in ("render", "check"):
            p.add_argument("--baseline")
            p.add_argument("--margin", type=float,
                           default=float(os.environ.get("BENCH_MARGIN", DEFAULT_MARGIN)))
        if name == "check":
            p.add_argument("--confirm", metavar="HERALD_MICRO_BENCH",
                           help="re-run micro regressions with this binary before failing")
        if name == "render":
            p.add_argument("--summary-out")
            p.add_argument("--html")
            p.add_argument("--md")
        if name == "baseline":
            p.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    summary = load_summary(args)
    if args.command == "baseline":
        rp.write_text(args.out, json.dumps(summary, indent=1) + "\n")
        print(f"baseline: {args.out}")
        return 0
    baseline = load_baseline(args.baseline)
    cmp = compare(summary, baseline, args.margin)
    if args.command == "render":
        if args.summary_out:
            rp.write_text(args.summary_out, json.dumps(summary, indent=1) + "\n")
        try:
            md = render(summary, cmp, args.html, args.md)
        except rp.MissingChartJs as e:
            print(f"bench_report: {e}", file=sys.stderr)
            return 2
        if not args.md:
            sys.stdout.write(md)
        for path in (args.html, args.md, args.summary_out):
            if path:
                print(f"wrote {path}", file=sys.stderr)
        return 0
    # check
    if not baseline:
        print("bench-check: no baseline to compare with", file=sys.stderr)
        return 2
    if args.confirm and summary.get("micro"):
        first = len(cmp["regressions"])
        cmp = confirm_micro(summary, cmp, args.confirm, baseline, args.margin)
        print(f"bench-check: {first} regression(s) before the confirmation run, {len(cmp['regressions'])} after",
              file=sys.stderr)
    counts = {}
    for part in ("micro", "macro"):
        for entry in cmp[part].values():
            counts[entry["status"]] = counts.get(entry["status"], 0) + 1
    print(f"bench-check: margin {args.margin * 100:.0f}% against {args.baseline} "
          f"({machine_line(cmp['baseline'])})")
    print("  " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
    for part in ("macro", "micro"):
        for name, entry in cmp[part].items():
            if entry["status"] in ("noisy",):
                print(f"  note: {part} {name} median {rp.pct(entry['change'])} but best repetition "
                      f"{rp.pct(entry['best_change'])}: within the margin")
    if cmp.get("micro_absent"):
        print(f"  note: {len(cmp['micro_absent'])} baseline micro benchmark(s) not in this run: "
              + ", ".join(cmp["micro_absent"][:5]) + (" ..." if len(cmp["micro_absent"]) > 5 else ""))
    for r in cmp["regressions"]:
        print(f"  REGRESSION {r}")
    for m in cmp["missing"]:
        print(f"  NOT MEASURED {m}")
    if cmp["regressions"]:
        print("bench-check: FAIL")
        return 1
    if cmp["missing"]:
        print("bench-check: INCOMPLETE (nothing fell below the margin, but the run lacks what the baseline has)")
        return 2
    print("bench-check: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
