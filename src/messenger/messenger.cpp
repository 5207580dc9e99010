// hush: Messenger (see messenger.h): sending to people, receiving, the outbox and healing. No
// crypto of its own: sessions through session.h, device lists through device_list.h, envelopes and
// contents through proto/envelope.proto and proto/content.proto, I/O through the caller's
// Transport and KeyDirectory.
#include <hush/limits.h>
#include <hush/messenger.h>

#include <algorithm>

#include "messenger/calls.h"
#include "messenger/healing.h"
#include "messenger/messenger_impl.h"

namespace hush {

using internal::ContentKind;
using internal::EnvelopeId;
using internal::MessageId;
using internal::OutboxDelivery;
using internal::OutboxEntry;

Messenger::Messenger(const Context& ctx, ProtocolStore& store, Transport& transport,
                     KeyDirectory& directory, Address self, MessengerOptions options)
    : ctx_(ctx),
      store_(store),
      transport_(transport),
      directory_(directory),
      self_(std::move(self)),
      options_(options),
      lists_(std::make_unique<internal::DeviceLists>(store, directory, self_)),
      calls_(std::make_unique<internal::CallRegistry>()) {}

Messenger::~Messenger() = default;

// ---- private steps ----

// A pending identity change as the store keeps it (kIdentityChange, key: the person): the
// device that offered it (4 bytes, big-endian) and the offered identity key.
namespace {

Bytes encode_identity_change(const Address& device, const IdentityKey& offered) {
  const std::uint32_t id = to_uint(device.device_id);
  Bytes out{static_cast<std::uint8_t>(id >> 24), static_cast<std::uint8_t>(id >> 16),
            static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id)};
  const auto key = offered.serialize();
  out.insert(out.end(), key.begin(), key.end());
  return out;
}

Result<IdentityChangeEvent> decode_identity_change(std::string_view person, ByteView value) {
  if (value.size() != 4 + PublicKey::kSerializedSize)
    return Error(Errc::kCorruptState, "Messenger: stored identity change size");
  const std::uint32_t id = static_cast<std::uint32_t>(value[0]) << 24 |
                           static_cast<std::uint32_t>(value[1]) << 16 |
                           static_cast<std::uint32_t>(value[2]) << 8 | value[3];
  auto offered = PublicKey::parse(value.subspan(4));
  if (!offered) return Error(Errc::kCorruptState, "Messenger: stored identity change key");
  return IdentityChangeEvent{std::string(person), Address{std::string(person), DeviceId{id}},
                             std::nullopt, *offered};
}

}  // namespace

void Messenger::Impl::note_identity_change(Messenger& m, const Address& device,
                                           const IdentityKey& offered) {
  auto trusted = m.store_.identity(device.name);
  m.changes_.insert_or_assign(
      device.name,
      IdentityChangeEvent{device.name, device, trusted ? *trusted : std::nullopt, offered});
  // Kept in the store too, so that a restart does not forget it. The operation that met the
  // change failed and wrote nothing, so this is a transaction of its own. Best effort: if it
  // cannot be written, the change is still held in memory for this Messenger's lifetime.
  const Bytes value = encode_identity_change(device, offered);
  (void)m.store_.run_transaction([&] {
    return m.store_.store_messenger_record(MessengerRecordKind::kIdentityChange, device.name,
                                           value);
  });
}

Result<std::optional<IdentityChangeEvent>> Messenger::Impl::pending_change(const Messenger& m,
                                                                           std::string_view name) {
  std::optional<IdentityChangeEvent> event;
  if (auto it = m.changes_.find(name); it != m.changes_.end()) {
    event = it->second;
  } else {
    auto stored = m.store_.load_messenger_record(MessengerRecordKind::kIdentityChange, name);
    if (!stored) return stored.error();
    if (!*stored) return std::optional<IdentityChangeEvent>();
    auto decoded = decode_identity_change(name, (*stored)->expose());
    if (!decoded) return decoded.error();
    event = std::move(*decoded);
  }
  auto trusted = m.store_.identity(name);
  if (!trusted) return trusted.error();
  // Trusted since by other means (trust_identity on the store): no longer pending.
  if (*trusted && **trusted == event->offered) return std::optional<IdentityChangeEvent>();
  event->trusted = *trusted;
  return event;
}

