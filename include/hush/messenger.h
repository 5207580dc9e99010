/// @file
/// Messenger, a façade an application drives to carry a conversation between people, each
/// with one or more devices, through its own transport and key directory.
///
/// People and devices. A person (a name) has devices 1..N, all holding the person's identity key,
/// each with its own registration id, prekeys and sessions (device_list.h). `send(person, ...)`
/// encrypts the message once for every device on the person's signed device list and once for
/// every other device of ours (a copy marked as sent by us, so that all our devices show the
/// conversation), setting up a session first where there is none, and returns what happened per
/// device. Before every send it fetches both device lists from the directory: a device added
/// mid-conversation gets the next message; a removed device gets nothing more, and its sessions
/// are closed. A list signed by another key than the person's trusted identity is an identity
/// change; one older than the newest seen is refused (kStaleDeviceList). `receive` says which
/// person and device a message came from, and refuses a message from a device that is not on its
/// person's newest list (kUnknownDevice) before decrypting it.
///
/// Linking (link.h): `link_device` gives a new device of ours an id, publishes the person's new
/// device list and seals a link message for the code the new device showed; `unlink_device`
/// removes one.
///
/// Inside the encryption travels a Content (proto/envelope.proto): a message id (16 random bytes,
/// authenticated, the same for every device and every resend), the sending time, and one of: a
/// message for the person, a copy of a message we sent (for our other devices), or a retry request.
/// A message and its copy may carry attachment pointers (attachment.h: the files themselves are
/// in a blob store, encrypted under keys that travel only here).
/// The envelope around it (sender, type, envelope id) is not authenticated by itself.
///
/// Healing. When a device cannot decrypt a message from a listed device (no session, a MAC that
/// fails because the peer reinstalled or restored a copy, an unknown signed prekey), it sends that
/// device a retry request naming the failed envelope, at most one per device per
/// kRetryRequestIntervalMs, carrying no plaintext. The request travels over a new session made
/// from the device's bundle (the current one may be what broke), so it authenticates both sides
/// and the device that receives it now has a fresh session to answer over: it sends the named
/// message and every later one to the requester again from its outbox, at most
/// kMaxResendsPerDevice times each. The receiver shows each message id once (a resend decrypts,
/// and receive returns nothing for it), so healing loses nothing inside kResendWindowMs, shows
/// nothing twice and cannot loop. A retry request from a person whose identity changed waits,
/// like their messages, until the application approves the new identity.
///
/// Outbox. Every message is kept (in the store, sealed with its storage key) until every device got
/// it and kResendWindowMs passed, at most kMaxOutboxMessages and kMaxOutboxBytes. A message the
/// transport could not take (the server is down) stays queued for that device and `flush()` sends
/// it; so does a message for a listed device that has not published keys yet. Nothing the user
/// wrote is lost: when the outbox is full of messages still waiting for the transport, send
/// refuses a new one (kLimitExceeded). A crash between encrypting and recording the delivery sends
/// the message again later; the receiver shows it once.
///
/// Identity changes. When a device list, a bundle, or a prekey message that authenticated (X3DH and
/// MAC verified), carries an identity other than the one trusted for the person, the operation
/// fails with kUntrustedIdentity and `identity_change(name)` tells which key is trusted and which
/// was offered; nothing is sent to any device of that person until `approve_identity()` (or
/// `dismiss_identity_change()`, which keeps the trusted key), but for a call's busy reply to the
/// device whose offer just came over the session kept from before (call.h: its phone stops). The
/// pending change is kept in the store (the one record such a failed operation writes, in a
/// transaction of its own), so a restart does not forget it. A forged message (one that does not
/// authenticate) is kInvalidMessage and raises nothing. (A server that lies about a person's keys
/// can so block sending to that person until the user dismisses the change: it could withhold the
/// messages anyway.)
///
/// Key upkeep: `maintain_keys` decides a signed prekey rotation (and with it the last-resort Kyber
/// prekey's) in one store transaction, publishes until the directory acknowledged, and publishes
/// the first device list of a person's first device. Time arithmetic saturates: a clock that goes
/// backwards delays, never hastens.
///
/// Post-quantum (Signal v4). Every device publishes signed Kyber prekeys: one-time ones
/// (replenished like one-time prekeys) and a last-resort one (rotated with the signed prekey; the
/// one it replaced is kept for signed_pre_key_grace_ms, for prekey messages in flight, then
/// deleted). So two hush users always set up version-4 (PQXDH + SPQR) sessions: session_info()
/// says which version a session has. A person we have had a version-4 session with is never
/// moved back to version 3: a bundle without a Kyber prekey, or a version-3 prekey message in
/// their name, is refused (kPostQuantumRequired, kLegacyMessage); a Kyber prekey their identity
/// did not sign is kInvalidSignature. A device that never published Kyber prekeys is talked to in
/// version 3 unless MessengerOptions::require_post_quantum.
///
/// What the server (transport and directory) can still do: withhold, delay, reorder or replay
/// envelopes (replays and resends are shown once), relabel senders (the message then fails to
/// decrypt, or is refused before decryption with ReceiveOptions::authenticated_name), withhold the
/// newest device list (a device added since gets nothing until it is served; a removed device is
/// never brought back), make a device ask for resends (at most once a minute per device pair; the
/// resends go only to the person's real devices), hand out its own keys and list for a person we
/// have never talked to (trust on first use: safety numbers differ), strip the Kyber prekey from
/// the bundle of a person we have never had a version-4 session with (the first session is then
/// version 3, unless require_post_quantum), drain one-time prekeys (Kyber ones too: bundles then
/// carry the last-resort Kyber prekey, still post-quantum), and
/// see who talks to whom, when and to how many devices.
///
/// Content. Every message carries, inside the encryption, an id the sender chose (authenticated:
/// key messages by ReceivedMessage::message_id, never by the envelope's id), the sender's clock,
/// and optionally the message it quotes (SendOptions::quote) and the group it was sent to.
/// Receipts: once a message from another person is stored (receive committed), a delivery receipt
/// naming its id goes back to the sender's person (MessengerOptions::delivery_receipts; through
/// the outbox, best effort: a receive inside the caller's transaction sends none); `mark_read`
/// sends a read receipt. A receipt is never answered with a receipt; receive hands it to
/// ReceiveOptions::on_receipt (an application shows ✓✓). A receipt says what the sender's device
/// claims: the server can withhold it (no ✓✓ shown), never forge one.
///
/// Groups. `create_group` makes a group of people; its state (name,
/// revision, members, admins) and the keys are kept in the store (MessengerRecordKind::kGroup,
/// sealed like every record), at most kMaxGroupMembers people and kMaxGroups groups. A change
/// (add, remove, rename, promote; leave) is sent end to end as a GroupUpdate over 1:1 sessions to
/// every device of every member (the whole new state, so a device that missed one change catches
/// up with the next). A receiver applies it only if its author is an admin of the group as the
/// receiver holds it (the creator, and those promoted; leaving is the one change a member that is
/// not an admin may make, for itself, and only as the next revision), and its revision is higher
/// than the held one and at most kMaxGroupRevision; otherwise kNotGroupAdmin, kStaleGroupRevision
/// or kLimitExceeded, and nothing changes. Proof of origin: a group's id (16 bytes) is a hash of
/// its creator's name, identity key and a random nonce, all three carried in every state; only the
/// creator makes admins (promote_admin), each with a certificate the creator's identity key signs
/// over the group id, the admin's name and identity key. A receiver checks that the id commits to
/// the creator, that the creator's key is the one it knows for that person (where it knows one),
/// that every admin but the creator has a certificate that verifies, and that the author's
/// identity (as its 1:1 session authenticated it) is the creator's or its certificate's; else
/// kUnverifiedGroup (kNotGroupAdmin for an author who is simply no admin). A device that learns of
/// a group for the first time accepts it only so, and only if the state lists us. Groups kept by
/// versions before proofs (no proof in the store) keep working among the devices that hold them
/// under the old rule (the admins as held), but a device that does not hold such a group refuses
/// it (kUnverifiedGroup): to add people, make the group again.
/// Group messages are encrypted once with the sending device's sender key (group.h, current
/// format, distribution id a random UUID) and the same envelope goes to every member device; the
/// key travels as a GroupUpdate over 1:1 sessions to every device of every member (each device is
/// a member for the keys) before the device's first group message, and to devices that joined
/// since (at the chain's current position: a newcomer cannot read what came before). A receiver
/// accepts a group message only from a current member's listed device whose current key it got
/// over their 1:1 session (else kNotGroupMember), and shows the group and the sender.
/// When a member is removed or leaves, every remaining device starts a new sender key (a fresh
/// distribution id and a fresh random chain: the one removed holds neither) as soon as it applies
/// the change, and gives it only to the remaining members (the admin that removed, in the change
/// itself; the others before their next group message); the removed person's devices get the
/// change without keys and are no longer sent group messages. What was sent before the removal it
/// could read; nothing sent after the change reached a sender. A sender also starts a new key when
/// a device that held its key is no longer on its person's list (unlinked, perhaps stolen).
/// What the server can still do in groups: all the above (withhold a change from some members,
/// so that they keep the old state until the next change reaches them; withhold a key, so that a
/// device cannot read a sender's messages; reorder, replay, drop group messages: replays are
/// refused), see the group's size and who sends to it; it cannot add or remove members or read.
/// By withholding a removal from a member, it keeps that member sending to the removed person
/// under the old key until a later change reaches it (a change the transport did not take is kept
/// in the outbox and sent again by flush(); people whose device list could not be had are named in
/// GroupSendResult::unreached, for resend_group_change()). A receiver keeps only the newest of a
/// sender device's keys (GroupUpdate.key_serial), so a server that reorders two keys cannot make
/// it hold the older one; superseded keys are deleted from the store, and forget_group() removes
/// a group we do not want (a made-up invitation) with its keys. What a member can still do: an
/// admin can change
/// the group at will (but only the creator can make admins);
/// two admins changing it at once make the one whose change arrives second refused by those that
/// got the first (kStaleGroupRevision: change again); a person can invite us to a group it makes
/// up, with any name and members. A member that sends before a removal reaches it can still be
/// read by the removed person. A former member who was never an admin cannot plant a made-up copy
/// of the group on a device that joins later (it holds no certificate); a removed admin still
/// holds its certificate and can plant one on a device that has never held the group, if its
/// state reaches that device before the genuine one (it then reads what that device sends to the
/// made-up group, until a genuine change with a higher revision reaches the device; the genuine
/// admins' changes are refused there if the made-up revision is higher). A person whose identity
/// key changes after it was made an admin (a new install) must be removed and added and promoted
/// again; a group whose creator's identity key changes cannot take in new devices.
///
/// Calls (call.h): signalling travels as contents over the 1:1 sessions (to every device of the
/// people called; the first device to answer wins), call keys likewise, only to the participants
/// listed; call state is in memory only. call.h says what a server can still do with calls.
///
/// Not responsible for: networking, threads or timers (call flush() when the transport is back, and
/// maintain_keys() now and then), and it has no crypto of its own.
///
/// Thread-safety: a Messenger is not synchronised: call it from one thread at a time. The store may
/// be shared with other Messengers and threads (its transactions serialise operations).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <hush/address.h>
#include <hush/attachment.h>
#include <hush/call.h>
#include <hush/context.h>
#include <hush/device_list.h>
#include <hush/fingerprint.h>
#include <hush/link.h>
#include <hush/session.h>
#include <hush/store.h>
#include <hush/transport.h>

