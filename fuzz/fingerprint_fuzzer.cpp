// hush fuzz target: compare_scannable_fingerprints with a scanned fingerprint (untrusted: it comes
// from a camera). The first byte picks our side: bit 0 clear, alice's version 1 fingerprint with
// bob; set, version 0. The rest is what was scanned. The comparison must be symmetric (scanning
// either way gives the same answer or the same error), errors must be the documented ones, and
// what matches alice's fingerprint must not match bob's own.
#include <cstddef>
#include <cstdint>

#include <hush/hush.h>

#include "fuzz_common.h"

using namespace hush;

namespace {

struct Setup {
  Fingerprint alice_v1, bob_v1, alice_v0, bob_v0;
  Setup() {
    auto alice = fuzz::make_device("alice", 1, 0);
    auto bob = fuzz::make_device("bob", 2, 0);
    const IdentityKey a = alice->store->identity_key_pair()->public_key;
    const IdentityKey b = bob->store->identity_key_pair()->public_key;
    // Few iterations: the comparison, not the hashing, is under test.
    auto make = [&](bool from_alice, std::uint32_t version) {
      auto f = from_alice ? make_fingerprint(2, "alice", a, "bob", b, version)
                          : make_fingerprint(2, "bob", b, "alice", a, version);
      fuzz::check(f.has_value(), "make_fingerprint");
      return *f;
    };
    alice_v1 = make(true, 1);
    bob_v1 = make(false, 1);
    alice_v0 = make(true, 0);
    bob_v0 = make(false, 0);
    auto v1 = compare_scannable_fingerprints(alice_v1.scannable, bob_v1.scannable);
    fuzz::check(v1.has_value() && *v1, "genuine v1 fingerprints do not match");
    auto v0 = compare_scannable_fingerprints(alice_v0.scannable, bob_v0.scannable);
    fuzz::check(v0.has_value() && *v0, "genuine v0 fingerprints do not match");
  }
};

const Setup& setup() {
  static const Setup* s = new Setup();
  return *s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Setup& s = setup();
  const bool v0 = (data[0] & 1) != 0;
  const Bytes& ours = v0 ? s.alice_v0.scannable : s.alice_v1.scannable;
  const Bytes& genuine = v0 ? s.bob_v0.scannable : s.bob_v1.scannable;
  const ByteView scanned(data + 1, size - 1);

  auto forward = compare_scannable_fingerprints(ours, scanned);
  auto backward = compare_scannable_fingerprints(scanned, ours);
  fuzz::check(forward.has_value() == backward.has_value(), "comparison is not symmetric");
  if (!forward) {
    const Errc code = forward.error().code();
    fuzz::check(code == backward.error().code(), "comparison errors are not symmetric");
    fuzz::check(code == Errc::kInvalidProtobuf || code == Errc::kFingerprintVersionMismatch ||
                    code == Errc::kFingerprintIdentifierMismatch,
                "undocumented comparison error");
    return 0;
  }
  fuzz::check(*forward == *backward, "comparison is not symmetric");
  if (*forward) {
    // What matches alice's shows bob's half as its own and alice's as the remote one; bob's own
    // fingerprint must not accept it (that would need the two halves to be equal).
    auto with_genuine = compare_scannable_fingerprints(genuine, scanned);
    fuzz::check(!with_genuine.has_value() || !*with_genuine,
                "a scanned fingerprint matches both sides' own");
  }
  return 0;
}
