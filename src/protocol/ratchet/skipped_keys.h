// hush internal: the skipped message keys of one receiving chain.
//
// Counters are kept ascending in one vector and the 32-byte seeds (HMAC(CK_i, 0x01)) side by side
// in one buffer whose allocator wipes memory before freeing it (Tink's sanitizing allocator idea).
// Copying a chain with 2000 skipped keys is then two memcpys, and freeing it one wipe, instead of
// 2000 of each: with a key per object, a record's copies and wipes grew with the square of the
// number of late messages (bench W4).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <span>
#include <vector>

#include <hush/bytes.h>
#include <hush/secret.h>

namespace hush::internal {

/// An allocator that wipes what it frees (reallocation included), for vectors of secret bytes.
template <class T>
struct WipingAllocator {
  using value_type = T;
  WipingAllocator() noexcept = default;
  template <class U>
  WipingAllocator(const WipingAllocator<U>&) noexcept {}  // NOLINT: rebinding
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept {
    secure_wipe({reinterpret_cast<std::uint8_t*>(p), n * sizeof(T)});
    ::operator delete(p);
  }
  friend bool operator==(const WipingAllocator&, const WipingAllocator&) { return true; }
};

class SkippedKeys {
 public:
  static constexpr std::size_t kSeedSize = 32;

  std::size_t size() const noexcept { return counters_.size(); }
  bool empty() const noexcept { return counters_.empty(); }
  std::uint32_t counter(std::size_t i) const { return counters_[i]; }
  std::span<const std::uint8_t, kSeedSize> seed(std::size_t i) const {
    return std::span<const std::uint8_t, kSeedSize>(seeds_.data() + i * kSeedSize, kSeedSize);
  }
  /// The position of `counter`, if its key is kept.
  std::optional<std::size_t> find(std::uint32_t counter) const {
    auto it = std::lower_bound(counters_.begin(), counters_.end(), counter);
    if (it == counters_.end() || *it != counter) return std::nullopt;
    return static_cast<std::size_t>(it - counters_.begin());
  }
  void reserve(std::size_t n) {
    counters_.reserve(n);
    seeds_.reserve(n * kSeedSize);
  }
  /// Appends a key; `counter` must be above every kept one.
  void push_back(std::uint32_t counter, ByteView seed) {
    counters_.push_back(counter);
    seeds_.insert(seeds_.end(), seed.begin(), seed.end());
  }
  /// Removes the key at `i`, wiping the bytes the removal leaves behind.
  void erase(std::size_t i) {
    counters_.erase(counters_.begin() + static_cast<std::ptrdiff_t>(i));
    const auto at = seeds_.begin() + static_cast<std::ptrdiff_t>(i * kSeedSize);
    std::move(at + kSeedSize, seeds_.end(), at);
    secure_wipe({seeds_.data() + seeds_.size() - kSeedSize, kSeedSize});
    seeds_.resize(seeds_.size() - kSeedSize);
  }
  /// Removes the `n` oldest keys.
  void drop_oldest(std::size_t n) {
    n = std::min(n, size());
    counters_.erase(counters_.begin(), counters_.begin() + static_cast<std::ptrdiff_t>(n));
    const std::size_t bytes = n * kSeedSize;
    std::move(seeds_.begin() + static_cast<std::ptrdiff_t>(bytes), seeds_.end(), seeds_.begin());
    secure_wipe({seeds_.data() + seeds_.size() - bytes, bytes});
    seeds_.resize(seeds_.size() - bytes);
  }
  /// Appends all of `more` (whose counters are above ours).
  void append(const SkippedKeys& more) {
    counters_.insert(counters_.end(), more.counters_.begin(), more.counters_.end());
    seeds_.insert(seeds_.end(), more.seeds_.begin(), more.seeds_.end());
  }
  SkippedKeys clone() const { return *this; }

  /// The counters, ascending, and the seeds in the same order (for the storage form).
  const std::vector<std::uint32_t>& counters() const noexcept { return counters_; }
  ByteView seeds() const noexcept { return {seeds_.data(), seeds_.size()}; }

  SkippedKeys() = default;
  SkippedKeys(SkippedKeys&&) noexcept = default;
  SkippedKeys& operator=(SkippedKeys&&) noexcept = default;

 private:
  SkippedKeys(const SkippedKeys&) = default;  // only through clone()
  SkippedKeys& operator=(const SkippedKeys&) = delete;
  std::vector<std::uint32_t> counters_;
  std::vector<std::uint8_t, WipingAllocator<std::uint8_t>> seeds_;
};

}  // namespace hush::internal
