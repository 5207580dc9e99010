/// @file
/// SPQR v1, Signal's Sparse Post-Quantum Ratchet (spec: ../shared/docs/signal-v4-wire.md §4), as
/// the v4 session uses it. Internal (src/pq/), not a public header.
///
/// Functional over a serialized state, like libsignal's spqr crate: every call takes the state's
/// bytes and returns the next state's bytes, so a caller works on copies and commits the new state
/// only when the whole operation succeeded (rule 1). The state is untrusted when read back from a
/// store: spqr_* parse it strictly and bounded (kCorruptState on anything else).
///
/// Implementation: spqr_state.h (the strict state format, bounded by kMaxSpqrStateBytes),
/// spqr_chain.h (the chain with its out-of-order window, and the authenticator), spqr_erasure.h
/// (GF(2^16) Reed-Solomon chunks), spqr_codec.h (the pq_ratchet bytes); the braid's transitions in
/// spqr.cpp. Limits with their reasons: include/hush/limits.h (kSpqr*).
///
/// For the caller: commit the state spqr_recv returns only once the message it came with has
/// authenticated (its MAC depends on the key SPQR returns). SPQR checks a payload only when all its
/// chunks are in (the header and ciphertext MACs, the ML-KEM header check), so a forged chunk that
/// were committed would sit in the decoder and spoil the payload it belongs to: later genuine
/// chunks would then fail with kInvalidMessage and the braid would not advance.
///
/// What the server (or anyone on the path) can still do: it sees pq_ratchet in the clear (epochs,
/// key indices, chunk types and indices, the public ML-KEM payloads); it can delay, drop, reorder
/// and replay messages. Dropping stalls the braid (epochs stop advancing; the symmetric chain goes
/// on, so messages still decrypt) but loses nothing else: any k chunks rebuild a payload. A message
/// held back until the receiver is two epochs further fails with kInvalidMessage (one epoch before
/// the current one is kept, as in libsignal); a replay fails with kDuplicateMessage.
///
/// Thread-safety: free functions without shared state; safe to call concurrently on distinct
/// states.
#pragma once

#include <cstdint>

#include <hush/bytes.h>
#include <hush/random.h>
#include <hush/result.h>
#include <hush/secret.h>

namespace hush::pq {

/// Which side of the session: the PQXDH initiator (Alice, first ek side of the braid) or the
/// responder (Bob, first ct side).
enum class SpqrRole : std::uint8_t { kInitiator = 1, kResponder = 2 };

/// The 32-byte key SPQR gives for one message: the HKDF salt of WhisperMessageKeys (spec §3.3).
using SpqrKey = SecretArray<32>;

/// What spqr_send returns. Serialized states hold every key of the session's SPQR: SecretBytes,
/// wiped when freed.
struct SpqrSend {
  SecretBytes state;  ///< the next state (serialized)
  Bytes message;      ///< the pq_ratchet field of the SignalMessage (spec §4.3)
  SpqrKey key;        ///< the message key salt
};

/// What spqr_recv returns.
struct SpqrRecv {
  SecretBytes state;  ///< the next state (serialized)
  SpqrKey key;        ///< the message key salt
};

/// The initial state from the 32-byte SPQR seed (the last third of PQXDH's 96-byte KDF output).
/// `self_session`: note-to-self sessions get an unlimited jump (spec §4.4). hush's sessions always
/// pass false: whether a session is "self" rests on the peer's identity key, which is not yet
/// authenticated when SPQR runs (before the MAC), so an unlimited jump would hand a forger an
/// unbounded amount of work. A deviation from libsignal, which also requires the same ServiceId: a
/// device of ours that misses more than kSpqrMaxJump of our own messages starts a new session.
Result<SecretBytes> spqr_initial_state(const SecretArray<32>& seed, SpqrRole role,
                                       bool self_session);

/// Takes the next send key and the pq_ratchet bytes to send with it. Advances the braid (may
/// sample ML-KEM keys or encapsulate: needs randomness).
Result<SpqrSend> spqr_send(ByteView state, RandomSource& random);

/// Processes a received pq_ratchet field and returns the key it stands for. Errors: kInvalidMessage
/// (malformed, wrong version, bad MAC, epoch out of range, decaps/ek-header mismatch),
/// kDuplicateMessage (key already taken or dropped), kTooFarInFuture (beyond the jump limit),
/// kCorruptState (state does not parse). A failure returns no state: the caller keeps the old one.
/// `steps_left`, when given, is the caller's budget of chain steps before a MAC: the steps this
/// message needs (up to kSpqrMaxJump HKDFs) are taken from it, and a message that needs more than
/// it holds fails with kInvalidMessage before any is derived.
Result<SpqrRecv> spqr_recv(ByteView state, ByteView message, std::uint64_t* steps_left = nullptr);

/// The current epoch of a state (1 at the start; advances as braid epochs complete), or
/// kCorruptState.
Result<std::uint64_t> spqr_epoch(ByteView state);

}  // namespace hush::pq