namespace hush {

namespace internal {
class DeviceLists;
struct CallRegistry;
}  // namespace internal

/// Key maintenance policy.
struct MessengerOptions {
  /// Publish more one-time prekeys when the directory holds fewer than this.
  std::uint32_t pre_key_low_water = 20;
  /// How many one-time prekeys to publish at a time.
  std::uint32_t pre_key_batch = 100;
  /// Make a new signed prekey when the current one is older than this (Signal: about a week).
  std::uint64_t signed_pre_key_rotation_ms = std::uint64_t{7} * 24 * 3600 * 1000;
  /// Keep a replaced signed prekey this long, for prekey messages still in flight.
  std::uint64_t signed_pre_key_grace_ms = std::uint64_t{30} * 24 * 3600 * 1000;
  /// Send a delivery receipt for every message from another person once it is stored.
  bool delivery_receipts = true;
  /// Publish more one-time Kyber prekeys when the directory holds fewer than this (Signal: 10).
  std::uint32_t kyber_pre_key_low_water = 10;
  /// How many one-time Kyber prekeys to make at a time (Signal: 100; each is a key generation and
  /// about 4.8 KB in the store). At most kMaxPublishedKyberPreKeys go in one publish.
  std::uint32_t kyber_pre_key_batch = 100;
  /// Post-quantum only: every session must be version 4 (PQXDH). A device whose bundle has no
  /// Kyber prekey, or a version-3 message, is refused with kPostQuantumRequired (whose message
  /// says that the peer's app does not offer post-quantum encryption, which is required); an
  /// existing version-3 session is replaced by a version-4 one before the next send (a new bundle
  /// is fetched each time until one has a Kyber prekey), or refused the same way. Off by
  /// default: hush users always get version 4 with each other, and a peer that never published
  /// Kyber prekeys (an older app) is talked to in version 3 until it does.
  bool require_post_quantum = false;
};

/// A group's id: 16 bytes of a hash of its creator's name, identity key and a random nonce.
using GroupId = std::array<std::uint8_t, 16>;

/// The message a reply quotes.
struct Quote {
  /// The quoted message's id (ReceivedMessage::message_id or SendResult::message_id: 16 bytes).
  Bytes message_id;
  /// The quoted message's author (a person's name).
  std::string author;
};

/// What send() may add to a message.
struct SendOptions {
  /// The message this one replies to.
  std::optional<Quote> quote;
  /// Files sent with it: pointers from upload_attachment (attachment.h), at most
  /// kMaxAttachmentsPerMessage (else kLimitExceeded), carried inside the encryption. The span must
  /// stay valid for the call.
  std::span<const AttachmentPointer> attachments;
};

/// A receipt's meaning.
enum class ReceiptType : std::uint8_t {
  kDelivered = 1,  ///< The messages reached a device of the person (✓✓).
  kRead = 2,       ///< The person read them (mark_read on one of their devices).
};

/// A delivery or read receipt received.
struct Receipt {
  /// The device that sent it (authenticated by the session).
  Address from;
  /// Delivered or read.
  ReceiptType type = ReceiptType::kDelivered;
  /// The ids of the messages it is about (1 to kMaxReceiptMessageIds, 16 bytes each).
  std::vector<Bytes> message_ids;
  /// When the device says it sent the receipt (its clock, milliseconds since the epoch).
  std::uint64_t sent_ms = 0;
};

/// A group as this device holds it.
struct GroupInfo {
  /// The group's id.
  GroupId id{};
  /// Its name.
  std::string name;
  /// Its revision (1 when created, one more with every change).
  std::uint64_t revision = 0;
  /// Its members (people), ascending; ourselves included while we are one.
  std::vector<std::string> members;
  /// The members that may change the group, ascending.
  std::vector<std::string> admins;
  /// False once we left or were removed (the group is kept, read-only).
  bool member = true;
};

/// A group change applied on receive.
struct GroupChangeEvent {
  /// The device whose change it was (authenticated by the session).
  Address author;
  /// The group after the change.
  GroupInfo group;
};

/// A decrypted message.
struct ReceivedMessage {
  /// The device it came from (authenticated by the session).
  Address sender;
  /// The person the conversation is with: the sender's name, or for a copy of a message another
  /// device of ours sent, its recipient.
  std::string conversation;
  /// True for a copy of a message another device of ours sent to `conversation`.
  bool sent_by_us = false;
  /// The message id (16 bytes, authenticated: the same on every device and for every resend).
  Bytes message_id;
  /// When the sender says it sent the message (its clock, milliseconds since the epoch).
  std::uint64_t sent_ms = 0;
  /// The message.
  SecretBytes plaintext;
  /// The message this one replies to, as the sender named it (authenticated).
  std::optional<Quote> quote;
  /// The group it was sent to (a group message from a current member's device); `conversation`
  /// is then the sender's name.
  std::optional<GroupId> group;
  /// Files sent with it (attachment.h): pointers to fetch with download_and_decrypt. The sender's
  /// claims: the blob is checked against the pointer, and the name is sanitized when saved.
  std::vector<AttachmentPointer> attachments;
};

/// Options for Messenger::receive.
struct ReceiveOptions {
  /// If set, called with a decrypted message inside the store's transaction, before anything is
  /// written; an error fails the receive and writes nothing. Lets an application store the message
  /// atomically with the session it advanced. Not called for what shows nothing (a message already
  /// shown, a retry request).
  std::function<Status(const ReceivedMessage& message)> before_commit;
  /// The sender's name as the transport authenticated it (for example the account of the
  /// connection the server received the envelope on). If set, an envelope that names another
  /// sender is refused with kSenderMismatch before anything is decrypted.
  std::optional<std::string> authenticated_name;
  /// The sender's device as the transport authenticated it, checked the same way.
  std::optional<DeviceId> authenticated_device;
  /// Called with a receipt the envelope carried, once the receive committed (receive returns
  /// nullopt for it).
  std::function<void(const Receipt& receipt)> on_receipt;
  /// Called with a group change the envelope carried, once it was applied and committed (receive
  /// returns nullopt for it).
  std::function<void(const GroupChangeEvent& change)> on_group_change;
  /// Called with what a call message the envelope carried did (call.h), once the receive committed
  /// (receive returns nullopt for it).
  std::function<void(const CallEvent& event)> on_call;
};

/// What happened to one message for one device.
enum class DeliveryState : std::uint8_t {
  kSent,    ///< Handed to the transport.
  kQueued,  ///< Kept in the outbox and sent by flush(): the transport failed, the device has no
            ///< keys yet, or its bundle carried another identity (sent once the change is
            ///< approved). A delivery still waiting for keys when kResendWindowMs passed is given
            ///< up; one waiting for the transport never is.
  kFailed,  ///< Not sent and not kept: a group message the transport did not take (send it
            ///< again), or a device a group change or key could not be encrypted for.
};

/// One device's outcome of a send.
struct DeviceDelivery {
  /// The device (the recipient's, or one of ours for the copy).
  Address device;
  /// Sent, or queued in the outbox (then `error` says why).
  DeliveryState state = DeliveryState::kSent;
  /// Why it was queued (kTransportFailure, kNoSession, kUntrustedIdentity, ...); absent when sent.
  std::optional<Error> error;
};

/// What send() did.
struct SendResult {
  /// The message id (authenticated; the same on every device).
  Bytes message_id;
  /// One entry per device of the recipient, then one per other device of ours.
  std::vector<DeviceDelivery> deliveries;
};

/// What a group operation did.
struct GroupSendResult {
  /// The group.
  GroupId group{};
  /// The id of the message (or of the change) sent (16 bytes).
  Bytes message_id;
  /// One entry per device sent to (every device of every member but this one; for a change, also
  /// of a person removed). A change that did not reach a device is kQueued: kept in the outbox
  /// and sent by flush() (kFailed only if the outbox had no room).
  std::vector<DeviceDelivery> deliveries;
  /// People whose device list could not be had (the directory did not answer, or its list did
  /// not verify): nothing was sent to them, nor kept. For a change, send it again with
  /// resend_group_change() once the directory answers; a group message is not for them.
  std::vector<std::string> unreached;
};

/// What flush() did.
struct FlushResult {
  /// Deliveries handed to the transport now (queued ones, and resends).
  std::size_t sent = 0;
  /// Deliveries still queued.
  std::size_t queued = 0;
  /// Outbox messages dropped because every device got them and the window passed.
  std::size_t expired = 0;
};

/// What link_device() did.
struct LinkResult {
  /// The new device's id.
  DeviceId device_id{1};
  /// Where to deliver `message` (the code's mailbox).
  LinkMailbox mailbox{};
  /// The sealed link message for the new device (carries the identity key pair, encrypted).
  Bytes message;
};

/// A person's identity differs from the one we trust for them.
struct IdentityChangeEvent {
  /// The person (the name shared by all their devices).
  std::string person;
  /// The device whose bundle or message offered the new identity (device 0 if it was the
  /// person's device list).
  Address device;
  /// The identity we trust for the person (the one stored), if any.
  std::optional<IdentityKey> trusted;
  /// The identity the directory or the device's authenticated message offered.
  IdentityKey offered;
};

/// Drives sessions, envelopes, device lists, healing and key maintenance over caller-supplied I/O.
class Messenger {
 public:
  /// A messenger for our device `self` (our name and device id) whose keys are in `store`. The
  /// referents must outlive it.
  Messenger(const Context& ctx, ProtocolStore& store, Transport& transport, KeyDirectory& directory,
            Address self, MessengerOptions options = {});
  ~Messenger();
  Messenger(const Messenger&) = delete;
  Messenger& operator=(const Messenger&) = delete;

