// hush fuzz target: SPQR v1 (src/pq/spqr.h) with hostile pq_ratchet payloads and hostile stored
// states. The harness builds, once, a conversation between an initiator and a responder (a
// deterministic FuzzRandom) and keeps snapshots of both sides' states in many braid states, each
// with the genuine message its peer sends next. Input layout: byte 0 picks the mode, byte 1 a
// snapshot, the rest is the operand:
//   0: spqr_recv(snapshot, operand)                            (any payload against a real state)
//   1: spqr_recv(snapshot, genuine message XOR operand)        (near-genuine payloads: chunk
//                                                               indices, MACs, epochs, types)
//   2: the snapshot state XOR operand, then spqr_epoch, spqr_recv(genuine), spqr_send
//   3: operand as a state, as mode 2; and its first 32 bytes as the seed of spqr_initial_state
//      for both roles (note-to-self when the operand's length is even)
// Checked: nothing crashes or allocates without bound; every error has one of the documented codes;
// a state that parses re-serializes to the same bytes (one canonical form); a successful call's
// state parses again and its epoch moves forward by at most one; fresh sides agree on their keys.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <hush/bytes.h>
#include <hush/result.h>
#include <hush/secret.h>

#include "fuzz_common.h"
#include "pq/spqr.h"
#include "pq/spqr_state.h"

using namespace hush;
using namespace hush::pq;

namespace {

struct Snapshot {
  Bytes state;
  Bytes next;  // the genuine message its peer sends next
};

std::vector<Snapshot> make_snapshots() {
  fuzz::FuzzRandom random(0x5e9a);
  SecretArray<32> seed;
  for (std::size_t i = 0; i < 32; ++i)
    seed.expose_mut()[i] = static_cast<std::uint8_t>(i);
  auto a = spqr_initial_state(seed, SpqrRole::kInitiator, false);
  auto b = spqr_initial_state(seed, SpqrRole::kResponder, false);
  fuzz::check(a && b, "initial states");
  Bytes sa(a->expose().begin(), a->expose().end());
  Bytes sb(b->expose().begin(), b->expose().end());
  std::vector<Snapshot> out;
  // Ping-pong through two epochs and a half; bursts of three now and then, so that every braid
  // state appears on both sides.
  for (int i = 0; i < 240; ++i) {
    const bool from_a = (i / 3) % 2 == 0 ? i % 2 == 0 : i % 3 != 0;
    Bytes& s = from_a ? sa : sb;
    Bytes& r = from_a ? sb : sa;
    auto sent = spqr_send(s, random);
    fuzz::check(sent.has_value(), "genuine send");
    s.assign(sent->state.expose().begin(), sent->state.expose().end());
    if (i % 7 == 0) out.push_back(Snapshot{r, sent->message});
    auto got = spqr_recv(r, sent->message);
    fuzz::check(got.has_value(), "genuine receive");
    r.assign(got->state.expose().begin(), got->state.expose().end());
  }
  return out;
}

const std::vector<Snapshot>& snapshots() {
  static const auto* s = new std::vector<Snapshot>(make_snapshots());
  return *s;
}

bool documented(Errc c) {
  return c == Errc::kInvalidMessage || c == Errc::kDuplicateMessage || c == Errc::kTooFarInFuture ||
         c == Errc::kCorruptState || c == Errc::kLimitExceeded;
}

void after_success(ByteView old_state, ByteView new_state) {
  auto before = spqr_epoch(old_state);
  auto after = spqr_epoch(new_state);
  fuzz::check(before && after, "a successful call leaves a state that parses");
  fuzz::check(*after == *before || *after == *before + 1, "the epoch moves by at most one");
}

void try_recv(ByteView state, ByteView message) {
  auto r = spqr_recv(state, message);
  if (!r) {
    fuzz::check(documented(r.error().code()), "spqr_recv: undocumented error");
    return;
  }
  after_success(state, r->state.expose());
}

void hostile_state(ByteView state, const Snapshot& snap) {
  auto parsed = spqr_parse_state(state);
  auto epoch = spqr_epoch(state);
  fuzz::check(parsed.has_value() == epoch.has_value(), "spqr_epoch agrees with the parser");
  if (!parsed) {
    fuzz::check(parsed.error().code() == Errc::kCorruptState, "a bad state is corrupt_state");
    return;
  }
  const SecretBytes again = spqr_serialize_state(*parsed);
  fuzz::check(again.size() == state.size() &&
                  std::equal(again.expose().begin(), again.expose().end(), state.begin()),
              "a state that parses re-serializes to the same bytes");
  try_recv(state, snap.next);
  fuzz::FuzzRandom random(7);
  auto sent = spqr_send(state, random);
  if (!sent)
    fuzz::check(documented(sent.error().code()), "spqr_send: undocumented error");
  else
    after_success(state, sent->state.expose());
}

// spqr_initial_state from any seed: both sides' records parse and re-serialize, and the first
// message in either direction gives both sides the same key.
void fresh_pair(ByteView seed_bytes, bool self) {
  SecretArray<32> seed;
  fuzz::check(SecretArray<32>::from(seed_bytes, seed), "32-byte seed");
  auto a = spqr_initial_state(seed, SpqrRole::kInitiator, self);
  auto b = spqr_initial_state(seed, SpqrRole::kResponder, self);
  fuzz::check(a && b, "initial states from any seed");
  for (const SecretBytes* st : {&*a, &*b}) {
    auto parsed = spqr_parse_state(st->expose());
    fuzz::check(parsed.has_value(), "an initial state parses");
    const SecretBytes again = spqr_serialize_state(*parsed);
    fuzz::check(std::ranges::equal(again.expose(), st->expose()), "an initial state re-serializes");
  }
  fuzz::FuzzRandom random(3);
  auto from_a = spqr_send(a->expose(), random);
  auto from_b = spqr_send(b->expose(), random);
  fuzz::check(from_a && from_b, "first sends");
  auto at_b = spqr_recv(b->expose(), from_a->message);
  auto at_a = spqr_recv(a->expose(), from_b->message);
  fuzz::check(at_a && at_b, "first receives");
  fuzz::check(constant_time_equals(at_b->key.expose(), from_a->key.expose()) &&
                  constant_time_equals(at_a->key.expose(), from_b->key.expose()),
              "both sides derive the same first keys");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const auto& snaps = snapshots();
  const Snapshot& snap = snaps[data[1] % snaps.size()];
  const ByteView operand(data + 2, size - 2);
  switch (data[0] % 4) {
    case 0:
      try_recv(snap.state, operand);
      break;
    case 1: {
      Bytes m = snap.next;
      for (std::size_t i = 0; i < operand.size(); ++i) {
        if (i < m.size())
          m[i] ^= operand[i];
        else
          m.push_back(operand[i]);
      }
      try_recv(snap.state, m);
      break;
    }
    case 2: {
      Bytes s = snap.state;
      for (std::size_t i = 0; i < operand.size() && i < s.size(); ++i)
        s[i] ^= operand[i];
      if (operand.size() > s.size())
        s.insert(s.end(), operand.begin() + static_cast<std::ptrdiff_t>(s.size()), operand.end());
      hostile_state(s, snap);
      break;
    }
    default:
      hostile_state(operand, snap);
      if (operand.size() >= 32) fresh_pair(operand.first(32), operand.size() % 2 == 0);
      break;
  }
  return 0;
}
