// hush internal: SqliteStore's connection state and statement helpers, shared by the store
// (sqlite_store.cpp) and its schema and migrations (sqlite_schema.cpp).
//
// One connection per store, prepared statements cached for its lifetime. Secret, plaintext and
// trust columns go through `protect`/`unprotect`: sealed for their row in a sealed database
// (crypto/seal.h; the row identity is the associated data, so a blob cannot be moved to another
// row), stored as they are otherwise.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

#include <sqlite3.h>

#include <hush/sqlite_store.h>

#include "crypto/seal.h"

namespace hush::internal::sqlite {

/// kCorruptState for SQLite's corruption codes, kStoreFailure for everything else.
Error sqlite_error(int rc, const char* where);

/// A cached prepared statement, reset and unbound when the Query goes away.
class Query {
 public:
  Query(sqlite3_stmt* s) : s_(s) {}  // NOLINT: implicit from the cache
  ~Query() {
    if (s_) {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
    }
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  Query(Query&& other) noexcept : s_(other.s_) { other.s_ = nullptr; }
  Query& operator=(Query&&) = delete;
  Query& blob(int i, ByteView b) {
    // SQLITE_TRANSIENT: SQLite copies the bytes, so `b` may die before the step.
    sqlite3_bind_blob(s_, i, b.empty() ? "" : static_cast<const void*>(b.data()),
                      static_cast<int>(b.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Query& text_as_blob(int i, std::string_view t) { return blob(i, as_bytes(t)); }
  Query& text(int i, std::string_view t) {
    sqlite3_bind_text(s_, i, t.data(), static_cast<int>(t.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Query& integer(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Query& address(int first, const Address& a) {
    text_as_blob(first, a.name);
    return integer(first + 1, to_uint(a.device_id));
  }
  /// True for a row, false when done.
  Result<bool> step(const char* where) {
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return sqlite_error(rc, where);
  }
  Status run(const char* where) {
    auto r = step(where);
    if (!r) return r.error();
    return ok_status();
  }
  ByteView column_blob(int i) const {
    const void* p = sqlite3_column_blob(s_, i);
    const int n = sqlite3_column_bytes(s_, i);
    if (p == nullptr || n <= 0) return {};
    return {static_cast<const std::uint8_t*>(p), static_cast<std::size_t>(n)};
  }
  std::int64_t column_int(int i) const { return sqlite3_column_int64(s_, i); }

 private:
  sqlite3_stmt* s_;
};

/// Row identities for sealed columns (the associated data): the table and the row's key.
Bytes row_id(std::string_view table, std::uint32_t id);
Bytes row_id(std::string_view table, const Address& a);
Bytes row_id(std::string_view table, std::string_view key);
/// A Messenger record's row: the table, the kind in four bytes, then the key (so no two (kind,
/// key) pairs share a row identity).
Bytes row_id(std::string_view table, MessengerRecordKind kind, std::string_view key);
/// A sender key's row: the table, the device and the format in four bytes each, the name's
/// length in four bytes, the name, then the group's name (so no two (sender, group) pairs share a
/// row identity).
Bytes row_id(std::string_view table, const Address& sender, const SenderKeyGroup& group);
/// The local identity's row: its public key is bound to the sealed private key.
Bytes local_identity_row(const PublicKey& public_key);

}  // namespace hush::internal::sqlite

namespace hush {

struct SqliteStore::Impl {
  sqlite3* db = nullptr;
  std::recursive_mutex mutex;
  int depth = 0;  // open (nested) transactions
  std::map<const char*, sqlite3_stmt*> statements;
  std::optional<internal::crypto::Sealer> sealer;  // set for a sealed database
  RandomSource* random = nullptr;

  // The rollback guard (sqlite_store.h "Restored copies").
  std::unique_ptr<GenerationCounter> owned_counter;
  GenerationCounter* counter = nullptr;
  std::uint64_t known_generation = 0;  // the highest generation this object saw committed
  std::optional<std::uint64_t> pending_generation;  // written by record_key_use, not committed
  int pending_depth = 0;                            // the transaction level that wrote it
  RollbackCheck rollback;

  ~Impl();

  Status exec(const char* sql, const char* where);
  Result<internal::sqlite::Query> query(const char* sql);
  Result<std::int64_t> pragma_int(const char* sql);
  /// The integer value of a meta row.
  Result<std::int64_t> meta_int(std::string_view key, const char* where);

  /// The stored form of a protected column value: sealed for row `row` in a sealed database, as
  /// is otherwise.
  Result<SecretBytes> protect(ByteView row, ByteView plaintext);
  /// The plaintext of a protected column value, refusing more than `limit` plaintext bytes.
  Result<SecretBytes> unprotect(ByteView row, ByteView stored, std::size_t limit,
                                const char* where);
};

}  // namespace hush
