// SPQR v1's state and its serialized form; see spqr_state.h.
#include "pq/spqr_state.h"

#include <algorithm>
#include <span>

#include <hush/limits.h>

#include "crypto/hash.h"

namespace hush::pq {
namespace {

using internal::crypto::kMlKem768Ciphertext1Size;
using internal::crypto::kMlKem768Ciphertext2Size;
using internal::crypto::kMlKem768HeaderSize;
using internal::crypto::kMlKem768VectorSize;
using internal::crypto::MlKemParameterSet;

constexpr std::uint8_t kFormat = 1;
constexpr std::size_t kDkSize = 2400;
constexpr std::size_t kEncapsSize = 128;
constexpr std::size_t kHdrPayload = kMlKem768HeaderSize + 32;
constexpr std::size_t kCt2Payload = kMlKem768Ciphertext2Size + 32;
// Far beyond any real session (an epoch takes tens of messages), far from overflowing.
constexpr std::uint64_t kMaxEpoch = std::uint64_t{1} << 62;

// Writes into a buffer sized beforehand (no reallocation, so no unwiped copy of the state is
// left behind), or, without one, only counts the bytes (the sizing pass).
class Writer {
 public:
  Writer() = default;
  explicit Writer(std::span<std::uint8_t> out) : out_(out), writing_(true) {}
  void u8(std::uint8_t v) { put(&v, 1); }
  void be(std::uint64_t v, unsigned n) {
    for (unsigned i = 0; i < n; ++i) {
      const auto b = static_cast<std::uint8_t>(v >> (8 * (n - 1 - i)));
      put(&b, 1);
    }
  }
  void bytes(ByteView b) { put(b.data(), b.size()); }
  std::size_t size() const { return pos_; }

