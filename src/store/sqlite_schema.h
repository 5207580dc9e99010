// hush internal: SqliteStore's schema, one version at a time, and the migrations between them.
//
// A new database is built the way an old one is migrated: version 1's statements, then each step
// up to SqliteStore::kSchemaVersion, so the path every old database takes is the path every new one
// took. Every step is tested from a database that version really wrote (tests/compat/sqlite-v<N>).
// Steps run inside the caller's transaction; a failed step leaves the file as it was.
#pragma once

#include <cstdint>

#include "store/sqlite_impl.h"

namespace hush::internal::sqlite {

/// What kind of file a connection opened: empty (no schema), ours (with its version), or foreign.
struct FileKind {
  bool empty = false;
  bool ours = false;
  std::int64_t version = 0;
};

/// Reads the application id, the schema version and the table count.
Result<FileKind> inspect(SqliteStore::Impl& impl);

/// Writes version 1's schema into an empty database and marks the file as hush's.
Status create_version_1(SqliteStore::Impl& impl);

/// Migrates a database of version `from` up to version 2 (the steps that need no storage key).
Status migrate_to_version_2(SqliteStore::Impl& impl, std::int64_t from);

/// Migrates a version-2 (or later) database of version `from` to kSchemaVersion and records the
/// version. Needs the storage key of a sealed database (impl.sealer), which it reseals rows with.
Status migrate_to_current(SqliteStore::Impl& impl, std::int64_t from);

}  // namespace hush::internal::sqlite
