#!/usr/bin/env bash
# Renders the chaos report of the newest `make sim-swarm` run (reports/sim/swarm-<stamp>-*.txt,
# or every FILE given) to reports/chaos/report-<stamp>.{html,md} and reports/chaos/latest.{html,md}.
# Failures are shrunk with build/bin/herald-sim (at most 5, each bounded) unless --no-shrink.
#
# Usage: reports/chaos.sh [--no-shrink] [--sim PATH] [FILE...]
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sim_bin="$repo_root/build/bin/herald-sim"
shrink=1
files=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --no-shrink) shrink=0; shift ;;
        --sim) sim_bin=$2; shift 2 ;;
        -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) files+=("$1"); shift ;;
    esac
done
cd "$repo_root"
if [[ ${#files[@]} -eq 0 ]]; then
    newest=$(ls -t reports/sim/swarm-*-*.txt 2>/dev/null | head -n 1 || true)
    [[ -n "$newest" ]] || { echo "no reports/sim/swarm-*.txt: run make sim-swarm first" >&2; exit 2; }
    # swarm-<date>-<time>-<commit>-<scenario>.txt: the run's files share the first three fields.
    stamp=$(basename "$newest" .txt | cut -d- -f2-4)
    mapfile -t files < <(ls reports/sim/swarm-"$stamp"-*.txt)
else
    stamp=$(date -u +%Y%m%d-%H%M%S)
fi
[[ -f reports/node_modules/chart.js/dist/chart.umd.min.js ]] || (cd reports && npm install --no-audit --no-fund --loglevel=error)
args=(--source-root "$repo_root" --html "reports/chaos/report-$stamp.html" --md "reports/chaos/report-$stamp.md"
      --json "reports/chaos/swarm-$stamp.json" --shrink-dir reports/chaos)
if [[ $shrink -eq 1 && -x "$sim_bin" ]]; then args+=(--shrink-with "$sim_bin"); fi
python3 reports/chaos_report.py "${args[@]}" "${files[@]}"
cp "reports/chaos/report-$stamp.html" reports/chaos/latest.html
cp "reports/chaos/report-$stamp.md" reports/chaos/latest.md
echo "report: reports/chaos/latest.html (and .md)"