Status Messenger::Impl::pin_self(Messenger& m) {
  auto ours = m.store_.identity_key_pair();
  if (!ours) return ours.error();
  auto pinned = m.store_.identity(m.self_.name);
  if (!pinned) return pinned.error();
  if (*pinned && **pinned == ours->public_key) return ok_status();
  return trust_identity(m.store_, m.self_.name, ours->public_key);
}

Result<DeviceList> Messenger::Impl::refresh_list(Messenger& m, std::string_view person) {
  std::optional<IdentityKey> offered;
  auto list = m.lists_->refresh(person, &offered);
  if (!list && list.error().code() == Errc::kUntrustedIdentity && offered)
    note_identity_change(m, Address{std::string(person), DeviceId{0}}, *offered);
  return list;
}

Status Messenger::Impl::new_session(Messenger& m, const Address& device) {
  auto bundle = m.directory_.fetch(device);
  if (!bundle) return bundle.error();
  BundleOptions options;
  options.require_post_quantum = m.options_.require_post_quantum;
  if (auto st = process_prekey_bundle(m.ctx_, m.store_, device, *bundle, options); !st) {
    // Only a validly signed bundle gets as far as the identity check.
    if (st.error().code() == Errc::kUntrustedIdentity)
      note_identity_change(m, device, bundle->identity_key);
    if (st.error().code() == Errc::kPostQuantumRequired)
      return Error(Errc::kPostQuantumRequired,
                   m.options_.require_post_quantum
                       ? "Messenger: this device offers no post-quantum (Kyber) prekey: its app "
                         "does not speak Signal v4, and post-quantum encryption is required"
                       : "Messenger: the directory served a bundle without a post-quantum "
                         "(Kyber) prekey for a person we already talk to in Signal v4: refused "
                         "as a downgrade");
    return st;
  }
  return ok_status();
}

Status Messenger::Impl::ensure_session(Messenger& m, const Address& device) {
  auto info = session_info(m.store_, device);
  if (!info) return info.error();
  // Post-quantum required: a version-3 session made before is replaced by a version-4 one (or
  // refused with kPostQuantumRequired when the device's bundle has no Kyber prekey).
  if (info->exists && (info->version >= kPqProtocolVersion || !m.options_.require_post_quantum))
    return ok_status();
  return new_session(m, device);
}

