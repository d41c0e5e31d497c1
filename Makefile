# Herald: the two commands of the README, and a few more. Builds with CMake + Ninja, -j2.
#   make run    installs what is missing, builds, starts herald-server with JetStream on
#   make test   installs what is missing, builds, runs every test (also under ASan+UBSan)

BUILD      ?= build
BUILD_SAN  ?= build-san
JOBS       ?= 2
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian 12 packages the build and the tests need.
PACKAGES := build-essential cmake ninja-build pkg-config git \
            libboost-dev libboost-program-options-dev libfmt-dev nlohmann-json3-dev \
            catch2 librapidcheck-dev libbenchmark-dev libssl-dev \
            libnats-dev nats-server chromium

.PHONY: all deps build run test test-fast test-san bench clean

all: build

deps:
	@missing=$$(for p in $(PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing: $$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@command -v node >/dev/null 2>&1 || { echo "Installing: nodejs npm"; DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends nodejs npm; }

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/bin/herald-server -js -m 8222

# Every test: the normal build (unit, property, interop against herald-server and nats-server),
# then the unit and bad-input tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
test: build
	cd tests/interop/js && { [ -d node_modules ] || npm install --no-audit --no-fund --loglevel=error; } || echo "nats.js not installed: its interop test will be skipped"
	cd reports && { [ -d node_modules ] || npm install --no-audit --no-fund --loglevel=error; } || echo "Chart.js/playwright-core not installed: the report browser test will be skipped"
	ctest --test-dir $(BUILD) -j $(JOBS) --output-on-failure
	$(MAKE) test-san

test-fast: build
	ctest --test-dir $(BUILD) -j $(JOBS) --output-on-failure -LE interop

test-san: deps
	cmake -S . -B $(BUILD_SAN) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHERALD_SANITIZE=ON -DHERALD_BENCH=OFF
	cmake --build $(BUILD_SAN) -j $(JOBS)
	ctest --test-dir $(BUILD_SAN) -j $(JOBS) --output-on-failure -LE interop

# Micro benchmarks (bench/micro.sh) and the side-by-side matrix against nats-server
# (bench/compare.sh: core NATS, queue group, JetStream with Herald durable and lazy), then one
# HTML page and a Markdown summary compared with the committed baseline:
# reports/bench/latest.{html,md} (reports/README.md). About 4 minutes on 2 cores.
# bench-check: the same, then exit 1 when a benchmark's best repetition falls more than
# BENCH_MARGIN below reports/baseline/bench.json (micro ones must fall again in a second run);
# BENCH_RUN=0 checks the newest results instead.
BENCH_REPS   ?= 5
BENCH_MARGIN ?= 0.30
BENCH_RUN    ?= 1
# A shared build directory is built under this lock (the project's rule); empty without flock.
BUILD_LOCK   ?= $(shell command -v flock >/dev/null 2>&1 && echo flock /tmp/herald-build.lock)
bench: deps $(BUILD)/build.ninja
	$(BUILD_LOCK) cmake --build $(BUILD) -j $(JOBS) --target herald-server herald herald-load herald_micro_bench
	cd reports && { [ -d node_modules ] || npm install --no-audit --no-fund --loglevel=error; }
	@set -e; stamp=$$(date -u +%Y%m%d-%H%M%S)-$$(git rev-parse --short HEAD); \
	micro=$$(bench/micro.sh --out reports/bench/$$stamp.json); \
	bench/compare.sh --reps $(BENCH_REPS) --json reports/bench/compare-$$stamp.json; \
	python3 reports/bench_report.py render --micro $$micro --macro reports/bench/compare-$$stamp.json \
	  --baseline reports/baseline/bench.json --margin $(BENCH_MARGIN) --summary-out reports/bench/summary-$$stamp.json \
	  --html reports/bench/report-$$stamp.html --md reports/bench/report-$$stamp.md; \
	cp reports/bench/report-$$stamp.html reports/bench/latest.html; cp reports/bench/report-$$stamp.md reports/bench/latest.md; \
	echo "report: reports/bench/latest.html (and .md); summary: reports/bench/summary-$$stamp.json"

.PHONY: bench-check
bench-check:
	@if [ "$(BENCH_RUN)" != 0 ]; then $(MAKE) --no-print-directory bench; fi
	@summary=$$(ls -t reports/bench/summary-*.json 2>/dev/null | head -n 1); \
	[ -n "$$summary" ] || { echo "bench-check: no reports/bench/summary-*.json (run make bench)"; exit 2; }; \
	python3 reports/bench_report.py check --summary $$summary --baseline reports/baseline/bench.json --margin $(BENCH_MARGIN) \
	  --confirm $(BUILD)/bin/herald_micro_bench

clean:
	rm -rf $(BUILD) $(BUILD_SAN)

# Longer random swarms than CI's fixed seed list (docs/simulator.md): every committed scenario
# with swarm fault mixes, SEEDS per scenario; the summary goes to reports/sim/ (not committed).
SEEDS ?= 1..500
.PHONY: sim-swarm
sim-swarm: $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS) --target herald-sim
	@mkdir -p reports/sim
	@status=0; stamp=$$(date +%Y%m%d-%H%M%S)-$$(git rev-parse --short HEAD); \
	summary=reports/sim/swarm-$$stamp.txt; : > $$summary; \
	for scenario in scenarios/*.json; do \
	  name=$$(basename $$scenario .json); \
	  $(BUILD)/bin/herald-sim swarm $$scenario --seeds $(SEEDS) --report reports/sim/swarm-$$stamp-$$name.txt > /dev/null || status=1; \
	  tail -n 1 reports/sim/swarm-$$stamp-$$name.txt | sed "s|^|$$name: |" >> $$summary; \
	  grep -A2 ' FAIL ' reports/sim/swarm-$$stamp-$$name.txt >> $$summary || true; \
	done; \
	cat $$summary; echo "summary: $$summary"; exit $$status
