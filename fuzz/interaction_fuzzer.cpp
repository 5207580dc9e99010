// hush fuzz target: alice and bob (in-memory stores) driven by a stream of actions
// (FuzzedDataProvider; the layout is in fuzz_common.h): send either way, deliver the oldest, the
// newest or any message in flight, drop one, deliver an already decrypted one again, re-bundle
// (either side fetches a fresh bundle of the other and starts a new session), and round-trip both
// stores through snapshots. Both parties start from fixed snapshots and fixed seeds, so a run
// depends on its input only. Alice has processed bob's bundle before the first action.
//
// What must happen (anything else aborts, with a description on stderr):
// - A send succeeds once the sender has a session, and fails with no_session before.
// - A genuine message delivered for the first time decrypts, to its plaintext, unless a documented
//   limit (include/hush/limits.h) explains the failure:
//   * its receiving chain was dropped (kMaxReceiverChains): possible only once the sender has made
//     at least that many DH ratchet steps since sending it (each step needs a new ratchet key
//     from the peer, so the sender's count of new peer ratchet keys bounds it);
//   * its session state was dropped (kMaxArchivedStates): possible only once more sessions than
//     a record holds (current + archived) were started in the run;
//   * it starts a new receiving chain (its ratchet key is in no message decrypted so far) on a
//     state older than the kMaxDecryptTrials newest: possible only once at least that many
//     sessions were started in the run.
//   Too far ahead (kMaxForwardJump) and dropped skipped keys (kMaxSkippedKeysPerChain) cannot
//   happen: a run has fewer than kMaxSteps messages.
// - A message delivered again after it decrypted fails with duplicate_message or invalid_message
//   (a dropped state's prekey message is refused by its remembered base key). Only once that base
//   key may have left the kMaxRetiredBaseKeys remembered (more sessions than a record holds plus
//   that many) may a prekey message run X3DH again: invalid_key_id if its one-time prekey is used,
//   else it decrypts again.
// - Every failed decrypt leaves the receiver's store byte-for-byte unchanged.
// - At the end the parties quiesce: a few fresh messages each way, delivered in order, all
//   decrypt (after a fresh bundle if states may have been dropped or lie beyond the trials): the
//   sides still agree.
//
// Links the real library (hush_fuzz_real): see fuzz/CMakeLists.txt.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <hush/hush.h>

#include "fuzz_common.h"

using namespace hush;

namespace {

// Bounds every counter far below kMaxForwardJump and kMaxSkippedKeysPerChain.
constexpr std::size_t kMaxSteps = 600;
static_assert(kMaxSteps < kMaxForwardJump && kMaxSteps < kMaxSkippedKeysPerChain);
// One-time prekeys each party has; bundles offer each one once, then none.
constexpr std::uint32_t kPreKeys = 16;
// States one record can hold: the current one and the archived ones.
constexpr std::uint64_t kStatesPerRecord = kMaxArchivedStates + 1;

struct Initial {
  Bytes alice;
  Bytes bob;
  Initial() {
    alice = fuzz::snapshot(*fuzz::make_device("alice", 101, kPreKeys)->store);
    bob = fuzz::snapshot(*fuzz::make_device("bob", 102, kPreKeys)->store);
  }
};

const Initial& initial() {
  static const Initial* i = new Initial();
  return *i;
}

struct Party {
  Address address;
  fuzz::FuzzRandom random;
  fuzz::FuzzClock clock;
  Context ctx;
  std::unique_ptr<InMemoryProtocolStore> store;
  bool has_session = false;
  std::uint32_t next_handout = 1;  // our next one-time prekey to offer in a bundle
  // The peer's ratchet keys seen in messages that decrypted here, and how many there were: each
  // new one is (at most) one DH ratchet step of ours.
  std::set<std::array<std::uint8_t, 32>> peer_ratchet_keys;
  std::uint64_t ratchet_steps = 0;

  Party(const char* name, std::uint64_t seed, const Bytes& snapshot)
      : address{name, DeviceId{1}}, random(seed), ctx{random, clock, nullptr} {
    auto s = InMemoryProtocolStore::deserialize(snapshot);
    fuzz::check(s.has_value(), "restore a party");
    store = std::move(*s);
  }
};

struct Message {
  int from = 0;  // 0 alice, 1 bob
  std::string name;
  MessageType type = MessageType::kWhisper;
  Bytes bytes;
  std::string plaintext;
  std::uint64_t sender_steps_at_send = 0;
  bool decrypted = false;
};

const SignalMessage& inner(const CiphertextMessage& m) {
  if (const auto* p = m.prekey_message()) return p->message();
  return *m.signal_message();
}

class World {
 public:
  World()
      : parties_{std::make_unique<Party>("alice", 201, initial().alice),
                 std::make_unique<Party>("bob", 202, initial().bob)} {
    rebundle(0);
  }

