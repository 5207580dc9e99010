// SPQR v1: the braid's transitions and the functional API of spqr.h (signal-v4-wire.md §4.5).
// Every call parses the state, works on that copy and serializes the result; an error returns no
// state, so the caller's old bytes stay valid (rule 1).
#include "pq/spqr.h"

#include <algorithm>
#include <optional>

#include <hush/limits.h>

#include "crypto/mlkem.h"
#include "pq/spqr_codec.h"
#include "pq/spqr_state.h"

namespace hush::pq {
namespace {

namespace crypto = internal::crypto;
using S = SpqrBraidState;
using T = SpqrMessageType;

// Clears everything the braid holds except its state and epoch.
void clear_fields(SpqrBraid& b) {
  b.dk = SecretBytes();
  b.ek_vector.clear();
  b.header.clear();
  b.send_payload.clear();
  b.send_next = 0;
  b.ct1.clear();
  b.received.clear();
  b.encaps.reset();
}

// The next chunk of what the state sends.
SpqrChunk next_chunk(SpqrBraid& b) {
  SpqrChunk c;
  c.index = static_cast<std::uint16_t>(b.send_next);  // a u16 on the wire: wraps after 65536
  ++b.send_next;
  c.data = erasure_chunk(b.send_payload, c.index);
  return c;
}

// Adds a received chunk (a repeated index is ignored); the payload once enough chunks are in.
std::optional<Bytes> receive_chunk(SpqrBraid& b, const SpqrChunk& c, std::size_t payload_size) {
  const bool held = std::any_of(b.received.begin(), b.received.end(),
                                [&](const SpqrChunk& h) { return h.index == c.index; });
  if (!held) b.received.push_back(c);
  if (b.received.size() < payload_size / kSpqrChunkSize) return std::nullopt;
  Bytes payload = erasure_decode(payload_size, b.received);
  b.received.clear();
  return payload;
}

// t-hat from an ML-KEM-768 decapsulation key (dk = dk_pke(1152) || ek(1184) || ...).
Bytes vector_of(const SecretBytes& dk) {
  const ByteView d = dk.expose();
  return Bytes(d.begin() + 1152, d.begin() + 1152 + crypto::kMlKem768VectorSize);
}

// encaps2 and the ciphertext MAC: the ct side moves to Ct2Sampled.
Status to_ct2_sampled(SpqrStateData& s, ByteView vector, ByteView ct1) {
  SpqrBraid& b = s.braid;
  auto ct2 = crypto::mlkem768_encaps2(vector, *b.encaps);
  if (!ct2) return Error(Errc::kInvalidMessage, "spqr: ML-KEM vector does not match its header");
  const auto mac = spqr_auth_mac_ciphertext(s.auth, b.epoch, ct1, *ct2);
  Bytes payload(ct2->begin(), ct2->end());
  payload.insert(payload.end(), mac.begin(), mac.end());
  clear_fields(b);
  b.state = S::kCt2Sampled;
  b.send_payload = std::move(payload);
  return ok_status();
}

Result<SpqrSend> do_send(SpqrStateData s, RandomSource& random) {
  SpqrBraid& b = s.braid;
  SpqrMessage m;
  std::optional<SecretArray<32>> secret;
  switch (b.state) {
    case S::kKeysUnsampled: {
      auto kp = crypto::mlkem_generate(crypto::MlKemParameterSet::kMlKem768, random);
      if (!kp) return kp.error();
      auto hdr = crypto::mlkem768_header(kp->encapsulation_key);
      if (!hdr) return Error(Errc::kCryptoFailure, "spqr: fresh ML-KEM key has no header");
      const auto mac = spqr_auth_mac_header(s.auth, b.epoch, *hdr);
      clear_fields(b);
      b.dk = std::move(kp->decapsulation_key);
      b.send_payload.assign(hdr->begin(), hdr->end());
      b.send_payload.insert(b.send_payload.end(), mac.begin(), mac.end());
      b.state = S::kKeysSampled;
      m.type = T::kHdr;
      m.chunk = next_chunk(b);
      break;
    }
    case S::kKeysSampled:
      m.type = T::kHdr;
      m.chunk = next_chunk(b);
      break;
    case S::kHeaderSent:
      m.type = T::kEk;
      m.chunk = next_chunk(b);
      break;
    case S::kCt1Received:
      m.type = T::kEkCt1Ack;
      m.chunk = next_chunk(b);
      break;
    case S::kEkSentCt1Received:
      m.type = T::kCt1Ack;
      break;
    case S::kNoHeaderReceived:
    case S::kCt1Acknowledged:
      break;
    case S::kHeaderReceived: {
      auto e = crypto::mlkem768_encaps1(random, b.header);
      if (!e) return e.error();
      secret = spqr_epoch_secret(e->shared_secret.expose(), b.epoch);
      spqr_auth_update(s.auth, b.epoch, secret->expose());
      clear_fields(b);
      b.encaps = std::move(e->state);
      b.send_payload.assign(e->ciphertext1.begin(), e->ciphertext1.end());
      b.state = S::kCt1Sampled;
      m.type = T::kCt1;
      m.chunk = next_chunk(b);
      break;
    }
    case S::kCt1Sampled:
    case S::kEkReceivedCt1Sampled:
      m.type = T::kCt1;
      m.chunk = next_chunk(b);
      break;
    case S::kCt2Sampled:
      m.type = T::kCt2;
      m.chunk = next_chunk(b);
      break;
  }
  if (secret) {
    if (auto st = spqr_chain_add_epoch(s.chain, b.epoch, *secret); !st) return st.error();
  }
  auto key = spqr_chain_send_key(s.chain, b.epoch - 1);
  if (!key) return key.error();
  m.epoch = b.epoch;
  m.index = key->first;
  return SpqrSend{spqr_serialize_state(s), spqr_encode_message(m), std::move(key->second)};
}

Result<SpqrRecv> do_recv(SpqrStateData s, const SpqrMessage& m, std::uint64_t* steps_left) {
  SpqrBraid& b = s.braid;
  const bool same = m.epoch == b.epoch;
  if (m.epoch > b.epoch && !(b.state == S::kCt2Sampled && m.epoch == b.epoch + 1))
    return Error(Errc::kInvalidMessage, "spqr: message epoch ahead of this side");
  std::optional<SecretArray<32>> secret;
  std::uint64_t secret_epoch = b.epoch;
  switch (b.state) {
    case S::kKeysSampled:
      if (same && m.type == T::kCt1) {
        Bytes vector = vector_of(b.dk);
        b.received.clear();
        (void)receive_chunk(b, m.chunk, crypto::kMlKem768Ciphertext1Size);  // 1 of 30
        b.send_payload = std::move(vector);
        b.send_next = 0;
        b.state = S::kHeaderSent;
      }
      break;
    case S::kHeaderSent:
      if (same && m.type == T::kCt1) {
        if (auto ct1 = receive_chunk(b, m.chunk, crypto::kMlKem768Ciphertext1Size)) {
          b.ct1 = std::move(*ct1);
          b.state = S::kCt1Received;  // keeps sending t-hat, now as EkCt1Ack
        }
      }
      break;
    case S::kCt1Received:
      if (same && m.type == T::kCt2) {
        b.send_payload.clear();
        b.send_next = 0;
        b.received.clear();
        (void)receive_chunk(b, m.chunk, crypto::kMlKem768Ciphertext2Size + 32);  // 1 of 5
        b.state = S::kEkSentCt1Received;
      }
      break;
    case S::kEkSentCt1Received:
      if (same && m.type == T::kCt2) {
        if (auto p = receive_chunk(b, m.chunk, crypto::kMlKem768Ciphertext2Size + 32)) {
          const ByteView payload(*p);
          const ByteView ct2 = payload.first(crypto::kMlKem768Ciphertext2Size);
          const ByteView mac = payload.subspan(crypto::kMlKem768Ciphertext2Size);
          Bytes ct(b.ct1);
          ct.insert(ct.end(), ct2.begin(), ct2.end());
          auto ss =
              crypto::mlkem_decapsulate(crypto::MlKemParameterSet::kMlKem768, b.dk.expose(), ct);
          if (!ss) return Error(Errc::kCorruptState, "spqr: decapsulation key unusable");
          secret = spqr_epoch_secret(ss->expose(), b.epoch);
          spqr_auth_update(s.auth, b.epoch, secret->expose());
          if (!constant_time_equals(spqr_auth_mac_ciphertext(s.auth, b.epoch, b.ct1, ct2), mac))
            return Error(Errc::kInvalidMessage, "spqr: ciphertext MAC does not verify");
          clear_fields(b);
          b.state = S::kNoHeaderReceived;
          b.epoch += 1;
        }
      }
      break;
    case S::kNoHeaderReceived:
      if (same && m.type == T::kHdr) {
        if (auto p = receive_chunk(b, m.chunk, crypto::kMlKem768HeaderSize + 32)) {
          const ByteView payload(*p);
          const ByteView hdr = payload.first(crypto::kMlKem768HeaderSize);
          if (!constant_time_equals(spqr_auth_mac_header(s.auth, b.epoch, hdr),
                                    payload.subspan(crypto::kMlKem768HeaderSize)))
            return Error(Errc::kInvalidMessage, "spqr: header MAC does not verify");
          clear_fields(b);
          b.header.assign(hdr.begin(), hdr.end());
          b.state = S::kHeaderReceived;
        }
      }
      break;
    case S::kCt1Sampled:
      if (same && (m.type == T::kEk || m.type == T::kEkCt1Ack)) {
        const bool ack = m.type == T::kEkCt1Ack;
        if (auto vector = receive_chunk(b, m.chunk, crypto::kMlKem768VectorSize)) {
          if (!spqr_vector_matches(*vector, *b.encaps))
            return Error(Errc::kInvalidMessage, "spqr: ML-KEM vector does not match its header");
          if (ack) {
            const Bytes ct1 = b.send_payload;
            if (auto st = to_ct2_sampled(s, *vector, ct1); !st) return st.error();
          } else {
            b.ek_vector = std::move(*vector);
            b.state = S::kEkReceivedCt1Sampled;
          }
        } else if (ack) {
          b.ct1 = std::move(b.send_payload);
          b.send_payload.clear();
          b.send_next = 0;
          b.state = S::kCt1Acknowledged;
        }
      }
      break;
    case S::kEkReceivedCt1Sampled:
      if (same && (m.type == T::kCt1Ack || m.type == T::kEkCt1Ack)) {
        const Bytes vector = b.ek_vector;
        const Bytes ct1 = b.send_payload;
        if (auto st = to_ct2_sampled(s, vector, ct1); !st) return st.error();
      }
      break;
    case S::kCt1Acknowledged:
      if (same && (m.type == T::kEk || m.type == T::kEkCt1Ack)) {
        if (auto vector = receive_chunk(b, m.chunk, crypto::kMlKem768VectorSize)) {
          if (!spqr_vector_matches(*vector, *b.encaps))
            return Error(Errc::kInvalidMessage, "spqr: ML-KEM vector does not match its header");
          const Bytes ct1 = b.ct1;
          if (auto st = to_ct2_sampled(s, *vector, ct1); !st) return st.error();
        }
      }
      break;
    case S::kCt2Sampled:
      if (m.epoch == b.epoch + 1) {
        clear_fields(b);
        b.state = S::kKeysUnsampled;
        b.epoch += 1;
      }
      break;
    case S::kKeysUnsampled:
    case S::kHeaderReceived:
      break;  // nothing to take in
  }
  if (secret) {
    if (auto st = spqr_chain_add_epoch(s.chain, secret_epoch, *secret); !st) return st.error();
  }
  auto key = spqr_chain_recv_key(s.chain, m.epoch - 1, m.index, steps_left);
  if (!key) return key.error();
  return SpqrRecv{spqr_serialize_state(s), std::move(*key)};
}

}  // namespace

Result<SecretBytes> spqr_initial_state(const SecretArray<32>& seed, SpqrRole role,
                                       bool self_session) {
  if (role != SpqrRole::kInitiator && role != SpqrRole::kResponder)
    return Error(Errc::kInvalidArgument, "spqr_initial_state: unknown role");
  const bool a2b = role == SpqrRole::kInitiator;
  SpqrStateData s;
  s.auth = spqr_auth_new(seed.expose());
  s.chain = spqr_chain_new(seed.expose(), a2b, self_session ? UINT32_MAX : kSpqrMaxJump);
  s.braid.state = a2b ? S::kKeysUnsampled : S::kNoHeaderReceived;
  s.braid.epoch = 1;
  return spqr_serialize_state(s);
}

Result<SpqrSend> spqr_send(ByteView state, RandomSource& random) {
  auto s = spqr_parse_state(state);
  if (!s) return s.error();
  return do_send(std::move(*s), random);
}

Result<SpqrRecv> spqr_recv(ByteView state, ByteView message, std::uint64_t* steps_left) {
  auto s = spqr_parse_state(state);
  if (!s) return s.error();
  auto m = spqr_decode_message(message);
  if (!m) return m.error();
  return do_recv(std::move(*s), *m, steps_left);
}

Result<std::uint64_t> spqr_epoch(ByteView state) {
  auto s = spqr_parse_state(state);
  if (!s) return s.error();
  return s->braid.epoch;
}

}  // namespace hush::pq