 private:
  void put(const std::uint8_t* p, std::size_t n) {
    if (writing_) std::copy_n(p, n, out_.subspan(pos_, n).begin());
    pos_ += n;
  }
  std::span<std::uint8_t> out_;
  bool writing_ = false;
  std::size_t pos_ = 0;
};

class Reader {
 public:
  explicit Reader(ByteView in) : in_(in) {}
  bool be(std::uint64_t& v, unsigned n) {
    if (in_.size() - pos_ < n) return false;
    v = 0;
    for (unsigned i = 0; i < n; ++i)
      v = (v << 8) | in_[pos_++];
    return true;
  }
  bool bytes(std::size_t n, ByteView& out) {
    if (in_.size() - pos_ < n) return false;
    out = in_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  bool done() const { return pos_ == in_.size(); }

 private:
  ByteView in_;
  std::size_t pos_ = 0;
};

Error corrupt(const char* where) {
  return Error(Errc::kCorruptState, where);
}

void write_dir(Writer& w, const SpqrChainDir& d) {
  w.be(d.ctr, 4);
  w.bytes(d.next.expose());
  w.be(d.prev.size(), 2);
  for (const auto& e : d.prev) {
    w.be(e.index, 4);
    w.bytes(e.key.expose());
  }
}

Status read_dir(Reader& r, SpqrChainDir& d) {
  std::uint64_t v = 0;
  ByteView b;
  if (!r.be(v, 4)) return corrupt("spqr state: truncated chain");
  d.ctr = static_cast<std::uint32_t>(v);
  if (!r.bytes(32, b)) return corrupt("spqr state: truncated chain");
  (void)SecretArray<32>::from(b, d.next);
  if (!r.be(v, 2)) return corrupt("spqr state: truncated chain");
  if (v >= kSpqrKeyTrimSize) return corrupt("spqr state: too many skipped keys");
  d.prev.resize(static_cast<std::size_t>(v));
  std::vector<std::uint32_t> seen;
  seen.reserve(d.prev.size());
  for (auto& e : d.prev) {
    if (!r.be(v, 4) || !r.bytes(32, b)) return corrupt("spqr state: truncated skipped key");
    if (v == 0 || v >= d.ctr) return corrupt("spqr state: skipped key not below the counter");
    e.index = static_cast<std::uint32_t>(v);
    (void)SecretArray<32>::from(b, e.key);
    seen.push_back(e.index);
  }
  std::sort(seen.begin(), seen.end());
  if (std::adjacent_find(seen.begin(), seen.end()) != seen.end())
    return corrupt("spqr state: skipped key twice");
  return ok_status();
}

}  // namespace

SpqrStateLayout spqr_layout(SpqrBraidState s) noexcept {
  SpqrStateLayout l;
  switch (s) {
    case SpqrBraidState::kKeysUnsampled:
      break;
    case SpqrBraidState::kKeysSampled:
      l.dk = true;
      l.send_size = kHdrPayload;
      break;
    case SpqrBraidState::kHeaderSent:
      l.dk = true;
      l.send_size = kMlKem768VectorSize;
      l.receive_size = kMlKem768Ciphertext1Size;
      break;
    case SpqrBraidState::kCt1Received:
      l.dk = true;
      l.ct1 = true;
      l.send_size = kMlKem768VectorSize;
      break;
    case SpqrBraidState::kEkSentCt1Received:
      l.dk = true;
      l.ct1 = true;
      l.receive_size = kCt2Payload;
      break;
    case SpqrBraidState::kNoHeaderReceived:
      l.receive_size = kHdrPayload;
      break;
    case SpqrBraidState::kHeaderReceived:
      l.header = true;
      break;
    case SpqrBraidState::kCt1Sampled:
      l.encaps = true;
      l.send_size = kMlKem768Ciphertext1Size;
      l.receive_size = kMlKem768VectorSize;
      break;
    case SpqrBraidState::kEkReceivedCt1Sampled:
      l.ek_vector = true;
      l.encaps = true;
      l.send_size = kMlKem768Ciphertext1Size;
      break;
    case SpqrBraidState::kCt1Acknowledged:
      l.encaps = true;
      l.ct1 = true;
      l.receive_size = kMlKem768VectorSize;
      break;
    case SpqrBraidState::kCt2Sampled:
      l.send_size = kCt2Payload;
      break;
  }
  return l;
}

bool spqr_vector_matches(ByteView vector, const internal::crypto::MlKem768EncapsState& encaps) {
  if (vector.size() != kMlKem768VectorSize) return false;
  const auto e = encaps.bytes.expose();
  Bytes ek(vector.begin(), vector.end());
  ek.insert(ek.end(), e.begin() + 64, e.begin() + 96);  // rho
  if (!internal::crypto::mlkem_check_encapsulation_key(MlKemParameterSet::kMlKem768, ek))
    return false;
  const auto h = internal::crypto::sha3_256(ek);
  return constant_time_equals(h, e.subspan(96, 32));
}

namespace {

void write_state(Writer& w, const SpqrStateData& s) {
  w.u8(kFormat);
  w.u8(s.chain.a2b ? 1 : 0);
  w.be(s.chain.max_jump, 4);
  w.bytes(s.auth.root.expose());
  w.bytes(s.auth.mac.expose());
  const SpqrBraid& b = s.braid;
  const SpqrStateLayout l = spqr_layout(b.state);
  w.u8(static_cast<std::uint8_t>(b.state));
  w.be(b.epoch, 8);
  if (l.dk) w.bytes(b.dk.expose());
  if (l.ek_vector) w.bytes(b.ek_vector);
  if (l.header) w.bytes(b.header);
  if (l.send_size != 0) {
    w.bytes(b.send_payload);
    w.be(b.send_next, 4);
  }
  if (l.ct1) w.bytes(b.ct1);
  if (l.receive_size != 0) {
    w.u8(static_cast<std::uint8_t>(b.received.size()));
    for (const auto& c : b.received) {
      w.be(c.index, 2);
      w.bytes(c.data);
    }
  }
  if (l.encaps) w.bytes(b.encaps->bytes.expose());
  w.be(s.chain.current_epoch, 8);
  w.bytes(s.chain.next_root.expose());
  w.u8(static_cast<std::uint8_t>(s.chain.links.size()));
  for (const auto& link : s.chain.links) {
    write_dir(w, link.send);
    write_dir(w, link.recv);
  }
}

}  // namespace

SecretBytes spqr_serialize_state(const SpqrStateData& s) {
  Writer sizing;
  write_state(sizing, s);
  SecretBytes out(sizing.size());
  Writer w(out.expose_mut());
  write_state(w, s);
  return out;
}

Result<SpqrStateData> spqr_parse_state(ByteView bytes) {
  if (bytes.size() > kMaxSpqrStateBytes) return corrupt("spqr state: too large");
  Reader r(bytes);
  SpqrStateData s;
  std::uint64_t v = 0;
  ByteView f;
  if (!r.be(v, 1) || v != kFormat) return corrupt("spqr state: unknown format");
  if (!r.be(v, 1) || v > 1) return corrupt("spqr state: bad direction");
  s.chain.a2b = v == 1;
  if (!r.be(v, 4) || (v != kSpqrMaxJump && v != UINT32_MAX))
    return corrupt("spqr state: bad jump limit");
  s.chain.max_jump = static_cast<std::uint32_t>(v);
  if (!r.bytes(32, f)) return corrupt("spqr state: truncated");
  (void)SecretArray<32>::from(f, s.auth.root);
  if (!r.bytes(32, f)) return corrupt("spqr state: truncated");
  (void)SecretArray<32>::from(f, s.auth.mac);

  SpqrBraid& b = s.braid;
  if (!r.be(v, 1) || v < 1 || v > 11) return corrupt("spqr state: unknown braid state");
  b.state = static_cast<SpqrBraidState>(v);
  if (!r.be(v, 8) || v < 1 || v > kMaxEpoch) return corrupt("spqr state: bad epoch");
  b.epoch = v;
  // The initiator owns the key in odd epochs, the responder in even ones.
  if (spqr_is_ek_side(b.state) != (s.chain.a2b == (b.epoch % 2 == 1)))
    return corrupt("spqr state: braid side does not fit role and epoch");
  const SpqrStateLayout l = spqr_layout(b.state);
  if (l.dk) {
    if (!r.bytes(kDkSize, f)) return corrupt("spqr state: truncated");
    // Only the size here: the state is parsed on every message, and FIPS 203's hash check of dk
    // (SHA3-256 over its 1184-byte ek, 15 % of a version-4 message's instructions) runs where
    // the key is used, in mlkem_decapsulate (a damaged key is kCorruptState there, spqr.cpp).
    // Until then a damaged dk can only spoil the ek chunks it sends, which the peer checks
    // against the MACed header (the braid stalls; nothing else reads dk).
    b.dk = SecretBytes::copy_of(f);
  }
  if (l.ek_vector) {
    if (!r.bytes(kMlKem768VectorSize, f)) return corrupt("spqr state: truncated");
    b.ek_vector.assign(f.begin(), f.end());
  }
  if (l.header) {
    if (!r.bytes(kMlKem768HeaderSize, f)) return corrupt("spqr state: truncated");
    b.header.assign(f.begin(), f.end());
  }
  if (l.send_size != 0) {
    if (!r.bytes(l.send_size, f) || !r.be(v, 4)) return corrupt("spqr state: truncated");
    b.send_payload.assign(f.begin(), f.end());
    b.send_next = static_cast<std::uint32_t>(v);
  }
  if (l.ct1) {
    if (!r.bytes(kMlKem768Ciphertext1Size, f)) return corrupt("spqr state: truncated");
    b.ct1.assign(f.begin(), f.end());
  }
  if (l.receive_size != 0) {
    if (!r.be(v, 1) || v >= l.receive_size / kSpqrChunkSize)
      return corrupt("spqr state: bad chunk count");
    b.received.resize(static_cast<std::size_t>(v));
    for (std::size_t i = 0; i < b.received.size(); ++i) {
      if (!r.be(v, 2) || !r.bytes(kSpqrChunkSize, f)) return corrupt("spqr state: truncated");
      b.received[i].index = static_cast<std::uint16_t>(v);
      std::copy(f.begin(), f.end(), b.received[i].data.begin());
      for (std::size_t m = 0; m < i; ++m)
        if (b.received[m].index == b.received[i].index)
          return corrupt("spqr state: chunk held twice");
    }
  }
  if (l.encaps) {
    if (!r.bytes(kEncapsSize, f)) return corrupt("spqr state: truncated");
    b.encaps.emplace();
    (void)SecretArray<128>::from(f, b.encaps->bytes);
  }
  if (l.ek_vector && !spqr_vector_matches(b.ek_vector, *b.encaps))
    return corrupt("spqr state: key vector does not match its header");

  SpqrChain& c = s.chain;
  if (!r.be(v, 8)) return corrupt("spqr state: truncated");
  c.current_epoch = v;
  // The ct side adds the epoch when it encapsulates (HeaderReceived -> Ct1Sampled); the ek side
  // when it decapsulates, moving on to the next braid epoch at once.
  const bool added =
      b.state == SpqrBraidState::kCt1Sampled || b.state == SpqrBraidState::kEkReceivedCt1Sampled ||
      b.state == SpqrBraidState::kCt1Acknowledged || b.state == SpqrBraidState::kCt2Sampled;
  if (c.current_epoch != (added ? b.epoch : b.epoch - 1))
    return corrupt("spqr state: chain epoch does not fit the braid");
  if (!r.bytes(32, f)) return corrupt("spqr state: truncated");
  (void)SecretArray<32>::from(f, c.next_root);
  const std::uint64_t links = std::min<std::uint64_t>(c.current_epoch + 1, kSpqrEpochsKept);
  if (!r.be(v, 1) || v != links) return corrupt("spqr state: bad number of chain epochs");
  c.links.resize(static_cast<std::size_t>(v));
  for (auto& link : c.links) {
    if (auto st = read_dir(r, link.send); !st) return st.error();
    if (auto st = read_dir(r, link.recv); !st) return st.error();
  }
  if (!r.done()) return corrupt("spqr state: trailing bytes");
  return s;
}

}  // namespace hush::pq
