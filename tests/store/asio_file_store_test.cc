// FileStore on the real disk (AsioEnv, a mkdtemp directory under /tmp): a round trip, a clean
// restart and an index rebuild. The only store test outside the simulator.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "engine/io/asio/asio_env.h"
#include "engine/store/file_store.h"

using herald::Result;
using herald::Status;
using herald::io::AsioEnv;
using herald::store::FileStore;
using herald::store::FileStoreConfig;
using herald::store::StoreAck;
using herald::store::StoredMessage;
using herald::store::StoreRequest;

namespace {

constexpr std::size_t handlers_max = 1'000'000;

std::unique_ptr<FileStore> open_store(AsioEnv& asio, const std::string& directory) {
    FileStoreConfig config;
    config.directory = directory;
    config.block_size_max = 64 * 1024;
    std::optional<Result<std::unique_ptr<FileStore>>> opened;
    FileStore::open(asio.env(), config, [&](auto result) { opened.emplace(std::move(result)); });
    REQUIRE(asio.run_until([&] { return opened.has_value(); }, handlers_max));
    REQUIRE(opened->has_value());
    return std::move(**opened);
}

}  // namespace

TEST_CASE("file store (real disk): round trip, restart and index rebuild", "[store][asio]") {
    std::string pattern = "/tmp/herald-store-XXXXXX";
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    const std::string directory = pattern + "/ORDERS";
    AsioEnv asio;
    {
        auto store = open_store(asio, directory);
        int acked = 0;
        for (int i = 0; i < 1000; ++i) {
            store->store(StoreRequest{i % 2 == 0 ? "a" : "b", "", "payload-" + std::to_string(i)},
                         [&](Result<StoreAck> ack) {
                             REQUIRE(ack);
                             acked += 1;
                         });
        }
        REQUIRE(asio.run_until([&] { return acked == 1000; }, handlers_max));
        CHECK(store->stats().syncs < 1000);  // Group commit on a real disk.
        std::optional<Status> closed;
        store->close([&](Status status) { closed.emplace(status); });
        REQUIRE(asio.run_until([&] { return closed.has_value(); }, handlers_max));
        REQUIRE(*closed);
    }
    std::filesystem::remove(directory + "/index.dat");
    {
        auto store = open_store(asio, directory);
        CHECK(store->recovery_report().index_rebuilt);
        CHECK(store->recovery_report().lost.empty());
        CHECK(store->state().messages == 1000);
        CHECK(store->state().last_seq == 1000);
        std::optional<Result<StoredMessage>> loaded;
        store->load_last("a", [&](Result<StoredMessage> message) { loaded.emplace(std::move(message)); });
        REQUIRE(asio.run_until([&] { return loaded.has_value(); }, handlers_max));
        REQUIRE(*loaded);
        CHECK((*loaded)->seq == 999);
        CHECK((*loaded)->payload == "payload-998");
        std::optional<Status> closed;
        store->close([&](Status status) { closed.emplace(status); });
        REQUIRE(asio.run_until([&] { return closed.has_value(); }, handlers_max));
    }
    std::filesystem::remove_all(pattern);
}
