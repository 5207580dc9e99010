// hush: Messenger (see messenger.h). No crypto of its own: sessions through session.h, envelopes
// through proto/envelope.proto, I/O through the caller's Transport and KeyDirectory.
#include <hush/limits.h>
#include <hush/messenger.h>

#include "envelope.pb.h"
#include "proto_util.h"

namespace hush {

namespace {

constexpr std::uint32_t kEnvelopeFormat = 1;
constexpr std::size_t kMessageIdBytes = 16;
// A message id longer than this is not one hush made; refused so it cannot bloat app storage.
constexpr std::size_t kMaxMessageIdBytes = 64;

// Saturating: a clock that went backwards gives an age of 0, so it delays rotation and deletion
// and never makes every key look ancient at once.
std::uint64_t age_ms(std::uint64_t now, std::uint64_t then) {
  return now > then ? now - then : 0;
}

}  // namespace

Messenger::Messenger(const Context& ctx, ProtocolStore& store, Transport& transport,
                     KeyDirectory& directory, Address self, MessengerOptions options)
    : ctx_(ctx),
      store_(store),
      transport_(transport),
      directory_(directory),
      self_(std::move(self)),
      options_(options) {}

Status Messenger::maintain_keys() {
  const std::uint64_t now = ctx_.clock.now_ms();
  // The signed prekey: make one if there is none, replace it when it is due, and delete replaced
  // ones past their grace period, all in one transaction, so that two processes sharing the store
  // cannot both rotate (the second one sees the first one's new key, not yet due).
  auto rotated = store_.run_transaction([&]() -> Status {
    auto ids = store_.signed_pre_key_ids();
    if (!ids) return ids.error();
    std::optional<SignedPreKeyRecord> current;
    if (!ids->empty()) {
      auto r = store_.load_signed_pre_key(ids->back());
      if (!r) return r.error();
      if (*r) current = std::move(**r);
    }
    if (!current || age_ms(now, current->timestamp_ms) >= options_.signed_pre_key_rotation_ms) {
      auto identity = store_.identity_key_pair();
      if (!identity) return identity.error();
      if (current && to_uint(current->id) == UINT32_MAX)
        return Error(Errc::kInvalidArgument, "maintain_keys: signed prekey ids exhausted");
      const SignedPreKeyId next{current ? to_uint(current->id) + 1 : 1};
      auto fresh = generate_signed_pre_key(ctx_, *identity, next);
      if (!fresh) return fresh.error();
      if (auto st = store_.store_signed_pre_key(*fresh); !st) return st;
      ids->push_back(next);
    }
    // A replaced signed prekey is kept for a grace period after it was replaced (when the next one
    // was made), for prekey messages still in flight that name it.
    for (std::size_t i = 0; i + 1 < ids->size(); ++i) {
      auto successor = store_.load_signed_pre_key((*ids)[i + 1]);
      if (!successor) return successor.error();
      if (*successor && age_ms(now, (*successor)->timestamp_ms) >= options_.signed_pre_key_grace_ms)
        if (auto st = store_.remove_signed_pre_key((*ids)[i]); !st) return st;
    }
    return ok_status();
  });
  if (!rotated) return rotated;

  // What the directory has not acknowledged yet: the current signed prekey, and one-time prekeys
  // (those of a publish that failed, and new ones when the directory runs low).
  auto spk_ids = store_.signed_pre_key_ids();
  if (!spk_ids) return spk_ids.error();
  if (spk_ids->empty()) return Error(Errc::kCorruptState, "maintain_keys: no signed prekey");
  auto spk = store_.load_signed_pre_key(spk_ids->back());
  if (!spk) return spk.error();
  if (!*spk) return Error(Errc::kCorruptState, "maintain_keys: signed prekey vanished");
  auto unpublished = [&]() -> Result<std::vector<PreKeyRecord>> {
    auto ids = store_.pre_key_ids();
    if (!ids) return ids.error();
    std::vector<PreKeyRecord> out;
    for (PreKeyId id : *ids) {
      if (out.size() == kMaxPublishedPreKeys) break;  // the rest go with the next call
      auto r = store_.load_pre_key(id);
      if (!r) return r.error();
      if (*r && !(*r)->published) out.push_back(std::move(**r));
    }
    return out;
  };
  auto pending = unpublished();
  if (!pending) return pending.error();
  auto available = directory_.available_pre_keys(self_);
  if (!available) return available.error();
  if (std::uint64_t{*available} + pending->size() < options_.pre_key_low_water) {
    auto added = replenish_pre_keys(ctx_, store_, options_.pre_key_batch);
    if (!added) return added.error();
    pending = unpublished();
    if (!pending) return pending.error();
  }
  if ((*spk)->published && pending->empty()) return ok_status();

  auto identity = store_.identity_key_pair();
  if (!identity) return identity.error();
  auto registration_id = store_.local_registration_id();
  if (!registration_id) return registration_id.error();
  PublishedKeys keys;
  keys.registration_id = *registration_id;
  keys.device_id = self_.device_id;
  keys.identity_key = identity->public_key;
  keys.signed_pre_key_id = (*spk)->id;
  keys.signed_pre_key = (*spk)->key_pair.public_key;
  keys.signed_pre_key_signature = (*spk)->signature;
  for (const PreKeyRecord& r : *pending)
    keys.pre_keys.emplace_back(r.id, r.key_pair.public_key);
  if (auto st = directory_.publish(self_, keys); !st) return st;

  // Acknowledged: remember it, so that it is not sent again (a crash before this commit only
  // makes the next call publish the same keys again, which the directory takes idempotently).
  return store_.run_transaction([&]() -> Status {
    auto current = store_.load_signed_pre_key(keys.signed_pre_key_id);
    if (!current) return current.error();
    if (*current && !(*current)->published) {
      (*current)->published = true;
      if (auto st = store_.store_signed_pre_key(**current); !st) return st;
    }
    for (PreKeyRecord& r : *pending) {
      auto still = store_.load_pre_key(r.id);
      if (!still) return still.error();
      if (!*still) continue;  // used meanwhile
      (*still)->published = true;
      if (auto st = store_.store_pre_key(**still); !st) return st;
    }
    return ok_status();
  });
}

void Messenger::note_identity_change(const Address& device, const IdentityKey& offered) {
  auto trusted = store_.identity(device.name);
  changes_.insert_or_assign(
      device.name,
      IdentityChangeEvent{device.name, device, trusted ? *trusted : std::nullopt, offered});
}

Result<Bytes> Messenger::send(const Address& to, ByteView plaintext) {
  // Nothing goes to a person whose identity change the user has not approved yet, on any device,
  // not even through a session made with the old identity.
  if (changes_.find(to.name) != changes_.end())
    return Error(Errc::kUntrustedIdentity, "Messenger::send: identity change not approved");
  auto info = session_info(store_, to);
  if (!info) return info.error();
  auto set_up = [&]() -> Status {
    auto bundle = directory_.fetch(to);
    if (!bundle) return bundle.error();
    if (auto st = process_prekey_bundle(ctx_, store_, to, *bundle); !st) {
      // Only a validly signed bundle gets as far as the identity check.
      if (st.error().code() == Errc::kUntrustedIdentity)
        note_identity_change(to, bundle->identity_key);
      return st.error();
    }
    return ok_status();
  };
  if (!info->exists) {
    if (auto st = set_up(); !st) return st.error();
  }
  auto message = encrypt_message(ctx_, store_, to, plaintext);
  if (!message && message.error().code() == Errc::kNoSession && info->exists) {
    // The session was never answered for too long: start a new one.
    if (auto st = set_up(); !st) return st.error();
    message = encrypt_message(ctx_, store_, to, plaintext);
  }
  if (!message) {
    if (message.error().code() == Errc::kUntrustedIdentity && info->remote_identity)
      note_identity_change(to, *info->remote_identity);
    return message.error();
  }
  Bytes id(kMessageIdBytes);
  if (auto st = ctx_.random.fill(id); !st) return st.error();
  envelope::Envelope e;
  e.set_format(kEnvelopeFormat);
  e.set_sender_name(self_.name);
  e.set_sender_device(to_uint(self_.device_id));
  e.set_type(static_cast<std::uint32_t>(message->type()));
  e.set_body(internal::to_field(message->serialized()));
  e.set_message_id(internal::to_field(id));
  Bytes bytes(e.ByteSizeLong());
  e.SerializeWithCachedSizesToArray(bytes.data());
  if (auto st = transport_.send(to, bytes); !st)
    return Error(Errc::kTransportFailure, "Messenger::send: transport");
  return id;
}

namespace {

// A parsed, checked envelope.
struct ParsedEnvelope {
  Address sender;
  MessageType type = MessageType::kWhisper;
  envelope::Envelope proto;
};

Result<ParsedEnvelope> parse_envelope(ByteView bytes) {
  if (bytes.size() > kMaxEnvelopeBytes) return Error(Errc::kLimitExceeded, "envelope: too large");
  ParsedEnvelope out;
  envelope::Envelope& e = out.proto;
  if (!internal::parse_from(e, bytes)) return Error(Errc::kInvalidProtobuf, "envelope: protobuf");
  if (!e.has_format() || e.format() != kEnvelopeFormat)
    return Error(Errc::kInvalidMessage, "envelope: unknown format");
  if (!e.has_sender_name() || !e.has_sender_device() || !e.has_type() || !e.has_body() ||
      !e.has_message_id())
    return Error(Errc::kInvalidMessage, "envelope: missing field");
  if (e.sender_name().size() > kMaxAddressNameBytes || e.message_id().size() > kMaxMessageIdBytes)
    return Error(Errc::kLimitExceeded, "envelope: field too long");
  if (e.type() != static_cast<std::uint32_t>(MessageType::kWhisper) &&
      e.type() != static_cast<std::uint32_t>(MessageType::kPreKey))
    return Error(Errc::kInvalidMessage, "envelope: message type");
  out.sender = Address{e.sender_name(), DeviceId{e.sender_device()}};
  out.type = static_cast<MessageType>(e.type());
  return out;
}

}  // namespace

Result<Address> Messenger::envelope_sender(ByteView envelope) {
  auto e = parse_envelope(envelope);
  if (!e) return e.error();
  return std::move(e->sender);
}

Result<ReceivedMessage> Messenger::receive(ByteView bytes, const ReceiveOptions& receive_options) {
  auto parsed = parse_envelope(bytes);
  if (!parsed) return parsed.error();
  const envelope::Envelope& e = parsed->proto;
  const Address& sender = parsed->sender;
  // The transport knows who handed it this envelope; the envelope's own claim is just bytes.
  if ((receive_options.authenticated_name && *receive_options.authenticated_name != sender.name) ||
      (receive_options.authenticated_device &&
       *receive_options.authenticated_device != sender.device_id))
    return Error(Errc::kSenderMismatch,
                 "Messenger::receive: the envelope names another sender than the transport's");
  auto message = CiphertextMessage::parse(parsed->type, as_bytes(e.body()));
  if (!message) return message.error();
  DecryptOptions options;
  if (receive_options.before_commit) {
    options.before_commit = [&](ByteView plaintext) {
      return receive_options.before_commit(sender, as_bytes(e.message_id()), plaintext);
    };
  }
  auto plaintext = decrypt_message(ctx_, store_, sender, *message, options);
  if (!plaintext) {
    // A prekey message refused as untrusted authenticated under its identity key (the library
    // checks trust only after X3DH and the MAC): a real identity change for that person. A
    // whisper message refused as untrusted belongs to a session whose identity was replaced.
    if (plaintext.error().code() == Errc::kUntrustedIdentity && message->prekey_message())
      note_identity_change(sender, message->prekey_message()->identity_key());
    return plaintext.error();
  }
  // A one-time prekey of ours was used up: publish more if the directory runs low. Best effort:
  // the message is already committed, and the next maintain_keys() will try again.
  if (const auto* pre = message->prekey_message(); pre && pre->pre_key_id()) {
    auto still = store_.load_pre_key(*pre->pre_key_id());
    if (still && !*still) (void)maintain_keys();
  }
  ReceivedMessage out{sender, Bytes(e.message_id().begin(), e.message_id().end()),
                      std::move(*plaintext)};
  return out;
}

std::optional<IdentityChangeEvent> Messenger::identity_change(std::string_view name) const {
  auto it = changes_.find(name);
  if (it == changes_.end()) return std::nullopt;
  return it->second;
}

Status Messenger::reset_session(const Address& peer) {
  return hush::reset_session(store_, peer);
}

Status Messenger::approve_identity(std::string_view name, const IdentityKey& identity) {
  if (auto st = trust_identity(store_, name, identity); !st) return st;
  if (auto it = changes_.find(name); it != changes_.end()) changes_.erase(it);
  return ok_status();
}

Result<Fingerprint> Messenger::safety_number(std::string_view name) {
  auto theirs = store_.identity(name);
  if (!theirs) return theirs.error();
  if (!*theirs) return Error(Errc::kNoSession, "safety_number: no identity known for the person");
  auto ours = store_.identity_key_pair();
  if (!ours) return ours.error();
  return make_fingerprint(kFingerprintIterations, self_.name, ours->public_key, name, **theirs);
}

}  // namespace hush
