// End-to-end tests of the `herald` JetStream commands (stream, consumer, kv, object, backup and
// restore, bench --js) against the server named by HERALD_TEST_SERVER, started with JetStream on
// a private store directory. Every command is a real child process; waits are bounded.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_process.h"
#include "tests/support/server_process.h"

namespace {

using herald::test::CliProcess;
using herald::test::ServerOptions;
using herald::test::ServerProcess;
using nlohmann::json;

// A directory of our own (mkdtemp), removed at the end.
class TempDir {
public:
    TempDir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "herald-cli-js-XXXXXX").string();
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// A server with JetStream on its own store directory.
struct JsServer {
    TempDir store;
    ServerProcess server{ServerOptions{{}, {"-js", "-sd", store.path()}}};
    const std::string& url() const { return server.url(); }
};

struct Outcome {
    int status = -1;
    std::string out;
    std::string err;
};

// Runs `herald -s URL <args>` to completion.
Outcome run_herald(const JsServer& js,
                   std::vector<std::string> args,
                   std::optional<std::string> input = std::nullopt) {
    args.insert(args.begin(), {"-s", js.url()});
    CliProcess process(args, std::move(input));
    const auto status = process.wait_exit();
    INFO(process.describe());
    REQUIRE(status.has_value());
    return {*status, process.out(), process.err()};
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

json parse(const Outcome& outcome) {
    const json parsed = json::parse(outcome.out, nullptr, false);
    INFO(outcome.out << outcome.err);
    REQUIRE(!parsed.is_discarded());
    return parsed;
}

std::string base64_decode(const std::string& text) {
    static const std::string alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned buffer = 0;
    int bits = 0;
    for (const char c : text) {
        if (c == '=') break;
        buffer = (buffer << 6U) | static_cast<unsigned>(alphabet.find(c));
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buffer >> static_cast<unsigned>(bits)) & 0xFFU);
        }
    }
    return out;
}

}  // namespace

