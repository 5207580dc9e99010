/// @file
/// Every limit the library enforces, each with its reason.
///
/// This is the one place limits live (libsignal's consts.rs style). The protocol limits are the
/// ones libsignal-protocol-c 2.3.3 uses (wire spec §6), so that anything one library accepts the
/// other accepts too; the size limits bound what untrusted input can make the library allocate.
///
/// Thread-safety: constants.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hush {

/// A received counter may be at most this far ahead of its receiving chain (c - next <= 2000).
/// Bounds the work (and skipped keys) one message can cause; libsignal-protocol-c's limit (§4.5).
inline constexpr std::uint32_t kMaxForwardJump = 2000;

/// The largest forward jump of a version-4 (PQXDH) session's chains, libsignal 0.103's
/// (signal-v4-wire.md §3.3; version 3 keeps kMaxForwardJump, libsignal-protocol-c's).
inline constexpr std::uint32_t kMaxForwardJumpV4 = 25000;

/// Skipped message keys kept per receiving chain; the oldest is dropped beyond this, and a late
/// message whose key was dropped reads as a duplicate. libsignal-protocol-c's MAX_MESSAGE_KEYS.
inline constexpr std::size_t kMaxSkippedKeysPerChain = 2000;

/// Receiving chains kept per session state; the oldest is dropped beyond this. Late messages from
/// a dropped chain fail with kInvalidMessage. libsignal-protocol-c's limit (§5.2).
inline constexpr std::size_t kMaxReceiverChains = 5;

/// Archived session states kept per address, newest first. Keeps states for simultaneous
/// initiation and late messages while bounding record size; libsignal's
/// ARCHIVED_STATES_MAX_LENGTH (§5.1).
inline constexpr std::size_t kMaxArchivedStates = 40;

/// X3DH base keys remembered per address after their session state left the archive. A prekey
/// message made without a one-time prekey could otherwise be replayed and set its session up
/// again; 200 keys (6.4 KB, only for peers that started more than 40 sessions) keep that closed
/// far beyond any real use, and a signed prekey's deletion closes it for good.
inline constexpr std::size_t kMaxRetiredBaseKeys = 200;

/// Decryption tries at most this many session states per message: first the states that hold a
/// receiving chain for the message's ratchet key (only they can decrypt it, unless it starts a new
/// chain), then, for a new ratchet key, the current state and the newest archived ones. Each trial
/// derives chain keys and, for a new ratchet key, does a DH before the MAC can be checked, so
/// trying all 41 states of a full record (libsignal-protocol-c's way) let one forged message cost
/// up to 41 genuine ones. What is given up: a message that starts a new chain on a state archived
/// 20 or more sessions ago, which only a peer still writing on a session we have replaced 20 times
/// sends; it fails as invalid_message. A late message on a chain already known decrypts from any
/// archived state. Figures: bench/README.md "Forged messages".
inline constexpr std::size_t kMaxDecryptTrials = 20;

/// The chain steps (HMACs of a chain key) all the trials of one decryption may derive before a MAC
/// verifies: two full forward jumps. One trial may always jump kMaxForwardJump; a forged message
/// that claims a far counter on a new ratchet key then costs about two genuine ones with that
/// counter, not 20. What is given up: a message far ahead on a new chain of an archived state,
/// after the current state has spent the budget.
inline constexpr std::uint64_t kMaxDecryptChainSteps = std::uint64_t{2} * kMaxForwardJump;

/// The same budget when a version-4 state is among those tried: two of its messages at the limit
/// ahead, each jumping both its chains (kMaxForwardJumpV4 Double Ratchet steps and kSpqrMaxJump
/// SPQR steps, all before the MAC). SPQR's steps count too: a forged message that claims a far SPQR
/// key index costs each state tried that many HKDFs. What is given up: as for version 3.
inline constexpr std::uint64_t kMaxDecryptChainStepsV4 =
    std::uint64_t{2} * (std::uint64_t{kMaxForwardJumpV4} + 25000 /* kSpqrMaxJump, below */);

