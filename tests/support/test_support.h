// hush tests: shared helpers: a seeded RandomSource, a fixed Clock, and a "party" (a device with an
// in-memory store, identity, signed prekey and one-time prekeys) for two-party scenarios.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <hush/hush.h>

namespace hush::test {

/// A deterministic RandomSource (HMAC-SHA256 in counter mode over a seed). Not for production.
class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(std::uint64_t seed);
  Status fill(std::span<std::uint8_t> out) override;

 private:
  std::array<std::uint8_t, 32> key_{};
  std::uint64_t counter_ = 0;
};

/// A clock that says what it is told.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(std::uint64_t ms = 1'700'000'000'000) : ms_(ms) {}
  std::uint64_t now_ms() override { return ms_; }
  void set(std::uint64_t ms) { ms_ = ms; }

 private:
  std::uint64_t ms_;
};

/// A temporary directory, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// Which ProtocolStore a Party uses.
enum class StoreKind { kInMemory, kSqlite };

/// The store kind tests use by default: SqliteStore when the environment variable HUSH_TEST_STORE
/// is "sqlite" (ctest runs the integration tests once per kind), else the in-memory store.
StoreKind default_store_kind();

/// One device: its address, a seeded context and a store with keys generated.
struct Party {
  Address address;
  std::unique_ptr<SeededRandom> random;
  std::unique_ptr<FixedClock> clock;
  std::unique_ptr<Context> ctx;
  std::unique_ptr<ProtocolStore> store;
  SignedPreKeyId signed_pre_key_id{1};
  StoreKind kind = StoreKind::kInMemory;
  std::shared_ptr<TempDir> dir;  // SqliteStore only: where the database lives
  Bytes storage_key;             // SqliteStore only: the encryption-at-rest key, if any

  /// A device named `name` with device id 1, seed `seed`, one signed prekey (id 1) and
  /// `pre_keys` one-time prekeys (ids 1..pre_keys), on a store of `kind` (sealed with
  /// `storage_key` if one is given and the kind is SqliteStore).
  static Party create(const std::string& name, std::uint64_t seed, std::uint32_t pre_keys = 10,
                      StoreKind kind = default_store_kind(), ByteView storage_key = {});
  /// As create(), for device `device` of a person whose identity is `identity` (a linked device).
  static Party create_with_identity(const std::string& name, DeviceId device, std::uint64_t seed,
                                    IdentityKeyPair identity, std::uint32_t pre_keys = 10,
                                    StoreKind kind = default_store_kind(),
                                    ByteView storage_key = {});

  /// The database path (SqliteStore only).
  std::string db_path() const;
  /// Closes and reopens the store from its file (SqliteStore), or round-trips it through a
  /// snapshot (in-memory).
  void reopen();

  /// Our bundle offering one-time prekey `pre_key` (or none).
  PreKeyBundle bundle(std::optional<PreKeyId> pre_key) const;
  /// Our bundle offering the lowest one-time prekey left (none if none left).
  PreKeyBundle bundle() const;

  /// A byte-for-byte snapshot of the store (to assert that a failed operation changed nothing).
  Bytes snapshot() const;
};

/// `snapshot` (Party::snapshot()) without the pending identity changes it holds
/// (MessengerRecordKind::kIdentityChange): the one record an operation that fails with
/// kUntrustedIdentity keeps on purpose (in a transaction of its own), so that a restart does not
/// forget the change. Compare two of these to assert that nothing else changed.
Bytes without_identity_changes(const Bytes& snapshot);

/// Runs raw SQL against a database file through a connection of its own (what another process
/// that can write the file can do); REQUIREs success.
void run_sql(const std::string& path, const std::string& sql);

/// The whole content of a file ("" if it does not exist).
std::string file_bytes(const std::string& path);

/// Encrypts `text` from `from` to `to`; REQUIREs success.
CiphertextMessage encrypt(Party& from, const Party& to, const std::string& text);
/// Decrypts `msg` at `to` from `from`; returns the plaintext as a string or the error.
Result<std::string> decrypt(Party& to, const Party& from, const CiphertextMessage& msg);

}  // namespace hush::test
