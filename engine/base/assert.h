// Assertions that stay on in release builds (TigerBeetle style). A failed ASSERT is a bug: it
// prints the expression and file:line, then aborts. EXPENSIVE_ASSERT is for O(n) checks and is on
// in Debug and simulation builds only.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace herald::base {

[[noreturn]] void assert_fail(const char* expression, const char* file, int line);

// Extra context printed on an assertion failure (the simulator sets seed and commit here).
void set_assert_context(const char* context);

// COVER probes: rare paths that tests and the simulator should reach. Counted per name.
void cover_hit(const char* name);

// Hits per COVER name so far in this process, sorted by name.
std::map<std::string, std::uint64_t> cover_snapshot();

}  // namespace herald::base

#define ASSERT(cond)                                                     \
    do {                                                                 \
        if (!(cond)) [[unlikely]]                                        \
            ::herald::base::assert_fail(#cond, __FILE__, __LINE__);      \
    } while (false)

#if defined(HERALD_EXPENSIVE_ASSERTS)
#define EXPENSIVE_ASSERT(cond) ASSERT(cond)
#else
#define EXPENSIVE_ASSERT(cond) \
    do {                       \
    } while (false)
#endif

// Documents that both outcomes of a condition are expected and fine.
#define MAYBE(cond) static_cast<void>(sizeof(static_cast<bool>(cond)))

#define COVER(name) ::herald::base::cover_hit(name)