Result<std::vector<DeviceDelivery>> Messenger::Impl::deliver(
    Messenger& m, OutboxEntry& entry, const std::vector<std::size_t>& indices,
    bool despite_change) {
  std::vector<DeviceDelivery> outcome;
  outcome.reserve(indices.size());
  struct Job {
    std::size_t index;  // into entry.deliveries
    std::size_t out;    // into outcome
  };
  std::vector<Job> ready;
  for (std::size_t i : indices) {
    const Address& to = entry.deliveries[i].device;
    outcome.push_back(DeviceDelivery{to, DeliveryState::kQueued, std::nullopt});
    auto pending = pending_change(m, to.name);
    if (!pending) {
      outcome.back().error = pending.error();
      continue;
    }
    if (*pending && !despite_change) {
      outcome.back().error = Error(Errc::kUntrustedIdentity, "send: identity change pending");
      continue;
    }
    if (*pending) {  // despite_change: only over the session kept from before; none is made
      auto info = session_info(m.store_, to);
      if (!info || !info->exists) {
        outcome.back().error = Error(Errc::kUntrustedIdentity, "send: identity change pending");
        continue;
      }
    } else if (auto st = ensure_session(m, to); !st) {
      outcome.back().error = st.error();
      continue;
    }
    ready.push_back(Job{i, outcome.size() - 1});
  }

  // One transaction for every encryption when it can; one by one otherwise (a session that was
  // never answered for too long needs a new one first).
  auto plaintext_for = [&](const Job& j) -> ByteView {
    return entry.deliveries[j.index].device.name == m.self_.name ? entry.copy.expose()
                                                                 : entry.content.expose();
  };
  std::vector<std::optional<CiphertextMessage>> sealed(ready.size());
  {
    std::vector<OutgoingMessage> batch;
    batch.reserve(ready.size());
    for (const Job& j : ready)
      batch.push_back(OutgoingMessage{entry.deliveries[j.index].device, plaintext_for(j)});
    auto all = batch.empty()
                   ? Result<std::vector<CiphertextMessage>>(std::vector<CiphertextMessage>{})
                   : encrypt_messages(m.ctx_, m.store_, batch);
    if (all) {
      for (std::size_t k = 0; k < ready.size(); ++k)
        sealed[k] = std::move((*all)[k]);
    } else {
      for (std::size_t k = 0; k < ready.size(); ++k) {
        const Address& to = entry.deliveries[ready[k].index].device;
        auto one = encrypt_message(m.ctx_, m.store_, to, plaintext_for(ready[k]));
        if (!one && one.error().code() == Errc::kNoSession) {
          if (auto st = new_session(m, to); !st) {
            outcome[ready[k].out].error = st.error();
            continue;
          }
          one = encrypt_message(m.ctx_, m.store_, to, plaintext_for(ready[k]));
        }
        if (!one) {
          outcome[ready[k].out].error = one.error();
          continue;
        }
        sealed[k] = std::move(*one);
      }
    }
  }

  std::vector<OutgoingEnvelope> envelopes;
  std::vector<std::size_t> sent_jobs;  // indices into ready
  std::vector<EnvelopeId> ids;
  for (std::size_t k = 0; k < ready.size(); ++k) {
    if (!sealed[k]) continue;
    auto id = random_id<internal::kEnvelopeIdBytes>(m);
    if (!id) {
      outcome[ready[k].out].error = id.error();
      continue;
    }
    const Address& to = entry.deliveries[ready[k].index].device;
    envelopes.push_back(OutgoingEnvelope{to, internal::build_envelope(m.self_, *sealed[k], *id)});
    sent_jobs.push_back(k);
    ids.push_back(*id);
  }
  std::vector<Status> statuses;
  if (!envelopes.empty()) statuses = m.transport_.send_batch(envelopes);
  for (std::size_t n = 0; n < sent_jobs.size(); ++n) {
    const Job& j = ready[sent_jobs[n]];
    OutboxDelivery& d = entry.deliveries[j.index];
    d.envelope_ids.push_back(ids[n]);
    if (n < statuses.size() && statuses[n]) {
      d.state = OutboxDelivery::State::kSent;
      d.error.reset();
      outcome[j.out].state = DeliveryState::kSent;
      outcome[j.out].error.reset();
    } else {
      outcome[j.out].error = Error(Errc::kTransportFailure, "send: transport");
    }
  }
  // What is still queued says why.
  for (std::size_t n = 0; n < indices.size(); ++n) {
    OutboxDelivery& d = entry.deliveries[indices[n]];
    if (d.state == OutboxDelivery::State::kQueued && outcome[n].error)
      d.error = outcome[n].error->code();
  }

  // Recorded in the entry as it is now (a flush in another process may have changed it meanwhile:
  // only the deliveries handled here are written).
  internal::Outbox outbox(m.store_);
  auto st = m.store_.run_transaction([&]() -> Status {
    auto current = outbox.load(entry.seq);
    if (!current) return current.error();
    if (!*current) return ok_status();  // dropped meanwhile
    // A device has one delivery per entry, as a rule at the same index as in `entry` (nothing
    // reorders them): looked up there first, so that a send to n devices makes n comparisons, not
    // n * n.
    std::vector<OutboxDelivery>& kept = (*current)->deliveries;
    for (std::size_t i : indices) {
      const OutboxDelivery& handled = entry.deliveries[i];
      if (i < kept.size() && kept[i].device == handled.device) {
        kept[i] = handled;
        continue;
      }
      for (OutboxDelivery& d : kept)
        if (d.device == handled.device) d = handled;
    }
    return outbox.save(**current);
  });
  if (!st) return st.error();
  return outcome;
}

