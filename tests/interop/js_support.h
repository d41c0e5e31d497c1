// Shared pieces of the JetStream interop tests (nats.c's js* API): a private store directory for
// the server and an owning handle for a JetStream context.
#pragma once

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <nats/nats.h>
#include <string>
#include <system_error>

namespace herald::interop {

// A store directory of our own (mkdtemp), removed at the end.
class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "herald-js-XXXXXX").string();
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

struct JsCtxDeleter {
    void operator()(jsCtx* js) const { jsCtx_Destroy(js); }
};
using JsCtx = std::unique_ptr<jsCtx, JsCtxDeleter>;

}  // namespace herald::interop
