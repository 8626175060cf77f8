#pragma once
// Keeps an archive's write-ahead log short without ever making its writer
// wait for the disk.
//
// SQLite checkpoints inside the commit that takes the log past 1000 pages,
// and a checkpoint syncs the database file: on a busy disk that held a
// commit for over 100 ms, while every frame arriving meanwhile waited past
// the durability window (frames a crash could lose). So the writer's
// connection stops checkpointing; after each of its commits the log's size
// comes here, and past the threshold a thread of ours runs a passive
// checkpoint on its own connection, which blocks neither the writer nor
// readers. Once a checkpoint has copied the whole log, SQLite starts it over
// at the writer's next commit, as it would after its own checkpoints.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

struct sqlite3;

namespace harness::archive {

class archive;

class wal_checkpointer {
public:
    // Takes over the checkpoints of `writer` (a read_write archive), which
    // must outlive this object and must not be in use on another thread
    // while it is created or destroyed. Throws archive_error when the file
    // cannot be opened.
    explicit wal_checkpointer(archive& writer, int log_pages_threshold = 1000);
    wal_checkpointer(wal_checkpointer const&) = delete;
    wal_checkpointer& operator=(wal_checkpointer const&) = delete;
    // Stops the thread and gives the writer its automatic checkpoints back.
    ~wal_checkpointer();

    // Checkpoints run so far (each copied what it could).
    int checkpoints() const;
    // Waits up to `timeout` until `count` checkpoints have run; whether they did.
    bool wait_for_checkpoints(int count, std::chrono::milliseconds timeout) const;

private:
    static int after_commit(void* self, ::sqlite3* db, char const* schema, int log_pages);
    void run(::sqlite3* own_connection);

    archive& writer_;
    std::string const path_;
    int const threshold_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    mutable std::condition_variable checkpointed_;
    int log_pages_ = 0;  // the log's size after the writer's last commit, 0 once checkpointed
    int checkpoints_ = 0;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace harness::archive
