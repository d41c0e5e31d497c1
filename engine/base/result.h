// Result<T> and Status: operating errors as values, carrying a std::error_code. Member names copy
// std::expected so a later move to C++23 is a typedef. Bugs are ASSERTs, not errors.
#pragma once

#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#include "engine/base/assert.h"

namespace herald {

// Tag that builds an error-valued Result from a std::error_code (like std::unexpected).
struct Unexpected {
    std::error_code code;
};
inline Unexpected unexpected(std::error_code code) { return Unexpected{code}; }

template <class T>
class [[nodiscard]] Result {
public:
    // NOLINTBEGIN(google-explicit-constructor): implicit by design, as std::expected.
    Result(T value) : storage_(std::in_place_index<0>, std::move(value)) {}
    Result(std::error_code code) : storage_(std::in_place_index<1>, code) { ASSERT(code); }
    Result(Unexpected error) : storage_(std::in_place_index<1>, error.code) { ASSERT(error.code); }
    template <class E, std::enable_if_t<std::is_error_code_enum_v<E>, int> = 0>
    Result(E code) : Result(std::error_code(make_error_code(code))) {}
    // NOLINTEND(google-explicit-constructor)

    bool has_value() const { return storage_.index() == 0; }
    explicit operator bool() const { return has_value(); }

    T& value() & {
        ASSERT(has_value());
        return std::get<0>(storage_);
    }
    const T& value() const& {
        ASSERT(has_value());
        return std::get<0>(storage_);
    }
    T&& value() && {
        ASSERT(has_value());
        return std::get<0>(std::move(storage_));
    }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    std::error_code error() const {
        ASSERT(!has_value());
        return std::get<1>(storage_);
    }

private:
    std::variant<T, std::error_code> storage_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    // NOLINTBEGIN(google-explicit-constructor)
    Result(std::error_code code) : code_(code) {}
    Result(Unexpected error) : code_(error.code) {}
    template <class E, std::enable_if_t<std::is_error_code_enum_v<E>, int> = 0>
    Result(E code) : code_(make_error_code(code)) {}
    // NOLINTEND(google-explicit-constructor)

    bool has_value() const { return !code_; }
    explicit operator bool() const { return has_value(); }
    std::error_code error() const {
        ASSERT(!has_value());
        return code_;
    }

private:
    std::error_code code_;
};

using Status = Result<void>;

inline Status ok() { return {}; }

}  // namespace herald