// Goal: the stream commands against a real server: create (no prompts), info, ls, get, edit,
// purge, rm, and server errors with description and err_code.
TEST_CASE("cli js: stream add, info, ls, get, edit, purge and rm", "[cli][e2e][js]") {
    JsServer js;
    const Outcome prompted = run_herald(js, {"stream", "add", "ORDERS", "--subjects", "orders.*"});
    CHECK(prompted.status == 2);
    CHECK(contains(prompted.err, "missing --storage"));
    CHECK(contains(prompted.err, "--defaults"));

    const Outcome added =
        run_herald(js, {"stream", "add", "ORDERS", "--subjects", "orders.*", "--defaults"});
    REQUIRE(added.status == 0);
    CHECK(contains(added.out, "Stream ORDERS was created"));
    CHECK(contains(added.out, "Subjects: orders.*"));
    CHECK(contains(added.out, "Retention: File - Limits"));

    REQUIRE(
        run_herald(js, {"pub", "orders.new", "order {{Count}}", "--count", "3", "-H", "Trace:abc"})
            .status
        == 0);
    const json info = parse(run_herald(js, {"stream", "info", "ORDERS", "--json"}));
    CHECK(info["state"]["messages"] == 3);
    CHECK(info["state"]["last_seq"] == 3);
    CHECK(info["config"]["subjects"] == json::array({"orders.*"}));
    CHECK(info["config"]["storage"] == "file");

    // --config sends a configuration as written (here: ORDERS' own, on other subjects).
    TempDir dir;
    const std::string config_path = dir.path() + "/copy.json";
    json config = info["config"];
    config["subjects"] = json::array({"copy.*"});
    std::ofstream(config_path) << config.dump();
    CHECK(
        run_herald(js, {"stream", "add", "COPY", "--config", config_path, "--max-msgs", "5"}).status
        == 2);
    REQUIRE(run_herald(js, {"stream", "add", "COPY", "--config", config_path}).status == 0);
    const json copy = parse(run_herald(js, {"stream", "info", "COPY", "--json"}));
    CHECK(copy["config"]["subjects"] == json::array({"copy.*"}));
    CHECK(copy["config"]["name"] == "COPY");
    REQUIRE(run_herald(js, {"stream", "rm", "COPY", "-f"}).status == 0);

    const Outcome human = run_herald(js, {"stream", "info", "ORDERS"});
    CHECK(contains(human.out, "Information for Stream ORDERS created"));
    CHECK(contains(human.out, "Messages: 3"));

    const Outcome listed = run_herald(js, {"stream", "ls"});
    CHECK(contains(listed.out, "Streams"));
    CHECK(contains(listed.out, "ORDERS"));
    CHECK(run_herald(js, {"stream", "ls", "--names"}).out == "ORDERS\n");

    const Outcome second = run_herald(js, {"stream", "get", "ORDERS", "2"});
    CHECK(second.status == 0);
    CHECK(contains(second.out, "Item: ORDERS#2 received"));
    CHECK(contains(second.out, "on Subject orders.new"));
    CHECK(contains(second.out, "Trace: abc"));
    CHECK(contains(second.out, "order 2\n"));
    const json last =
        parse(run_herald(js, {"stream", "get", "ORDERS", "--last-for", "orders.new", "--json"}));
    CHECK(last["seq"] == 3);
    CHECK(base64_decode(last["data"]) == "order 3");
    CHECK(contains(base64_decode(last["hdrs"]), "Trace: abc"));

    const Outcome missing = run_herald(js, {"stream", "info", "NOPE"});
    CHECK(missing.status == 1);
    CHECK(contains(missing.err, "stream not found (10059)"));
    const Outcome no_message = run_herald(js, {"stream", "get", "ORDERS", "9"});
    CHECK(no_message.status == 1);
    CHECK(contains(no_message.err, "(10037)"));

    const Outcome edited =
        run_herald(js, {"stream", "edit", "ORDERS", "--max-msgs", "2", "--json"});
    REQUIRE(edited.status == 0);
    const json after_edit = parse(edited);
    CHECK(after_edit["config"]["max_msgs"] == 2);
    CHECK(after_edit["state"]["messages"] == 2);
    const Outcome refused = run_herald(js, {"stream", "edit", "ORDERS", "--storage", "memory"});
    CHECK(refused.status == 1);
    CHECK(contains(refused.err, "could not update stream ORDERS"));
    CHECK(contains(refused.err, "(100"));  // an err_code

    CHECK(run_herald(js, {"stream", "purge", "ORDERS"}).status == 2);
    const Outcome purged = run_herald(js, {"stream", "purge", "ORDERS", "-f"});
    CHECK(purged.status == 0);
    CHECK(contains(purged.out, "Purged 2 messages from stream ORDERS"));
    CHECK(run_herald(js, {"stream", "rm", "ORDERS"}).status == 2);
    CHECK(run_herald(js, {"stream", "rm", "ORDERS", "-f"}).status == 0);
    CHECK(run_herald(js, {"stream", "info", "ORDERS"}).status == 1);
    CHECK(run_herald(js, {"stream", "ls"}).out == "No Streams defined\n");
}

