// hush integration tests: calls (call.h) on the in-process relay (support/loopback.h) and an
// in-process SFU that drops 5 % of the frames and reorders them: a 1:1 call that rings every device
// of the callee, where the first answer wins and the others stop ringing; busy; hangup wiping the
// keys; a four-person call through the SFU with synthetic audio (a sine wave in 20 ms frames)
// arriving byte for byte; a participant removed mid-call (and ignoring its removal) decrypting
// nothing sent after the rekey although the SFU still forwards everything to it; replayed and
// altered frames refused; a forged offer ringing nobody; a person with an unresolved identity
// change who cannot be called; the call message parser's checks. With the relay holding back or
// reordering chosen messages: late signals after a hangup (taken, ignored), a hangup before its
// offer and an offer held too long (missed), an old participant list delivered after a newer one
// (a removed person stays out), a muted sender's previous key (gone by time, and at once after a
// removal), a signal that overtakes its answer, a decline and an answer on two devices at once.
// Offers from one person ringing once (a newer one replaces the older), an evicted offer's and a
// ringing call's caller hearing busy when we call out, an offer from a person with an unresolved
// identity change not ringing, and many devices of one person not pushing out a newcomer's key.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>

#include "call/call_message.h"
#include "messenger/content.h"
#include "messenger/envelope.h"
#include "support/call_sfu.h"
#include "support/loopback.h"
#include "support/messenger_user.h"
#include "support/test_support.h"

using namespace hush;
using hush::test::link_new_device;
using hush::test::LoopbackNetwork;
using hush::test::Sfu;
using hush::test::User;

