// SPQR v1's chain and authenticator; see spqr_chain.h.
#include "pq/spqr_chain.h"

#include <algorithm>
#include <string_view>

#include <hush/limits.h>

#include "crypto/kdf.h"

namespace hush::pq {
namespace {

using internal::crypto::hkdf_sha256;
using internal::crypto::HmacSha256;

constexpr std::string_view kChainStart = "Signal PQ Ratchet V1 Chain  Start";  // two spaces
constexpr std::string_view kChainAddEpoch = "Signal PQ Ratchet V1 Chain Add Epoch";
constexpr std::string_view kChainNext = "Signal PQ Ratchet V1 Chain Next";
constexpr std::string_view kAuthUpdate = "Signal_PQCKA_V1_MLKEM768:Authenticator Update";
constexpr std::string_view kMacHeader = "Signal_PQCKA_V1_MLKEM768:ekheader";
constexpr std::string_view kMacCiphertext = "Signal_PQCKA_V1_MLKEM768:ciphertext";
constexpr std::string_view kEpochSecret = "Signal_PQCKA_V1_MLKEM768:SCKA Key";

void put_be(std::uint8_t* out, std::uint64_t v, unsigned bytes) {
  for (unsigned i = 0; i < bytes; ++i)
    out[i] = static_cast<std::uint8_t>(v >> (8 * (bytes - 1 - i)));
}

Bytes label_be64(std::string_view label, std::uint64_t epoch) {
  Bytes out(label.begin(), label.end());
  out.resize(label.size() + 8);
  put_be(out.data() + label.size(), epoch, 8);
  return out;
}

// Fills `dir` (send or receive half) of a new link from a 96-byte derivation: A2B seed at 32,
// B2A seed at 64.
SpqrChainLink make_link(const SecretArray<96>& g, bool a2b) {
  SpqrChainLink link;
  const auto bytes = g.expose();
  const auto a = bytes.subspan(32, 32);
  const auto b = bytes.subspan(64, 32);
  (void)SecretArray<32>::from(a2b ? a : b, link.send.next);
  (void)SecretArray<32>::from(a2b ? b : a, link.recv.next);
  return link;
}

// Takes the next key of a chain direction: ctr += 1; (next, key) = HKDF(next, BE32(ctr) || label).
SecretArray<32> step(SpqrChainDir& dir, HmacSha256& hmac) {
  ++dir.ctr;
  Bytes info(4 + kChainNext.size());
  put_be(info.data(), dir.ctr, 4);
  std::copy(kChainNext.begin(), kChainNext.end(), info.begin() + 4);
  SecretArray<64> g;
  hkdf_sha256(hmac, dir.next.expose(), {}, info, g.expose_mut());
  SecretArray<32> key;
  (void)SecretArray<32>::from(g.expose().subspan(0, 32), dir.next);
  (void)SecretArray<32>::from(g.expose().subspan(32, 32), key);
  return key;
}

// Drops the skipped keys older than ctr - kSpqrMaxOutOfOrderKeys once the list is full.
void trim(SpqrChainDir& dir) {
  if (dir.prev.size() < kSpqrKeyTrimSize) return;
  const std::uint32_t horizon =
      dir.ctr >= kSpqrMaxOutOfOrderKeys ? dir.ctr - kSpqrMaxOutOfOrderKeys : 0;
  std::erase_if(dir.prev, [horizon](const SpqrKeyEntry& e) { return e.index < horizon; });
}

Result<SecretArray<32>> dir_key(SpqrChainDir& dir, std::uint32_t at, std::uint32_t max_jump,
                                std::uint64_t* steps_left) {
  if (at <= dir.ctr) {
    for (auto it = dir.prev.begin(); it != dir.prev.end(); ++it) {
      if (it->index == at) {
        SecretArray<32> key = std::move(it->key);
        dir.prev.erase(it);
        return key;
      }
    }
    return Error(Errc::kDuplicateMessage, "spqr: key already taken or trimmed");
  }
  if (at - dir.ctr > max_jump)
    return Error(Errc::kTooFarInFuture, "spqr: key index jumps beyond the limit");
  // The caller's budget of chain steps before a MAC (the session's decrypt budget).
  if (steps_left) {
    const std::uint64_t steps = at - dir.ctr;
    if (steps > *steps_left)
      return Error(Errc::kInvalidMessage, "spqr: decrypt chain-step budget spent");
    *steps_left -= steps;
  }
  // Every held key would be trimmed right away: drop them.
  if (at - dir.ctr > kSpqrMaxOutOfOrderKeys) dir.prev.clear();
  HmacSha256 hmac;
  while (at > dir.ctr + 1) {
    SecretArray<32> key = step(dir, hmac);
    if (static_cast<std::uint64_t>(dir.ctr) + kSpqrMaxOutOfOrderKeys >= at)
      dir.prev.push_back(SpqrKeyEntry{dir.ctr, std::move(key)});
  }
  trim(dir);
  return step(dir, hmac);
}

Result<SpqrChainLink*> link_of(SpqrChain& chain, std::uint64_t epoch) {
  if (epoch > chain.current_epoch || chain.current_epoch - epoch >= chain.links.size())
    return Error(Errc::kInvalidMessage, "spqr: epoch no longer (or not yet) held");
  return &chain.links[chain.links.size() - 1 - (chain.current_epoch - epoch)];
}

}  // namespace

SpqrChain spqr_chain_new(ByteView seed, bool a2b, std::uint32_t max_jump) {
  HmacSha256 hmac;
  SecretArray<96> g;
  hkdf_sha256(hmac, seed, {}, as_bytes(kChainStart), g.expose_mut());
  SpqrChain chain;
  chain.a2b = a2b;
  chain.max_jump = max_jump;
  chain.current_epoch = 0;
  chain.links.push_back(make_link(g, a2b));
  (void)SecretArray<32>::from(g.expose().subspan(0, 32), chain.next_root);
  return chain;
}

Status spqr_chain_add_epoch(SpqrChain& chain, std::uint64_t epoch, const SecretArray<32>& secret) {
  if (epoch != chain.current_epoch + 1)
    return Error(Errc::kCorruptState, "spqr: epoch added out of order");
  HmacSha256 hmac;
  SecretArray<96> g;
  hkdf_sha256(hmac, secret.expose(), chain.next_root.expose(), as_bytes(kChainAddEpoch),
              g.expose_mut());
  chain.current_epoch = epoch;
  (void)SecretArray<32>::from(g.expose().subspan(0, 32), chain.next_root);
  chain.links.push_back(make_link(g, chain.a2b));
  while (chain.links.size() > kSpqrEpochsKept)
    chain.links.erase(chain.links.begin());
  return ok_status();
}

Result<std::pair<std::uint32_t, SecretArray<32>>> spqr_chain_send_key(SpqrChain& chain,
                                                                      std::uint64_t epoch) {
  auto link = link_of(chain, epoch);
  if (!link) return Error(Errc::kInvalidMessage, "spqr: sending epoch not held");
  SpqrChainDir& dir = (*link)->send;
  if (dir.ctr == UINT32_MAX)
    return Error(Errc::kLimitExceeded, "spqr: sending chain used up (2^32 - 1 keys)");
  HmacSha256 hmac;
  SecretArray<32> key = step(dir, hmac);
  return std::pair<std::uint32_t, SecretArray<32>>(dir.ctr, std::move(key));
}

Result<SecretArray<32>> spqr_chain_recv_key(SpqrChain& chain, std::uint64_t epoch,
                                            std::uint32_t index, std::uint64_t* steps_left) {
  auto link = link_of(chain, epoch);
  if (!link) return link.error();
  return dir_key((*link)->recv, index, chain.max_jump, steps_left);
}

SpqrAuthenticator spqr_auth_new(ByteView auth_key) {
  SpqrAuthenticator auth;
  spqr_auth_update(auth, 1, auth_key);
  return auth;
}

void spqr_auth_update(SpqrAuthenticator& auth, std::uint64_t epoch, ByteView key) {
  SecretBytes ikm(32 + key.size());
  auto m = ikm.expose_mut();
  std::copy(auth.root.expose().begin(), auth.root.expose().end(), m.begin());
  std::copy(key.begin(), key.end(), m.begin() + 32);
  HmacSha256 hmac;
  SecretArray<64> g;
  hkdf_sha256(hmac, ikm.expose(), {}, label_be64(kAuthUpdate, epoch), g.expose_mut());
  (void)SecretArray<32>::from(g.expose().subspan(0, 32), auth.root);
  (void)SecretArray<32>::from(g.expose().subspan(32, 32), auth.mac);
}

std::array<std::uint8_t, 32> spqr_auth_mac_header(const SpqrAuthenticator& auth,
                                                  std::uint64_t epoch, ByteView header) {
  HmacSha256 hmac;
  hmac.init(auth.mac.expose());
  hmac.update(label_be64(kMacHeader, epoch));
  hmac.update(header);
  std::array<std::uint8_t, 32> out{};
  hmac.final(out);
  return out;
}

std::array<std::uint8_t, 32> spqr_auth_mac_ciphertext(const SpqrAuthenticator& auth,
                                                      std::uint64_t epoch, ByteView ct1,
                                                      ByteView ct2) {
  HmacSha256 hmac;
  hmac.init(auth.mac.expose());
  hmac.update(label_be64(kMacCiphertext, epoch));
  hmac.update(ct1);
  hmac.update(ct2);
  std::array<std::uint8_t, 32> out{};
  hmac.final(out);
  return out;
}

SecretArray<32> spqr_epoch_secret(ByteView shared_secret, std::uint64_t epoch) {
  HmacSha256 hmac;
  SecretArray<32> out;
  hkdf_sha256(hmac, shared_secret, {}, label_be64(kEpochSecret, epoch), out.expose_mut());
  return out;
}

}  // namespace hush::pq
