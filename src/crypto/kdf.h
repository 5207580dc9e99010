// hush internal: HMAC-SHA256, HKDF-SHA256, HMAC-SHA512 and HKDF-SHA512 (RFC 2104, RFC 5869) on
// OpenSSL 3.
//
// HmacSha256 owns reusable OpenSSL digest contexts (the algorithm is fetched once per process) and
// keeps the keyed state of its last key, so MACing under the same key again costs no key setup.
// HKDF is RFC 5869 extract-then-expand built on it (Signal v3 uses the standard expand counter from
// 1); give extraction and expansion their own HmacSha256 to keep both keys (the zero salt and the
// PRK).
//
// Not responsible for: choosing salts and info strings (ratchet/kdf_chains.h, x3dh.h).
// Thread-safety: an HmacSha256 object is not synchronised; use one per thread or operation.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>

#include <hush/bytes.h>
#include <hush/result.h>

namespace hush::internal::crypto {

/// The size of an HMAC-SHA256 output.
inline constexpr std::size_t kHmacSha256Size = 32;

/// A reusable HMAC-SHA256 computation that keeps the keyed state of its last key.
class HmacSha256 {
 public:
  HmacSha256();
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;

  /// Starts a new MAC under `key` (any length, including empty). The same key as the previous
  /// init (compared in constant time) reuses the kept keyed state.
  void init(ByteView key);
  /// Adds `data`.
  void update(ByteView data);
  /// Writes the MAC of everything since init; a new init is needed before the next use.
  void final(std::span<std::uint8_t, kHmacSha256Size> out);

  /// One-shot: `out = HMAC-SHA256(key, data)`.
  void mac(ByteView key, ByteView data, std::span<std::uint8_t, kHmacSha256Size> out) {
    init(key);
    update(data);
    final(out);
  }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// HKDF-SHA256 (RFC 5869): fills `out` (at most 255*32 bytes, else aborts: a caller bug) with
/// HKDF-Expand(HKDF-Extract(salt, ikm), info), extracting with `extract` and expanding with
/// `expand` (which may be the same object). An empty salt means 32 zero bytes, per the RFC.
void hkdf_sha256(HmacSha256& extract, HmacSha256& expand, ByteView ikm, ByteView salt,
                 ByteView info, std::span<std::uint8_t> out);

/// HKDF-Expand with SHA-256 (RFC 5869 §2.3): fills `out` (at most 255*32 bytes, else aborts)
/// from the pseudorandom key `prk`.
void hkdf_expand_sha256(HmacSha256& hmac, ByteView prk, ByteView info, std::span<std::uint8_t> out);

/// The size of an HMAC-SHA512 output.
inline constexpr std::size_t kHmacSha512Size = 64;

/// One-shot `out = HMAC-SHA512(key, data)` (RFC 4231). Not for a hot path: it sets up a fresh
/// MAC each call (used to derive keys, once per key).
void hmac_sha512(ByteView key, ByteView data, std::span<std::uint8_t, kHmacSha512Size> out);

/// HKDF-Extract with SHA-512 (RFC 5869 §2.2): `prk = HMAC-SHA512(salt, ikm)`; an empty salt means
/// 64 zero bytes, per the RFC (the same MAC, as HMAC pads its key with zeros).
void hkdf_extract_sha512(ByteView salt, ByteView ikm, std::span<std::uint8_t, kHmacSha512Size> prk);

/// HKDF-Expand with SHA-512 (RFC 5869 §2.3): fills `out` (at most 255*64 bytes, else aborts).
void hkdf_expand_sha512(ByteView prk, ByteView info, std::span<std::uint8_t> out);

/// HKDF-SHA256 with one HmacSha256 for both steps.
inline void hkdf_sha256(HmacSha256& hmac, ByteView ikm, ByteView salt, ByteView info,
                        std::span<std::uint8_t> out) {
  hkdf_sha256(hmac, hmac, ikm, salt, info, out);
}

}  // namespace hush::internal::crypto