/// A session whose prekey messages stay unanswered this long (30 days) is no longer used for
/// sending: encrypt_message reports kNoSession, and a fresh bundle starts a new one. The peer may
/// have lost the session or never received it; libsignal's MAX_UNACKNOWLEDGED_SESSION_AGE.
inline constexpr std::uint64_t kMaxUnacknowledgedSessionAgeMs =
    std::uint64_t{30} * 24 * 3600 * 1000;

/// The largest plaintext `encrypt_message` accepts. Signal messages are small (attachments travel
/// separately, encrypted under keys sent in a message); 16 MiB leaves room for unusual uses while
/// bounding what one message can make a receiver allocate.
inline constexpr std::size_t kMaxPlaintextBytes = std::size_t{16} << 20;

/// The largest serialized message (either kind) the parsers accept: the largest plaintext after
/// CBC padding, plus generous room for the protobuf fields, keys and MAC.
inline constexpr std::size_t kMaxMessageBytes = kMaxPlaintextBytes + 16 + 1024;

/// The largest serialized SessionRecord `SessionRecord::deserialize` accepts. The worst case the
/// limits above allow is 41 states x 5 chains x 2000 skipped keys x (32-byte seed + 5-byte counter)
/// plus per-state overhead, about 15.2 MB, and for version-4 states 41 SPQR states of at most
/// kMaxSpqrStateBytes (384 KiB each, about 15.4 MiB); 40 MiB bounds the sum with margin.
inline constexpr std::size_t kMaxSessionRecordBytes = std::size_t{40} << 20;

/// The largest serialized prekey or signed prekey record accepted from a store (a key pair, a
/// signature, ids and a timestamp need under 200 bytes).
inline constexpr std::size_t kMaxKeyRecordBytes = 1024;

/// The largest value SqliteStore::put_app_data stores and app_data reads back (a stored value is
/// untrusted input): the largest plaintext plus 64 KiB for what an application keeps beside it.
inline constexpr std::size_t kMaxAppDataBytes = kMaxPlaintextBytes + (std::size_t{64} << 10);

/// The largest InMemoryProtocolStore snapshot `deserialize` accepts.
inline constexpr std::size_t kMaxStoreSnapshotBytes = std::size_t{1} << 30;

/// The sending chain's counter is a uint32 on the wire; a chain refuses to encrypt past this
/// (kLimitExceeded) instead of wrapping, which would reuse a message key.
inline constexpr std::uint32_t kMaxChainCounter = 0xFFFFFFFEu;

/// The largest serialized PreKeyBundle `PreKeyBundle::parse` accepts: three EC keys, a signature
/// and ids need about 200 bytes, and a signed Kyber prekey (1569-byte key, 64-byte signature, id)
/// about 1640 more; 4096 bounds both with margin.
inline constexpr std::size_t kMaxBundleBytes = 4096;

/// The largest serialized Kyber prekey record accepted from a store (a 1569-byte public key, a
/// 3169-byte secret key, a signature, an id, a timestamp and flags need about 4830 bytes).
inline constexpr std::size_t kMaxKyberKeyRecordBytes = 8192;

/// The most one-time prekeys one PublishedKeys may carry, bounding what a directory accepts at
/// once (Signal's servers take 100 per upload).
inline constexpr std::size_t kMaxPublishedPreKeys = 1000;

/// The most one-time Kyber prekeys one PublishedKeys may carry: each is about 1.6 KB on the wire
/// (and a key generation to make), and Signal's clients upload 100 at a time. The Messenger
/// publishes more in later calls.
inline constexpr std::size_t kMaxPublishedKyberPreKeys = 100;

