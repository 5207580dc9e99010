// hush chat example: hush-relay's database (SQLite, linked directly; one file).
//
// Accounts are per device. A handle (table handles) has a salted one-way image of its recovery
// code and the identity key all its devices share (the identity lock: keys or a device list under
// another identity are refused, until a recovery clears it); each of its devices (table devices)
// has its own account token and its published identity and signed prekey as hush::PublishedKeys
// bytes (with its last-resort Kyber prekey, kept while a publish carries none). Per device too:
// prekeys (one-time public prekeys, handed out one per fetch and deleted), spent_prekeys (the ids
// handed out, so that a repeated publish cannot put a used prekey back), kyber_prekeys and
// spent_kyber_prekeys (the same for signed one-time Kyber prekeys: a fetch hands out one, else the
// last-resort one, so hush users get post-quantum Signal v4 sessions) and inbox (envelopes waiting
// for their recipient device, deleted when acknowledged). device_lists keeps each handle's newest
// signed device list (hush::SignedDeviceList bytes), and impostors the keys `--impersonate` uses.
// Nothing in it is secret to the users' messages: public keys, signed lists of device ids, and
// envelopes whose bodies are Signal messages. The account tokens let whoever reads the file act as
// those devices at this relay (send as them, take their queued envelopes); the recovery codes are
// not in it, only their one-way images. WAL mode, synchronous=FULL (an envelope is on disk before
// the sender is told OK), secure_delete (acknowledged envelopes are overwritten).
//
// Every limit is enforced here: kMaxAccounts handles, kMaxDevicesPerHandle devices each (device
// ids up to kMaxDeviceId), kMaxPreKeysPerDevice, kMaxSpentPreKeysPerDevice,
// kMaxKyberPreKeysPerDevice, kMaxSpentKyberPreKeysPerDevice, one device list per handle (at most
// kMaxListBytes), and per recipient device QueueLimits (by default
// kMaxQueuedEnvelopes and kMaxQueuedBytes), of which one sender (a handle, all its devices
// together) may fill at most a 1/kSenderShareDivisor share.
//
// A database of the format before devices (one account per handle) is migrated when opened: each
// handle becomes device 1 of itself, with its token, keys, prekeys and queue. A database from
// before Kyber prekeys gets their (empty) tables when opened: its devices' bundles stay version 3
// until their clients publish Kyber prekeys (hush-chat does at start-up).
//
// Secrets: account tokens and recovery codes are compared in constant time
// (hush::constant_time_equals), so that the time of a refusal tells nothing about how much of a
// guess was right. Recovery codes and their salts come from hush::system_random().
//
// Errors: SQLite failures throw DbError (the relay answers the request with an error and goes
// on); so does a stored row that does not parse (a damaged or tampered file).
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

#include <hush/device_list.h>
#include <hush/transport.h>

#include "frame.h"

struct sqlite3;

namespace hush_chat {

inline constexpr std::size_t kMaxAccounts = 10000;
/// Devices (tokens) per handle: hush's own bound on a person's device list
/// (hush::kMaxDevicesPerPerson; relay_db.cpp checks the two agree).
inline constexpr std::size_t kMaxDevicesPerHandle = 32;
inline constexpr std::size_t kMaxPreKeysPerDevice = 2000;
/// Handed-out prekey ids remembered per device. hush's prekey ids only grow and a publish carries
/// at most hush::kMaxPublishedPreKeys (1000), so a repeated publish never names an id this far
/// below the newest; the oldest are forgotten beyond it.
inline constexpr std::size_t kMaxSpentPreKeysPerDevice = 10000;
/// One-time Kyber prekeys held per device: each is about 1.6 KB (a 1569-byte key and a signature),
/// and hush publishes 100 at a time (hush::kMaxPublishedKyberPreKeys), topping up below 10.
inline constexpr std::size_t kMaxKyberPreKeysPerDevice = 200;
/// Handed-out Kyber prekey ids remembered per device (as kMaxSpentPreKeysPerDevice: a publish
/// carries at most 100, and ids only grow).
inline constexpr std::size_t kMaxSpentKyberPreKeysPerDevice = 1000;
inline constexpr std::size_t kMaxQueuedEnvelopes = 1000;
inline constexpr std::size_t kMaxQueuedBytes = std::size_t{16} << 20;
/// One sender may hold at most 1/4 of a recipient device's queue (envelopes and bytes): a hostile
/// client that floods bob fills its own quarter, and everyone else can still reach bob. (Four
/// hostile accounts together still can fill it: accounts are free here; see README.)
inline constexpr std::size_t kSenderShareDivisor = 4;

/// The bounds of one recipient device's queue (hush-relay --queue-limit changes `envelopes`, for
/// tests).
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

  enum class Account { kNew, kKnown, kWrongToken, kUnknownDevice, kFull };
  struct Hello {
    Account account = Account::kKnown;
    /// For kNew: the handle's recovery code (kRecoveryCodeBytes), to show its owner once; only a
    /// salted hash of it is stored.
    Bytes recovery_code;
  };
  /// Device 1 of a new handle registers it with `token` (making a recovery code); a known device
  /// has its token checked; any other device of a known handle is kUnknownDevice (a device is
  /// added by another device of its handle, add_device), and so is a device > 1 of a new handle.
  Hello hello(const std::string& handle, std::uint32_t device, const Bytes& token);
  /// True if `handle` has a device `device` (a token).
  bool has_device(const std::string& handle, std::uint32_t device);

