#!/usr/bin/env bash
# Runs a nats.js interop file (default interop_test.js) against a fresh server process: the binary
# in $HERALD_TEST_SERVER (default nats-server), on a free loopback port found through the ports file
# <dir>/<binary basename>_<pid>.ports, exactly like tests/support/server_process.cc.
# Usage: run_js_interop.sh [--jetstream] [test file]; --jetstream starts the server with
# `-js -sd <temp dir>/store`.
# Exit 77 (ctest SKIP_RETURN_CODE) when node or node_modules is missing: run `npm ci` here first.
set -u
server_args=()
jetstream=0
if [[ "${1:-}" == "--jetstream" ]]; then jetstream=1; shift; fi
test_file="${1:-interop_test.js}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if ! command -v node >/dev/null || [[ ! -d "$here/node_modules/nats" ]]; then
  echo "skipping: node or $here/node_modules/nats missing (run: cd $here && npm ci)"
  exit 77
fi
server="${HERALD_TEST_SERVER:-}"
if [[ -z "$server" ]]; then
  for candidate in /usr/bin/nats-server /usr/sbin/nats-server; do
    [[ -x "$candidate" ]] && server="$candidate" && break
  done
fi
[[ -x "$server" ]] || { echo "server binary '$server' is not executable (set HERALD_TEST_SERVER)"; exit 1; }

dir="$(mktemp -d "${TMPDIR:-/tmp}/herald-interop-js-XXXXXX")"
[[ $jetstream -eq 1 ]] && server_args=(-js -sd "$dir/store")
"$server" -a 127.0.0.1 -p -1 --ports_file_dir "$dir" "${server_args[@]}" >"$dir/server.log" 2>&1 &
pid=$!
stop_server() {
  # Only the pid we started: SIGTERM, bounded wait, then SIGKILL.
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 500); do kill -0 "$pid" 2>/dev/null || break; sleep 0.01; done
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
}
trap 'stop_server; rm -rf "$dir"' EXIT

ports_file="$dir/$(basename "$server")_$pid.ports"
url=""
for _ in $(seq 1000); do  # Poll every 10 ms, at most 10 s.
  if [[ -s "$ports_file" ]]; then
    url="$(node -e 'try { const p = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      const u = (p.nats || []).find((x) => x.startsWith("nats://")); if (u) console.log(u); } catch (e) {}' "$ports_file")"
    [[ -n "$url" ]] && break
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.01
done
if [[ -z "$url" ]]; then
  echo "no usable $ports_file; server log:"; cat "$dir/server.log"; exit 1
fi

echo "nats.js interop ($test_file) against $server at $url"
# HERALD_SERVER_BINARY lets a test start (and restart) a server of its own.
cd "$here" && NATS_URL="$url" HERALD_SERVER_BINARY="$server" node --test "$test_file"
status=$?
[[ $status -ne 0 ]] && { echo "--- server log ---"; cat "$dir/server.log"; }
exit $status
