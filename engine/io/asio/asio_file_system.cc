// POSIX files for AsioEnv. Boost 1.74's asio has no file I/O, so each blocking call (pread,
// pwrite, fdatasync, ftruncate) runs on the thread pool, through one strand per file so that the
// calls of a file keep their order, and its completion is posted back to the node's io_context.
// Exception: a small write to a file with nothing queued on its strand is done on the loop thread
// (a pwrite into the page cache takes microseconds; handing it to a pool thread cost a thread
// wake-up and a second one for the completion, on the path of every publish). Its completion is
// still posted, never called inline.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "engine/base/assert.h"
#include "engine/base/errc.h"
#include "engine/io/asio/asio_internal.h"

namespace herald::io::asio_env {
namespace {

using base::Errc;

// Shared by the File and its pending operations; closes the descriptor when the last goes.
struct FileState {
    FileState(int descriptor, net::io_context& io_context, net::thread_pool& pool,
              std::size_t& in_flight_count)
        : fd(descriptor), io(io_context), strand(net::make_strand(pool)), in_flight(in_flight_count) {}
    ~FileState() { ::close(fd); }
    FileState(const FileState&) = delete;
    FileState& operator=(const FileState&) = delete;

    int fd;
    net::io_context& io;
    net::strand<net::thread_pool::executor_type> strand;
    bool open = true;  // Touched on the loop only: false once the File is destroyed.
    // Touched on the loop only: operations handed to the strand whose completion has not run yet.
    // While it is 0 every earlier operation of the file is finished, so a write may run inline.
    std::size_t queued = 0;
    std::size_t& in_flight;  // The file system's count over all files (AsioFileSystem::in_flight).
};

// Writes up to this size run inline on the loop thread when the file's strand is idle.
constexpr std::size_t inline_write_max = 256 * 1024;

Status write_fully(int fd, std::uint64_t offset, std::span<const std::byte> source) {
    std::size_t done = 0;
    while (done < source.size()) {
        const ssize_t count = ::pwrite(fd, source.data() + done, source.size() - done,
                                       static_cast<off_t>(offset + done));
        if (count < 0 && errno == EINTR) continue;
        if (count < 0) return errno_to_error(errno);
        done += static_cast<std::size_t>(count);
    }
    return ok();
}

// Runs `work` on the file's strand, then `done(result)` on the loop unless the File is gone.
template <class T, class Work>
void run_blocking(const std::shared_ptr<FileState>& state, Work work,
                  std::function<void(T)> done) {
    // The guard counts the operation as work of the io_context while it runs on the pool, so
    // the loop does not run out of work and return before the completion is posted.
    state->queued += 1;
    state->in_flight += 1;
    net::post(state->strand, [state, work = std::move(work), done = std::move(done),
                              guard = net::make_work_guard(state->io)]() mutable {
        T result = work(state->fd);
        net::post(state->io, [state, result = std::move(result), done = std::move(done)]() mutable {
            ASSERT(state->queued > 0);
            state->queued -= 1;
            state->in_flight -= 1;
            if (state->open) done(std::move(result));
        });
        guard.reset();
    });
}

class AsioFile final : public File {
public:
    AsioFile(std::shared_ptr<FileState> state, std::uint64_t size)
        : state_(std::move(state)), size_(size) {}
    ~AsioFile() override { state_->open = false; }
    AsioFile(const AsioFile&) = delete;
    AsioFile& operator=(const AsioFile&) = delete;

    void read_at(std::uint64_t offset, std::span<std::byte> target,
                 std::function<void(Result<std::size_t>)> on_read) override {
        ASSERT(on_read);
        run_blocking<Result<std::size_t>>(
            state_,
            [offset, target](int fd) -> Result<std::size_t> {
                std::size_t done = 0;
                while (done < target.size()) {
                    const ssize_t count = ::pread(fd, target.data() + done, target.size() - done,
                                                  static_cast<off_t>(offset + done));
                    if (count < 0 && errno == EINTR) continue;
                    if (count < 0) return errno_to_error(errno);
                    if (count == 0) break;  // End of file.
                    done += static_cast<std::size_t>(count);
                }
                return done;
            },
            std::move(on_read));
    }