// Goal: consumers: create (no prompts), fetch with and without acks, state visible in info, rm.
TEST_CASE("cli js: consumer add, next, info, ls and rm", "[cli][e2e][js]") {
    JsServer js;
    REQUIRE(
        run_herald(js, {"stream", "add", "ORDERS", "--subjects", "orders.*", "--defaults"}).status
        == 0);
    REQUIRE(run_herald(js, {"pub", "orders.new", "order {{Count}}", "--count", "3"}).status == 0);

    const Outcome prompted = run_herald(js, {"consumer", "add", "ORDERS", "NEW"});
    CHECK(prompted.status == 2);
    CHECK(contains(prompted.err, "missing --pull or --target"));
    const Outcome bad = run_herald(
        js, {"consumer", "add", "ORDERS", "NEW", "--defaults", "--deliver", "sometimes"});
    CHECK(bad.status == 2);
    CHECK(contains(bad.err, "bad value for --deliver: 'sometimes'"));

    const Outcome added = run_herald(js,
                                     {"consumer",
                                      "add",
                                      "ORDERS",
                                      "NEW",
                                      "--pull",
                                      "--deliver",
                                      "all",
                                      "--ack",
                                      "explicit",
                                      "--filter",
                                      "orders.new",
                                      "--max-deliver",
                                      "-1",
                                      "--max-pending",
                                      "100",
                                      "--wait",
                                      "10s"});
    REQUIRE(added.status == 0);
    CHECK(contains(added.out, "Information for Consumer ORDERS > NEW"));
    CHECK(contains(added.out, "Pull Mode: true"));
    CHECK(contains(added.out, "Filter Subject: orders.new"));
    CHECK(contains(added.out, "Ack Wait: 10s"));

    const Outcome two = run_herald(js, {"consumer", "next", "ORDERS", "NEW", "--count", "2"});
    REQUIRE(two.status == 0);
    CHECK(contains(two.out, "subj: orders.new / tries: 1 / cons seq: 1 / str seq: 1 / pending: 2"));
    CHECK(contains(two.out, "order 1\n"));
    CHECK(contains(two.out, "order 2\n"));
    CHECK(contains(two.out, "Acknowledged message"));

    const json info = parse(run_herald(js, {"consumer", "info", "ORDERS", "NEW", "--json"}));
    CHECK(info["ack_floor"]["stream_seq"] == 2);
    CHECK(info["num_pending"] == 1);
    CHECK(info["num_ack_pending"] == 0);

    const Outcome raw = run_herald(js, {"consumer", "next", "ORDERS", "NEW", "--no-ack", "--raw"});
    CHECK(raw.status == 0);
    CHECK(raw.out == "order 3\n");
    const json unacked = parse(run_herald(js, {"consumer", "info", "ORDERS", "NEW", "--json"}));
    CHECK(unacked["num_ack_pending"] == 1);

    const Outcome empty = run_herald(js, {"consumer", "next", "ORDERS", "NEW", "--wait", "300ms"});
    CHECK(empty.status == 1);
    CHECK(contains(empty.err, "no message from ORDERS > NEW within 300ms"));

    CHECK(run_herald(js, {"consumer", "ls", "ORDERS", "--names"}).out == "NEW\n");
    CHECK(contains(run_herald(js, {"consumer", "ls", "ORDERS"}).out, "Consumers"));
    CHECK(run_herald(js, {"consumer", "rm", "ORDERS", "NEW", "-f"}).status == 0);
    const Outcome gone = run_herald(js, {"consumer", "info", "ORDERS", "NEW"});
    CHECK(gone.status == 1);
    CHECK(contains(gone.err, "consumer not found (10014)"));
}

// Goal: a backup restores to the same messages at the same sequences, with a purged head and a
// deleted message in the middle. Method: compare every message's JSON and the stream state.
TEST_CASE("cli js: stream backup and restore keep sequences, subjects, headers and data",
          "[cli][e2e][js]") {
    JsServer js;
    TempDir dir;
    const std::string backup = dir.path() + "/bk";
    REQUIRE(run_herald(js, {"stream", "add", "BK", "--subjects", "bk.>", "--defaults"}).status
            == 0);
    for (int i = 1; i <= 6; ++i) {
        REQUIRE(run_herald(js,
                           {"pub",
                            "bk." + std::to_string(i % 2),
                            "body " + std::to_string(i),
                            "-H",
                            "Nats-Msg-Id:id" + std::to_string(i),
                            "-H",
                            "Trace:" + std::to_string(i)})
                    .status
                == 0);
    }
    REQUIRE(run_herald(js, {"stream", "purge", "BK", "-f", "--seq", "3"}).status == 0);
    const Outcome deleted = run_herald(js, {"req", "$JS.API.STREAM.MSG.DELETE.BK", R"({"seq":4})"});
    REQUIRE(contains(deleted.out, "\"success\":true"));
    const json before = parse(run_herald(js, {"stream", "info", "BK", "--json"}));
    REQUIRE(before["state"]["messages"] == 3);
    std::vector<json> messages;
    for (const int seq : {3, 5, 6})
        messages.push_back(
            parse(run_herald(js, {"stream", "get", "BK", std::to_string(seq), "--json"})));

    const Outcome saved = run_herald(js, {"stream", "backup", "BK", backup});
    REQUIRE(saved.status == 0);
    CHECK(contains(saved.out, "Backed up stream BK: 3 messages"));
    CHECK(run_herald(js, {"stream", "backup", "BK", backup}).status == 1);  // it holds a backup

    const Outcome exists = run_herald(js, {"stream", "restore", backup});
    CHECK(exists.status == 1);
    CHECK(contains(exists.err, "stream BK already exists"));

    REQUIRE(run_herald(js, {"stream", "rm", "BK", "-f"}).status == 0);
    const Outcome restored = run_herald(js, {"stream", "restore", backup});
    INFO(restored.out << restored.err);
    REQUIRE(restored.status == 0);
    CHECK(
        contains(restored.out,
                 "Restored stream BK: 3 messages, sequences 3..6, 1 deleted sequences recreated"));

    const json after = parse(run_herald(js, {"stream", "info", "BK", "--json"}));
    CHECK(after["state"]["messages"] == 3);
    CHECK(after["state"]["first_seq"] == 3);
    CHECK(after["state"]["last_seq"] == 6);
    CHECK(after["state"]["num_deleted"] == 1);
    CHECK(after["config"]["subjects"] == before["config"]["subjects"]);
    std::size_t index = 0;
    for (const int seq : {3, 5, 6}) {
        json copy = parse(run_herald(js, {"stream", "get", "BK", std::to_string(seq), "--json"}));
        json original = messages[index++];
        copy.erase("time");  // the restore gets new stamps, as documented
        original.erase("time");
        CHECK(copy == original);
    }
    CHECK(run_herald(js, {"stream", "get", "BK", "4"}).status == 1);
    // The duplicate window still knows the restored ids: the stream is whole, not re-fed.
    const Outcome duplicate = run_herald(js, {"req", "bk.1", "again", "-H", "Nats-Msg-Id:id5"});
    const json ack = parse(duplicate);
    CHECK(ack["duplicate"] == true);
    CHECK(ack["seq"] == 5);  // the restored message with that id
}

