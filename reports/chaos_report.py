#!/usr/bin/env python3
"""Chaos report: turns simulator swarm results into one self-contained HTML page (Chart.js
inlined) and a Markdown summary: seeds run, simulated time covered, faults fired by type, checks
run and their verdicts, COVER points never hit, and for each failure the replay command and the
shrunk scenario.

  chaos_report.py [--source-root DIR] [--shrink-with HERALD_SIM] [--shrink-dir DIR]
                  [--html OUT.html] [--md OUT.md] [--json OUT.json] INPUT...

INPUT is a swarm summary in the JSON form described in reports/README.md ("herald-sim-swarm/1"),
or the text report of `herald-sim swarm --report FILE` (what `make sim-swarm` writes under
reports/sim/); the text has no per-check verdicts of failing seeds, no per-seed simulated time and
no COVER hits, and the report says so. --source-root lists the declared COVER points and the
checker names from the sources (engine/, sim/, chaos/); --shrink-with runs `herald-sim shrink` for
each failure the input has no shrunk scenario for. Python 3 standard library only."""

import argparse
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report_page as rp  # noqa: E402

SCHEMA = "herald-sim-swarm/1"
# chaos/scenario.cc checker_names, used when no --source-root is given.
CHECKERS_DEFAULT = ["no_phantom", "no_duplicate", "order", "no_loss", "reply_matches", "queue_once",
                    "stale_detected", "liveness"]
SHRINK_FAILURES_MAX = 5      # herald-sim shrink runs per report, at most.
SHRINK_TIMEOUT_S = 300       # per shrink
SHRINK_RUNS = 300            # --runs of each shrink
PER_SEED_CHART_SEEDS_MAX = 2000
FAILURES_DETAILED_MAX = 20   # failures shown with their shrunk scenario; the rest in a table

HEADER_RE = re.compile(r"^# herald-sim swarm (\S+) seeds (\d+)\.\.(\d+) commit (\S+)")
SEED_RE = re.compile(r"^seed (\d+) (PASS|FAIL) trace ([0-9a-f]+) faults:(.*)$")
VIOLATION_RE = re.compile(r"^\s+\[([a-z_]+)\] (.*)$")
REPLAY_RE = re.compile(r"^\s+replay: (.*)$")
TAIL_RE = re.compile(r"^swarm: (\d+) of (\d+) seeds failed \(([\d.]+) simulated s in ([\d.]+) wall s\)")


def parse_text(path, text):
    """`herald-sim swarm --report` text -> the JSON form, with `missing` naming what text lacks."""
    swarm = {"schema": SCHEMA, "source": path, "format": "text", "runs": [],
             "missing": ["per-check verdicts of failing seeds beyond the first violation",
                         "simulated time per seed", "COVER hits", "shrunk scenarios"]}
    current = None
    for line in text.splitlines():
        m = HEADER_RE.match(line)
        if m:
            swarm["scenario"] = m.group(1)
            swarm["seeds"] = {"first": int(m.group(2)), "last": int(m.group(3))}
            swarm["commit"] = m.group(4)
            continue
        m = SEED_RE.match(line)
        if m:
            faults = {}
            for item in m.group(4).split():
                if "=" in item:
                    k, v = item.split("=", 1)
                    faults[k] = int(v)
            current = {"seed": int(m.group(1)), "passed": m.group(2) == "PASS", "trace": m.group(3),
                       "swarm": True, "faults": faults, "violations": []}
            swarm["runs"].append(current)
            continue
        m = VIOLATION_RE.match(line)
        if m and current is not None:
            current["violations"].append({"checker": m.group(1), "message": m.group(2)})
            continue
        m = REPLAY_RE.match(line)
        if m and current is not None:
            current["replay"] = m.group(1).strip()
            continue
        m = TAIL_RE.match(line)
        if m:
            swarm["simulated_s"] = float(m.group(3))
            swarm["wall_s"] = float(m.group(4))
    if "scenario" not in swarm:
        return None
    return swarm