void Messenger::Impl::request_retry(Messenger& m, const Address& device, const EnvelopeId& id) {
  if (!internal::RetryRequests(m.store_).add(device, id)) return;
  (void)send_retry_request(m, device);
}

Status Messenger::Impl::send_retry_request(Messenger& m, const Address& device) {
  internal::RetryRequests requests(m.store_);
  const std::uint64_t now = m.ctx_.clock.now_ms();
  auto ids = requests.due(device, now);
  if (!ids) return ids.error();
  if (ids->empty()) return ok_status();
  // A new session: the one we have may be what broke. The device adopts it when the request
  // arrives, and sends again over it.
  if (auto st = new_session(m, device); !st) return st;
  auto request_id = random_id<internal::kMessageIdBytes>(m);
  if (!request_id) return request_id.error();
  auto envelope_id = random_id<internal::kEnvelopeIdBytes>(m);
  if (!envelope_id) return envelope_id.error();
  const SecretBytes content = internal::build_retry_content(*request_id, now, *ids);
  auto message = encrypt_message(m.ctx_, m.store_, device, content.expose());
  if (!message) return message.error();
  if (auto st =
          m.transport_.send(device, internal::build_envelope(m.self_, *message, *envelope_id));
      !st)
    return st;
  return requests.sent(device, *ids);
}

Result<std::size_t> Messenger::Impl::mark_resends(Messenger& m, const Address& device,
                                                  const std::vector<EnvelopeId>& ids) {
  internal::Outbox outbox(m.store_);
  auto seqs = outbox.seqs();
  if (!seqs) return seqs.error();
  bool found = false;
  std::size_t marked = 0;
  for (std::uint64_t s : *seqs) {
    auto e = outbox.load(s);
    if (!e) return e.error();
    if (!*e) continue;
    bool changed = false;
    for (OutboxDelivery& d : (*e)->deliveries) {
      if (d.device != device) continue;
      if (!found)
        found = std::any_of(d.envelope_ids.begin(), d.envelope_ids.end(), [&](const EnvelopeId& x) {
          return std::find(ids.begin(), ids.end(), x) != ids.end();
        });
      if (!found || d.state != OutboxDelivery::State::kSent) continue;
      if (d.resends >= kMaxResendsPerDevice) continue;
      d.state = OutboxDelivery::State::kQueued;
      d.resends += 1;
      d.error.reset();
      changed = true;
      ++marked;
    }
    if (changed)
      if (auto st = outbox.save(**e); !st) return st.error();
  }
  return marked;
}

ReceivedMessage Messenger::Impl::shown_message(const Address& sender, std::string conversation,
                                               bool sent_by_us, internal::ContentParts& content) {
  ReceivedMessage r;
  r.sender = sender;
  r.conversation = std::move(conversation);
  r.sent_by_us = sent_by_us;
  r.message_id.assign(content.id.begin(), content.id.end());
  r.sent_ms = content.sent_ms;
  r.plaintext = std::move(content.body);
  if (content.context.quote)
    r.quote = Quote{Bytes(content.context.quote->id.begin(), content.context.quote->id.end()),
                    content.context.quote->author};
  r.attachments = std::move(content.attachments);
  return r;
}

// ---- sending ----

Result<SendResult> Messenger::send(std::string_view person, ByteView plaintext) {
  return send(person, plaintext, SendOptions{});
}

Result<SendResult> Messenger::send(std::string_view person, ByteView plaintext,
                                   std::span<const AttachmentPointer> attachments) {
  SendOptions options;
  options.attachments = attachments;
  return send(person, plaintext, options);
}

