// hush: writes the sframe fuzz target's seeds (fuzz/corpus/sframe/; fuzz/README.md "Seeds").
//
// Hidden ([.corpus]); run it by hand with HUSH_FUZZ_CORPUS_DIR set, then minimise the output into
// fuzz/corpus/sframe with the fuzzer's -merge=1. The layouts are the ones sframe_fuzzer.cpp reads:
// raw frames behind a selector byte, and scripts in FuzzedDataProvider's layout (FdpWriter).
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <hush/hush.h>

#include "fuzz_common.h"

using namespace hush;

namespace {

constexpr SframeCipherSuite kSuites[] = {
    SframeCipherSuite::kAes128CtrHmacSha256_80, SframeCipherSuite::kAes128CtrHmacSha256_64,
    SframeCipherSuite::kAes128CtrHmacSha256_32, SframeCipherSuite::kAes128GcmSha256_128,
    SframeCipherSuite::kAes256GcmSha512_128};

void write(const std::filesystem::path& dir, const std::string& name, ByteView data) {
  std::filesystem::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  REQUIRE(out.good());
}

/// An integral consumed with ConsumeIntegralInRange(0, range): as many bytes as the range needs.
void in_range(fuzz::FdpWriter& w, std::uint64_t value, std::uint64_t range) {
  std::size_t n = 0;
  while (n < 8 && (range >> (8 * n)) != 0)
    ++n;
  if (n > 0) w.integral(value, n);
}

/// Writes the script fuzzer's steps, tracking what the harness will hold.
class Script {
 public:
  explicit Script(SframeCipherSuite suite) : suite_(suite) {}
  void sender(std::uint64_t k, std::uint16_t start, bool near_max) {
    step(k, 0);
    w_.u16(start);
    w_.boolean(near_max);
    std::uint64_t c = start;
    if (near_max) c = std::numeric_limits<std::uint64_t>::max() - start % 4;
    senders_.insert_or_assign(k,
                              SframeSender::create(suite_, k, fuzz::sframe_base_key(k), c).value());
  }
  void encrypt(std::uint64_t k, const Bytes& metadata, const Bytes& plaintext) {
    step(k, 1);
    in_range(w_, metadata.size(), 8);
    w_.bytes(metadata);
    in_range(w_, plaintext.size(), 300);
    w_.bytes(plaintext);
    auto f = senders_.at(k).encrypt(metadata, plaintext);
    if (f && frames_.size() < 64) frames_.push_back(f->size());
  }
  void deliver(std::size_t i) {
    step(0, 2);
    in_range(w_, i, frames_.size() - 1);
  }
  void alter(std::size_t i, std::uint8_t flip, std::size_t at, std::size_t metadata_size) {
    step(0, 3);
    in_range(w_, i, frames_.size() - 1);
    in_range(w_, flip - 1u, 254);
    in_range(w_, at, frames_[i] + metadata_size);
  }
  void truncate(std::size_t i, std::size_t n) {
    step(0, 4);
    in_range(w_, i, frames_.size() - 1);
    in_range(w_, n, frames_[i] - 1);
  }
  void remove_key(std::uint64_t k) { step(k, 5); }
  void add_key(std::uint64_t k) { step(k, 6); }
  Bytes finish(std::uint8_t suite_index) const {
    Bytes out{static_cast<std::uint8_t>(1 | (suite_index << 1))};
    const Bytes body = w_.finish();
    out.insert(out.end(), body.begin(), body.end());
    return out;
  }

 private:
  void step(std::uint64_t k, int action) {
    in_range(w_, k, 3);
    in_range(w_, static_cast<std::uint64_t>(action), 6);
  }
  SframeCipherSuite suite_;
  fuzz::FdpWriter w_;
  std::map<std::uint64_t, SframeSender> senders_;
  std::vector<std::size_t> frames_;  // sizes of the frames the harness keeps
};

}  // namespace

TEST_CASE("write the sframe fuzz seeds", "[.corpus]") {
  const char* root = std::getenv("HUSH_FUZZ_CORPUS_DIR");
  if (root == nullptr) {
    WARN("HUSH_FUZZ_CORPUS_DIR is not set; nothing written");
    return;
  }
  const std::filesystem::path dir = std::filesystem::path(root) / "sframe";
  const Bytes metadata = {'r', 't', 'p'};
  const Bytes audio(160, 0x42);
  for (std::uint8_t s = 0; s < 5; ++s) {
    const SframeCipherSuite suite = kSuites[s];
    // Raw frames the fuzzer's receiver decrypts: short and long key ids and counters.
    const std::uint64_t kids[] = {0, 7, 300, 0x1234567890ULL};
    const std::uint64_t counters[] = {0, 5, 1000, std::numeric_limits<std::uint64_t>::max()};
    for (std::size_t i = 0; i < 4; ++i) {
      auto sender =
          SframeSender::create(suite, kids[i], fuzz::sframe_base_key(kids[i]), counters[i]);
      REQUIRE(sender);
      auto frame = sender->encrypt(metadata, audio);
      REQUIRE(frame);
      Bytes seed{static_cast<std::uint8_t>((std::size_t{s} << 1) | (metadata.size() << 4))};
      seed.insert(seed.end(), metadata.begin(), metadata.end());
      seed.insert(seed.end(), frame->begin(), frame->end());
      // The seed decrypts as the fuzzer will read it.
      SframeReceiver r(suite);
      REQUIRE(r.add_key(kids[i], fuzz::sframe_base_key(kids[i])));
      REQUIRE(r.decrypt(metadata, *frame));
      write(dir, "raw-suite" + std::to_string(s + 1) + "-" + std::to_string(i), seed);
    }
    // A script: frames in and out of order, a replay, an altered and a truncated frame, a key
    // removed and added again (a fresh window), and a sender that runs out of counters.
    Script script(suite);
    script.sender(0, 0, false);
    for (int i = 0; i < 3; ++i)
      script.encrypt(0, metadata, Bytes(20, static_cast<std::uint8_t>(i)));
    script.deliver(2);
    script.deliver(0);
    script.deliver(2);
    script.alter(1, 0x01, 4, metadata.size());
    script.truncate(1, 5);
    script.deliver(1);
    script.remove_key(0);
    script.deliver(1);
    script.add_key(0);
    script.deliver(1);
    script.sender(1, 0, true);
    script.encrypt(1, {}, Bytes(10, 1));
    script.encrypt(1, {}, Bytes(10, 2));
    script.deliver(3);
    write(dir, "script-suite" + std::to_string(s + 1), script.finish(s));
  }
}
