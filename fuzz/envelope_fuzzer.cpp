// hush fuzz target: Messenger::receive and Messenger::envelope_sender on arbitrary envelope bytes,
// at bob's side of the fixed session (fuzz_common.h), restored from its snapshot for every input.
// envelope_sender must fail exactly when receive fails on the envelope itself, with the same
// error; a failed receive must leave bob's store byte-for-byte unchanged (but for the record of
// an envelope to ask for again: healing's follow-up); a successful one names the envelope's
// sender, and the same envelope then fails (a replay) without changing the store. The directory
// holds the device lists of alice, bob and carol (bob has seen them already), and no keys.
//
// Links the real library (hush_fuzz_real): only a genuine message can decrypt, so the seeds are
// envelopes around genuine messages (written by tests/integration/fuzz_corpus_test.cpp).
#include <cstddef>
#include <cstdint>

#include <hush/hush.h>

#include "fuzz_common.h"

using namespace hush;

namespace {

struct Setup {
  Setup() {
    // carol is the device fuzz_corpus_test.cpp sends prekey messages from.
    auto carol = fuzz::make_device("carol", 3, 0);
    for (const fuzz::Device* d : {session.alice.get(), session.bob.get(), carol.get()})
      directory.lists[d->address.name] = fuzz::device_list_of(*d);
    fuzz::CaptureTransport transport;
    Messenger bob(session.bob->ctx, *session.bob->store, transport, directory,
                  session.bob->address);
    fuzz::check(bob.devices("alice").has_value() && bob.devices("carol").has_value(),
                "bob learns the device lists");
    bob_snapshot = fuzz::snapshot(*session.bob->store);
  }
  fuzz::FixedSession session = fuzz::build_fixed_session();
  fuzz::ListDirectory directory;
  Bytes bob_snapshot;
};

const Setup& setup() {
  static const Setup* s = new Setup();
  return *s;
}

bool envelope_error(Errc code) {
  return code == Errc::kLimitExceeded || code == Errc::kInvalidProtobuf ||
         code == Errc::kInvalidMessage;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Setup& s = setup();
  const ByteView input(data, size);
  auto restored = InMemoryProtocolStore::deserialize(s.bob_snapshot);
  fuzz::check(restored.has_value(), "restore bob's store");
  InMemoryProtocolStore& store = **restored;
  fuzz::FuzzRandom random(43);
  fuzz::FuzzClock clock;
  const Context ctx{random, clock, nullptr};
  fuzz::CaptureTransport transport;
  fuzz::ListDirectory directory = s.directory;
  // Without delivery receipts: this target checks that receiving sends nothing by itself (the
  // content target checks receipts).
  MessengerOptions quiet;
  quiet.delivery_receipts = false;
  Messenger bob(ctx, store, transport, directory, s.session.bob->address, quiet);

  auto sender = Messenger::envelope_sender(input);
  auto received = bob.receive(input);
  if (!sender) {
    fuzz::check(envelope_error(sender.error().code()), "envelope_sender: undocumented error");
    fuzz::check(!received && received.error().code() == sender.error().code(),
                "receive and envelope_sender disagree on a malformed envelope");
  }
  if (!received) {
    // A prekey message that authenticates under another identity than its sender's trusted one
    // (another device's message relabelled) keeps the pending identity change, by design.
    const bool untrusted = received.error().code() == Errc::kUntrustedIdentity;
    fuzz::check(fuzz::snapshot_without_healing(store, untrusted) == s.bob_snapshot,
                "a failed receive changed the store");
    return 0;
  }
  fuzz::check(sender.has_value(), "receive took what envelope_sender refused");
  if (*received)
    fuzz::check((*received)->sender == *sender,
                "receive names another sender than envelope_sender");
  fuzz::check(transport.last.empty(), "receive sent something");
  const Bytes after = fuzz::snapshot(store);
  auto again = bob.receive(input);
  fuzz::check(!again.has_value(), "an envelope was received twice");
  fuzz::check(fuzz::snapshot(store) == after, "a refused replay changed the store");
  return 0;
}