// Goal: the kv commands round-trip values, history and watch against a real server.
TEST_CASE("cli js: kv add, put, get, del, history, watch and ls", "[cli][e2e][js]") {
    JsServer js;
    const Outcome added = run_herald(js, {"kv", "add", "CONFIG", "--history", "5"});
    REQUIRE(added.status == 0);
    CHECK(contains(added.out, "History Kept: 5"));
    CHECK(contains(added.out, "JetStream Stream: KV_CONFIG"));

    CliProcess watch({"-s", js.url(), "kv", "watch", "CONFIG", "--count", "3"});
    REQUIRE(watch.wait_for_stderr("Watching CONFIG > >"));
    CHECK(run_herald(js, {"kv", "put", "CONFIG", "user", "bob"}).out == "bob\n");
    CHECK(run_herald(js, {"kv", "put", "CONFIG", "user"}, std::string("alice")).status == 0);
    CHECK(run_herald(js, {"kv", "del", "CONFIG", "user"}).status == 2);
    CHECK(run_herald(js, {"kv", "del", "CONFIG", "user", "-f"}).status == 0);
    REQUIRE(watch.wait_exit() == 0);
    CHECK(contains(watch.out(), "PUT CONFIG > user: bob\n"));
    CHECK(contains(watch.out(), "PUT CONFIG > user: alice\n"));
    CHECK(contains(watch.out(), "DEL CONFIG > user\n"));

    const Outcome gone = run_herald(js, {"kv", "get", "CONFIG", "user"});
    CHECK(gone.status == 1);
    CHECK(contains(gone.err, "key not found"));
    CHECK(run_herald(js, {"kv", "get", "CONFIG", "user", "--revision", "2", "--raw"}).out
          == "alice\n");

    const json history = parse(run_herald(js, {"kv", "history", "CONFIG", "user", "--json"}));
    REQUIRE(history.size() == 3);
    CHECK(history[0]["operation"] == "PUT");
    CHECK(history[2]["operation"] == "DEL");
    CHECK(history[2]["revision"] == 3);
    CHECK(contains(run_herald(js, {"kv", "history", "CONFIG", "user"}).out,
                   "History for CONFIG > user"));

    REQUIRE(run_herald(js, {"kv", "put", "CONFIG", "color", "blue"}).status == 0);
    const Outcome got = run_herald(js, {"kv", "get", "CONFIG", "color"});
    CHECK(contains(got.out, "CONFIG > color revision 4 created @"));
    CHECK(contains(got.out, "\n\nblue\n"));
    CHECK(run_herald(js, {"kv", "ls", "CONFIG"}).out == "color\n");
    CHECK(run_herald(js, {"kv", "ls", "--names"}).out == "CONFIG\n");
    CHECK(run_herald(js, {"kv", "get", "NOPE", "color"}).status == 1);
    CHECK(run_herald(js, {"kv", "rm", "CONFIG", "color", "-f"}).status == 0);  // a key, as kv del
    CHECK(run_herald(js, {"kv", "ls", "CONFIG"}).out.empty());
    CHECK(run_herald(js, {"kv", "del", "CONFIG"}).status == 2);
    CHECK(run_herald(js, {"kv", "del", "CONFIG", "-f"}).status == 0);  // no key: the bucket
    CHECK(run_herald(js, {"kv", "ls", "--names"}).out.empty());
}

