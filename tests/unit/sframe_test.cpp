// hush unit tests: SFrame senders and receivers (include/hush/sframe.h) beyond the RFC's vectors:
// round trips in every suite, the replay window, tampering, wrong and unknown keys, truncation,
// counter exhaustion, malformed headers and the limits. Every refusal also checks that the
// receiver's state did not change (the genuine frame still decrypts afterwards, exactly once).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>

#include <hush/bytes.h>
#include <hush/limits.h>
#include <hush/secret.h>
#include <hush/sframe.h>

namespace {

using hush::Bytes;
using hush::ByteView;
using hush::Errc;
using hush::SecretBytes;
using hush::SframeCipherSuite;
using hush::SframeReceiver;
using hush::SframeSender;

constexpr SframeCipherSuite kAllSuites[] = {
    SframeCipherSuite::kAes128CtrHmacSha256_80, SframeCipherSuite::kAes128CtrHmacSha256_64,
    SframeCipherSuite::kAes128CtrHmacSha256_32, SframeCipherSuite::kAes128GcmSha256_128,
    SframeCipherSuite::kAes256GcmSha512_128};

SecretBytes key_bytes(std::uint8_t fill, std::size_t size = 32) {
  SecretBytes k(size);
  for (std::size_t i = 0; i < size; ++i)
    k.expose_mut()[i] = static_cast<std::uint8_t>(fill + i);
  return k;
}

Bytes payload(std::size_t n, std::uint8_t seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i)
    b[i] = static_cast<std::uint8_t>(seed * 31 + i * 7);
  return b;
}

Bytes plain(const SecretBytes& s) {
  return Bytes(s.expose().begin(), s.expose().end());
}

SframeSender make_sender(SframeCipherSuite suite, std::uint64_t kid, std::uint8_t fill,
                         std::uint64_t counter = 0) {
  auto s = SframeSender::create(suite, kid, key_bytes(fill), counter);
  REQUIRE(s);
  return std::move(s).value();
}

Bytes must_encrypt(SframeSender& s, ByteView metadata, ByteView pt) {
  auto f = s.encrypt(metadata, pt);
  REQUIRE(f);
  return std::move(f).value();
}

Errc decrypt_error(SframeReceiver& r, ByteView metadata, ByteView frame) {
  auto p = r.decrypt(metadata, frame);
  REQUIRE_FALSE(p);
  return p.error().code();
}

const Bytes kMeta = {'r', 't', 'p'};

}  // namespace

static_assert(!std::is_copy_constructible_v<SframeSender> &&
              !std::is_copy_assignable_v<SframeSender>);
static_assert(!std::is_copy_constructible_v<SframeReceiver> &&
              !std::is_copy_assignable_v<SframeReceiver>);
static_assert(std::is_nothrow_move_constructible_v<SframeSender> &&
              std::is_nothrow_move_constructible_v<SframeReceiver>);

TEST_CASE("SFrame round trip in every suite", "[unit]") {
  for (SframeCipherSuite suite : kAllSuites) {
    INFO("suite " << static_cast<int>(suite));
    SframeSender sender = make_sender(suite, 42, 1);
    SframeReceiver receiver(suite);
    REQUIRE(receiver.add_key(42, key_bytes(1)));
    for (std::size_t n :
         {std::size_t{0}, std::size_t{1}, std::size_t{15}, std::size_t{16}, std::size_t{17},
          std::size_t{160}, std::size_t{1200}, std::size_t{70000}}) {
      const Bytes pt = payload(n, static_cast<std::uint8_t>(n));
      const Bytes frame = must_encrypt(sender, kMeta, pt);
      auto parsed = hush::parse_sframe_header(frame);
      REQUIRE(parsed);
      CHECK(parsed->header.key_id == 42);
      CHECK(frame.size() == parsed->size + n + hush::sframe_tag_size(suite));
      auto back = receiver.decrypt(kMeta, frame);
      REQUIRE(back);
      CHECK(plain(*back) == pt);
    }
    // encrypt_into / decrypt_into give the same bytes without allocating.
    const Bytes pt = payload(160, 9);
    Bytes out(pt.size() + hush::kSframeMaxOverhead);
    auto n = sender.encrypt_into(kMeta, pt, out);
    REQUIRE(n);
    Bytes back(*n);
    auto m = receiver.decrypt_into(kMeta, ByteView(out).first(*n), back);
    REQUIRE(m);
    CHECK(Bytes(back.begin(), back.begin() + static_cast<std::ptrdiff_t>(*m)) == pt);
  }
}

