// The store's file as the platform makes it (store_file_posix.cpp, store_file_windows.cpp):
// where it is by default, and created readable by its owner only (command lines hold secrets).
#pragma once

#include <string>

#include "core/result.h"

namespace procsentry {

// The default database. POSIX: /var/lib/procsentry/events.db as root, else
// $XDG_STATE_HOME/procsentry/events.db (~/.local/state/...). Windows:
// %LOCALAPPDATA%\procsentry\events.db.
std::string default_database_path();

// Creates the database file at `path` if it is not there, private to its owner, and narrows one
// of ours that is wider. POSIX: mode 0600 (SQLite gives its -wal and -shm files the database's
// mode). Windows: a protected DACL for the owner, Administrators and SYSTEM, on the database
// and on its -wal and -shm files (SQLite would create those with the directory's ACL).
// One line of error naming the path and --db.
Result<Ok> create_private_store(const std::string& path);

}  // namespace procsentry
