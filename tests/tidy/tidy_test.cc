// The determinism lint (STYLE.md "Determinism rules", after TigerBeetle's tidy.zig): scans every
// .h/.cc under engine/ for real clocks, threads, sleeps, OS randomness, getenv and asio outside
// engine/io/asio/, and fails with file:line for each hit. Comments and string literals are skipped.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Hit {
    std::string path;
    std::size_t line = 0;
    std::string rule;
    std::string text;
};

struct Rule {
    std::string name;
    std::regex pattern;
    // Generic names (time, rand, random, sleep) are hits only where they are called as the
    // global or std function, not where an own function of that name is declared or called.
    bool call_only = false;
};

const std::vector<Rule>& rules() {
    static const std::vector<Rule> all = [] {
        std::vector<Rule> r;
        auto add = [&r](std::string name, const char* pattern, bool call_only = false) {
            r.push_back({std::move(name), std::regex(pattern), call_only});
        };
        add("real clock", R"(\b(steady_clock|system_clock|high_resolution_clock)\b)");
        add("real clock", R"(::\s*now\s*\()");
        add("real clock", R"(\b(gettimeofday|clock_gettime)\b)");
        add("real clock", R"(\btime\s*\()", true);
        add("thread", R"(\bstd\s*::\s*(thread|jthread|async)\b)");
        add("thread", R"(\bpthread_\w*)");
        add("sleep", R"(\b(sleep_for|sleep_until|usleep|nanosleep)\b)");
        add("sleep", R"(\bsleep\s*\()", true);
        add("os randomness", R"(\b(random_device|getrandom|srand)\b)");
        add("os randomness", R"(/dev/urandom)");
        add("os randomness", R"(\b(rand|random)\s*\()", true);
        add("getenv", R"(\b(secure_)?getenv\b)");
        add("asio", R"(\basio\b)");
        add("asio", R"(boost/beast)");
        return r;
    }();
    return all;
}

bool is_word(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

// True if the name at `at` in `code` is a call of the global or std function: qualified by
// `::`/`std::`, or preceded by an operator, a bracket, a comma, `return` or nothing. A member
// access, another scope, or a type before it (a declaration) is not.
bool is_free_call(const std::string& code, std::size_t at) {
    std::size_t p = at;
    if (p >= 2 && code.compare(p - 2, 2, "::") == 0) {
        std::size_t q = p - 2;
        while (q > 0 && code[q - 1] == ' ') --q;
        if (q == 0 || !is_word(code[q - 1])) return true;  // ::name(
        std::size_t start = q;
        while (start > 0 && is_word(code[start - 1])) --start;
        return code.compare(start, q - start, "std") == 0;  // std::name( but not Other::name(
    }
    while (p > 0 && std::isspace(static_cast<unsigned char>(code[p - 1])) != 0) --p;
    if (p == 0) return true;
    const char before = code[p - 1];
    if (before == '.' || before == ':') return false;
    if (before == '>' && p >= 2 && code[p - 2] == '-') return false;
    if (is_word(before)) {
        std::size_t start = p;
        while (start > 0 && is_word(code[start - 1])) --start;
        const std::string_view word(code.data() + start, p - start);
        return word == "return" || word == "co_return";
    }
    return true;
}

// The code part of each line: comments blanked, string and char literal contents blanked
// (except on #include lines, whose path is what we check).
std::vector<std::string> code_lines(std::string_view text) {
    std::vector<std::string> lines;
    bool in_block_comment = false;
    std::size_t begin = 0;
    while (begin <= text.size()) {
        std::size_t end = text.find('\n', begin);
        if (end == std::string_view::npos) end = text.size();
        std::string line(text.substr(begin, end - begin));
        std::string code;
        const bool is_include = line.find("#include") != std::string::npos;
        for (std::size_t i = 0; i < line.size(); ++i) {
            const char c = line[i];
            const char next = i + 1 < line.size() ? line[i + 1] : '\0';
            if (in_block_comment) {
                if (c == '*' && next == '/') {
                    in_block_comment = false;
                    ++i;
                }
                code += ' ';
                continue;
            }
            if (c == '/' && next == '/') break;
            if (c == '/' && next == '*') {
                in_block_comment = true;
                ++i;
                code += ' ';
                continue;
            }
            const bool digit_separator = c == '\'' && i > 0 && std::isxdigit(static_cast<unsigned char>(line[i - 1])) != 0;
            if ((c == '"' || c == '\'') && !is_include && !digit_separator) {
                code += c;
                std::size_t j = i + 1;
                while (j < line.size() && line[j] != c) {
                    if (line[j] == '\\') ++j;
                    ++j;
                }
                code.append(std::min(j, line.size()) - i - 1, ' ');
                if (j < line.size()) code += c;
                i = j;
                continue;
            }
            code += c;
        }
        lines.push_back(std::move(code));
        if (end == text.size()) break;
        begin = end + 1;
    }
    return lines;
}

// The scanner: every banned use in `text`, reported as `path`:line.
std::vector<Hit> scan(const std::string& path, std::string_view text) {
    std::vector<Hit> hits;
    const auto lines = code_lines(text);
    for (std::size_t index = 0; index < lines.size(); ++index) {
        const std::string& code = lines[index];
        // The server's composition root may include the pimpl header of the real Env.
        if (code.find("#include \"engine/io/asio/asio_env.h\"") != std::string::npos) continue;
        std::vector<std::string> reported;  // One hit per rule name and line.
        for (const Rule& rule : rules()) {
            if (std::find(reported.begin(), reported.end(), rule.name) != reported.end()) continue;
            for (auto it = std::sregex_iterator(code.begin(), code.end(), rule.pattern);
                 it != std::sregex_iterator(); ++it) {
                if (rule.call_only && !is_free_call(code, static_cast<std::size_t>(it->position()))) {
                    continue;
                }
                hits.push_back({path, index + 1, rule.name, code});
                reported.push_back(rule.name);
                break;
            }
        }
    }
    return hits;
}

std::string describe(const std::vector<Hit>& hits) {
    std::ostringstream out;
    for (const Hit& hit : hits) {
        out << hit.path << ":" << hit.line << ": " << hit.rule << ": " << hit.text << "\n";
    }
    return out.str();
}

std::vector<std::size_t> lines_of(const std::vector<Hit>& hits) {
    std::vector<std::size_t> lines;
    for (const Hit& hit : hits) lines.push_back(hit.line);
    return lines;
}

}  // namespace

