// herald-server's command line, with nats-server 2.9 flags and Go flag syntax: one or two dashes,
// `-p 4222` or `-p=4222`, multi-letter short flags (-js, -sd, -DV), boolean flags take a value
// only after '=' (-T=false). A config file given with -c is loaded first; flags override it.
#pragma once

#include <span>
#include <string>

#include "engine/base/result.h"
#include "engine/config/environment.h"
#include "engine/config/options.h"

namespace herald::config {

struct CommandLine {
    Options options;
    bool show_help = false;     // -h, --help: print help_text() and exit 0
    bool show_version = false;  // -v, --version: print the version and exit 0
    bool test_config = false;   // -t: the configuration is valid; report it and exit 0
};

// `arguments` are the words after the program name (argv + 1). Loads the file named by -c or
// --config through `environment`, then applies the flags in order. Errors: invalid_flag for
// unknown flags or bad values (message as Go's flag package words it, e.g.
// `invalid value "abc" for flag -p: parse error`), unsupported for nats-server flags Herald does
// not implement, or any error of load_config_file. With -t, config warnings are errors too (as
// nats-server -t). -h and -v stop before the config file is read.
Result<CommandLine> parse_command_line(std::span<const char* const> arguments,
                                       std::string& error_message,
                                       const Environment& environment);

// The --help text: every flag with a one-line description, grouped as nats-server prints them.
std::string help_text();

}  // namespace herald::config