  /// Publishes our identity, signed prekey, last-resort Kyber prekey, one-time prekeys and
  /// one-time Kyber prekeys as needed (everything on first use; a new signed prekey and a new
  /// last-resort Kyber prekey when due, deleting replaced ones past the grace period; more
  /// one-time prekeys of either kind when the directory runs low; whatever an earlier publish
  /// failed to deliver), and, for device 1 of a person with no device list yet, the first list.
  /// Keys are made and marked published in store transactions: a crash in between publishes the
  /// same keys again (the directory takes them idempotently), never loses or reuses one. Call at
  /// start-up and now and then. Errors: the directory's, kUnknownDevice (this device is no longer
  /// on our list), kStoreFailure, kCryptoFailure, kInvalidArgument (prekey ids exhausted).
  Status maintain_keys();

  /// Sends `plaintext` to every device of the person `person` and a copy to every other device of
  /// ours. Fails as a whole (nothing kept, nothing sent) with: kUntrustedIdentity (an identity
  /// change for `person` is pending, or the directory's list or a bundle carries another
  /// identity: see identity_change()), kStaleDeviceList, kNoSession (the person has no device list
  /// and none was seen), kUnknownDevice (this device was removed from our list), kLimitExceeded
  /// (the plaintext is too large, or the outbox is full of messages still waiting for the
  /// transport), kInvalidArgument (sending to ourselves), and store errors. A directory that cannot
  /// be reached is not a failure: the newest lists seen are used and what cannot go now is queued.
  /// Otherwise the message is in the outbox and each device's outcome is in the result.
  Result<SendResult> send(std::string_view person, ByteView plaintext);

