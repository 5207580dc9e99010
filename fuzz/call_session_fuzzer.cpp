// hush fuzz target: the call state machine (include/hush/call.h, src/messenger/calls.cpp) of one
// Messenger ("us", device 1) driven by a stream of actions (FuzzedDataProvider, one u8 at a time;
// the layout is below) against four peer devices: ann.1, bob.1, bob.2 (two devices of one person),
// cat.1, and our own second device us.2. Every device starts from a fixed snapshot (a whisper
// session both ways with us, made once) and fixed seeds, so a run depends on its input only.
//
// Our actions: start a call (to any subset of ann, bob, cat, plus invalid names), answer, hang up,
// remove someone, send a signal (on a call id from the set below). Peer actions: a peer device
// sends a genuine call message of any type (offer, answer, signal, hangup, busy, ringing, list,
// key, answered-elsewhere) with fuzz-chosen fields (call id, list version, participants and their
// indices, key epoch and bytes, payload, sent_ms), encrypted over its real session with us and put
// in flight; the relay delivers the oldest, the newest or any message in flight, drops one, or
// delivers one again; it can also refuse our sends (down) or lie about a person's device list (an
// identity change, pending until dismissed). The clock moves on by fuzz-chosen steps. Call ids come
// from a small set: three fixed ids and the ids of the calls we started. What we send goes nowhere
// (the peers are scripted by the input, not by their own Messengers). There is no "add someone"
// action: the Messenger has no call for it (a host calls people with start_call only). At most
// kMaxSteps steps per input; HUSH_CALL_SESSION_TRACE=1 prints each step, its outcome and events.
//
// What must hold after every step (anything else aborts, with a description on stderr):
// - Every failure has a typed, documented code (never crypto_failure, store_failure or
//   corrupt_state, which no input should cause): each of our operations fails only with the codes
//   its declaration in messenger.h lists; a delivery fails only with a content or call error (the
//   message is genuine) or, delivered again, as a duplicate; a probe frame (below) only with
//   unknown_key_id or authentication_failed.
// - A failed operation or delivery leaves our store unchanged (compared as serialized snapshots,
//   without the retry records a failed receive adds and the identity changes it notes on purpose),
//   except when it failed with transport_failure: what was encrypted before the relay refused it
//   keeps its ratchet step (the Messenger commits every encryption before handing the envelope to
//   the transport, so that a message key is never used twice; a call message is not queued).
// - At most kMaxCalls calls are held; a held call lists at most kMaxCallParticipants participants
//   and its media hold at most kMaxSframeReceiverKeys keys; call_media() is non-null exactly for
//   the calls held, and the media of a call no longer held refuse everything (keys wiped).
// - A participant (device, index) that left one of our calls while we took part (we host it, or
//   the host admitted us: kAnswered; it was listed, then not) never has a key installed under that
//   index again in that call: every key it sent us in the call is tried on a frame sealed under
//   call_key_id(index, epoch), which must not decrypt. (Key bytes are distinct per sending device,
//   so another device listed later under the same index cannot make such a frame decrypt by
//   accident.)
// - A call whose host is a person with an unresolved identity change is never answered
//   (answer_call fails), and a call we host never admits a person with an unresolved identity
//   change.
//
// Left out on purpose (they are being changed, or are not visible through the Messenger): whether
// an offer rings (a second offer from a person who already rings us, an offer from an untrusted
// caller), which keys are held pending for devices not yet listed, and how many ended call ids are
// remembered (kMaxEndedCalls; internal state).
//
// Links the real library (hush_fuzz_real): see fuzz/CMakeLists.txt.
//
// Input layout (every value one u8, read by ConsumeIntegral<std::uint8_t>, so from the end of the
// input backwards; a seed is its bytes in consumption order, reversed). A step is an action byte
// (modulo kActionCount) and its arguments:
//   0 start    mask (bit 0 ann, 1 bob, 2 cat, 3 "us" (invalid), 4 "zed" (no such person)),
//              payload length (mod 8)
//   1 answer   call          2 hangup  call          3 remove  call, person (mod 5, as in start)
//   4 signal   call
//   5 peer     sender (mod 5: ann.1 bob.1 bob.2 cat.1 us.2), type (mod 9, + 1), call,
//              list version (mod 6), host is sender (bit 0), host (mod 6, device table below),
//              more participants (mod 4), for each: device (mod 6), index step (mod 3, + 1);
//              epoch (mod 6), key variant (mod 3), age (mod 4: 0, 1 s, over kMaxCallOfferAgeMs,
//              5 s in the future), payload length (mod 8), deliver now (bit 0)
//   6 deliver the oldest in flight   7 deliver the newest
//   8 deliver  index          9 drop  index          10 again  index (of those delivered)
//   11 clock   step (mod 4: 0.5 s, 2.5 s, 60 s, 100 s)
//   12 identity  person (mod 3: ann, bob, cat): changes at the directory if trusted, else the
//              change is dismissed and the directory tells the truth again
//   13 relay   toggles whether our sends fail
// A call byte picks among the three fixed ids and the ids of the calls we started (modulo their
// number). Device table: us.1 ann.1 bob.1 bob.2 cat.1 us.2.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <hush/hush.h>