  void step(FuzzedDataProvider& fdp) {
    const auto action =
        static_cast<fuzz::Action>(fdp.ConsumeIntegral<std::uint8_t>() % fuzz::kActionCount);
    switch (action) {
      case fuzz::Action::kSendAliceToBob:
      case fuzz::Action::kSendBobToAlice: {
        const std::size_t n = fdp.ConsumeIntegral<std::uint8_t>() % 49;
        const Bytes text = fdp.ConsumeBytes<std::uint8_t>(n);
        send(action == fuzz::Action::kSendAliceToBob ? 0 : 1,
             std::string(text.begin(), text.end()));
        break;
      }
      case fuzz::Action::kDeliverOldest:
        if (!in_flight_.empty()) deliver_in_flight(0);
        break;
      case fuzz::Action::kDeliverNewest:
        if (!in_flight_.empty()) deliver_in_flight(in_flight_.size() - 1);
        break;
      case fuzz::Action::kDeliverRandom: {
        const std::size_t i = fdp.ConsumeIntegral<std::uint16_t>();
        if (!in_flight_.empty()) deliver_in_flight(i % in_flight_.size());
        break;
      }
      case fuzz::Action::kDrop: {
        const std::size_t i = fdp.ConsumeIntegral<std::uint16_t>();
        if (!in_flight_.empty())
          in_flight_.erase(in_flight_.begin() + static_cast<std::ptrdiff_t>(i % in_flight_.size()));
        break;
      }
      case fuzz::Action::kDuplicate: {
        const std::size_t i = fdp.ConsumeIntegral<std::uint16_t>();
        if (!decrypted_.empty()) deliver(decrypted_[i % decrypted_.size()]);
        break;
      }
      case fuzz::Action::kRebundle:
        rebundle(fdp.ConsumeBool() ? 1 : 0);
        break;
      case fuzz::Action::kReopen:
        reopen(*parties_[0]);
        reopen(*parties_[1]);
        break;
    }
  }

  // Fresh messages each way, in order: all must decrypt.
  void quiesce() {
    if (states_may_be_dropped() || sessions_ >= kMaxDecryptTrials) rebundle(0);
    for (int round = 0; round < 3; ++round) {
      for (int from = 0; from < 2; ++from) {
        const std::size_t sent = log_.size();
        send(from, "quiesce");
        fuzz::check(log_.size() == sent + 1, "quiesce: nothing sent");
        const std::size_t index = in_flight_.back();
        in_flight_.pop_back();
        deliver(index);
        fuzz::check(log_[index].decrypted, "quiesce: a fresh in-order message did not decrypt");
      }
    }
  }

 private:
  bool states_may_be_dropped() const { return sessions_ > kStatesPerRecord; }
  // A prekey message of a dropped state is refused as a replay while its base key is among the
  // kMaxRetiredBaseKeys remembered ones.
  bool replay_possible() const { return sessions_ > kStatesPerRecord + kMaxRetiredBaseKeys; }

  void send(int from, const std::string& text) {
    Party& s = *parties_[static_cast<std::size_t>(from)];
    const Party& r = *parties_[static_cast<std::size_t>(1 - from)];
    Message m;
    m.from = from;
    m.name = std::string(from == 0 ? "a" : "b") + std::to_string(log_.size());
    m.plaintext = m.name + ":" + text;
    auto sent = encrypt_message(s.ctx, *s.store, r.address, as_bytes(m.plaintext));
    if (!s.has_session) {
      fuzz::check(!sent.has_value() && sent.error().code() == Errc::kNoSession,
                  "encrypt without a session did not fail with no_session");
      return;
    }
    if (!sent) fail(m, "encrypt failed", sent.error().code());
    m.type = sent->type();
    m.bytes.assign(sent->serialized().begin(), sent->serialized().end());
    m.sender_steps_at_send = s.ratchet_steps;
    log_.push_back(std::move(m));
    in_flight_.push_back(log_.size() - 1);
  }

  void deliver_in_flight(std::size_t position) {
    const std::size_t index = in_flight_[position];
    in_flight_.erase(in_flight_.begin() + static_cast<std::ptrdiff_t>(position));
    deliver(index);
  }

