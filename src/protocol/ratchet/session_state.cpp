// hush internal: session states and records, and their storage form (see session_state.h).
#include "protocol/ratchet/session_state.h"

#include <algorithm>

#include <hush/limits.h>

#include "pq/spqr.h"
#include "proto_util.h"
#include "storage.pb.h"

namespace hush::internal {

SessionState SessionState::clone() const {
  SessionState out;
  out.version = version;
  out.local_identity = local_identity;
  out.remote_identity = remote_identity;
  out.root_key = root_key.clone();
  out.previous_counter = previous_counter;
  out.sender_chain = sender_chain.clone();
  out.receiver_chains.reserve(receiver_chains.size());
  for (const auto& c : receiver_chains)
    out.receiver_chains.push_back(c.clone());
  out.pending_pre_key = pending_pre_key;
  out.remote_registration_id = remote_registration_id;
  out.local_registration_id = local_registration_id;
  out.alice_base_key = alice_base_key;
  out.closed = closed;
  out.spqr = spqr.clone();
  return out;
}

const ReceiverChain* SessionState::find_receiver_chain(const PublicKey& ratchet_key) const {
  for (const auto& c : receiver_chains)
    if (c.ratchet_key == ratchet_key) return &c;
  return nullptr;
}

ReceiverChain* SessionState::find_receiver_chain(const PublicKey& ratchet_key) {
  for (auto& c : receiver_chains)
    if (c.ratchet_key == ratchet_key) return &c;
  return nullptr;
}

RecordData RecordData::clone() const {
  RecordData out;
  if (current) out.current = current->clone();
  for (const auto& s : previous)
    out.previous.push_back(s.clone());
  out.retired_base_keys = retired_base_keys;
  return out;
}

void RecordData::archive_current() {
  if (!current) return;
  previous.insert(previous.begin(), std::move(*current));
  current.reset();
  while (previous.size() > kMaxArchivedStates) {
    // Remember the dropped session's base key: a replay of its prekey message must not set it
    // up again (only responder states have one).
    if (previous.back().alice_base_key)
      retired_base_keys.push_back(*previous.back().alice_base_key);
    previous.pop_back();
  }
  if (retired_base_keys.size() > kMaxRetiredBaseKeys)
    retired_base_keys.erase(
        retired_base_keys.begin(),
        retired_base_keys.begin() +
            static_cast<std::ptrdiff_t>(retired_base_keys.size() - kMaxRetiredBaseKeys));
}

void RecordData::close_current() {
  if (!current) return;
  current->closed = true;
  archive_current();
}

bool RecordData::retired(const PublicKey& base_key) const {
  return std::any_of(retired_base_keys.begin(), retired_base_keys.end(),
                     [&](const PublicKey& k) { return k == base_key; });
}

void RecordData::promote(SessionState state) {
  archive_current();
  current = std::move(state);
}

bool RecordData::has_state_with_base_key(std::uint32_t version, const PublicKey& base_key) const {
  auto matches = [&](const SessionState& s) {
    return s.version == version && s.alice_base_key && *s.alice_base_key == base_key;
  };
  if (current && matches(*current)) return true;
  return std::any_of(previous.begin(), previous.end(), matches);
}

// ---- storage form ----

namespace {

Error corrupt(const char* where) {
  return Error(Errc::kCorruptState, where);
}

bool read_key(const std::string& field, PublicKey& out) {
  std::array<std::uint8_t, 32> u{};
  if (!read_fixed(field, u)) return false;
  out = PublicKey::from_u(u);
  return true;
}

std::string key_field(const PublicKey& k) {
  return to_field(k.u());
}

Result<ChainKey> read_chain_key(const std::string& key, std::uint32_t index) {
  ChainKey ck;
  if (!read_secret(key, ck.key)) return corrupt("session: chain key length");
  ck.index = index;
  return ck;
}

}  // namespace

void SessionState::to_proto(storage::SessionState& out) const {
  out.set_session_version(version);
  out.set_local_identity(key_field(local_identity));
  out.set_remote_identity(key_field(remote_identity));
  out.set_root_key(to_field(root_key.expose()));
  out.set_previous_counter(previous_counter);
  auto* sc = out.mutable_sender_chain();
  sc->set_ratchet_public(key_field(sender_chain.ratchet_public));
  sc->set_ratchet_private(to_field(sender_chain.ratchet_private.expose()));
  sc->set_chain_index(sender_chain.chain_key.index);
  sc->set_chain_key(to_field(sender_chain.chain_key.key.expose()));
  for (const auto& c : receiver_chains) {
    auto* rc = out.add_receiver_chains();
    rc->set_ratchet_key(key_field(c.ratchet_key));
    rc->set_chain_index(c.chain_key.index);
    rc->set_chain_key(to_field(c.chain_key.key.expose()));
    if (!c.skipped.empty()) {
      rc->mutable_skipped_counters()->Add(c.skipped.counters().begin(), c.skipped.counters().end());
      rc->set_skipped_seeds(to_field(c.skipped.seeds()));
    }
  }
  if (pending_pre_key) {
    auto* p = out.mutable_pending_pre_key();
    if (pending_pre_key->pre_key_id) p->set_pre_key_id(to_uint(*pending_pre_key->pre_key_id));
    p->set_signed_pre_key_id(to_uint(pending_pre_key->signed_pre_key_id));
    p->set_base_key(key_field(pending_pre_key->base_key));
    if (pending_pre_key->timestamp_ms != 0) p->set_timestamp_ms(pending_pre_key->timestamp_ms);
    if (pending_pre_key->kyber_pre_key_id) {
      p->set_kyber_pre_key_id(to_uint(*pending_pre_key->kyber_pre_key_id));
      p->set_kyber_ciphertext(to_field(pending_pre_key->kyber_ciphertext));
    }
  }
  out.set_remote_registration_id(remote_registration_id);
  out.set_local_registration_id(local_registration_id);
  if (alice_base_key) out.set_alice_base_key(key_field(*alice_base_key));
  if (closed) out.set_closed(true);
  if (version == 4) out.set_spqr_state(to_field(spqr.expose()));
}

Result<SessionState> SessionState::from_proto(const storage::SessionState& in) {
  SessionState s;
  if (!in.has_session_version() || (in.session_version() != 3 && in.session_version() != 4))
    return corrupt("session: unsupported session version");
  s.version = in.session_version();
  if (!read_key(in.local_identity(), s.local_identity)) return corrupt("session: local identity");
  if (!read_key(in.remote_identity(), s.remote_identity))
    return corrupt("session: remote identity");
  if (!read_secret(in.root_key(), s.root_key)) return corrupt("session: root key");
  s.previous_counter = in.previous_counter();

  if (!in.has_sender_chain()) return corrupt("session: sender chain missing");
  const auto& sc = in.sender_chain();
  if (!read_key(sc.ratchet_public(), s.sender_chain.ratchet_public))
    return corrupt("session: sender ratchet key");
  if (!read_secret(sc.ratchet_private(), s.sender_chain.ratchet_private))
    return corrupt("session: sender ratchet private key");
  auto sender_ck = read_chain_key(sc.chain_key(), sc.chain_index());
  if (!sender_ck) return sender_ck.error();
  s.sender_chain.chain_key = std::move(*sender_ck);

  if (static_cast<std::size_t>(in.receiver_chains_size()) > kMaxReceiverChains)
    return corrupt("session: too many receiver chains");
  s.receiver_chains.reserve(static_cast<std::size_t>(in.receiver_chains_size()));
  for (const auto& rc : in.receiver_chains()) {
    ReceiverChain c;
    if (!read_key(rc.ratchet_key(), c.ratchet_key)) return corrupt("session: receiver ratchet key");
    auto ck = read_chain_key(rc.chain_key(), rc.chain_index());
    if (!ck) return ck.error();
    c.chain_key = std::move(*ck);
    const auto n = static_cast<std::size_t>(rc.skipped_counters_size());
    if (n > kMaxSkippedKeysPerChain) return corrupt("session: too many skipped keys");
    if (rc.skipped_seeds().size() != n * 32) return corrupt("session: skipped key seeds");
    c.skipped.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint32_t counter = rc.skipped_counters(static_cast<int>(i));
      // Ascending and behind the chain: the lookup and the oldest-first drop rely on it.
      if (counter >= c.chain_key.index || (i > 0 && counter <= c.skipped.counter(i - 1)))
        return corrupt("session: skipped key order");
      c.skipped.push_back(counter, as_bytes(rc.skipped_seeds()).subspan(i * 32, 32));
    }
    s.receiver_chains.push_back(std::move(c));
  }

