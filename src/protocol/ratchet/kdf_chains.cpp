// hush internal: KDF chains (see kdf_chains.h; wire spec §3, §4.1, §4.2).
#include "protocol/ratchet/kdf_chains.h"

#include <algorithm>
#include <array>

#include "crypto/x25519.h"

namespace hush::internal {

namespace {
constexpr std::uint8_t kMessageKeySeed = 0x01;
constexpr std::uint8_t kChainKeySeed = 0x02;
constexpr std::array<std::uint8_t, 18> kMessageKeysInfo = {
    'W', 'h', 'i', 's', 'p', 'e', 'r', 'M', 'e', 's', 's', 'a', 'g', 'e', 'K', 'e', 'y', 's'};
constexpr std::array<std::uint8_t, 14> kRatchetInfo = {'W', 'h', 'i', 's', 'p', 'e', 'r',
                                                       'R', 'a', 't', 'c', 'h', 'e', 't'};
constexpr std::array<std::uint8_t, 11> kTextInfo = {'W', 'h', 'i', 's', 'p', 'e',
                                                    'r', 'T', 'e', 'x', 't'};
constexpr std::array<std::uint8_t, 32> kZeroSalt{};

RootStep split64(const SecretArray<64>& okm) {
  RootStep out;
  std::copy_n(okm.expose().begin(), 32, out.root_key.expose_mut().begin());
  std::copy_n(okm.expose().begin() + 32, 32, out.chain_key.key.expose_mut().begin());
  out.chain_key.index = 0;
  return out;
}
}  // namespace

SecretArray<32> ChainKey::message_key_seed(crypto::HmacSha256& hmac) const {
  SecretArray<32> seed;
  hmac.mac(key.expose(), ByteView(&kMessageKeySeed, 1), seed.expose_mut());
  return seed;
}

ChainKey ChainKey::next(crypto::HmacSha256& hmac) const {
  ChainKey out;
  hmac.mac(key.expose(), ByteView(&kChainKeySeed, 1), out.key.expose_mut());
  out.index = index + 1;
  return out;
}

MessageKeys MessageKeys::from_seed(crypto::HmacSha256& extract, crypto::HmacSha256& expand,
                                   ByteView seed, ByteView salt) {
  SecretArray<80> okm;
  crypto::hkdf_sha256(extract, expand, seed, salt.empty() ? ByteView(kZeroSalt) : salt,
                      kMessageKeysInfo, okm.expose_mut());
  MessageKeys keys;
  const auto b = okm.expose();
  std::copy_n(b.begin(), 32, keys.cipher_key.expose_mut().begin());
  std::copy_n(b.begin() + 32, 32, keys.mac_key.expose_mut().begin());
  std::copy_n(b.begin() + 64, 16, keys.iv.expose_mut().begin());
  return keys;
}

Result<RootStep> root_step(crypto::HmacSha256& hmac, ByteView root_key,
                           std::span<const std::uint8_t, 32> our_private, const PublicKey& theirs) {
  auto shared = crypto::x25519(our_private, theirs.u());
  if (!shared) return shared.error();
  SecretArray<64> okm;
  crypto::hkdf_sha256(hmac, shared->expose(), root_key, kRatchetInfo, okm.expose_mut());
  return split64(okm);
}

RootStep derive_initial_keys(crypto::HmacSha256& hmac, ByteView secret) {
  SecretArray<64> okm;
  crypto::hkdf_sha256(hmac, secret, kZeroSalt, kTextInfo, okm.expose_mut());
  return split64(okm);
}

}  // namespace hush::internal