TEST_CASE("SFrame counters start where asked and never repeat", "[unit]") {
  SframeSender sender = make_sender(SframeCipherSuite::kAes128GcmSha256_128, 3, 1, 1000);
  CHECK(sender.next_counter() == 1000);
  const Bytes a = must_encrypt(sender, kMeta, payload(10, 1));
  const Bytes b = must_encrypt(sender, kMeta, payload(10, 1));
  CHECK(hush::parse_sframe_header(a)->header.counter == 1000);
  CHECK(hush::parse_sframe_header(b)->header.counter == 1001);
  CHECK(a != b);  // same plaintext, different nonce
  CHECK(sender.next_counter() == 1002);
  // A failed encryption uses up no counter.
  Bytes small(5);
  auto too_small = sender.encrypt_into(kMeta, payload(10, 1), small);
  REQUIRE_FALSE(too_small);
  CHECK(too_small.error().code() == Errc::kInvalidArgument);
  CHECK(sender.next_counter() == 1002);
}

TEST_CASE("SFrame sender refuses to wrap its counter", "[unit]") {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  for (SframeCipherSuite suite : kAllSuites) {
    SframeSender sender = make_sender(suite, 9, 2, kMax - 1);
    SframeReceiver receiver(suite);
    REQUIRE(receiver.add_key(9, key_bytes(2)));
    const Bytes a = must_encrypt(sender, {}, payload(20, 1));
    CHECK(sender.next_counter() == kMax);
    const Bytes b = must_encrypt(sender, {}, payload(20, 2));
    CHECK(hush::parse_sframe_header(b)->header.counter == kMax);
    for (int i = 0; i < 3; ++i) {
      auto c = sender.encrypt({}, payload(20, 3));
      REQUIRE_FALSE(c);
      CHECK(c.error().code() == Errc::kCounterExhausted);
    }
    REQUIRE(receiver.decrypt({}, a));
    REQUIRE(receiver.decrypt({}, b));
    CHECK(decrypt_error(receiver, {}, b) == Errc::kReplayedFrame);
  }
}

TEST_CASE("SFrame replay window refuses duplicates and frames too old", "[unit]") {
  const auto suite = SframeCipherSuite::kAes128CtrHmacSha256_80;
  SframeSender sender = make_sender(suite, 7, 3);
  SframeReceiver receiver(suite);
  REQUIRE(receiver.add_key(7, key_bytes(3)));
  std::vector<Bytes> frames;
  for (int i = 0; i < 300; ++i)
    frames.push_back(must_encrypt(sender, kMeta, payload(30, static_cast<std::uint8_t>(i))));

  REQUIRE(receiver.decrypt(kMeta, frames[0]));
  CHECK(decrypt_error(receiver, kMeta, frames[0]) == Errc::kReplayedFrame);
  // Jump ahead to counter 200: counters 73..199 (within 128 of it) are still welcome, once;
  // 72 and below are refused as too old to tell from a replay.
  REQUIRE(receiver.decrypt(kMeta, frames[200]));
  CHECK(decrypt_error(receiver, kMeta, frames[200]) == Errc::kReplayedFrame);
  CHECK(decrypt_error(receiver, kMeta, frames[72]) == Errc::kReplayedFrame);
  CHECK(decrypt_error(receiver, kMeta, frames[1]) == Errc::kReplayedFrame);
  REQUIRE(receiver.decrypt(kMeta, frames[73]));
  CHECK(decrypt_error(receiver, kMeta, frames[73]) == Errc::kReplayedFrame);
  REQUIRE(receiver.decrypt(kMeta, frames[199]));
  REQUIRE(receiver.decrypt(kMeta, frames[150]));
  CHECK(decrypt_error(receiver, kMeta, frames[150]) == Errc::kReplayedFrame);
  // Moving the top by 64 and by more than the window keeps what should be kept.
  REQUIRE(receiver.decrypt(kMeta, frames[264]));
  CHECK(decrypt_error(receiver, kMeta, frames[199]) == Errc::kReplayedFrame);  // seen, still in
  CHECK(decrypt_error(receiver, kMeta, frames[136]) == Errc::kReplayedFrame);  // 128 behind
  REQUIRE(receiver.decrypt(kMeta, frames[137]));                               // 127 behind
  CHECK(decrypt_error(receiver, kMeta, frames[200]) == Errc::kReplayedFrame);
  REQUIRE(receiver.decrypt(kMeta, frames[201]));
}

