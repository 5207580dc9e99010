// hush: the public protocol operations (session.h): loads, trust checks, trial decryption without
// copying states, and one commit at the end of each operation, inside the store's transaction.
//
// Commit order inside the transaction (libsignal's): save identity -> remove one-time prekey ->
// store session. The transaction makes the order irrelevant for atomicity; it still matters for a
// store whose transactions are weaker than promised, where it leaves at worst a saved identity or
// a consumed prekey, never a half-written session.
#include <hush/limits.h>
#include <hush/session.h>

#include "crypto/crypto.h"
#include "log.h"
#include "messages_internal.h"
#include "ratchet/double_ratchet.h"
#include "record_access.h"
#include "x3dh.h"

#define HUSH_TRY(expr)                                                                      \
  do {                                                                                      \
    if (auto hush_try_status_ = (expr); !hush_try_status_) return hush_try_status_.error(); \
  } while (false)

namespace hush {

using internal::RecordAccess;
using internal::RecordData;
using internal::SessionState;

namespace {

// Runs `body` in a transaction and returns its value; the value is produced inside the body and
// handed out only if the transaction committed.
template <class T, class Body>
Result<T> transact(ProtocolStore& store, Body&& body) {
  std::optional<Result<T>> out;
  Status st = store.run_transaction([&]() -> Status {
    out.emplace(body());
    if (!*out) return out->error();
    return ok_status();
  });
  if (!st) return st.error();
  if (!out) return Error(Errc::kStoreFailure, "run_transaction: body did not run");
  return std::move(*out);
}

Result<SessionRecord> load_or_empty(ProtocolStore& store, const Address& remote) {
  auto loaded = store.load_session(remote);
  if (!loaded) return loaded.error();
  if (!*loaded) return SessionRecord();
  return std::move(**loaded);
}

Status require_trusted(ProtocolStore& store, const Address& remote, const IdentityKey& identity,
                       Direction direction, const char* where) {
  auto trusted = store.is_trusted_identity(remote, identity, direction);
  if (!trusted) return trusted.error();
  if (!*trusted) return Error(Errc::kUntrustedIdentity, where);
  return ok_status();
}

// Saves the identity if none is stored yet (trust on first use); a stored, trusted identity is
// left alone so that a steady-state message costs no identity write.
Status save_identity_if_new(ProtocolStore& store, const Address& remote,
                            const IdentityKey& identity) {
  auto stored = store.identity(remote);
  if (!stored) return stored.error();
  if (*stored && **stored == identity) return ok_status();
  auto saved = store.save_identity(remote, identity);
  if (!saved) return saved.error();
  return ok_status();
}

template <class T>
Result<T> logged(const Context& ctx, const char* op, const Address& remote, Result<T> r) {
  if (!r) internal::warn_failure(ctx, op, remote, r.error());
  return r;
}

// A state that decrypted a message, and where it was in the record.
struct Trial {
  internal::DecryptPlan plan;
  std::optional<std::size_t> archived_index;  // nullopt: the current state
};

// Tries the current state, then the archived ones newest first (wire spec §5.1). A state that fails
// with kInvalidMessage or kTooFarInFuture may simply be the wrong state, so the next one is tried;
// any other error ends the search at once (libsignal's rule). When every state fails, the error of
// the first state tried is returned (it is the most relevant one).
Result<Trial> try_states(internal::crypto::Crypto& crypto, RandomSource& random,
                         const RecordData& record, const SignalMessage& message) {
  std::optional<Error> first_error;
  auto attempt = [&](const SessionState& state) -> std::optional<Result<internal::DecryptPlan>> {
    auto plan = internal::plan_decrypt(crypto, random, state, message);
    if (plan) return plan;
    const Errc code = plan.error().code();
    if (code != Errc::kInvalidMessage && code != Errc::kTooFarInFuture) return plan;
    if (!first_error) first_error = plan.error();
    return std::nullopt;
  };
  if (record.current) {
    if (auto r = attempt(*record.current)) {
      if (!*r) return r->error();
      return Trial{std::move(**r), std::nullopt};
    }
  }
  for (std::size_t i = 0; i < record.previous.size(); ++i) {
    if (auto r = attempt(record.previous[i])) {
      if (!*r) return r->error();
      return Trial{std::move(**r), i};
    }
  }
  if (first_error) return *first_error;
  return Error(Errc::kNoSession, "decrypt: no session state");
}

// Applies a successful trial to the record (promoting an archived state) and returns the plaintext
// and a reference to the state that decrypted (now current).
SecretBytes commit_trial(RecordData& record, Trial trial) {
  if (!trial.archived_index) return internal::apply(*record.current, std::move(trial.plan));
  const auto index = static_cast<std::ptrdiff_t>(*trial.archived_index);
  SessionState state = std::move(record.previous[static_cast<std::size_t>(index)]);
  record.previous.erase(record.previous.begin() + index);
  SecretBytes plaintext = internal::apply(state, std::move(trial.plan));
  record.promote(std::move(state));
  return plaintext;
}

Status run_hook(const DecryptOptions& options, const SecretBytes& plaintext) {
  if (options.before_commit) return options.before_commit(plaintext.expose());
  return ok_status();
}

}  // namespace

Status process_prekey_bundle(const Context& ctx, ProtocolStore& store, const Address& remote,
                             const PreKeyBundle& bundle) {
  auto r = transact<bool>(store, [&]() -> Result<bool> {
    HUSH_TRY(require_trusted(store, remote, bundle.identity_key, Direction::kSending,
                             "process_prekey_bundle: untrusted identity"));
    HUSH_TRY(bundle.validate());
    auto our_identity = store.identity_key_pair();
    if (!our_identity) return our_identity.error();
    auto local_registration_id = store.local_registration_id();
    if (!local_registration_id) return local_registration_id.error();
    auto record = load_or_empty(store, remote);
    if (!record) return record.error();

    auto base_key = KeyPair::generate(ctx.random);
    if (!base_key) return base_key.error();
    auto sending_ratchet = KeyPair::generate(ctx.random);
    if (!sending_ratchet) return sending_ratchet.error();

    internal::crypto::Crypto crypto;
    const internal::AliceParameters params{*our_identity, *base_key, bundle.identity_key,
                                           bundle.signed_pre_key, bundle.pre_key};
    auto state =
        internal::initialize_alice_session(crypto.hmac, params, std::move(*sending_ratchet));
    if (!state) return state.error();
    state->pending_pre_key =
        internal::PendingPreKey{bundle.pre_key_id, bundle.signed_pre_key_id, base_key->public_key};
    state->remote_registration_id = bundle.registration_id;
    state->local_registration_id = *local_registration_id;

    RecordAccess::data(*record).promote(std::move(*state));
    auto saved = store.save_identity(remote, bundle.identity_key);
    if (!saved) return saved.error();
    HUSH_TRY(store.store_session(remote, std::move(*record)));
    return true;
  });
  if (!r) {
    internal::warn_failure(ctx, "process_prekey_bundle", remote, r.error());
    return r.error();
  }
  return ok_status();
}

Result<CiphertextMessage> encrypt_message(const Context& ctx, ProtocolStore& store,
                                          const Address& remote, ByteView plaintext) {
  if (plaintext.size() > kMaxPlaintextBytes)
    return Error(Errc::kLimitExceeded, "encrypt_message: plaintext larger than kMaxPlaintextBytes");
  return logged(
      ctx, "encrypt_message", remote,
      transact<CiphertextMessage>(store, [&]() -> Result<CiphertextMessage> {
        auto loaded = store.load_session(remote);
        if (!loaded) return loaded.error();
        if (!*loaded || !RecordAccess::data(**loaded).current)
          return Error(Errc::kNoSession, "encrypt_message: no session");
        SessionRecord& record = **loaded;
        SessionState& state = *RecordAccess::data(record).current;
        HUSH_TRY(require_trusted(store, remote, state.remote_identity, Direction::kSending,
                                 "encrypt_message: untrusted identity"));

        internal::crypto::Crypto crypto;
        auto message = internal::ratchet_encrypt(crypto, state, plaintext);
        if (!message) return message.error();
        std::optional<CiphertextMessage> out;
        if (state.pending_pre_key) {
          const auto& pending = *state.pending_pre_key;
          out.emplace(internal::MessageBuilder::prekey_message(
              state.local_registration_id, pending.pre_key_id, pending.signed_pre_key_id,
              pending.base_key, state.local_identity, std::move(*message)));
        } else {
          out.emplace(std::move(*message));
        }
        HUSH_TRY(save_identity_if_new(store, remote, state.remote_identity));
        HUSH_TRY(store.store_session(remote, std::move(record)));
        return std::move(*out);
      }));
}

Result<SecretBytes> decrypt_prekey_message(const Context& ctx, ProtocolStore& store,
                                           const Address& remote,
                                           const PreKeySignalMessage& message,
                                           const DecryptOptions& options) {
  return logged(
      ctx, "decrypt_prekey_message", remote,
      transact<SecretBytes>(store, [&]() -> Result<SecretBytes> {
        HUSH_TRY(require_trusted(store, remote, message.identity_key(), Direction::kReceiving,
                                 "decrypt_prekey_message: untrusted identity"));
        auto record = load_or_empty(store, remote);
        if (!record) return record.error();
        RecordData& data = RecordAccess::data(*record);
        internal::crypto::Crypto crypto;

        if (data.has_state_with_base_key(message.message_version(), message.base_key())) {
          // A later or repeated message of a session already set up (wire spec §3 step 2).
          auto trial = try_states(crypto, ctx.random, data, message.message());
          if (!trial) return trial.error();
          SecretBytes plaintext = commit_trial(data, std::move(*trial));
          // The state that decrypted authenticated its own remote identity, not the
          // (unauthenticated) identity field of this message: they must agree.
          if (!(data.current->remote_identity == message.identity_key()))
            return Error(Errc::kInvalidMessage,
                         "decrypt_prekey_message: identity differs from session");
          HUSH_TRY(run_hook(options, plaintext));
          HUSH_TRY(save_identity_if_new(store, remote, message.identity_key()));
          HUSH_TRY(store.store_session(remote, std::move(*record)));
          return plaintext;
        }

        if (data.retired(message.base_key()))
          return Error(Errc::kDuplicateMessage,
                       "decrypt_prekey_message: replay of a session long archived");

        // A new session: X3DH as responder (wire spec §3 step 3).
        auto signed_pre_key = store.load_signed_pre_key(message.signed_pre_key_id());
        if (!signed_pre_key) return signed_pre_key.error();
        if (!*signed_pre_key)
          return Error(Errc::kInvalidKeyId, "decrypt_prekey_message: unknown signed prekey");
        std::optional<KeyPair> one_time;
        if (message.pre_key_id()) {
          auto pre_key = store.load_pre_key(*message.pre_key_id());
          if (!pre_key) return pre_key.error();
          if (!*pre_key)
            return Error(Errc::kInvalidKeyId,
                         "decrypt_prekey_message: unknown or used one-time prekey");
          one_time = std::move((*pre_key)->key_pair);
        }
        auto our_identity = store.identity_key_pair();
        if (!our_identity) return our_identity.error();
        auto local_registration_id = store.local_registration_id();
        if (!local_registration_id) return local_registration_id.error();

        const internal::BobParameters params{*our_identity, (*signed_pre_key)->key_pair, one_time,
                                             message.identity_key(), message.base_key()};
        auto state = internal::initialize_bob_session(crypto.hmac, params);
        if (!state) return state.error();
        state->remote_registration_id = message.registration_id();
        state->local_registration_id = *local_registration_id;

        auto plan = internal::plan_decrypt(crypto, ctx.random, *state, message.message());
        if (!plan) return plan.error();
        SecretBytes plaintext = internal::apply(*state, std::move(*plan));
        data.promote(std::move(*state));

        HUSH_TRY(run_hook(options, plaintext));
        auto saved = store.save_identity(remote, message.identity_key());
        if (!saved) return saved.error();
        if (message.pre_key_id() && *message.pre_key_id() != kLastResortPreKeyId)
          HUSH_TRY(store.remove_pre_key(*message.pre_key_id()));
        HUSH_TRY(store.store_session(remote, std::move(*record)));
        return plaintext;
      }));
}

Result<SecretBytes> decrypt_signal_message(const Context& ctx, ProtocolStore& store,
                                           const Address& remote, const SignalMessage& message,
                                           const DecryptOptions& options) {
  return logged(ctx, "decrypt_signal_message", remote,
                transact<SecretBytes>(store, [&]() -> Result<SecretBytes> {
                  auto loaded = store.load_session(remote);
                  if (!loaded) return loaded.error();
                  if (!*loaded)
                    return Error(Errc::kNoSession, "decrypt_signal_message: no session");
                  SessionRecord& record = **loaded;
                  RecordData& data = RecordAccess::data(record);
                  if (!data.current && data.previous.empty())
                    return Error(Errc::kNoSession, "decrypt_signal_message: no session state");
                  internal::crypto::Crypto crypto;
                  auto trial = try_states(crypto, ctx.random, data, message);
                  if (!trial) return trial.error();
                  SecretBytes plaintext = commit_trial(data, std::move(*trial));
                  const IdentityKey& their_identity = data.current->remote_identity;
                  HUSH_TRY(require_trusted(store, remote, their_identity, Direction::kReceiving,
                                           "decrypt_signal_message: untrusted identity"));
                  HUSH_TRY(run_hook(options, plaintext));
                  HUSH_TRY(save_identity_if_new(store, remote, their_identity));
                  HUSH_TRY(store.store_session(remote, std::move(record)));
                  return plaintext;
                }));
}

Result<SecretBytes> decrypt_message(const Context& ctx, ProtocolStore& store, const Address& remote,
                                    const CiphertextMessage& message,
                                    const DecryptOptions& options) {
  if (const auto* m = message.prekey_message())
    return decrypt_prekey_message(ctx, store, remote, *m, options);
  return decrypt_signal_message(ctx, store, remote, *message.signal_message(), options);
}

Result<SessionInfo> session_info(ProtocolStore& store, const Address& remote) {
  auto loaded = store.load_session(remote);
  if (!loaded) return loaded.error();
  SessionInfo info;
  if (!*loaded) return info;
  const SessionRecord& record = **loaded;
  info.exists = record.has_current_state();
  info.version = record.current_version().value_or(0);
  info.has_unacknowledged_prekey = record.has_unacknowledged_prekey();
  info.previous_states = record.previous_state_count();
  info.remote_identity = record.remote_identity();
  info.remote_registration_id = record.remote_registration_id();
  return info;
}

Status trust_identity(ProtocolStore& store, const Address& remote, const IdentityKey& identity) {
  return store.run_transaction([&]() -> Status {
    auto saved = store.save_identity(remote, identity);
    if (!saved) return saved.error();
    auto loaded = store.load_session(remote);
    if (!loaded) return loaded.error();
    if (!*loaded) return ok_status();
    RecordData& data = RecordAccess::data(**loaded);
    if (!data.current || data.current->remote_identity == identity) return ok_status();
    data.archive_current();
    return store.store_session(remote, std::move(**loaded));
  });
}

Status reset_session(ProtocolStore& store, const Address& remote) {
  return store.run_transaction([&]() -> Status {
    auto loaded = store.load_session(remote);
    if (!loaded) return loaded.error();
    if (!*loaded || !RecordAccess::data(**loaded).current) return ok_status();
    RecordAccess::data(**loaded).archive_current();
    return store.store_session(remote, std::move(**loaded));
  });
}

Result<PreKeyBundle> make_bundle(ProtocolStore& store, DeviceId device_id,
                                 SignedPreKeyId signed_pre_key_id,
                                 std::optional<PreKeyId> pre_key_id) {
  auto identity = store.identity_key_pair();
  if (!identity) return identity.error();
  auto registration_id = store.local_registration_id();
  if (!registration_id) return registration_id.error();
  auto spk = store.load_signed_pre_key(signed_pre_key_id);
  if (!spk) return spk.error();
  if (!*spk) return Error(Errc::kInvalidKeyId, "make_bundle: unknown signed prekey");
  PreKeyBundle bundle;
  bundle.registration_id = *registration_id;
  bundle.device_id = device_id;
  bundle.signed_pre_key_id = signed_pre_key_id;
  bundle.signed_pre_key = (*spk)->key_pair.public_key;
  bundle.signed_pre_key_signature = (*spk)->signature;
  bundle.identity_key = identity->public_key;
  if (pre_key_id) {
    auto pk = store.load_pre_key(*pre_key_id);
    if (!pk) return pk.error();
    if (!*pk) return Error(Errc::kInvalidKeyId, "make_bundle: unknown one-time prekey");
    bundle.pre_key_id = pre_key_id;
    bundle.pre_key = (*pk)->key_pair.public_key;
  }
  return bundle;
}

Result<std::vector<PreKeyId>> replenish_pre_keys(const Context& ctx, ProtocolStore& store,
                                                 std::uint32_t count) {
  return transact<std::vector<PreKeyId>>(store, [&]() -> Result<std::vector<PreKeyId>> {
    auto first = store.next_pre_key_id();
    if (!first) return first.error();
    auto keys = generate_pre_keys(ctx, *first, count);
    if (!keys) return keys.error();
    std::vector<PreKeyId> ids;
    ids.reserve(keys->size());
    for (const auto& k : *keys) {
      HUSH_TRY(store.store_pre_key(k));
      ids.push_back(k.id);
    }
    return ids;
  });
}

}  // namespace hush