  /// As send(person, plaintext), with a quote (kInvalidArgument for a quoted id that is not 16
  /// bytes or an empty author).
  Result<SendResult> send(std::string_view person, ByteView plaintext, const SendOptions& options);

  /// Sends a read receipt for `message_ids` (ReceivedMessage::message_id, 16 bytes each; more than
  /// kMaxReceiptMessageIds go as several receipts) to the devices of the person `person` who sent
  /// them. Errors: kInvalidArgument (no ids, an id of another size, ourselves), and send's.
  Status mark_read(std::string_view person, std::span<const Bytes> message_ids);

  /// Creates a group named `name` (at most kMaxMessengerGroupNameBytes) of us and `members`
  /// (people; we are its admin), keeps it, and sends the group and our sender key to every device
  /// of every member and our other devices. Errors: kInvalidArgument (an empty or too long name; a
  /// member name empty or too long, or listed twice), kLimitExceeded (more than kMaxGroupMembers
  /// people with us, or kMaxGroups groups kept), kInTransaction, and those of the directory and the
  /// store. A member whose device list cannot be had gets nothing now (no entry in the
  /// deliveries); a device that cannot be encrypted for is kFailed. Either gets the state with the
  /// next change and our key before our next group message.
  Result<GroupSendResult> create_group(std::string_view name, std::span<const std::string> members);

