#!/usr/bin/env bash
# Compares herald-server with nats-server on loopback using `herald bench` (or herald-load with
# --tool load; the two agree within about 10%, docs/cli.md): starts each server on a
# free port (-p -1 + ports file) with JetStream on (-js -sd <tmp>), plus a second herald-server
# whose file streams are lazy (jetstream { sync_interval: "2m" }, nats-server's default), runs a
# fixed matrix rotating the servers, R repetitions each, and prints a Markdown table of medians
# and the herald/nats ratio. The queue-group and JetStream cases always use herald-load.
# Raw results go to reports/bench/compare-<date>-<commit>.json. Stops only what it started.
#
# Usage: bench/compare.sh [--reps R] [--herald PATH] [--nats PATH] [--tool bench|load]
#                         [--bench PATH] [--load PATH] [--out DIR] [--json FILE]
#                         [--timeout SECONDS] [--scale F] [--cases REGEX]
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
reps=5
herald_bin="$repo_root/build/bin/herald-server"
nats_bin=$(command -v nats-server || echo /usr/bin/nats-server)
load_bin="$repo_root/build/bin/herald-load"
bench_bin="$repo_root/build/bin/herald"
tool=bench         # bench: `herald bench` (the CLI's load tool); load: the raw-protocol herald-load.
out_dir="$repo_root/reports/bench"
json_path=""       # Default: $out_dir/compare-<date>-<commit>.json.
run_timeout_s=20   # Per herald-load run; a server that times out on a case skips its later reps.
scale=1            # Multiplies every message count (0.1 for a smoke run).
case_filter=.      # Only the cases whose name matches this (bash regex), e.g. '^js'.
start_timeout_s=10

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --reps) reps=$2; shift 2 ;;
        --herald) herald_bin=$2; shift 2 ;;
        --nats) nats_bin=$2; shift 2 ;;
        --load) load_bin=$2; shift 2 ;;
        --bench) bench_bin=$2; shift 2 ;;
        --tool) tool=$2; shift 2 ;;
        --out) out_dir=$2; shift 2 ;;
        --json) json_path=$2; shift 2 ;;
        --timeout) run_timeout_s=$2; shift 2 ;;
        --scale) scale=$2; shift 2 ;;
        --cases) case_filter=$2; shift 2 ;;
        -h|--help) usage 0 ;;
        *) echo "unknown option: $1" >&2; usage 1 ;;
    esac
done

case "$tool" in
    load) [[ -x "$load_bin" ]] || { echo "herald-load not found at $load_bin (build it: ninja -C build herald-load)" >&2; exit 1; } ;;
    bench) [[ -x "$bench_bin" ]] || { echo "herald not found at $bench_bin (build it: ninja -C build herald)" >&2; exit 1; } ;;
    *) echo "--tool is bench or load, not $tool" >&2; exit 1 ;;
esac

# Turns a matrix entry (herald-load arguments) into `herald bench` arguments: same counts,
# sizes and JSON keys (docs/cli.md).
bench_args() {
    local mode="" out=()
    # shellcheck disable=SC2086
    set -- $1
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --mode) mode=$2; shift 2 ;;
            --pubs) out+=(--pub "$2"); shift 2 ;;
            --subs) out+=(--sub "$2"); shift 2 ;;
            *) out+=("$1"); shift ;;
        esac
    done
    case "$mode" in
        pub) out+=(--sub 0) ;;
        reqrep) out+=(--request --pub 1 --sub 1) ;;
    esac
    echo "${out[@]}"
}

# Cases that only herald-load can run (herald bench has no queue group or JetStream mode).
needs_load_tool() { [[ "$1" == *"--mode queue"* || "$1" == *"--mode js"* ]]; }