TEST_CASE("SFrame replay window: any order within the window decrypts each frame once",
          "[unit][property]") {
  const auto suite = SframeCipherSuite::kAes128GcmSha256_128;
  const auto seed = static_cast<std::uint32_t>(GENERATE(take(20, random(1, 1000000))));
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  SframeSender sender = make_sender(suite, 1, 4);
  SframeReceiver receiver(suite);
  REQUIRE(receiver.add_key(1, key_bytes(4)));
  // Frames are delivered in blocks of 128 shuffled within each block, with duplicates: every
  // frame decrypts exactly once, duplicates are refused.
  std::vector<Bytes> frames;
  for (int i = 0; i < 512; ++i)
    frames.push_back(must_encrypt(sender, {}, payload(8, static_cast<std::uint8_t>(i))));
  std::vector<int> order(frames.size());
  std::iota(order.begin(), order.end(), 0);
  for (std::size_t block = 0; block < order.size(); block += 128)
    std::shuffle(order.begin() + static_cast<std::ptrdiff_t>(block),
                 order.begin() + static_cast<std::ptrdiff_t>(block + 128), rng);
  int accepted = 0;
  for (int i : order) {
    auto r = receiver.decrypt({}, frames[static_cast<std::size_t>(i)]);
    if (r) ++accepted;
    // A duplicate right away is refused.
    CHECK(decrypt_error(receiver, {}, frames[static_cast<std::size_t>(i)]) == Errc::kReplayedFrame);
  }
  // Within a block the highest counter may come first, so all of its block is within 127 of it;
  // but a frame of block k is up to 255 behind a frame of block k+1 only after that block began,
  // which the block order excludes: everything decrypts.
  CHECK(accepted == 512);
}

TEST_CASE("SFrame refuses every flipped byte and altered metadata", "[unit]") {
  for (SframeCipherSuite suite : kAllSuites) {
    INFO("suite " << static_cast<int>(suite));
    SframeSender sender = make_sender(suite, 300, 5, 70000);  // long-form kid and counter
    SframeReceiver receiver(suite);
    REQUIRE(receiver.add_key(300, key_bytes(5)));
    const Bytes pt = payload(64, 5);
    const Bytes frame = must_encrypt(sender, kMeta, pt);
    for (std::size_t i = 0; i < frame.size(); ++i) {
      for (std::uint8_t mask : {std::uint8_t{0x01}, std::uint8_t{0x80}, std::uint8_t{0xff}}) {
        Bytes bad = frame;
        bad[i] ^= mask;
        INFO("byte " << i << " mask " << int{mask});
        auto r = receiver.decrypt(kMeta, bad);
        REQUIRE_FALSE(r);
        const Errc e = r.error().code();
        CHECK((e == Errc::kAuthenticationFailed || e == Errc::kMalformedHeader ||
               e == Errc::kUnknownKeyId));
      }
    }
    Bytes other_meta = kMeta;
    other_meta[0] ^= 1;
    CHECK(decrypt_error(receiver, other_meta, frame) == Errc::kAuthenticationFailed);
    CHECK(decrypt_error(receiver, {}, frame) == Errc::kAuthenticationFailed);
    // Nothing of that changed the receiver: the genuine frame decrypts, once.
    auto ok = receiver.decrypt(kMeta, frame);
    REQUIRE(ok);
    CHECK(plain(*ok) == pt);
    CHECK(decrypt_error(receiver, kMeta, frame) == Errc::kReplayedFrame);
  }
}