def load_input(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    stripped = text.lstrip()
    if stripped.startswith("{"):
        swarm = json.loads(text)
        if swarm.get("schema") != SCHEMA:
            sys.exit(f"{path}: not a {SCHEMA} file")
        swarm.setdefault("source", path)
        swarm.setdefault("format", "json")
        swarm.setdefault("missing", [])
        return swarm
    return parse_text(path, text)


def scan_sources(root):
    """COVER names declared in the sources, and the checker names."""
    cover = set()
    checkers = None
    pattern = re.compile(r'\bCOVER\("((?:[^"\\]|\\.)*)"\)')
    for top in ("engine", "sim", "chaos", "cli"):
        base = os.path.join(root, top)
        for dirpath, _, files in os.walk(base):
            for name in files:
                if not name.endswith((".cc", ".h")):
                    continue
                with open(os.path.join(dirpath, name), encoding="utf-8", errors="replace") as f:
                    source = f.read()
                for m in pattern.finditer(source):
                    cover.add(m.group(1))
                if name == "scenario.cc" and top == "chaos":
                    m = re.search(r"checker_names\s*=\s*\{([^}]*)\}", source)
                    if m:
                        checkers = re.findall(r'"([a-z_]+)"', m.group(1))
    return sorted(cover), checkers


def scenario_checkers(swarm, all_checkers, root):
    """Which checkers a scenario runs: its run records, else its file's "checkers" field."""
    if swarm.get("checkers"):
        return swarm["checkers"]
    path = swarm.get("scenario", "")
    for candidate in (path, os.path.join(root or ".", path)):
        if candidate and os.path.exists(candidate):
            try:
                with open(candidate, encoding="utf-8") as f:
                    value = json.load(f).get("checkers", "all")
            except (OSError, ValueError):
                break
            if value == "all" or not value:
                return list(all_checkers)
            return list(value)
    return list(all_checkers)


def scenario_name(swarm):
    return swarm.get("scenario_name") or os.path.splitext(os.path.basename(swarm.get("scenario", "?")))[0]


def shrink(swarm, run, herald_sim, out_dir, budget):
    """Runs herald-sim shrink for one failure; returns {path, scenario, log} or None."""
    if budget[0] <= 0:
        return None
    budget[0] -= 1
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, f"{scenario_name(swarm)}-seed{run['seed']}-shrunk.json")
    cmd = [herald_sim, "shrink", swarm["scenario"], "--seed", str(run["seed"]), "--swarm",
           "--out", out, "--runs", str(SHRINK_RUNS)]
    print("chaos_report: " + " ".join(cmd), file=sys.stderr)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=SHRINK_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as e:
        return {"command": " ".join(cmd), "error": str(e)}
    result = {"command": " ".join(cmd), "path": out, "log_tail": proc.stdout.splitlines()[-8:]}
    if os.path.exists(out):
        with open(out, encoding="utf-8") as f:
            try:
                result["scenario"] = json.load(f)
            except ValueError:
                result["scenario_text"] = f.read()
    else:
        result["error"] = f"exit {proc.returncode}: " + (proc.stderr.strip()[-300:] or "no output")
    return result


