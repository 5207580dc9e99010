// hush: the Messenger's calls (see call.h): signalling over the 1:1 sessions, the host's
// participant list, and each participant's keys, drawn fresh whenever the list changes and sent
// only to the participants listed. State is in memory only (CallRegistry).
#include <hush/limits.h>
#include <hush/messenger.h>

#include <algorithm>
#include <set>

#include "messenger/calls.h"
#include "messenger/messenger_impl.h"

namespace hush {

using internal::CallKeyParts;
using internal::CallMessageParts;
using internal::CallMessageType;
using internal::CallState;

struct Messenger::Impl::CallSteps {
  static CallState* find(Messenger& m, const CallId& id) {
    auto it = m.calls_->calls.find(id);
    return it == m.calls_->calls.end() ? nullptr : &it->second;
  }

  static const CallState* find(const Messenger& m, const CallId& id) {
    auto it = m.calls_->calls.find(id);
    return it == m.calls_->calls.end() ? nullptr : &it->second;
  }

  // True when we take part in a call (host, answered or in), other than `except`.
  static bool engaged(const Messenger& m, const CallId* except = nullptr) {
    for (const auto& [id, c] : m.calls_->calls)
      if (c.engaged() && (!except || id != *except)) return true;
    return false;
  }

  static bool untrusted(const Messenger& m, std::string_view person) {
    auto pending = pending_change(m, person);
    return !pending || pending->has_value();
  }

  // Sends a call message to `devices` now (calls are ephemeral: not kept in the outbox). Returns
  // the deliveries. `despite_change`: see busy_reply.
  static Result<std::vector<DeviceDelivery>> send(Messenger& m, const CallMessageParts& parts,
                                                  const std::vector<Address>& devices,
                                                  bool despite_change = false) {
    auto id = random_id<internal::kMessageIdBytes>(m);
    if (!id) return id.error();
    const SecretBytes content = internal::build_call_content(*id, m.ctx_.clock.now_ms(), parts);
    return send_now(m, devices, content, false, despite_change);
  }

  // Tells the device whose offer for `c` does not ring (any more) here that this device is busy,
  // so that it stops waiting for us. Also to a caller whose identity change is unresolved: the
  // busy goes only to the device the offer came from, over the session it came over (kept from
  // before the change: a new identity has none), so an impostor with the new identity gets
  // nothing, and it carries nothing but the call id.
  static void busy_reply(Messenger& m, const CallState& c, const Address& to) {
    (void)send(m, message(c, CallMessageType::kBusy), {to}, /*despite_change=*/true);
  }

  // A call ringing here ends (a newer offer from the same person, a full registry, our own
  // outgoing call): its host is told busy, and `events` (if given) get kEnded.
  static void end_ringing(Messenger& m, const CallId& id, std::vector<CallEvent>* events) {
    CallState* c = find(m, id);
    if (!c || c->engaged()) return;
    const Address host = c->host_device;
    if (events) events->push_back(event(*c, CallEventType::kEnded, host));
    CallState gone;
    gone.id = id;
    forget(m, id);
    busy_reply(m, gone, host);
  }

  static CallMessageParts message(const CallState& c, CallMessageType type, ByteView payload = {}) {
    CallMessageParts parts;
    parts.id = c.id;
    parts.type = type;
    parts.payload.assign(payload.begin(), payload.end());
    return parts;
  }

  // Every participant's device but ours.
  static std::vector<Address> others(const Messenger& m, const CallState& c) {
    std::vector<Address> out;
    for (const CallParticipant& p : c.participants)
      if (p.device != m.self_) out.push_back(p.device);
    return out;
  }

  // Our other devices.
  static std::vector<Address> own_devices(Messenger& m) { return devices_of(m, {m.self_.name}); }