TEST_CASE("SFrame refuses every truncation", "[unit]") {
  for (SframeCipherSuite suite : kAllSuites) {
    SframeSender sender = make_sender(suite, 1000, 6, 5000);
    SframeReceiver receiver(suite);
    REQUIRE(receiver.add_key(1000, key_bytes(6)));
    const Bytes frame = must_encrypt(sender, kMeta, payload(40, 6));
    const std::size_t header = hush::parse_sframe_header(frame)->size;
    for (std::size_t n = 0; n < frame.size(); ++n) {
      const Errc e = decrypt_error(receiver, kMeta, ByteView(frame).first(n));
      CHECK(e == (n < header ? Errc::kMalformedHeader : Errc::kAuthenticationFailed));
    }
    // Bytes appended are refused too.
    Bytes longer = frame;
    longer.push_back(0);
    CHECK(decrypt_error(receiver, kMeta, longer) == Errc::kAuthenticationFailed);
    REQUIRE(receiver.decrypt(kMeta, frame));
  }
}

TEST_CASE("SFrame wrong key and other suite are refused without a state change", "[unit]") {
  for (SframeCipherSuite suite : kAllSuites) {
    SframeSender sender = make_sender(suite, 5, 7);
    const Bytes frame = must_encrypt(sender, kMeta, payload(100, 7));
    SframeReceiver wrong(suite);
    REQUIRE(wrong.add_key(5, key_bytes(8)));
    CHECK(decrypt_error(wrong, kMeta, frame) == Errc::kAuthenticationFailed);
    // The same base key under another key id derives another key (the label holds the kid).
    SframeSender other_kid = make_sender(suite, 6, 7);
    const Bytes frame6 = must_encrypt(other_kid, kMeta, payload(100, 7));
    Bytes relabelled = frame6;
    relabelled[0] = frame[0];  // short-form kid 6 -> 5, same counter
    SframeReceiver right(suite);
    REQUIRE(right.add_key(5, key_bytes(7)));
    CHECK(decrypt_error(right, kMeta, relabelled) == Errc::kAuthenticationFailed);
    // Every other suite refuses it.
    for (SframeCipherSuite other : kAllSuites) {
      if (other == suite) continue;
      SframeReceiver r(other);
      REQUIRE(r.add_key(5, key_bytes(7)));
      CHECK(decrypt_error(r, kMeta, frame) == Errc::kAuthenticationFailed);
    }
    REQUIRE(right.decrypt(kMeta, frame));
  }
}

TEST_CASE("SFrame unknown key id changes nothing and decrypts once the key arrives", "[unit]") {
  const auto suite = SframeCipherSuite::kAes256GcmSha512_128;
  SframeSender sender = make_sender(suite, 0x1234567890ULL, 9);
  const Bytes frame = must_encrypt(sender, kMeta, payload(50, 9));
  SframeReceiver receiver(suite);
  CHECK(decrypt_error(receiver, kMeta, frame) == Errc::kUnknownKeyId);
  REQUIRE(receiver.add_key(1, key_bytes(9)));
  CHECK(decrypt_error(receiver, kMeta, frame) == Errc::kUnknownKeyId);
  REQUIRE(receiver.add_key(0x1234567890ULL, key_bytes(9)));
  CHECK(receiver.key_count() == 2);
  REQUIRE(receiver.decrypt(kMeta, frame));
  // Removing the key wipes it: the next frame is refused.
  REQUIRE(receiver.remove_key(0x1234567890ULL));
  CHECK_FALSE(receiver.has_key(0x1234567890ULL));
  const Bytes next = must_encrypt(sender, kMeta, payload(50, 10));
  CHECK(decrypt_error(receiver, kMeta, next) == Errc::kUnknownKeyId);
  auto again = receiver.remove_key(0x1234567890ULL);
  REQUIRE_FALSE(again);
  CHECK(again.error().code() == Errc::kUnknownKeyId);
}