  enum class Recovery { kRecovered, kWrongCode, kUnknownHandle };
  struct Recover {
    Recovery result = Recovery::kWrongCode;
    /// For kRecovered: the new recovery code (the old one no longer works).
    Bytes recovery_code;
    /// For kRecovered: envelopes kept for device 1 (the new device cannot decrypt them, and asks
    /// their senders to send them again: hush's healing), and the other devices removed.
    std::size_t kept = 0;
    std::vector<std::uint32_t> removed;
  };
  /// Takes `handle` back for a client that lost its state: if `code` is the handle's recovery code,
  /// binds device 1 to `token`, forgets device 1's published keys and one-time prekeys (the new
  /// client publishes its own), removes every other device (tokens, keys, queues: they hold the
  /// old identity), clears the identity lock (the new client has a new identity), keeps the
  /// envelopes queued for device 1, and replaces the code with a new one.
  Recover recover(const std::string& handle, const Bytes& token, const Bytes& code);

  struct Publish {
    /// False if refused: the keys carry another identity than the handle's (only a recovery may
    /// change it), or name another device.
    bool accepted = false;
    std::size_t added = 0;        // one-time prekeys new to the relay
    std::size_t kyber_added = 0;  // one-time Kyber prekeys new to the relay
    std::size_t replaced = 0;     // ids it already held (a repeated publish): replaced, not doubled
    std::size_t spent = 0;        // ids it has handed out already: not put back
    std::size_t over = 0;         // beyond kMaxPreKeysPerDevice: dropped
  };
  /// Records `keys` for (handle, device): replaces its signed prekey and (if it carries one) its
  /// last-resort Kyber prekey, and the handle's identity if none is locked; adds its one-time
  /// prekeys (up to kMaxPreKeysPerDevice) and one-time Kyber prekeys (up to
  /// kMaxKyberPreKeysPerDevice). Idempotent per id: an id the relay holds is replaced, one it has
  /// handed out is not taken again. (`replaced`, `spent` and `over` count both kinds.)
  Publish publish(const std::string& handle, std::uint32_t device, const hush::PublishedKeys& keys);
  /// How many one-time prekeys of (handle, device) are left.
  std::uint32_t count_pre_keys(const std::string& handle, std::uint32_t device);
  /// How many one-time Kyber prekeys of (handle, device) are left.
  std::uint32_t count_kyber_pre_keys(const std::string& handle, std::uint32_t device);
  /// A serialized hush::PreKeyBundle for (handle, device), consuming its lowest one-time prekey
  /// (none when all are used) and its lowest one-time Kyber prekey (else carrying its last-resort
  /// one, else none); nullopt if it never published keys.
  std::optional<Bytes> fetch_bundle(const std::string& handle, std::uint32_t device);

  enum class ListResult { kAccepted, kStale, kIdentityLocked };
  /// Keeps `list` (verified, and named `handle`, by the caller) as the handle's newest device list
  /// if its identity is the handle's (or no identity is locked: a new or just recovered handle,
  /// which it then locks) and, under the same identity as the list held, its version is higher.
  ListResult publish_list(const std::string& handle, const hush::SignedDeviceList& list);
  /// The handle's newest signed device list, if it published one.
  std::optional<Bytes> device_list(const std::string& handle);

  enum class AddDevice { kAdded, kNotListed, kExists, kFull };
  /// Registers `token` for a new device of `handle`: it must be on the handle's newest device list
  /// (kNotListed), have no token yet (kExists), and the handle fewer than kMaxDevicesPerHandle.
  AddDevice add_device(const std::string& handle, std::uint32_t device, const Bytes& token);
  enum class RemoveDevice { kRemoved, kStillListed, kUnknown };
  /// Removes a device of `handle` that is off its newest device list (kStillListed otherwise):
  /// revokes its token, drops its keys, prekeys and queue.
  RemoveDevice remove_device(const std::string& handle, std::uint32_t device);

  enum class Enqueue { kOk, kQueueFull, kSenderShareFull };
  /// Queues `envelope` from (sender, sender_device) for (recipient, device) (durably) and sets
  /// `*id`, unless the queue is at `limits` (kQueueFull) or `sender` holds its share of them
  /// already (kSenderShareFull).
  Enqueue enqueue(const std::string& recipient, std::uint32_t device, const std::string& sender,
                  std::uint32_t sender_device, const Bytes& envelope, const QueueLimits& limits,
                  std::uint64_t* id);
  struct Pending {
    std::uint64_t id = 0;
    std::string sender;
    std::uint32_t sender_device = 1;
    Bytes envelope;
  };
  /// Up to `limit` envelopes for (recipient, device) with ids above `after`, oldest first.
  std::vector<Pending> pending(const std::string& recipient, std::uint32_t device,
                               std::uint64_t after, std::size_t limit);
  /// Deletes envelope `id` if it is queued for (recipient, device); false otherwise.
  bool ack(const std::string& recipient, std::uint32_t device, std::uint64_t id);

  /// The stored impostor keys for `handle` (an InMemoryProtocolStore snapshot), if any.
  std::optional<Bytes> impostor(const std::string& handle);
  void set_impostor(const std::string& handle, const Bytes& snapshot);

  /// Prints every table, row by row (text as text, blobs as hex), for inspection.
  void dump(std::FILE* out);

 private:
  explicit RelayDb(sqlite3* db) : db_(db) {}
  void exec(const char* sql);
  void migrate();
  // The devices on the handle's stored list (empty if none).
  std::vector<std::uint32_t> listed(const std::string& handle);
  sqlite3* db_;
};

}  // namespace hush_chat
