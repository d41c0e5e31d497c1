// The one way to include boost.asio in Herald. Boost 1.74's asio needs <utility> before it under
// GCC 12 in C++20 mode (awaitable.hpp uses std::exchange). Only engine/io/asio/*.cc include this.
#pragma once

// Asio's SFINAE default arguments (`enable_if<...>::type* = 0`) are instantiated at our call
// sites, where GCC reports them as ours. This stays off for the rest of each including file.
#pragma GCC diagnostic ignored "-Wzero-as-null-pointer-constant"

// clang-format off
#include <utility>
#include <boost/asio.hpp>
// clang-format on