def analyse(swarms, declared_cover, all_checkers, root):
    """Totals over every input."""
    total = {"seeds": 0, "failed": 0, "simulated_s": 0.0, "wall_s": 0.0, "faults": {},
             "checks": {}, "cover_hits": {}, "cover_known": False, "failures": []}
    for swarm in swarms:
        runs = swarm["runs"]
        checkers = scenario_checkers(swarm, all_checkers, root)
        swarm["_checkers"] = checkers
        sim_s = swarm.get("simulated_s")
        if sim_s is None:
            sim_s = sum(r.get("simulated_s") or 0 for r in runs)
        swarm["_simulated_s"] = sim_s
        swarm["_failed"] = sum(1 for r in runs if not r["passed"])
        total["seeds"] += len(runs)
        total["failed"] += swarm["_failed"]
        total["simulated_s"] += sim_s or 0
        total["wall_s"] += swarm.get("wall_s") or 0
        for r in runs:
            for k, v in (r.get("faults") or {}).items():
                per = total["faults"].setdefault(k, {})
                per[scenario_name(swarm)] = per.get(scenario_name(swarm), 0) + v
            verdicts = r.get("checks")
            if verdicts is None:  # text input: passing seeds passed every checker of the scenario.
                failing = {v["checker"] for v in r.get("violations", [])}
                verdicts = {c: ("fail" if c in failing else ("pass" if r["passed"] else "unknown"))
                            for c in checkers}
                for c in failing - set(checkers):
                    verdicts[c] = "fail"
            for c, verdict in verdicts.items():
                per = total["checks"].setdefault(c, {"pass": 0, "fail": 0, "unknown": 0, "not run": 0})
                per[verdict if verdict in per else "unknown"] += 1
            if r.get("cover") is not None:
                total["cover_known"] = True
                for k, v in r["cover"].items():
                    total["cover_hits"][k] = total["cover_hits"].get(k, 0) + v
            if not r["passed"]:
                total["failures"].append((swarm, r))
        if swarm.get("cover") is not None:  # swarm-level hits
            total["cover_known"] = True
            for k, v in swarm["cover"].items():
                total["cover_hits"][k] = total["cover_hits"].get(k, 0) + v
        for name in swarm.get("cover_declared", []):
            if name not in declared_cover:
                declared_cover.append(name)
    total["cover_declared"] = sorted(set(declared_cover))
    total["cover_never"] = ([c for c in total["cover_declared"] if c not in total["cover_hits"]]
                            if total["cover_known"] else None)
    return total


def fmt_seconds(s):
    if s is None:
        return "–"
    if s >= 3600:
        return f"{s / 3600:.1f} h"
    if s >= 60:
        return f"{s / 60:.1f} min"
    return f"{s:.1f} s"