// Goal: the scanner finds what it must (so the tree test can fail) and ignores comments, strings,
// member calls and own declarations. Method: small in-memory samples with known lines.
TEST_CASE("tidy: the scanner reports banned uses with their line", "[tidy]") {
    const std::string sample =
        "#include <chrono>\n"                                          // 1
        "// A comment may say std::thread, sleep(1) and time(nullptr).\n"  // 2
        "auto t = std::chrono::steady_clock::now();\n"                 // 3
        "/* block comment: rand() getenv(\"X\")\n"                     // 4
        "   still comment: usleep(5) */ int x = rand();\n"             // 5
        "std::thread worker([] {});\n"                                 // 6
        "log(\"no sleep(1) in strings, no std::thread\");\n"           // 7
        "std::this_thread::sleep_for(d);\n"                            // 8
        "const char* home = getenv(\"HOME\");\n"                       // 9
        "Instant time() const;  // an own accessor\n"                  // 10
        "auto now = clock.time();\n"                                   // 11
        "auto seconds = ::time(nullptr);\n"                            // 12
        "#include <boost/asio.hpp>\n"                                  // 13
        "#include \"engine/io/asio/asio_env.h\"\n"                     // 14
        "return random() % 6;\n"                                       // 15
        "std::uint64_t random();\n"                                    // 16
        "constexpr auto big = 1'000'000; std::random_device device;\n"  // 17
        "env.random.next_u64();\n";                                    // 18
    const auto hits = scan("sample.cc", sample);
    INFO(describe(hits));
    REQUIRE(lines_of(hits) == std::vector<std::size_t>{3, 5, 6, 8, 9, 12, 13, 15, 17});
    REQUIRE(hits[0].rule == "real clock");
    REQUIRE(hits[0].path == "sample.cc");
    REQUIRE(hits[2].rule == "thread");
    REQUIRE(hits[4].rule == "getenv");
    REQUIRE(hits[6].rule == "asio");

    REQUIRE(scan("x.cc", "auto v = std::getenv(name);\n").size() == 1);
}

// Goal: engine/ keeps the determinism rules. Method: scan every .h/.cc under engine/ except the
// real world in engine/io/asio/ (asio Env, process environment variables).
TEST_CASE("tidy: engine code uses no real clock, thread, sleep, os randomness, getenv or asio",
          "[tidy]") {
    namespace fs = std::filesystem;
    const fs::path root = HERALD_SOURCE_DIR;
    REQUIRE(fs::is_directory(root / "engine"));
    std::vector<std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(root / "engine")) {
        if (!entry.is_regular_file()) continue;
        const auto extension = entry.path().extension();
        if (extension != ".h" && extension != ".cc") continue;
        const std::string relative = fs::relative(entry.path(), root).generic_string();
        if (relative.rfind("engine/io/asio/", 0) == 0) continue;
        files.push_back(relative);
    }
    std::sort(files.begin(), files.end());
    REQUIRE_FALSE(files.empty());

    std::vector<Hit> hits;
    for (const std::string& relative : files) {
        std::ifstream in(root / relative, std::ios::binary);
        REQUIRE(in);
        std::ostringstream content;
        content << in.rdbuf();
        auto found = scan(relative, content.str());
        hits.insert(hits.end(), found.begin(), found.end());
    }
    INFO("scanned " << files.size() << " files; banned uses:\n" << describe(hits));
    REQUIRE(hits.empty());
}
