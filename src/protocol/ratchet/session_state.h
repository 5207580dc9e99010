// hush internal: one session's state and the record of all states with one address, with their
// conversion to and from proto/storage.proto (wire spec §5, §10 for what libsignal keeps).
//
// Stored records are untrusted input: `from_proto` checks every length and every limit of
// include/hush/limits.h and reports kCorruptState; it never aborts.
// Not responsible for: the ratchet logic (double_ratchet.h) or X3DH (x3dh.h).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <hush/keys.h>
#include <hush/prekey.h>
#include <hush/result.h>
#include <hush/secret.h>

#include "protocol/ratchet/kdf_chains.h"
#include "protocol/ratchet/skipped_keys.h"

namespace hush::storage {
class SessionState;
class SessionRecord;
}  // namespace hush::storage

namespace hush::internal {

/// A receiving chain: the peer's ratchet key, the next chain key, and the keys of messages that
/// have not arrived yet, as seeds HMAC(CK_counter, 0x01) (the 80 bytes of message keys are derived
/// from a seed when it is used).
struct ReceiverChain {
  PublicKey ratchet_key;
  ChainKey chain_key;
  SkippedKeys skipped;
  ReceiverChain clone() const {
    return ReceiverChain{ratchet_key, chain_key.clone(), skipped.clone()};
  }
};

/// Our sending chain: our ratchet key pair and the next chain key.
struct SenderChain {
  PublicKey ratchet_public;
  SecretArray<32> ratchet_private;  // a clamped X25519 scalar
  ChainKey chain_key;

  SenderChain clone() const {
    return SenderChain{ratchet_public, ratchet_private.clone(), chain_key.clone()};
  }
  /// A chain from a key pair and a chain key.
  static SenderChain from(const KeyPair& pair, ChainKey chain_key) {
    SenderChain c{pair.public_key, {}, std::move(chain_key)};
    SecretArray<32>::from(pair.private_key.expose(), c.ratchet_private);
    return c;
  }
};

/// The X3DH data repeated in every message until the peer answers (wire spec §3).
struct PendingPreKey {
  std::optional<PreKeyId> pre_key_id;
  SignedPreKeyId signed_pre_key_id{};
  PublicKey base_key;
  /// When the session was set up (ms since the epoch); 0 for records written before it was kept,
  /// which therefore count as long unacknowledged.
  std::uint64_t timestamp_ms = 0;
  /// Version 4 (PQXDH): the Kyber prekey encapsulated to, and the ciphertext (1569 bytes).
  std::optional<KyberPreKeyId> kyber_pre_key_id;
  Bytes kyber_ciphertext;
};

/// One Double Ratchet session.
struct SessionState {
  std::uint32_t version = 3;
  IdentityKey local_identity;
  IdentityKey remote_identity;
  SecretArray<32> root_key;
  std::uint32_t previous_counter = 0;
  SenderChain sender_chain;
  std::vector<ReceiverChain> receiver_chains;  // oldest first, at most kMaxReceiverChains
  std::optional<PendingPreKey> pending_pre_key;
  std::uint32_t remote_registration_id = 0;
  std::uint32_t local_registration_id = 0;
  /// The X3DH base key, kept for responder states so that a repeated PreKeySignalMessage is
  /// recognised (wire spec §3 step 2). Not kept for initiator states (only a reflected message
  /// could carry our own base key, and its MAC fails).
  std::optional<PublicKey> alice_base_key;
  /// Archived by a reset (reset_session, an identity change, a restored store): the state still
  /// decrypts late messages but is never made current again, so that no withheld message can
  /// undo the reset.
  bool closed = false;
  /// Version 4: the SPQR state (src/pq/spqr.h), whose keys salt every message key; empty in
  /// version 3.
  SecretBytes spqr;

  SessionState clone() const;
  /// The receiving chain for `ratchet_key`, or null.
  const ReceiverChain* find_receiver_chain(const PublicKey& ratchet_key) const;
  ReceiverChain* find_receiver_chain(const PublicKey& ratchet_key);

  void to_proto(storage::SessionState& out) const;
  static Result<SessionState> from_proto(const storage::SessionState& in);
};

/// All states with one address: the current one and the archived ones, newest first.
struct RecordData {
  std::optional<SessionState> current;
  std::vector<SessionState> previous;  // newest first; a vector: an empty deque allocates
  /// Base keys of responder states dropped from the archive, oldest first (kMaxRetiredBaseKeys).
  std::vector<PublicKey> retired_base_keys;

  RecordData clone() const;
  /// Moves the current state (if any) to the front of the archive, trimming it to the limit.
  void archive_current();
  /// Archives the current state (if any) as closed: it is never made current again.
  void close_current();
  /// Makes `state` current, archiving the old current state.
  void promote(SessionState state);
  /// True if a state with this version and X3DH base key is in the record.
  bool has_state_with_base_key(std::uint32_t version, const PublicKey& base_key) const;
  /// True if a state with this X3DH base key was in the record and has been dropped.
  bool retired(const PublicKey& base_key) const;
};

}  // namespace hush::internal

namespace hush::internal {
/// Overwrites the secret fields of a storage message (best effort; see proto_util.h).
void wipe_secrets(storage::SessionState& state);
}  // namespace hush::internal