TEST_CASE("SFrame receiver key management limits", "[unit]") {
  const auto suite = SframeCipherSuite::kAes128GcmSha256_128;
  SframeReceiver receiver(suite);
  for (std::uint64_t kid = 0; kid < hush::kMaxSframeReceiverKeys; ++kid)
    REQUIRE(receiver.add_key(kid * 1000, key_bytes(static_cast<std::uint8_t>(kid))));
  auto full = receiver.add_key(1, key_bytes(1));
  REQUIRE_FALSE(full);
  CHECK(full.error().code() == Errc::kLimitExceeded);
  CHECK(receiver.key_count() == hush::kMaxSframeReceiverKeys);
  auto dup = receiver.add_key(0, key_bytes(1));
  REQUIRE_FALSE(dup);
  CHECK(dup.error().code() == Errc::kInvalidArgument);
  REQUIRE(receiver.remove_key(0));
  REQUIRE(receiver.add_key(1, key_bytes(1)));

  SframeReceiver fresh(suite);
  for (std::size_t bad :
       {std::size_t{0}, hush::kMinSframeBaseKeyBytes - 1, hush::kMaxSframeBaseKeyBytes + 1}) {
    auto r = fresh.add_key(1, key_bytes(1, bad));
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::kInvalidKey);
    auto s = SframeSender::create(suite, 1, key_bytes(1, bad));
    REQUIRE_FALSE(s);
    CHECK(s.error().code() == Errc::kInvalidKey);
  }
  CHECK(fresh.key_count() == 0);
  REQUIRE(fresh.add_key(1, key_bytes(1, hush::kMinSframeBaseKeyBytes)));
  REQUIRE(fresh.add_key(2, key_bytes(1, hush::kMaxSframeBaseKeyBytes)));

  const auto unknown = static_cast<SframeCipherSuite>(0x0006);
  CHECK_FALSE(hush::is_known(unknown));
  auto s = SframeSender::create(unknown, 1, key_bytes(1));
  REQUIRE_FALSE(s);
  CHECK(s.error().code() == Errc::kInvalidArgument);
  SframeReceiver r(unknown);
  auto a = r.add_key(1, key_bytes(1));
  REQUIRE_FALSE(a);
  CHECK(a.error().code() == Errc::kInvalidArgument);
}

TEST_CASE("SFrame frames and metadata beyond the limits are refused", "[unit]") {
  const auto suite = SframeCipherSuite::kAes128GcmSha256_128;
  SframeSender sender = make_sender(suite, 1, 1);
  SframeReceiver receiver(suite);
  REQUIRE(receiver.add_key(1, key_bytes(1)));
  const Bytes big(hush::kMaxSframeFrameBytes + 1, 0);
  auto e = sender.encrypt({}, big);
  REQUIRE_FALSE(e);
  CHECK(e.error().code() == Errc::kFrameTooLarge);
  CHECK(sender.next_counter() == 0);
  const Bytes big_meta(hush::kMaxSframeMetadataBytes + 1, 0);
  auto m = sender.encrypt(big_meta, payload(10, 1));
  REQUIRE_FALSE(m);
  CHECK(m.error().code() == Errc::kFrameTooLarge);
  // The largest frame goes through.
  const Bytes largest(hush::kMaxSframeFrameBytes, 0x5a);
  const Bytes frame = must_encrypt(sender, {}, largest);
  REQUIRE(receiver.decrypt({}, frame));
  Bytes bigger_frame(hush::kMaxSframeFrameBytes + hush::kSframeMaxOverhead + 1, 0);
  CHECK(decrypt_error(receiver, {}, bigger_frame) == Errc::kFrameTooLarge);
  CHECK(decrypt_error(receiver, big_meta, frame) == Errc::kFrameTooLarge);
}