  void deliver(std::size_t index) {
    Message& m = log_[index];
    Party& r = *parties_[static_cast<std::size_t>(1 - m.from)];
    const Party& s = *parties_[static_cast<std::size_t>(m.from)];
    auto parsed = CiphertextMessage::parse(m.type, m.bytes);
    fuzz::check(parsed.has_value(), "a sent message does not parse");
    const Bytes before = fuzz::snapshot(*r.store);
    auto plaintext = decrypt_message(r.ctx, *r.store, s.address, *parsed);

    if (m.decrypted) {  // a duplicate
      if (plaintext) {
        if (!(replay_possible() && m.type == MessageType::kPreKey))
          fail(m, "a message decrypted twice", std::nullopt);
        check_plaintext(m, *plaintext);
        return;
      }
      const Errc code = plaintext.error().code();
      if (!(code == Errc::kDuplicateMessage || code == Errc::kInvalidMessage ||
            (replay_possible() && code == Errc::kInvalidKeyId)))
        fail(m, "a duplicate failed with an unexpected error", code);
      if (fuzz::snapshot(*r.store) != before)
        fail(m, "a refused duplicate changed the store", code);
      return;
    }

    if (plaintext) {
      check_plaintext(m, *plaintext);
      m.decrypted = true;
      decrypted_.push_back(index);
      r.has_session = true;
      if (r.peer_ratchet_keys.insert(inner(*parsed).ratchet_key().u()).second) ++r.ratchet_steps;
      return;
    }
    const Errc code = plaintext.error().code();
    if (fuzz::snapshot(*r.store) != before) fail(m, "a failed decrypt changed the store", code);
    const bool chain_may_be_dropped =
        s.ratchet_steps - m.sender_steps_at_send >= kMaxReceiverChains;
    const bool new_chain_beyond_trials =
        sessions_ >= kMaxDecryptTrials &&
        !r.peer_ratchet_keys.contains(inner(*parsed).ratchet_key().u());
    const bool explained =
        ((chain_may_be_dropped || new_chain_beyond_trials) && code == Errc::kInvalidMessage) ||
        (states_may_be_dropped() && (code == Errc::kInvalidMessage || code == Errc::kInvalidKeyId ||
                                     code == Errc::kDuplicateMessage));
    if (!explained) fail(m, "a genuine message did not decrypt", code);
  }

  void check_plaintext(const Message& m, const SecretBytes& plaintext) const {
    if (std::string(plaintext.expose().begin(), plaintext.expose().end()) != m.plaintext)
      fail(m, "decrypted to another plaintext", std::nullopt);
  }

  void rebundle(int initiator) {
    Party& x = *parties_[static_cast<std::size_t>(initiator)];
    Party& y = *parties_[static_cast<std::size_t>(1 - initiator)];
    std::optional<PreKeyId> pre_key;
    if (y.next_handout <= kPreKeys) pre_key = PreKeyId{y.next_handout++};
    auto bundle = make_bundle(*y.store, y.address.device_id, SignedPreKeyId{1}, pre_key);
    fuzz::check(bundle.has_value(), "make_bundle");
    fuzz::check(process_prekey_bundle(x.ctx, *x.store, y.address, *bundle).has_value(),
                "process_prekey_bundle failed on a genuine bundle");
    x.has_session = true;
    ++sessions_;
  }

  static void reopen(Party& p) {
    const Bytes first = fuzz::snapshot(*p.store);
    auto s = InMemoryProtocolStore::deserialize(first);
    fuzz::check(s.has_value(), "reopen: snapshot does not deserialize");
    fuzz::check(fuzz::snapshot(**s) == first, "reopen: snapshot does not round-trip");
    p.store = std::move(*s);
  }

  [[noreturn]] void fail(const Message& m, const char* what, std::optional<Errc> code) const {
    std::fprintf(
        stderr,
        "interaction: %s: message %s (%s, %s) %s; sessions started %llu; sender ratchet "
        "steps %llu (at send %llu); %zu messages sent, %zu in flight\n",
        what, m.name.c_str(), m.type == MessageType::kPreKey ? "prekey" : "whisper",
        m.decrypted ? "decrypted before" : "never decrypted",
        code ? std::string(to_string(*code)).c_str() : "",
        static_cast<unsigned long long>(sessions_),
        static_cast<unsigned long long>(parties_[static_cast<std::size_t>(m.from)]->ratchet_steps),
        static_cast<unsigned long long>(m.sender_steps_at_send), log_.size(), in_flight_.size());
    std::abort();
  }

  std::unique_ptr<Party> parties_[2];
  std::vector<Message> log_;           // every message sent
  std::deque<std::size_t> in_flight_;  // indices into log_, in sending order
  std::vector<std::size_t> decrypted_;
  std::uint64_t sessions_ = 0;  // bundles processed (sessions started) in this run
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider fdp(data, size);
  World world;
  for (std::size_t steps = 0; steps < kMaxSteps && fdp.remaining_bytes() > 0; ++steps)
    world.step(fdp);
  world.quiesce();
  return 0;
}