  /// Adds the person `person` to the group (we must be an admin: kNotGroupAdmin; a member already:
  /// kInvalidArgument; kLimitExceeded beyond kMaxGroupMembers) and sends the change to every
  /// member, the newcomer included, with our current sender key (at its current position).
  Result<GroupSendResult> add_member(const GroupId& group, std::string_view person);

  /// Removes the person `person` from the group (admins only; kInvalidArgument for someone not a
  /// member, or ourselves: leave instead), starts a new sender key of ours and sends the change,
  /// with it, to the remaining members and the change alone to the removed person's devices. Every
  /// remaining device starts a new key too when it applies the change.
  Result<GroupSendResult> remove_member(const GroupId& group, std::string_view person);

  /// Leaves the group: sends the change (us removed) to the other members and our other devices;
  /// the group is kept with member = false. kNotGroupMember if we are not a member.
  Result<GroupSendResult> leave_group(const GroupId& group);

  /// Renames the group (admins only) and sends the change.
  Result<GroupSendResult> rename_group(const GroupId& group, std::string_view name);

  /// Makes the member `person` an admin and sends the change: only the group's creator may
  /// (kNotGroupAdmin otherwise; in a group kept from before proofs, any admin), which signs a
  /// certificate naming the person's identity key (fetched from the directory if not known:
  /// kNoSession if none). kInvalidArgument if not a member or already an admin.
  Result<GroupSendResult> promote_admin(const GroupId& group, std::string_view person);

