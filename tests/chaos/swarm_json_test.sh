#!/bin/sh
# herald-sim swarm --json writes the "herald-sim-swarm/1" form reports/chaos_report.py reads:
# a canary swarm (it must fail) with its first failure shrunk, checked field by field, then
# rendered by chaos_report.py. Usage: swarm_json_test.sh HERALD_SIM SOURCE_DIR
set -eu
sim=$1
source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
"$sim" swarm "$source_dir/scenarios/canaries/js-ack-before-fsync.json" --seeds 1..3 \
    --json "$work/swarm.json" --shrink 1 --runs 30 > "$work/out.txt" || status=$?
[ "$status" -eq 1 ] || { echo "expected the canary swarm to fail (exit 1), got $status"; exit 1; }
python3 - "$work/swarm.json" "$work" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "herald-sim-swarm/1", d["schema"]
assert d["seeds"] == {"first": 1, "last": 3}
assert d["checkers"] == ["js_no_loss"]
assert d["simulated_s"] > 0
runs = d["runs"]
assert [r["seed"] for r in runs] == [1, 2, 3]
for r in runs:
    assert r["simulated_s"] > 0 and len(r["trace"]) == 16
    assert r["faults"], r
    assert r["checks"]["js_no_loss"] == ("pass" if r["passed"] else "fail")
    assert r["cover"], r
failed = [r for r in runs if not r["passed"]]
assert failed, "a canary seed must fail"
assert all(r["violations"] and r["replay"].endswith("--seed %d --swarm" % r["seed"]) for r in failed)
shrunk = [r for r in runs if "shrunk" in r]
assert len(shrunk) == 1 and shrunk[0] is failed[0]
assert os.path.exists(os.path.join(sys.argv[2], shrunk[0]["shrunk"]["path"]))
assert shrunk[0]["shrunk"]["scenario"]["canaries"]["ack_before_fsync"] is True
PY
python3 "$source_dir/reports/chaos_report.py" --source-root "$source_dir" --md "$work/report.md" \
    --html "$work/report.html" "$work/swarm.json" > /dev/null
grep -q "js_no_loss" "$work/report.md"
grep -q "seed1-shrunk.json" "$work/report.md"
echo "swarm json ok"
