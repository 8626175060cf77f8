#include "core/archive/wal_checkpointer.hpp"

#include "core/archive/archive_impl.hpp"
#include "core/log/log.hpp"

#include <sqlite3.h>

#include <memory>

namespace harness::archive {

wal_checkpointer::wal_checkpointer(archive& writer, int log_pages_threshold)
    : writer_{writer}, path_{writer.path()}, threshold_{log_pages_threshold} {
    // Opened here, not on the thread, so a file that cannot be opened fails
    // the constructor.
    std::unique_ptr<SQLite::Database> own;
    try {
        own = std::make_unique<SQLite::Database>(path_, SQLite::OPEN_READWRITE);
        // A connection learns the file is in WAL mode on its first read;
        // until then a checkpoint on it does nothing.
        own->execAndGet("SELECT count(*) FROM sqlite_schema");
    } catch (SQLite::Exception const& e) {
        throw archive_error{path_ + ": " + e.what()};
    }
    // A wal hook replaces SQLite's automatic checkpoints on that connection.
    sqlite3_wal_hook(writer_.impl_->db.getHandle(), &wal_checkpointer::after_commit, this);
    thread_ = std::thread{[this, db = std::move(own)] { run(db->getHandle()); }};
}

wal_checkpointer::~wal_checkpointer() {
    {
        std::lock_guard lock{mutex_};
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
    sqlite3_wal_autocheckpoint(writer_.impl_->db.getHandle(), 1000);  // SQLite's default
}

int wal_checkpointer::checkpoints() const {
    std::lock_guard lock{mutex_};
    return checkpoints_;
}

bool wal_checkpointer::wait_for_checkpoints(int count, std::chrono::milliseconds timeout) const {
    std::unique_lock lock{mutex_};
    return checkpointed_.wait_for(lock, timeout, [&] { return checkpoints_ >= count; });
}

int wal_checkpointer::after_commit(void* self, sqlite3*, char const*, int log_pages) {
    auto& checkpointer = *static_cast<wal_checkpointer*>(self);
    bool due = false;
    {
        std::lock_guard lock{checkpointer.mutex_};
        checkpointer.log_pages_ = log_pages;
        due = log_pages >= checkpointer.threshold_;
    }
    if (due) checkpointer.wake_.notify_one();
    return SQLITE_OK;
}

void wal_checkpointer::run(sqlite3* own_connection) {
    std::unique_lock lock{mutex_};
    for (;;) {
        wake_.wait(lock, [&] { return stopping_ || log_pages_ >= threshold_; });
        if (stopping_) return;
        log_pages_ = 0;  // the writer's next commit says whether the log started over
        lock.unlock();
        int log = 0, copied = 0;
        int const rc = sqlite3_wal_checkpoint_v2(own_connection, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
        // SQLITE_BUSY: another connection was checkpointing; the next
        // commit past the threshold tries again. Nothing is lost either way:
        // the log keeps every commit until it is copied.
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            HLOG(warn, "archive.checkpoint_failed").field("path", path_).field("error", sqlite3_errstr(rc));
        lock.lock();
        ++checkpoints_;
        checkpointed_.notify_all();
    }
}

}  // namespace harness::archive
