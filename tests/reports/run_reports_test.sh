#!/usr/bin/env bash
# Renders the benchmark and chaos reports from the fixtures in tests/reports/fixtures, checks
# bench_report.py's regression check on them, and opens both pages in headless Debian chromium
# (browser_test.js). Exit 77 (ctest: skipped) when chromium, node or reports/node_modules is
# missing; `make test` installs them (PACKAGES has chromium, and it runs npm install in reports/).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$here/../.." && pwd)
fixtures="$here/fixtures"
chromium_bin=${CHROMIUM:-/usr/bin/chromium}

skip() { echo "SKIP: $*"; exit 77; }
[[ -x "$chromium_bin" ]] || skip "no chromium at $chromium_bin (apt-get install chromium)"
command -v node >/dev/null || skip "no node"
command -v python3 >/dev/null || skip "no python3"
[[ -f "$repo_root/reports/node_modules/chart.js/dist/chart.umd.min.js" ]] || skip "no reports/node_modules/chart.js (cd reports && npm install)"
[[ -d "$repo_root/reports/node_modules/playwright-core" ]] || skip "no reports/node_modules/playwright-core (cd reports && npm install)"

out=$(mktemp -d "${TMPDIR:-/tmp}/herald-reports-test.XXXXXX")
trap 'rm -rf "$out"' EXIT
# Rendered from an empty directory, so nothing of the checkout (scenario files) leaks in.
cd "$out"

python3 "$repo_root/reports/bench_report.py" render --micro "$fixtures/micro.json" --macro "$fixtures/macro.json" \
    --baseline "$fixtures/bench-baseline.json" --margin 0.25 --summary-out "$out/summary.json" \
    --html "$out/bench.html" --md "$out/bench.md"
python3 "$repo_root/reports/chaos_report.py" --html "$out/chaos.html" --md "$out/chaos.md" \
    "$fixtures/swarm.json" "$fixtures/swarm-canary.txt"

# The Markdown summaries carry the same facts.
grep -q '^| pub 16 B | msgs/s |' "$out/bench.md" || { echo "bench.md: no pub 16 B row"; exit 1; }
grep -q 'REGRESSION' "$out/bench.md" || { echo "bench.md: the fixture regressions are not marked"; exit 1; }
grep -q 'herald-sim run scenarios/reconnect-chaos.json --seed 5 --swarm' "$out/chaos.md" || { echo "chaos.md: no replay command"; exit 1; }
grep -q '^- canary: drop a message after a reconnect$' "$out/chaos.md" || { echo "chaos.md: COVER never hit missing"; exit 1; }

# bench-check's rule: the fixture baseline has two regressions (exit 1); a run against itself has none.
status=0
python3 "$repo_root/reports/bench_report.py" check --summary "$out/summary.json" \
    --baseline "$fixtures/bench-baseline.json" --margin 0.25 >"$out/check.txt" || status=$?
[[ $status -eq 1 ]] || { cat "$out/check.txt"; echo "check against the fixture baseline: exit $status, want 1"; exit 1; }
[[ $(grep -c '^  REGRESSION' "$out/check.txt") -eq 2 ]] || { cat "$out/check.txt"; echo "want 2 regressions"; exit 1; }
python3 "$repo_root/reports/bench_report.py" check --summary "$out/summary.json" \
    --baseline "$out/summary.json" >/dev/null || { echo "check against itself failed"; exit 1; }
# A margin wide enough for a 2x drop lets it pass.
python3 "$repo_root/reports/bench_report.py" check --summary "$out/summary.json" \
    --baseline "$fixtures/bench-baseline.json" --margin 0.6 >/dev/null || { echo "check with margin 60% failed"; exit 1; }

# A run without Herald in the side by side cannot pass: exit 2 (incomplete), not 0.
python3 - "$out/summary.json" "$out/no-herald.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
for c in s["macro"]["cases"]:
    c["herald"] = None
    c["ratio"] = c["advantage"] = None
json.dump(s, open(sys.argv[2], "w"))
PY
status=0
python3 "$repo_root/reports/bench_report.py" check --summary "$out/no-herald.json" \
    --baseline "$out/summary.json" >"$out/check-missing.txt" || status=$?
[[ $status -eq 2 ]] || { cat "$out/check-missing.txt"; echo "check without Herald: exit $status, want 2"; exit 1; }

# The committed baseline parses and is the summary format.
python3 "$repo_root/reports/bench_report.py" check --summary "$repo_root/reports/baseline/bench.json" \
    --baseline "$repo_root/reports/baseline/bench.json" >/dev/null || { echo "reports/baseline/bench.json is not a valid summary"; exit 1; }

node "$here/browser_test.js" "$out" "$fixtures"
if [[ -n "${HERALD_REPORTS_KEEP:-}" ]]; then
    mkdir -p "$HERALD_REPORTS_KEEP" && cp "$out"/*.html "$out"/*.md "$out"/*.png "$HERALD_REPORTS_KEEP"/
    echo "kept in $HERALD_REPORTS_KEEP"
fi
