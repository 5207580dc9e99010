// hush benchmarks: attachments (include/hush/attachment.h): encryption and decryption throughput
// for a 100 MiB file, and the peak memory of a streamed 1 GiB round trip.
//
// attachment/encrypt: encrypt_attachment of 100 MiB (AES-256-GCM segments + SHA-256 over the
// blob) from a source that copies a 64 KiB pattern (memory speed) to a sink that drops the bytes.
// attachment/encrypt_100MiB_process_cpu: the same, its CPU time counting every thread (from 1 MiB
// on, the SHA-256 runs on a second thread beside the encryption; the line above counts the
// calling thread alone, so the hashing thread's time is the difference).
// attachment/decrypt: decrypt_attachment of that blob, held in memory, to a sink that drops the
// plaintext (the digest check is download_and_decrypt's; see attachment/sha256).
// attachment/sha256: SHA-256 over the blob alone (what the digest adds to each side; internal
// crypto API).
// attachment/download: download_and_decrypt from an in-memory store into a file in $TMPDIR
// (spool written, hashed, read back, decrypted, fsynced, linked): the whole receiving path.
//
//   hush_attachment_bench --peak-memory   streams 1 GiB through upload_attachment into a store that
//   decrypts as it reads (nothing held whole) and prints the process's peak RSS before and after.
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include <hush/attachment.h>
#include <hush/context.h>

#include "bench_util.h"
#include "crypto/hash.h"

namespace {

using hush::Bytes;
using hush::ByteView;
using hush::Result;
using hush::Status;
using hush_bench::must;

constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;

// `size` bytes of a repeating 64 KiB pattern, produced as read.
class PatternSource final : public hush::ByteSource {
 public:
  explicit PatternSource(std::uint64_t size) : left_(size) {
    for (std::size_t i = 0; i < pattern_.size(); ++i)
      pattern_[i] = static_cast<std::uint8_t>(i * 131 + (i >> 8));
  }
  Result<std::size_t> read(std::span<std::uint8_t> out) override {
    std::size_t done = 0;
    while (done < out.size() && left_ > 0) {
      const std::size_t n = static_cast<std::size_t>(
          std::min<std::uint64_t>({out.size() - done, pattern_.size() - at_, left_}));
      std::memcpy(out.data() + done, pattern_.data() + at_, n);
      done += n;
      at_ = (at_ + n) % pattern_.size();
      left_ -= n;
    }
    return done;
  }

 private:
  std::array<std::uint8_t, 65536> pattern_{};
  std::size_t at_ = 0;
  std::uint64_t left_;
};

class MemorySource final : public hush::ByteSource {
 public:
  explicit MemorySource(ByteView data) : data_(data) {}
  Result<std::size_t> read(std::span<std::uint8_t> out) override {
    const std::size_t n = std::min(out.size(), data_.size());
    std::memcpy(out.data(), data_.data(), n);
    data_ = data_.subspan(n);
    return n;
  }

 private:
  ByteView data_;
};

class NullSink final : public hush::ByteSink {
 public:
  Status write(ByteView data) override {
    benchmark::DoNotOptimize(data.data());
    return hush::ok_status();
  }
};

class VectorSink final : public hush::ByteSink {
 public:
  Status write(ByteView data) override {
    bytes.insert(bytes.end(), data.begin(), data.end());
    return hush::ok_status();
  }
  Bytes bytes;
};

class MemoryStore final : public hush::BlobStore {
 public:
  Result<std::string> put(hush::ByteSource&, std::uint64_t) override { return std::string("b"); }
  Status get(std::string_view, hush::ByteSink& out) override {
    for (std::size_t off = 0; off < blob.size(); off += 1 << 20)
      if (auto st = out.write(
              ByteView(blob).subspan(off, std::min<std::size_t>(1 << 20, blob.size() - off)));
          !st)
        return st;
    return hush::ok_status();
  }
  Bytes blob;
};

const hush::Context& context() {
  static const hush::Context ctx = hush::default_context();
  return ctx;
}

struct Encrypted {
  hush::EncryptedAttachment secrets;
  Bytes blob;
};

const Encrypted& encrypted_100mib() {
  static const Encrypted* e = [] {
    auto* out = new Encrypted;
    PatternSource src(100 * kMiB);
    VectorSink sink;
    out->secrets = must(hush::encrypt_attachment(context(), src, 100 * kMiB, sink));
    out->blob = std::move(sink.bytes);
    return out;
  }();
  return *e;
}

void BM_Encrypt(benchmark::State& state) {
  const std::uint64_t size = 100 * kMiB;
  for (auto _ : state) {
    PatternSource src(size);
    NullSink sink;
    auto r = hush::encrypt_attachment(context(), src, size, sink);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}

void BM_Decrypt(benchmark::State& state) {
  const Encrypted& e = encrypted_100mib();
  for (auto _ : state) {
    MemorySource src(e.blob);
    NullSink sink;
    must(hush::decrypt_attachment(e.secrets.key, 100 * kMiB, src, sink));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * 100 * kMiB));
}

void BM_Sha256(benchmark::State& state) {
  const Encrypted& e = encrypted_100mib();
  for (auto _ : state) {
    auto d = hush::internal::crypto::sha256(e.blob);
    benchmark::DoNotOptimize(d);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * e.blob.size()));
}