namespace {

std::unique_ptr<User> make_user(const std::string& name, std::uint64_t seed, LoopbackNetwork& net) {
  auto u = std::make_unique<User>(name, seed, net);
  REQUIRE(u->messenger.maintain_keys());
  return u;
}

// What a device was told while draining its queue.
struct Told {
  std::vector<CallEvent> events;
  std::vector<Error> errors;
  std::size_t count(CallEventType t) const {
    return static_cast<std::size_t>(std::count_if(events.begin(), events.end(),
                                                  [&](const CallEvent& e) { return e.type == t; }));
  }
  const CallEvent* first(CallEventType t) const {
    for (const CallEvent& e : events)
      if (e.type == t) return &e;
    return nullptr;
  }
};

Told take_all(LoopbackNetwork& net, User& u) {
  Told told;
  ReceiveOptions o;
  o.on_call = [&](const CallEvent& e) { told.events.push_back(e); };
  auto& q = net.queue(u.address());
  while (!q.empty()) {
    Bytes e = std::move(q.front());
    q.pop_front();
    auto r = u.messenger.receive(e, o);
    if (!r) told.errors.push_back(r.error());
  }
  return told;
}

// Drains every device until no queue holds anything; returns what each was told (by address),
// REQUIRing no receive to fail.
std::map<Address, Told> settle(LoopbackNetwork& net, const std::vector<User*>& users) {
  std::map<Address, Told> out;
  for (int round = 0; round < 8; ++round) {
    bool any = false;
    for (User* u : users) {
      if (net.queue(u->address()).empty()) continue;
      any = true;
      Told t = take_all(net, *u);
      INFO(u->name() << "." << to_uint(u->address().device_id) << ": "
                     << (t.errors.empty() ? "" : to_string(t.errors.front().code())) << " "
                     << (t.errors.empty() ? "" : t.errors.front().where()));
      REQUIRE(t.errors.empty());
      Told& acc = out[u->address()];
      for (CallEvent& e : t.events)
        acc.events.push_back(std::move(e));
    }
    if (!any) break;
  }
  return out;
}

// The host calls `people` (offer "o") and every device's queue is drained: they all ring.
CallId ring(LoopbackNetwork& net, User& host, const std::vector<std::string>& people,
            const std::vector<User*>& all) {
  auto call = host.messenger.start_call(std::span<const std::string>(people), as_bytes("o"));
  REQUIRE(call);
  settle(net, all);
  return *call;
}

// The relay holds back everything queued for `to` so far (there must be something); the caller
// hands it on later, e.g. after newer messages.
std::deque<Bytes> hold_back(LoopbackNetwork& net, const Address& to) {
  std::deque<Bytes> held;
  held.swap(net.queue(to));
  REQUIRE_FALSE(held.empty());
  return held;
}

std::string str(const Bytes& b) {
  return std::string(b.begin(), b.end());
}

bool same(const SecretBytes& a, const Bytes& b) {
  return std::equal(a.expose().begin(), a.expose().end(), b.begin(), b.end());
}

// 20 ms of a sine wave at 48 kHz, 16-bit little-endian mono (what an audio frame's payload looks
// like before a codec): `frequency` Hz, starting at sample `frame * 960`.
Bytes sine_frame(double frequency, int frame) {
  constexpr int kSamples = 960;
  Bytes out;
  out.reserve(2 * kSamples);
  for (int i = 0; i < kSamples; ++i) {
    const double t = static_cast<double>(frame * kSamples + i) / 48000.0;
    const auto s =
        static_cast<std::int16_t>(std::lround(12000.0 * std::sin(2 * M_PI * frequency * t)));
    const auto u = static_cast<std::uint16_t>(s);
    out.push_back(static_cast<std::uint8_t>(u & 0xff));
    out.push_back(static_cast<std::uint8_t>(u >> 8));
  }
  return out;
}

// The metadata every frame carries (the application's, authenticated, not encrypted).
const Bytes kAudio{'a', 'u', 'd', 'i', 'o'};

// What one receiver got from one sender: frame numbers decoded, and failures by error.
struct Got {
  std::map<std::uint32_t, std::size_t> decoded;  // sender index -> frames
  std::map<Errc, std::size_t> refused;
  std::size_t mismatched = 0;
};

// Every participant in `senders` sends `frames` sine frames (its own frequency) through the SFU;
// every receiver in `receivers` decrypts what the SFU hands it and checks each frame byte for byte
// against the one sent.
std::map<Address, Got> exchange(Sfu& sfu, const std::vector<User*>& senders,
                                const std::vector<User*>& receivers, const CallId& call, int frames,
                                int first_frame) {
  std::map<Address, std::map<Bytes, bool>> sent;  // by sender: the frames it sent
  for (int f = first_frame; f < first_frame + frames; ++f)
    for (User* s : senders) {
      auto media = s->messenger.call_media(call);
      REQUIRE(media);
      Sfu::Port port(sfu, s->address());
      const Bytes pcm = sine_frame(200.0 + 100.0 * to_uint(s->address().device_id) +
                                       static_cast<double>(s->name().size()) * 37.0,
                                   f);
      REQUIRE(media->send_frame(port, kAudio, pcm));
      sent[s->address()][pcm] = true;
    }
  std::map<Address, Got> out;
  for (User* r : receivers) {
    auto media = r->messenger.call_media(call);
    Got& got = out[r->address()];
    for (const Bytes& frame : sfu.take(r->address())) {
      if (!media) {
        got.refused[Errc::kCallEnded] += 1;
        continue;
      }
      auto d = media->decrypt_frame(kAudio, frame);
      if (!d) {
        got.refused[d.error().code()] += 1;
        continue;
      }
      const Bytes pt(d->plaintext.expose().begin(), d->plaintext.expose().end());
      if (!sent[d->sender.device].count(pt)) ++got.mismatched;
      got.decoded[d->sender.index] += 1;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("calls: a 1:1 call rings every device and the first answer wins", "[calls]") {
  LoopbackNetwork net;
  auto alice = make_user("alice", 1, net);
  auto bob = make_user("bob", 2, net);
  auto bob2 = link_new_device(*bob, 3, net);
  auto carol = make_user("carol", 4, net);
  std::vector<User*> all{alice.get(), bob.get(), bob2.get(), carol.get()};

  auto call = alice->messenger.start_call("bob", as_bytes("v=0 offer"));
  REQUIRE(call);
  auto told = settle(net, all);
  // Both of bob's devices ring, with the offer; alice hears both ring.
  for (User* b : {bob.get(), bob2.get()}) {
    const CallEvent* in = told[b->address()].first(CallEventType::kIncoming);
    REQUIRE(in);
    CHECK(in->call == *call);
    CHECK(in->from == alice->address());
    CHECK(str(in->payload) == "v=0 offer");
    REQUIRE(in->participants.size() == 1);
    CHECK(in->participants[0] == CallParticipant{alice->address(), 0});
  }
  CHECK(told[alice->address()].count(CallEventType::kRinging) == 2);
  // No key before being admitted: a ringing device cannot encrypt.
  auto ringing_media = bob->messenger.call_media(*call);
  REQUIRE(ringing_media);
  CHECK(ringing_media->encrypt_frame({}, as_bytes("x")).error().code() == Errc::kCallEnded);

  // The second device answers first; the first one stops ringing.
  REQUIRE(bob2->messenger.answer_call(*call, as_bytes("v=0 answer")));
  told = settle(net, all);
  const CallEvent* answered = told[alice->address()].first(CallEventType::kAnswered);
  REQUIRE(answered);
  CHECK(answered->from == bob2->address());
  CHECK(str(answered->payload) == "v=0 answer");
  CHECK(told[bob->address()].count(CallEventType::kAnsweredElsewhere) == 1);
  CHECK(told[bob2->address()].count(CallEventType::kAnswered) == 1);  // connected
  CHECK_FALSE(bob->messenger.call_media(*call));
  CHECK(bob->messenger.answer_call(*call, {}).error().code() == Errc::kUnknownCall);
  CHECK_FALSE(ringing_media->active());

  // Keys: alice moved to epoch 1 when bob2 joined; bob2 drew its first.
  auto a_media = alice->messenger.call_media(*call);
  auto b_media = bob2->messenger.call_media(*call);
  REQUIRE(a_media);
  REQUIRE(b_media);
  CHECK(a_media->own_key_id() == call_key_id(0, 1));
  CHECK(b_media->own_key_id() == call_key_id(1, 0));
  auto parts = alice->messenger.call_participants(*call);
  REQUIRE(parts);
  CHECK(*parts == std::vector<CallParticipant>{{alice->address(), 0}, {bob2->address(), 1}});
  auto frame = a_media->encrypt_frame(kAudio, as_bytes("hello bob"));
  REQUIRE(frame);
  auto got = b_media->decrypt_frame(kAudio, *frame);
  REQUIRE(got);
  CHECK(got->sender == CallParticipant{alice->address(), 0});
  CHECK(got->epoch == 1);
  CHECK(same(got->plaintext, Bytes{'h', 'e', 'l', 'l', 'o', ' ', 'b', 'o', 'b'}));
  auto back = b_media->encrypt_frame(kAudio, as_bytes("hello alice"));
  REQUIRE(back);
  REQUIRE(a_media->decrypt_frame(kAudio, *back));

  // The application's signalling travels both ways.
  REQUIRE(bob2->messenger.send_call_signal(*call, as_bytes("candidate:1 udp")));
  told = settle(net, all);
  const CallEvent* signal = told[alice->address()].first(CallEventType::kSignal);
  REQUIRE(signal);
  CHECK(signal->from == bob2->address());
  CHECK(str(signal->payload) == "candidate:1 udp");

  // Busy: carol calls alice, who is in a call: alice does not ring, carol hears busy.
  auto busy = carol->messenger.start_call("alice", as_bytes("offer"));
  REQUIRE(busy);
  told = settle(net, all);
  CHECK(told[alice->address()].count(CallEventType::kMissed) == 1);
  CHECK(told[alice->address()].count(CallEventType::kIncoming) == 0);
  CHECK_FALSE(alice->messenger.call_media(*busy));
  CHECK(told[carol->address()].count(CallEventType::kBusy) == 1);
  // And alice cannot start another call while in one.
  CHECK(alice->messenger.start_call("carol", {}).error().code() == Errc::kCallInProgress);
  REQUIRE(carol->messenger.hangup(*busy));

  // Hangup: bob2 leaves; the call ends at alice too; every key is wiped on both sides.
  REQUIRE(bob2->messenger.hangup(*call, as_bytes("bye")));
  CHECK_FALSE(b_media->active());
  CHECK(b_media->key_count() == 0);
  told = settle(net, all);
  CHECK(told[alice->address()].count(CallEventType::kLeft) == 1);
  CHECK(told[alice->address()].count(CallEventType::kEnded) == 1);
  CHECK_FALSE(alice->messenger.call_media(*call));
  CHECK_FALSE(a_media->active());
  CHECK(a_media->key_count() == 0);
  CHECK(a_media->encrypt_frame(kAudio, as_bytes("x")).error().code() == Errc::kCallEnded);
  CHECK(b_media->decrypt_frame(kAudio, *frame).error().code() == Errc::kCallEnded);
  CHECK(alice->messenger.hangup(*call).error().code() == Errc::kUnknownCall);
  // A new call may start now.
  auto again = alice->messenger.start_call("carol", {});
  REQUIRE(again);
  REQUIRE(alice->messenger.hangup(*again));
}

TEST_CASE("calls: four people through a lossy reordering SFU then one removed", "[calls]") {
  LoopbackNetwork net;
  auto alice = make_user("alice", 11, net);
  auto bob = make_user("bob", 12, net);
  auto carol = make_user("carol", 13, net);
  auto dave = make_user("dave", 14, net);
  std::vector<User*> all{alice.get(), bob.get(), carol.get(), dave.get()};

  const std::vector<std::string> people{"bob", "carol", "dave"};
  auto call = alice->messenger.start_call(people, as_bytes("offer"));
  REQUIRE(call);
  settle(net, all);
  for (User* u : {bob.get(), carol.get(), dave.get()})
    REQUIRE(u->messenger.answer_call(*call, as_bytes("answer")));
  auto told = settle(net, all);
  for (User* u : {bob.get(), carol.get(), dave.get()})
    CHECK(told[u->address()].count(CallEventType::kAnswered) == 1);
  auto parts = alice->messenger.call_participants(*call);
  REQUIRE(parts);
  REQUIRE(parts->size() == 4);
  for (User* u : all) {
    auto p = u->messenger.call_participants(*call);
    REQUIRE(p);
    CHECK(*p == *parts);  // every participant holds the host's list
    // Everyone's keys, some also with the previous one (kept for frames in flight).
    CHECK(u->messenger.call_media(*call)->key_count() >= 3);
  }

  Sfu sfu(2026);
  for (User* u : all)
    sfu.subscribe(u->address());
  // 2 s of audio from everyone (100 frames each); 5 % are dropped, the rest reordered.
  constexpr int kFrames = 100;
  auto got = exchange(sfu, all, all, *call, kFrames, 0);
  for (User* r : all) {
    const Got& g = got[r->address()];
    INFO("at " << r->name());
    CHECK(g.refused.empty());
    CHECK(g.mismatched == 0);
    CHECK(g.decoded.size() == 3);
    for (const auto& [index, n] : g.decoded)
      CHECK(n >= kFrames * 9 / 10);  // ≥ 90 % arrive (5 % dropped on average)
  }
  CHECK(sfu.dropped() > 0);
  // Past kCallOldKeyFrames frames under everyone's newest key, the previous ones are wiped.
  for (User* u : all)
    CHECK(u->messenger.call_media(*call)->key_count() == 3);

  // Dave is removed. He ignores it (a modified client, or the relay withholds the hangup): he
  // keeps his media and every key he held.
  auto dave_media = dave->messenger.call_media(*call);
  REQUIRE(dave_media);
  REQUIRE(alice->messenger.remove_from_call(*call, "dave"));
  net.queue(dave->address()).clear();
  told = settle(net, {alice.get(), bob.get(), carol.get()});
  for (User* u : {bob.get(), carol.get()})
    CHECK(told[u->address()].count(CallEventType::kParticipants) == 1);
  for (User* u : {alice.get(), bob.get(), carol.get()}) {
    auto p = u->messenger.call_participants(*call);
    REQUIRE(p);
    CHECK(p->size() == 3);
  }
  REQUIRE(dave_media->active());
  CHECK(dave_media->key_count() == 3);

  // The SFU still forwards every frame to dave: he decrypts none of them.
  got = exchange(sfu, {alice.get(), bob.get(), carol.get()}, all, *call, kFrames, kFrames);
  const Got& at_dave = got[dave->address()];
  CHECK(at_dave.decoded.empty());
  CHECK(at_dave.refused.size() == 1);
  CHECK(at_dave.refused.count(Errc::kUnknownKeyId) == 1);
  CHECK(at_dave.refused.at(Errc::kUnknownKeyId) >= 3 * kFrames * 9 / 10);
  for (User* r : {alice.get(), bob.get(), carol.get()}) {
    const Got& g = got[r->address()];
    INFO("at " << r->name());
    CHECK(g.refused.empty());
    CHECK(g.mismatched == 0);
    CHECK(g.decoded.size() == 2);
    for (const auto& [index, n] : g.decoded)
      CHECK(n >= kFrames * 9 / 10);
  }
  // The remaining ones moved on (epoch 1 when the last joined... and one more now).
  for (User* u : {alice.get(), bob.get(), carol.get()}) {
    auto id = u->messenger.call_media(*call)->own_key_id();
    REQUIRE(id);
    CHECK(dave_media
              ->decrypt_frame(
                  kAudio, *u->messenger.call_media(*call)->encrypt_frame(kAudio, as_bytes("after")))
              .error()
              .code() == Errc::kUnknownKeyId);
  }
  // Dave's old key is gone at the others: his frames are refused.
  auto from_dave = dave_media->encrypt_frame(kAudio, as_bytes("still here"));
  REQUIRE(from_dave);
  CHECK(bob->messenger.call_media(*call)->decrypt_frame(kAudio, *from_dave).error().code() ==
        Errc::kUnknownKeyId);
  // Carol leaves: alice and bob drop her keys and move on to keys she never gets.
  auto carol_media = carol->messenger.call_media(*call);
  const auto alice_key = alice->messenger.call_media(*call)->own_key_id();
  const auto bob_key = bob->messenger.call_media(*call)->own_key_id();
  REQUIRE(carol->messenger.hangup(*call));
  CHECK_FALSE(carol_media->active());
  told = settle(net, {alice.get(), bob.get(), carol.get()});
  for (User* u : {alice.get(), bob.get()}) {
    CHECK(told[u->address()].count(CallEventType::kLeft) == 1);
    auto p = u->messenger.call_participants(*call);
    REQUIRE(p);
    CHECK(p->size() == 2);
  }
  CHECK(alice->messenger.call_media(*call)->own_key_id() == *alice_key + 256);
  CHECK(bob->messenger.call_media(*call)->own_key_id() == *bob_key + 256);
  got = exchange(sfu, {alice.get(), bob.get()}, {alice.get(), bob.get(), carol.get(), dave.get()},
                 *call, 10, 2 * kFrames);
  for (User* gone : {carol.get(), dave.get()})
    CHECK(got[gone->address()].decoded.empty());
  CHECK(got[alice->address()].decoded.size() == 1);
  CHECK(got[bob->address()].decoded.size() == 1);
  // The host hangs up: the call ends for everyone.
  REQUIRE(alice->messenger.hangup(*call));
  told = settle(net, {alice.get(), bob.get(), carol.get()});
  CHECK(told[bob->address()].count(CallEventType::kEnded) == 1);
  CHECK_FALSE(bob->messenger.call_media(*call));
}

TEST_CASE("calls: offers never hung up do not make a device busy for good", "[calls]") {
  LoopbackNetwork net;
  auto alice = make_user("alice", 51, net);
  std::vector<std::unique_ptr<User>> callers;
  std::vector<User*> all{alice.get()};
  std::vector<CallId> calls;
  for (std::size_t i = 0; i <= kMaxCalls; ++i) {
    callers.push_back(make_user("caller" + std::to_string(i), 60 + i, net));
    all.push_back(callers.back().get());
    auto c = callers.back()->messenger.start_call("alice", {});
    REQUIRE(c);
    calls.push_back(*c);
  }
  auto told = settle(net, all);
  const Told& at_alice = told[alice->address()];
  CHECK(at_alice.count(CallEventType::kIncoming) == kMaxCalls + 1);
  CHECK(at_alice.count(CallEventType::kMissed) == 0);
  // The oldest offer made room for the newest; its caller heard busy (and stops waiting).
  REQUIRE(at_alice.count(CallEventType::kEnded) == 1);
  CHECK(at_alice.first(CallEventType::kEnded)->call == calls.front());
  CHECK_FALSE(alice->messenger.call_media(calls.front()));
  const Told& at_first = told[callers.front()->address()];
  REQUIRE(at_first.count(CallEventType::kBusy) == 1);
  CHECK(at_first.first(CallEventType::kBusy)->call == calls.front());
  for (std::size_t i = 1; i <= kMaxCalls; ++i)
    CHECK(told[callers[i]->address()].count(CallEventType::kBusy) == 0);
  for (std::size_t i = 1; i <= kMaxCalls; ++i)
    CHECK(alice->messenger.call_media(calls[i]));
  REQUIRE(alice->messenger.answer_call(calls.back(), {}));
  settle(net, all);
  CHECK(alice->messenger.call_participants(calls.back())->size() == 2);
}

TEST_CASE("calls: a callee whose identity changed meanwhile is not admitted", "[calls]") {
  LoopbackNetwork net;
  auto alice = make_user("alice", 71, net);
  auto bob = make_user("bob", 72, net);
  auto carol = make_user("carol", 73, net);
  std::vector<User*> all{alice.get(), bob.get(), carol.get()};
  const std::vector<std::string> people{"bob", "carol"};
  auto call = alice->messenger.start_call(people, {});
  REQUIRE(call);
  settle(net, all);
  // Carol's identity changes under alice (a reinstall, or a lying directory) before she answers.
  User carol2("carol", 74, net);
  REQUIRE(carol2.messenger.maintain_keys());
  CHECK(alice->messenger.send("carol", as_bytes("hm?")).error().code() == Errc::kUntrustedIdentity);
  REQUIRE(alice->messenger.identity_change("carol"));
  REQUIRE(bob->messenger.answer_call(*call, {}));
  REQUIRE(carol->messenger.answer_call(*call, {}));
  // Whatever alice makes of carol's answer (refused with the change pending, or taken and
  // turned away), carol is not admitted and gets no key.
  for (int round = 0; round < 6; ++round)
    for (User* u : all) {
      auto& q = net.queue(u->address());
      while (!q.empty()) {
        Bytes e = std::move(q.front());
        q.pop_front();
        (void)u->messenger.receive(e);
      }
    }
  auto parts = alice->messenger.call_participants(*call);
  REQUIRE(parts);
  CHECK(*parts == std::vector<CallParticipant>{{alice->address(), 0}, {bob->address(), 1}});
  auto carol_media = carol->messenger.call_media(*call);
  CHECK((!carol_media || carol_media->key_count() == 0));
  REQUIRE(alice->messenger.hangup(*call));
}

TEST_CASE("calls: a replayed or altered frame is refused", "[calls]") {
  LoopbackNetwork net;
  auto alice = make_user("alice", 21, net);
  auto bob = make_user("bob", 22, net);
  std::vector<User*> all{alice.get(), bob.get()};
  auto call = alice->messenger.start_call("bob", {});
  REQUIRE(call);
  settle(net, all);
  REQUIRE(bob->messenger.answer_call(*call, {}));
  settle(net, all);
  auto a = alice->messenger.call_media(*call);
  auto b = bob->messenger.call_media(*call);
  auto frame = a->encrypt_frame(kAudio, as_bytes("frame one"));
  REQUIRE(frame);
  Bytes altered = *frame;
  altered.back() ^= 0x01;
  CHECK(b->decrypt_frame(kAudio, altered).error().code() == Errc::kAuthenticationFailed);
  Bytes body_altered = *frame;
  body_altered[body_altered.size() / 2] ^= 0x80;
  CHECK(b->decrypt_frame(kAudio, body_altered).error().code() == Errc::kAuthenticationFailed);
  CHECK(b->decrypt_frame(as_bytes("video"), *frame).error().code() == Errc::kAuthenticationFailed);
  REQUIRE(b->decrypt_frame(kAudio, *frame));  // the refusals changed nothing
  CHECK(b->decrypt_frame(kAudio, *frame).error().code() == Errc::kReplayedFrame);
  // A frame under a key id no one gave bob.
  auto forged = SframeSender::create(kCallCipherSuite, call_key_id(0, 7),
                                     SecretBytes::copy_of(Bytes(32, 0x11)));
  REQUIRE(forged);
  CHECK(b->decrypt_frame(kAudio, *forged->encrypt(kAudio, as_bytes("x"))).error().code() ==
        Errc::kUnknownKeyId);
  // One under alice's key id but another key.
  auto wrong = SframeSender::create(kCallCipherSuite, *a->own_key_id(),
                                    SecretBytes::copy_of(Bytes(32, 0x22)), 1000);
  REQUIRE(wrong);
  CHECK(b->decrypt_frame(kAudio, *wrong->encrypt(kAudio, as_bytes("x"))).error().code() ==
        Errc::kAuthenticationFailed);
  REQUIRE(alice->messenger.hangup(*call));
}

TEST_CASE("calls: a forged or altered offer rings nobody", "[calls]") {
  LoopbackNetwork net;
  auto alice = make_user("alice", 31, net);
  auto bob = make_user("bob", 32, net);
  auto mallory = make_user("mallory", 33, net);
  std::vector<User*> all{alice.get(), bob.get(), mallory.get()};
  // Sessions both ways first.
  test::send_ok(*alice, "bob", "hi");
  test::send_ok(*mallory, "bob", "hi");
  settle(net, all);
  test::send_ok(*bob, "alice", "hi");  // alice's next message is a plain SignalMessage
  settle(net, all);

  // The relay alters alice's offer in flight: it does not decrypt, and nothing rings.
  auto call = alice->messenger.start_call("bob", as_bytes("offer"));
  REQUIRE(call);
  auto& q = net.queue(bob->address());
  REQUIRE(q.size() == 1);
  Bytes envelope = q.front();
  q.clear();
  {
    // Flip a bit inside the Signal message's MAC (the body's last bytes).
    auto parts = internal::parse_envelope(envelope);
    REQUIRE(parts);
    auto at = std::search(envelope.begin(), envelope.end(), parts->body.begin(), parts->body.end());
    REQUIRE(at != envelope.end());
    *(at + static_cast<std::ptrdiff_t>(parts->body.size()) - 3) ^= 0x01;
  }
  Told told;
  ReceiveOptions o;
  o.on_call = [&](const CallEvent& e) { told.events.push_back(e); };
  auto r = bob->messenger.receive(envelope, o);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::kInvalidMessage);
  CHECK(told.events.empty());
  CHECK_FALSE(bob->messenger.call_media(*call));

  // Mallory sends an offer in alice's name (the list names alice as host) over her own session:
  // refused, nothing rings.
  internal::CallMessageParts forged;
  forged.id = *call;
  forged.type = internal::CallMessageType::kOffer;
  forged.payload = {'x'};
  forged.participants = {CallParticipant{alice->address(), 0}};
  internal::MessageId id{};
  id.fill(7);
  const SecretBytes content = internal::build_call_content(id, 1, forged);
  auto m =
      encrypt_message(*mallory->party.ctx, *mallory->party.store, bob->address(), content.expose());
  REQUIRE(m);
  internal::EnvelopeId eid{};
  eid.fill(0x42);
  r = bob->messenger.receive(internal::build_envelope(mallory->address(), *m, eid), o);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::kInvalidCallMessage);
  CHECK(told.events.empty());
  CHECK_FALSE(bob->messenger.call_media(*call));
  // Nor can she hand bob a participant list for a call he does not hold, or a key.
  forged.type = internal::CallMessageType::kParticipants;
  forged.payload.clear();
  auto m2 = encrypt_message(*mallory->party.ctx, *mallory->party.store, bob->address(),
                            internal::build_call_content(id, 1, forged).expose());
  REQUIRE(m2);
  eid.fill(0x43);
  // (A list for a call not held is taken as a late one: committed and ignored, no call appears.)
  r = bob->messenger.receive(internal::build_envelope(mallory->address(), *m2, eid), o);
  REQUIRE(r);
  CHECK(told.events.empty());
  CHECK_FALSE(bob->messenger.call_media(*call));
  CHECK(bob->messenger.call_participants(*call).error().code() == Errc::kUnknownCall);
}

TEST_CASE("calls: late signals keys and lists for a call hung up are committed and ignored",
          "[calls]") {
  LoopbackNetwork net;
  auto alice = make_user("alice", 41, net);
  auto bob = make_user("bob", 42, net);
  std::vector<User*> all{alice.get(), bob.get()};
  auto call = alice->messenger.start_call("bob", as_bytes("offer"));
  REQUIRE(call);
  settle(net, all);
  REQUIRE(bob->messenger.answer_call(*call, as_bytes("answer")));
  settle(net, all);
  REQUIRE(bob->messenger.call_media(*call));
  // Bob sends ICE while alice hangs up: alice meets bob's signal for a call she no longer holds.
  REQUIRE(bob->messenger.send_call_signal(*call, as_bytes("candidate:1")));
  REQUIRE(bob->messenger.send_call_signal(*call, as_bytes("candidate:2")));
  REQUIRE(alice->messenger.hangup(*call));
  REQUIRE(net.queue(alice->address()).size() == 2);
  Told late = take_all(net, *alice);
  CHECK(late.errors.empty());  // committed (a refusal would leave skipped keys behind)
  CHECK(late.events.empty());
  // The session moved on: the next message from bob is read at once.
  test::send_ok(*bob, "alice", "still there?");
  Told next = take_all(net, *alice);
  CHECK(next.errors.empty());
  Told b = take_all(net, *bob);
  CHECK(b.errors.empty());
  CHECK(b.count(CallEventType::kEnded) == 1);
  CHECK(alice->messenger.hangup(*call).error().code() == Errc::kUnknownCall);
}

TEST_CASE("calls: a person with an unresolved identity change cannot be called", "[calls]") {
  LoopbackNetwork net;
  User alice("alice", 41, net);
  User bob("bob", 42, net);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  test::send_ok(alice, "bob", "before");
  settle(net, {&alice, &bob});
  User bob2("bob", 43, net);  // bob reinstalls: a new identity, a new device list
  REQUIRE(bob2.messenger.maintain_keys());
  auto call = alice.messenger.start_call("bob", as_bytes("offer"));
  REQUIRE_FALSE(call);
  CHECK(call.error().code() == Errc::kCallPartyUntrusted);
  CHECK(net.queue(bob.address()).empty());
  REQUIRE(alice.messenger.identity_change("bob"));
  // Still refused on the next try; approved, the call goes.
  CHECK(alice.messenger.start_call("bob", {}).error().code() == Errc::kCallPartyUntrusted);
  REQUIRE(alice.messenger.approve_identity("bob", bob2.identity()));
  auto approved = alice.messenger.start_call("bob", as_bytes("offer"));
  REQUIRE(approved);
  REQUIRE(alice.messenger.hangup(*approved));
}

TEST_CASE("calls: the call message parser refuses what is malformed", "[calls]") {
  using internal::CallMessageParts;
  using internal::CallMessageType;
  auto parse = [](const CallMessageParts& p) {
    return internal::parse_call_message(internal::serialize_call_message(p).expose());
  };
  auto make_offer = [] {
    CallMessageParts offer;
    offer.id.fill(1);
    offer.type = CallMessageType::kOffer;
    offer.payload = Bytes(kMaxCallPayloadBytes, 'p');
    offer.participants = {CallParticipant{Address{"alice", DeviceId{1}}, 0},
                          CallParticipant{Address{"bob", DeviceId{2}}, 3}};
    return offer;
  };
  const CallMessageParts offer = make_offer();
  auto ok = parse(offer);
  REQUIRE(ok);
  CHECK(ok->participants == offer.participants);
  CHECK(ok->payload == offer.payload);

  CallMessageParts big = std::move(*ok);
  big.payload.push_back('!');
  CHECK(parse(big).error().code() == Errc::kLimitExceeded);
  CallMessageParts no_host = make_offer();
  no_host.participants.erase(no_host.participants.begin());
  CHECK(parse(no_host).error().code() == Errc::kInvalidCallMessage);
  CallMessageParts twice = make_offer();
  twice.participants[1].device.name = "alice";
  CHECK(parse(twice).error().code() == Errc::kInvalidCallMessage);
  CallMessageParts descending = make_offer();
  std::swap(descending.participants[0].index, descending.participants[1].index);
  CHECK(parse(descending).error().code() == Errc::kInvalidCallMessage);
  CallMessageParts high = make_offer();
  high.participants[1].index = kMaxCallIndices;
  CHECK(parse(high).error().code() == Errc::kInvalidCallMessage);
  CallMessageParts too_many = make_offer();
  too_many.participants.clear();
  for (std::uint32_t i = 0; i <= kMaxCallParticipants; ++i)
    too_many.participants.push_back(
        CallParticipant{Address{"p" + std::to_string(i), DeviceId{1}}, i});
  CHECK(parse(too_many).error().code() == Errc::kLimitExceeded);

  CallMessageParts key;
  key.id.fill(2);
  key.type = CallMessageType::kKey;
  key.key = internal::CallKeyParts{5, SecretBytes::copy_of(Bytes(kCallBaseKeyBytes, 9))};
  auto k = parse(key);
  REQUIRE(k);
  REQUIRE(k->key);
  CHECK(k->key->epoch == 5);
  key.key->key = SecretBytes::copy_of(Bytes(16, 9));
  CHECK(parse(key).error().code() == Errc::kInvalidCallMessage);
  key.key.reset();
  CHECK(parse(key).error().code() == Errc::kInvalidCallMessage);
  CallMessageParts busy_with_payload;
  busy_with_payload.type = CallMessageType::kBusy;
  busy_with_payload.payload = {'x'};
  CHECK(parse(busy_with_payload).error().code() == Errc::kInvalidCallMessage);

  CHECK(internal::parse_call_message(as_bytes("\x0a\x03"
                                              "abc"))
            .error()
            .code() == Errc::kInvalidCallMessage);  // a 3-byte call id
  CHECK(internal::parse_call_message(as_bytes("\xff")).error().code() == Errc::kInvalidProtobuf);
}

TEST_CASE("calls: an offer delivered after its hangup or held back too long never rings",
          "[calls]") {
  LoopbackNetwork net;
  auto alice = make_user("alice", 51, net);
  auto bob = make_user("bob", 52, net);
  std::vector<User*> all{alice.get(), bob.get()};
  // The relay holds alice's offer back and delivers her hangup first.
  auto call = alice->messenger.start_call("bob", as_bytes("offer"));
  REQUIRE(call);
  auto& q = net.queue(bob->address());
  REQUIRE(q.size() == 1);
  Bytes offer = std::move(q.front());
  q.clear();
  REQUIRE(alice->messenger.hangup(*call));
  REQUIRE(q.size() == 1);
  q.push_back(std::move(offer));
  auto told = settle(net, all);
  CHECK(told[bob->address()].count(CallEventType::kIncoming) == 0);
  CHECK(told[bob->address()].count(CallEventType::kMissed) == 1);
  CHECK_FALSE(bob->messenger.call_media(*call));
  CHECK(told[alice->address()].count(CallEventType::kRinging) == 0);

  // The relay holds an offer for longer than kMaxCallOfferAgeMs: missed, never rings.
  auto late = alice->messenger.start_call("bob", as_bytes("offer 2"));
  REQUIRE(late);
  bob->party.clock->set(bob->party.clock->now_ms() + kMaxCallOfferAgeMs + 1);
  told = settle(net, all);
  CHECK(told[bob->address()].count(CallEventType::kIncoming) == 0);
  CHECK(told[bob->address()].count(CallEventType::kMissed) == 1);
  CHECK_FALSE(bob->messenger.call_media(*late));
  REQUIRE(alice->messenger.hangup(*late));
  settle(net, all);

  // Within the bound it rings.
  alice->party.clock->set(bob->party.clock->now_ms());
  auto fresh = alice->messenger.start_call("bob", as_bytes("offer 3"));
  REQUIRE(fresh);
  bob->party.clock->set(bob->party.clock->now_ms() + kMaxCallOfferAgeMs);
  told = settle(net, all);
  CHECK(told[bob->address()].count(CallEventType::kIncoming) == 1);
  REQUIRE(bob->messenger.call_media(*fresh));
}

TEST_CASE("calls: an old participant list delivered late does not bring a removed person back",
          "[calls]") {
  LoopbackNetwork net;
  auto alice = make_user("alice", 61, net);
  auto bob = make_user("bob", 62, net);
  auto carol = make_user("carol", 63, net);
  auto dave = make_user("dave", 64, net);
  std::vector<User*> all{alice.get(), bob.get(), carol.get(), dave.get()};
  const std::vector<std::string> people{"bob", "carol", "dave"};
  const CallId call = ring(net, *alice, people, all);
  REQUIRE(bob->messenger.answer_call(call, {}));
  REQUIRE(carol->messenger.answer_call(call, {}));
  settle(net, all);
  // Dave joins: alice's list L1 {alice, bob, carol, dave} (and her key for it); the relay holds
  // back what alice sends carol.
  REQUIRE(dave->messenger.answer_call(call, {}));
  take_all(net, *alice);
  std::deque<Bytes> held = hold_back(net, carol->address());
  auto& q = net.queue(carol->address());
  // Bob is removed: L2 {alice, carol, dave}; the relay hands carol L2 first, then L1.
  REQUIRE(alice->messenger.remove_from_call(call, "bob"));
  for (Bytes& e : held)
    q.push_back(std::move(e));
  settle(net, all);
  auto parts = carol->messenger.call_participants(call);
  REQUIRE(parts);
  CHECK(std::none_of(parts->begin(), parts->end(),
                     [&](const CallParticipant& p) { return p.device == bob->address(); }));
  CHECK(*parts == *alice->messenger.call_participants(call));
  CHECK_FALSE(bob->messenger.call_media(call));
  // Carol and alice still hear each other under their current keys.
  auto a_media = alice->messenger.call_media(call);
  auto c_media = carol->messenger.call_media(call);
  REQUIRE(a_media);
  REQUIRE(c_media);
  auto f = a_media->encrypt_frame(kAudio, as_bytes("to carol"));
  REQUIRE(f);
  CHECK(c_media->decrypt_frame(kAudio, *f));
  auto g = c_media->encrypt_frame(kAudio, as_bytes("to alice"));
  REQUIRE(g);
  CHECK(a_media->decrypt_frame(kAudio, *g));
}

TEST_CASE("calls: a muted sender's previous key goes by time and at once after a removal",
          "[calls]") {
  LoopbackNetwork net;
  auto alice = make_user("alice", 71, net);
  auto bob = make_user("bob", 72, net);
  auto carol = make_user("carol", 73, net);
  auto dave = make_user("dave", 74, net);
  std::vector<User*> all{alice.get(), bob.get(), carol.get(), dave.get()};
  const std::vector<std::string> people{"bob", "carol", "dave"};
  const CallId call = ring(net, *alice, people, all);
  REQUIRE(bob->messenger.answer_call(call, {}));
  settle(net, all);
  auto a_media = alice->messenger.call_media(call);
  auto b_media = bob->messenger.call_media(call);
  REQUIRE(a_media);
  REQUIRE(b_media);
  // Bob's frames under his current key, sent before the next change and delivered late.
  std::vector<Bytes> old;
  for (int i = 0; i < 3; ++i) {
    auto f = b_media->encrypt_frame(kAudio, as_bytes("old"));
    REQUIRE(f);
    old.push_back(*f);
  }
  // Carol joins: bob moves to a new key, then stays muted.
  REQUIRE(carol->messenger.answer_call(call, {}));
  settle(net, all);
  CHECK(a_media->decrypt_frame(kAudio, old[0]));  // in flight: still read
  alice->party.clock->set(alice->party.clock->now_ms() + kCallOldKeyMs);
  CHECK(a_media->decrypt_frame(kAudio, old[1]).error().code() == Errc::kUnknownKeyId);

  // Dave joins, then is removed: the keys dave held go at once at alice, muted senders or not.
  REQUIRE(dave->messenger.answer_call(call, {}));
  settle(net, all);
  auto held = b_media->encrypt_frame(kAudio, as_bytes("dave heard this key"));
  REQUIRE(held);
  REQUIRE(alice->messenger.remove_from_call(call, "dave"));
  settle(net, all);
  CHECK(a_media->decrypt_frame(kAudio, *held).error().code() == Errc::kUnknownKeyId);
  auto fresh = b_media->encrypt_frame(kAudio, as_bytes("new"));
  REQUIRE(fresh);
  CHECK(a_media->decrypt_frame(kAudio, *fresh));
}

TEST_CASE("calls: a signal that overtakes its answer reaches the host", "[calls]") {
  LoopbackNetwork net;
  auto alice = make_user("alice", 81, net);
  auto bob = make_user("bob", 82, net);
  std::vector<User*> all{alice.get(), bob.get()};
  auto call = alice->messenger.start_call("bob", as_bytes("offer"));
  REQUIRE(call);
  settle(net, all);
  REQUIRE(bob->messenger.answer_call(*call, as_bytes("answer")));
  REQUIRE(bob->messenger.send_call_signal(*call, as_bytes("candidate:1")));
  // The relay delivers the signal first.
  auto& q = net.queue(alice->address());
  REQUIRE(q.size() == 2);
  std::swap(q.front(), q.back());
  auto told = settle(net, all);
  const CallEvent* signal = told[alice->address()].first(CallEventType::kSignal);
  REQUIRE(signal);
  CHECK(str(signal->payload) == "candidate:1");
  CHECK(told[alice->address()].count(CallEventType::kAnswered) == 1);
}

TEST_CASE("calls: an answer after the person declined on another device ends the call there",
          "[calls]") {
  LoopbackNetwork net;
  auto alice = make_user("alice", 91, net);
  auto bob = make_user("bob", 92, net);
  auto bob2 = link_new_device(*bob, 93, net);
  std::vector<User*> all{alice.get(), bob.get(), bob2.get()};
  auto call = alice->messenger.start_call("bob", as_bytes("offer"));
  REQUIRE(call);
  settle(net, all);
  // Bob declines on one device while answering on the other; alice gets the decline first.
  REQUIRE(bob->messenger.hangup(*call));
  REQUIRE(bob2->messenger.answer_call(*call, as_bytes("answer")));
  auto told = settle(net, all);
  CHECK(told[alice->address()].count(CallEventType::kAnswered) == 0);
  CHECK(told[bob2->address()].count(CallEventType::kEnded) == 1);
  CHECK_FALSE(bob2->messenger.call_media(*call));
  CHECK_FALSE(alice->messenger.call_media(*call));
  // Bob's second device is free again.
  auto again = bob2->messenger.start_call("alice", {});
  CHECK(again);
}

TEST_CASE("calls: one caller's offers ring once and do not block our own calls", "[calls]") {
  LoopbackNetwork net;
  auto alice = make_user("alice", 101, net);
  auto bob = make_user("bob", 102, net);
  auto carol = make_user("carol", 103, net);
  auto mallory = make_user("mallory", 104, net);
  std::vector<User*> all{alice.get(), bob.get(), carol.get(), mallory.get()};
  // Mallory calls alice kMaxCalls times; the relay drops each of her hangups (or she never sends
  // them): alice gets kMaxCalls offers from one person.
  std::vector<CallId> offers;
  for (std::size_t i = 0; i < kMaxCalls; ++i) {
    auto c = mallory->messenger.start_call("alice", as_bytes("offer"));
    REQUIRE(c);
    offers.push_back(*c);
    REQUIRE(mallory->messenger.hangup(*c));
    auto& q = net.queue(alice->address());
    REQUIRE(q.size() == i + 2);
    q.pop_back();  // the hangup
  }
  auto told = settle(net, all);
  // Each newer offer replaced the older one: one call of mallory's rings.
  CHECK(told[alice->address()].count(CallEventType::kIncoming) == kMaxCalls);
  CHECK(told[alice->address()].count(CallEventType::kEnded) == kMaxCalls - 1);
  for (std::size_t i = 0; i + 1 < kMaxCalls; ++i)
    CHECK_FALSE(alice->messenger.call_media(offers[i]));
  CHECK(alice->messenger.call_media(offers.back()));

  // Bob's genuine call rings beside it.
  auto from_bob = bob->messenger.start_call("alice", as_bytes("hi alice"));
  REQUIRE(from_bob);
  told = settle(net, all);
  CHECK(told[alice->address()].count(CallEventType::kIncoming) == 1);
  CHECK(told[alice->address()].count(CallEventType::kEnded) == 0);
  CHECK(told[bob->address()].count(CallEventType::kRinging) == 1);

  // Alice calls carol instead of answering: what rang ends, and bob hears busy.
  auto out = alice->messenger.start_call("carol", as_bytes("offer"));
  REQUIRE(out);
  CHECK_FALSE(alice->messenger.call_media(*from_bob));
  CHECK_FALSE(alice->messenger.call_media(offers.back()));
  told = settle(net, all);
  CHECK(told[bob->address()].count(CallEventType::kBusy) == 1);
  CHECK(told[carol->address()].count(CallEventType::kIncoming) == 1);
  REQUIRE(alice->messenger.hangup(*out));
  REQUIRE(bob->messenger.hangup(*from_bob));
}

TEST_CASE("calls: an offer from a caller whose identity change is unresolved does not ring",
          "[calls]") {
  LoopbackNetwork net;
  auto alice = make_user("alice", 111, net);
  auto bob = make_user("bob", 112, net);
  test::send_ok(*alice, "bob", "before");
  settle(net, {alice.get(), bob.get()});
  // Bob's identity changes under alice (a reinstall elsewhere, or a lying directory);
  // alice meets the change and has not resolved it.
  User bob_new("bob", 113, net);
  REQUIRE(bob_new.messenger.maintain_keys());
  CHECK(alice->messenger.send("bob", as_bytes("hm?")).error().code() == Errc::kUntrustedIdentity);
  REQUIRE(alice->messenger.identity_change("bob"));
  // Bob's old device calls alice over the session they had: alice's phone does not ring, and
  // bob's hears busy.
  auto call = bob->messenger.start_call("alice", as_bytes("offer"));
  REQUIRE(call);
  auto told = settle(net, {alice.get(), bob.get()});
  CHECK(told[alice->address()].count(CallEventType::kIncoming) == 0);
  CHECK(told[alice->address()].count(CallEventType::kMissed) == 1);
  CHECK_FALSE(alice->messenger.call_media(*call));
  // (The busy went over the old session: bob's old device read it.)
  CHECK(told[bob->address()].count(CallEventType::kBusy) == 1);
  // Still no message to bob.
  CHECK(alice->messenger.send("bob", as_bytes("hm?")).error().code() == Errc::kUntrustedIdentity);
  REQUIRE(bob->messenger.hangup(*call));
}

TEST_CASE("calls: many devices of one person cannot push out a newcomer's early key", "[calls]") {
  LoopbackNetwork net;
  auto alice = make_user("alice", 121, net);
  auto carol = make_user("carol", 122, net);
  auto dave = make_user("dave", 123, net);
  auto mallory = make_user("mallory", 124, net);
  std::vector<User*> mallorys{mallory.get()};
  std::vector<std::unique_ptr<User>> linked;
  for (std::size_t i = 1; i < kMaxCallParticipants; ++i) {
    linked.push_back(link_new_device(*mallory, 130 + i, net));
    mallorys.push_back(linked.back().get());
  }
  std::vector<User*> all{alice.get(), carol.get(), dave.get()};
  const std::vector<std::string> people{"carol", "dave"};
  const CallId call = ring(net, *alice, people, all);
  REQUIRE(carol->messenger.answer_call(call, {}));
  settle(net, all);
  // Dave joins; the relay holds back what alice sends carol (her key and the list naming dave),
  // so dave's first key reaches carol before the list: carol keeps it for when dave is listed.
  REQUIRE(dave->messenger.answer_call(call, {}));
  take_all(net, *alice);
  std::deque<Bytes> held = hold_back(net, carol->address());
  auto& q = net.queue(carol->address());
  take_all(net, *dave);
  REQUIRE(q.size() == 1);  // dave's key
  REQUIRE(take_all(net, *carol).errors.empty());
  // Every device of mallory's (she learned the call id) sends carol a key for the call: taken,
  // and at most one kept for her.
  for (std::size_t i = 0; i < mallorys.size(); ++i) {
    User& d = *mallorys[i];
    auto bundle = net.fetch(carol->address());
    REQUIRE(bundle);
    REQUIRE(process_prekey_bundle(*d.party.ctx, *d.party.store, carol->address(), *bundle));
    internal::CallMessageParts key;
    key.id = call;
    key.type = internal::CallMessageType::kKey;
    key.key = internal::CallKeyParts{0, SecretBytes::copy_of(Bytes(kCallBaseKeyBytes, 0x55))};
    internal::MessageId id{};
    id.fill(static_cast<std::uint8_t>(i + 1));
    auto m = encrypt_message(*d.party.ctx, *d.party.store, carol->address(),
                             internal::build_call_content(id, 1, key).expose());
    REQUIRE(m);
    internal::EnvelopeId eid{};
    eid.fill(static_cast<std::uint8_t>(0x80 + i));
    REQUIRE(carol->messenger.receive(internal::build_envelope(d.address(), *m, eid)));
  }
  // The list arrives: dave's early key is installed, and carol reads dave.
  for (Bytes& e : held)
    q.push_back(std::move(e));
  settle(net, all);
  auto parts = carol->messenger.call_participants(call);
  REQUIRE(parts);
  CHECK(parts->size() == 3);
  auto d_media = dave->messenger.call_media(call);
  auto c_media = carol->messenger.call_media(call);
  REQUIRE(d_media);
  REQUIRE(c_media);
  auto f = d_media->encrypt_frame(kAudio, as_bytes("dave speaks"));
  REQUIRE(f);
  auto got = c_media->decrypt_frame(kAudio, *f);
  REQUIRE(got);
  CHECK(got->sender.device == dave->address());
}