#include "call/call_message.h"
#include "fuzz_common.h"
#include "messenger/content.h"
#include "messenger/envelope.h"

using namespace hush;

namespace {

constexpr std::size_t kMaxSteps = 80;
constexpr std::uint8_t kActionCount = 14;
constexpr std::uint64_t kStartMs = 1'700'000'000'000;

// The device table (participants in lists) and which of them send (peers).
const std::vector<Address>& table() {
  static const auto* t =
      new std::vector<Address>{{"us", DeviceId{1}},  {"ann", DeviceId{1}}, {"bob", DeviceId{1}},
                               {"bob", DeviceId{2}}, {"cat", DeviceId{1}}, {"us", DeviceId{2}}};
  return *t;
}
constexpr std::size_t kPeers = 5;  // table()[1..5]
const char* const kPeople[] = {"ann", "bob", "cat", "us", "zed"};
constexpr std::size_t kTrustable = 3;  // ann, bob, cat

const std::array<CallId, 3> kFixedIds = [] {
  std::array<CallId, 3> ids{};
  for (std::size_t i = 0; i < ids.size(); ++i)
    ids[i].fill(static_cast<std::uint8_t>(0xC0 + i));
  return ids;
}();

// Seeds of identities (per person) and of devices.
std::uint64_t identity_seed(const std::string& person) {
  std::uint64_t h = 0x1D;
  for (char ch : person)
    h = h * 131 + static_cast<std::uint8_t>(ch);
  return h;
}

std::unique_ptr<fuzz::Device> make_peer(const Address& a, std::uint64_t seed) {
  auto d = std::make_unique<fuzz::Device>(a.name, seed);
  d->address = a;
  fuzz::FuzzRandom identity_random(identity_seed(a.name));
  auto identity = generate_identity_key_pair(identity_random);
  fuzz::check(identity.has_value(), "identity");
  auto registration_id = generate_registration_id(d->random);
  fuzz::check(registration_id.has_value(), "registration id");
  auto spk = generate_signed_pre_key(d->ctx, *identity, SignedPreKeyId{1});
  fuzz::check(spk.has_value(), "signed prekey");
  d->store = std::make_unique<InMemoryProtocolStore>(std::move(*identity), *registration_id);
  fuzz::check(d->store->store_signed_pre_key(*spk).has_value(), "store signed prekey");
  fuzz::check(replenish_pre_keys(d->ctx, *d->store, 1).has_value(), "replenish prekeys");
  return d;
}

Bytes signed_list(const std::string& person, std::uint64_t identity_seed_value,
                  std::vector<DeviceId> devices) {
  fuzz::FuzzRandom identity_random(identity_seed_value);
  auto identity = generate_identity_key_pair(identity_random);
  fuzz::check(identity.has_value(), "list identity");
  fuzz::FuzzRandom random(0x11575);
  const DeviceId next{to_uint(devices.back()) + 1};
  DeviceList list{person, identity->public_key, 1, std::move(devices), next};
  auto s = SignedDeviceList::sign(random, std::move(list), *identity);
  fuzz::check(s.has_value(), "sign a device list");
  return s->serialized();
}

// Made once: our store and the peers' with sessions both ways, and the directory's lists (the
// genuine ones, and for ann, bob and cat one signed by another identity).
struct Initial {
  Bytes us;
  std::vector<Bytes> peers;  // table()[1..5]
  std::map<std::string, Bytes, std::less<>> lists;
  std::map<std::string, Bytes, std::less<>> changed_lists;