  // Draws our next key, installs it as our sender's, and sends it to every other participant
  // whose identity is trusted (best effort: a device the key does not reach cannot decrypt us).
  static Status rekey(Messenger& m, CallState& c) {
    const CallParticipant* self = c.participant(m.self_);
    if (!self) return ok_status();
    const std::uint64_t epoch = c.keyed ? c.epoch + 1 : 0;
    SecretBytes key(kCallBaseKeyBytes);
    if (auto st = m.ctx_.random.fill(key.expose_mut()); !st) return st;
    CallMessageParts parts = message(c, CallMessageType::kKey);
    parts.key = CallKeyParts{epoch, SecretBytes::copy_of(key.expose())};
    if (c.host) parts.list_version = c.list_version;  // the list this key was drawn for
    if (auto st = c.media->set_own_key(*self, epoch, std::move(key)); !st) return st;
    c.epoch = epoch;
    c.keyed = true;
    std::vector<Address> to;
    for (const Address& a : others(m, c))
      if (!untrusted(m, a.name)) to.push_back(a);
    auto sent = send(m, parts, to);
    if (!sent) return sent.error();
    return ok_status();
  }

  // Host: moves to a new key (installed before anything is sent, so whoever just left can no
  // longer read us even when sending fails below), then sends the list to every participant but
  // us. Both are tried; the first error is returned.
  static Status publish_list(Messenger& m, CallState& c) {
    ++c.list_version;
    const Status keyed = rekey(m, c);
    CallMessageParts parts = message(c, CallMessageType::kParticipants);
    parts.participants = c.participants;
    parts.list_version = c.list_version;
    auto sent = send(m, parts, others(m, c));
    if (!keyed) return keyed;
    if (!sent) return sent.error();
    return ok_status();
  }

  // Installs a key from `from` if it is listed (else keeps it for when it is, if it may be).
  static void take_key(CallState& c, const Address& from, CallKeyParts& key,
                       std::uint64_t list_version) {
    // The host's key drawn for a list not applied here yet waits for that list (a list the relay
    // dropped leaves us without the host's new key: fail closed).
    const bool early = from == c.host_device && list_version > c.list_version;
    if (const CallParticipant* p = c.participant(from); p && !early) {
      (void)c.media->add_key(*p, key.epoch, std::move(key.key));
      return;
    }
    if (!may_hold_key(c, from)) return;  // taken (committed) and ignored
    // One slot per person: its newest key (a person joins with one device only).
    auto held = std::find_if(c.pending_keys.begin(), c.pending_keys.end(),
                             [&](const auto& k) { return k.first.name == from.name; });
    if (held != c.pending_keys.end()) {
      if (held->first != from || key.epoch > held->second.epoch) {
        held->first = from;
        held->second = std::move(key);
        if (from == c.host_device) c.pending_host_version = list_version;
      }
      return;
    }
    if (from == c.host_device) c.pending_host_version = list_version;
    if (c.pending_keys.size() >= kMaxCallParticipants) c.pending_keys.erase(c.pending_keys.begin());
    c.pending_keys.emplace_back(from, std::move(key));
  }

  // Whether a key from `from`, not (yet) usable, is held for when its sender is listed: the
  // host's (drawn for a list still to come), or one from a person who may still join: the host
  // holds keys only from the people it invited (who have not joined); a participant, which does
  // not know whom the host invited, from anyone not listed and not gone. Never from another
  // device of a listed person (one device per person is admitted), nor from a person who left or
  // was removed. (At a participant, the people who know the call id are the host's invitees, at
  // most kMaxCallParticipants - 1, so with one slot per person they cannot push out a newcomer's
  // early key; only someone they told the call id can.)
  static bool may_hold_key(const CallState& c, const Address& from) {
    if (from == c.host_device) return true;
    for (const CallParticipant& p : c.participants)
      if (p.device.name == from.name) return false;
    for (const auto& [device, index] : c.removed)
      if (device.name == from.name) return false;
    if (c.host) return std::binary_search(c.invited.begin(), c.invited.end(), from.name);
    return true;
  }

