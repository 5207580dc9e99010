// hush: prekey records, bundles and key generation (prekey.h).
#include <hush/limits.h>
#include <hush/prekey.h>

#include <algorithm>

#include "crypto/mlkem.h"
#include "proto_util.h"
#include "storage.pb.h"

namespace hush {

namespace {

constexpr std::uint32_t kRecordFormat = 1;

void write_key_pair(const KeyPair& kp, storage::KeyPair* out) {
  out->set_public_key(internal::to_field(kp.public_key.u()));
  out->set_private_key(internal::to_field(kp.private_key.expose()));
}

// Reads a stored key pair without recomputing the public key (the store is trusted to be the
// one we wrote; its integrity against corruption is what is checked here, lengths included).
Result<KeyPair> read_key_pair(const storage::KeyPair& in) {
  std::array<std::uint8_t, 32> pub{};
  if (!in.has_public_key() || !internal::read_fixed(in.public_key(), pub))
    return Error(Errc::kCorruptState, "key record: public key");
  auto priv = PrivateKey::parse(as_bytes(in.private_key()));
  if (!in.has_private_key() || !priv) return Error(Errc::kCorruptState, "key record: private key");
  return KeyPair{PublicKey::from_u(pub), std::move(*priv)};
}

template <class Proto>
void wipe_key_pair(Proto& p) {
  if (p.has_key_pair()) internal::wipe(p.mutable_key_pair()->mutable_private_key());
}

}  // namespace

SecretBytes PreKeyRecord::serialize() const {
  storage::PreKeyRecord p;
  p.set_format(kRecordFormat);
  p.set_id(to_uint(id));
  write_key_pair(key_pair, p.mutable_key_pair());
  if (published) p.set_published(true);
  SecretBytes out = internal::serialize_to_secret(p);
  wipe_key_pair(p);
  return out;
}

Result<PreKeyRecord> PreKeyRecord::deserialize(ByteView data) {
  if (data.size() > kMaxKeyRecordBytes) return Error(Errc::kCorruptState, "PreKeyRecord: size");
  storage::PreKeyRecord p;
  const bool parsed = internal::parse_from(p, data);
  struct Wiper {
    storage::PreKeyRecord& p;
    ~Wiper() { wipe_key_pair(p); }
  } wiper{p};
  if (!parsed) return Error(Errc::kCorruptState, "PreKeyRecord: protobuf");
  if (p.format() != kRecordFormat) return Error(Errc::kCorruptState, "PreKeyRecord: format");
  if (!p.has_id() || !p.has_key_pair()) return Error(Errc::kCorruptState, "PreKeyRecord: fields");
  auto kp = read_key_pair(p.key_pair());
  if (!kp) return kp.error();
  return PreKeyRecord{PreKeyId{p.id()}, std::move(*kp), p.published()};
}

SecretBytes SignedPreKeyRecord::serialize() const {
  storage::SignedPreKeyRecord p;
  p.set_format(kRecordFormat);
  p.set_id(to_uint(id));
  write_key_pair(key_pair, p.mutable_key_pair());
  p.set_signature(internal::to_field(signature.view()));
  p.set_timestamp_ms(timestamp_ms);
  if (published) p.set_published(true);
  SecretBytes out = internal::serialize_to_secret(p);
  wipe_key_pair(p);
  return out;
}

Result<SignedPreKeyRecord> SignedPreKeyRecord::deserialize(ByteView data) {
  if (data.size() > kMaxKeyRecordBytes)
    return Error(Errc::kCorruptState, "SignedPreKeyRecord: size");
  storage::SignedPreKeyRecord p;
  const bool parsed = internal::parse_from(p, data);
  struct Wiper {
    storage::SignedPreKeyRecord& p;
    ~Wiper() { wipe_key_pair(p); }
  } wiper{p};
  if (!parsed) return Error(Errc::kCorruptState, "SignedPreKeyRecord: protobuf");
  if (p.format() != kRecordFormat) return Error(Errc::kCorruptState, "SignedPreKeyRecord: format");
  if (!p.has_id() || !p.has_key_pair() || !p.has_signature() || !p.has_timestamp_ms())
    return Error(Errc::kCorruptState, "SignedPreKeyRecord: fields");
  auto kp = read_key_pair(p.key_pair());
  if (!kp) return kp.error();
  auto sig = Signature::parse(as_bytes(p.signature()));
  if (!sig) return Error(Errc::kCorruptState, "SignedPreKeyRecord: signature");
  return SignedPreKeyRecord{SignedPreKeyId{p.id()}, std::move(*kp), *sig, p.timestamp_ms(),
                            p.published()};
}

Result<KyberPublicKey> KyberPublicKey::parse(ByteView serialized) {
  if (!internal::crypto::kyber1024_check_public_key(serialized))
    return Error(Errc::kInvalidKemKey,
                 "Kyber public key: not 1569 bytes of type 0x08, or not a valid key");
  KyberPublicKey k;
  k.bytes_.assign(serialized.begin(), serialized.end());
  return k;
}

SecretBytes KyberPreKeyRecord::serialize() const {
  storage::KyberPreKeyRecord p;
  p.set_format(kRecordFormat);
  p.set_id(to_uint(id));
  p.set_public_key(internal::to_field(public_key.serialize()));
  p.set_secret_key(internal::to_field(secret_key.expose()));
  p.set_signature(internal::to_field(signature.view()));
  p.set_timestamp_ms(timestamp_ms);
  if (last_resort) p.set_last_resort(true);
  if (published) p.set_published(true);
  SecretBytes out = internal::serialize_to_secret(p);
  internal::wipe(p.mutable_secret_key());
  return out;
}

Result<KyberPreKeyRecord> KyberPreKeyRecord::deserialize(ByteView data) {
  if (data.size() > kMaxKyberKeyRecordBytes)
    return Error(Errc::kCorruptState, "KyberPreKeyRecord: size");
  storage::KyberPreKeyRecord p;
  const bool parsed = internal::parse_from(p, data);
  struct Wiper {
    storage::KyberPreKeyRecord& p;
    ~Wiper() { internal::wipe(p.mutable_secret_key()); }
  } wiper{p};
  if (!parsed) return Error(Errc::kCorruptState, "KyberPreKeyRecord: protobuf");
  if (p.format() != kRecordFormat) return Error(Errc::kCorruptState, "KyberPreKeyRecord: format");
  if (!p.has_id() || !p.has_public_key() || !p.has_secret_key() || !p.has_signature() ||
      !p.has_timestamp_ms())
    return Error(Errc::kCorruptState, "KyberPreKeyRecord: fields");
  auto pub = KyberPublicKey::parse(as_bytes(p.public_key()));
  if (!pub) return Error(Errc::kCorruptState, "KyberPreKeyRecord: public key");
  // The secret key's own hash check (FIPS 203 §7.3) catches a damaged key; that it belongs to the
  // public key is checked by comparing the ek it embeds.
  auto dk = internal::crypto::kyber1024_parse_secret_key(as_bytes(p.secret_key()));
  if (!dk) return Error(Errc::kCorruptState, "KyberPreKeyRecord: secret key");
  constexpr std::size_t kEkOffset = 1536;  // dk = dk_pke (384k) || ek || H(ek) || z, k = 4
  const ByteView ek = dk->expose().subspan(kEkOffset, KyberPublicKey::kSize - 1);
  if (!std::equal(ek.begin(), ek.end(), pub->serialize().begin() + 1))
    return Error(Errc::kCorruptState, "KyberPreKeyRecord: secret key of another public key");
  auto sig = Signature::parse(as_bytes(p.signature()));
  if (!sig) return Error(Errc::kCorruptState, "KyberPreKeyRecord: signature");
  return KyberPreKeyRecord{KyberPreKeyId{p.id()},
                           std::move(*pub),
                           SecretBytes::copy_of(as_bytes(p.secret_key())),
                           *sig,
                           p.timestamp_ms(),
                           p.last_resort(),
                           p.published()};
}

Status PreKeyBundle::validate() const {
  if (pre_key_id.has_value() != pre_key.has_value())
    return Error(Errc::kInvalidArgument, "PreKeyBundle: prekey id without key or key without id");
  if (kyber_pre_key_id.has_value() != kyber_pre_key.has_value() ||
      kyber_pre_key.has_value() != kyber_pre_key_signature.has_value())
    return Error(Errc::kInvalidArgument,
                 "PreKeyBundle: Kyber prekey id, key and signature must come together");
  // libsignal signs the 33-byte serialized key, not the raw 32 bytes (wire spec §1).
  const auto spk = signed_pre_key.serialize();
  if (!identity_key.verify_signature(spk, signed_pre_key_signature))
    return Error(Errc::kInvalidSignature, "PreKeyBundle: signed prekey signature");
  // ... and the Kyber prekey with its type byte, all 1569 bytes (v4 spec §2.2).
  if (kyber_pre_key &&
      !identity_key.verify_signature(kyber_pre_key->serialize(), *kyber_pre_key_signature))
    return Error(Errc::kInvalidSignature, "PreKeyBundle: Kyber prekey signature");
  return ok_status();
}

Result<IdentityKeyPair> generate_identity_key_pair(RandomSource& random) {
  return KeyPair::generate(random);
}

Result<std::uint32_t> generate_registration_id(RandomSource& random) {
  std::array<std::uint8_t, 4> b{};
  if (auto st = random.fill(b); !st) return st.error();
  const std::uint32_t v = static_cast<std::uint32_t>(b[0]) | static_cast<std::uint32_t>(b[1]) << 8 |
                          static_cast<std::uint32_t>(b[2]) << 16 |
                          static_cast<std::uint32_t>(b[3]) << 24;
  // libsignal's range: random % 16380 + 1 (the modulo bias is negligible and harmless here).
  return v % kMaxRegistrationId + 1;
}

Result<SignedPreKeyRecord> generate_signed_pre_key(const Context& ctx,
                                                   const IdentityKeyPair& identity,
                                                   SignedPreKeyId id) {
  auto kp = KeyPair::generate(ctx.random);
  if (!kp) return kp.error();
  auto sig = identity.private_key.sign(ctx.random, kp->public_key.serialize());
  if (!sig) return sig.error();
  return SignedPreKeyRecord{id, std::move(*kp), *sig, ctx.clock.now_ms()};
}

Result<KyberPreKeyRecord> generate_kyber_pre_key(const Context& ctx,
                                                 const IdentityKeyPair& identity, KyberPreKeyId id,
                                                 bool last_resort) {
  auto kp = internal::crypto::kyber1024_generate(ctx.random);
  if (!kp) return kp.error();
  auto pub = KyberPublicKey::parse(
      internal::crypto::kyber1024_serialize_public_key(kp->encapsulation_key));
  if (!pub) return Error(Errc::kCryptoFailure, "generate_kyber_pre_key: key does not parse");
  auto sig = identity.private_key.sign(ctx.random, pub->serialize());
  if (!sig) return sig.error();
  return KyberPreKeyRecord{
      id,
      std::move(*pub),
      internal::crypto::kyber1024_serialize_secret_key(kp->decapsulation_key.expose()),
      *sig,
      ctx.clock.now_ms(),
      last_resort,
      false};
}

Result<std::vector<PreKeyRecord>> generate_pre_keys(const Context& ctx, PreKeyId first,
                                                    std::uint32_t count) {
  const std::uint64_t start = to_uint(first);
  if (start == 0) return Error(Errc::kInvalidArgument, "generate_pre_keys: id 0");
  if (count > 0 && start + count - 1 > to_uint(kMaxPreKeyId))
    return Error(Errc::kInvalidArgument, "generate_pre_keys: prekey ids exhausted");
  std::vector<PreKeyRecord> out;
  out.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    auto kp = KeyPair::generate(ctx.random);
    if (!kp) return kp.error();
    out.push_back(PreKeyRecord{PreKeyId{static_cast<std::uint32_t>(start + i)}, std::move(*kp)});
  }
  return out;
}

}  // namespace hush
