// hush fuzz target: sender-key distribution messages in both formats:
// SenderKeyDistributionMessage::parse, then process_sender_key_distribution at bob in the fixed
// group (fuzz_common.h build_fixed_group; his store is restored for every input).
//
// Input: a selector byte (bit 0: the format, 0 legacy, 1 current), then the message.
//
// Checks: failures carry documented error codes and leave bob's store unchanged; what parses
// parses again to the same fields, and the harness's canonical rebuild of it (every field, in
// order) parses to the same fields too; processing it for its group succeeds (unless its signing
// key has no Edwards form: kInvalidKey, nothing changed), keeps at most
// kMaxSenderKeyStates chains with the message's chain newest, and processing it again changes
// nothing (a chain already held is never restarted); a group message encrypted by a store that
// holds the same chain as its own then decrypts at bob exactly when the chain is the one bob
// keeps for it.
#include <cstddef>
#include <cstdint>

#include <hush/hush.h>

#include "fuzz_common.h"
#include "group/group_messages.h"
#include "group/sender_key_state.h"

using namespace hush;

namespace {

const fuzz::FixedGroup& fixed() {
  static const fuzz::FixedGroup g = fuzz::build_fixed_group();
  return g;
}

bool documented(Errc c) {
  return c == Errc::kLimitExceeded || c == Errc::kInvalidMessage || c == Errc::kLegacyMessage ||
         c == Errc::kInvalidVersion || c == Errc::kInvalidProtobuf || c == Errc::kInvalidKey;
}

bool same_fields(const SenderKeyDistributionMessage& a, const SenderKeyDistributionMessage& b) {
  return a.format() == b.format() && a.distribution_id() == b.distribution_id() &&
         a.chain_id() == b.chain_id() && a.iteration() == b.iteration() &&
         a.signing_key() == b.signing_key() &&
         constant_time_equals(internal::GroupMessageBuilder::chain_key(a).expose(),
                              internal::GroupMessageBuilder::chain_key(b).expose());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const fuzz::FixedGroup& g = fixed();
  const SenderKeyFormat format =
      (data[0] & 1) != 0 ? SenderKeyFormat::kCurrent : SenderKeyFormat::kLegacy;
  const ByteView wire(data + 1, size - 1);
  auto parsed = SenderKeyDistributionMessage::parse(format, wire);
  if (!parsed) {
    fuzz::check(documented(parsed.error().code()), "parse: undocumented error");
    return 0;
  }
  fuzz::check(parsed->serialized().size() == wire.size(), "serialized() is not the input");
  auto again = SenderKeyDistributionMessage::parse(format, parsed->serialized());
  fuzz::check(again.has_value() && same_fields(*again, *parsed), "changed in a round trip");
  // The group it is for: the fixed legacy group, or the current group of its distribution id.
  const SenderKeyGroup group = format == SenderKeyFormat::kLegacy
                                   ? g.legacy
                                   : SenderKeyGroup::current(*parsed->distribution_id());
  const SenderKeyDistributionMessage canonical =
      internal::GroupMessageBuilder::distribution_message(
          group, parsed->chain_id(), parsed->iteration(),
          internal::GroupMessageBuilder::chain_key(*parsed), parsed->signing_key());
  auto reparsed = SenderKeyDistributionMessage::parse(format, canonical.serialized());
  fuzz::check(reparsed.has_value() && same_fields(*reparsed, *parsed),
              "the canonical rebuild does not parse to the same fields");

  auto bob = InMemoryProtocolStore::deserialize(g.bob_snapshot);
  fuzz::check(bob.has_value(), "bob's snapshot");
  // Another group's distribution id is refused, changing nothing.
  if (format == SenderKeyFormat::kCurrent && !(group == g.current)) {
    auto wrong = process_sender_key_distribution(**bob, g.alice->address, g.current, *parsed);
    fuzz::check(!wrong && wrong.error().code() == Errc::kInvalidMessage, "another id accepted");
    fuzz::check(fuzz::snapshot(**bob) == g.bob_snapshot, "a refusal changed the store");
  }
  auto st = process_sender_key_distribution(**bob, g.alice->address, group, *parsed);
  if (!st) {
    // Only the one signing key without an Edwards form (no signature could verify under it).
    fuzz::check(st.error().code() == Errc::kInvalidKey, "a parsed message was not processed");
    fuzz::check(fuzz::snapshot(**bob) == g.bob_snapshot, "a refusal changed the store");
    return 0;
  }
  auto record = (*bob)->load_sender_key(g.alice->address, group);
  fuzz::check(record.has_value() && record->has_value(), "no record after processing");
  const auto& states = internal::SenderKeyRecordAccess::data(**record).states;
  fuzz::check(!states.empty() && states.size() <= kMaxSenderKeyStates, "state count");
  fuzz::check(states.front().chain_id == parsed->chain_id(), "the message's chain is not newest");
  fuzz::check(!states.front().signing_private.has_value(), "a received chain can sign");
  const Bytes after = fuzz::snapshot(**bob);
  fuzz::check(process_sender_key_distribution(**bob, g.alice->address, group, *parsed).has_value(),
              "processing again failed");
  fuzz::check(fuzz::snapshot(**bob) == after, "processing again changed the store");
  return 0;
}
