/// @file
/// Containers for secret bytes (keys, chain keys, message keys, DH outputs).
///
/// `SecretArray<N>` (fixed size, stored inline) and `SecretBytes` (fixed size, on the heap) are
/// move-only, wipe their memory on destruction and when moved from, cannot be compared with `==`,
/// printed or formatted, and give raw access only through the greppable `expose()`/`expose_mut()`.
/// Use `constant_time_equals()` for every comparison of secret or authenticating data (MACs, keys).
///
/// Deviation from the design guide (B.6): `SecretArray` is stored inline rather than boxed on the
/// heap. C++ lets the move constructor wipe the source, so a move leaves no copy behind (the reason
/// vodozemac boxes its keys is that Rust moves cannot be hooked), and the message path then makes
/// no heap allocation per key.
///
/// Wiping is best effort: it cannot reach copies the compiler keeps in registers, or copies the
/// caller made through `expose()`.
///
/// Thread-safety: distinct objects may be used from distinct threads; one object is not
/// synchronised.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include <hush/bytes.h>

namespace hush {

/// Overwrites `data` with zeros in a way the optimiser may not remove (OPENSSL_cleanse).
void secure_wipe(std::span<std::uint8_t> data) noexcept;

namespace detail {
/// Zeroes N bytes inline: a plain memset, then an empty asm statement that takes the address and
/// clobbers memory, so the compiler must assume the zeros are read and cannot drop the stores
/// (the technique OPENSSL_cleanse and BoringSSL use), without a function call per key: the
/// message path creates and destroys hundreds of small secrets. Other compilers get secure_wipe.
template <std::size_t N>
inline void wipe_fixed(std::array<std::uint8_t, N>& bytes) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_memset(bytes.data(), 0, N);
  __asm__ __volatile__("" : : "r"(bytes.data()) : "memory");
#else
  secure_wipe(bytes);
#endif
}
}  // namespace detail

/// Compares two byte strings in time that depends only on their lengths (CRYPTO_memcmp).
/// Returns false when the lengths differ.
bool constant_time_equals(ByteView a, ByteView b) noexcept;

/// `N` secret bytes stored inline, zero-initialised, wiped on destruction and on move.
template <std::size_t N>
class SecretArray {
 public:
  /// The number of bytes, N.
  static constexpr std::size_t kSize = N;
  /// All zeros.
  SecretArray() noexcept = default;
  ~SecretArray() { detail::wipe_fixed(bytes_); }
  SecretArray(const SecretArray&) = delete;
  SecretArray& operator=(const SecretArray&) = delete;
  /// Takes the bytes of `other` and wipes `other`.
  SecretArray(SecretArray&& other) noexcept : bytes_(other.bytes_) {
    detail::wipe_fixed(other.bytes_);
  }
  /// Takes the bytes of `other` and wipes `other`.
  SecretArray& operator=(SecretArray&& other) noexcept {
    if (this != &other) {
      bytes_ = other.bytes_;
      detail::wipe_fixed(other.bytes_);
    }
    return *this;
  }
  /// An explicit copy (the only way to duplicate a secret).
  SecretArray clone() const noexcept {
    SecretArray out;
    out.bytes_ = bytes_;
    return out;
  }
  /// A secret holding a copy of `data`, which must be exactly N bytes (else all zeros and false).
  static bool from(ByteView data, SecretArray& out) noexcept {
    if (data.size() != N) return false;
    for (std::size_t i = 0; i < N; ++i)
      out.bytes_[i] = data[i];
    return true;
  }
  /// Read access to the raw bytes. Do not copy them into unwiped memory.
  std::span<const std::uint8_t, N> expose() const noexcept {
    return std::span<const std::uint8_t, N>(bytes_);
  }
  /// Write access to the raw bytes.
  std::span<std::uint8_t, N> expose_mut() noexcept { return std::span<std::uint8_t, N>(bytes_); }
  /// The size in bytes (N).
  static constexpr std::size_t size() noexcept { return N; }

 private:
  std::array<std::uint8_t, N> bytes_{};
};

/// A fixed-size heap buffer of secret bytes, wiped on destruction; the size never changes, so the
/// buffer is never reallocated (which would leave an unwiped copy behind).
class SecretBytes {
 public:
  /// An empty buffer.
  SecretBytes() noexcept = default;
  /// `size` zero bytes.
  explicit SecretBytes(std::size_t size);
  /// A copy of `data`.
  static SecretBytes copy_of(ByteView data);
  ~SecretBytes();
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  /// Takes the buffer of `other`, which becomes empty.
  SecretBytes(SecretBytes&& other) noexcept;
  /// Wipes this buffer, then takes the buffer of `other`, which becomes empty.
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  /// An explicit copy.
  SecretBytes clone() const;
  /// Read access to the raw bytes.
  ByteView expose() const noexcept { return {data_, size_}; }
  /// Write access to the raw bytes.
  std::span<std::uint8_t> expose_mut() noexcept { return {data_, size_}; }
  /// Copies the bytes out into a std::string, for a decrypted plaintext the caller shows as text
  /// (the bytes as they are: no check that they are UTF-8). The copy is an ordinary string that
  /// nothing wipes: the secret is then the caller's to keep, and to wipe when done (secure_wipe
  /// over its bytes). Greppable like expose(): every place a secret leaves as text shows.
  std::string expose_as_string() const {
    if (size_ == 0) return std::string();
    return std::string(reinterpret_cast<const char*>(data_), size_);
  }
  /// The size in bytes.
  std::size_t size() const noexcept { return size_; }
  /// True when the size is zero.
  bool empty() const noexcept { return size_ == 0; }
  /// Wipes and shortens the logical size to `n` (n <= size()); the allocation is kept.
  void truncate(std::size_t n) noexcept;

 private:
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace hush