// Goal: objects larger than one chunk come back byte for byte; rm makes them unreadable.
TEST_CASE("cli js: object add, put, get, ls and rm", "[cli][e2e][js]") {
    JsServer js;
    REQUIRE(run_herald(js, {"object", "add", "FILES"}).status == 0);
    std::string data(300 * 1000, '\0');
    std::uint32_t state = 12345;
    for (char& byte : data) {
        state = state * 1103515245U + 12345U;
        byte = static_cast<char>(state >> 24U);
    }
    const Outcome put = run_herald(js, {"object", "put", "FILES", "--name", "blob.bin"}, data);
    REQUIRE(put.status == 0);
    CHECK(contains(put.out, "Object information for FILES > blob.bin"));
    CHECK(contains(put.out, "Chunks: 3"));
    const Outcome got = run_herald(js, {"object", "get", "FILES", "blob.bin", "-O", "-"});
    REQUIRE(got.status == 0);
    CHECK(got.out == data);

    TempDir dir;
    const std::string file = dir.path() + "/copy.bin";
    REQUIRE(run_herald(js, {"object", "get", "FILES", "blob.bin", "-O", file}).status == 0);
    std::ifstream in(file, std::ios::binary);
    std::stringstream copy;
    copy << in.rdbuf();
    CHECK(copy.str() == data);
    CHECK(run_herald(js, {"object", "get", "FILES", "blob.bin", "-O", file}).status
          == 2);  // exists

    CHECK(contains(run_herald(js, {"object", "ls", "FILES"}).out, "blob.bin"));
    CHECK(run_herald(js, {"object", "ls"}).out == "FILES\n");
    CHECK(run_herald(js, {"object", "rm", "FILES", "blob.bin", "-f"}).status == 0);
    const Outcome gone = run_herald(js, {"object", "get", "FILES", "blob.bin", "-O", "-"});
    CHECK(gone.status == 1);
    CHECK(contains(gone.err, "object not found"));
}

// Goal: bench --js publishes, pulls and checks; its figures are consistent.
TEST_CASE("cli js: herald bench --js publishes and pulls every message", "[cli][e2e][js][bench]") {
    JsServer js;
    SECTION("async publish with a pull consumer") {
        const Outcome run = run_herald(js,
                                       {"bench",
                                        "js.bench",
                                        "--js",
                                        "--pub",
                                        "1",
                                        "--sub",
                                        "2",
                                        "--pull",
                                        "--msgs",
                                        "5000",
                                        "--size",
                                        "64",
                                        "--pubbatch",
                                        "50",
                                        "--json"});
        const json report = parse(run);
        INFO(run.err);
        REQUIRE(run.status == 0);
        CHECK(report["ok"] == true);
        CHECK(report["mode"] == "js");
        CHECK(report["publish"] == "async");
        CHECK(report["published"] == 5000);
        CHECK(report["stored"] == 5000);
        CHECK(report["received"] == 5000);
        CHECK(report["sub_clients"].size() == 2);
        const double pub_rate = report["pub_msgs_per_s"];
        CHECK(pub_rate > 100);
        CHECK(pub_rate == Approx(5000 / report["publish_elapsed_s"].get<double>()));
        CHECK(report["pub_mb_per_s"].get<double>() == Approx(pub_rate * 64 / 1e6));
    }
    SECTION("sync publish into a memory stream; a second run needs --purge") {
        const std::vector<std::string> args = {"bench",
                                               "js.sync",
                                               "--js",
                                               "--syncpub",
                                               "--msgs",
                                               "300",
                                               "--stream",
                                               "SYNC",
                                               "--storage",
                                               "memory"};
        const Outcome first = run_herald(js, args);
        REQUIRE(first.status == 0);
        CHECK(contains(first.out, "Pub stats: "));
        CHECK(contains(first.out, "(300 msgs acknowledged in"));
        const json info = parse(run_herald(js, {"stream", "info", "SYNC", "--json"}));
        CHECK(info["config"]["storage"] == "memory");
        CHECK(info["state"]["messages"] == 300);
        const Outcome again = run_herald(js, args);
        CHECK(again.status == 1);
        CHECK(contains(again.err, "use --purge"));
        std::vector<std::string> purge = args;
        purge.push_back("--purge");
        CHECK(run_herald(js, purge).status == 0);
    }
    CHECK(run_herald(js, {"bench", "x", "--syncpub"}).status == 2);
}

