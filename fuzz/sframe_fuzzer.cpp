// hush fuzz target: SFrame (include/hush/sframe.h) on untrusted frames.
//
// The first byte picks the mode (bit 0) and the cipher suite (bits 1-3, modulo 5).
//
// Mode 0, raw frames: bits 4-7 of the first byte are a metadata length, those bytes follow, and
// the rest is a frame. parse_sframe_header must either fail with kMalformedHeader or give a
// header whose shortest encoding is exactly the bytes it took. The frame then goes to a receiver
// holding keys for key ids 0-7, 300 and 0x1234567890 (fixed base keys): a failure must carry a
// documented error; a success (a seed, or a guessed short tag) must be a frame the sender would
// make: re-encrypting the plaintext under the frame's key id and counter gives the frame back, and
// decrypting it again is refused as a replay.
//
// Mode 1, a script (FuzzedDataProvider): four senders (key ids 0-3) and one receiver; actions make
// senders at chosen counters (near 0 or near 2^64), encrypt frames, deliver them as they are,
// altered or truncated, in any order and any number of times, and remove and add keys. A model
// of the replay window (RFC 3711 §3.3.2 with kSframeReplayWindow counters) says what each genuine
// delivery must give; altered and truncated frames must be refused without changing anything.
//
// Linked against hush_fuzz_real: SFrame has no fuzzing-mode bypass, the real tags are checked.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include <hush/hush.h>

#include "fuzz_common.h"

using namespace hush;

