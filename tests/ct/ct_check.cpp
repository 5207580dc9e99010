// hush constant-time check: runs the code that handles secrets with the secrets marked undefined
// for valgrind memcheck (crypto/ct.h), so that memcheck reports every branch, memory index or
// system call that depends on a secret ("ctgrind", Adam Langley 2010; BoringSSL's
// CONSTANT_TIME_VALIDATION). ct_test.sh runs it under memcheck and requires no report.
//
// Checked, each on RFC vectors so that the check also proves the results right:
//   - X25519 key agreement and public-key derivation (RFC 7748 §6.1), the secret scalar marked;
//   - HMAC-SHA256 (RFC 4231 case 2) and HKDF-SHA256 (RFC 5869 A.1), key and input marked;
//   - a SignalMessage's MAC verification (internal::verify_mac), right and wrong MACs, the MAC key
//     marked;
//   - curve25519_sign (XEdDSA-style signing with an identity key), the private key marked;
//   - AES-256-CBC encryption, and decryption without padding, key and plaintext marked;
//   - constant_time_equals on marked buffers;
//   - ML-KEM-768 and ML-KEM-1024 (crypto/mlkem.h): key generation with d and z marked (NIST ACVP
//     keyGen vectors), encapsulation with m marked, decapsulation with dk marked of a genuine
//     ciphertext and of tampered ones (the implicit-rejection path, checked against J(z || c)),
//     the incremental ML-KEM-768 encapsulation with m and its state marked, and Kyber1024's
//     decapsulation.
// Verdicts that are public by design (a MAC's yes or no, "the DH output is all zero") are
// declassified where the library produces them (crypto/ct.h); libsodium's own branch on its
// fixed-base verdict is the one suppression (libsodium.supp).
// Not checked: AES-CBC's PKCS#7 padding check (OpenSSL's EVP_DecryptFinal_ex branches on the last
// plaintext block; Signal checks the MAC first, so no padding oracle exists, and the time reveals
// at most the plaintext's length mod 16) and AES-GCM's tag check (storage sealing only; OpenSSL
// branches on its CRYPTO_memcmp verdict inside the library).
//
// `ct_check --control` instead compares marked buffers with an early-exit loop: memcheck must
// report it, which shows the check can fail.
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include <hush/keys.h>
#include <hush/secret.h>

#include "crypto/cipher.h"
#include "crypto/ct.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"
#include "crypto/mlkem.h"
#include "crypto/signature.h"
#include "crypto/x25519.h"
#include "messages_internal.h"

namespace {

using hush::Bytes;
using hush::ByteView;
namespace crypto = hush::internal::crypto;

int failures = 0;

Bytes hex(std::string_view s) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < s.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(s.substr(i, 2)), nullptr, 16)));
  return out;
}

template <std::size_t N>
std::array<std::uint8_t, N> arr(std::string_view s) {
  const Bytes b = hex(s);
  if (b.size() != N) std::abort();
  std::array<std::uint8_t, N> out{};
  std::copy(b.begin(), b.end(), out.begin());
  return out;
}

void secret(ByteView data) {
  crypto::classify(data.data(), data.size());
}

// Compares a result with the expected value, after declassifying it (the result is public once
// computed; the comparison is the test's, not the library's).
void expect_equal(const char* what, ByteView got, ByteView want) {
  crypto::declassify(got.data(), got.size());
  const bool ok =
      got.size() == want.size() && std::memcmp(got.data(), want.data(), got.size()) == 0;
  std::printf("%s: %s\n", ok ? "ok" : "WRONG", what);
  if (!ok) ++failures;
}

void expect_true(const char* what, bool value) {
  crypto::declassify(&value, sizeof value);
  std::printf("%s: %s\n", value ? "ok" : "WRONG", what);
  if (!value) ++failures;
}