Result<SendResult> Messenger::send(std::string_view person, ByteView plaintext,
                                   const SendOptions& send_options) {
  if (!internal::message_fits(plaintext, send_options.attachments))
    return Error(Errc::kLimitExceeded, "Messenger::send: message too large (or too many files)");
  internal::ContentContext context;
  if (send_options.quote) {
    const Quote& q = *send_options.quote;
    if (q.message_id.size() != internal::kMessageIdBytes || q.author.empty() ||
        q.author.size() > kMaxAddressNameBytes)
      return Error(Errc::kInvalidArgument, "Messenger::send: quote");
    internal::QuoteParts parts;
    std::copy(q.message_id.begin(), q.message_id.end(), parts.id.begin());
    parts.author = q.author;
    context.quote = std::move(parts);
  }
  auto id = Impl::random_id<internal::kMessageIdBytes>(*this);
  if (!id) return id.error();
  const std::uint64_t now = ctx_.clock.now_ms();
  return Impl::send_to_person(
      *this, person, *id,
      internal::build_message_content(*id, now, plaintext, context, send_options.attachments),
      internal::build_copy_content(*id, now, person, plaintext, context, send_options.attachments));
}

Result<SendResult> Messenger::Impl::send_to_person(Messenger& m, std::string_view person,
                                                   const MessageId& id, SecretBytes content,
                                                   std::optional<SecretBytes> copy) {
  if (person.empty() || person.size() > kMaxAddressNameBytes)
    return Error(Errc::kInvalidArgument, "Messenger::send: person name");
  if (person == m.self_.name) return Error(Errc::kInvalidArgument, "Messenger::send: to ourselves");
  // Encryption refuses to run nested (a rolled-back outer transaction would undo the chain's
  // advance after the ciphertext left); refused here before anything is kept.
  if (m.store_.transaction_depth() > 0)
    return Error(Errc::kInTransaction, "Messenger::send: inside a store transaction");
  // Nothing goes to a person whose identity change the user has not approved yet.
  auto pending = pending_change(m, person);
  if (!pending) return pending.error();
  if (*pending)
    return Error(Errc::kUntrustedIdentity, "Messenger::send: identity change not approved");
  if (auto st = pin_self(m); !st) return st.error();
  auto theirs = refresh_list(m, person);
  if (!theirs) return theirs.error();
  auto ours = refresh_list(m, m.self_.name);
  if (!ours) return ours.error();
  if (!ours->contains(m.self_.device_id))
    return Error(Errc::kUnknownDevice, "Messenger::send: this device is not on our device list");

  OutboxEntry entry;
  entry.recipient = std::string(person);
  entry.content = std::move(content);
  entry.copy = copy ? std::move(*copy) : SecretBytes();
  entry.created_ms = m.ctx_.clock.now_ms();
  auto add_delivery = [&](Address to) {
    OutboxDelivery d;
    d.device = std::move(to);
    entry.deliveries.push_back(std::move(d));
  };
  for (DeviceId d : theirs->devices)
    add_delivery(Address{std::string(person), d});
  if (copy)
    for (DeviceId d : ours->devices)
      if (d != m.self_.device_id) add_delivery(Address{m.self_.name, d});
  if (auto st = internal::Outbox(m.store_).add(entry); !st) return st.error();

  std::vector<std::size_t> all(entry.deliveries.size());
  for (std::size_t i = 0; i < all.size(); ++i)
    all[i] = i;
  auto outcome = deliver(m, entry, all);
  if (!outcome) return outcome.error();
  return SendResult{Bytes(id.begin(), id.end()), std::move(*outcome)};
}

Status Messenger::Impl::send_receipt(Messenger& m, std::string_view person, std::uint32_t type,
                                     const std::vector<MessageId>& ids) {
  for (std::size_t at = 0; at < ids.size(); at += kMaxReceiptMessageIds) {
    internal::ReceiptParts receipt;
    receipt.type = type;
    const std::size_t end = std::min(ids.size(), at + kMaxReceiptMessageIds);
    receipt.ids.assign(ids.begin() + static_cast<std::ptrdiff_t>(at),
                       ids.begin() + static_cast<std::ptrdiff_t>(end));
    auto id = random_id<internal::kMessageIdBytes>(m);
    if (!id) return id.error();
    auto sent = send_to_person(m, person, *id,
                               internal::build_receipt_content(*id, m.ctx_.clock.now_ms(), receipt),
                               std::nullopt);
    if (!sent) return sent.error();
  }
  return ok_status();
}