// Goal: the command groups (stream, consumer, kv, object) explain themselves and refuse unknown
// subcommands with a usage error.
TEST_CASE("cli js: command groups list their subcommands", "[cli][e2e][js]") {
    CliProcess bare({"stream"});
    REQUIRE(bare.wait_exit() == 2);
    CHECK(contains(
        bare.err(),
        "'stream' needs a subcommand: add, ls, info, edit, rm, purge, get, backup, restore"));
    CliProcess unknown({"kv", "frob", "X"});
    REQUIRE(unknown.wait_exit() == 2);
    CHECK(contains(unknown.err(), "unknown command 'kv frob'"));
    CliProcess group_help({"consumer", "--help"});
    REQUIRE(group_help.wait_exit() == 0);
    CHECK(contains(group_help.out(), "consumer next STREAM NAME"));
    CliProcess help({"help", "object", "put"});
    REQUIRE(help.wait_exit() == 0);
    CHECK(contains(help.out(), "Usage: herald object put BUCKET [FILE] [flags]"));
    CHECK(contains(help.out(), "Examples:"));
    // A server without JetStream: the API has no responders, which is said plainly (exit 1).
    ServerProcess plain;
    CliProcess no_js({"-s", plain.url(), "stream", "ls"});
    REQUIRE(no_js.wait_exit() == 1);
    CHECK(contains(no_js.err(), "JetStream not enabled"));
    CliProcess main_help({"--help"});
    REQUIRE(main_help.wait_exit() == 0);
    CHECK(contains(main_help.out(), "stream backup NAME DIR"));
}

// Goal: restore works on streams that forbid what it uses (deny_delete, deny_purge: a KV
// bucket, and a stream with limits) and sets those settings back. Method: a KV bucket with an
// interior gap (history 1, a key written twice) and a deny-purge stream whose head fell off
// max-msgs; after rm + restore, the state, the values and the settings match.
TEST_CASE("cli js: restore handles deny_delete and deny_purge streams", "[cli][e2e][js]") {
    JsServer js;
    TempDir dir;
    REQUIRE(run_herald(js, {"kv", "add", "KVB"}).status == 0);
    for (const auto& [key, value] :
         std::vector<std::pair<std::string, std::string>>{{"a", "1"}, {"b", "1"}, {"b", "2"}})
        REQUIRE(run_herald(js, {"kv", "put", "KVB", key, value}).status == 0);
    REQUIRE(run_herald(js,
                       {"stream",
                        "add",
                        "LIM",
                        "--subjects",
                        "lim",
                        "--defaults",
                        "--max-msgs",
                        "3",
                        "--deny-purge",
                        "--deny-delete"})
                .status
            == 0);
    REQUIRE(run_herald(js, {"pub", "lim", "m{{Count}}", "--count", "5"}).status == 0);

    for (const std::string stream : {"KV_KVB", "LIM"}) {
        const json before = parse(run_herald(js, {"stream", "info", stream, "--json"}));
        const std::string backup = dir.path() + "/" + stream;
        REQUIRE(run_herald(js, {"stream", "backup", stream, backup}).status == 0);
        REQUIRE(run_herald(js, {"stream", "rm", stream, "-f"}).status == 0);
        const Outcome restored = run_herald(js, {"stream", "restore", backup});
        INFO(stream << ": " << restored.out << restored.err);
        REQUIRE(restored.status == 0);
        const json after = parse(run_herald(js, {"stream", "info", stream, "--json"}));
        // value(): a zero field may be left out (omitempty), and operator[] on a const json
        // must not meet a missing key.
        for (const char* field : {"messages", "first_seq", "last_seq", "num_deleted"})
            CHECK(after["state"].value(field, 0) == before["state"].value(field, 0));
        // Not for KV_KVB: engine/client's KV put sends HPUB with an empty header block (16 bytes
        // stored per message); the backup cannot tell that from no headers, and restores none.
        if (stream == "LIM")
            CHECK(after["state"].value("bytes", 0) == before["state"].value("bytes", 0));
        for (const char* field : {"deny_delete", "deny_purge", "allow_rollup_hdrs"})
            CHECK(after["config"].value(field, false) == before["config"].value(field, false));
        for (const char* field : {"max_msgs_per_subject", "max_msgs"})
            CHECK(after["config"].value(field, 0) == before["config"].value(field, 0));
    }
    CHECK(run_herald(js, {"kv", "get", "KVB", "a", "--raw"}).out == "1\n");
    CHECK(run_herald(js, {"kv", "get", "KVB", "b", "--raw"}).out == "2\n");
    const json kv = parse(run_herald(js, {"stream", "info", "KV_KVB", "--json"}));
    CHECK(kv["state"]["num_deleted"] == 1);  // revision 2 (b=1) gave way to b=2
    CHECK(kv["config"]["deny_delete"] == true);
    // A message published without headers comes back without headers (no empty header block).
    const json third = parse(run_herald(js, {"stream", "get", "LIM", "3", "--json"}));
    CHECK(base64_decode(third["data"]) == "m3");
    CHECK_FALSE(third.contains("hdrs"));
    CHECK(run_herald(js, {"stream", "get", "LIM", "2"}).status == 1);
}

