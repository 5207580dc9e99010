// hush: the public protocol operations (session.h): loads, trust checks, trial decryption without
// copying states, and one commit at the end of each operation, inside the store's transaction.
//
// Commit order inside the transaction (libsignal's): save identity -> remove one-time prekey ->
// record the base key -> store session. The transaction makes the order irrelevant for atomicity;
// it still matters for a store whose transactions are weaker than promised, where it leaves at
// worst a saved identity or a consumed prekey, never a half-written session.
//
// Trust is decided here, per person (the name of an address): `check_identity` refuses an identity
// that differs from the one stored for the name, whatever the store's policy says, and then asks
// the policy. On the receiving side it runs only after the message authenticated under that
// identity (X3DH and MAC), so a forged message is an ordinary invalid_message and never an
// identity change.
#include <hush/limits.h>
#include <hush/session.h>

#include <algorithm>

#include "crypto/crypto.h"
#include "log.h"
#include "messages_internal.h"
#include "pq/spqr.h"
#include "protocol/pqxdh.h"
#include "protocol/ratchet/double_ratchet.h"
#include "protocol/record_access.h"
#include "protocol/x3dh.h"
#include "store/transact.h"

namespace hush {

using internal::RecordAccess;
using internal::RecordData;
using internal::SessionState;

using internal::transact;

namespace {

Result<SessionRecord> load_or_empty(ProtocolStore& store, const Address& remote) {
  auto loaded = store.load_session(remote);
  if (!loaded) return loaded.error();
  if (!*loaded) return SessionRecord();
  return std::move(**loaded);
}

// The identity rule: an identity is the person's (all devices of a name share it). One that
// differs from the stored identity of `remote.name` is refused, whatever the store's policy would
// say (a policy that trusts every key, libsignal's default, must not silently replace a pin); one
// that matches, or a first one, is then put to the store's policy.
Status check_identity(ProtocolStore& store, const Address& remote, const IdentityKey& identity,
                      Direction direction, const char* where) {
  auto stored = store.identity(remote.name);
  if (!stored) return stored.error();
  if (*stored && !(**stored == identity)) return Error(Errc::kUntrustedIdentity, where);
  auto trusted = store.is_trusted_identity(remote.name, identity, direction);
  if (!trusted) return trusted.error();
  if (!*trusted) return Error(Errc::kUntrustedIdentity, where);
  return ok_status();
}

// Saves the identity if none is stored yet for the person (trust on first use); after
// check_identity a stored one is the same, and is left alone so that a steady-state message costs
// no identity write.
Status save_identity_if_new(ProtocolStore& store, const Address& remote,
                            const IdentityKey& identity) {
  auto stored = store.identity(remote.name);
  if (!stored) return stored.error();
  if (*stored && **stored == identity) return ok_status();
  auto saved = store.save_identity(remote.name, identity);
  if (!saved) return saved.error();
  return ok_status();
}

// Saturating: a clock that went backwards gives an age of 0, never a huge one.
std::uint64_t age_ms(std::uint64_t now, std::uint64_t then) {
  return now > then ? now - then : 0;
}

// ---- version 4: addresses (signal-v4-wire.md §3.4) and downgrade protection ----

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// An address as the fixed-width ServiceId (kind 0x00 ACI for "<uuid>", 0x01 PNI for
// "PNI:<uuid>", then the 16 UUID bytes) and the device byte, or nullopt if the name is not a
// ServiceId or the device id is outside 1..127 (libsignal's range).
using AddressHalf = std::array<std::uint8_t, 18>;
std::optional<AddressHalf> address_half(const Address& a) {
  std::string_view name = a.name;
  AddressHalf out{};
  if (name.substr(0, 4) == "PNI:") {
    out[0] = 0x01;
    name.remove_prefix(4);
  }
  if (name.size() != 36) return std::nullopt;
  std::size_t at = 1;
  for (std::size_t i = 0; i < name.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (name[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    const int hi = hex_digit(name[i]);
    const int lo = hex_digit(name[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[at++] = static_cast<std::uint8_t>(hi << 4 | lo);
    i += 2;
  }
  const std::uint32_t device = to_uint(a.device_id);
  if (device < 1 || device > 127) return std::nullopt;
  out[17] = static_cast<std::uint8_t>(device);
  return out;
}

// What a message from `remote` to us must say in its addresses field.
internal::AddressCheck address_check(const Address& remote, const std::optional<Address>& local) {
  internal::AddressCheck c;
  c.sender = address_half(remote);
  if (local) c.recipient = address_half(*local);
  return c;
}

// Whether any stored state with any device of the person `name` is version 4: such a person
// has spoken PQXDH with us, and cannot be moved back to X3DH (issue 12 item 5).
Result<bool> person_used_v4(ProtocolStore& store, std::string_view name) {
  auto devices = store.session_devices(name);
  if (!devices) return devices.error();
  for (DeviceId d : *devices) {
    auto loaded = store.load_session(Address{std::string(name), d});
    if (!loaded) return loaded.error();
    if (!*loaded) continue;
    const RecordData& data = RecordAccess::data(**loaded);
    if (data.current && data.current->version == kPqProtocolVersion) return true;
    for (const SessionState& st : data.previous)
      if (st.version == kPqProtocolVersion) return true;
  }
  return false;
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

// Finds the state that decrypts `message` (wire spec §5.1), trying at most kMaxDecryptTrials
// states: first those holding a receiving chain for the message's ratchet key (only they can
// decrypt it, unless it starts a new chain), current state first; then, for a new ratchet key,
// the current state and the newest archived ones. Each trial derives chain keys and may do a DH
// before the MAC can be checked, so the bounds (kMaxDecryptTrials states, kMaxDecryptChainSteps
// chain steps in all) are what keep a forged message from costing 41 states' worth of work. A state
// that fails with kInvalidMessage or kTooFarInFuture may simply be the wrong state, so the next one
// is tried; any other error ends the search at once (libsignal's rule; plan_decrypt reports what
// SPQR says before the MAC, such as a key already taken, as kInvalidMessage, since it may be
// another state's message). When every trial fails, the error of the first is returned (the most
// relevant one).
Result<Trial> try_states(internal::crypto::Crypto& crypto, RandomSource& random,
                         const RecordData& record, const SignalMessage& message,
                         const internal::AddressCheck& check) {
  // Candidate states, as indexes: -1 is the current state, i >= 0 is previous[i].
  std::vector<std::ptrdiff_t> order;
  order.reserve(kMaxDecryptTrials);
  auto state_at = [&](std::ptrdiff_t i) -> const SessionState& {
    return i < 0 ? *record.current : record.previous[static_cast<std::size_t>(i)];
  };
  const auto count = static_cast<std::ptrdiff_t>(record.previous.size());
  for (std::ptrdiff_t i = record.current ? -1 : 0; i < count && order.size() < kMaxDecryptTrials;
       ++i)
    if (state_at(i).find_receiver_chain(message.ratchet_key())) order.push_back(i);
  if (order.empty()) {
    for (std::ptrdiff_t i = record.current ? -1 : 0; i < count && order.size() < kMaxDecryptTrials;
         ++i)
      order.push_back(i);
  }
  std::optional<Error> first_error;
  // The chain steps all trials together may derive before a MAC verifies (kMaxDecryptChainSteps):
  // a trial that would need more than what is left is not made. A version-4 state may jump 25,000
  // on each of its chains (libsignal 0.103's), so the budget is then two messages with both jumps
  // (kMaxDecryptChainStepsV4), and SPQR's steps are taken from it too (plan_decrypt, before SPQR
  // derives them: over the budget, that trial fails with kInvalidMessage).
  const bool any_v4 = std::any_of(order.begin(), order.end(), [&](std::ptrdiff_t i) {
    return state_at(i).version == kPqProtocolVersion;
  });
  std::uint64_t steps_left = any_v4 ? kMaxDecryptChainStepsV4 : kMaxDecryptChainSteps;
  for (std::ptrdiff_t i : order) {
    const SessionState& state = state_at(i);
    const internal::ReceiverChain* chain = state.find_receiver_chain(message.ratchet_key());
    const std::uint32_t from = chain ? chain->chain_key.index : 0;
    const std::uint64_t steps = message.counter() > from ? message.counter() - from : 0;
    if (steps <= internal::max_forward_jump(state.version)) {
      if (steps > steps_left) {
        if (!first_error)
          first_error = Error(Errc::kInvalidMessage, "decrypt: chain-step budget spent");
        continue;
      }
      steps_left -= steps;
    }
    auto plan = internal::plan_decrypt(crypto, random, state, message, check, &steps_left);
    if (plan) {
      return Trial{std::move(*plan),
                   i < 0 ? std::nullopt : std::optional<std::size_t>(static_cast<std::size_t>(i))};
    }
    const Errc code = plan.error().code();
    if (code != Errc::kInvalidMessage && code != Errc::kTooFarInFuture) return plan.error();
    if (!first_error) first_error = plan.error();
  }
  if (first_error) return *first_error;
  return Error(Errc::kNoSession, "decrypt: no session state");
}

// What a committed trial gives: the plaintext and the identity the decrypting state authenticated.
struct Opened {
  SecretBytes plaintext;
  IdentityKey remote_identity;
};

// Whether the record holds a version-4 state, current or archived.
bool has_v4_state(const RecordData& record) {
  if (record.current && record.current->version == kPqProtocolVersion) return true;
  return std::any_of(record.previous.begin(), record.previous.end(),
                     [](const SessionState& s) { return s.version == kPqProtocolVersion; });
}

// Applies a successful trial to the record and returns the plaintext. An archived state that
// decrypted is made current (how simultaneous initiation converges), except that it is updated
// where it is, never made current, when it was closed by a reset (a late message cannot undo the
// reset) or when it is a version-3 state in a record that has a version-4 one (a late but genuine
// version-3 message, which a server can hold back and time, cannot move the session back from
// post-quantum).
Opened commit_trial(RecordData& record, Trial trial) {
  if (!trial.archived_index) {
    SecretBytes plaintext = internal::apply(*record.current, std::move(trial.plan));
    return Opened{std::move(plaintext), record.current->remote_identity};
  }
  const std::size_t index = *trial.archived_index;
  const SessionState& archived = record.previous[index];
  if (archived.closed || (archived.version != kPqProtocolVersion && has_v4_state(record))) {
    SecretBytes plaintext = internal::apply(record.previous[index], std::move(trial.plan));
    return Opened{std::move(plaintext), record.previous[index].remote_identity};
  }
  SessionState state = std::move(record.previous[index]);
  record.previous.erase(record.previous.begin() + static_cast<std::ptrdiff_t>(index));
  SecretBytes plaintext = internal::apply(state, std::move(trial.plan));
  const IdentityKey identity = state.remote_identity;
  record.promote(std::move(state));
  return Opened{std::move(plaintext), identity};
}

Status run_hook(const DecryptOptions& options, const SecretBytes& plaintext) {
  if (options.before_commit) return options.before_commit(plaintext.expose());
  return ok_status();
}

}  // namespace

Status process_prekey_bundle(const Context& ctx, ProtocolStore& store, const Address& remote,
                             const PreKeyBundle& bundle, const BundleOptions& options) {
  auto r = transact<bool>(store, [&]() -> Result<bool> {
    // The signature first: a bundle that is not signed by the identity it names says nothing
    // about that identity, and is not an identity change.
    HUSH_TRY(bundle.validate());
    HUSH_TRY(check_identity(store, remote, bundle.identity_key, Direction::kSending,
                            "process_prekey_bundle: untrusted identity"));
    auto our_identity = store.identity_key_pair();
    if (!our_identity) return our_identity.error();
    auto local_registration_id = store.local_registration_id();
    if (!local_registration_id) return local_registration_id.error();
    auto record = load_or_empty(store, remote);
    if (!record) return record.error();
    if (!bundle.kyber_pre_key) {
      if (options.require_post_quantum)
        return Error(Errc::kPostQuantumRequired,
                     "process_prekey_bundle: the bundle has no Kyber prekey (post-quantum "
                     "sessions are required)");
      auto used_v4 = person_used_v4(store, remote.name);
      if (!used_v4) return used_v4.error();
      if (*used_v4)
        return Error(Errc::kPostQuantumRequired,
                     "process_prekey_bundle: the bundle has no Kyber prekey, but this person "
                     "already has post-quantum sessions with us (a downgrade)");
    }

    auto base_key = KeyPair::generate(ctx.random);
    if (!base_key) return base_key.error();
    auto sending_ratchet = KeyPair::generate(ctx.random);
    if (!sending_ratchet) return sending_ratchet.error();

    internal::crypto::Crypto crypto;
    const internal::AliceParameters params{*our_identity, *base_key, bundle.identity_key,
                                           bundle.signed_pre_key, bundle.pre_key};
    std::optional<SessionState> state;
    internal::PendingPreKey pending;
    pending.pre_key_id = bundle.pre_key_id;
    pending.signed_pre_key_id = bundle.signed_pre_key_id;
    pending.base_key = base_key->public_key;
    pending.timestamp_ms = ctx.clock.now_ms();
    if (bundle.kyber_pre_key) {
      auto pq = internal::initialize_alice_pqxdh(crypto.hmac, ctx.random, params,
                                                 bundle.kyber_pre_key->serialize(),
                                                 std::move(*sending_ratchet));
      if (!pq) return pq.error();
      // No unlimited SPQR jump, even for a note-to-self session (see the responder's comment in
      // decrypt_prekey_message).
      auto spqr = pq::spqr_initial_state(pq->spqr_seed, pq::SpqrRole::kInitiator,
                                         /*self_session=*/false);
      if (!spqr) return spqr.error();
      pq->state.spqr = std::move(*spqr);
      pending.kyber_pre_key_id = bundle.kyber_pre_key_id;
      pending.kyber_ciphertext = std::move(pq->kyber_ciphertext);
      state.emplace(std::move(pq->state));
    } else {
      auto x3dh =
          internal::initialize_alice_session(crypto.hmac, params, std::move(*sending_ratchet));
      if (!x3dh) return x3dh.error();
      state.emplace(std::move(*x3dh));
    }
    state->pending_pre_key = std::move(pending);
    state->remote_registration_id = bundle.registration_id;
    state->local_registration_id = *local_registration_id;

    RecordAccess::data(*record).promote(std::move(*state));
    HUSH_TRY(save_identity_if_new(store, remote, bundle.identity_key));
    HUSH_TRY(store.store_session(remote, std::move(*record)));
    return true;
  });
  if (!r) {
    internal::warn_failure(ctx, "process_prekey_bundle", remote, r.error());
    return r.error();
  }
  return ok_status();
}

namespace {

// One encryption inside the caller's (outermost) transaction: the chain advance is written, the
// ciphertext is returned to be handed out only after the commit.
Result<CiphertextMessage> encrypt_one(const Context& ctx, ProtocolStore& store,
                                      const Address& remote, ByteView plaintext,
                                      const std::optional<Address>& local) {
  if (plaintext.size() > kMaxPlaintextBytes)
    return Error(Errc::kLimitExceeded, "encrypt_message: plaintext larger than kMaxPlaintextBytes");
  auto loaded = store.load_session(remote);
  if (!loaded) return loaded.error();
  if (!*loaded || !RecordAccess::data(**loaded).current)
    return Error(Errc::kNoSession, "encrypt_message: no session");
  SessionRecord& record = **loaded;
  SessionState& state = *RecordAccess::data(record).current;
  if (state.pending_pre_key && age_ms(ctx.clock.now_ms(), state.pending_pre_key->timestamp_ms) >
                                   kMaxUnacknowledgedSessionAgeMs)
    return Error(Errc::kNoSession,
                 "encrypt_message: the peer never answered this session; fetch a new bundle");
  HUSH_TRY(check_identity(store, remote, state.remote_identity, Direction::kSending,
                          "encrypt_message: untrusted identity"));

  internal::crypto::Crypto crypto;
  // Version 4: while unacknowledged, name sender and recipient (signal-v4-wire.md §3.4) when both
  // are ServiceIds.
  std::optional<std::array<std::uint8_t, kAddressesSize>> addresses;
  if (state.version == kPqProtocolVersion && state.pending_pre_key && local) {
    const auto ours = address_half(*local);
    const auto theirs = address_half(remote);
    if (ours && theirs) {
      addresses.emplace();
      std::copy(ours->begin(), ours->end(), addresses->begin());
      std::copy(theirs->begin(), theirs->end(), addresses->begin() + 18);
    }
  }
  auto message = internal::ratchet_encrypt(
      crypto, ctx.random, state, plaintext,
      addresses ? std::optional<ByteView>(ByteView(*addresses)) : std::nullopt);
  if (!message) return message.error();
  std::optional<CiphertextMessage> out;
  if (state.pending_pre_key) {
    const auto& pending = *state.pending_pre_key;
    out.emplace(internal::MessageBuilder::prekey_message(
        state.local_registration_id, pending.pre_key_id, pending.signed_pre_key_id,
        pending.base_key, state.local_identity, std::move(*message), pending.kyber_pre_key_id,
        pending.kyber_ciphertext));
  } else {
    out.emplace(std::move(*message));
  }
  HUSH_TRY(save_identity_if_new(store, remote, state.remote_identity));
  HUSH_TRY(store.store_session(remote, std::move(record)));
  return std::move(*out);
}

// Only an outermost transaction makes a chain advance durable before its ciphertext leaves:
// nested in another, a rollback of the outer one would undo the advance after the ciphertext was
// handed out, and the next message would reuse its key.
Status require_outermost(ProtocolStore& store) {
  if (store.transaction_depth() != 1)
    return Error(Errc::kInTransaction,
                 "encrypt_message: inside another transaction (a rollback would reuse the "
                 "message key); encrypt outside it, or use EncryptOptions::before_commit");
  return ok_status();
}

}  // namespace

Result<CiphertextMessage> encrypt_message(const Context& ctx, ProtocolStore& store,
                                          const Address& remote, ByteView plaintext,
                                          const EncryptOptions& options) {
  return logged(ctx, "encrypt_message", remote,
                transact<CiphertextMessage>(store, [&]() -> Result<CiphertextMessage> {
                  HUSH_TRY(require_outermost(store));
                  auto out = encrypt_one(ctx, store, remote, plaintext, options.local_address);
                  if (!out) return out.error();
                  HUSH_TRY(store.record_key_use());
                  if (options.before_commit) HUSH_TRY(options.before_commit(*out));
                  return out;
                }));
}

Result<std::vector<CiphertextMessage>> encrypt_messages(const Context& ctx, ProtocolStore& store,
                                                        std::span<const OutgoingMessage> messages,
                                                        const EncryptBatchOptions& options) {
  using Batch = std::vector<CiphertextMessage>;
  auto r = transact<Batch>(store, [&]() -> Result<Batch> {
    HUSH_TRY(require_outermost(store));
    Batch out;
    out.reserve(messages.size());
    for (const OutgoingMessage& m : messages) {
      auto one = encrypt_one(ctx, store, m.remote, m.plaintext, options.local_address);
      if (!one) return one.error();
      out.push_back(std::move(*one));
    }
    HUSH_TRY(store.record_key_use());
    if (options.before_commit) HUSH_TRY(options.before_commit(out));
    return out;
  });
  if (!r && !messages.empty())
    internal::warn_failure(ctx, "encrypt_messages", messages[0].remote, r.error());
  return r;
}

Result<SecretBytes> decrypt_prekey_message(const Context& ctx, ProtocolStore& store,
                                           const Address& remote,
                                           const PreKeySignalMessage& message,
                                           const DecryptOptions& options) {
  return logged(
      ctx, "decrypt_prekey_message", remote,
      transact<SecretBytes>(store, [&]() -> Result<SecretBytes> {
        auto record = load_or_empty(store, remote);
        if (!record) return record.error();
        RecordData& data = RecordAccess::data(*record);
        internal::crypto::Crypto crypto;
        const internal::AddressCheck check = address_check(remote, options.local_address);

        if (data.has_state_with_base_key(message.message_version(), message.base_key())) {
          // A later or repeated message of a session already set up (wire spec §3 step 2).
          auto trial = try_states(crypto, ctx.random, data, message.message(), check);
          if (!trial) return trial.error();
          Opened opened = commit_trial(data, std::move(*trial));
          // The state that decrypted authenticated its own remote identity, not the
          // (unauthenticated) identity field of this message: they must agree.
          if (!(opened.remote_identity == message.identity_key()))
            return Error(Errc::kInvalidMessage,
                         "decrypt_prekey_message: identity differs from session");
          HUSH_TRY(check_identity(store, remote, opened.remote_identity, Direction::kReceiving,
                                  "decrypt_prekey_message: untrusted identity"));
          HUSH_TRY(run_hook(options, opened.plaintext));
          HUSH_TRY(save_identity_if_new(store, remote, opened.remote_identity));
          HUSH_TRY(store.store_session(remote, std::move(*record)));
          return std::move(opened.plaintext);
        }

        // A session is set up from a prekey message once, under any address: a relay that
        // delivers it again as another device or another person gets nothing.
        auto accepted = store.has_accepted_base_key(message.base_key());
        if (!accepted) return accepted.error();
        if (*accepted || data.retired(message.base_key()))
          return Error(Errc::kDuplicateMessage,
                       "decrypt_prekey_message: this prekey message already set up a session");

        const bool pq = message.message_version() == kPqProtocolVersion;
        if (!pq) {
          // No downgrade (issue 12 item 5): X3DH only where post-quantum is not required and
          // the person never had a version-4 session with us.
          if (options.require_post_quantum)
            return Error(Errc::kLegacyMessage,
                         "decrypt_prekey_message: a version-3 (X3DH) prekey message, and "
                         "post-quantum sessions are required");
          auto used_v4 = person_used_v4(store, remote.name);
          if (!used_v4) return used_v4.error();
          if (*used_v4)
            return Error(Errc::kLegacyMessage,
                         "decrypt_prekey_message: a version-3 (X3DH) prekey message from a "
                         "person who already has post-quantum sessions with us (a downgrade)");
        }

        // A new session: X3DH or PQXDH as responder (wire spec §3 step 3; v4 spec §2.4).
        std::optional<KyberPreKeyRecord> kyber;
        if (pq) {
          auto loaded_kyber = store.load_kyber_pre_key(*message.kyber_pre_key_id());
          if (!loaded_kyber) return loaded_kyber.error();
          if (!*loaded_kyber)
            return Error(Errc::kInvalidKeyId,
                         "decrypt_prekey_message: unknown or used Kyber prekey");
          kyber = std::move(**loaded_kyber);
          if (kyber->last_resort) {
            auto replay = store.has_last_resort_use(kyber->id, message.signed_pre_key_id(),
                                                    message.base_key());
            if (!replay) return replay.error();
            if (*replay)
              return Error(Errc::kDuplicateMessage,
                           "decrypt_prekey_message: last-resort Kyber prekey replay");
          }
        }
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
        std::optional<SessionState> state;
        if (pq) {
          auto bob = internal::initialize_bob_pqxdh(crypto.hmac, params, kyber->secret_key.expose(),
                                                    message.kyber_ciphertext());
          if (!bob) return bob.error();
          // SPQR runs before the MAC, and the message's identity key is not authenticated yet:
          // an unlimited "note-to-self" jump would let a forged message in our own name make us
          // derive billions of chain keys (under the store's lock). So the limit always holds.
          auto spqr = pq::spqr_initial_state(bob->spqr_seed, pq::SpqrRole::kResponder,
                                             /*self_session=*/false);
          if (!spqr) return spqr.error();
          bob->state.spqr = std::move(*spqr);
          state.emplace(std::move(bob->state));
        } else {
          auto x3dh = internal::initialize_bob_session(crypto.hmac, params);
          if (!x3dh) return x3dh.error();
          state.emplace(std::move(*x3dh));
        }
        state->remote_registration_id = message.registration_id();
        state->local_registration_id = *local_registration_id;

        auto plan = internal::plan_decrypt(crypto, ctx.random, *state, message.message(), check);
        if (!plan) return plan.error();
        // Authenticated: the sender holds the identity key the message names. Only now may it
        // count as an identity change.
        HUSH_TRY(check_identity(store, remote, message.identity_key(), Direction::kReceiving,
                                "decrypt_prekey_message: untrusted identity"));
        SecretBytes plaintext = internal::apply(*state, std::move(*plan));
        data.promote(std::move(*state));

        HUSH_TRY(run_hook(options, plaintext));
        HUSH_TRY(save_identity_if_new(store, remote, message.identity_key()));
        if (message.pre_key_id() && *message.pre_key_id() != kLastResortPreKeyId)
          HUSH_TRY(store.remove_pre_key(*message.pre_key_id()));
        // libsignal's markKyberPreKeyUsed: a one-time Kyber prekey goes, a last-resort one stays
        // with the use recorded (a replay of the triple is refused above).
        if (kyber && kyber->last_resort)
          HUSH_TRY(store.record_last_resort_use(kyber->id, message.signed_pre_key_id(),
                                                message.base_key()));
        else if (kyber)
          HUSH_TRY(store.remove_kyber_pre_key(kyber->id));
        HUSH_TRY(store.record_accepted_base_key(message.signed_pre_key_id(), message.base_key()));
        HUSH_TRY(store.store_session(remote, std::move(*record)));
        return plaintext;
      }));
}

Result<SecretBytes> decrypt_signal_message(const Context& ctx, ProtocolStore& store,
                                           const Address& remote, const SignalMessage& message,
                                           const DecryptOptions& options) {
  return logged(
      ctx, "decrypt_signal_message", remote,
      transact<SecretBytes>(store, [&]() -> Result<SecretBytes> {
        auto loaded = store.load_session(remote);
        if (!loaded) return loaded.error();
        if (!*loaded) return Error(Errc::kNoSession, "decrypt_signal_message: no session");
        SessionRecord& record = **loaded;
        RecordData& data = RecordAccess::data(record);
        if (!data.current && data.previous.empty())
          return Error(Errc::kNoSession, "decrypt_signal_message: no session state");
        internal::crypto::Crypto crypto;
        auto trial = try_states(crypto, ctx.random, data, message,
                                address_check(remote, options.local_address));
        if (!trial) return trial.error();
        Opened opened = commit_trial(data, std::move(*trial));
        HUSH_TRY(check_identity(store, remote, opened.remote_identity, Direction::kReceiving,
                                "decrypt_signal_message: untrusted identity"));
        HUSH_TRY(run_hook(options, opened.plaintext));
        HUSH_TRY(save_identity_if_new(store, remote, opened.remote_identity));
        HUSH_TRY(store.store_session(remote, std::move(record)));
        return std::move(opened.plaintext);
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
  if (const auto& current = RecordAccess::data(record).current;
      current && current->version == kPqProtocolVersion) {
    auto epoch = pq::spqr_epoch(current->spqr.expose());
    if (!epoch) return epoch.error();
    info.spqr_epoch = *epoch;
  }
  info.has_unacknowledged_prekey = record.has_unacknowledged_prekey();
  info.previous_states = record.previous_state_count();
  info.remote_identity = record.remote_identity();
  info.remote_registration_id = record.remote_registration_id();
  return info;
}

Status trust_identity(ProtocolStore& store, std::string_view name, const IdentityKey& identity) {
  return store.run_transaction([&]() -> Status {
    auto saved = store.save_identity(name, identity);
    if (!saved) return saved.error();
    auto devices = store.session_devices(name);
    if (!devices) return devices.error();
    for (DeviceId device : *devices) {
      const Address address{std::string(name), device};
      auto loaded = store.load_session(address);
      if (!loaded) return loaded.error();
      if (!*loaded) continue;
      RecordData& data = RecordAccess::data(**loaded);
      if (!data.current || data.current->remote_identity == identity) continue;
      data.close_current();
      HUSH_TRY(store.store_session(address, std::move(**loaded)));
    }
    return ok_status();
  });
}

Status reset_session(ProtocolStore& store, const Address& remote) {
  return store.run_transaction([&]() -> Status {
    auto loaded = store.load_session(remote);
    if (!loaded) return loaded.error();
    if (!*loaded || !RecordAccess::data(**loaded).current) return ok_status();
    RecordAccess::data(**loaded).close_current();
    return store.store_session(remote, std::move(**loaded));
  });
}

Result<PreKeyBundle> make_bundle(ProtocolStore& store, DeviceId device_id,
                                 SignedPreKeyId signed_pre_key_id,
                                 std::optional<PreKeyId> pre_key_id,
                                 std::optional<KyberPreKeyId> kyber_pre_key_id) {
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
  if (kyber_pre_key_id) {
    auto kk = store.load_kyber_pre_key(*kyber_pre_key_id);
    if (!kk) return kk.error();
    if (!*kk) return Error(Errc::kInvalidKeyId, "make_bundle: unknown Kyber prekey");
    bundle.kyber_pre_key_id = kyber_pre_key_id;
    bundle.kyber_pre_key = (*kk)->public_key;
    bundle.kyber_pre_key_signature = (*kk)->signature;
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

Result<std::vector<KyberPreKeyId>> replenish_kyber_pre_keys(const Context& ctx,
                                                            ProtocolStore& store,
                                                            std::uint32_t count, bool last_resort) {
  return transact<std::vector<KyberPreKeyId>>(store, [&]() -> Result<std::vector<KyberPreKeyId>> {
    auto first = store.next_kyber_pre_key_id();
    if (!first) return first.error();
    const std::uint64_t total = std::uint64_t{count} + (last_resort ? 1 : 0);
    if (to_uint(*first) == 0 || std::uint64_t{to_uint(*first)} + total - 1 > UINT32_MAX)
      return Error(Errc::kInvalidArgument,
                   "replenish_kyber_pre_keys: the Kyber prekey ids are exhausted");
    auto identity = store.identity_key_pair();
    if (!identity) return identity.error();
    std::vector<KyberPreKeyId> ids;
    ids.reserve(static_cast<std::size_t>(total));
    for (std::uint64_t i = 0; i < total; ++i) {
      const KyberPreKeyId id{static_cast<std::uint32_t>(to_uint(*first) + i)};
      auto k = generate_kyber_pre_key(ctx, *identity, id, last_resort && i + 1 == total);
      if (!k) return k.error();
      HUSH_TRY(store.store_kyber_pre_key(*k));
      ids.push_back(id);
    }
    return ids;
  });
}

}  // namespace hush
