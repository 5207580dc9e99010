/// @file
/// SPQR v1, Signal's Sparse Post-Quantum Ratchet (spec: ../shared/docs/signal-v4-wire.md §4), as
/// the v4 session uses it. Internal (src/pq/), not a public header.
///
/// Functional over a serialized state, like libsignal's spqr crate: every call takes the state's
/// bytes and returns the next state's bytes, so a caller works on copies and commits the new state
/// only when the whole operation succeeded (rule 1). The state is untrusted when read back from a
/// store: spqr_* parse it strictly and bounded (kCorruptState on anything else).
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

/// What spqr_send returns.
struct SpqrSend {
  Bytes state;    ///< the next state (serialized)
  Bytes message;  ///< the pq_ratchet field of the SignalMessage (spec §4.3)
  SpqrKey key;    ///< the message key salt
};

/// What spqr_recv returns.
struct SpqrRecv {
  Bytes state;  ///< the next state (serialized)
  SpqrKey key;  ///< the message key salt
};

/// The initial state from the 32-byte SPQR seed (the last third of PQXDH's 96-byte KDF output).
/// `self_session`: note-to-self sessions get an unlimited jump (spec §4.4).
Result<Bytes> spqr_initial_state(const SecretArray<32>& seed, SpqrRole role, bool self_session);

/// Takes the next send key and the pq_ratchet bytes to send with it. Advances the braid (may
/// sample ML-KEM keys or encapsulate: needs randomness).
Result<SpqrSend> spqr_send(ByteView state, RandomSource& random);

/// Processes a received pq_ratchet field and returns the key it stands for. Errors: kInvalidMessage
/// (malformed, wrong version, bad MAC, epoch out of range, decaps/ek-header mismatch),
/// kDuplicateMessage (key already taken or dropped), kTooFarInFuture (beyond the jump limit),
/// kCorruptState (state does not parse). A failure returns no state: the caller keeps the old one.
Result<SpqrRecv> spqr_recv(ByteView state, ByteView message);

/// The current epoch of a state (1 at the start; advances as braid epochs complete), or
/// kCorruptState.
Result<std::uint64_t> spqr_epoch(ByteView state);

}  // namespace hush::pq