  if (in.has_pending_pre_key()) {
    const auto& p = in.pending_pre_key();
    PendingPreKey pending;
    if (p.has_pre_key_id()) pending.pre_key_id = PreKeyId{p.pre_key_id()};
    if (!p.has_signed_pre_key_id()) return corrupt("session: pending signed prekey id");
    pending.signed_pre_key_id = SignedPreKeyId{p.signed_pre_key_id()};
    if (!read_key(p.base_key(), pending.base_key)) return corrupt("session: pending base key");
    pending.timestamp_ms = p.timestamp_ms();
    // Version 4 sessions were set up with PQXDH: the Kyber fields come together, in v4 only.
    if (p.has_kyber_pre_key_id() != p.has_kyber_ciphertext() ||
        p.has_kyber_pre_key_id() != (s.version == 4))
      return corrupt("session: pending Kyber prekey");
    if (p.has_kyber_pre_key_id()) {
      if (p.kyber_ciphertext().size() != 1569) return corrupt("session: pending Kyber ciphertext");
      pending.kyber_pre_key_id = KyberPreKeyId{p.kyber_pre_key_id()};
      pending.kyber_ciphertext.assign(p.kyber_ciphertext().begin(), p.kyber_ciphertext().end());
    }
    s.pending_pre_key = std::move(pending);
  }
  s.remote_registration_id = in.remote_registration_id();
  s.local_registration_id = in.local_registration_id();
  if (in.has_alice_base_key()) {
    PublicKey k;
    if (!read_key(in.alice_base_key(), k)) return corrupt("session: base key");
    s.alice_base_key = k;
  }
  s.closed = in.closed();
  if (in.has_spqr_state() != (s.version == 4)) return corrupt("session: SPQR state");
  if (s.version == 4) {
    // Bounded, and it must parse (SPQR checks its own state strictly).
    if (in.spqr_state().size() > kMaxSpqrStateBytes) return corrupt("session: SPQR state size");
    if (!pq::spqr_epoch(as_bytes(in.spqr_state()))) return corrupt("session: SPQR state");
    s.spqr = SecretBytes::copy_of(as_bytes(in.spqr_state()));
  }
  return s;
}

void wipe_secrets(storage::SessionState& state) {
  wipe(state.mutable_root_key());
  if (state.has_sender_chain()) {
    wipe(state.mutable_sender_chain()->mutable_ratchet_private());
    wipe(state.mutable_sender_chain()->mutable_chain_key());
  }
  for (auto& rc : *state.mutable_receiver_chains()) {
    wipe(rc.mutable_chain_key());
    wipe(rc.mutable_skipped_seeds());
  }
  wipe(state.mutable_spqr_state());
}

}  // namespace hush::internal
