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
// Blobs (attachments' ciphertext, tables blobs and blob_chunks): an upload names its size (at most
// the relay's blob limit, by default the ciphertext of hush's largest attachment) and comes in
// pieces, each kept as a row at its offset; a blob is readable once all its bytes came. One upload
// at a time per device (a new one drops the device's unfinished one), each piece exactly
// kBlobChunkBytes (the last the rest), at most kMaxBlobsPerHandle blobs and kMaxBlobBytesPerHandle
// bytes per handle, kMaxBlobs and kMaxBlobBytes in all, each blob counted as at least one piece:
// the relay refuses more (blob_store_full, changing nothing). An unfinished upload idle for
// kBlobIdleSeconds is deleted, and a finished blob kBlobDays after its upload (hush-relay
// --blob-days); its uploader may delete it sooner (BLOB_DELETE: a send that failed).
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

/// Blobs one handle may keep (all its devices together), and blobs kept in all: a thousand files
/// is a lot for a person of an example chat; ten thousand bounds the tables.
inline constexpr std::size_t kMaxBlobsPerHandle = 1000;
inline constexpr std::size_t kMaxBlobs = 10000;
/// The bytes of blobs (announced sizes, unfinished uploads included) one handle may keep, and all
/// together: four of hush's largest files per person, and a disk a small server has.
inline constexpr std::uint64_t kMaxBlobBytesPerHandle = std::uint64_t{8} << 30;
inline constexpr std::uint64_t kMaxBlobBytes = std::uint64_t{64} << 30;
/// An unfinished upload untouched this long is deleted (an hour: a client that went away).
inline constexpr std::uint64_t kBlobIdleSeconds = 3600;
/// A finished blob is kept this many days by default (hush-relay --blob-days): its recipients
/// fetch it when they next come online, and a month covers a holiday.
inline constexpr std::uint32_t kBlobDays = 30;

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

  // ---- blobs ----
  /// How long blobs are kept: an unfinished upload untouched for `unfinished_seconds`, a finished
  /// blob `finished_seconds` after its upload began; and the bytes one handle may keep
  /// (hush-relay --blob-quota lowers it, for tests).
  struct BlobPolicy {
    std::uint64_t unfinished_seconds = kBlobIdleSeconds;
    std::uint64_t finished_seconds = std::uint64_t{kBlobDays} * 86400;
    std::uint64_t bytes_per_handle = kMaxBlobBytesPerHandle;
  };
  /// Deletes the blobs that expired by `now` (seconds since the epoch) under `times`; how many.
  std::size_t blob_expire(std::uint64_t now, const BlobPolicy& times);
  enum class BlobBegin { kStarted, kFull };
  /// Starts an upload of `size` bytes under the new id `id` (random, made by the caller) for
  /// (handle, device), dropping that device's unfinished upload if any; first deletes what
  /// expired. kFull (and the unfinished upload kept) if the counts or bytes would exceed the
  /// limits, every blob counted as at least kBlobChunkBytes.
  BlobBegin blob_begin(const std::string& handle, std::uint32_t device, const std::string& id,
                       std::uint64_t size, std::uint64_t now, const BlobPolicy& times);
  enum class BlobAppend { kAppended, kCompleted, kUnknown, kComplete, kInvalidChunk };
  /// Appends `data` to the unfinished blob `id` of (handle, device): kUnknown if there is no blob
  /// `id` of theirs, kComplete if it is finished, kInvalidChunk (nothing changed) unless `data` is
  /// exactly min(kBlobChunkBytes, bytes still missing).
  BlobAppend blob_append(const std::string& handle, std::uint32_t device, const std::string& id,
                         const Bytes& data, std::uint64_t now);
  enum class BlobRead { kOk, kUnknown, kIncomplete, kBadOffset };
  /// Sets `*out` to up to `max` bytes of the finished blob `id` from `offset` (empty at its end):
  /// kUnknown if there is no blob `id`, kIncomplete if its upload is unfinished, kBadOffset if
  /// `offset` is past its end. Reads only the pieces from the one holding `offset`.
  BlobRead blob_read(const std::string& id, std::uint64_t offset, std::size_t max, Bytes* out);
  /// Deletes blob `id` (finished or not) if `handle` uploaded it; false otherwise.
  bool blob_delete(const std::string& handle, const std::string& id);

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