/// The largest serialized PublishedKeys `PublishedKeys::parse` accepts: a bundle's worth of keys,
/// kMaxPublishedPreKeys one-time prekeys (about 40 bytes each with framing, 48 with margin) and
/// kMaxPublishedKyberPreKeys plus the last-resort Kyber prekey (about 1645 bytes each, 1700 with
/// margin): about 220 KB, under a chat relay's 256 KiB frame.
inline constexpr std::size_t kMaxPublishedKeysBytes =
    kMaxBundleBytes + kMaxPublishedPreKeys * 48 + (kMaxPublishedKyberPreKeys + 1) * 1700;

/// The longest address name an Envelope may carry (names are handles, phone numbers, UUIDs).
inline constexpr std::size_t kMaxAddressNameBytes = 1024;

/// The largest Envelope `Messenger::receive` accepts: the largest message plus room for the
/// sender's name and the other fields.
inline constexpr std::size_t kMaxEnvelopeBytes = kMaxMessageBytes + kMaxAddressNameBytes + 256;

/// The most devices one person may have at once (one device list). Signal allows a phone and five
/// linked devices, WhatsApp a phone and four; 32 covers a household of one person's phones,
/// laptops, tablets and bots with room to spare, while bounding what one message to a person
/// costs (an encryption per device, for the sender and for each of its own devices) and what a
/// device list may make a receiver parse and keep.
inline constexpr std::size_t kMaxDevicesPerPerson = 32;

/// The largest serialized signed device list accepted (a name, an identity key, 32 device ids, a
/// version and a signature need about 1.2 KB with the longest name).
inline constexpr std::size_t kMaxDeviceListBytes = 2048;

/// The most trusted identities of contacts one link message carries to a new device. An address
/// book of ten thousand people; beyond it the new device learns the rest by trust on first use.
inline constexpr std::size_t kMaxLinkContacts = 10000;

/// The most application bytes a link message carries (the application's own account data, group
/// memberships): enough for a large group list, small enough to hold in memory.
inline constexpr std::size_t kMaxLinkApplicationDataBytes = std::size_t{1} << 20;

/// The largest link message accepted: the contacts at their longest, the application data, the
/// device list and the keys, with room for the encoding.
inline constexpr std::size_t kMaxLinkMessageBytes = kMaxLinkContacts * (kMaxAddressNameBytes + 48) +
                                                    kMaxLinkApplicationDataBytes +
                                                    kMaxDeviceListBytes + 1024;

/// How long the Messenger keeps a sent message so that it can send it again when a device of the
/// recipient reports that it could not decrypt it (a retry request), and how long a receiver
/// remembers a message id to show a message sent again only once. Seven days: a device that was
/// offline for a week still heals. Signal keeps such messages for a day.
inline constexpr std::uint64_t kResendWindowMs = std::uint64_t{7} * 24 * 3600 * 1000;

/// The most messages the Messenger's outbox keeps (sent ones for resending, and ones the transport
/// could not take yet). When it is full, the oldest messages no device waits for are dropped, a
/// tenth of the outbox at once (they can then no longer be resent); when every kept message is
/// still waiting for the transport, send refuses a new one (kLimitExceeded) rather than drop what
/// the user wrote.
inline constexpr std::size_t kMaxOutboxMessages = 1000;

/// The most plaintext bytes the outbox keeps for resending (the oldest sent messages are dropped
/// beyond it); bounds the disk the window can take.
inline constexpr std::size_t kMaxOutboxBytes = std::size_t{64} << 20;

/// How many times one message is sent again to one device on retry requests: enough for a
/// reinstall and a lost state in a row; a device that keeps failing does not make a loop.
inline constexpr std::uint32_t kMaxResendsPerDevice = 3;

/// A device asks a given device of another person to send again at most once per this interval
/// (60 s), however many of its messages fail: one request names the first failed message, and the
/// sender sends that one and every later one again. A forged or replayed failure costs at most
/// one request per interval.
inline constexpr std::uint64_t kRetryRequestIntervalMs = 60 * 1000;

/// The most message ids a retry request names.
inline constexpr std::size_t kMaxRetryEnvelopeIds = 16;

