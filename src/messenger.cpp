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

Result<SignedPreKeyRecord> current_signed_pre_key(ProtocolStore& store,
                                                  std::optional<SignedPreKeyId>* id_out) {
  auto ids = store.signed_pre_key_ids();
  if (!ids) return ids.error();
  if (ids->empty()) return Error(Errc::kInvalidKeyId, "messenger: no signed prekey");
  // Ids only grow: the highest is the current one.
  const SignedPreKeyId id = ids->back();
  *id_out = id;
  auto r = store.load_signed_pre_key(id);
  if (!r) return r.error();
  if (!*r) return Error(Errc::kCorruptState, "messenger: signed prekey vanished");
  return std::move(**r);
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
  bool rotated = false;
  // The signed prekey: make one if there is none, replace it when it is due.
  auto ids = store_.signed_pre_key_ids();
  if (!ids) return ids.error();
  std::optional<SignedPreKeyRecord> current;
  if (!ids->empty()) {
    auto r = store_.load_signed_pre_key(ids->back());
    if (!r) return r.error();
    if (*r) current = std::move(**r);
  }
  if (!current || now - current->timestamp_ms >= options_.signed_pre_key_rotation_ms) {
    auto identity = store_.identity_key_pair();
    if (!identity) return identity.error();
    const SignedPreKeyId next{current ? to_uint(current->id) + 1 : 1};
    auto fresh = generate_signed_pre_key(ctx_, *identity, next);
    if (!fresh) return fresh.error();
    if (auto st = store_.store_signed_pre_key(*fresh); !st) return st;
    rotated = true;
  }
  // A replaced signed prekey is kept for a grace period after it was replaced (when the next one
  // was made), for prekey messages still in flight that name it.
  auto all = store_.signed_pre_key_ids();
  if (!all) return all.error();
  for (std::size_t i = 0; i + 1 < all->size(); ++i) {
    auto successor = store_.load_signed_pre_key((*all)[i + 1]);
    if (!successor) return successor.error();
    if (*successor && now - (*successor)->timestamp_ms >= options_.signed_pre_key_grace_ms) {
      if (auto st = store_.remove_signed_pre_key((*all)[i]); !st) return st;
    }
  }
  auto available = directory_.available_pre_keys(self_);
  if (!available) return available.error();
  const std::uint32_t add = *available < options_.pre_key_low_water ? options_.pre_key_batch : 0;
  if (!rotated && add == 0) return ok_status();
  return publish(add);
}

Status Messenger::publish(std::uint32_t pre_keys_to_add) {
  auto identity = store_.identity_key_pair();
  if (!identity) return identity.error();
  auto registration_id = store_.local_registration_id();
  if (!registration_id) return registration_id.error();
  std::optional<SignedPreKeyId> spk_id;
  auto spk = current_signed_pre_key(store_, &spk_id);
  if (!spk) return spk.error();
  PublishedKeys keys;
  keys.registration_id = *registration_id;
  keys.device_id = self_.device_id;
  keys.identity_key = identity->public_key;
  keys.signed_pre_key_id = spk->id;
  keys.signed_pre_key = spk->key_pair.public_key;
  keys.signed_pre_key_signature = spk->signature;
  if (pre_keys_to_add > 0) {
    auto added = replenish_pre_keys(ctx_, store_, pre_keys_to_add);
    if (!added) return added.error();
    for (PreKeyId id : *added) {
      auto r = store_.load_pre_key(id);
      if (!r) return r.error();
      if (*r) keys.pre_keys.emplace_back(id, (*r)->key_pair.public_key);
    }
  }
  return directory_.publish(self_, keys);
}

Result<Bytes> Messenger::send(const Address& to, ByteView plaintext) {
  // Nothing goes to a peer whose identity change the user has not approved yet, not even through
  // the session made with the old identity.
  if (changes_.count(to) != 0)
    return Error(Errc::kUntrustedIdentity, "Messenger::send: identity change not approved");
  auto info = session_info(store_, to);
  if (!info) return info.error();
  if (!info->exists) {
    auto bundle = directory_.fetch(to);
    if (!bundle) return bundle.error();
    if (auto st = process_prekey_bundle(ctx_, store_, to, *bundle); !st) {
      if (st.error().code() == Errc::kUntrustedIdentity) {
        auto trusted = store_.identity(to);
        changes_.insert_or_assign(
            to, IdentityChangeEvent{to, trusted ? *trusted : std::nullopt, bundle->identity_key});
      }
      return st.error();
    }
  }
  auto message = encrypt_message(ctx_, store_, to, plaintext);
  if (!message) {
    if (message.error().code() == Errc::kUntrustedIdentity && info->remote_identity) {
      auto trusted = store_.identity(to);
      changes_.insert_or_assign(
          to, IdentityChangeEvent{to, trusted ? *trusted : std::nullopt, *info->remote_identity});
    }
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
    // A prekey message from an identity other than the trusted one is an identity change; a
    // whisper message refused as untrusted belongs to a session whose identity was replaced.
    if (plaintext.error().code() == Errc::kUntrustedIdentity && message->prekey_message()) {
      auto trusted = store_.identity(sender);
      changes_.insert_or_assign(sender,
                                IdentityChangeEvent{sender, trusted ? *trusted : std::nullopt,
                                                    message->prekey_message()->identity_key()});
    }
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

std::optional<IdentityChangeEvent> Messenger::identity_change(const Address& peer) const {
  auto it = changes_.find(peer);
  if (it == changes_.end()) return std::nullopt;
  return it->second;
}

Status Messenger::reset_session(const Address& peer) {
  return hush::reset_session(store_, peer);
}

Status Messenger::approve_identity(const Address& peer, const IdentityKey& identity) {
  if (auto st = trust_identity(store_, peer, identity); !st) return st;
  changes_.erase(peer);
  return ok_status();
}

Result<Fingerprint> Messenger::safety_number(const Address& peer) {
  auto theirs = store_.identity(peer);
  if (!theirs) return theirs.error();
  if (!*theirs) return Error(Errc::kNoSession, "safety_number: no identity known for the peer");
  auto ours = store_.identity_key_pair();
  if (!ours) return ours.error();
  return make_fingerprint(kFingerprintIterations, self_.name, ours->public_key, peer.name,
                          **theirs);
}

}  // namespace hush
