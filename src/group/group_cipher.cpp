// hush: the sender-key operations (group.h): load the record of (sender, group), work on it,
// store it at the end of one store transaction; any failure returns before the store is written.
#include <hush/group.h>
#include <hush/limits.h>

#include <algorithm>
#include <optional>

#include "crypto/crypto.h"
#include "crypto/signature.h"
#include "group/group_messages.h"
#include "group/sender_key_state.h"
#include "log.h"
#include "store/transact.h"

namespace hush {

using internal::SenderKeyRecordAccess;
using internal::SenderKeyState;
using internal::SenderMessageKey;

using internal::transact;

namespace {

template <class T>
Result<T> logged(const Context& ctx, const char* op, const Address& remote, Result<T> r) {
  if (!r) internal::warn_failure(ctx, op, remote, r.error());
  return r;
}

Result<SenderKeyRecord> load_or_empty(ProtocolStore& store, const Address& sender,
                                      const SenderKeyGroup& group) {
  auto loaded = store.load_sender_key(sender, group);
  if (!loaded) return loaded.error();
  if (!*loaded) return SenderKeyRecord();
  return std::move(**loaded);
}

// Puts `state` first and drops the oldest states beyond the limit.
void push_newest(std::vector<SenderKeyState>& states, SenderKeyState state) {
  states.insert(states.begin(), std::move(state));
  if (states.size() > kMaxSenderKeyStates) states.resize(kMaxSenderKeyStates);
}

// A fresh chain of ours: random 31-bit chain id (as both libraries), chain key and signing key.
Result<SenderKeyState> new_own_state(const Context& ctx) {
  SenderKeyState s;
  std::array<std::uint8_t, 4> id{};
  HUSH_TRY(ctx.random.fill(id));
  s.chain_id = (std::uint32_t{id[0]} << 24 | std::uint32_t{id[1]} << 16 |
                std::uint32_t{id[2]} << 8 | id[3]) &
               0x7FFFFFFFu;
  HUSH_TRY(ctx.random.fill(s.chain.key.expose_mut()));
  s.chain.index = 0;
  auto pair = KeyPair::generate(ctx.random);
  if (!pair) return pair.error();
  internal::set_own_signing_key(s, std::move(*pair));
  return s;
}

SenderKeyDistributionMessage distribution_of(const SenderKeyGroup& group, const SenderKeyState& s) {
  return internal::GroupMessageBuilder::distribution_message(group, s.chain_id, s.chain.index,
                                                             s.chain.key, s.signing_public);
}

Result<SenderKeyDistributionMessage> distribute(const Context& ctx, ProtocolStore& store,
                                                const Address& self, const SenderKeyGroup& group,
                                                bool rotate) {
  return logged(
      ctx, rotate ? "rotate_sender_key" : "create_sender_key_distribution", self,
      transact<SenderKeyDistributionMessage>(store, [&]() -> Result<SenderKeyDistributionMessage> {
        auto record = load_or_empty(store, self, group);
        if (!record) return record.error();
        auto& states = SenderKeyRecordAccess::data(*record).states;
        if (!rotate && record->can_encrypt()) return distribution_of(group, states.front());
        auto fresh = new_own_state(ctx);
        if (!fresh) return fresh.error();
        push_newest(states, std::move(*fresh));
        SenderKeyDistributionMessage out = distribution_of(group, states.front());
        HUSH_TRY(store.store_sender_key(self, group, std::move(*record)));
        return out;
      }));
}

Status check_group(const SenderKeyGroup& group, SenderKeyFormat format,
                   const std::optional<DistributionId>& id, const char* where_format,
                   const char* where_id) {
  if (format != group.format()) return Error(Errc::kInvalidMessage, where_format);
  if (group.format() == SenderKeyFormat::kCurrent && id != group.distribution_id())
    return Error(Errc::kInvalidMessage, where_id);
  return ok_status();
}

// Encrypts one message with the newest chain of `record` (ours) and advances it.
Result<SenderKeyMessage> encrypt_one(const Context& ctx, internal::crypto::Crypto& c,
                                     SenderKeyRecord& record, const SenderKeyGroup& group,
                                     ByteView plaintext) {
  if (plaintext.size() > kMaxPlaintextBytes)
    return Error(Errc::kLimitExceeded, "group_encrypt: plaintext larger than kMaxPlaintextBytes");
  if (!record.can_encrypt())
    return Error(Errc::kNoSession, "group_encrypt: no sender key of ours for this group");
  SenderKeyState& s = SenderKeyRecordAccess::data(record).states.front();
  if (s.chain.index > kMaxChainCounter)
    return Error(Errc::kLimitExceeded, "group_encrypt: chain exhausted");
  const SecretArray<32> seed = s.chain.message_key_seed(c.hmac);
  const SenderMessageKey key = SenderMessageKey::from_seed(c, seed.expose());
  auto ciphertext = c.aes.encrypt(key.cipher_key.expose(), key.iv.expose(), plaintext);
  if (!ciphertext) return ciphertext.error();
  auto message = internal::GroupMessageBuilder::sender_key_message(
      ctx.random, group, s.chain_id, s.chain.index, std::move(*ciphertext), *s.signing_private,
      s.signing_edwards);
  if (!message) return message.error();
  s.chain = s.chain.next(c.hmac);
  return message;
}

Status require_outermost(ProtocolStore& store) {
  if (store.transaction_depth() != 1)
    return Error(Errc::kInTransaction,
                 "group_encrypt: inside another transaction (a rollback would reuse the message "
                 "key); encrypt outside it");
  return ok_status();
}

// The message key seed of `iteration` in `s`, advancing the chain (and keeping the seeds of the
// iterations skipped) or taking a kept seed; `s` is a working copy.
Result<SecretArray<32>> take_seed(internal::crypto::Crypto& c, SenderKeyState& s,
                                  std::uint32_t iteration, std::uint32_t max_jump) {
  if (iteration < s.chain.index) {
    auto at = s.skipped.find(iteration);
    if (!at) return Error(Errc::kDuplicateMessage, "group_decrypt: old iteration");
    SecretArray<32> seed;
    std::copy_n(s.skipped.seed(*at).begin(), 32, seed.expose_mut().begin());
    s.skipped.erase(*at);
    return seed;
  }
  if (iteration - s.chain.index > max_jump)
    return Error(Errc::kTooFarInFuture, "group_decrypt: iteration too far ahead");
  // Only the last kMaxSenderKeySkippedKeys skipped seeds could be kept: derive but do not keep
  // the ones before them.
  const std::uint32_t keep_from =
      iteration - s.chain.index > kMaxSenderKeySkippedKeys
          ? iteration - static_cast<std::uint32_t>(kMaxSenderKeySkippedKeys)
          : s.chain.index;
  while (s.chain.index < iteration) {
    if (s.chain.index >= keep_from) {
      const SecretArray<32> skipped = s.chain.message_key_seed(c.hmac);
      s.skipped.push_back(s.chain.index, skipped.expose());
    }
    s.chain = s.chain.next(c.hmac);
  }
  if (s.skipped.size() > kMaxSenderKeySkippedKeys)
    s.skipped.drop_oldest(s.skipped.size() - kMaxSenderKeySkippedKeys);
  SecretArray<32> seed = s.chain.message_key_seed(c.hmac);
  s.chain = s.chain.next(c.hmac);
  return seed;
}

}  // namespace

Result<SenderKeyDistributionMessage> create_sender_key_distribution(const Context& ctx,
                                                                    ProtocolStore& store,
                                                                    const Address& self,
                                                                    const SenderKeyGroup& group) {
  return distribute(ctx, store, self, group, false);
}

Result<SenderKeyDistributionMessage> rotate_sender_key(const Context& ctx, ProtocolStore& store,
                                                       const Address& self,
                                                       const SenderKeyGroup& group) {
  return distribute(ctx, store, self, group, true);
}

Status process_sender_key_distribution(ProtocolStore& store, const Address& sender,
                                       const SenderKeyGroup& group,
                                       const SenderKeyDistributionMessage& message) {
  HUSH_TRY(check_group(group, message.format(), message.distribution_id(),
                       "process_sender_key_distribution: message of another format",
                       "process_sender_key_distribution: another distribution id"));
  return store.run_transaction([&]() -> Status {
    auto record = load_or_empty(store, sender, group);
    if (!record) return record.error();
    auto& states = SenderKeyRecordAccess::data(*record).states;
    // libsignal's rule: the chain already held (same id and signing key) is kept as it is (never
    // restarted), only made the newest; another chain with that id is replaced.
    std::optional<SenderKeyState> kept;
    for (auto it = states.begin(); it != states.end();) {
      if (it->chain_id != message.chain_id()) {
        ++it;
        continue;
      }
      if (!kept && it->signing_public == message.signing_key()) kept = std::move(*it);
      it = states.erase(it);
    }
    if (!kept) {
      SenderKeyState s;
      s.chain_id = message.chain_id();
      s.chain.key = internal::GroupMessageBuilder::chain_key(message).clone();
      s.chain.index = message.iteration();
      HUSH_TRY(internal::set_received_signing_key(s, message.signing_key()));
      kept = std::move(s);
    }
    push_newest(states, std::move(*kept));
    return store.store_sender_key(sender, group, std::move(*record));
  });
}

Result<SenderKeyMessage> group_encrypt(const Context& ctx, ProtocolStore& store,
                                       const Address& self, const SenderKeyGroup& group,
                                       ByteView plaintext) {
  const ByteView one[] = {plaintext};
  auto out = group_encrypt_messages(ctx, store, self, group, one);
  if (!out) return out.error();
  return std::move(out->front());
}

Result<std::vector<SenderKeyMessage>> group_encrypt_messages(const Context& ctx,
                                                             ProtocolStore& store,
                                                             const Address& self,
                                                             const SenderKeyGroup& group,
                                                             std::span<const ByteView> plaintexts) {
  return logged(ctx, "group_encrypt", self,
                transact<std::vector<SenderKeyMessage>>(
                    store, [&]() -> Result<std::vector<SenderKeyMessage>> {
                      HUSH_TRY(require_outermost(store));
                      auto record = load_or_empty(store, self, group);
                      if (!record) return record.error();
                      internal::crypto::Crypto c;
                      std::vector<SenderKeyMessage> out;
                      out.reserve(plaintexts.size());
                      for (ByteView p : plaintexts) {
                        auto m = encrypt_one(ctx, c, *record, group, p);
                        if (!m) return m.error();
                        out.push_back(std::move(*m));
                      }
                      HUSH_TRY(store.store_sender_key(self, group, std::move(*record)));
                      HUSH_TRY(store.record_key_use());
                      return out;
                    }));
}

Result<SecretBytes> group_decrypt(const Context& ctx, ProtocolStore& store, const Address& sender,
                                  const SenderKeyGroup& group, const SenderKeyMessage& message,
                                  const DecryptOptions& options) {
  HUSH_TRY(check_group(group, message.format(), message.distribution_id(),
                       "group_decrypt: message of another format",
                       "group_decrypt: another distribution id"));
  return logged(
      ctx, "group_decrypt", sender, transact<SecretBytes>(store, [&]() -> Result<SecretBytes> {
        auto loaded = store.load_sender_key(sender, group);
        if (!loaded) return loaded.error();
        if (!*loaded) return Error(Errc::kNoSession, "group_decrypt: no sender key for the group");
        SenderKeyRecord record = std::move(**loaded);
        auto& states = SenderKeyRecordAccess::data(record).states;
        auto s = std::find_if(states.begin(), states.end(), [&](const SenderKeyState& st) {
          return st.chain_id == message.chain_id();
        });
        if (s == states.end())
          return Error(Errc::kNoSession, "group_decrypt: no sender key with that chain id");
        auto signature = Signature::parse(message.signature());
        if (!signature || !internal::crypto::curve25519_verify_edwards(
                              s->signing_edwards, message.signed_part(), signature->bytes))
          return Error(Errc::kInvalidMessage, "group_decrypt: bad signature");
        const std::uint32_t max_jump = group.format() == SenderKeyFormat::kLegacy
                                           ? kMaxSenderKeyForwardJumpLegacy
                                           : kMaxSenderKeyForwardJump;
        internal::crypto::Crypto c;
        auto seed = take_seed(c, *s, message.iteration(), max_jump);
        if (!seed) return seed.error();
        const SenderMessageKey key = SenderMessageKey::from_seed(c, seed->expose());
        auto plaintext =
            c.aes.decrypt(key.cipher_key.expose(), key.iv.expose(), message.ciphertext());
        if (!plaintext) return Error(Errc::kInvalidMessage, "group_decrypt: does not decrypt");
        if (options.before_commit) HUSH_TRY(options.before_commit(plaintext->expose()));
        HUSH_TRY(store.store_sender_key(sender, group, std::move(record)));
        return std::move(*plaintext);
      }));
}

}  // namespace hush
