#!/usr/bin/env bash
# Runs the micro-benchmarks (build/bin/herald_micro_bench, google-benchmark) with repetitions and
# writes their JSON to reports/bench/<date>-<commit>.json, with the machine facts google-benchmark
# leaves out (CPU model, kernel, commit, load average at start and end) under context.herald.
#
# Repetitions are randomly interleaved across benchmarks, so a burst of load from another process
# slows one repetition of several benchmarks rather than every repetition of one.
#
# Usage: bench/micro.sh [--filter REGEX] [--reps N] [--min-time SECONDS] [--bin PATH] [--out FILE]
#   defaults: all benchmarks, 3 repetitions of at least 0.1 s each (benchmarks that set their own
#   min time keep it; about 1.5 min on 2 cores with the store benchmarks)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="$repo_root/build/bin/herald_micro_bench"
filter="."
reps=3
min_time=0.1
out=""

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --filter) filter=$2; shift 2 ;;
        --reps) reps=$2; shift 2 ;;
        --min-time) min_time=$2; shift 2 ;;
        --bin) bin=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        -h|--help) usage 0 ;;
        *) echo "unknown option: $1" >&2; usage 1 ;;
    esac
done
[[ -x "$bin" ]] || { echo "herald_micro_bench not found at $bin (build it: ninja -C build herald_micro_bench)" >&2; exit 1; }

commit=$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n "$(git -C "$repo_root" status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
    commit="$commit-dirty"
fi
[[ -n "$out" ]] || out="$repo_root/reports/bench/$(date -u +%Y%m%d-%H%M%S)-$commit.json"
mkdir -p "$(dirname "$out")"
raw=$(mktemp "${TMPDIR:-/tmp}/herald-micro.XXXXXX")
trap 'rm -f "$raw"' EXIT

# The build dir may be shared and rebuilt while this runs: run a copy, and name its build.
built="$(date -u -r "$bin" +%Y-%m-%dT%H:%M:%SZ) sha256:$(sha256sum "$bin" | cut -c1-12)"
bin_copy=$(mktemp "${TMPDIR:-/tmp}/herald-micro-bin.XXXXXX")
cp "$bin" "$bin_copy" && chmod 700 "$bin_copy"
trap 'rm -f "$raw" "$bin_copy"' EXIT
loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "micro: $bin --benchmark_filter='$filter' x$reps (load average $loadavg_start)" >&2
"$bin_copy" --benchmark_filter="$filter" --benchmark_repetitions="$reps" --benchmark_min_time="$min_time" \
    --benchmark_enable_random_interleaving=true \
    --benchmark_format=console --benchmark_out_format=json --benchmark_out="$raw" \
    --benchmark_report_aggregates_only=false >&2
loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$raw" "$out" "$commit" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
    "$(uname -sr)" "$loadavg_start" "$loadavg_end" "$reps" "$min_time" "$filter" \
    "$built" <<'PY'
import json, sys
raw, out, commit, cpu, kernel, l0, l1, reps, min_time, flt, built = sys.argv[1:]
d = json.load(open(raw))
d["context"]["herald"] = {"commit": commit, "cpu": cpu or "unknown", "kernel": kernel,
                          "loadavg_at_start": l0, "loadavg_at_end": l1, "repetitions": int(reps),
                          "min_time": float(min_time), "filter": flt, "binary_built": built}
json.dump(d, open(out, "w"), indent=1)
PY
echo "micro: $out (load average $loadavg_end at end)" >&2
echo "$out"
