// hush fuzz target: what travels inside the encryption of a Messenger envelope (a Content: a
// message with its quote and group, a copy of our own message, a retry request, a receipt, a group
// update, a call message) as bob's Messenger::receive handles it,
// authenticated: the input is the plaintext alice's session encrypts, so every input reaches
// content parsing, the check of who may send which kind, the record of message ids already shown,
// and retry requests against bob's outbox (fuzz_common.h ContentSetup), restored for every input.
// Checks: an input that is not a Content of a kind alice may send fails with a content error and
// changes nothing at bob; a message shows with its text and quote, once (the same content again
// shows nothing), and makes bob send exactly its delivery receipt; a receipt shows nothing and
// sends nothing; a group update (bob holds no group) is refused with a typed error and changes
// nothing, unless it is a new group that lists bob from one of its admins, which bob then holds as
// sent; a retry request shows nothing, and bob sends again exactly when it names one of the
// envelopes he sent alice; a call message (bob holds no call) rings only as an offer from alice,
// answered with ringing, and is otherwise refused or changes nothing.
//
// Links the real library (hush_fuzz_real).
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include <hush/hush.h>

#include "fuzz_common.h"
#include "messenger/content.h"
#include "messenger/envelope.h"

using namespace hush;

namespace {

const fuzz::ContentSetup& setup() {
  static const fuzz::ContentSetup* s = new fuzz::ContentSetup();
  return *s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::ContentSetup& s = setup();
  const ByteView input(data, size);
  if (size > kMaxPlaintextBytes) return 0;
  auto alice_store = InMemoryProtocolStore::deserialize(s.alice_snapshot);
  auto bob_store = InMemoryProtocolStore::deserialize(s.bob_snapshot);
  fuzz::check(alice_store.has_value() && bob_store.has_value(), "restore the stores");
  fuzz::FuzzRandom random(44);
  fuzz::FuzzClock clock;
  const Context ctx{random, clock, nullptr};
  fuzz::ListDirectory directory = s.directory;
  fuzz::CaptureTransport transport;
  Messenger bob(ctx, **bob_store, transport, directory, s.bob->address);

  auto seal = [&]() {
    auto m = encrypt_message(ctx, **alice_store, s.bob->address, input);
    fuzz::check(m.has_value(), "alice encrypts");
    internal::EnvelopeId id{};
    id.fill(0xEE);
    return internal::build_envelope(s.alice->address, *m, id);
  };
  const Bytes before = fuzz::snapshot(**bob_store);
  auto parsed = internal::parse_content(input);
  auto received = bob.receive(seal());
  const bool group_update = parsed && parsed->kind == internal::ContentKind::kGroupUpdate;
  const bool call = parsed && parsed->kind == internal::ContentKind::kCall;
  if (!parsed || parsed->kind == internal::ContentKind::kSentCopy || (group_update && !received) ||
      (call && !received)) {
    fuzz::check(!received, "bob took a content that is not one alice may send");
    const Errc code = received.error().code();
    const bool group_error =
        group_update && (code == Errc::kUnknownGroup || code == Errc::kNotGroupAdmin ||
                         code == Errc::kNotGroupMember || code == Errc::kInvalidKey ||
                         code == Errc::kLegacyMessage || code == Errc::kInvalidVersion ||
                         code == Errc::kUnverifiedGroup || code == Errc::kStaleGroupRevision);
    const bool call_error = call && (code == Errc::kInvalidCallMessage ||
                                     code == Errc::kUnknownCall || code == Errc::kInvalidCallState);
    fuzz::check(code == Errc::kInvalidProtobuf || code == Errc::kInvalidMessage ||
                    code == Errc::kLimitExceeded || code == Errc::kAttachmentTooLarge ||
                    code == Errc::kInvalidCallMessage || group_error || call_error,
                "an undocumented content error");
    fuzz::check(fuzz::snapshot(**bob_store) == before, "a refused content changed bob's store");
    fuzz::check(transport.all.empty(), "a refused content made bob send");
    return 0;
  }
  fuzz::check(received.has_value(), "bob refused a valid content");
  if (group_update) {
    const internal::GroupUpdateParts& u = parsed->group_update;
    fuzz::check(!received->has_value() && transport.all.empty(), "a group update showed or sent");
    fuzz::check(u.state.has_value(), "bob took a key for a group he does not hold");
    auto held = bob.group(u.id);
    fuzz::check(held.has_value() && held->revision == u.revision &&
                    held->members == u.state->members && held->admins == u.state->admins &&
                    held->name == u.state->name && held->member,
                "bob holds another group than the one sent");
    fuzz::check(std::binary_search(u.state->admins.begin(), u.state->admins.end(), "alice"),
                "bob took a new group from one who is not its admin");
    return 0;
  }
  if (call) {
    // Bob holds no call: only a fresh offer from alice (as its host) rings, and bob says it rings;
    // an answer for no call is taken and answered with a hangup (the answering device must not
    // stay "in call"); the rest (late signals, keys, lists, a hangup, busy, ringing, answered
    // elsewhere, an offer too old) is taken and changes nothing else.
    using internal::CallMessageType;
    const internal::CallMessageParts& c = parsed->call;
    fuzz::check(!received->has_value(), "a call message showed a message");
    const bool offer = c.type == CallMessageType::kOffer;
    const bool rings = bob.call_media(c.id) != nullptr;
    fuzz::check(!rings || offer, "a call message other than an offer rang");
    fuzz::check(!offer || c.participants.front().device == s.alice->address,
                "bob took an offer whose host is not its sender");
    const bool may_reply = rings || c.type == CallMessageType::kAnswer;
    fuzz::check(
        transport.all.size() == (rings ? 1u : 0u) || (may_reply && transport.all.size() == 1u),
        "a call message sent other than ringing or a hangup to an answer");
    return 0;
  }
  if (parsed->kind == internal::ContentKind::kReceipt) {
    fuzz::check(!received->has_value() && transport.all.empty(), "a receipt showed or sent");
    return 0;
  }
  if (parsed->kind == internal::ContentKind::kMessage) {
    fuzz::check(received->has_value(), "a message showed nothing");
    const ReceivedMessage& m = **received;
    fuzz::check(m.sender == s.alice->address && m.conversation == "alice" && !m.sent_by_us,
                "a message from the wrong person");
    fuzz::check(m.plaintext.size() == parsed->body.size() &&
                    std::equal(m.plaintext.expose().begin(), m.plaintext.expose().end(),
                               parsed->body.expose().begin()),
                "a message with another text");
    fuzz::check(m.quote.has_value() == parsed->context.quote.has_value(), "a quote lost or made");
    if (m.quote)
      fuzz::check(m.quote->author == parsed->context.quote->author &&
                      std::equal(m.quote->message_id.begin(), m.quote->message_id.end(),
                                 parsed->context.quote->id.begin()),
                  "another quote");
    fuzz::check(m.attachments.size() == parsed->attachments.size(),
                "a message with other attachments");
    fuzz::check(!m.group, "a 1:1 message shown as a group's");
    fuzz::check(transport.all.size() == 1, "a message made bob send other than its receipt");
    auto again = bob.receive(seal());
    fuzz::check(again.has_value() && !again->has_value(), "a message shown twice");
    fuzz::check(transport.all.size() == 1, "a message shown once answered twice");
    return 0;
  }
  // A retry request.
  fuzz::check(!received->has_value(), "a retry request showed something");
  const bool names_ours = std::any_of(
      parsed->retry_ids.begin(), parsed->retry_ids.end(), [&](const internal::EnvelopeId& id) {
        return std::any_of(
            s.bob_envelope_ids.begin(), s.bob_envelope_ids.end(),
            [&](const Bytes& e) { return std::equal(e.begin(), e.end(), id.begin()); });
      });
  fuzz::check(names_ours == !transport.all.empty(),
              "bob sent again without being asked, or did not when asked");
  return 0;
}