/// The most message ids a device remembers to show each message once (a message sent again after
/// a retry request, or by two devices' flushes, decrypts again but is not shown again). Forgotten
/// after kResendWindowMs; beyond this count the oldest are forgotten, down to nine tenths of it at
/// once (so that forgetting, which reads every id, happens once per 5,000 messages, not on each).
inline constexpr std::size_t kMaxSeenMessageIds = 50000;

/// Sender-key chains kept per (sender, group), newest first; the oldest is dropped beyond this.
/// Lets late messages from a member's earlier chains (before a rotation) still decrypt while
/// bounding the record; libsignal-protocol-c's and libsignal's MAX_SENDER_KEY_STATES.
inline constexpr std::size_t kMaxSenderKeyStates = 5;

/// A legacy-format (libsignal-protocol-c 2.3.3) group message may run at most this far ahead of
/// its chain (iteration - next <= 2000): libsignal-protocol-c's limit, so that both libraries
/// accept the same messages, and a bound on the HMACs one message can cost.
inline constexpr std::uint32_t kMaxSenderKeyForwardJumpLegacy = 2000;

/// A current-format (libsignal) group message may run at most this far ahead of its chain:
/// libsignal's MAX_FORWARD_JUMPS (25,000 accepted, 25,001 refused). Large groups send many
/// messages one member may miss; 25,000 chain steps cost a few milliseconds.
inline constexpr std::uint32_t kMaxSenderKeyForwardJump = 25000;

/// Keys of skipped group messages kept per sender-key chain; the oldest is dropped beyond this,
/// and a late message whose key was dropped reads as a duplicate. libsignal's and
/// libsignal-protocol-c's MAX_MESSAGE_KEYS.
inline constexpr std::size_t kMaxSenderKeySkippedKeys = 2000;

/// The largest serialized SenderKeyRecord accepted from a store: 5 chains x 2000 skipped keys x
/// (32-byte seed + 5-byte iteration) is about 370 KB; 1 MiB bounds it with margin.
inline constexpr std::size_t kMaxSenderKeyRecordBytes = std::size_t{1} << 20;

/// The longest legacy group name (libsignal-protocol-c's group id is any string; group ids in use
/// are short identifiers). Bounds the stores' keys.
inline constexpr std::size_t kMaxGroupNameBytes = 1024;

/// The largest serialized sender-key distribution message accepted (a distribution id, two ids, a
/// 32-byte chain key and a 33-byte signing key need under 100 bytes).
inline constexpr std::size_t kMaxSenderKeyDistributionBytes = 256;

/// Registration ids are generated in libsignal's range 1..16380.
inline constexpr std::uint32_t kMaxRegistrationId = 16380;

// ---- SFrame (RFC 9605; include/hush/sframe.h) ----

/// Counters remembered per key id by an SframeReceiver (RFC 3711 §3.3.2's sliding window, on the
/// SFrame counter): a frame whose counter is this far or further behind the highest accepted one
/// is refused as kReplayedFrame, because it can no longer be told from a replay. 128 counters are
/// 2.5 s of audio at 50 frames a second and about half a second of video at 250 packets a second,
/// longer than any jitter buffer waits; the window costs 16 bytes per key id.
inline constexpr std::uint64_t kSframeReplayWindow = 128;

/// The most key ids one SframeReceiver holds at once (add_key refuses more with kLimitExceeded).
/// A group call of 100 participants, each with its current key and the next one during a rekey,
/// needs 200; each key holds about 2 KB of cipher state, so the bound keeps a receiver under 1 MB.
inline constexpr std::size_t kMaxSframeReceiverKeys = 256;

/// The largest SFrame ciphertext decrypted and the largest plaintext encrypted (kFrameTooLarge).
/// A whole video key frame of a 4K stream at a high bit rate stays under 2 MB; 4 MiB bounds what
/// one frame from the network can make a receiver allocate and decrypt.
inline constexpr std::size_t kMaxSframeFrameBytes = std::size_t{4} << 20;