  /// Sends the group's current state again (same revision, with our current sender key) to every
  /// device of every member: for people a change did not reach (GroupSendResult::unreached, or
  /// deliveries kFailed). Devices that hold that state already take only the key. Admins only
  /// (kNotGroupAdmin); kUnknownGroup, kNotGroupMember, kInTransaction.
  Result<GroupSendResult> resend_group_change(const GroupId& group);

  /// Forgets the group: its record and every sender key kept for it (ours and its members') are
  /// removed, in one transaction, and nobody is told (leave_group() first to tell the members).
  /// The way out of an invitation we do not want (it no longer counts against kMaxGroups); a later
  /// change from an admin brings the group back as a new one. Errors: kUnknownGroup,
  /// kInTransaction, store errors.
  Status forget_group(const GroupId& group);

  /// The group as held. Errors: kUnknownGroup, kStoreFailure, kCorruptState.
  Result<GroupInfo> group(const GroupId& group) const;

  /// The group's members (people), ascending. Errors: as group().
  Result<std::vector<std::string>> group_members(const GroupId& group) const;

  /// The ids of every group held, ascending. Errors: kStoreFailure, kCorruptState.
  Result<std::vector<GroupId>> groups() const;

  /// Sends `plaintext` to the group: first our sender key to every member device that does not
  /// hold our current one (over 1:1 sessions), then one group message, whose envelope goes to
  /// every device of every member but this one. Group messages are not kept in the outbox: a device
  /// the transport did not take is kFailed. Errors: kUnknownGroup, kNotGroupMember (we left or were
  /// removed), kLimitExceeded (the plaintext is too large), kInTransaction, and those of
  /// group_encrypt and the store.
  Result<GroupSendResult> send_to_group(const GroupId& group, ByteView plaintext,
                                        const SendOptions& options = {});

