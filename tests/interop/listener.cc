// Prints the logs of the servers a failing interop test started, at the first failed assertion,
// while those processes and their temp dirs still exist.
#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <catch2/catch.hpp>
#include <iostream>

#include "tests/support/server_process.h"

namespace {

class ServerLogOnFailure : public Catch::TestEventListenerBase {
public:
    using TestEventListenerBase::TestEventListenerBase;

    bool assertionEnded(const Catch::AssertionStats& stats) override {
        if (!stats.assertionResult.isOk()) {
            herald::test::ServerProcess::print_logs_of_live_servers(std::cerr);
        }
        return true;
    }
};

}  // namespace

CATCH_REGISTER_LISTENER(ServerLogOnFailure)
