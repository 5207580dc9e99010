// hush chat example: hush-relay's database (SQLite, linked directly; one file).
//
// Tables: accounts (handle, the account token that binds it, the published identity and signed
// prekey as hush::PublishedKeys bytes), prekeys (one-time public prekeys, handed out one per
// fetch and deleted), queue (envelopes waiting for their recipient, deleted when acknowledged)
// and impostors (the keys `--impersonate` uses). Nothing in it is secret to the users: public
// keys, and envelopes whose bodies are Signal messages. WAL mode, synchronous=FULL (an envelope is
// on disk before the sender is told OK), secure_delete (acknowledged envelopes are overwritten).
//
// Every limit is enforced here: kMaxAccounts, kMaxPreKeysPerHandle, and per recipient
// kMaxQueuedEnvelopes and kMaxQueuedBytes.
//
// Errors: SQLite failures throw DbError (the relay answers the request with an error and goes
// on).
//
// Thread-safety: none; the relay uses it from its one thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <hush/transport.h>

#include "frame.h"

struct sqlite3;

namespace hush_chat {

inline constexpr std::size_t kMaxAccounts = 10000;
inline constexpr std::size_t kMaxPreKeysPerHandle = 2000;
inline constexpr std::size_t kMaxQueuedEnvelopes = 1000;
inline constexpr std::size_t kMaxQueuedBytes = std::size_t{16} << 20;

class DbError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class RelayDb {
 public:
  /// Opens (creating if needed) the database at `path`. Throws DbError, also for a file that is
  /// another application's database.
  static std::unique_ptr<RelayDb> open(const std::string& path, bool read_only = false);
  ~RelayDb();
  RelayDb(const RelayDb&) = delete;
  RelayDb& operator=(const RelayDb&) = delete;

  enum class Account { kNew, kKnown, kWrongToken, kFull };
  /// Registers `handle` with `token` if it is new; else checks the token.
  Account hello(const std::string& handle, const Bytes& token);
  /// True if `handle` has an account.
  bool has_account(const std::string& handle);

  /// Records `keys` for `handle`: replaces its identity and signed prekey, adds its one-time
  /// prekeys (up to kMaxPreKeysPerHandle; a new identity drops the old ones). Returns how many
  /// one-time prekeys were added.
  std::size_t publish(const std::string& handle, const hush::PublishedKeys& keys);
  /// How many one-time prekeys of `handle` are left.
  std::uint32_t count_pre_keys(const std::string& handle);
  /// A serialized hush::PreKeyBundle for `handle`, consuming its lowest one-time prekey (none
  /// when all are used); nullopt if it never published keys.
  std::optional<Bytes> fetch_bundle(const std::string& handle);

  enum class Enqueue { kOk, kQueueFull };
  /// Queues `envelope` from `sender` for `recipient` (durably); sets `*id`.
  Enqueue enqueue(const std::string& recipient, const std::string& sender, const Bytes& envelope,
                  std::uint64_t* id);
  struct Pending {
    std::uint64_t id = 0;
    std::string sender;
    Bytes envelope;
  };
  /// Up to `limit` envelopes for `recipient` with ids above `after`, oldest first.
  std::vector<Pending> pending(const std::string& recipient, std::uint64_t after,
                               std::size_t limit);
  /// Deletes envelope `id` if it is queued for `recipient`; false otherwise.
  bool ack(const std::string& recipient, std::uint64_t id);

  /// The stored impostor keys for `handle` (an InMemoryProtocolStore snapshot), if any.
  std::optional<Bytes> impostor(const std::string& handle);
  void set_impostor(const std::string& handle, const Bytes& snapshot);

  /// Prints every table, row by row (text as text, blobs as hex), for inspection.
  void dump(std::FILE* out);

 private:
  explicit RelayDb(sqlite3* db) : db_(db) {}
  void exec(const char* sql);
  sqlite3* db_;
};

}  // namespace hush_chat
