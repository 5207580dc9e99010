// hush chat example: hush-relay's database (SQLite, linked directly; one file).
//
// Tables: accounts (handle, the account token that binds it, a salted one-way image of its
// recovery code, the published identity and signed prekey as hush::PublishedKeys bytes),
// prekeys (one-time public prekeys, handed out one per fetch and deleted), spent_prekeys (the ids
// handed out, so that a repeated publish cannot put a used prekey back), queue (envelopes waiting
// for their recipient, deleted when acknowledged) and impostors (the keys `--impersonate` uses).
// Nothing in it is secret to the users' messages: public keys, and envelopes whose bodies are
// Signal messages. The account tokens let whoever reads the file act as those accounts at this
// relay (send as them, take their queued envelopes); the recovery codes are not in it, only their
// one-way images. WAL mode, synchronous=FULL (an envelope is on disk before the sender is told OK),
// secure_delete (acknowledged envelopes are overwritten).
//
// Every limit is enforced here: kMaxAccounts, kMaxPreKeysPerHandle, kMaxSpentPreKeysPerHandle,
// and per recipient QueueLimits (by default kMaxQueuedEnvelopes and kMaxQueuedBytes), of which
// one sender may fill at most a 1/kSenderShareDivisor share.
//
// Secrets: account tokens and recovery codes are compared in constant time
// (hush::constant_time_equals), so that the time of a refusal tells nothing about how much of a
// guess was right. Recovery codes and their salts come from hush::system_random().
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
/// Handed-out prekey ids remembered per handle. hush's prekey ids only grow and a publish carries
/// at most hush::kMaxPublishedPreKeys (1000), so a repeated publish never names an id this far
/// below the newest; the oldest are forgotten beyond it.
inline constexpr std::size_t kMaxSpentPreKeysPerHandle = 10000;
inline constexpr std::size_t kMaxQueuedEnvelopes = 1000;
inline constexpr std::size_t kMaxQueuedBytes = std::size_t{16} << 20;
/// One sender may hold at most 1/4 of a recipient's queue (envelopes and bytes): a hostile client
/// that floods bob fills its own quarter, and everyone else can still reach bob. (Four hostile
/// accounts together still can fill it: accounts are free here; see README.)
inline constexpr std::size_t kSenderShareDivisor = 4;

/// The bounds of one recipient's queue (hush-relay --queue-limit changes `envelopes`, for tests).
struct QueueLimits {
  std::size_t envelopes = kMaxQueuedEnvelopes;
  std::size_t bytes = kMaxQueuedBytes;
};

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
  struct Hello {
    Account account = Account::kKnown;
    /// For kNew: the account's recovery code (kRecoveryCodeBytes), to show its owner once; only
    /// a salted hash of it is stored.
    Bytes recovery_code;
  };
  /// Registers `handle` with `token` if it is new (making a recovery code); else checks the token.
  Hello hello(const std::string& handle, const Bytes& token);
  /// True if `handle` has an account.
  bool has_account(const std::string& handle);

  enum class Recovery { kRecovered, kWrongCode, kUnknownHandle };
  struct Recover {
    Recovery result = Recovery::kWrongCode;
    /// For kRecovered: the new recovery code (the old one no longer works).
    Bytes recovery_code;
    /// For kRecovered: how many envelopes queued for the handle were dropped (they were encrypted
    /// for the lost device's keys; the new one cannot read them).
    std::size_t dropped = 0;
  };
  /// Takes `handle` back for a client that lost its state: if `code` is the handle's recovery code,
  /// binds the handle to `token`, forgets its published keys, one-time prekeys and queued
  /// envelopes (the new client publishes its own keys), and replaces the code with a new one.
  Recover recover(const std::string& handle, const Bytes& token, const Bytes& code);

  struct Publish {
    /// False if refused: the keys carry another identity than the one published for the handle
    /// (only a recovery may change it).
    bool accepted = false;
    std::size_t added = 0;     // one-time prekeys new to the relay
    std::size_t replaced = 0;  // ids it already held (a repeated publish): replaced, not doubled
    std::size_t spent = 0;     // ids it has handed out already: not put back
    std::size_t over = 0;      // beyond kMaxPreKeysPerHandle: dropped
  };
  /// Records `keys` for `handle`: replaces its signed prekey, and its identity if none is
  /// published; adds its one-time prekeys (up to kMaxPreKeysPerHandle). Idempotent per one-time
  /// prekey id: an id the relay holds is replaced, one it has handed out is not taken again.
  Publish publish(const std::string& handle, const hush::PublishedKeys& keys);
  /// How many one-time prekeys of `handle` are left.
  std::uint32_t count_pre_keys(const std::string& handle);
  /// A serialized hush::PreKeyBundle for `handle`, consuming its lowest one-time prekey (none
  /// when all are used); nullopt if it never published keys.
  std::optional<Bytes> fetch_bundle(const std::string& handle);

  enum class Enqueue { kOk, kQueueFull, kSenderShareFull };
  /// Queues `envelope` from `sender` for `recipient` (durably) and sets `*id`, unless the queue is
  /// at `limits` (kQueueFull) or `sender` holds its share of them already (kSenderShareFull).
  Enqueue enqueue(const std::string& recipient, const std::string& sender, const Bytes& envelope,
                  const QueueLimits& limits, std::uint64_t* id);
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
