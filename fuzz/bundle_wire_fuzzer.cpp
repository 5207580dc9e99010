// hush fuzz target: the bundle formats a key directory or transport carries (untrusted input).
// The first byte picks the parser: bit 0 clear, PreKeyBundle::parse; set, PublishedKeys::parse.
// A failure must carry one of the documented error codes. Whatever parses must serialize to bytes
// that parse to an equal value, and serializing that value again must give the same bytes; a
// parsed bundle's validate() runs (its result is the signature's business), and the bundles a
// PublishedKeys hands out (with a one-time or last-resort Kyber prekey too) round-trip too.
#include <cstddef>
#include <cstdint>

#include <hush/hush.h>

#include "fuzz_common.h"

using namespace hush;

namespace {

// The errors PreKeyBundle::parse and PublishedKeys::parse document (kInvalidKemKey: a Kyber
// prekey of the wrong type or length; both carry them since version 4).
bool documented(Errc code) {
  return code == Errc::kLimitExceeded || code == Errc::kInvalidProtobuf ||
         code == Errc::kInvalidMessage || code == Errc::kInvalidKey ||
         code == Errc::kInvalidSignature || code == Errc::kInvalidKemKey;
}

void bundle_round_trip(const PreKeyBundle& bundle) {
  const Bytes bytes = bundle.serialize();
  fuzz::check(bytes.size() <= kMaxBundleBytes, "a serialized bundle exceeds kMaxBundleBytes");
  auto again = PreKeyBundle::parse(bytes);
  fuzz::check(again.has_value(), "a serialized bundle does not parse");
  fuzz::check(*again == bundle, "a bundle changed in a round trip");
  fuzz::check(again->serialize() == bytes, "bundle serialization is not stable");
  (void)bundle.validate();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const ByteView input(data + 1, size - 1);
  if ((data[0] & 1) == 0) {
    auto bundle = PreKeyBundle::parse(input);
    if (!bundle) {
      fuzz::check(documented(bundle.error().code()), "PreKeyBundle::parse: undocumented error");
      return 0;
    }
    bundle_round_trip(*bundle);
    return 0;
  }
  auto keys = PublishedKeys::parse(input);
  if (!keys) {
    fuzz::check(documented(keys.error().code()), "PublishedKeys::parse: undocumented error");
    return 0;
  }
  fuzz::check(keys->pre_keys.size() <= kMaxPublishedPreKeys, "more prekeys than the limit");
  fuzz::check(keys->kyber_pre_keys.size() <= kMaxPublishedKyberPreKeys,
              "more Kyber prekeys than the limit");
  const Bytes bytes = keys->serialize();
  auto again = PublishedKeys::parse(bytes);
  fuzz::check(again.has_value(), "serialized PublishedKeys do not parse");
  fuzz::check(*again == *keys, "PublishedKeys changed in a round trip");
  fuzz::check(again->serialize() == bytes, "PublishedKeys serialization is not stable");
  bundle_round_trip(keys->bundle(std::nullopt));
  if (!keys->pre_keys.empty()) bundle_round_trip(keys->bundle(keys->pre_keys.front()));
  if (keys->last_resort_kyber_pre_key)
    bundle_round_trip(keys->bundle(std::nullopt, keys->last_resort_kyber_pre_key));
  if (!keys->kyber_pre_keys.empty())
    bundle_round_trip(keys->bundle(std::nullopt, keys->kyber_pre_keys.front()));
  return 0;
}