  /// send() with files (the same as send(person, plaintext, SendOptions{.attachments = ...})):
  /// `attachments` are pointers from upload_attachment (at most kMaxAttachmentsPerMessage, else
  /// kLimitExceeded), carried inside the encrypted message (and its copy for our devices); the
  /// receiver finds them in ReceivedMessage::attachments. The files themselves are in the blob
  /// store already. Errors as send(); kLimitExceeded also when the text and the pointers together
  /// exceed a message's size.
  Result<SendResult> send(std::string_view person, ByteView plaintext,
                          std::span<const AttachmentPointer> attachments);

  /// Sends what the outbox holds for sending: messages the transport did not take, messages for
  /// devices that had no keys yet, and resends asked for by retry requests; then forgets what
  /// every device got once the window passed. Call when the transport is back, and now and then.
  /// Errors: store errors only (a transport that still fails leaves the messages queued).
  Result<FlushResult> flush();

  /// Decrypts envelope bytes (untrusted input). Returns the message, or nullopt when the envelope
  /// carried nothing to show (a message already shown, a retry request, which this answers, a
  /// receipt or a group change, handed to the ReceiveOptions callbacks).
  /// Errors: kLimitExceeded, kInvalidProtobuf, kInvalidMessage (malformed envelope or content, or a
  /// message that does not authenticate), kSenderMismatch (see ReceiveOptions), kUnknownDevice
  /// (the sender's device is not on its person's device list), kUntrustedIdentity (see
  /// identity_change()), and those of decrypt_message; for groups (nothing changed): kUnknownGroup,
  /// kNotGroupAdmin, kStaleGroupRevision, kNotGroupMember (a group message or key from a device
  /// that is not a current member's, or not under the key that device gave us), kLimitExceeded
  /// (a new group beyond kMaxGroups), and those of group_decrypt. A message that does not decrypt
  /// from a listed device also sends that device a retry request (see the header comment); the
  /// error is still returned.
  /// kAttachmentTooLarge: the message names a file larger than kMaxAttachmentBytes.
  Result<std::optional<ReceivedMessage>> receive(ByteView envelope,
                                                 const ReceiveOptions& options = {});

  /// The sender an envelope names (not authenticated: only the decrypt says who really sent it).
  /// Errors as for receive's parsing: kLimitExceeded, kInvalidProtobuf, kInvalidMessage.
  static Result<Address> envelope_sender(ByteView envelope);

  /// Links a new device of ours: reads the code it showed (kInvalidArgument if mistyped), gives it
  /// the next device id, publishes our device list with it (kLimitExceeded beyond
  /// kMaxDevicesPerPerson; kStaleDeviceList if another device changed the list meanwhile: try
  /// again), and seals the link message with `application_data` (at most
  /// kMaxLinkApplicationDataBytes). Deliver the message to the mailbox; if it never arrives,
  /// unlink the device id.
  Result<LinkResult> link_device(std::string_view code, ByteView application_data = {});

  /// Removes one of our devices from our device list and publishes it; senders stop encrypting to
  /// it. kInvalidArgument for ourselves or a device not on the list.
  Status unlink_device(DeviceId device);

  /// The devices of the person `person` (ourselves included), after fetching their list from the
  /// directory (the newest seen if it cannot be reached). Errors as for send's list checks.
  Result<DeviceList> devices(std::string_view person);

  /// Closes the current session with one device of a person (its archived states stay, for late
  /// messages), so the next send fetches a new bundle ("reset secure session").
  Status reset_session(const Address& peer);

  /// The pending identity change for the person `name`, recorded when an operation failed with
  /// kUntrustedIdentity. It is kept in the store (MessengerRecordKind::kIdentityChange, in a
  /// transaction of its own, since the operation that met it wrote nothing), so a Messenger made
  /// after a restart still sees it and still refuses to send to the person; it is forgotten when
  /// approved (approve_identity) or once the offered identity is trusted by other means. nullopt
  /// also when the store cannot be read.
  std::optional<IdentityChangeEvent> identity_change(std::string_view name) const;

