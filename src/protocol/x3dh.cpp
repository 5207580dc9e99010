// hush internal: X3DH (see x3dh.h; wire spec §3).
#include "protocol/x3dh.h"

#include <algorithm>

#include "crypto/x25519.h"

namespace hush::internal {

Status MasterSecret::add(const PrivateKey& ours, const PublicKey& theirs) {
  auto dh = crypto::x25519(ours.expose(), theirs.u());
  if (!dh) return dh.error();
  add_bytes(dh->expose());
  return ok_status();
}

void MasterSecret::add_bytes(std::span<const std::uint8_t, 32> bytes) {
  std::copy(bytes.begin(), bytes.end(), bytes_.expose_mut().subspan(len_).begin());
  len_ += 32;
}

Status x3dh_initiator_dh(MasterSecret& secret, const AliceParameters& p) {
  if (auto st = secret.add(p.our_identity.private_key, p.their_signed_pre_key); !st)
    return st.error();
  if (auto st = secret.add(p.our_base_key.private_key, p.their_identity); !st) return st.error();
  if (auto st = secret.add(p.our_base_key.private_key, p.their_signed_pre_key); !st)
    return st.error();
  if (p.their_one_time_pre_key) {
    if (auto st = secret.add(p.our_base_key.private_key, *p.their_one_time_pre_key); !st)
      return st.error();
  }
  return ok_status();
}

Status x3dh_responder_dh(MasterSecret& secret, const BobParameters& p) {
  if (auto st = secret.add(p.our_signed_pre_key.private_key, p.their_identity); !st)
    return st.error();
  if (auto st = secret.add(p.our_identity.private_key, p.their_base_key); !st) return st.error();
  if (auto st = secret.add(p.our_signed_pre_key.private_key, p.their_base_key); !st)
    return st.error();
  if (p.our_one_time_pre_key) {
    if (auto st = secret.add(p.our_one_time_pre_key->private_key, p.their_base_key); !st)
      return st.error();
  }
  return ok_status();
}

Result<RootStep> x3dh_initiator(crypto::HmacSha256& hmac, const AliceParameters& p) {
  MasterSecret secret;
  if (auto st = x3dh_initiator_dh(secret, p); !st) return st.error();
  return derive_initial_keys(hmac, secret.view());
}

Result<RootStep> x3dh_responder(crypto::HmacSha256& hmac, const BobParameters& p) {
  MasterSecret secret;
  if (auto st = x3dh_responder_dh(secret, p); !st) return st.error();
  return derive_initial_keys(hmac, secret.view());
}

Result<SessionState> alice_state_from(crypto::HmacSha256& hmac, RootStep initial,
                                      const AliceParameters& p, KeyPair sending_ratchet,
                                      std::uint32_t version) {
  auto sending = root_step(hmac, initial.root_key.expose(), sending_ratchet.private_key.expose(),
                           p.their_signed_pre_key);
  if (!sending) return sending.error();
  SessionState s;
  s.version = version;
  s.local_identity = p.our_identity.public_key;
  s.remote_identity = p.their_identity;
  s.root_key = std::move(sending->root_key);
  s.sender_chain = SenderChain::from(sending_ratchet, std::move(sending->chain_key));
  // Bob's first ratchet key is his signed prekey, with CK0 (wire spec §3, "Alice's initial state").
  s.receiver_chains.push_back(
      ReceiverChain{p.their_signed_pre_key, std::move(initial.chain_key), {}});
  return s;
}

SessionState bob_state_from(RootStep initial, const BobParameters& p, std::uint32_t version) {
  SessionState s;
  s.version = version;
  s.local_identity = p.our_identity.public_key;
  s.remote_identity = p.their_identity;
  s.root_key = std::move(initial.root_key);
  s.sender_chain = SenderChain::from(p.our_signed_pre_key, std::move(initial.chain_key));
  s.alice_base_key = p.their_base_key;
  return s;
}

Result<SessionState> initialize_alice_session(crypto::HmacSha256& hmac, const AliceParameters& p,
                                              KeyPair sending_ratchet) {
  auto initial = x3dh_initiator(hmac, p);
  if (!initial) return initial.error();
  return alice_state_from(hmac, std::move(*initial), p, std::move(sending_ratchet), 3);
}

Result<SessionState> initialize_bob_session(crypto::HmacSha256& hmac, const BobParameters& p) {
  auto initial = x3dh_responder(hmac, p);
  if (!initial) return initial.error();
  return bob_state_from(std::move(*initial), p, 3);
}

}  // namespace hush::internal