  // The media retire previous keys by our clock (it outlives the media's use: a Messenger ends
  // every call it holds when destroyed, and end() forgets the clock).
  static void clock_media(Messenger& m, CallMedia& media) {
    Clock* clock = &m.ctx_.clock;
    media.set_clock([clock] { return clock->now_ms(); });
  }

  // Remembers `id` as ended (bounded: the oldest goes).
  static void note_ended(Messenger& m, const CallId& id) {
    auto& ended = m.calls_->ended;
    if (std::find(ended.begin(), ended.end(), id) != ended.end()) return;
    if (ended.size() >= kMaxEndedCalls) ended.pop_front();
    ended.push_back(id);
  }

  static bool was_ended(const Messenger& m, const CallId& id) {
    const auto& ended = m.calls_->ended;
    return std::find(ended.begin(), ended.end(), id) != ended.end();
  }

  static void forget(Messenger& m, const CallId& id) {
    note_ended(m, id);
    auto it = m.calls_->calls.find(id);
    if (it == m.calls_->calls.end()) return;
    it->second.media->end();
    m.calls_->calls.erase(it);
  }

  static CallEvent event(const CallState& c, CallEventType type, const Address& from,
                         Bytes payload = {}) {
    return CallEvent{type, c.id, from, std::move(payload), c.participants};
  }

  static Status check_send(const Messenger& m, ByteView payload) {
    if (payload.size() > kMaxCallPayloadBytes)
      return Error(Errc::kLimitExceeded, "Messenger: call payload too large");
    if (m.store_.transaction_depth() > 0)
      return Error(Errc::kInTransaction, "Messenger: call inside a store transaction");
    return ok_status();
  }

