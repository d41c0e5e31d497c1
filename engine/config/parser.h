// A parser for the nats-server config syntax (conf/lex.go and conf/parse.go of nats-server 2.9):
// `key = value`, `key: value` or `key value`; maps, arrays, comments, quoted and bare strings,
// booleans, integers with size suffixes, floats, datetimes, `$variables` and `include`. The
// result is a Value tree whose nodes keep their file:line; turning it into Options is loader.h.
#pragma once

#include <string>
#include <string_view>

#include "engine/base/result.h"
#include "engine/config/environment.h"
#include "engine/config/value.h"

namespace herald::config {

// Includes nested deeper than this are an error (this also stops include cycles).
inline constexpr int include_depth_max = 10;
// Maps and arrays nested deeper than this are an error (bounds the parser's recursion).
inline constexpr int nesting_depth_max = 64;

// Parses `text` as the contents of the file `file_name` (used in messages and to resolve includes
// relative to its folder). On failure the error is syntax_error or file_error and
// `error_message` reads "file:line: problem".
Result<Value> parse_config_text(std::string_view text, const std::string& file_name,
                                const Environment& environment, std::string& error_message);

// Reads `path` through `environment` and parses it.
Result<Value> parse_config_file(const std::string& path, const Environment& environment,
                                std::string& error_message);

// Joins an include path to the folder of the including file ("a/b.conf" + "c.conf" = "a/c.conf").
// An absolute include path is used as it is.
std::string include_path(const std::string& including_file, const std::string& path);

}  // namespace herald::config