Status Messenger::mark_read(std::string_view person, std::span<const Bytes> message_ids) {
  if (message_ids.empty()) return Error(Errc::kInvalidArgument, "Messenger::mark_read: no ids");
  std::vector<MessageId> ids;
  ids.reserve(message_ids.size());
  for (const Bytes& b : message_ids) {
    if (b.size() != internal::kMessageIdBytes)
      return Error(Errc::kInvalidArgument, "Messenger::mark_read: id size");
    MessageId id{};
    std::copy(b.begin(), b.end(), id.begin());
    ids.push_back(id);
  }
  return Impl::send_receipt(*this, person, static_cast<std::uint32_t>(ReceiptType::kRead), ids);
}

Result<FlushResult> Messenger::flush() {
  if (store_.transaction_depth() > 0)
    return Error(Errc::kInTransaction, "Messenger::flush: inside a store transaction");
  if (auto st = Impl::pin_self(*this); !st) return st.error();
  FlushResult out;
  internal::Outbox outbox(store_);
  const std::uint64_t now = ctx_.clock.now_ms();
  auto expired = outbox.prune(now);
  if (!expired) return expired.error();
  out.expired = *expired;
  auto seqs = outbox.seqs();
  if (!seqs) return seqs.error();
  for (std::uint64_t s : *seqs) {
    auto e = outbox.load(s);
    if (!e) return e.error();
    if (!*e || !(*e)->waiting()) continue;
    // Deliveries to devices that left their person's list are given up.
    std::vector<std::size_t> queued;
    for (std::size_t i = 0; i < (*e)->deliveries.size(); ++i) {
      OutboxDelivery& d = (*e)->deliveries[i];
      if (d.state != OutboxDelivery::State::kQueued) continue;
      auto list = lists_->known(d.device.name);
      if (!list) return list.error();
      if (*list && !(*list)->contains(d.device.device_id)) {
        d.state = OutboxDelivery::State::kGivenUp;
        d.error = Errc::kUnknownDevice;
        continue;
      }
      queued.push_back(i);
    }
    if (queued.empty()) {
      if (auto st = outbox.save(**e); !st) return st.error();
      continue;
    }
    auto outcome = Impl::deliver(*this, **e, queued);
    if (!outcome) return outcome.error();
    for (const DeviceDelivery& d : *outcome)
      (d.state == DeliveryState::kSent ? out.sent : out.queued) += 1;
  }
  // Retry requests that waited for their interval (or for the transport).
  internal::RetryRequests requests(store_);
  auto waiting = requests.waiting();
  if (!waiting) return waiting.error();
  for (const Address& device : *waiting) {
    auto st = Impl::send_retry_request(*this, device);
    if (!st &&
        (st.error().code() == Errc::kStoreFailure || st.error().code() == Errc::kCorruptState))
      return st.error();
  }
  if (auto st = requests.prune(now); !st) return st.error();
  auto pruned = internal::SeenMessages(store_).prune(now);
  if (!pruned) return pruned.error();
  return out;
}

// ---- receiving ----

Result<Address> Messenger::envelope_sender(ByteView envelope) {
  auto e = internal::parse_envelope(envelope);
  if (!e) return e.error();
  return std::move(e->sender);
}