  // The host's side of a participant leaving (hangup or removal): a new list and new keys.
  static Status host_drop(Messenger& m, CallState& c, const CallParticipant& who,
                          std::vector<CallEvent>& events, const Address& from) {
    const std::uint32_t index = who.index;
    c.removed.emplace(who.device, who.index);
    c.media->remove_participant(index);
    c.participants.erase(std::remove_if(c.participants.begin(), c.participants.end(),
                                        [&](const CallParticipant& p) { return p.index == index; }),
                         c.participants.end());
    events.push_back(event(c, CallEventType::kLeft, from));
    if (c.participants.size() <= 1 && c.invited.empty()) {
      events.push_back(event(c, CallEventType::kEnded, from));
      forget(m, c.id);
      return ok_status();
    }
    return publish_list(m, c);
  }
};

// ---- entry points ----

Result<CallId> Messenger::start_call(std::span<const std::string> people, ByteView offer) {
  using S = Impl::CallSteps;
  if (auto st = S::check_send(*this, offer); !st) return st.error();
  if (people.empty()) return Error(Errc::kInvalidArgument, "Messenger::start_call: no one");
  if (people.size() + 1 > kMaxCallParticipants)
    return Error(Errc::kLimitExceeded, "Messenger::start_call: too many people");
  std::vector<std::string> invited(people.begin(), people.end());
  std::sort(invited.begin(), invited.end());
  for (std::size_t i = 0; i < invited.size(); ++i) {
    const std::string& p = invited[i];
    if (p.empty() || p.size() > kMaxAddressNameBytes || p == self_.name ||
        (i > 0 && invited[i - 1] == p))
      return Error(Errc::kInvalidArgument, "Messenger::start_call: a name empty, ours or twice");
  }
  if (S::engaged(*this))
    return Error(Errc::kCallInProgress, "Messenger::start_call: already in a call");
  for (const std::string& p : invited)
    if (S::untrusted(*this, p))
      return Error(Errc::kCallPartyUntrusted,
                   "Messenger::start_call: a person's identity change is unresolved");
  auto id = Impl::random_id<16>(*this);
  if (!id) return id.error();
  CallState c;
  c.id = *id;
  c.host = true;
  c.phase = CallState::Phase::kActive;
  c.host_device = self_;
  c.invited = invited;
  c.participants = {CallParticipant{self_, 0}};
  c.media = std::make_shared<CallMedia>(c.id);
  S::clock_media(*this, *c.media);
  c.seq = calls_->next_seq++;
  CallMessageParts parts = S::message(c, CallMessageType::kOffer, offer);
  parts.participants = c.participants;
  const std::vector<Address> devices = Impl::devices_of(*this, invited);
  // Fetching the lists may have met an identity change.
  for (const std::string& p : invited)
    if (S::untrusted(*this, p))
      return Error(Errc::kCallPartyUntrusted,
                   "Messenger::start_call: a person's identity change is unresolved");
  // Our first key before any offer leaves (it goes to no one yet): a failure rings nobody.
  if (auto st = S::rekey(*this, c); !st) {
    c.media->end();
    return st.error();
  }
  auto sent = S::send(*this, parts, devices);
  if (!sent || std::none_of(sent->begin(), sent->end(), [](const DeviceDelivery& d) {
        return d.state == DeliveryState::kSent;
      })) {
    c.media->end();
    if (!sent) return sent.error();
    return Error(Errc::kTransportFailure, "Messenger::start_call: no device could be reached");
  }
  // Calling out, we are busy: what rings here ends (its callers hear busy), as a phone stops
  // ringing when its user dials out instead of answering. (Only once the call went: a failed
  // start_call changes nothing.)
  std::vector<CallId> ringing;
  for (const auto& [cid, held] : calls_->calls)
    if (!held.engaged()) ringing.push_back(cid);
  for (const CallId& cid : ringing)
    S::end_ringing(*this, cid, nullptr);
  calls_->calls.emplace(c.id, std::move(c));
  return *id;
}

Result<CallId> Messenger::start_call(std::string_view person, ByteView offer) {
  const std::string one(person);
  return start_call(std::span<const std::string>(&one, 1), offer);
}

Status Messenger::answer_call(const CallId& call, ByteView answer) {
  using S = Impl::CallSteps;
  if (auto st = S::check_send(*this, answer); !st) return st;
  CallState* c = S::find(*this, call);
  if (!c) return Error(Errc::kUnknownCall, "Messenger::answer_call: no such call");
  if (c->phase != CallState::Phase::kRinging)
    return Error(Errc::kInvalidCallState, "Messenger::answer_call: the call does not ring");
  if (S::engaged(*this, &call))
    return Error(Errc::kCallInProgress, "Messenger::answer_call: in another call");
  if (S::untrusted(*this, c->host_device.name))
    return Error(Errc::kCallPartyUntrusted,
                 "Messenger::answer_call: the caller's identity change is unresolved");
  auto sent = S::send(*this, S::message(*c, CallMessageType::kAnswer, answer), {c->host_device});
  if (!sent) return sent.error();
  if (sent->empty() || sent->front().state != DeliveryState::kSent)
    return sent->empty() || !sent->front().error ? Error(Errc::kTransportFailure, "answer_call")
                                                 : *sent->front().error;
  c->phase = CallState::Phase::kAnswered;
  (void)S::send(*this, S::message(*c, CallMessageType::kAnsweredElsewhere), S::own_devices(*this));
  return ok_status();
}

Status Messenger::send_call_signal(const CallId& call, ByteView payload) {
  using S = Impl::CallSteps;
  if (auto st = S::check_send(*this, payload); !st) return st;
  CallState* c = S::find(*this, call);
  if (!c) return Error(Errc::kUnknownCall, "Messenger::send_call_signal: no such call");
  std::vector<Address> to = S::others(*this, *c);
  if (!c->host && std::find(to.begin(), to.end(), c->host_device) == to.end())
    to.push_back(c->host_device);
  auto sent = S::send(*this, S::message(*c, CallMessageType::kSignal, payload), to);
  if (!sent) return sent.error();
  return ok_status();
}

Status Messenger::hangup(const CallId& call, ByteView payload) {
  using S = Impl::CallSteps;
  if (auto st = S::check_send(*this, payload); !st) return st;
  CallState* c = S::find(*this, call);
  if (!c) return Error(Errc::kUnknownCall, "Messenger::hangup: no such call");
  // Forgotten (keys wiped) first: nothing that fails below keeps the call.
  CallState held = std::move(*c);
  calls_->calls.erase(call);
  S::note_ended(*this, call);
  held.media->end();
  const CallMessageParts parts = S::message(held, CallMessageType::kHangup, payload);
  std::vector<Address> to = S::others(*this, held);
  if (held.host) {
    // Those still ringing stop.
    for (const Address& a : Impl::devices_of(*this, held.invited))
      to.push_back(a);
  } else {
    if (std::find(to.begin(), to.end(), held.host_device) == to.end())
      to.push_back(held.host_device);
    if (held.phase == CallState::Phase::kRinging)  // declined: our other devices stop ringing
      for (const Address& a : S::own_devices(*this))
        to.push_back(a);
  }
  auto sent = S::send(*this, parts, to);
  if (!sent) return sent.error();
  return ok_status();
}

Status Messenger::remove_from_call(const CallId& call, std::string_view person) {
  using S = Impl::CallSteps;
  if (auto st = S::check_send(*this, {}); !st) return st;
  CallState* c = S::find(*this, call);
  if (!c) return Error(Errc::kUnknownCall, "Messenger::remove_from_call: no such call");
  if (!c->host)
    return Error(Errc::kInvalidCallState, "Messenger::remove_from_call: we are not the host");
  auto who = std::find_if(c->participants.begin(), c->participants.end(),
                          [&](const CallParticipant& p) { return p.device.name == person; });
  if (who == c->participants.end() || who->device == self_)
    return Error(Errc::kInvalidArgument, "Messenger::remove_from_call: not a participant");
  const CallParticipant removed = *who;
  (void)S::send(*this, S::message(*c, CallMessageType::kHangup), {removed.device});
  std::vector<CallEvent> ignored;
  // The removal stands even when the new key or list could not be sent: the error says so.
  return S::host_drop(*this, *c, removed, ignored, removed.device);
}

std::shared_ptr<CallMedia> Messenger::call_media(const CallId& call) const {
  const CallState* c = Impl::CallSteps::find(*this, call);
  return c ? c->media : nullptr;
}

Result<std::vector<CallParticipant>> Messenger::call_participants(const CallId& call) const {
  const CallState* c = Impl::CallSteps::find(*this, call);
  if (!c) return Error(Errc::kUnknownCall, "Messenger::call_participants: no such call");
  return c->participants;
}

// ---- receiving ----

Status Messenger::Impl::check_call(const Messenger& m, const Address& sender,
                                   const CallMessageParts& call) {
  using S = CallSteps;
  const CallState* c = S::find(m, call.id);
  const bool own = sender.name == m.self_.name;
  switch (call.type) {
    case CallMessageType::kOffer:
      if (own) return Error(Errc::kInvalidCallState, "call: an offer from our own person");
      if (call.participants.front().device != sender)
        return Error(Errc::kInvalidCallMessage, "call: an offer whose host is not its sender");
      if (c && c->host_device != sender)
        return Error(Errc::kInvalidCallState, "call: an offer for a call another host holds");
      return ok_status();
    case CallMessageType::kAnswer:
      if (!c) return ok_status();  // late (the call ended): committed and ignored
      if (!c->host) return Error(Errc::kInvalidCallState, "call: an answer to a call not ours");
      return ok_status();  // from someone not (or no longer) called: told so in apply_call
    case CallMessageType::kParticipants:
      if (!c) return ok_status();  // late (the call ended): committed and ignored
      if (c->host || sender != c->host_device || call.participants.front().device != c->host_device)
        return Error(Errc::kInvalidCallState, "call: a participant list not from the host");
      return ok_status();
    case CallMessageType::kKey:
    case CallMessageType::kSignal:
      // Late (the call ended, or we hung up meanwhile): committed and ignored. Refusing would leave
      // the ratchet step uncommitted and a skipped message key behind in the store.
      if (!c) return ok_status();
      // (The host also takes signals from a device of a person still invited: an answering
      // device's ICE may overtake its answer.)
      if (sender != c->host_device && !c->participant(sender) &&
          !(call.type == CallMessageType::kKey && c->engaged()) &&
          !(call.type == CallMessageType::kSignal && c->host &&
            std::binary_search(c->invited.begin(), c->invited.end(), sender.name)))
        return Error(Errc::kInvalidCallState, "call: a key or signal from no participant");
      return ok_status();
    case CallMessageType::kHangup:
    case CallMessageType::kBusy:
    case CallMessageType::kRinging:
    case CallMessageType::kAnsweredElsewhere:
      return ok_status();  // for a call no longer held, nothing to do
  }
  return Error(Errc::kInvalidCallMessage, "call: type");
}

std::vector<CallEvent> Messenger::Impl::apply_call(Messenger& m, const Address& sender,
                                                   CallMessageParts& call) {
  using S = CallSteps;
  std::vector<CallEvent> events;
  CallState* c = S::find(m, call.id);
  const bool own = sender.name == m.self_.name;
  switch (call.type) {
    case CallMessageType::kOffer: {
      if (c) return events;  // a duplicate
      CallState fresh;
      // Hung up before its offer arrived, or held back too long by the relay: missed, never rings
      // (and nothing is answered: the caller stopped ringing long ago).
      const std::uint64_t now = m.ctx_.clock.now_ms();
      if (S::was_ended(m, call.id) ||
          (now > call.sent_ms && now - call.sent_ms > kMaxCallOfferAgeMs)) {
        fresh.id = call.id;
        fresh.participants = std::move(call.participants);
        events.push_back(S::event(fresh, CallEventType::kMissed, sender, std::move(call.payload)));
        return events;
      }
      fresh.id = call.id;
      fresh.host_device = sender;
      fresh.list_version = call.list_version;
      fresh.participants = std::move(call.participants);
      fresh.phase = CallState::Phase::kRinging;
      // A caller whose identity change is unresolved could not be answered (kCallPartyUntrusted),
      // and we in a call cannot answer: missed, and the caller hears busy (its phone stops).
      if (S::untrusted(m, sender.name) || S::engaged(m)) {
        S::busy_reply(m, fresh, sender);
        events.push_back(S::event(fresh, CallEventType::kMissed, sender, std::move(call.payload)));
        return events;
      }
      // At most one call rings per caller (a person, any of its devices): a newer offer from the
      // same person replaces the older one, which ends here (its host hears busy). A person who
      // calls again has most likely hung up the first call (its hangup lost or still on the way),
      // and the newest call is the one its phone shows; answering it busy instead would leave the
      // person unable to reach us until we hang up a call it gave up. A person's offers can so
      // take one slot only, never ours or another caller's.
      std::vector<CallId> older;
      for (const auto& [cid, held] : m.calls_->calls)
        if (!held.engaged() && held.host_device.name == sender.name) older.push_back(cid);
      for (const CallId& cid : older)
        S::end_ringing(m, cid, &events);
      // Still full (kMaxCalls people's offers ringing): the oldest still ringing makes room (an
      // offer nobody hung up must not make every later call busy); it ends here and its host
      // hears busy.
      if (m.calls_->calls.size() >= kMaxCalls) {
        const CallState* oldest = nullptr;
        for (const auto& [cid, held] : m.calls_->calls)
          if (!held.engaged() && (!oldest || held.seq < oldest->seq)) oldest = &held;
        if (oldest) S::end_ringing(m, CallId(oldest->id), &events);
      }
      fresh.media = std::make_shared<CallMedia>(fresh.id);
      S::clock_media(m, *fresh.media);
      fresh.seq = m.calls_->next_seq++;
      if (m.calls_->calls.size() >= kMaxCalls) {  // (cannot be: every call held rings)
        fresh.media->end();
        S::busy_reply(m, fresh, sender);
        events.push_back(S::event(fresh, CallEventType::kMissed, sender, std::move(call.payload)));
        return events;
      }
      (void)S::send(m, S::message(fresh, CallMessageType::kRinging), {sender});
      events.push_back(S::event(fresh, CallEventType::kIncoming, sender, std::move(call.payload)));
      m.calls_->calls.emplace(fresh.id, std::move(fresh));
      return events;
    }
    case CallMessageType::kRinging:
      if (c && c->host) events.push_back(S::event(*c, CallEventType::kRinging, sender));
      return events;
    case CallMessageType::kBusy:
      if (c && c->host) events.push_back(S::event(*c, CallEventType::kBusy, sender));
      return events;
    case CallMessageType::kAnswer: {
      if (!c) {  // a call no longer held: one that ended lately tells the answering device so
        if (S::was_ended(m, call.id)) {
          CallState gone;
          gone.id = call.id;
          (void)S::send(m, S::message(gone, CallMessageType::kHangup), {sender});
        }
        return events;
      }
      if (!std::binary_search(c->invited.begin(), c->invited.end(), sender.name) &&
          !std::any_of(c->participants.begin(), c->participants.end(),
                       [&](const CallParticipant& p) { return p.device.name == sender.name; })) {
        // Not called, or the person declined on another device meanwhile: the device that
        // answered is told the call is over for it (else it would wait for a list forever).
        (void)S::send(m, S::message(*c, CallMessageType::kHangup), {sender});
        return events;
      }
      auto joined = std::find_if(c->participants.begin(), c->participants.end(),
                                 [&](const auto& p) { return p.device.name == sender.name; });
      if (joined != c->participants.end()) {
        // Another device of the person answered first.
        if (joined->device != sender)
          (void)S::send(m, S::message(*c, CallMessageType::kAnsweredElsewhere), {sender});
        return events;
      }
      if (S::untrusted(m, sender.name) || c->next_index >= kMaxCallIndices ||
          c->participants.size() >= kMaxCallParticipants) {
        (void)S::send(m, S::message(*c, CallMessageType::kHangup), {sender});
        return events;
      }
      c->invited.erase(std::remove(c->invited.begin(), c->invited.end(), sender.name),
                       c->invited.end());
      c->participants.push_back(CallParticipant{sender, c->next_index++});
      for (auto it = c->pending_keys.begin(); it != c->pending_keys.end(); ++it)
        if (it->first.name == sender.name) {  // (another device's key is of no use now)
          if (it->first == sender)
            (void)c->media->add_key(c->participants.back(), it->second.epoch,
                                    std::move(it->second.key));
          c->pending_keys.erase(it);
          break;
        }
      events.push_back(S::event(*c, CallEventType::kAnswered, sender, std::move(call.payload)));
      (void)S::publish_list(m, *c);
      return events;
    }
    case CallMessageType::kParticipants: {
      if (!c) return events;  // a call no longer held
      // An old list the relay held back (or a replay) is ignored, and so is one that lists again
      // someone who left: a removed person never comes back, nor is keyed again.
      if (call.list_version <= c->list_version) return events;
      for (const CallParticipant& p : call.participants)
        if (c->removed.count({p.device, p.index})) return events;
      c->list_version = call.list_version;
      const bool listed =
          std::any_of(call.participants.begin(), call.participants.end(),
                      [&](const CallParticipant& p) { return p.device == m.self_; });
      if (!listed) {
        if (c->phase == CallState::Phase::kActive) {  // removed
          events.push_back(S::event(*c, CallEventType::kEnded, sender));
          S::forget(m, call.id);
        }
        return events;
      }
      if (c->phase == CallState::Phase::kRinging) {  // not ours to join: just the list
        c->participants = std::move(call.participants);
        return events;
      }
      // Who left (their keys go now) and whether the membership changed.
      std::set<std::pair<Address, std::uint32_t>> before, after;
      for (const CallParticipant& p : c->participants)
        before.emplace(p.device, p.index);
      for (const CallParticipant& p : call.participants)
        after.emplace(p.device, p.index);
      for (const CallParticipant& p : c->participants)
        if (!after.count({p.device, p.index})) {
          c->removed.emplace(p.device, p.index);
          c->media->remove_participant(p.index);
        }
      const bool joined_now = c->phase == CallState::Phase::kAnswered;
      c->participants = std::move(call.participants);
      c->phase = CallState::Phase::kActive;
      for (auto it = c->pending_keys.begin(); it != c->pending_keys.end();) {
        const CallParticipant* p = c->participant(it->first);
        if (p && it->first == c->host_device && c->pending_host_version > c->list_version)
          p = nullptr;  // the host's key for a list still to come
        if (p) {
          (void)c->media->add_key(*p, it->second.epoch, std::move(it->second.key));
          it = c->pending_keys.erase(it);
        } else if (!S::may_hold_key(*c, it->first)) {  // listed with another device, or gone
          it = c->pending_keys.erase(it);
        } else {
          ++it;
        }
      }
      events.push_back(S::event(
          *c, joined_now ? CallEventType::kAnswered : CallEventType::kParticipants, sender));
      if (before != after || !c->keyed) (void)S::rekey(m, *c);
      return events;
    }
    case CallMessageType::kKey:
      if (c) S::take_key(*c, sender, *call.key, call.list_version);
      return events;
    case CallMessageType::kSignal:
      if (!c) return events;  // a call no longer held
      events.push_back(S::event(*c, CallEventType::kSignal, sender, std::move(call.payload)));
      return events;
    case CallMessageType::kAnsweredElsewhere:
      if (c && !c->host &&
          ((own && c->phase == CallState::Phase::kRinging) ||
           (sender == c->host_device && c->phase == CallState::Phase::kAnswered))) {
        events.push_back(S::event(*c, CallEventType::kAnsweredElsewhere, sender));
        S::forget(m, call.id);
      }
      return events;
    case CallMessageType::kHangup: {
      if (!c) {  // ended before its offer arrived (or a late hangup): the offer must not ring
        S::note_ended(m, call.id);
        return events;
      }
      if (!c->host && sender == c->host_device) {  // the host ended it (or removed us)
        events.push_back(S::event(*c, CallEventType::kEnded, sender, std::move(call.payload)));
        S::forget(m, call.id);
        return events;
      }
      if (own && !c->host && c->phase == CallState::Phase::kRinging) {  // declined on another
        events.push_back(S::event(*c, CallEventType::kAnsweredElsewhere, sender));
        S::forget(m, call.id);
        return events;
      }
      const CallParticipant* p = c->participant(sender);
      if (c->host) {
        if (p) {
          const CallParticipant who = *p;
          (void)S::host_drop(m, *c, who, events, sender);  // rekeys first: see publish_list
        } else if (std::binary_search(c->invited.begin(), c->invited.end(), sender.name)) {
          // Declined. (Another device of the person might still answer: it is told to stop
          // ringing by the decliner.)
          c->invited.erase(std::remove(c->invited.begin(), c->invited.end(), sender.name),
                           c->invited.end());
          events.push_back(S::event(*c, CallEventType::kLeft, sender, std::move(call.payload)));
          if (c->participants.size() <= 1 && c->invited.empty()) {
            events.push_back(S::event(*c, CallEventType::kEnded, sender));
            S::forget(m, call.id);
          }
        }
        return events;
      }
      if (p && c->phase == CallState::Phase::kActive) {
        // A participant left: its keys go, and ours move on (the host's list follows).
        const std::uint32_t index = p->index;
        c->removed.emplace(p->device, p->index);
        c->media->remove_participant(index);
        c->participants.erase(
            std::remove_if(c->participants.begin(), c->participants.end(),
                           [&](const CallParticipant& q) { return q.index == index; }),
            c->participants.end());
        events.push_back(S::event(*c, CallEventType::kLeft, sender, std::move(call.payload)));
        (void)S::rekey(m, *c);
      }
      return events;
    }
  }
  return events;
}

}  // namespace hush