# One measurement against one server: prints herald-load's JSON object (or herald bench's).
run_load() {
    local url=$1 args=$2
    if [[ "$tool" == load ]] || needs_load_tool "$args"; then
        # shellcheck disable=SC2086
        "$load_bin" --url "$url" $args --timeout "$run_timeout_s" --json
    else
        # shellcheck disable=SC2046
        "$bench_bin" bench herald.load -s "$url" $(bench_args "$args") \
            --timeout "${run_timeout_s}s" --json --no-progress
    fi
}
[[ -x "$nats_bin" ]] || { echo "nats-server not found at $nats_bin" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is needed for the summary" >&2; exit 1; }

[[ -x "$load_bin" ]] || { echo "herald-load not found at $load_bin (the queue and JetStream cases need it)" >&2; exit 1; }

# The matrix: name, herald-load arguments (message counts before --scale). JetStream cases run
# on all three servers (herald durable, herald lazy, nats); the others on herald and nats.
case_names=(pub16 pub128 pub1k pubsub16 pubsub128 pubsub1k fanout4 queue4 reqrep16
            jspubsync jspubasync jspull)
declare -A case_args=(
    [pub16]="--mode pub --pubs 1 --msgs 5000000 --size 16"
    [pub128]="--mode pub --pubs 1 --msgs 3000000 --size 128"
    [pub1k]="--mode pub --pubs 1 --msgs 1000000 --size 1024"
    [pubsub16]="--mode pubsub --pubs 1 --subs 1 --msgs 2000000 --size 16"
    [pubsub128]="--mode pubsub --pubs 1 --subs 1 --msgs 1000000 --size 128"
    [pubsub1k]="--mode pubsub --pubs 1 --subs 1 --msgs 500000 --size 1024"
    [fanout4]="--mode pubsub --pubs 1 --subs 4 --msgs 500000 --size 128"
    [queue4]="--mode queue --pubs 1 --subs 4 --msgs 1000000 --size 128"
    [reqrep16]="--mode reqrep --msgs 5000 --size 16"
    [jspubsync]="--mode jspub-sync --msgs 5000 --size 128"
    [jspubasync]="--mode jspub-async --outstanding 1000 --msgs 200000 --size 128"
    [jspull]="--mode jspull --batch 500 --msgs 100000 --size 128"
)
selected=()
for case_name in "${case_names[@]}"; do [[ "$case_name" =~ $case_filter ]] && selected+=("$case_name"); done
(( ${#selected[@]} > 0 )) || { echo "no case matches --cases $case_filter" >&2; exit 1; }
case_names=("${selected[@]}")
lazy_sync_interval=2m  # nats-server's default sync interval (it does not fsync before acking).

work_dir=$(mktemp -d "${TMPDIR:-/tmp}/herald-compare.XXXXXX")
declare -A server_pid=() server_url=()
started_pids=()

cleanup() {
    local pid
    for pid in "${started_pids[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work_dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server NAME BINARY [ARGS...]: starts it on 127.0.0.1 with a free port and JetStream
# storing under $work_dir/NAME-store, reads the port from <ports_file_dir>/<basename>_<pid>.ports
# and checks that the pid is still ours and alive.
start_server() {
    local name=$1 binary=$2 ports_dir="$work_dir/$1-ports" pid ports_file url
    shift 2
    mkdir -p "$ports_dir" "$work_dir/$name-store"
    "$binary" "$@" -a 127.0.0.1 -p -1 -js -sd "$work_dir/$name-store" --ports_file_dir "$ports_dir" \
        >"$work_dir/$name.log" 2>&1 &
    pid=$!
    started_pids+=("$pid")
    ports_file="$ports_dir/$(basename "$binary")_$pid.ports"
    for _ in $(seq 1 $((start_timeout_s * 10))); do
        [[ -s "$ports_file" ]] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if ! kill -0 "$pid" 2>/dev/null || [[ ! -s "$ports_file" ]]; then
        echo "$name did not start (no $ports_file); log:" >&2
        tail -n 20 "$work_dir/$name.log" >&2 || true
        return 1
    fi
    url=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["nats"][0])' "$ports_file")
    server_pid[$name]=$pid
    server_url[$name]=$url
}

# fdatasync latency of the disk the stores are on (appends of 170 B, 200 times): what a durable
# JetStream publish waits for; another process writing to the same disk can make it ms.
fsync_probe() {
    python3 - "$work_dir/fsync-probe" <<'PROBE'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
samples = []
for _ in range(200):
    os.write(fd, b"x" * 170)
    start = time.perf_counter()
    os.fdatasync(fd)
    samples.append((time.perf_counter() - start) * 1e6)
os.close(fd)
os.unlink(sys.argv[1])
samples.sort()
print(f"p50 {samples[100]:.0f} us, p99 {samples[198]:.0f} us")
PROBE
}
fsync_start=$(fsync_probe || echo unknown)
loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)
# The build dir may be shared and rebuilt while this runs: run a copy of herald-server, and name
# the build (its time and hash) of the file copied, not only the checkout's commit.
herald_built=none
# A shared build dir may be relinking herald-server right now: wait for it a little.
if [[ ! -x "$herald_bin" && -f "$(dirname "$herald_bin")/../build.ninja" ]]; then
    for _ in $(seq 1 30); do [[ -x "$herald_bin" ]] && break; sleep 1; done
fi
if [[ -x "$herald_bin" ]]; then
    herald_built="$(date -u -r "$herald_bin" +%Y-%m-%dT%H:%M:%SZ) sha256:$(sha256sum "$herald_bin" | cut -c1-12)"
    cp "$herald_bin" "$work_dir/herald-server"
    herald_bin="$work_dir/herald-server"
fi
servers=(nats)
start_server nats "$nats_bin"
herald_note=""
if [[ -x "$herald_bin" ]]; then
    printf 'jetstream {\n  sync_interval: "%s"\n}\n' "$lazy_sync_interval" >"$work_dir/herald-lazy.conf"
    if start_server herald "$herald_bin" && start_server herald-lazy "$herald_bin" -c "$work_dir/herald-lazy.conf"; then
        servers+=(herald herald-lazy)
    else
        herald_note="herald-server at $herald_bin failed to start: nats-server only."
    fi
else
    herald_note="herald-server not found at $herald_bin: nats-server only."
fi
[[ -n "$herald_note" ]] && echo "NOTE: $herald_note" >&2

scaled_args() {  # Applies --scale to the --msgs value.
    python3 - "$scale" $1 <<'EOF'
import sys
scale = float(sys.argv[1]); args = sys.argv[2:]
for i, a in enumerate(args):
    if i > 0 and args[i - 1] == "--msgs":
        args[i] = str(max(1, int(int(a) * scale)))
print(" ".join(args))
EOF
}

# CPU seconds (user + system) a process has used: fields 14 and 15 of /proc/PID/stat, in ticks.
clock_ticks=$(getconf CLK_TCK 2>/dev/null || echo 100)
cpu_seconds() {
    awk -v hz="$clock_ticks" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}

results_file="$work_dir/results.jsonl"
: >"$results_file"
declare -A skip=()
echo "running ${#case_names[@]} cases x ${#servers[@]} servers x $reps reps ..." >&2
for rep in $(seq 1 "$reps"); do
    for case_name in "${case_names[@]}"; do
        eligible=()
        for server in "${servers[@]}"; do
            [[ "$server" == herald-lazy && "$case_name" != js* ]] && continue
            eligible+=("$server")
        done
        # Rotate which server goes first so that none always runs on a warmer machine.
        order=()
        for index in $(seq 0 $((${#eligible[@]} - 1))); do
            order+=("${eligible[$(( (index + rep - 1) % ${#eligible[@]} ))]}")
        done
        for server in "${order[@]}"; do
            if [[ -n "${skip[$server/$case_name]:-}" ]]; then continue; fi
            line=""
            cpu_before=0
            cpu_after=0
            if ! kill -0 "${server_pid[$server]}" 2>/dev/null; then
                line='{"ok":false,"error":"server process is gone"}'
            else
                cpu_before=$(cpu_seconds "${server_pid[$server]}")
                line=$(run_load "${server_url[$server]}" "$(scaled_args "${case_args[$case_name]}")" \
                    2>>"$work_dir/load-errors.log") || true
                cpu_after=$(cpu_seconds "${server_pid[$server]}")
                [[ -n "$line" ]] || line='{"ok":false,"error":"the load tool printed nothing"}'
            fi
            if [[ "$line" == *'"ok":false'* ]]; then skip[$server/$case_name]=1; fi
            python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d.update(server=sys.argv[2], case=sys.argv[3], rep=int(sys.argv[4]), server_cpu_s=round(float(sys.argv[6]) - float(sys.argv[5]), 3), loadavg=sys.argv[7]); print(json.dumps(d))' \
                "$line" "$server" "$case_name" "$rep" "${cpu_before:-0}" "${cpu_after:-0}" \
                "$(cut -d' ' -f1 /proc/loadavg)" >>"$results_file"
            printf '  rep %s %-10s %-11s %s\n' "$rep" "$case_name" "$server" \
                "$( [[ "$line" == *'"ok":true'* ]] && echo ok || echo FAILED)" >&2
        done
    done
done

fsync_end=$(fsync_probe || echo unknown)
commit=$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n "$(git -C "$repo_root" status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
    commit="$commit-dirty"
fi
cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || echo unknown)
cores=$(nproc 2>/dev/null || echo '?')
kernel=$(uname -sr)
loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
nats_version=$("$nats_bin" --version 2>/dev/null | head -n1 || echo unknown)
date_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)
mkdir -p "$out_dir"
json_out=${json_path:-"$out_dir/compare-$(date -u +%Y%m%d-%H%M%S)-$commit.json"}
mkdir -p "$(dirname "$json_out")"

python3 - "$results_file" "$json_out" "$reps" "$commit" "$cpu_model" "$cores" "$kernel" \
    "$loadavg" "$nats_version" "$date_utc" "$herald_note" "$scale" "$loadavg_start" "$herald_built" \
    "$tool" "$fsync_start" "$fsync_end" "${case_names[@]}" <<'EOF'
import json, statistics, sys
(results_path, json_out, reps, commit, cpu, cores, kernel, loadavg, nats_version, date,
 note, scale, loadavg_start, herald_built, tool, fsync_start, fsync_end, *cases) = sys.argv[1:]
tool = "herald bench" if tool == "bench" else "herald-load"
rows = [json.loads(line) for line in open(results_path)]
# Per case: the metric shown, its unit, whether higher is better.
metrics = {
    "pub16": ("pub_msgs_per_s", "msgs/s", True, "pub 16 B"),
    "pub128": ("pub_msgs_per_s", "msgs/s", True, "pub 128 B"),
    "pub1k": ("pub_msgs_per_s", "msgs/s", True, "pub 1 KiB"),
    "pubsub16": ("recv_msgs_per_s", "msgs/s received", True, "pubsub 1:1 16 B"),
    "pubsub128": ("recv_msgs_per_s", "msgs/s received", True, "pubsub 1:1 128 B"),
    "pubsub1k": ("recv_msgs_per_s", "msgs/s received", True, "pubsub 1:1 1 KiB"),
    "fanout4": ("recv_msgs_per_s", "msgs/s received", True, "fan-out 1->4 128 B"),
    "queue4": ("recv_msgs_per_s", "msgs/s received", True, "queue group of 4, 128 B"),
    "reqrep16": ("latency_us.p50", "us p50", False, "reqrep 16 B latency"),
    "jspubsync": ("pub_msgs_per_s", "msgs/s acked", True, "JS sync publish 128 B"),
    "jspubasync": ("pub_msgs_per_s", "msgs/s acked", True, "JS async publish 128 B, 1,000 outstanding"),
    "jspull": ("recv_msgs_per_s", "msgs/s acked", True, "JS pull consume 128 B, ack explicit"),
}
# JetStream cases get one row per Herald durability mode, both against the same nats-server runs
# (nats-server's file store acks before fsync, syncing every 2 min).
modes = {"herald": " [Herald durable: fsync before ack]",
         "herald-lazy": " [Herald lazy: sync_interval 2m]"}
def get(row, key):
    for part in key.split("."):
        row = row.get(part) if isinstance(row, dict) else None
    return row
def cell(case, server, key):
    mine = [r for r in rows if r["case"] == case and r["server"] == server]
    if not mine:
        return None
    good = [get(r, key) for r in mine if r.get("ok")]
    cpu = [r.get("server_cpu_s") for r in mine if r.get("ok") and r.get("server_cpu_s") is not None]
    out = {
        "median": statistics.median(good) if good else None,
        "min": min(good) if good else None, "max": max(good) if good else None,
        "values": good,
        "runs": len(mine), "ok_runs": len(good),
        "errors": sorted({r.get("error", "") for r in mine if not r.get("ok")}),
        "server_cpu_s_median": statistics.median(cpu) if cpu else None,
    }
    if case == "reqrep16" or case == "jspubsync":
        p99 = [get(r, "latency_us.p99") for r in mine if r.get("ok")]
        out["p99_median"] = statistics.median(p99) if p99 else None
        p50 = [get(r, "latency_us.p50") for r in mine if r.get("ok")]
        out["p50_median"] = statistics.median(p50) if p50 else None
    if case.startswith("pubsub") or case.startswith("fanout") or case.startswith("queue"):
        pub = [get(r, "pub_msgs_per_s") for r in mine if r.get("ok")]
        out["pub_median"] = statistics.median(pub) if pub else None
    return out

summary = {}
for case in cases:
    key, unit, higher, label = metrics[case]
    herald_servers = ["herald", "herald-lazy"] if case.startswith("js") else ["herald"]
    for herald_server in herald_servers:
        name = case if herald_server == "herald" else case + "_lazy"
        entry = {"label": label + (modes[herald_server] if case.startswith("js") else ""),
                 "metric": key, "unit": unit, "higher_is_better": higher}
        if case.startswith("js"):
            entry["durability"] = "durable" if herald_server == "herald" else "lazy"
        for server, source in (("nats", "nats"), ("herald", herald_server)):
            value = cell(case, source, key)
            if value is not None:
                entry[server] = value
        n, h = entry.get("nats", {}).get("median"), entry.get("herald", {}).get("median")
        entry["ratio_herald_over_nats"] = (h / n) if (n and h) else None
        summary[name] = entry
header = {"date": date, "commit": commit, "cpu": cpu, "cores": int(cores) if cores.isdigit() else cores,
          "kernel": kernel, "loadavg_at_start": loadavg_start, "loadavg_at_end": loadavg,
          "herald_server_built": herald_built, "nats_server": nats_version,
          "reps": int(reps), "scale": float(scale), "note": note, "load_tool": tool,
          "fdatasync_at_start": fsync_start, "fdatasync_at_end": fsync_end}
with open(json_out, "w") as f:
    json.dump({"machine": header, "summary": summary, "runs": rows}, f, indent=1)

def fmt(value, unit):
    if value is None:
        return "fail"
    if unit.startswith("us"):
        return f"{value:,.1f}"
    return f"{value:,.0f}"
print(f"## Herald vs nats-server ({date})\n")
print(f"- commit `{commit}`; {cpu}, {cores} cores, {kernel}; load average {loadavg_start} at start, {loadavg} at end")
print(f"- {nats_version}; herald-server built {herald_built}; load tool {tool}; {reps} repetitions per cell, medians shown; scale {scale}")
print(f"- fdatasync of a 170 B append on the store disk: {fsync_start} at start, {fsync_end} at end")
if note:
    print(f"- **{note}**")
print()
print("| case | metric | nats-server | herald | herald/nats |")
print("| --- | --- | ---: | ---: | ---: |")
for case, entry in summary.items():
    unit = entry["unit"]
    n = entry.get("nats", {}).get("median")
    h = entry.get("herald", {}).get("median") if "herald" in entry else None
    herald_cell = fmt(h, unit) if "herald" in entry else "n/a"
    ratio = entry["ratio_herald_over_nats"]
    ratio_cell = f"{ratio:.2f}" + ("" if entry["higher_is_better"] else " (lower is better)") if ratio else "-"
    print(f"| {entry['label']} | {unit} | {fmt(n, unit)} | {herald_cell} | {ratio_cell} |")
extra = []
for case, entry in summary.items():
    for server in ("nats", "herald"):
        e = entry.get(server)
        if e and e["errors"]:
            extra.append(f"- {server} {case}: {e['ok_runs']}/{e['runs']} ok; " + "; ".join(e["errors"]))
if extra:
    print("\nFailures:\n" + "\n".join(extra))
r = summary.get("reqrep16", {})
if r:
    p = " / ".join(f"{s} {r[s]['p99_median']:.1f}" for s in ("nats", "herald") if r.get(s, {}).get("p99_median"))
    if p:
        print(f"\nreqrep p99 (median of runs, us): {p}")
for name, title in (("jspubsync", "Herald durable"), ("jspubsync_lazy", "Herald lazy")):
    r = summary.get(name, {})
    if r.get("nats", {}).get("p50_median") and r.get("herald", {}).get("p50_median"):
        print(f"JS sync publish PubAck latency p50 / p99 (us): nats {r['nats']['p50_median']:.1f} / "
              f"{r['nats']['p99_median']:.1f}; {title} {r['herald']['p50_median']:.1f} / {r['herald']['p99_median']:.1f}")
cpu = []
for name, entry in summary.items():
    n, h = (entry.get("nats") or {}).get("server_cpu_s_median"), (entry.get("herald") or {}).get("server_cpu_s_median")
    if n is not None and h is not None:
        cpu.append(f"{name} {n:.2f}/{h:.2f}")
if cpu:
    print("\nServer CPU seconds per run, median (nats/herald): " + ", ".join(cpu))
print(f"\nJSON: {json_out}")
EOF