Result<std::optional<ReceivedMessage>> Messenger::receive(ByteView bytes,
                                                          const ReceiveOptions& receive_options) {
  auto parts = internal::parse_envelope(bytes);
  if (!parts) return parts.error();
  const Address& sender = parts->sender;
  if (parts->group) {
    if ((receive_options.authenticated_name &&
         *receive_options.authenticated_name != sender.name) ||
        (receive_options.authenticated_device &&
         *receive_options.authenticated_device != sender.device_id))
      return Error(Errc::kSenderMismatch,
                   "Messenger::receive: the envelope names another sender than the transport's");
    if (sender == self_)
      return Error(Errc::kInvalidMessage, "Messenger::receive: an envelope from this very device");
    return Impl::receive_group(*this, *parts, receive_options);
  }
  // The transport knows who handed it this envelope; the envelope's own claim is just bytes.
  if ((receive_options.authenticated_name && *receive_options.authenticated_name != sender.name) ||
      (receive_options.authenticated_device &&
       *receive_options.authenticated_device != sender.device_id))
    return Error(Errc::kSenderMismatch,
                 "Messenger::receive: the envelope names another sender than the transport's");
  if (sender == self_)
    return Error(Errc::kInvalidMessage, "Messenger::receive: an envelope from this very device");
  if (sender.name == self_.name)
    if (auto st = Impl::pin_self(*this); !st) return st.error();
  auto message = CiphertextMessage::parse(parts->type, parts->body);
  if (!message) return message.error();
  if (options_.require_post_quantum) {
    const std::uint8_t version = message->prekey_message()
                                     ? message->prekey_message()->message_version()
                                     : message->signal_message()->message_version();
    if (version < kPqProtocolVersion)
      return Error(Errc::kPostQuantumRequired,
                   "Messenger::receive: the sender's app uses Signal version 3, without "
                   "post-quantum encryption, which this app requires");
  }
  // Only devices on their person's signed list may speak for the person. A list learned here is
  // kept in the decrypt's transaction: a receive that fails keeps nothing.
  std::optional<SignedDeviceList> learned;
  auto known = lists_->known(sender.name);
  if (!known) return known.error();
  if (!*known || !(*known)->contains(sender.device_id)) {
    std::optional<IdentityKey> offered;
    auto fresh = lists_->fetch(sender.name, &offered);
    if (!fresh) {
      if (fresh.error().code() == Errc::kUntrustedIdentity && offered)
        Impl::note_identity_change(*this, Address{sender.name, DeviceId{0}}, *offered);
      return fresh.error();
    }
    if (!fresh->list().contains(sender.device_id))
      return Error(Errc::kUnknownDevice, "Messenger::receive: the sender's device is not listed");
    // A person met for the first time: the list and the message must carry one identity.
    if (const auto* pre = message->prekey_message();
        pre && !(pre->identity_key() == fresh->list().identity))
      return Error(Errc::kUntrustedIdentity,
                   "Messenger::receive: the message and the device list carry other identities");
    learned = std::move(*fresh);
  }

  const std::uint64_t now = ctx_.clock.now_ms();
  std::optional<ReceivedMessage> out;
  bool content_refused = false;
  bool resend = false;
  std::optional<Receipt> receipt;
  std::optional<GroupChangeEvent> group_change;
  std::optional<internal::CallMessageParts> call;
  DecryptOptions options;
  options.require_post_quantum = options_.require_post_quantum;
  options.before_commit = [&](ByteView plaintext) -> Status {
    out.reset();
    resend = false;
    receipt.reset();
    group_change.reset();
    call.reset();
    if (learned)
      if (auto st = lists_->keep(*learned); !st) return st;
    auto content = internal::parse_content(plaintext);
    if (!content) {
      content_refused = true;
      return content.error();
    }
    if (content->kind == ContentKind::kRetryRequest) {
      auto marked = Impl::mark_resends(*this, sender, content->retry_ids);
      if (!marked) return marked.error();
      resend = *marked > 0;
      return ok_status();
    }
    if (content->kind == ContentKind::kReceipt) {
      Receipt r;
      r.from = sender;
      r.type = static_cast<ReceiptType>(content->receipt.type);
      for (const MessageId& id : content->receipt.ids)
        r.message_ids.emplace_back(id.begin(), id.end());
      r.sent_ms = content->sent_ms;
      receipt = std::move(r);
      return ok_status();
    }
    if (content->kind == ContentKind::kGroupUpdate) {
      if (auto st = Impl::apply_group_update(*this, sender, content->group_update, group_change);
          !st) {
        content_refused = true;
        return st;
      }
      return ok_status();
    }
    if (content->kind == ContentKind::kCall) {
      // Checked now (a refused call message keeps nothing), applied once committed (it may send).
      content->call.sent_ms = content->sent_ms;
      if (auto st = Impl::check_call(*this, sender, content->call); !st) {
        content_refused = true;
        return st;
      }
      call = std::move(content->call);
      return ok_status();
    }
    const bool copy = content->kind == ContentKind::kSentCopy;
    // Our devices send us copies; other people send messages.
    if (copy != (sender.name == self_.name)) {
      content_refused = true;
      return Error(Errc::kInvalidMessage, "Messenger::receive: content of the wrong kind");
    }
    internal::SeenMessages seen(store_);
    auto shown = seen.contains(sender.name, content->id);
    if (!shown) return shown.error();
    if (*shown) return ok_status();  // a resend of a message already shown
    if (auto st = seen.insert(sender.name, content->id, now); !st) return st;
    ReceivedMessage r =
        Impl::shown_message(sender, copy ? content->recipient : sender.name, copy, *content);
    if (receive_options.before_commit)
      if (auto st = receive_options.before_commit(r); !st) return st;
    out = std::move(r);
    return ok_status();
  };
  auto plaintext = decrypt_message(ctx_, store_, sender, *message, options);
  if (!plaintext) {
    const Errc code = plaintext.error().code();
    // A prekey message refused as untrusted authenticated under its identity key (the library
    // checks trust only after X3DH and the MAC): a real identity change for that person.
    if (code == Errc::kUntrustedIdentity && message->prekey_message())
      Impl::note_identity_change(*this, sender, message->prekey_message()->identity_key());
    // A listed device sent something we cannot decrypt: ask it to send again (rate-limited).
    if (!content_refused &&
        (code == Errc::kNoSession || code == Errc::kInvalidMessage || code == Errc::kInvalidKeyId))
      Impl::request_retry(*this, sender, parts->id);
    return plaintext.error();
  }
  if (learned) lists_->remember(*learned);
  if (resend) (void)flush();
  if (receipt && receive_options.on_receipt) receive_options.on_receipt(*receipt);
  if (group_change && receive_options.on_group_change)
    receive_options.on_group_change(*group_change);
  if (call) {
    std::vector<CallEvent> events = Impl::apply_call(*this, sender, *call);
    if (receive_options.on_call)
      for (const CallEvent& e : events)
        receive_options.on_call(e);
  }
  // A message from another person was stored: tell its sender (best effort, never for a receipt).
  if (out && !out->sent_by_us && options_.delivery_receipts) {
    MessageId id{};
    std::copy(out->message_id.begin(), out->message_id.end(), id.begin());
    (void)Impl::send_receipt(*this, sender.name,
                             static_cast<std::uint32_t>(ReceiptType::kDelivered), {id});
  }
  // A one-time prekey of ours was used up: publish more if the directory runs low. Best effort:
  // the message is already committed, and the next maintain_keys() will try again.
  // Likewise for a one-time Kyber prekey (a last-resort one stays).
  if (const auto* pre = message->prekey_message(); pre) {
    bool used = false;
    if (pre->pre_key_id()) {
      auto still = store_.load_pre_key(*pre->pre_key_id());
      used = still && !*still;
    }
    if (!used && pre->kyber_pre_key_id()) {
      auto still = store_.load_kyber_pre_key(*pre->kyber_pre_key_id());
      used = still && !*still;
    }
    if (used) (void)maintain_keys();
  }
  return out;
}

// ---- people ----

Result<DeviceList> Messenger::devices(std::string_view person) {
  return Impl::refresh_list(*this, person);
}

std::optional<IdentityChangeEvent> Messenger::identity_change(std::string_view name) const {
  auto pending = Impl::pending_change(*this, name);
  if (!pending) return std::nullopt;
  return std::move(*pending);
}

Status Messenger::reset_session(const Address& peer) {
  return hush::reset_session(store_, peer);
}

Status Messenger::approve_identity(std::string_view name, const IdentityKey& identity) {
  if (auto st = store_.run_transaction([&]() -> Status {
        if (auto t = trust_identity(store_, name, identity); !t) return t;
        return store_.remove_messenger_record(MessengerRecordKind::kIdentityChange, name);
      });
      !st)
    return st;
  if (auto it = changes_.find(name); it != changes_.end()) changes_.erase(it);
  lists_->forget(name);
  return ok_status();
}

Status Messenger::dismiss_identity_change(std::string_view name) {
  if (auto st = store_.run_transaction([&] {
        return store_.remove_messenger_record(MessengerRecordKind::kIdentityChange, name);
      });
      !st)
    return st;
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