def render(swarms, total, html_path, md_path):
    charts, body = [], []
    names = [scenario_name(s) for s in swarms]
    commits = sorted({s.get("commit", "?") for s in swarms})
    fault_types = sorted(total["faults"], key=lambda k: -sum(total["faults"][k].values()))
    faults_fired = sum(sum(v.values()) for v in total["faults"].values())
    never = total["cover_never"]

    cards = [
        ("Scenarios", str(len(swarms)), ""),
        ("Seeds run", f"{total['seeds']:,}", ""),
        ("Simulated time", fmt_seconds(total["simulated_s"]), ""),
        ("Faults fired", f"{faults_fired:,}", ""),
        ("Failing seeds", str(total["failed"]), "bad" if total["failed"] else "good"),
        ("COVER never hit", "unknown" if never is None else str(len(never)),
         "" if never is None else ("warn" if never else "good")),
    ]
    body.append('<section class="cards" id="cards">' + "".join(
        f'<div class="card {cls}"><div class="label">{rp.esc(label)}</div>'
        f'<div class="value">{rp.esc(value)}</div></div>' for label, value, cls in cards) + "</section>")

    # Scenarios.
    rows = []
    for s in swarms:
        seeds = s.get("seeds") or {}
        wall = s.get("wall_s")
        speed = (s["_simulated_s"] / wall) if (wall and s["_simulated_s"]) else None
        verdict = (f'<span class="badge fail">{s["_failed"]} FAILED</span>' if s["_failed"]
                   else '<span class="badge pass">PASS</span>')
        rows.append([f"<code>{rp.esc(s.get('scenario', '?'))}</code>",
                     rp.esc(f"{seeds.get('first', '?')}..{seeds.get('last', '?')}"),
                     rp.esc(f"{len(s['runs']):,}"), verdict, rp.esc(fmt_seconds(s["_simulated_s"])),
                     rp.esc(fmt_seconds(wall)), rp.esc("–" if speed is None else f"{speed:,.0f}×"),
                     rp.esc(s.get("commit", "?"))])
    body.append('<section id="scenarios"><h2>Scenarios</h2>')
    body.append(rp.table(["scenario", "seeds", "runs", "verdict", "simulated", "wall", "sim/wall", "commit"],
                         rows, "chaos-scenarios", numeric={2, 4, 5, 6}))
    for s in swarms:
        if s.get("missing"):
            body.append(f'<p class="note">Not in {rp.esc(os.path.basename(s["source"]))} (herald-sim swarm '
                        f'{rp.esc(s.get("format", "text"))} report): ' + rp.esc("; ".join(s["missing"])) + ".</p>")
    body.append("</section>")

    # Failures first: they are what a reader came for.
    body.append('<section id="failures"><h2>Failures</h2>')
    if not total["failures"]:
        body.append('<p class="good">No seed failed.</p>')
    detailed = total["failures"][:FAILURES_DETAILED_MAX]
    for swarm, r in detailed:
        v = r.get("violations") or [{"checker": "?", "message": "(no violation recorded)"}]
        replay = r.get("replay") or f"herald-sim run {swarm.get('scenario')} --seed {r['seed']} --swarm"
        shrink_cmd = f"herald-sim shrink {swarm.get('scenario')} --seed {r['seed']} --swarm --out {scenario_name(swarm)}-seed{r['seed']}-shrunk.json"
        body.append(f'<div class="failure" data-seed="{r["seed"]}"><h3>{rp.esc(scenario_name(swarm))} seed '
                    f'{r["seed"]} <span class="badge fail">FAIL</span></h3><ul>' +
                    "".join(f"<li><strong>{rp.esc(x['checker'])}</strong>: {rp.esc(x['message'])}</li>" for x in v) +
                    "</ul>")
        body.append(f'<p>Replay:</p><pre class="replay">{rp.esc(replay)}</pre>')
        shrunk = r.get("shrunk")
        if shrunk and (shrunk.get("scenario") or shrunk.get("scenario_text")):
            text = (json.dumps(shrunk["scenario"], indent=1) if shrunk.get("scenario")
                    else shrunk["scenario_text"])
            where = f" ({shrunk['path']})" if shrunk.get("path") else ""
            body.append(f'<p>Shrunk scenario{rp.esc(where)}; it still fails: '
                        f'<code>herald-sim run {rp.esc(shrunk.get("path", "SHRUNK.json"))} --seed {r["seed"]}</code></p>'
                        f'<pre class="shrunk">{rp.esc(text)}</pre>')
        else:
            err = f" ({shrunk['error']})" if shrunk and shrunk.get("error") else ""
            body.append(f'<p class="note">No shrunk scenario in the input{rp.esc(err)}. Shrink it:</p>'
                        f'<pre class="shrink">{rp.esc(shrink_cmd)}</pre>')
        body.append("</div>")
    rest = total["failures"][FAILURES_DETAILED_MAX:]
    if rest:
        body.append(f'<p class="note">{len(rest)} more failing seeds, replay commands only:</p>')
        body.append(rp.table(["scenario", "seed", "first violation", "replay"], [
            [rp.esc(scenario_name(sw)), rp.esc(r["seed"]),
             rp.esc(((r.get("violations") or [{}])[0]).get("checker", "?")),
             f'<code>{rp.esc(r.get("replay") or "")}</code>'] for sw, r in rest], "chaos-more-failures"))
    body.append("</section>")

    # Faults.
    body.append('<section id="faults"><h2>Faults fired, by type</h2>')
    rows = [[rp.esc(k)] + [rp.esc(f"{total['faults'][k].get(n, 0):,}") for n in names] +
            [rp.esc(f"{sum(total['faults'][k].values()):,}")] for k in fault_types]
    body.append(rp.table(["fault"] + names + ["total"], rows, "chaos-faults",
                         numeric=set(range(1, len(names) + 2))))
    palette = ["#0f766e", "#6366f1", "#d97706", "#db2777", "#0284c7", "#65a30d"]
    body.append('<div class="charts">')
    body.append(rp.chart_block("chart-faults", "Faults fired by type (stacked by scenario)", wide=True))
    charts.append({"id": "chart-faults", "type": "bar", "data": {"labels": fault_types, "datasets": [
        {"label": n, "data": [total["faults"][k].get(n, 0) for k in fault_types],
         "backgroundColor": palette[i % len(palette)]} for i, n in enumerate(names)]},
        "options": {"plugins": {"legend": {"position": "bottom"}},
                    "scales": {"x": {"stacked": True}, "y": {"stacked": True, "beginAtZero": True,
                                                             "ticks": {"format": "si"}}}}})
    body.append("</div></section>")

    # Checks.
    body.append('<section id="checks"><h2>Checks and their verdicts</h2>')
    checks = list(total["checks"])
    rows = []
    for c in checks:
        v = total["checks"][c]
        verdict = ('<span class="badge fail">FAIL</span>' if v["fail"] else
                   ('<span class="badge pass">PASS</span>' if v["pass"] else '<span class="badge none">not run</span>'))
        rows.append([rp.esc(c), rp.esc(f"{v['pass']:,}"), rp.esc(f"{v['fail']:,}"), rp.esc(f"{v['unknown']:,}"),
                     verdict])
    body.append(rp.table(["checker", "seeds passed", "seeds failed", "verdict unknown", "verdict"], rows,
                         "chaos-checks", numeric={1, 2, 3}))
    body.append('<p class="note">"verdict unknown": a failing seed of a text report names only its first '
                'failing checker.</p>')
    body.append('<div class="charts">')
    body.append(rp.chart_block("chart-checks", "Verdicts per checker (seeds)"))
    charts.append({"id": "chart-checks", "type": "bar", "data": {"labels": checks, "datasets": [
        {"label": "pass", "data": [total["checks"][c]["pass"] for c in checks], "backgroundColor": rp.GOOD_COLOUR},
        {"label": "fail", "data": [total["checks"][c]["fail"] for c in checks], "backgroundColor": rp.BAD_COLOUR},
        {"label": "unknown", "data": [total["checks"][c]["unknown"] for c in checks], "backgroundColor": "#cbd5e1"}]},
        "options": {"indexAxis": "y", "plugins": {"legend": {"position": "bottom"}},
                    "scales": {"x": {"stacked": True, "beginAtZero": True}, "y": {"stacked": True}}}})
    # Per seed: faults fired, failing seeds in red.
    for i, s in enumerate(swarms):
        if len(s["runs"]) > PER_SEED_CHART_SEEDS_MAX:
            continue
        cid = f"chart-seeds-{i}"
        body.append(rp.chart_block(cid, f"{scenario_name(s)}: faults fired per seed (red: failed)"))
        charts.append({"id": cid, "type": "bar", "data": {
            "labels": [str(r["seed"]) for r in s["runs"]],
            "datasets": [{"label": "faults", "data": [sum((r.get("faults") or {}).values()) for r in s["runs"]],
                          "backgroundColor": [rp.HERALD_COLOUR if r["passed"] else rp.BAD_COLOUR for r in s["runs"]],
                          "barPercentage": 1.0, "categoryPercentage": 1.0, "minBarLength": 3}]},
            "options": {"plugins": {"legend": {"display": False}},
                        "scales": {"y": {"beginAtZero": True}}}})
    body.append("</div></section>")

    # COVER.
    body.append('<section id="cover"><h2>COVER points</h2>')
    if never is None:
        body.append('<p class="note">COVER hits are not in the input; the points declared in the sources '
                    'are listed, none can be called hit.</p>')
        rows = [[rp.esc(c), '<span class="badge none">unknown</span>'] for c in total["cover_declared"]]
    else:
        rows = [[rp.esc(c), f'<span class="badge fail">never hit</span>'] for c in never]
        rows += [[rp.esc(c), f'<span class="badge pass">{total["cover_hits"][c]:,} hits</span>']
                 for c in sorted(total["cover_hits"])]
    body.append(rp.table(["COVER point", "hits"], rows, "chaos-cover"))
    body.append("</section>")

    title = "Herald chaos report"
    subtitle = rp.esc(f"{len(swarms)} scenario(s), {total['seeds']:,} seeds, "
                      f"{fmt_seconds(total['simulated_s'])} simulated; commit {', '.join(commits)}")
    footer = rp.esc(f"Generated by reports/chaos_report.py from {', '.join(s['source'] for s in swarms)} "
                    f"with Chart.js {rp.chartjs_version()} inlined; self-contained, works offline.")
    if html_path:
        rp.write_text(html_path, rp.page("chaos", title, subtitle, "\n".join(body), charts, footer))
    md = render_md(swarms, total, fault_types, names)
    if md_path:
        rp.write_text(md_path, md)
    return md