/// The largest metadata (authenticated, not encrypted) an SFrame operation takes (kFrameTooLarge):
/// RTP headers with their extensions stay under 1 KB, and 4 KiB leaves room for any other framing.
inline constexpr std::size_t kMaxSframeMetadataBytes = 4096;

/// An SFrame base key has at least 16 bytes (the 128-bit security of the weakest suite; a shorter
/// key is a caller's mistake) and at most 64 (the largest suite's hash output; more adds nothing).
inline constexpr std::size_t kMinSframeBaseKeyBytes = 16;
/// See kMinSframeBaseKeyBytes.
inline constexpr std::size_t kMaxSframeBaseKeyBytes = 64;

// ---- SPQR v1 (src/pq/spqr.h; signal-v4-wire.md §4.4) ----

/// An SPQR receiving chain may jump at most this many keys ahead in one message (kTooFarInFuture);
/// note-to-self sessions have no limit. libsignal's MAX_JUMP (the same value as its Double Ratchet
/// limit), so anything libsignal sends, hush accepts.
inline constexpr std::uint32_t kSpqrMaxJump = 25000;
static_assert(kMaxDecryptChainStepsV4 == 2 * (std::uint64_t{kMaxForwardJumpV4} + kSpqrMaxJump),
              "the version-4 decrypt budget counts both chains' jumps");

/// SPQR keeps skipped keys back to this many below a receiving chain's counter; an older late
/// message reads as a duplicate. libsignal's MAX_OOO_KEYS.
inline constexpr std::uint32_t kSpqrMaxOutOfOrderKeys = 2000;

/// When a chain's list of skipped keys reaches this size, keys older than kSpqrMaxOutOfOrderKeys
/// below the counter are dropped (libsignal's TRIM_SIZE, 11/10 of the window), so a stored list
/// holds fewer than this many keys.
inline constexpr std::size_t kSpqrKeyTrimSize = kSpqrMaxOutOfOrderKeys * 11 / 10;

/// SPQR chain epochs kept (the current one and one before it): later messages of older epochs fail
/// with kInvalidMessage. An epoch takes tens of messages, as many as the out-of-order window.
inline constexpr std::size_t kSpqrEpochsKept = 2;

/// The largest serialized SPQR state accepted (kCorruptState): 2 epochs x 2 directions x fewer
/// than kSpqrKeyTrimSize skipped keys of 36 bytes (about 317 KB), plus under 8 KB of braid state
/// (an ML-KEM-768 decapsulation key and partly received payloads).
inline constexpr std::size_t kMaxSpqrStateBytes = std::size_t{384} << 10;

// ---- Messenger groups and content (messenger.h) ----

/// The most members (people) a Messenger group has, its creator included. WhatsApp allows 1,024;
/// a group change lists every member, so this bounds what one change makes each member parse,
/// keep and answer (a sender-key distribution to every device of every member).
inline constexpr std::size_t kMaxGroupMembers = 1000;

/// The highest revision a Messenger group change may carry (kLimitExceeded above): a group that
/// changed every millisecond for 8,000 years stays below 2^48, and a hostile change can no longer
/// push a group to the end of the counter, where the next real change would wrap to 0 and be
/// refused as stale everywhere.
inline constexpr std::uint64_t kMaxGroupRevision = std::uint64_t{1} << 48;

/// The longest name of a Messenger group, in bytes (UTF-8 is not checked: the application shows
/// it): a title, not a text; WhatsApp allows 100 characters.
inline constexpr std::size_t kMaxMessengerGroupNameBytes = 256;

/// The most message ids one delivery or read receipt names: a screen of messages marked read at
/// once; more are sent as several receipts.
inline constexpr std::size_t kMaxReceiptMessageIds = 100;

/// The most groups one device keeps (each a stored record listing its members and their keys):
/// far more than a person joins, and it bounds what a flood of invitations can make a device keep.
inline constexpr std::size_t kMaxGroups = 1000;

// ---- Attachments (include/hush/attachment.h) ----