void x25519() {
  // RFC 7748 §6.1.
  auto alice = arr<32>("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  const auto alice_public = hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  const auto bob_public =
      arr<32>("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  const auto shared = hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  secret(alice);
  const auto pub = crypto::x25519_public(alice);
  expect_equal("X25519 public key of a secret scalar (RFC 7748 6.1)", pub, alice_public);
  auto dh = crypto::x25519(alice, bob_public);
  expect_true("X25519 agreement succeeds", dh.has_value());
  if (dh) expect_equal("X25519 shared secret (RFC 7748 6.1)", dh->expose(), shared);
  // A low-order peer key: the all-zero output is refused, a verdict on a secret computation.
  std::array<std::uint8_t, 32> zero_point{};
  expect_true("X25519 with a low-order point is refused", !crypto::x25519(alice, zero_point));
}

void hmac_and_hkdf() {
  // RFC 4231 test case 2.
  Bytes key = hex("4a656665");
  Bytes data(std::begin("what do ya want for nothing?"),
             std::end("what do ya want for nothing?") - 1);
  secret(key);
  secret(data);
  crypto::HmacSha256 hmac;
  std::array<std::uint8_t, 32> out{};
  hmac.mac(key, data, out);
  expect_equal("HMAC-SHA256 of a secret key and input (RFC 4231 2)", out,
               hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
  hmac.mac(key, data, out);  // the same key again: the kept keyed state
  expect_equal("HMAC-SHA256 again under the kept key", out,
               hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));

  // RFC 5869 A.1.
  Bytes ikm(22, 0x0b);
  secret(ikm);
  std::array<std::uint8_t, 42> okm{};
  crypto::hkdf_sha256(hmac, ikm, hex("000102030405060708090a0b0c"), hex("f0f1f2f3f4f5f6f7f8f9"),
                      okm);
  expect_equal("HKDF-SHA256 of a secret input (RFC 5869 A.1)", okm,
               hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887"
                   "185865"));
}

void message_mac() {
  // Two identity keys and a ratchet key (public), a MAC key (secret), a message built with it.
  auto pub = [](std::uint8_t fill) {
    std::array<std::uint8_t, 32> u{};
    u.fill(fill);
    return hush::PublicKey::from_u(u);
  };
  const hush::IdentityKey sender = pub(0x11), receiver = pub(0x22);
  Bytes mac_key(32, 0x5a);
  crypto::HmacSha256 hmac;
  const hush::SignalMessage message = hush::internal::MessageBuilder::signal_message(
      hmac, mac_key, sender, receiver, pub(0x33), 7, 3, Bytes(32, 0xc3));
  secret(mac_key);
  expect_true("a right MAC verifies under a secret MAC key",
              hush::internal::verify_mac(hmac, mac_key, sender, receiver, message));
  Bytes wrong_key(32, 0x5b);
  secret(wrong_key);
  expect_true("a wrong MAC key is refused",
              !hush::internal::verify_mac(hmac, wrong_key, sender, receiver, message));
}

void signing() {
  auto scalar = arr<32>("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  crypto::x25519_clamp(scalar);
  const auto u = crypto::x25519_public(scalar);
  std::array<std::uint8_t, 64> random{};
  random.fill(0x42);
  const Bytes message = hex("00112233445566778899");
  secret(scalar);
  secret(random);
  auto sig = crypto::curve25519_sign(scalar, message, random);
  crypto::declassify(sig.data(), sig.size());  // a signature is public
  expect_true("curve25519_sign with a secret key verifies",
              crypto::curve25519_verify(u, message, sig));
}

void aes() {
  // SP 800-38A F.2.5 (CBC-AES256.Encrypt), first two blocks.
  Bytes key = hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
  const Bytes iv = hex("000102030405060708090a0b0c0d0e0f");
  Bytes plain = hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
  const Bytes cipher = hex("f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d");
  secret(key);
  secret(plain);
  crypto::Aes256Cbc aes;
  auto enc = aes.encrypt_no_padding(key, iv, plain);
  expect_true("AES-256-CBC encryption succeeds", enc.has_value());
  if (enc) expect_equal("AES-256-CBC of a secret plaintext (SP 800-38A F.2.5)", *enc, cipher);
  auto dec = aes.decrypt_no_padding(key, iv, cipher);
  expect_true("AES-256-CBC decryption succeeds", dec.has_value());
  crypto::declassify(plain.data(), plain.size());
  if (dec) expect_equal("AES-256-CBC decryption under a secret key", *dec, plain);
  // Padded encryption (the message path): the padding depends on the length only.
  Bytes message(21, 0x61);
  secret(message);
  auto padded = aes.encrypt(key, iv, message);
  expect_true("AES-256-CBC padded encryption of a secret plaintext", padded.has_value());
}

void equality() {
  Bytes a(32, 0x01), b(32, 0x01), c(32, 0x01);
  c[31] = 0x02;
  secret(a);
  secret(b);
  secret(c);
  expect_true("constant_time_equals: equal secrets", hush::constant_time_equals(a, b));
  expect_true("constant_time_equals: different secrets", !hush::constant_time_equals(a, c));
}

// SHA3-256 of a result, declassified (the test's view of it).
std::array<std::uint8_t, 32> public_sha3(ByteView data) {
  auto h = crypto::sha3_256(data);
  crypto::declassify(h.data(), h.size());
  return h;
}

void mlkem_one(crypto::MlKemParameterSet set, std::string_view name, std::string_view d_hex,
               std::string_view z_hex, std::string_view ek_sha3, std::string_view dk_sha3) {
  const std::string n(name);
  crypto::MlKemSecret d, z, m;
  const Bytes d_bytes = hex(d_hex), z_bytes = hex(z_hex);
  std::copy(d_bytes.begin(), d_bytes.end(), d.expose_mut().begin());
  std::copy(z_bytes.begin(), z_bytes.end(), z.expose_mut().begin());
  std::fill(m.expose_mut().begin(), m.expose_mut().end(), 0x5c);
  secret(d.expose());
  secret(z.expose());
  secret(m.expose());

  // Key generation (ACVP keyGen): ek is public once made; dk stays marked.
  crypto::MlKemKeyPair keys = crypto::mlkem_generate_from_seed(set, d, z);
  crypto::declassify(keys.encapsulation_key.data(), keys.encapsulation_key.size());
  expect_equal((n + " key generation from secret d, z: ek (ACVP keyGen)").c_str(),
               public_sha3(keys.encapsulation_key), hex(ek_sha3));
  expect_equal((n + " key generation from secret d, z: dk (ACVP keyGen)").c_str(),
               public_sha3(keys.decapsulation_key.expose()), hex(dk_sha3));
  secret(keys.decapsulation_key.expose());

  // Encapsulation with a secret m; the ciphertext is public once made.
  auto enc = crypto::mlkem_encapsulate_from_seed(set, keys.encapsulation_key, m);
  expect_true((n + " encapsulation with a secret m succeeds").c_str(), enc.has_value());
  if (!enc) return;
  crypto::declassify(enc->ciphertext.data(), enc->ciphertext.size());

  // Decapsulation of the genuine ciphertext under a secret dk.
  auto k = crypto::mlkem_decapsulate(set, keys.decapsulation_key.expose(), enc->ciphertext);
  expect_true((n + " decapsulation under a secret dk succeeds").c_str(), k.has_value());
  crypto::declassify(enc->shared_secret.expose().data(), 32);
  if (k)
    expect_equal((n + " decapsulation gives K").c_str(), k->expose(), enc->shared_secret.expose());

  // The implicit-rejection path: tampered ciphertexts give J(z || c).
  for (std::size_t pos : {std::size_t{0}, enc->ciphertext.size() - 1}) {
    Bytes c = enc->ciphertext;
    c[pos] ^= 0x04;
    auto rejected = crypto::mlkem_decapsulate(set, keys.decapsulation_key.expose(), c);
    expect_true((n + " decapsulation of a tampered ciphertext succeeds").c_str(),
                rejected.has_value());
    Bytes expected(32);
    crypto::declassify(z.expose().data(), 32);
    Bytes z_c(z.expose().begin(), z.expose().end());
    z_c.insert(z_c.end(), c.begin(), c.end());
    crypto::shake256(z_c, expected);
    secret(z.expose());
    if (rejected)
      expect_equal((n + " implicit rejection gives J(z || c)").c_str(), rejected->expose(),
                   expected);
  }
}

void mlkem() {
  // NIST ACVP ML-KEM keyGen v1.1.0.40, tcId 26 (ML-KEM-768) and 51 (ML-KEM-1024); see
  // tests/vectors/mlkem/acvp_keygen.txt.
  mlkem_one(crypto::MlKemParameterSet::kMlKem768, "ML-KEM-768",
            "a2b4bca315a6ea4600b4a316e09a2578aa1e8bce919c8df3a96c71c843f5b38b",
            "d6bf055cb7b375e3271ed131f1ba31f83fef533a239878a71074578b891265d1",
            "7ca0c2cbbf4fbf28de8c479d4473c339d96b89c34a4e5fcbcf7728bdfb43b945",
            "aeccd54112dbda9b5dabeca6051a06068f09ec719f36cdc59a46e1960f7d3758");
  mlkem_one(crypto::MlKemParameterSet::kMlKem1024, "ML-KEM-1024",
            "2b5330c4f23bfdfd5c31f050ba3b38235324bf032372fc12d04dd08920f0bd59",
            "0a064d6c06ceab73e59cfca9ff6402255a326aef1e9cb678bf36929dafe29a58",
            "88a8fd05cd6da066d2bab105299b3ee66605bd5a803760af56a6033cb9d3b924",
            "26d823885f465ebd28a923e41957e86bdd58b9c06a73ff3fe8d43a80f5813a64");

  // Incremental ML-KEM-768: encaps1 with a secret m, encaps2 with the (secret) state; the result
  // must equal the one-shot encapsulation.
  crypto::MlKemSecret d, z, m;
  std::fill(d.expose_mut().begin(), d.expose_mut().end(), 0x11);
  std::fill(z.expose_mut().begin(), z.expose_mut().end(), 0x22);
  std::fill(m.expose_mut().begin(), m.expose_mut().end(), 0x33);
  const auto keys = crypto::mlkem_generate_from_seed(crypto::MlKemParameterSet::kMlKem768, d, z);
  auto whole = crypto::mlkem_encapsulate_from_seed(crypto::MlKemParameterSet::kMlKem768,
                                                   keys.encapsulation_key, m);
  auto header = crypto::mlkem768_header(keys.encapsulation_key);
  expect_true("ML-KEM-768 header", header.has_value() && whole.has_value());
  if (!header || !whole) return;
  secret(m.expose());
  auto first = crypto::mlkem768_encaps1_from_seed(*header, m);
  expect_true("ML-KEM-768 encaps1 with a secret m succeeds", first.has_value());
  if (!first) return;
  auto second =
      crypto::mlkem768_encaps2(ByteView(keys.encapsulation_key).first(1152), first->state);
  expect_true("ML-KEM-768 encaps2 with a secret state succeeds", second.has_value());
  if (!second) return;
  Bytes joined(first->ciphertext1.begin(), first->ciphertext1.end());
  joined.insert(joined.end(), second->begin(), second->end());
  expect_equal("ML-KEM-768 encaps1 || encaps2 is Encaps", joined, whole->ciphertext);
  expect_equal("ML-KEM-768 encaps1 gives Encaps' K", first->shared_secret.expose(),
               whole->shared_secret.expose());

  // Kyber1024 decapsulation under a secret key (ML-KEM-1024 plus the round-3 post-processing).
  const auto big = crypto::mlkem_generate_from_seed(crypto::MlKemParameterSet::kMlKem1024, d, z);
  auto kyber = crypto::kyber1024_encapsulate_from_seed(big.encapsulation_key, m);
  expect_true("Kyber1024 encapsulation with a secret m succeeds", kyber.has_value());
  if (!kyber) return;
  crypto::declassify(kyber->ciphertext.data(), kyber->ciphertext.size());
  crypto::declassify(kyber->shared_secret.expose().data(), 32);  // the test's copy
  secret(big.decapsulation_key.expose());
  auto opened = crypto::kyber1024_decapsulate(big.decapsulation_key.expose(), kyber->ciphertext);
  expect_true("Kyber1024 decapsulation under a secret key succeeds", opened.has_value());
  if (opened)
    expect_equal("Kyber1024 decapsulation gives K", opened->expose(),
                 kyber->shared_secret.expose());
}

// The control: an early-exit comparison of secrets, which memcheck must report.
[[gnu::noinline]] bool leaky_equals(ByteView a, ByteView b) {
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return false;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "--control") {
    Bytes a(32, 0x01), b(32, 0x01);
    secret(a);
    expect_true("control: an early-exit comparison (memcheck must report it)", leaky_equals(a, b));
    return failures == 0 ? 0 : 1;
  }
  if (argc != 1) {
    std::fprintf(stderr, "usage: ct_check [--control]\n");
    return 2;
  }
  x25519();
  hmac_and_hkdf();
  message_mac();
  signing();
  aes();
  equality();
  mlkem();
  std::printf("%s\n", failures == 0 ? "all results right" : "WRONG RESULTS");
  return failures == 0 ? 0 : 1;
}
