// Counts heap allocations in the micro-benchmark binary (it replaces the global operator new), so
// each benchmark can report allocations per operation.
#pragma once

#include <cstdint>

#include <benchmark/benchmark.h>

namespace herald::bench {

// Allocations made by this process so far.
std::uint64_t allocation_count();

// Sets the "allocs/op" counter of `state` to the allocations made during its lifetime divided by
// the operations: iterations times `operations_per_iteration`.
class AllocationCounter {
public:
    explicit AllocationCounter(benchmark::State& state, std::uint64_t operations_per_iteration = 1)
        : state_(state), start_(allocation_count()), per_iteration_(operations_per_iteration) {}
    ~AllocationCounter() {
        const auto iterations = state_.iterations() == 0 ? 1 : state_.iterations();
        state_.counters["allocs/op"] =
            static_cast<double>(allocation_count() - start_) /
            (static_cast<double>(iterations) * static_cast<double>(per_iteration_));
    }
    AllocationCounter(const AllocationCounter&) = delete;
    AllocationCounter& operator=(const AllocationCounter&) = delete;

private:
    benchmark::State& state_;
    std::uint64_t start_;
    std::uint64_t per_iteration_;
};

}  // namespace herald::bench