  /// Trusts `identity` for the person `name` (the user approved the change): sessions of their
  /// devices with the old identity are closed, and a device list signed by the new identity is
  /// accepted whatever its version. Errors: kStoreFailure, kCorruptState.
  Status approve_identity(std::string_view name, const IdentityKey& identity);

  /// Forgets the pending identity change for the person `name` without trusting the offered key
  /// (the user compared safety numbers and keeps the trusted identity: the change was a lie, or a
  /// mistake). Sending to the person resumes with the trusted identity; a bundle, list or message
  /// under the other key is refused again, and noted again as a change. Not an error if none is
  /// pending. Errors: kStoreFailure.
  Status dismiss_identity_change(std::string_view name);

  /// The safety number with the person `name` (Signal's: 5200 iterations, scannable version 1),
  /// with the names as stable identifiers. kNoSession if we know no identity for them.
  Result<Fingerprint> safety_number(std::string_view name);

  // ---- Calls (call.h) ----
  // Call messages are sent at once, never queued. When the transport refuses them
  // (kTransportFailure), hangup has still ended the call here (its keys are wiped first) and the
  // other operations leave the call as it was; the sessions the messages were encrypted over keep
  // the ratchet steps taken for them (saved before sending, so that no message key is ever used
  // twice): the next message over those sessions simply uses the next key.

  /// Calls the people `people` (1 to kMaxCallParticipants - 1 others; a group call is a call to its
  /// members): sends an offer carrying `offer` (the application's signalling, at most
  /// kMaxCallPayloadBytes) to every device of each, and returns the new call's id (its media:
  /// call_media()). Calls that ring here end once the offer went (their callers hear busy;
  /// call_media() is null for them: stop ringing them). Errors: kInvalidArgument (no one,
  /// ourselves, a name twice or invalid), kLimitExceeded (too many people, a payload too large),
  /// kCallInProgress (we are in a call), kCallPartyUntrusted (a person's identity change is
  /// unresolved), kInTransaction, kTransportFailure (no device could be reached; nothing is kept),
  /// and those of the directory and the store.
  Result<CallId> start_call(std::span<const std::string> people, ByteView offer);

  /// Calls one person (start_call of one).
  Result<CallId> start_call(std::string_view person, ByteView offer);

  /// Answers a call that rings here (CallEventType::kIncoming) with `answer` (the application's
  /// signalling): tells the host, and our other devices, which stop ringing. The call is connected
  /// when the host lists us (kAnswered). Errors: kUnknownCall, kInvalidCallState (not ringing),
  /// kCallInProgress (in another call: hang it up first), kCallPartyUntrusted (the caller's
  /// identity change is unresolved), kLimitExceeded (payload), kInTransaction, send errors.
  Status answer_call(const CallId& call, ByteView answer);

  /// Sends the application's signalling (`payload`, e.g. ICE candidates) to the call's other
  /// participants (to the host only, before we are listed). Errors: kUnknownCall, kLimitExceeded,
  /// kInTransaction, send errors.
  Status send_call_signal(const CallId& call, ByteView payload);

  /// Leaves the call, or declines it while it rings, or (host) ends it for everyone, and wipes
  /// its keys; `payload` goes with the hangup. The call is forgotten even if a send fails.
  /// Errors: kUnknownCall, kLimitExceeded, kInTransaction.
  Status hangup(const CallId& call, ByteView payload = {});

  /// Host only: removes the person `person` from the call (kInvalidCallState if we are not the
  /// host, kInvalidArgument if not a participant); the others move to new keys it never gets. The
  /// removal stands even when an error comes back (our new key could not be drawn, or the new
  /// list could not be sent); our key moves on before anything is sent.
  Status remove_from_call(const CallId& call, std::string_view person);

  /// The media keys of a call held here (nullptr if none). Valid after the call ends (it then
  /// refuses everything with kCallEnded).
  std::shared_ptr<CallMedia> call_media(const CallId& call) const;

  /// The participant list of a call held here. kUnknownCall if none.
  Result<std::vector<CallParticipant>> call_participants(const CallId& call) const;

  /// Our address.
  const Address& self() const noexcept { return self_; }

 private:
  struct Impl;
  const Context& ctx_;
  ProtocolStore& store_;
  Transport& transport_;
  KeyDirectory& directory_;
  Address self_;
  MessengerOptions options_;
  std::map<std::string, IdentityChangeEvent, std::less<>> changes_;
  std::unique_ptr<internal::DeviceLists> lists_;   // the newest lists seen (cached)
  std::unique_ptr<internal::CallRegistry> calls_;  // calls held (in memory only)
};

}  // namespace hush
