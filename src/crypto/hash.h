// hush internal: SHA-256, SHA-512 and the SHA-3 family (SHA3-256, SHA3-512, SHAKE128, SHAKE256;
// FIPS 202) on OpenSSL 3 (algorithms fetched once per process).
//
// The extendable-output functions are one-shot: each call absorbs its whole input and squeezes its
// whole output at once. OpenSSL 3.0 has no squeeze that continues a stream (EVP_DigestSqueeze
// arrives in 3.3; a second EVP_DigestFinalXOF on one context returns 1 but its bytes are not the
// continuation), so a caller that runs short asks again for a longer output: SHAKE's output for a
// length n is a prefix of its output for any longer length.
//
// Not responsible for: keyed hashing (kdf.h); where the caller keeps secret inputs and outputs
// (every function writes into memory the caller provides, e.g. a SecretArray). Thread-safety: free
// functions are re-entrant; Sha512 and Sha3 objects are not synchronised.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>

#include <hush/bytes.h>
#include <hush/result.h>

namespace hush::internal::crypto {

/// SHA-256 of `data`.
std::array<std::uint8_t, 32> sha256(ByteView data);
/// SHA-512 of `data`.
std::array<std::uint8_t, 64> sha512(ByteView data);

/// Incremental SHA-512 with a reusable context: `final` leaves the object ready for a new message
/// (the fingerprint iteration and libsignal's provider contract need that).
class Sha512 {
 public:
  Sha512();
  ~Sha512();
  Sha512(const Sha512&) = delete;
  Sha512& operator=(const Sha512&) = delete;
  /// Adds `data` to the message.
  void update(ByteView data);
  /// Writes the digest of everything added since construction or the last final, then resets.
  void final(std::span<std::uint8_t, 64> out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Incremental SHA-256 (for long messages built piece by piece, such as a test's transcript).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  /// Adds `data` to the message.
  void update(ByteView data);
  /// Writes the digest of everything added since construction or the last final, then resets.
  void final(std::span<std::uint8_t, 32> out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Sizes of the fixed-length SHA-3 outputs.
inline constexpr std::size_t kSha3_256Size = 32;
inline constexpr std::size_t kSha3_512Size = 64;

/// SHA-3 and SHAKE on one reusable OpenSSL digest context: each call starts afresh, hashes the
/// concatenation of `parts` and writes the whole output (the context is reset in between, so no
/// state carries over from one call to the next). Reusing one object saves a context allocation
/// per hash; ML-KEM hashes a few dozen times per operation.
class Sha3 {
 public:
  Sha3();
  ~Sha3();
  Sha3(const Sha3&) = delete;
  Sha3& operator=(const Sha3&) = delete;
  /// SHA3-256 of the concatenation of `parts`.
  void sha3_256(std::initializer_list<ByteView> parts, std::span<std::uint8_t, kSha3_256Size> out);
  /// SHA3-512 of the concatenation of `parts`.
  void sha3_512(std::initializer_list<ByteView> parts, std::span<std::uint8_t, kSha3_512Size> out);
  /// The first out.size() bytes of SHAKE128 of the concatenation of `parts` (any length).
  void shake128(std::initializer_list<ByteView> parts, std::span<std::uint8_t> out);
  /// The first out.size() bytes of SHAKE256 of the concatenation of `parts` (any length).
  void shake256(std::initializer_list<ByteView> parts, std::span<std::uint8_t> out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Which SHAKE a ShakeAbsorber runs.
enum class Shake : std::uint8_t { k128, k256 };

/// SHAKE over a message added piece by piece, squeezed once at the end (see the file comment on
/// why there is no second squeeze).
class ShakeAbsorber {
 public:
  /// A fresh SHAKE128 or SHAKE256 computation.
  explicit ShakeAbsorber(Shake which);
  ~ShakeAbsorber();
  ShakeAbsorber(const ShakeAbsorber&) = delete;
  ShakeAbsorber& operator=(const ShakeAbsorber&) = delete;
  /// Adds `data` to the message; not after finish.
  void absorb(ByteView data);
  /// Writes the first out.size() bytes of the output. Call at most once.
  void finish(std::span<std::uint8_t> out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// SHA3-256 of `data`.
std::array<std::uint8_t, kSha3_256Size> sha3_256(ByteView data);
/// SHA3-512 of `data`.
std::array<std::uint8_t, kSha3_512Size> sha3_512(ByteView data);
/// The first out.size() bytes of SHAKE128(data).
void shake128(ByteView data, std::span<std::uint8_t> out);
/// The first out.size() bytes of SHAKE256(data).
void shake256(ByteView data, std::span<std::uint8_t> out);

}  // namespace hush::internal::crypto
