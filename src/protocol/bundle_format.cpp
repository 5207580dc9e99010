// hush: the bundle and published-keys formats (proto/envelope.proto), parsed as untrusted input.
#include <hush/limits.h>
#include <hush/prekey.h>
#include <hush/transport.h>

#include "envelope.pb.h"
#include "proto_util.h"

namespace hush {

namespace {

constexpr std::uint32_t kFormat = 1;

std::string key_field(const PublicKey& k) {
  return internal::to_field(k.serialize());
}

Result<PublicKey> read_key(const std::string& field, const char* where) {
  auto k = PublicKey::parse(as_bytes(field));
  if (!k) return Error(Errc::kInvalidKey, where);
  return *k;
}

// The fields PreKeyBundle and PublishedKeys share, written and read alike.
template <class Proto>
void write_common(Proto& p, std::uint32_t registration_id, DeviceId device_id,
                  const IdentityKey& identity, SignedPreKeyId spk_id, const PublicKey& spk,
                  const Signature& signature) {
  p.set_format(kFormat);
  p.set_registration_id(registration_id);
  p.set_device_id(to_uint(device_id));
  p.set_identity_key(key_field(identity));
  p.set_signed_pre_key_id(to_uint(spk_id));
  p.set_signed_pre_key(key_field(spk));
  p.set_signed_pre_key_signature(internal::to_field(signature.view()));
}

template <class Proto, class Out>
Status read_common(const Proto& p, Out& out) {
  if (!p.has_format() || p.format() != kFormat)
    return Error(Errc::kInvalidMessage, "bundle: unknown format");
  if (!p.has_registration_id() || !p.has_device_id() || !p.has_identity_key() ||
      !p.has_signed_pre_key_id() || !p.has_signed_pre_key() || !p.has_signed_pre_key_signature())
    return Error(Errc::kInvalidMessage, "bundle: missing field");
  auto identity = read_key(p.identity_key(), "bundle: identity key");
  if (!identity) return identity.error();
  auto spk = read_key(p.signed_pre_key(), "bundle: signed prekey");
  if (!spk) return spk.error();
  auto signature = Signature::parse(as_bytes(p.signed_pre_key_signature()));
  if (!signature) return signature.error();
  out.registration_id = p.registration_id();
  out.device_id = DeviceId{p.device_id()};
  out.identity_key = *identity;
  out.signed_pre_key_id = SignedPreKeyId{p.signed_pre_key_id()};
  out.signed_pre_key = *spk;
  out.signed_pre_key_signature = *signature;
  return ok_status();
}

Result<std::pair<PreKeyId, PublicKey>> read_one_time(const envelope::OneTimePreKey& p) {
  if (!p.has_id() || !p.has_key()) return Error(Errc::kInvalidMessage, "bundle: one-time prekey");
  auto key = read_key(p.key(), "bundle: one-time prekey");
  if (!key) return key.error();
  return std::make_pair(PreKeyId{p.id()}, *key);
}

Result<SignedKyberPreKey> read_kyber(const envelope::KyberPreKey& k) {
  if (!k.has_id() || !k.has_key() || !k.has_signature())
    return Error(Errc::kInvalidMessage, "bundle: Kyber prekey incomplete");
  auto key = KyberPublicKey::parse(as_bytes(k.key()));
  if (!key) return key.error();
  auto signature = Signature::parse(as_bytes(k.signature()));
  if (!signature) return signature.error();
  return SignedKyberPreKey{KyberPreKeyId{k.id()}, std::move(*key), *signature};
}

void write_kyber(envelope::KyberPreKey& k, KyberPreKeyId id, const KyberPublicKey& key,
                 const Signature& signature) {
  k.set_id(to_uint(id));
  k.set_key(internal::to_field(key.serialize()));
  k.set_signature(internal::to_field(signature.view()));
}

template <class Proto>
Bytes to_bytes(const Proto& p) {
  Bytes out(p.ByteSizeLong());
  p.SerializeWithCachedSizesToArray(out.data());
  return out;
}

}  // namespace

Bytes PreKeyBundle::serialize() const {
  envelope::PreKeyBundle p;
  write_common(p, registration_id, device_id, identity_key, signed_pre_key_id, signed_pre_key,
               signed_pre_key_signature);
  if (pre_key_id && pre_key) {
    p.mutable_pre_key()->set_id(to_uint(*pre_key_id));
    p.mutable_pre_key()->set_key(key_field(*pre_key));
  }
  if (kyber_pre_key_id && kyber_pre_key && kyber_pre_key_signature)
    write_kyber(*p.mutable_kyber_pre_key(), *kyber_pre_key_id, *kyber_pre_key,
                *kyber_pre_key_signature);
  return to_bytes(p);
}

Result<PreKeyBundle> PreKeyBundle::parse(ByteView data) {
  if (data.size() > kMaxBundleBytes) return Error(Errc::kLimitExceeded, "bundle: too large");
  envelope::PreKeyBundle p;
  if (!internal::parse_from(p, data)) return Error(Errc::kInvalidProtobuf, "bundle: protobuf");
  PreKeyBundle b;
  if (auto st = read_common(p, b); !st) return st.error();
  if (p.has_pre_key()) {
    auto otk = read_one_time(p.pre_key());
    if (!otk) return otk.error();
    b.pre_key_id = otk->first;
    b.pre_key = otk->second;
  }
  if (p.has_kyber_pre_key()) {
    auto k = read_kyber(p.kyber_pre_key());
    if (!k) return k.error();
    b.kyber_pre_key_id = k->id;
    b.kyber_pre_key = std::move(k->key);
    b.kyber_pre_key_signature = k->signature;
  }
  return b;
}

PreKeyBundle PublishedKeys::bundle(std::optional<std::pair<PreKeyId, PublicKey>> pre_key,
                                   std::optional<SignedKyberPreKey> kyber_pre_key) const {
  PreKeyBundle b;
  b.registration_id = registration_id;
  b.device_id = device_id;
  b.identity_key = identity_key;
  b.signed_pre_key_id = signed_pre_key_id;
  b.signed_pre_key = signed_pre_key;
  b.signed_pre_key_signature = signed_pre_key_signature;
  if (pre_key) {
    b.pre_key_id = pre_key->first;
    b.pre_key = pre_key->second;
  }
  if (kyber_pre_key) {
    b.kyber_pre_key_id = kyber_pre_key->id;
    b.kyber_pre_key = std::move(kyber_pre_key->key);
    b.kyber_pre_key_signature = kyber_pre_key->signature;
  }
  return b;
}

Bytes PublishedKeys::serialize() const {
  envelope::PublishedKeys p;
  write_common(p, registration_id, device_id, identity_key, signed_pre_key_id, signed_pre_key,
               signed_pre_key_signature);
  for (const auto& [id, key] : pre_keys) {
    auto* k = p.add_pre_keys();
    k->set_id(to_uint(id));
    k->set_key(key_field(key));
  }
  for (const SignedKyberPreKey& k : kyber_pre_keys)
    write_kyber(*p.add_kyber_pre_keys(), k.id, k.key, k.signature);
  if (last_resort_kyber_pre_key)
    write_kyber(*p.mutable_last_resort_kyber_pre_key(), last_resort_kyber_pre_key->id,
                last_resort_kyber_pre_key->key, last_resort_kyber_pre_key->signature);
  return to_bytes(p);
}

Result<PublishedKeys> PublishedKeys::parse(ByteView data) {
  if (data.size() > kMaxPublishedKeysBytes)
    return Error(Errc::kLimitExceeded, "published keys: too large");
  envelope::PublishedKeys p;
  if (!internal::parse_from(p, data))
    return Error(Errc::kInvalidProtobuf, "published keys: protobuf");
  if (static_cast<std::size_t>(p.pre_keys_size()) > kMaxPublishedPreKeys)
    return Error(Errc::kLimitExceeded, "published keys: too many one-time prekeys");
  if (static_cast<std::size_t>(p.kyber_pre_keys_size()) > kMaxPublishedKyberPreKeys)
    return Error(Errc::kLimitExceeded, "published keys: too many one-time Kyber prekeys");
  PublishedKeys out;
  if (auto st = read_common(p, out); !st) return st.error();
  out.pre_keys.reserve(static_cast<std::size_t>(p.pre_keys_size()));
  for (const auto& k : p.pre_keys()) {
    auto otk = read_one_time(k);
    if (!otk) return otk.error();
    out.pre_keys.push_back(*otk);
  }
  out.kyber_pre_keys.reserve(static_cast<std::size_t>(p.kyber_pre_keys_size()));
  for (const auto& k : p.kyber_pre_keys()) {
    auto kyber = read_kyber(k);
    if (!kyber) return kyber.error();
    out.kyber_pre_keys.push_back(std::move(*kyber));
  }
  if (p.has_last_resort_kyber_pre_key()) {
    auto kyber = read_kyber(p.last_resort_kyber_pre_key());
    if (!kyber) return kyber.error();
    out.last_resort_kyber_pre_key = std::move(*kyber);
  }
  return out;
}

}  // namespace hush
