// hush internal: SPQR v1's symmetric part (signal-v4-wire.md §4.4 and §4.5): the chain of
// per-epoch key chains that gives each message its key, and the braid's authenticator.
//
// Chain: every epoch has a sending and a receiving chain; a key is taken by stepping the chain's
// counter (indices start at 1). A receiving chain may jump ahead by at most `max_jump` keys
// (kTooFarInFuture), keeps the keys it skipped back to kSpqrMaxOutOfOrderKeys below its counter
// (trimmed once the list reaches kSpqrKeyTrimSize), and hands out each key once
// (kDuplicateMessage). Only kSpqrEpochsKept epochs are kept.
//
// Not responsible for: when epochs are added (the braid, spqr.cpp), storing the chain
// (spqr_state.h). Thread-safety: plain values; re-entrant functions.
#pragma once

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include <hush/bytes.h>
#include <hush/result.h>
#include <hush/secret.h>

namespace hush::pq {

/// A skipped key kept for a late message.
struct SpqrKeyEntry {
  std::uint32_t index = 0;  ///< its index in the chain
  SecretArray<32> key;      ///< the key
};

/// One direction of one epoch.
struct SpqrChainDir {
  std::uint32_t ctr = 0;           ///< the index of the last key taken (0: none yet)
  SecretArray<32> next;            ///< the chain key for index ctr + 1
  std::vector<SpqrKeyEntry> prev;  ///< skipped keys, fewer than kSpqrKeyTrimSize when stored
};

/// Both directions of one epoch.
struct SpqrChainLink {
  SpqrChainDir send;  ///< what this side sends with
  SpqrChainDir recv;  ///< what this side receives with
};

/// The chain of epochs.
struct SpqrChain {
  bool a2b = true;                   ///< this side sends on the A2B half (the initiator)
  std::uint32_t max_jump = 0;        ///< kSpqrMaxJump, or UINT32_MAX for note-to-self
  std::uint64_t current_epoch = 0;   ///< the newest epoch (0 at the start)
  std::vector<SpqrChainLink> links;  ///< epochs current_epoch - links.size() + 1 .. current_epoch
  SecretArray<32> next_root;         ///< the salt of the next epoch's derivation
};

/// The chain at epoch 0 from the 32-byte SPQR seed.
SpqrChain spqr_chain_new(ByteView seed, bool a2b, std::uint32_t max_jump);

/// Adds epoch current_epoch + 1 from its epoch secret and drops epochs beyond kSpqrEpochsKept.
/// kCorruptState if `epoch` is not current_epoch + 1 (a state that breaks the braid's invariants).
Status spqr_chain_add_epoch(SpqrChain& chain, std::uint64_t epoch, const SecretArray<32>& secret);

/// The next sending key of `epoch` and its index. kInvalidMessage if the epoch is not held (a
/// corrupt state), kLimitExceeded after 2^32 - 1 keys.
Result<std::pair<std::uint32_t, SecretArray<32>>> spqr_chain_send_key(SpqrChain& chain,
                                                                      std::uint64_t epoch);

/// The receiving key `index` of `epoch`. kInvalidMessage (epoch not held; or more chain steps
/// than `*steps_left`, when given: then nothing is derived), kTooFarInFuture (more than max_jump
/// ahead), kDuplicateMessage (already taken, or trimmed). With `steps_left`, the chain steps it
/// derives (index minus the chain's counter, for a key ahead) are taken from `*steps_left`.
Result<SecretArray<32>> spqr_chain_recv_key(SpqrChain& chain, std::uint64_t epoch,
                                            std::uint32_t index,
                                            std::uint64_t* steps_left = nullptr);

/// The braid's authenticator: a root key that absorbs each epoch secret and the MAC key it gives.
struct SpqrAuthenticator {
  SecretArray<32> root;  ///< the authenticator's root key
  SecretArray<32> mac;   ///< the current MAC key
};

/// root = mac = 0, then update(1, auth_key).
SpqrAuthenticator spqr_auth_new(ByteView auth_key);
/// Absorbs `key` for epoch `epoch`.
void spqr_auth_update(SpqrAuthenticator& auth, std::uint64_t epoch, ByteView key);
/// HMAC-SHA256(mac, "Signal_PQCKA_V1_MLKEM768:ekheader" || BE64(epoch) || header).
std::array<std::uint8_t, 32> spqr_auth_mac_header(const SpqrAuthenticator& auth,
                                                  std::uint64_t epoch, ByteView header);
/// HMAC-SHA256(mac, "Signal_PQCKA_V1_MLKEM768:ciphertext" || BE64(epoch) || ct1 || ct2).
std::array<std::uint8_t, 32> spqr_auth_mac_ciphertext(const SpqrAuthenticator& auth,
                                                      std::uint64_t epoch, ByteView ct1,
                                                      ByteView ct2);

/// The epoch secret HKDF(salt = 0^32, ikm = K, info = "Signal_PQCKA_V1_MLKEM768:SCKA Key" ||
/// BE64(epoch), 32) of the ML-KEM shared secret K.
SecretArray<32> spqr_epoch_secret(ByteView shared_secret, std::uint64_t epoch);

}  // namespace hush::pq
