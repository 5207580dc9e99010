// hush internal: the Double Ratchet (see double_ratchet.h; wire spec §4).
#include "protocol/ratchet/double_ratchet.h"

#include <algorithm>

#include <hush/limits.h>

#include "messages_internal.h"
#include "pq/spqr.h"

namespace hush::internal {

Result<SignalMessage> ratchet_encrypt(crypto::Crypto& crypto, RandomSource& random,
                                      SessionState& state, ByteView plaintext,
                                      std::optional<ByteView> addresses) {
  ChainKey& ck = state.sender_chain.chain_key;
  // Never wrap the counter: a wrapped counter would reuse a message key and IV.
  if (ck.index > kMaxChainCounter)
    return Error(Errc::kLimitExceeded, "encrypt: sending chain exhausted");
  // Version 4: SPQR first, then the chain (signal-v4-wire.md §3.3); its key salts the message keys.
  std::optional<pq::SpqrSend> spqr;
  if (state.version == kPqProtocolVersion) {
    auto sent = pq::spqr_send(state.spqr.expose(), random);
    if (!sent) return sent.error();
    spqr.emplace(std::move(*sent));
  }
  const SecretArray<32> seed = ck.message_key_seed(crypto.hmac);
  const MessageKeys keys = MessageKeys::from_seed(crypto.extract, crypto.hmac, seed.expose(),
                                                  spqr ? spqr->key.expose() : ByteView());
  auto ciphertext = crypto.aes.encrypt(keys.cipher_key.expose(), keys.iv.expose(), plaintext);
  if (!ciphertext) return ciphertext.error();
  V4Fields v4;
  v4.version = static_cast<std::uint8_t>(state.version);
  if (spqr) {
    v4.pq_ratchet = spqr->message;
    v4.addresses = addresses;
  }
  SignalMessage message =
      MessageBuilder::signal_message(crypto.hmac, keys.mac_key.expose(), state.local_identity,
                                     state.remote_identity, state.sender_chain.ratchet_public,
                                     ck.index, state.previous_counter, std::move(*ciphertext), v4);
  ck = ck.next(crypto.hmac);
  if (spqr) state.spqr = std::move(spqr->state);
  return message;
}

std::uint32_t max_forward_jump(std::uint32_t version) {
  return version == kPqProtocolVersion ? kMaxForwardJumpV4 : kMaxForwardJump;
}

namespace {

// Derives the keys skipped over from `from` up to `counter` (exclusive) and the seed of `counter`;
// returns the chain key after `counter`.
ChainKey advance_to(crypto::HmacSha256& hmac, ChainKey from, std::uint32_t counter,
                    SkippedKeys& skipped, SecretArray<32>& seed) {
  skipped.reserve(counter - from.index);
  while (from.index < counter) {
    skipped.push_back(from.index, from.message_key_seed(hmac).expose());
    from = from.next(hmac);
  }
  seed = from.message_key_seed(hmac);
  return from.next(hmac);
}

// Checks the MAC and the addresses, then decrypts (MAC before decryption: no padding oracle).
Result<SecretBytes> open(crypto::Crypto& crypto, const SessionState& state,
                         const SignalMessage& message, ByteView seed, ByteView salt,
                         const AddressCheck& check) {
  const MessageKeys keys = MessageKeys::from_seed(crypto.extract, crypto.hmac, seed, salt);
  if (!verify_mac(crypto.hmac, keys.mac_key.expose(), state.remote_identity, state.local_identity,
                  message))
    return Error(Errc::kInvalidMessage, "decrypt: bad mac");
  // Version 4's addresses (signal-v4-wire.md §3.4): absent is accepted (older senders); present,
  // they must name the sender we decrypt for and, when we know our own address, us. A mismatch
  // fails like a bad MAC.
  if (const auto addresses = message.addresses()) {
    const bool sender_ok =
        check.sender && addresses->size() == kAddressesSize &&
        std::equal(check.sender->begin(), check.sender->end(), addresses->begin());
    const bool recipient_ok =
        !check.recipient ||
        (addresses->size() == kAddressesSize &&
         std::equal(check.recipient->begin(), check.recipient->end(), addresses->begin() + 18));
    if (!sender_ok || !recipient_ok)
      return Error(Errc::kInvalidMessage, "decrypt: addresses do not match");
  }
  return crypto.aes.decrypt(keys.cipher_key.expose(), keys.iv.expose(), message.ciphertext());
}

}  // namespace

Result<DecryptPlan> plan_decrypt(crypto::Crypto& crypto, RandomSource& random,
                                 const SessionState& state, const SignalMessage& message,
                                 const AddressCheck& check, std::uint64_t* spqr_steps_left) {
  if (message.message_version() != state.version)
    return Error(Errc::kInvalidMessage, "decrypt: message version differs from session");
  const std::uint32_t counter = message.counter();
  if (counter > kMaxChainCounter) return Error(Errc::kInvalidMessage, "decrypt: counter range");

  DecryptPlan plan;
  plan.counter = counter;
  plan.their_ratchet_key = message.ratchet_key();
  SecretArray<32> seed;

  if (const ReceiverChain* chain = state.find_receiver_chain(message.ratchet_key())) {
    const std::uint32_t next = chain->chain_key.index;
    if (counter < next) {
      // A late message: its key must have been kept (wire spec §4.5).
      const auto at = chain->skipped.find(counter);
      if (!at)
        return Error(Errc::kDuplicateMessage, "decrypt: message key already used or dropped");
      plan.kind = DecryptPlan::Kind::kSkippedKey;
      SecretArray<32>::from(chain->skipped.seed(*at), seed);
    } else {
      if (counter - next > max_forward_jump(state.version))
        return Error(Errc::kTooFarInFuture, "decrypt: counter too far ahead");
      plan.kind = DecryptPlan::Kind::kExistingChain;
      plan.next_chain_key =
          advance_to(crypto.hmac, chain->chain_key.clone(), counter, plan.new_skipped, seed);
    }
  } else {
    // A new ratchet key: check the bound before spending a DH on it.
    if (counter > max_forward_jump(state.version))
      return Error(Errc::kTooFarInFuture, "decrypt: counter too far ahead");
    // DH ratchet step (wire spec §4.3), first half: the receiving chain. The second half (a new
    // sending key pair and its root step) waits until the MAC has verified, so that a forged
    // message costs one DH per state tried, not a key generation and two DHs.
    auto receiving = root_step(crypto.hmac, state.root_key.expose(),
                               state.sender_chain.ratchet_private.expose(), message.ratchet_key());
    if (!receiving) return receiving.error();
    plan.kind = DecryptPlan::Kind::kNewChain;
    plan.next_chain_key =
        advance_to(crypto.hmac, std::move(receiving->chain_key), counter, plan.new_skipped, seed);
    plan.new_root_key = std::move(receiving->root_key);  // replaced below once authenticated
  }

  // Version 4: SPQR gives the salt for this message (on a copy of its state; the plan keeps the
  // next state). A message without a well-formed SPQR message is refused (libsignal 0.103).
  std::optional<pq::SpqrRecv> spqr;
  if (state.version == kPqProtocolVersion) {
    auto received = pq::spqr_recv(state.spqr.expose(), message.pq_ratchet(), spqr_steps_left);
    if (!received) {
      // Before the MAC, SPQR finding the key taken may only mean that the message is another
      // state's: "this state does not fit", so that the session layer tries the next one.
      if (received.error().code() == Errc::kDuplicateMessage)
        return Error(Errc::kInvalidMessage,
                     "decrypt: SPQR key already taken (or the message is another session's)");
      return received.error();
    }
    spqr.emplace(std::move(*received));
  }
  auto plaintext =
      open(crypto, state, message, seed.expose(), spqr ? spqr->key.expose() : ByteView(), check);
  if (!plaintext) return plaintext.error();
  if (spqr) plan.new_spqr = std::move(spqr->state);
  plan.plaintext = std::move(*plaintext);

  if (plan.kind == DecryptPlan::Kind::kNewChain) {
    // Second half of the DH ratchet step: our new sending chain.
    auto new_pair = KeyPair::generate(random);
    if (!new_pair) return new_pair.error();
    auto sending = root_step(crypto.hmac, plan.new_root_key.expose(),
                             new_pair->private_key.expose(), message.ratchet_key());
    if (!sending) return sending.error();
    plan.new_root_key = std::move(sending->root_key);
    plan.new_sender_chain = SenderChain::from(*new_pair, std::move(sending->chain_key));
  }
  return plan;
}

namespace {

// Appends skipped keys to a chain's list, dropping the oldest beyond the limit.
void add_skipped(SkippedKeys& list, SkippedKeys&& more) {
  const std::size_t total = list.size() + more.size();
  if (total > kMaxSkippedKeysPerChain) {
    const std::size_t drop = total - kMaxSkippedKeysPerChain;
    const std::size_t from_old = std::min(drop, list.size());
    list.drop_oldest(from_old);
    more.drop_oldest(drop - from_old);
  }
  list.append(more);
}

}  // namespace

SecretBytes apply(SessionState& state, DecryptPlan plan) {
  switch (plan.kind) {
    case DecryptPlan::Kind::kSkippedKey: {
      ReceiverChain* chain = state.find_receiver_chain(plan.their_ratchet_key);
      chain->skipped.erase(*chain->skipped.find(plan.counter));
      break;
    }
    case DecryptPlan::Kind::kExistingChain: {
      ReceiverChain* chain = state.find_receiver_chain(plan.their_ratchet_key);
      add_skipped(chain->skipped, std::move(plan.new_skipped));
      chain->chain_key = std::move(plan.next_chain_key);
      break;
    }
    case DecryptPlan::Kind::kNewChain: {
      ReceiverChain chain{plan.their_ratchet_key, std::move(plan.next_chain_key), {}};
      add_skipped(chain.skipped, std::move(plan.new_skipped));
      state.receiver_chains.push_back(std::move(chain));
      if (state.receiver_chains.size() > kMaxReceiverChains)
        state.receiver_chains.erase(state.receiver_chains.begin());
      // previousCounter is the counter of the last message on the old sending chain, 0 when none
      // was sent (wire spec §4.4); libsignal never reads it.
      const std::uint32_t sent = state.sender_chain.chain_key.index;
      state.previous_counter = sent > 0 ? sent - 1 : 0;
      state.root_key = std::move(plan.new_root_key);
      state.sender_chain = std::move(*plan.new_sender_chain);
      break;
    }
  }
  if (state.version == kPqProtocolVersion) state.spqr = std::move(plan.new_spqr);
  state.pending_pre_key.reset();
  return std::move(plan.plaintext);
}

}  // namespace hush::internal