namespace {

constexpr SframeCipherSuite kSuites[] = {
    SframeCipherSuite::kAes128CtrHmacSha256_80, SframeCipherSuite::kAes128CtrHmacSha256_64,
    SframeCipherSuite::kAes128CtrHmacSha256_32, SframeCipherSuite::kAes128GcmSha256_128,
    SframeCipherSuite::kAes256GcmSha512_128};

constexpr std::uint64_t kRawKeyIds[] = {0, 1, 2, 3, 4, 5, 6, 7, 300, 0x1234567890ULL};

SecretBytes base_key(std::uint64_t key_id) {
  return fuzz::sframe_base_key(key_id);
}

bool documented_decrypt_error(Errc e) {
  return e == Errc::kMalformedHeader || e == Errc::kUnknownKeyId ||
         e == Errc::kAuthenticationFailed || e == Errc::kReplayedFrame || e == Errc::kFrameTooLarge;
}

void raw(SframeCipherSuite suite, std::size_t metadata_size, ByteView input) {
  if (input.size() < metadata_size) return;
  const ByteView metadata = input.first(metadata_size);
  const ByteView frame = input.subspan(metadata_size);

  auto parsed = parse_sframe_header(frame);
  if (!parsed) {
    fuzz::check(parsed.error().code() == Errc::kMalformedHeader, "parse: undocumented error");
  } else {
    fuzz::check(parsed->size >= 1 && parsed->size <= kSframeMaxHeaderSize, "header size");
    const Bytes again = encode_sframe_header(parsed->header);
    fuzz::check(
        again == Bytes(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(parsed->size)),
        "a parsed header does not re-encode to its bytes");
  }

  SframeReceiver receiver(suite);
  for (std::uint64_t kid : kRawKeyIds)
    fuzz::check(receiver.add_key(kid, base_key(kid)).has_value(), "add_key");
  auto plain = receiver.decrypt(metadata, frame);
  if (!plain) {
    fuzz::check(documented_decrypt_error(plain.error().code()), "decrypt: undocumented error");
    fuzz::check(parsed || plain.error().code() == Errc::kMalformedHeader,
                "decrypt and parse disagree on the header");
    return;
  }
  fuzz::check(parsed.has_value(), "a frame without a header decrypted");
  auto sender = SframeSender::create(suite, parsed->header.key_id, base_key(parsed->header.key_id),
                                     parsed->header.counter);
  fuzz::check(sender.has_value(), "SframeSender::create");
  auto remade = sender->encrypt(metadata, plain->expose());
  fuzz::check(remade.has_value() && *remade == Bytes(frame.begin(), frame.end()),
              "a decrypted frame is not what the sender makes of its plaintext");
  auto replay = receiver.decrypt(metadata, frame);
  fuzz::check(!replay && replay.error().code() == Errc::kReplayedFrame, "a frame decrypted twice");
}

/// The replay window as the specification describes it, for one key id.
struct WindowModel {
  std::optional<std::uint64_t> top;
  std::set<std::uint64_t> seen;
  bool acceptable(std::uint64_t c) const {
    if (!top || c > *top) return true;
    if (*top - c >= kSframeReplayWindow) return false;
    return seen.count(c) == 0;
  }
  void accept(std::uint64_t c) {
    if (!top || c > *top) top = c;
    seen.insert(c);
    while (!seen.empty() && *top - *seen.begin() >= kSframeReplayWindow)
      seen.erase(seen.begin());
  }
};

struct Sent {
  std::uint64_t key_id;
  std::uint64_t counter;
  Bytes metadata;
  Bytes plaintext;
  Bytes frame;
};

void script(SframeCipherSuite suite, FuzzedDataProvider& in) {
  constexpr std::size_t kSenders = 4;
  constexpr std::size_t kMaxPending = 64;
  std::vector<std::optional<SframeSender>> senders(kSenders);
  SframeReceiver receiver(suite);
  std::map<std::uint64_t, WindowModel> model;  // key ids the receiver holds
  for (std::uint64_t kid = 0; kid < kSenders; ++kid) {
    fuzz::check(receiver.add_key(kid, base_key(kid)).has_value(), "add_key");
    model[kid];
  }
  std::vector<Sent> pending;

  // Checks that a refused delivery changed nothing: the receiver still holds the same keys.
  const auto unchanged = [&]() {
    fuzz::check(receiver.key_count() == model.size(), "a refusal changed the keys");
  };

  for (int steps = 0; steps < 200 && in.remaining_bytes() > 0; ++steps) {
    const auto k = in.ConsumeIntegralInRange<std::uint64_t>(0, kSenders - 1);
    switch (in.ConsumeIntegralInRange<int>(0, 6)) {
      case 0: {  // a sender for key id k at a chosen counter
        std::uint64_t start = in.ConsumeIntegral<std::uint16_t>();
        if (in.ConsumeBool()) start = std::numeric_limits<std::uint64_t>::max() - start % 4;
        auto s = SframeSender::create(suite, k, base_key(k), start);
        fuzz::check(s.has_value(), "SframeSender::create");
        senders[k].emplace(std::move(s).value());
        break;
      }
      case 1: {  // encrypt a frame
        if (!senders[k]) break;
        const Bytes metadata =
            in.ConsumeBytes<std::uint8_t>(in.ConsumeIntegralInRange<std::size_t>(0, 8));
        const Bytes plaintext =
            in.ConsumeBytes<std::uint8_t>(in.ConsumeIntegralInRange<std::size_t>(0, 300));
        const std::uint64_t counter = senders[k]->next_counter();
        const bool was_last = counter == std::numeric_limits<std::uint64_t>::max();
        auto frame = senders[k]->encrypt(metadata, plaintext);
        if (!frame) {
          fuzz::check(frame.error().code() == Errc::kCounterExhausted,
                      "encrypt failed other than by exhaustion");
          break;
        }
        fuzz::check(parse_sframe_header(*frame)->header == SframeHeader{k, counter},
                    "a frame carries another key id or counter");
        fuzz::check(was_last || senders[k]->next_counter() == counter + 1, "counter step");
        if (pending.size() < kMaxPending)
          pending.push_back({k, counter, metadata, plaintext, std::move(frame).value()});
        break;
      }
      case 2: {  // deliver a frame as it is
        if (pending.empty()) break;
        const Sent& s = pending[in.ConsumeIntegralInRange<std::size_t>(0, pending.size() - 1)];
        auto got = receiver.decrypt(s.metadata, s.frame);
        const auto m = model.find(s.key_id);
        if (m == model.end()) {
          fuzz::check(!got && got.error().code() == Errc::kUnknownKeyId, "a removed key decrypts");
        } else if (m->second.acceptable(s.counter)) {
          fuzz::check(got.has_value(), "a genuine frame within the window was refused");
          fuzz::check(Bytes(got->expose().begin(), got->expose().end()) == s.plaintext,
                      "a frame decrypted to another plaintext");
          m->second.accept(s.counter);
        } else {
          fuzz::check(!got && got.error().code() == Errc::kReplayedFrame,
                      "a replayed or too old frame was not refused as a replay");
        }
        break;
      }
      case 3: {  // deliver an altered frame (or the right frame with other metadata)
        if (pending.empty()) break;
        const Sent& s = pending[in.ConsumeIntegralInRange<std::size_t>(0, pending.size() - 1)];
        Bytes frame = s.frame;
        Bytes metadata = s.metadata;
        const auto flip = in.ConsumeIntegralInRange<std::uint8_t>(1, 255);
        const auto at = in.ConsumeIntegralInRange<std::size_t>(0, frame.size() + metadata.size());
        if (at < frame.size()) {
          frame[at] ^= flip;
        } else if (at - frame.size() < metadata.size()) {
          metadata[at - frame.size()] ^= flip;
        } else {
          metadata.push_back(flip);
        }
        auto got = receiver.decrypt(metadata, frame);
        // A short tag can be hit by chance (2^-32 for the _32 suite); a frame altered only in a
        // header that then names another held key id and counter cannot authenticate either.
        fuzz::check(!got, "an altered frame was accepted");
        fuzz::check(documented_decrypt_error(got.error().code()), "undocumented error");
        unchanged();
        break;
      }
      case 4: {  // deliver a truncated frame
        if (pending.empty()) break;
        const Sent& s = pending[in.ConsumeIntegralInRange<std::size_t>(0, pending.size() - 1)];
        const auto n = in.ConsumeIntegralInRange<std::size_t>(0, s.frame.size() - 1);
        auto got = receiver.decrypt(s.metadata, ByteView(s.frame).first(n));
        fuzz::check(!got && documented_decrypt_error(got.error().code()),
                    "a truncated frame was not refused");
        unchanged();
        break;
      }
      case 5: {  // remove key id k
        const auto st = receiver.remove_key(k);
        fuzz::check(st.has_value() == (model.erase(k) == 1), "remove_key disagrees");
        break;
      }
      case 6: {  // add key id k (again): a fresh window
        const auto st = receiver.add_key(k, base_key(k));
        const bool held = model.count(k) != 0;
        fuzz::check(st.has_value() != held, "add_key disagrees");
        if (!held) model[k];
        break;
      }
      default:
        break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t selector = data[0];
  const SframeCipherSuite suite = kSuites[((selector >> 1) & 0x07) % 5];
  if ((selector & 1) == 0) {
    raw(suite, selector >> 4, ByteView(data + 1, size - 1));
  } else {
    FuzzedDataProvider in(data + 1, size - 1);
    script(suite, in);
  }
  return 0;
}