// Goal: bad values of the JetStream flags are usage errors (exit 2) naming the flag, found
// before any connection (the URL below has no server).
TEST_CASE("cli js: bad JetStream flag values are usage errors", "[cli][e2e][js]") {
    struct Case {
        std::vector<std::string> args;
        std::string message;
    };
    const std::vector<Case> cases = {
        {{"stream", "add", "S", "--defaults", "--storage", "disk"},
         "bad value for --storage: 'disk'"},
        {{"stream", "add", "S", "--defaults", "--retention", "forever"},
         "bad value for --retention"},
        {{"stream", "add", "S", "--defaults", "--max-age", "soon"},
         "bad value for --max-age: 'soon'"},
        {{"stream", "add", "S", "--defaults", "--max-bytes", "lots"}, "bad value for --max-bytes"},
        {{"stream", "add", "S", "--defaults", "--replicas", "9"}, "bad value for --replicas: '9'"},
        {{"stream", "add", "a.b", "--defaults"}, "invalid stream name 'a.b'"},
        {{"stream", "edit", "S", "--discard", "newest"}, "bad value for --discard: 'newest'"},
        {{"stream", "purge", "S", "-f", "--seq", "3", "--keep", "1"},
         "--seq and --keep exclude each other"},
        {{"stream", "get", "S"}, "missing SEQ or --last-for SUBJECT"},
        {{"stream", "get", "S", "0"}, "bad sequence '0'"},
        {{"consumer", "add", "S", "C", "--defaults", "--ack", "maybe"},
         "bad value for --ack: 'maybe'"},
        {{"consumer", "add", "S", "C", "--pull", "--target", "x", "--defaults"},
         "--pull and --target exclude"},
        {{"consumer", "add", "S", "C", "--defaults", "--wait", "5"}, "bad value for --wait: '5'"},
        {{"consumer", "next", "S", "C", "--count", "0"}, "bad value for --count"},
        {{"kv", "add", "B", "--history", "65"}, "bad value for --history: 1 to 64"},
        {{"kv", "add", "a.b"}, "invalid bucket name 'a.b'"},
        {{"kv", "put", "B", ".key", "v"}, "invalid key '.key'"},
        {{"object", "put", "B"}, "reading standard input needs --name"},
        {{"bench", "x", "--js", "--pubbatch", "0"},
         "--pubbatch and --pullbatch must be at least 1"},
        {{"bench", "x", "--js", "--storage", "disk"}, "bad value for --storage: 'disk'"},
        {{"bench", "x", "--pull"}, "--pull needs --js"},
    };
    for (const Case& test : cases) {
        std::vector<std::string> args = {"-s", "nats://127.0.0.1:1"};
        args.insert(args.end(), test.args.begin(), test.args.end());
        CliProcess process(args);
        INFO(process.describe());
        CHECK(process.wait_exit() == 2);
        CHECK(contains(process.err(), test.message));
    }
}