  Initial() {
    auto us_device = make_peer(table()[0], 1000);
    for (std::size_t i = 1; i <= kPeers; ++i) {
      auto p = make_peer(table()[i], 1000 + i);
      fuzz::check(process_prekey_bundle(us_device->ctx, *us_device->store, p->address,
                                        p->bundle(PreKeyId{1}))
                      .has_value(),
                  "process a peer's bundle");
      auto hello = encrypt_message(us_device->ctx, *us_device->store, p->address, as_bytes("hi"));
      fuzz::check(hello.has_value(), "encrypt hello");
      fuzz::check(decrypt_message(p->ctx, *p->store, us_device->address, *hello).has_value(),
                  "decrypt hello");
      auto back = encrypt_message(p->ctx, *p->store, us_device->address, as_bytes("hello"));
      fuzz::check(back.has_value(), "encrypt reply");
      fuzz::check(decrypt_message(us_device->ctx, *us_device->store, p->address, *back).has_value(),
                  "decrypt reply");
      peers.push_back(fuzz::snapshot(*p->store));
    }
    us = fuzz::snapshot(*us_device->store);
    lists["us"] = signed_list("us", identity_seed("us"), {DeviceId{1}, DeviceId{2}});
    lists["ann"] = signed_list("ann", identity_seed("ann"), {DeviceId{1}});
    lists["bob"] = signed_list("bob", identity_seed("bob"), {DeviceId{1}, DeviceId{2}});
    lists["cat"] = signed_list("cat", identity_seed("cat"), {DeviceId{1}});
    for (std::size_t i = 0; i < kTrustable; ++i) {
      const std::string person = kPeople[i];
      changed_lists[person] = signed_list(person, identity_seed(person) ^ 0xC4A9, {DeviceId{1}});
    }
  }
};

const Initial& initial() {
  static const Initial* i = new Initial();
  return *i;
}

class MovingClock final : public Clock {
 public:
  std::uint64_t now_ms() override { return now; }
  std::uint64_t now = kStartMs;
};

// Our transport: takes everything (it goes nowhere) unless the relay is down.
class Relay final : public Transport {
 public:
  Status send(const Address&, ByteView) override {
    if (down) return Error(Errc::kTransportFailure, "call_session fuzz: the relay is down");
    ++sent;
    return ok_status();
  }
  bool down = false;
  std::size_t sent = 0;
};

struct Peer {
  std::unique_ptr<InMemoryProtocolStore> store;
  std::unique_ptr<fuzz::FuzzRandom> random;
  fuzz::FuzzClock clock;
  std::unique_ptr<Context> ctx;
};

struct Envelope {
  Bytes bytes;
  std::size_t sender = 0;  // table() index
  internal::CallMessageType type = internal::CallMessageType::kOffer;
  CallId call{};
  std::optional<std::pair<std::uint64_t, Bytes>> key;  // epoch, bytes
};

// What we track of one call id.
struct Tracked {
  std::shared_ptr<CallMedia> media;                    // as last seen held
  bool hosting = false;                                // we started it
  bool active = false;                                 // we take part (host, or admitted)
  bool listed_while_active = false;                    // `listed` was seen while active
  std::set<std::pair<Address, std::uint32_t>> listed;  // as last seen
  std::set<std::pair<Address, std::uint32_t>> left;    // listed while active, then not
  // Keys delivered to us in this call, by sending device: (epoch, bytes).
  std::map<Address, std::vector<std::pair<std::uint64_t, Bytes>>> keys;
};

// HUSH_CALL_SESSION_TRACE=1 prints every step, its outcome and the call events (to follow a
// reproducer).
bool tracing() {
  static const bool on = std::getenv("HUSH_CALL_SESSION_TRACE") != nullptr;
  return on;
}

void trace(const std::string& line) {
  if (tracing()) std::fprintf(stderr, "  %s\n", line.c_str());
}

const char* const kActionNames[] = {"start", "answer", "hangup",   "remove",  "signal",
                                    "peer",  "oldest", "newest",   "deliver", "drop",
                                    "again", "clock",  "identity", "relay"};

std::string hex_id(const CallId& id) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < 4; ++i) {
    s += digits[id[i] >> 4];
    s += digits[id[i] & 15];
  }
  return s;
}