    void write_at(std::uint64_t offset, std::span<const std::byte> source,
                  std::function<void(Status)> on_written) override {
        ASSERT(on_written);
        size_ = std::max(size_, offset + source.size());
        if (state_->queued == 0 && source.size() <= inline_write_max) {
            Status status = write_fully(state_->fd, offset, source);
            net::post(state_->io, [state = state_, status, done = std::move(on_written)] {
                if (state->open) done(status);
            });
            return;
        }
        run_blocking<Status>(
            state_, [offset, source](int fd) -> Status { return write_fully(fd, offset, source); },
            std::move(on_written));
    }

    void sync(std::function<void(Status)> on_synced) override {
        ASSERT(on_synced);
        run_blocking<Status>(
            state_,
            [](int fd) -> Status {
                if (::fdatasync(fd) != 0) return errno_to_error(errno);
                return ok();
            },
            std::move(on_synced));
    }

    void truncate(std::uint64_t size, std::function<void(Status)> on_truncated) override {
        ASSERT(on_truncated);
        size_ = size;
        run_blocking<Status>(
            state_,
            [size](int fd) -> Status {
                if (::ftruncate(fd, static_cast<off_t>(size)) != 0) return errno_to_error(errno);
                return ok();
            },
            std::move(on_truncated));
    }

    // The size as the node has asked for it: writes and truncates count from when they are
    // issued, so appends may be issued back to back at size().
    std::uint64_t size() const override { return size_; }

private:
    std::shared_ptr<FileState> state_;
    std::uint64_t size_;
};

}  // namespace

Result<std::unique_ptr<File>> AsioFileSystem::open(const std::string& path, bool create) {
    const int flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0);
    int fd = -1;
    do {
        fd = ::open(path.c_str(), flags, 0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return errno_to_error(errno);
    struct stat status {};
    if (::fstat(fd, &status) != 0) {
        const auto error = errno_to_error(errno);
        ::close(fd);
        return error;
    }
    auto state = std::make_shared<FileState>(fd, io_, pool_, in_flight_);
    return std::unique_ptr<File>(
        new AsioFile(std::move(state), static_cast<std::uint64_t>(status.st_size)));
}

Status AsioFileSystem::remove(const std::string& path) {
    if (::unlink(path.c_str()) != 0) return errno_to_error(errno);
    return ok();
}

Status AsioFileSystem::rename(const std::string& from, const std::string& to) {
    if (::rename(from.c_str(), to.c_str()) != 0) return errno_to_error(errno);
    return ok();
}

Status AsioFileSystem::make_directories(const std::string& path) {
    std::error_code error;
    std::filesystem::create_directories(path, error);
    if (error) return errno_to_error(error.value());
    return ok();
}

Result<std::vector<std::string>> AsioFileSystem::list(const std::string& directory) {
    std::error_code error;
    std::vector<std::string> names;
    for (std::filesystem::directory_iterator it(directory, error), end; !error && it != end;
         it.increment(error)) {
        names.push_back(it->path().filename().string());
    }
    if (error) return errno_to_error(error.value());
    std::sort(names.begin(), names.end());
    return names;
}

void AsioFileSystem::sync_directory(const std::string& path,
                                    std::function<void(Status)> on_synced) {
    ASSERT(on_synced);
    in_flight_ += 1;
    net::post(pool_, [this, path, on_synced = std::move(on_synced),
                      guard = net::make_work_guard(io_)]() mutable {
        Status status = ok();
        const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            status = errno_to_error(errno);
        } else {
            if (::fsync(fd) != 0) status = errno_to_error(errno);
            ::close(fd);
        }
        net::post(io_, [this, status, on_synced = std::move(on_synced)] {
            in_flight_ -= 1;
            on_synced(status);
        });
        guard.reset();
    });
}

}  // namespace herald::io::asio_env
