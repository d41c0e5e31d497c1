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
            libnats-dev nats-server

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
	ctest --test-dir $(BUILD) -j $(JOBS) --output-on-failure
	$(MAKE) test-san

test-fast: build
	ctest --test-dir $(BUILD) -j $(JOBS) --output-on-failure -LE interop

test-san: deps
	cmake -S . -B $(BUILD_SAN) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHERALD_SANITIZE=ON -DHERALD_BENCH=OFF
	cmake --build $(BUILD_SAN) -j $(JOBS)
	ctest --test-dir $(BUILD_SAN) -j $(JOBS) --output-on-failure -LE interop

bench: build
	bench/compare.sh

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
