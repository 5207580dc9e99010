// hush test support: in-memory ByteSource and ByteSink (include/hush/attachment.h) for tests that
// stream attachments without files.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>

#include <hush/attachment.h>

namespace hush::test {

/// Reads `data` in pieces of at most `chunk` bytes (a small chunk exercises the readers' loops).
class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(ByteView data, std::size_t chunk = 1000) : data_(data), chunk_(chunk) {}
  Result<std::size_t> read(std::span<std::uint8_t> out) override {
    const std::size_t n = std::min({out.size(), data_.size(), chunk_});
    std::copy_n(data_.begin(), n, out.begin());
    data_ = data_.subspan(n);
    return n;
  }

 private:
  ByteView data_;
  std::size_t chunk_;
};

/// Keeps what it is given, and the largest single write.
class VectorSink final : public ByteSink {
 public:
  Status write(ByteView data) override {
    max_write = std::max(max_write, data.size());
    bytes.insert(bytes.end(), data.begin(), data.end());
    return ok_status();
  }
  Bytes bytes;                ///< everything written, in order
  std::size_t max_write = 0;  ///< the largest write
};

}  // namespace hush::test