void BM_Download(benchmark::State& state) {
  const Encrypted& e = encrypted_100mib();
  MemoryStore store;
  store.blob = e.blob;
  hush::AttachmentPointer p;
  p.id = "b";
  p.key = e.secrets.key.clone();
  p.digest = e.secrets.digest;
  p.size = 100 * kMiB;
  p.file_name = "bench.bin";
  const auto dir = std::filesystem::temp_directory_path() / "hush-attachment-bench";
  std::filesystem::create_directories(dir);
  for (auto _ : state) {
    auto path = must(hush::download_and_decrypt(store, p, dir));
    state.PauseTiming();
    std::filesystem::remove(path);
    state.ResumeTiming();
  }
  std::filesystem::remove_all(dir);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * 100 * kMiB));
}

BENCHMARK(BM_Encrypt)
    ->Name("attachment/encrypt_100MiB")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
// The same with the CPU time of the whole process (both threads: the hashing runs beside the
// encryption from 1 MiB on), where the line above counts the calling thread's alone.
BENCHMARK(BM_Encrypt)
    ->Name("attachment/encrypt_100MiB_process_cpu")
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();
BENCHMARK(BM_Decrypt)
    ->Name("attachment/decrypt_100MiB")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_Sha256)
    ->Name("attachment/sha256_100MiB")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_Download)
    ->Name("attachment/download_and_decrypt_100MiB")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// A store that decrypts what upload_attachment hands it, as it reads: the round trip holds
// neither the file nor the blob.
class DecryptingStore final : public hush::BlobStore {
 public:
  DecryptingStore(const hush::SecretArray<32>& key, std::uint64_t size) : key_(key), size_(size) {}
  Result<std::string> put(hush::ByteSource& blob, std::uint64_t) override {
    NullSink sink;
    if (auto st = hush::decrypt_attachment(key_, size_, blob, sink); !st) return st.error();
    return std::string("b");
  }
  Status get(std::string_view, hush::ByteSink&) override { return hush::ok_status(); }

 private:
  const hush::SecretArray<32>& key_;
  std::uint64_t size_;
};

// Hands out a fixed key first (so the store knows it), then system randomness.
class KnownKeyRandom final : public hush::RandomSource {
 public:
  explicit KnownKeyRandom(const hush::SecretArray<32>& key) : key_(key) {}
  Status fill(std::span<std::uint8_t> out) override {
    if (!used_ && out.size() == 32) {
      used_ = true;
      std::copy(key_.expose().begin(), key_.expose().end(), out.begin());
      return hush::ok_status();
    }
    return hush::system_random().fill(out);
  }

 private:
  const hush::SecretArray<32>& key_;
  bool used_ = false;
};

int peak_memory() {
  const std::uint64_t size = 1024 * kMiB;
  const long before = peak_rss_kib();
  hush::SecretArray<32> key;
  must(hush::system_random().fill(key.expose_mut()));
  KnownKeyRandom random(key);
  hush::Context ctx{random, hush::system_clock(), nullptr};
  DecryptingStore store(key, size);
  PatternSource src(size);
  must(hush::upload_attachment(ctx, store, src, size, "application/octet-stream", "big.bin"));
  const long after = peak_rss_kib();
  std::printf(
      "1 GiB encrypted, uploaded and decrypted as streamed: peak RSS %ld KiB before, %ld "
      "KiB after (+%ld KiB)\n",
      before, after, after - before);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "--peak-memory") == 0) return peak_memory();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