/// The largest attachment (plaintext bytes) that is encrypted or downloaded (kAttachmentTooLarge).
/// A pointer makes a receiving device download and keep this much twice (the ciphertext spool
/// beside the plaintext) before anyone looks at it, so the limit is what a phone can be asked to
/// hold: 2 GiB is twice the one-hour video the issue names (1 GiB) and bounds the disk one message
/// can cost at 4 GiB. Memory does not depend on it (one 64 KiB segment at a time).
inline constexpr std::uint64_t kMaxAttachmentBytes = std::uint64_t{2} << 30;

/// The longest blob id (a store's name for a blob): 128 bytes hold any UUID, hash or base64url
/// token a server hands out, and keep ids usable as file names.
inline constexpr std::size_t kMaxAttachmentIdBytes = 128;

/// The longest content type: RFC 6838 §4.2 allows 127 characters each for type and subtype.
inline constexpr std::size_t kMaxAttachmentContentTypeBytes = 255;

/// The longest file name: 255 bytes is the longest name ext4, XFS, APFS and NTFS (in UTF-16
/// units) accept, so a longer name could not be saved anyway.
inline constexpr std::size_t kMaxAttachmentFileNameBytes = 255;

/// The largest serialized AttachmentPointer parsed: the fields above at their limits, a 32-byte
/// key and digest and the tags come to under 720 bytes.
inline constexpr std::size_t kMaxAttachmentPointerBytes = 1024;

/// The most attachments one message carries (what Signal's apps allow, 32): bounds a message's
/// pointers to 32 KiB and what one message can make a device download.
inline constexpr std::size_t kMaxAttachmentsPerMessage = 32;

// ---- Calls (include/hush/call.h) ----

/// The largest application payload one call message carries (an SDP offer or answer, or a batch
/// of ICE candidates): a WebRTC offer with audio, video and data and a dozen candidates is 3 to 6
/// KiB; 16 KiB leaves room and keeps a call message far below kMaxPlaintextBytes.
inline constexpr std::size_t kMaxCallPayloadBytes = 16 * 1024;

/// The most participants in one call (the host included): a group call of a small group; every
/// participant sends its key to every other one at every change, so the cost is quadratic.
inline constexpr std::size_t kMaxCallParticipants = 16;

/// The most participant indices a host hands out in one call (0..254: the index is the low byte
/// of the SFrame key id, and is never reused, so that a newcomer never gets a former
/// participant's key id); joins beyond are refused.
inline constexpr std::uint32_t kMaxCallIndices = 255;

/// The most calls a device holds at once (one it is in, and offers ringing, one per caller): an
/// offer beyond ends the oldest one still ringing (its caller hears busy), so a flood of offers
/// cannot make a device keep more, nor make it busy for good.
inline constexpr std::size_t kMaxCalls = 4;

/// A receiver keeps a sender's previous key until this many frames decrypted under its new one
/// (frames sent before the change and still in flight arrive within a few dozen at 50 frames a
/// second; 64 is more than a second of audio), then wipes it.
inline constexpr std::uint64_t kCallOldKeyFrames = 64;

/// ... and at most this long after the new one arrived (by the Messenger's clock), so that a muted
/// sender's previous key does not linger: frames in flight arrive within a few hundred ms; 2 s
/// leaves room for a jitter buffer. (Right away when someone left or was removed.)
inline constexpr std::uint64_t kCallOldKeyMs = 2'000;

/// An offer sent longer ago than this (by its sender's clock against ours) no longer rings: it is
/// reported missed. A caller gives up ringing after about a minute; 90 s leaves room for clock
/// skew and a slow relay, and keeps a relay that holds an offer back for hours from ringing anyone.
inline constexpr std::uint64_t kMaxCallOfferAgeMs = 90'000;

/// The most recently ended call ids a device remembers (so an offer delivered after its hangup
/// never rings): a few per call held, 16 bytes each.
inline constexpr std::size_t kMaxEndedCalls = 64;

}  // namespace hush