class World {
 public:
  World()
      : random_(0xCA11),
        ctx_{random_, clock_, nullptr},
        store_(restore(initial().us)),
        messenger_(ctx_, *store_, relay_, directory_, table()[0], options()) {
    directory_.lists = initial().lists;
    peers_.resize(kPeers);
  }

  void step(FuzzedDataProvider& fdp, std::size_t n) {
    step_ = n;
    const std::uint8_t action = u8(fdp) % kActionCount;
    if (tracing()) std::fprintf(stderr, "step %zu: %s\n", n, kActionNames[action]);
    switch (action) {
      case 0:
        start(fdp);
        break;
      case 1:
        answer(fdp);
        break;
      case 2: {
        const CallId id = pick(fdp);
        ours("hangup", [&] { return messenger_.hangup(id, as_bytes("bye")); },
             {Errc::kUnknownCall, Errc::kTransportFailure});
        break;
      }
      case 3: {
        const CallId id = pick(fdp);
        const char* person = kPeople[u8(fdp) % 5];
        ours("remove_from_call", [&] { return messenger_.remove_from_call(id, person); },
             {Errc::kUnknownCall, Errc::kInvalidCallState, Errc::kInvalidArgument,
              Errc::kTransportFailure});
        break;
      }
      case 4: {
        const CallId id = pick(fdp);
        ours("send_call_signal", [&] { return messenger_.send_call_signal(id, as_bytes("ice")); },
             {Errc::kUnknownCall, Errc::kTransportFailure});
        break;
      }
      case 5:
        peer_sends(fdp);
        break;
      case 6:
        if (!in_flight_.empty()) deliver_in_flight(0);
        break;
      case 7:
        if (!in_flight_.empty()) deliver_in_flight(in_flight_.size() - 1);
        break;
      case 8: {
        const std::size_t i = u8(fdp);
        if (!in_flight_.empty()) deliver_in_flight(i % in_flight_.size());
        break;
      }
      case 9: {
        const std::size_t i = u8(fdp);
        if (!in_flight_.empty())
          in_flight_.erase(in_flight_.begin() + static_cast<std::ptrdiff_t>(i % in_flight_.size()));
        break;
      }
      case 10: {
        const std::size_t i = u8(fdp);
        if (!delivered_.empty()) deliver(delivered_[i % delivered_.size()], true);
        break;
      }
      case 11: {
        static constexpr std::uint64_t kSteps[] = {500, 2'500, 60'000, 100'000};
        clock_.now += kSteps[u8(fdp) % 4];
        break;
      }
      case 12:
        identity(kPeople[u8(fdp) % kTrustable]);
        break;
      case 13:
        relay_.down = !relay_.down;
        break;
      default:
        break;
    }
    check_invariants();
  }

 private:
  static MessengerOptions options() {
    MessengerOptions o;
    o.delivery_receipts = false;
    return o;
  }

  static std::unique_ptr<InMemoryProtocolStore> restore(const Bytes& snapshot) {
    auto s = InMemoryProtocolStore::deserialize(snapshot);
    fuzz::check(s.has_value(), "restore a store");
    return std::move(*s);
  }

  static std::uint8_t u8(FuzzedDataProvider& fdp) { return fdp.ConsumeIntegral<std::uint8_t>(); }

  std::vector<CallId> ids() const {
    std::vector<CallId> out(kFixedIds.begin(), kFixedIds.end());
    out.insert(out.end(), started_.begin(), started_.end());
    return out;
  }

  CallId pick(FuzzedDataProvider& fdp) const {
    const std::size_t i = u8(fdp);
    if (i % (kFixedIds.size() + started_.size()) < kFixedIds.size())
      return kFixedIds[i % (kFixedIds.size() + started_.size())];
    return started_[i % (kFixedIds.size() + started_.size()) - kFixedIds.size()];
  }

  bool untrusted(std::string_view person) const {
    return messenger_.identity_change(person).has_value();
  }

  // The store, serialized (cheap; what is compared around a failure).
  Bytes state() const { return fuzz::snapshot(*store_); }

  // True when the store still holds what `before` held, apart from the retry records a failed
  // receive adds and the identity changes it notes on purpose (messenger.h). Only when the bytes
  // differ are both sides restored and stripped of those records (slower).
  bool unchanged_since(const Bytes& before) const {
    const Bytes now = state();
    if (now == before) return true;
    auto earlier = InMemoryProtocolStore::deserialize(before);
    fuzz::check(earlier.has_value(), "restore the earlier store");
    return fuzz::snapshot_without_healing(**earlier, true) ==
           fuzz::snapshot_without_healing(*store_, true);
  }

  [[noreturn]] void fail(const std::string& what) const {
    std::fprintf(stderr, "call_session: step %zu: %s\n", step_, what.c_str());
    std::abort();
  }

  void check_code(const char* op, const Error& e, std::initializer_list<Errc> allowed) const {
    if (std::find(allowed.begin(), allowed.end(), e.code()) == allowed.end())
      fail(std::string(op) + " failed with an undocumented error: " +
           std::string(to_string(e.code())) + " (" + std::string(e.where()) + ")");
  }

  // Runs one of our operations: its failure must be documented and change nothing.
  template <typename F>
  void ours(const char* op, F&& f, std::initializer_list<Errc> allowed) {
    const Bytes before = state();
    auto r = f();
    trace(std::string(op) + ": " + (r ? "ok" : std::string(to_string(r.error().code()))));
    if (r) return;
    check_code(op, r.error(), allowed);
    if (r.error().code() != Errc::kTransportFailure && !unchanged_since(before))
      fail(std::string(op) + " failed and changed the store");
  }

  void start(FuzzedDataProvider& fdp) {
    const std::uint8_t mask = u8(fdp);
    const std::size_t payload = u8(fdp) % 8;
    std::vector<std::string> people;
    for (std::size_t i = 0; i < 5; ++i)
      if (mask & (1u << i)) people.emplace_back(kPeople[i]);
    const Bytes offer(payload, 'o');
    const Bytes before = state();
    auto r = messenger_.start_call(people, offer);
    trace(std::string("start_call: ") +
          (r ? "ok " + hex_id(*r) : std::string(to_string(r.error().code()))));
    if (!r) {
      check_code("start_call", r.error(),
                 {Errc::kInvalidArgument, Errc::kLimitExceeded, Errc::kCallInProgress,
                  Errc::kCallPartyUntrusted, Errc::kTransportFailure, Errc::kUnknownDevice,
                  Errc::kNoSession});
      if (r.error().code() != Errc::kTransportFailure && !unchanged_since(before))
        fail("start_call failed and changed the store");
      return;
    }
    for (const std::string& p : people)
      if (untrusted(p)) fail("start_call called a person with an unresolved identity change");
    started_.push_back(*r);
    Tracked& t = tracked_[*r];
    t = Tracked{};
    t.hosting = true;
    t.active = true;
  }

  void answer(FuzzedDataProvider& fdp) {
    const CallId id = pick(fdp);
    auto parts = messenger_.call_participants(id);
    const bool host_untrusted = parts && !parts->empty() && untrusted(parts->front().device.name);
    const Bytes before = state();
    auto r = messenger_.answer_call(id, as_bytes("answer"));
    trace("answer_call " + hex_id(id) + ": " +
          (r ? "ok" : std::string(to_string(r.error().code()))));
    if (r) {
      if (host_untrusted) fail("answered a call whose host's identity change is unresolved");
      return;
    }
    check_code("answer_call", r.error(),
               {Errc::kUnknownCall, Errc::kInvalidCallState, Errc::kCallInProgress,
                Errc::kCallPartyUntrusted, Errc::kTransportFailure, Errc::kNoSession,
                Errc::kUntrustedIdentity});
    if (r.error().code() != Errc::kTransportFailure && !unchanged_since(before))
      fail("answer_call failed and changed the store");
  }

  void identity(const char* person) {
    if (!untrusted(person)) {
      directory_.lists[person] = initial().changed_lists.at(person);
      auto r = messenger_.devices(person);
      if (r || r.error().code() != Errc::kUntrustedIdentity)
        fail(std::string("a device list under another identity for ") + person +
             " was not refused as untrusted");
      if (!untrusted(person)) fail("an identity change was not noted");
      return;
    }
    directory_.lists[person] = initial().lists.at(person);
    if (auto st = messenger_.dismiss_identity_change(person); !st)
      fail("dismiss_identity_change failed");
    if (untrusted(person)) fail("an identity change dismissed is still pending");
  }

  Peer& peer(std::size_t index) {  // table() index 1..5
    Peer& p = peers_[index - 1];
    if (!p.store) {
      p.store = restore(initial().peers[index - 1]);
      p.random = std::make_unique<fuzz::FuzzRandom>(0x9000 + index);
      p.ctx = std::make_unique<Context>(Context{*p.random, p.clock, nullptr});
    }
    return p;
  }

  void peer_sends(FuzzedDataProvider& fdp) {
    using internal::CallMessageType;
    const std::size_t sender = 1 + u8(fdp) % kPeers;
    const auto type = static_cast<CallMessageType>(1 + u8(fdp) % 9);
    internal::CallMessageParts parts;
    parts.id = pick(fdp);
    parts.type = type;
    parts.list_version = u8(fdp) % 6;
    const bool host_is_sender = u8(fdp) & 1;
    const std::size_t host = u8(fdp) % table().size();
    const std::size_t more = u8(fdp) % 4;
    std::vector<CallParticipant> list{{table()[host_is_sender ? sender : host], 0}};
    std::uint32_t index = 0;
    for (std::size_t i = 0; i < more; ++i) {
      const Address& d = table()[u8(fdp) % table().size()];
      index += 1 + u8(fdp) % 3;
      // One device per person (the parser refuses a person twice).
      if (std::none_of(list.begin(), list.end(),
                       [&](const CallParticipant& p) { return p.device.name == d.name; }))
        list.push_back(CallParticipant{d, index});
    }
    const std::uint64_t epoch = u8(fdp) % 6;
    const std::uint8_t variant = u8(fdp) % 3;
    static constexpr std::int64_t kAges[] = {
        0, 1'000, static_cast<std::int64_t>(kMaxCallOfferAgeMs) + 1, -5'000};
    const std::int64_t age = kAges[u8(fdp) % 4];
    const std::size_t payload = u8(fdp) % 8;
    const bool now = u8(fdp) & 1;

    Envelope e;
    e.sender = sender;
    e.type = type;
    e.call = parts.id;
    if (type == CallMessageType::kOffer || type == CallMessageType::kParticipants)
      parts.participants = list;
    if (type == CallMessageType::kOffer || type == CallMessageType::kAnswer ||
        type == CallMessageType::kSignal || type == CallMessageType::kHangup)
      parts.payload.assign(payload, static_cast<std::uint8_t>('p'));
    if (type == CallMessageType::kKey) {
      // Distinct per sending device: byte 0 is the device's table index.
      Bytes key(kCallBaseKeyBytes, 0x4B);
      key[0] = static_cast<std::uint8_t>(sender);
      key[1] = static_cast<std::uint8_t>(epoch);
      key[2] = variant;
      std::copy(parts.id.begin(), parts.id.begin() + 8, key.begin() + 8);
      parts.key = internal::CallKeyParts{epoch, SecretBytes::copy_of(key)};
      e.key = std::make_pair(epoch, key);
    }
    Peer& p = peer(sender);
    internal::MessageId message_id{};
    fuzz::check(p.random->fill(message_id).has_value(), "message id");
    const std::uint64_t sent_ms =
        static_cast<std::uint64_t>(static_cast<std::int64_t>(clock_.now) - age);
    const SecretBytes content = internal::build_call_content(message_id, sent_ms, parts);
    auto m = encrypt_message(*p.ctx, *p.store, table()[0], content.expose());
    fuzz::check(m.has_value(), "a peer encrypts");
    internal::EnvelopeId envelope_id{};
    const std::uint64_t serial = ++envelopes_;
    for (std::size_t i = 0; i < 8; ++i)
      envelope_id[i] = static_cast<std::uint8_t>(serial >> (8 * i));
    e.bytes = internal::build_envelope(table()[sender], *m, envelope_id);
    log_.push_back(std::move(e));
    if (now) {
      deliver(log_.size() - 1, false);
    } else {
      in_flight_.push_back(log_.size() - 1);
    }
  }

  void deliver_in_flight(std::size_t position) {
    const std::size_t index = in_flight_[position];
    in_flight_.erase(in_flight_.begin() + static_cast<std::ptrdiff_t>(position));
    deliver(index, false);
  }

  void deliver(std::size_t index, bool again) {
    const Envelope& e = log_[index];
    if (!again) delivered_.push_back(index);
    const bool held = messenger_.call_participants(e.call).has_value();
    std::vector<CallEvent> events;
    ReceiveOptions o;
    o.on_call = [&](const CallEvent& ev) { events.push_back(ev); };
    const Bytes before = state();
    auto r = messenger_.receive(e.bytes, o);
    if (tracing()) {
      trace("receive " + table()[e.sender].name + "." +
            std::to_string(to_uint(table()[e.sender].device_id)) + " type " +
            std::to_string(static_cast<unsigned>(e.type)) + " call " + hex_id(e.call) + ": " +
            (r ? "ok" : std::string(to_string(r.error().code()))));
      for (const CallEvent& ev : events)
        trace("  event " + std::to_string(static_cast<unsigned>(ev.type)) + " call " +
              hex_id(ev.call) + " from " + ev.from.name + " listing " +
              std::to_string(ev.participants.size()));
    }
    if (!r) {
      check_code(again ? "receive (again)" : "receive", r.error(),
                 {Errc::kInvalidCallMessage, Errc::kInvalidCallState, Errc::kUnknownCall,
                  Errc::kInvalidMessage, Errc::kInvalidProtobuf, Errc::kLimitExceeded,
                  Errc::kDuplicateMessage, Errc::kUntrustedIdentity});
      if (!again && r.error().code() == Errc::kDuplicateMessage)
        fail("a genuine message delivered for the first time was taken for a duplicate");
      if (!unchanged_since(before)) fail("a refused delivery changed the store");
      return;
    }
    if (r->has_value()) fail("a call message showed as a message");
    // A key taken for a call held (it may be installed now or later).
    if (e.key && held && !again) tracked_[e.call].keys[table()[e.sender]].push_back(*e.key);
    for (const CallEvent& ev : events) {
      if (ev.type == CallEventType::kAnswered && !tracked_[ev.call].hosting)
        tracked_[ev.call].active = true;  // the host admitted us
    }
  }

  void check_invariants() {
    std::size_t held = 0;
    for (const CallId& id : ids()) {
      auto parts = messenger_.call_participants(id);
      auto media = messenger_.call_media(id);
      if (parts.has_value() != (media != nullptr))
        fail("call_participants and call_media disagree about call " + hex_id(id));
      if (!parts) {
        if (parts.error().code() != Errc::kUnknownCall)
          fail("call_participants failed with another error than unknown_call");
        auto it = tracked_.find(id);
        if (it != tracked_.end()) {
          if (it->second.media && it->second.media->active())
            fail("the media of a call no longer held are still active: " + hex_id(id));
          tracked_.erase(it);
        }
        continue;
      }
      ++held;
      Tracked& t = tracked_[id];
      if (t.media && t.media != media && t.media->active())
        fail("a call's earlier media are still active");
      t.media = media;
      if (!media->active()) fail("the media of a call held are not active: " + hex_id(id));
      if (parts->size() > kMaxCallParticipants) fail("too many participants in a call");
      if (media->key_count() > kMaxSframeReceiverKeys) fail("too many keys in a call's media");
      std::set<std::pair<Address, std::uint32_t>> listed;
      for (const CallParticipant& p : *parts)
        listed.emplace(p.device, p.index);
      if (t.hosting)
        for (const auto& [device, index] : listed)
          if (device != table()[0] && !t.listed.count({device, index}) && untrusted(device.name))
            fail("a call we host admitted " + device.name +
                 ", whose identity change is unresolved");
      if (t.active && t.listed_while_active)
        for (const auto& was : t.listed)
          if (!listed.count(was)) t.left.insert(was);
      t.listed = std::move(listed);
      t.listed_while_active = t.active;
      probe_left(id, t, *media);
    }
    if (held > kMaxCalls) fail("more than kMaxCalls calls held");
  }

  // Every key a participant that left sent us in the call must be gone under its old index.
  void probe_left(const CallId& id, const Tracked& t, CallMedia& media) {
    static const Bytes kMetadata{'m'};
    for (const auto& [device, index] : t.left) {
      auto keys = t.keys.find(device);
      if (keys == t.keys.end()) continue;
      for (const auto& [epoch, key] : keys->second) {
        auto sender = SframeSender::create(kCallCipherSuite, call_key_id(index, epoch),
                                           SecretBytes::copy_of(key), probes_++);
        fuzz::check(sender.has_value(), "a probe sender");
        auto frame = sender->encrypt(kMetadata, as_bytes("probe"));
        fuzz::check(frame.has_value(), "a probe frame");
        auto d = media.decrypt_frame(kMetadata, *frame);
        trace("probe " + device.name + " index " + std::to_string(index) + " epoch " +
              std::to_string(epoch) + ": " +
              (d ? "DECRYPTS" : std::string(to_string(d.error().code()))));
        if (d)
          fail("call " + hex_id(id) + ": " + device.name + "." +
               std::to_string(to_uint(device.device_id)) + " left (index " + std::to_string(index) +
               ") and its key of epoch " + std::to_string(epoch) + " still decrypts");
        const Errc code = d.error().code();
        if (code != Errc::kUnknownKeyId && code != Errc::kAuthenticationFailed)
          fail("a probe frame failed with " + std::string(to_string(code)));
      }
    }
  }

  fuzz::FuzzRandom random_;
  MovingClock clock_;
  Context ctx_;
  std::unique_ptr<InMemoryProtocolStore> store_;
  Relay relay_;
  fuzz::ListDirectory directory_;
  Messenger messenger_;
  std::vector<Peer> peers_;
  std::vector<CallId> started_;
  std::map<CallId, Tracked> tracked_;
  std::vector<Envelope> log_;
  std::deque<std::size_t> in_flight_;
  std::vector<std::size_t> delivered_;
  std::uint64_t envelopes_ = 0;
  std::uint64_t probes_ = 0;
  std::size_t step_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider fdp(data, size);
  World world;
  for (std::size_t steps = 0; steps < kMaxSteps && fdp.remaining_bytes() > 0; ++steps)
    world.step(fdp, steps);
  return 0;
}