TEST_CASE("SFrame headers: shortest form only", "[unit]") {
  const auto malformed = [](const Bytes& b) {
    auto r = hush::parse_sframe_header(b);
    return !r && r.error().code() == Errc::kMalformedHeader;
  };
  CHECK(malformed({}));
  CHECK(malformed({0x80}));              // kid length 1, missing
  CHECK(malformed({0x80, 0x07}));        // kid 7 in long form
  CHECK(malformed({0x90, 0x00, 0x08}));  // kid 8 in two bytes: leading zero
  CHECK(malformed({0x08, 0x05}));        // ctr 5 in long form
  CHECK(malformed({0x09, 0x00, 0xff}));  // ctr with a leading zero
  CHECK(malformed({0x8f, 0x08, 0x01}));  // ctr of 8 bytes cut short
  CHECK_FALSE(malformed({0x80, 0x08}));
  // Every one-byte header is valid: both values short.
  for (int b = 0; b < 256; ++b) {
    const Bytes one = {static_cast<std::uint8_t>(b)};
    auto r = hush::parse_sframe_header(one);
    if ((b & 0x88) != 0) {
      CHECK_FALSE(r);
    } else {
      REQUIRE(r);
      CHECK(hush::encode_sframe_header(r->header) == one);
    }
  }
  // The longest header.
  const hush::SframeHeader h{~std::uint64_t{0}, ~std::uint64_t{0}};
  const Bytes longest = hush::encode_sframe_header(h);
  CHECK(longest.size() == hush::kSframeMaxHeaderSize);
  CHECK(hush::parse_sframe_header(longest)->header == h);
}

TEST_CASE("SFrame tag sizes follow the suites", "[unit]") {
  CHECK(hush::sframe_tag_size(SframeCipherSuite::kAes128CtrHmacSha256_80) == 10);
  CHECK(hush::sframe_tag_size(SframeCipherSuite::kAes128CtrHmacSha256_64) == 8);
  CHECK(hush::sframe_tag_size(SframeCipherSuite::kAes128CtrHmacSha256_32) == 4);
  CHECK(hush::sframe_tag_size(SframeCipherSuite::kAes128GcmSha256_128) == 16);
  CHECK(hush::sframe_tag_size(SframeCipherSuite::kAes256GcmSha512_128) == 16);
  CHECK(hush::to_string(Errc::kReplayedFrame) == "replayed_frame");
  CHECK(hush::to_string(Errc::kCounterExhausted) == "counter_exhausted");
  CHECK(hush::to_string(Errc::kMalformedHeader) == "malformed_header");
  CHECK(hush::to_string(Errc::kUnknownKeyId) == "unknown_key_id");
  CHECK(hush::to_string(Errc::kAuthenticationFailed) == "authentication_failed");
  CHECK(hush::to_string(Errc::kFrameTooLarge) == "frame_too_large");
}

TEST_CASE("SFrame decrypt_into leaves no plaintext behind on failure", "[unit]") {
  for (SframeCipherSuite suite : kAllSuites) {
    INFO("suite " << static_cast<int>(suite));
    SframeSender sender = make_sender(suite, 2, 11);
    SframeReceiver receiver(suite);
    REQUIRE(receiver.add_key(2, key_bytes(11)));
    const Bytes pt = payload(100, 11);
    Bytes frame = must_encrypt(sender, kMeta, pt);
    frame.back() ^= 0x01;  // the tag: the ciphertext itself is intact
    Bytes out(frame.size(), 0xaa);
    auto r = receiver.decrypt_into(kMeta, frame, out);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::kAuthenticationFailed);
    CHECK(std::all_of(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(pt.size()),
                      [](std::uint8_t b) { return b == 0; }));
    frame.back() ^= 0x01;
    REQUIRE(receiver.decrypt_into(kMeta, frame, out));
    CHECK(Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(pt.size())) == pt);
  }
}