def render_md(swarms, total, fault_types, names):
    out = ["# Herald chaos report", "",
           f"- {len(swarms)} scenario(s), {total['seeds']:,} seeds, {fmt_seconds(total['simulated_s'])} simulated, "
           f"{total['failed']} failing seed(s)", ""]
    out.append(rp.md_table(["scenario", "seeds", "failed", "simulated", "commit"], [
        [f"`{s.get('scenario')}`", f"{len(s['runs']):,}", s["_failed"], fmt_seconds(s["_simulated_s"]),
         s.get("commit", "?")] for s in swarms], right={1, 2, 3}))
    out += ["", "## Failures", ""]
    if not total["failures"]:
        out.append("None.")
    for swarm, r in total["failures"]:
        v = (r.get("violations") or [{"checker": "?", "message": ""}])[0]
        replay = r.get("replay") or f"herald-sim run {swarm.get('scenario')} --seed {r['seed']} --swarm"
        out.append(f"- **{scenario_name(swarm)} seed {r['seed']}** [{v['checker']}] {v['message']}")
        out.append(f"  - replay: `{replay}`")
        shrunk = r.get("shrunk") or {}
        if shrunk.get("path"):
            out.append(f"  - shrunk: `{shrunk['path']}`")
        elif shrunk.get("scenario"):
            out.append("  - shrunk scenario: `" + json.dumps(shrunk["scenario"], separators=(",", ":")) + "`")
        else:
            out.append(f"  - shrink: `herald-sim shrink {swarm.get('scenario')} --seed {r['seed']} --swarm`")
    out += ["", "## Faults fired", ""]
    out.append(rp.md_table(["fault"] + names + ["total"], [
        [k] + [f"{total['faults'][k].get(n, 0):,}" for n in names] + [f"{sum(total['faults'][k].values()):,}"]
        for k in fault_types], right=set(range(1, len(names) + 2))))
    out += ["", "## Checks", ""]
    out.append(rp.md_table(["checker", "passed", "failed", "unknown"], [
        [c, v["pass"], v["fail"], v["unknown"]] for c, v in total["checks"].items()], right={1, 2, 3}))
    out += ["", "## COVER points never hit", ""]
    if total["cover_never"] is None:
        out.append(f"Unknown: no COVER hits in the input ({len(total['cover_declared'])} declared).")
    elif not total["cover_never"]:
        out.append("None.")
    else:
        out += [f"- {c}" for c in total["cover_never"]]
    return "\n".join(out) + "\n"


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+")
    parser.add_argument("--source-root")
    parser.add_argument("--shrink-with")
    parser.add_argument("--shrink-dir", default="reports/chaos")
    parser.add_argument("--html")
    parser.add_argument("--md")
    parser.add_argument("--json", help="write the merged input (JSON form) here")
    args = parser.parse_args(argv)
    swarms = []
    for path in args.inputs:
        swarm = load_input(path)
        if swarm is None:
            print(f"chaos_report: {path}: not a swarm report, skipped", file=sys.stderr)
            continue
        swarms.append(swarm)
    if not swarms:
        print("chaos_report: no swarm input", file=sys.stderr)
        return 2
    declared, checkers = ([], None)
    if args.source_root:
        declared, checkers = scan_sources(args.source_root)
    if args.shrink_with:
        budget = [SHRINK_FAILURES_MAX]
        for swarm in swarms:
            for r in swarm["runs"]:
                if not r["passed"] and not r.get("shrunk"):
                    r["shrunk"] = shrink(swarm, r, args.shrink_with, args.shrink_dir, budget)
    total = analyse(swarms, list(declared), checkers or CHECKERS_DEFAULT, args.source_root)
    try:
        md = render(swarms, total, args.html, args.md)
    except rp.MissingChartJs as e:
        print(f"chaos_report: {e}", file=sys.stderr)
        return 2
    if args.json:
        clean = [{k: v for k, v in s.items() if not k.startswith("_")} for s in swarms]
        rp.write_text(args.json, json.dumps(clean if len(clean) > 1 else clean[0], indent=1) + "\n")
    if not args.md:
        sys.stdout.write(md)
    for path in (args.html, args.md, args.json):
        if path:
            print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
