// TEMPORARY: replaced by the full SPQR at merge (issue 12 item 4, branch h-spqr implements
// src/pq/spqr.h in full). Drop this file and its line in CMakeLists.txt (HUSH_SPQR_SOURCES).
//
// hush internal: a "lazy" SPQR v1 (signal-v4-wire.md §4.1 "LAZY"): only the epoch-0 symmetric chain
// of §4.4; every message sent says "epoch 1, index n, None" (01 01 <varint n> 00); the peer's braid
// payloads are parsed (well-formed v1 or refused) and ignored, but every message still takes the
// key of the epoch-0 chain at its index. libsignal 0.103 accepts such a peer in both roles (exp 07
// "LAZY"); its epochs never advance, so a session with this SPQR has no post-quantum
// post-compromise healing. spqr_epoch is always 1.
//
// State (serialized, parsed strictly): 'L' 0x01 | role | self | send ctr (u32 BE) | send next (32)
// | recv ctr (u32 BE) | recv next (32) | count (u16 BE) | count x (index u32 BE | key 32),
// ascending.
#include <algorithm>
#include <array>
#include <cstring>
#include <string_view>
#include <vector>

#include "crypto/kdf.h"
#include "pq/spqr.h"

namespace hush::pq {

namespace {

constexpr std::uint8_t kMagic = 'L';
constexpr std::uint8_t kFormat = 1;
// Receive limits of libsignal's chain (spec §4.4): a forward jump of at most 25,000 (unlimited for
// a note-to-self session), and out-of-order keys kept back to ctr - 2000.
constexpr std::uint32_t kMaxJump = 25000;
constexpr std::uint32_t kMaxOutOfOrder = 2000;
constexpr std::size_t kFixedSize = 4 + 4 + 32 + 4 + 32 + 2;
constexpr std::size_t kEntrySize = 4 + 32;

struct Chain {
  std::uint32_t ctr = 0;
  SecretArray<32> next;
};

struct Kept {
  std::uint32_t index = 0;
  SpqrKey key;
};

struct State {
  SpqrRole role = SpqrRole::kInitiator;
  bool self_session = false;
  Chain send;
  Chain recv;
  std::vector<Kept> kept;  // ascending by index
};

void put_u32(Bytes& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8)
    out.push_back(static_cast<std::uint8_t>(v >> s));
}

std::uint32_t get_u32(ByteView in) {
  return static_cast<std::uint32_t>(in[0]) << 24 | static_cast<std::uint32_t>(in[1]) << 16 |
         static_cast<std::uint32_t>(in[2]) << 8 | static_cast<std::uint32_t>(in[3]);
}

Bytes serialize(const State& s) {
  Bytes out;
  out.reserve(kFixedSize + s.kept.size() * kEntrySize);
  out.push_back(kMagic);
  out.push_back(kFormat);
  out.push_back(static_cast<std::uint8_t>(s.role));
  out.push_back(s.self_session ? 1 : 0);
  for (const Chain* c : {&s.send, &s.recv}) {
    put_u32(out, c->ctr);
    out.insert(out.end(), c->next.expose().begin(), c->next.expose().end());
  }
  out.push_back(static_cast<std::uint8_t>(s.kept.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(s.kept.size()));
  for (const Kept& k : s.kept) {
    put_u32(out, k.index);
    out.insert(out.end(), k.key.expose().begin(), k.key.expose().end());
  }
  return out;
}

Result<State> parse(ByteView in) {
  const Error corrupt(Errc::kCorruptState, "SPQR (lazy): state");
  if (in.size() < kFixedSize || in[0] != kMagic || in[1] != kFormat) return corrupt;
  State s;
  if (in[2] != static_cast<std::uint8_t>(SpqrRole::kInitiator) &&
      in[2] != static_cast<std::uint8_t>(SpqrRole::kResponder))
    return corrupt;
  s.role = static_cast<SpqrRole>(in[2]);
  if (in[3] > 1) return corrupt;
  s.self_session = in[3] == 1;
  std::size_t at = 4;
  for (Chain* c : {&s.send, &s.recv}) {
    c->ctr = get_u32(in.subspan(at));
    SecretArray<32>::from(in.subspan(at + 4, 32), c->next);
    at += 36;
  }
  const std::size_t count = static_cast<std::size_t>(in[at]) << 8 | in[at + 1];
  at += 2;
  if (count > kMaxOutOfOrder || in.size() != kFixedSize + count * kEntrySize) return corrupt;
  s.kept.reserve(count);
  for (std::size_t i = 0; i < count; ++i, at += kEntrySize) {
    Kept k;
    k.index = get_u32(in.subspan(at));
    // Ascending, at least 1, behind the chain.
    if (k.index == 0 || k.index >= s.recv.ctr || (i > 0 && k.index <= s.kept.back().index))
      return corrupt;
    SecretArray<32>::from(in.subspan(at + 4, 32), k.key);
    s.kept.push_back(std::move(k));
  }
  return s;
}

// One step of a chain (spec §4.4): ctr += 1; h = HKDF(salt 0, ikm next, BE32(ctr) || label, 64).
SpqrKey take(Chain& c) {
  constexpr std::string_view kLabel = "Signal PQ Ratchet V1 Chain Next";
  c.ctr += 1;
  std::array<std::uint8_t, 4 + kLabel.size()> info{};
  info[0] = static_cast<std::uint8_t>(c.ctr >> 24);
  info[1] = static_cast<std::uint8_t>(c.ctr >> 16);
  info[2] = static_cast<std::uint8_t>(c.ctr >> 8);
  info[3] = static_cast<std::uint8_t>(c.ctr);
  std::memcpy(info.data() + 4, kLabel.data(), kLabel.size());
  SecretArray<64> h;
  internal::crypto::HmacSha256 hmac;
  internal::crypto::hkdf_sha256(hmac, c.next.expose(), {}, info, h.expose_mut());
  SpqrKey key;
  SecretArray<32>::from(h.expose().first(32), c.next);
  SecretArray<32>::from(h.expose().subspan(32, 32), key);
  return key;
}

void put_varint(Bytes& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(v));
}

bool get_varint(ByteView in, std::size_t& at, std::uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (at >= in.size()) return false;
    const std::uint8_t b = in[at++];
    v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

}  // namespace

Result<Bytes> spqr_initial_state(const SecretArray<32>& seed, SpqrRole role, bool self_session) {
  // g = HKDF(salt 0, ikm seed, "Signal PQ Ratchet V1 Chain  Start" (two spaces), 96):
  // next_root | A2B seed | B2A seed. The lazy variant never adds an epoch, so next_root is unused.
  constexpr std::string_view kStart = "Signal PQ Ratchet V1 Chain  Start";
  SecretArray<96> g;
  internal::crypto::HmacSha256 hmac;
  internal::crypto::hkdf_sha256(hmac, seed.expose(), {}, as_bytes(kStart), g.expose_mut());
  State s;
  s.role = role;
  s.self_session = self_session;
  const ByteView a2b = g.expose().subspan(32, 32);
  const ByteView b2a = g.expose().subspan(64, 32);
  SecretArray<32>::from(role == SpqrRole::kInitiator ? a2b : b2a, s.send.next);
  SecretArray<32>::from(role == SpqrRole::kInitiator ? b2a : a2b, s.recv.next);
  return serialize(s);
}

Result<SpqrSend> spqr_send(ByteView state, RandomSource&) {
  auto s = parse(state);
  if (!s) return s.error();
  if (s->send.ctr == UINT32_MAX) return Error(Errc::kLimitExceeded, "SPQR (lazy): chain exhausted");
  SpqrKey key = take(s->send);
  Bytes message{0x01, 0x01};  // version V1, epoch 1
  put_varint(message, s->send.ctr);
  message.push_back(0x00);  // None
  return SpqrSend{serialize(*s), std::move(message), std::move(key)};
}

Result<SpqrRecv> spqr_recv(ByteView state, ByteView message) {
  auto s = parse(state);
  if (!s) return s.error();
  // 0x01 | varint epoch | varint index | type [| varint chunk index (<= 65535) | chunk (32)]
  if (message.empty() || message[0] != 0x01)
    return Error(Errc::kInvalidMessage, "SPQR: not a version-1 message");
  std::size_t at = 1;
  std::uint64_t epoch = 0, index = 0;
  if (!get_varint(message, at, epoch) || !get_varint(message, at, index) || at >= message.size())
    return Error(Errc::kInvalidMessage, "SPQR: truncated message");
  const std::uint8_t type = message[at++];
  if (type > 6) return Error(Errc::kInvalidMessage, "SPQR: unknown message type");
  if (type != 0 && type != 4) {
    std::uint64_t chunk = 0;
    if (!get_varint(message, at, chunk) || chunk > 65535 || message.size() - at < 32)
      return Error(Errc::kInvalidMessage, "SPQR: truncated chunk");
  }
  // Only epoch 1 exists here (the braid never completes an epoch with a lazy peer).
  if (epoch != 1) return Error(Errc::kInvalidMessage, "SPQR (lazy): epoch out of range");
  if (index == 0 || index > UINT32_MAX) return Error(Errc::kInvalidMessage, "SPQR: index");
  const auto idx = static_cast<std::uint32_t>(index);
  if (idx <= s->recv.ctr) {
    auto it =
        std::find_if(s->kept.begin(), s->kept.end(), [&](const Kept& k) { return k.index == idx; });
    if (it == s->kept.end())
      return Error(Errc::kDuplicateMessage, "SPQR: key already taken or dropped");
    SpqrKey key = std::move(it->key);
    s->kept.erase(it);
    return SpqrRecv{serialize(*s), std::move(key)};
  }
  if (!s->self_session && idx - s->recv.ctr > kMaxJump)
    return Error(Errc::kTooFarInFuture, "SPQR: index too far ahead");
  // Keep the keys skipped over, back to idx - kMaxOutOfOrder (older ones are dropped).
  const std::uint32_t oldest = idx > kMaxOutOfOrder ? idx - kMaxOutOfOrder : 1;
  if (s->recv.ctr + 1 < oldest) {
    // Jump the chain to just before the oldest key kept, deriving (not keeping) the ones between.
    while (s->recv.ctr + 1 < oldest)
      (void)take(s->recv);
  }
  while (s->recv.ctr + 1 < idx) {
    SpqrKey k = take(s->recv);
    s->kept.push_back(Kept{s->recv.ctr, std::move(k)});
  }
  SpqrKey key = take(s->recv);
  // Drop what is now more than kMaxOutOfOrder behind.
  auto first_kept = std::find_if(s->kept.begin(), s->kept.end(),
                                 [&](const Kept& k) { return k.index >= oldest; });
  s->kept.erase(s->kept.begin(), first_kept);
  if (s->kept.size() > kMaxOutOfOrder)
    s->kept.erase(s->kept.begin(),
                  s->kept.begin() + static_cast<std::ptrdiff_t>(s->kept.size() - kMaxOutOfOrder));
  return SpqrRecv{serialize(*s), std::move(key)};
}

Result<std::uint64_t> spqr_epoch(ByteView state) {
  auto s = parse(state);
  if (!s) return s.error();
  return std::uint64_t{1};
}

}  // namespace hush::pq
