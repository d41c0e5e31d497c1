#include "engine/base/assert.h"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

namespace herald::base {
namespace {

const char* assert_context = nullptr;

std::map<std::string, std::uint64_t>& cover_counts() {
    static std::map<std::string, std::uint64_t> counts;
    return counts;
}

}  // namespace

void assert_fail(const char* expression, const char* file, int line) {
    std::fprintf(stderr, "ASSERT failed: %s at %s:%d%s%s\n", expression, file, line,
                 assert_context != nullptr ? " " : "",
                 assert_context != nullptr ? assert_context : "");
    std::fflush(stderr);
    std::abort();
}

void set_assert_context(const char* context) { assert_context = context; }

void cover_hit(const char* name) { ++cover_counts()[name]; }

std::map<std::string, std::uint64_t> cover_snapshot() { return cover_counts(); }

}  // namespace herald::base
