// hush fuzz target: process_prekey_bundle on bundles built from fuzzer bytes
// (FuzzedDataProvider; the layout is in fuzz_common.h, next to the writer the corpus uses) against
// alice's in-memory store, which already has a session with "bob" and trusts bob's identity. A
// failed call must leave the store byte-for-byte unchanged; a successful one must give a session
// that encrypts a PreKeySignalMessage carrying the bundle's ids.
//
// With "sign with bob's identity" set, the harness signs the fuzzed signed prekey with bob's real
// identity key, so that odd keys (low-order points, non-canonical encodings) get past the
// signature check and into X3DH.
//
// TODO(#4): when the wire format for bundles lands, fuzz its parser here as well (parse the input
// as a serialized bundle first, and run the same checks on whatever parses).
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include <hush/hush.h>

#include "crypto/fuzzing.h"
#include "fuzz_common.h"

using namespace hush;

namespace {

struct Setup {
  std::unique_ptr<fuzz::Device> alice = fuzz::make_device("alice", 1, 2);
  std::unique_ptr<fuzz::Device> bob = fuzz::make_device("bob", 2, 4);
  IdentityKeyPair bob_identity = bob->store->identity_key_pair().value();
  PublicKey alice_identity = alice->store->identity_key_pair().value().public_key;
  Bytes alice_snapshot;
  Setup() {
    fuzz::check(
        process_prekey_bundle(alice->ctx, *alice->store, bob->address, bob->bundle(PreKeyId{1}))
            .has_value(),
        "set-up bundle");
    alice_snapshot = fuzz::snapshot(*alice->store);
  }
};

const Setup& setup() {
  static const Setup* s = new Setup();
  return *s;
}

Result<PublicKey> key_from(FuzzedDataProvider& fdp, bool force_type) {
  Bytes b = fdp.ConsumeBytes<std::uint8_t>(PublicKey::kSerializedSize);
  if (force_type && !b.empty()) b[0] = PublicKey::kTypeByte;
  return PublicKey::parse(b);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
#if defined(FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
  internal::fuzzing_reset_random(0);
#endif
  const Setup& s = setup();
  FuzzedDataProvider fdp(data, size);

  // Integrals first (they come from the back of the input), in the documented order.
  const bool carol = (fdp.ConsumeIntegral<std::uint8_t>() & 1) != 0;
  PreKeyBundle bundle;
  bundle.registration_id = fdp.ConsumeIntegral<std::uint32_t>();
  bundle.device_id = DeviceId{fdp.ConsumeIntegral<std::uint32_t>()};
  const bool has_pre_key_id = fdp.ConsumeBool();
  const auto pre_key_id = PreKeyId{fdp.ConsumeIntegral<std::uint32_t>()};
  const bool has_pre_key = fdp.ConsumeBool();
  bundle.signed_pre_key_id = SignedPreKeyId{fdp.ConsumeIntegral<std::uint32_t>()};
  const bool force_spk = fdp.ConsumeBool();
  const bool force_identity = fdp.ConsumeBool();
  const bool force_pre_key = fdp.ConsumeBool();
  const bool sign_with_bob = fdp.ConsumeBool();

  // Then the byte fields, from the front.
  auto spk = key_from(fdp, force_spk);
  if (!spk) return 0;
  bundle.signed_pre_key = *spk;
  const Bytes sig = fdp.ConsumeBytes<std::uint8_t>(Signature::kSize);
  auto signature = Signature::parse(sig);
  if (!signature) return 0;
  bundle.signed_pre_key_signature = *signature;
  auto identity = key_from(fdp, force_identity);
  if (!identity) return 0;
  bundle.identity_key = *identity;
  if (has_pre_key) {
    auto pk = key_from(fdp, force_pre_key);
    if (!pk) return 0;
    bundle.pre_key = *pk;
  }
  if (has_pre_key_id) bundle.pre_key_id = pre_key_id;

  fuzz::FuzzRandom random(31);
  fuzz::FuzzClock clock;
  const Context ctx{random, clock, nullptr};
  if (sign_with_bob) {
    bundle.identity_key = s.bob_identity.public_key;
    auto signed_spk = s.bob_identity.private_key.sign(random, bundle.signed_pre_key.serialize());
    fuzz::check(signed_spk.has_value(), "sign");
    bundle.signed_pre_key_signature = *signed_spk;
  }

  auto store = InMemoryProtocolStore::deserialize(s.alice_snapshot);
  fuzz::check(store.has_value(), "restore alice");
  InMemoryProtocolStore& alice = **store;
  const Address peer{carol ? "carol" : "bob", DeviceId{1}};

  const bool valid = bundle.validate().has_value();
  auto st = process_prekey_bundle(ctx, alice, peer, bundle);
  if (!st) {
    fuzz::check(fuzz::snapshot(alice) == s.alice_snapshot, "failed call changed the store");
    return 0;
  }
  fuzz::check(valid, "an invalid bundle was processed");
  fuzz::check(bundle.pre_key_id.has_value() == bundle.pre_key.has_value(),
              "a bundle with a prekey id but no prekey (or the reverse) was processed");

  auto info = session_info(alice, peer);
  fuzz::check(info.has_value() && info->exists && info->has_unacknowledged_prekey &&
                  info->remote_identity == bundle.identity_key &&
                  info->remote_registration_id == bundle.registration_id,
              "session_info after processing a bundle");
  auto sent = encrypt_message(ctx, alice, peer, as_bytes("after bundle"));
  fuzz::check(sent.has_value(), "cannot encrypt after processing a bundle");
  const PreKeySignalMessage* m = sent->prekey_message();
  fuzz::check(m != nullptr, "first message is not a prekey message");
  fuzz::check(m->pre_key_id() == bundle.pre_key_id &&
                  m->signed_pre_key_id() == bundle.signed_pre_key_id &&
                  m->identity_key() == s.alice_identity,
              "prekey message does not carry the bundle's ids");
  auto reparsed = PreKeySignalMessage::parse(m->serialized());
  fuzz::check(reparsed.has_value(), "the prekey message does not parse");
  return 0;
}
