// hush internal: K-PKE and ML-KEM (FIPS 203 §5-§7) on the polynomial layer (mlkem_poly.h) and
// OpenSSL's SHA-3 (hash.h); the incremental ML-KEM-768 encapsulation and libsignal's Kyber1024
// (see mlkem.h). Written from FIPS 203; algorithm numbers below are the standard's.
#include "crypto/mlkem.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "crypto/ct.h"
#include "crypto/hash.h"
#include "crypto/mlkem_poly.h"

namespace hush::internal::crypto {

namespace {

using mlkem::kN;
using mlkem::kPolyBytes;
using mlkem::Poly;
using mlkem::PolyVec;
using mlkem::Wiped;

using Seed = std::span<const std::uint8_t, 32>;

// du and dv of Table 2 (eta1 = eta2 = 2 for both sets).
template <std::size_t K>
struct Params;
template <>
struct Params<3> {
  static constexpr int kDu = 10;
  static constexpr int kDv = 4;
};
template <>
struct Params<4> {
  static constexpr int kDu = 11;
  static constexpr int kDv = 5;
};

// Byte layouts (§7, Table 3).
template <std::size_t K>
struct Layout {
  static constexpr std::size_t kVector = kPolyBytes * K;       // ByteEncode12 of a vector
  static constexpr std::size_t kEk = kVector + 32;             // t-hat || rho
  static constexpr std::size_t kDk = 2 * kVector + 96;         // dk_pke || ek || h || z
  static constexpr std::size_t kDkEk = kVector;                // where ek starts in dk
  static constexpr std::size_t kDkH = kVector + kEk;           // where H(ek) starts in dk
  static constexpr std::size_t kDkZ = kDkH + 32;               // where z starts in dk
  static constexpr std::size_t kPolyC1 = 32 * Params<K>::kDu;  // one compressed polynomial of u
  static constexpr std::size_t kC1 = kPolyC1 * K;
  static constexpr std::size_t kC2 = 32 * Params<K>::kDv;
  static constexpr std::size_t kCt = kC1 + kC2;
};
static_assert(Layout<3>::kEk == 1184 && Layout<3>::kDk == 2400 && Layout<3>::kCt == 1088);
static_assert(Layout<4>::kEk == 1568 && Layout<4>::kDk == 3168 && Layout<4>::kCt == 1568);
static_assert(Layout<3>::kC1 == kMlKem768Ciphertext1Size &&
              Layout<3>::kC2 == kMlKem768Ciphertext2Size &&
              Layout<3>::kVector == kMlKem768VectorSize);

// ---- the samplers' hash calls (§4.1) ----

// Â[row][column] for a row of the matrix: SampleNTT(rho || j || i) for A[i][j] (Algorithms 13
// and 14), or of its transpose when `transposed`. rho is public, so the rejection loop may take as
// long as its stream needs. Three SHAKE128 blocks nearly always suffice (about 1 time in 100 they
// do not); OpenSSL 3.0 cannot continue a squeeze, so the rare longer stream is squeezed again from
// the start, twice as long each time, and sampling continues where it stopped (hash.h).
template <std::size_t K>
void expand_row(Sha3& sha3, Seed rho, std::size_t row, bool transposed, PolyVec<K>& out) {
  constexpr std::size_t kShake128Rate = 168;
  for (std::size_t column = 0; column < K; ++column) {
    const std::uint8_t i = static_cast<std::uint8_t>(row), j = static_cast<std::uint8_t>(column);
    // A[i][j] = SampleNTT(rho || j || i); its transpose's [i][j] is A[j][i] = SampleNTT(rho || i ||
    // j).
    const std::array<std::uint8_t, 2> index =
        transposed ? std::array<std::uint8_t, 2>{i, j} : std::array<std::uint8_t, 2>{j, i};
    std::array<std::uint8_t, 3 * kShake128Rate> stream;
    sha3.shake128({rho, index}, stream);
    std::size_t filled = 0, used = 0;
    mlkem::sample_ntt(stream, out.p[column], &filled, &used);
    std::size_t length = stream.size();
    std::vector<std::uint8_t> longer;
    while (filled < kN) {
      length *= 2;
      longer.resize(length);
      sha3.shake128({rho, index}, longer);
      mlkem::sample_ntt(longer, out.p[column], &filled, &used);
    }
  }
}

// SamplePolyCBD_2(PRF_2(seed, nonce)): PRF is SHAKE256(seed || nonce) of 128 bytes (§4.1).
void sample_noise(Sha3& sha3, Seed seed, std::uint8_t nonce, Poly& out) {
  Wiped<std::array<std::uint8_t, mlkem::kCbd2Bytes>> prf;
  const std::array<std::uint8_t, 1> n{nonce};
  sha3.shake256({seed, n}, prf.value);
  mlkem::sample_cbd2(prf.value, out);
}

// ---- K-PKE (§5) ----

// K-PKE.KeyGen (Algorithm 13): writes ek and dk_pke. `domain_separated` appends k to d in G as
// FIPS 203 does; round-3 Kyber hashed d alone.
template <std::size_t K>
void kpke_keygen(Sha3& sha3, Seed d, bool domain_separated, std::span<std::uint8_t> ek,
                 std::span<std::uint8_t> dk_pke) {
  Wiped<std::array<std::uint8_t, 64>> rho_sigma;
  const std::array<std::uint8_t, 1> k{static_cast<std::uint8_t>(K)};
  if (domain_separated)
    sha3.sha3_512({d, k}, rho_sigma.value);
  else
    sha3.sha3_512({d}, rho_sigma.value);
  // rho becomes part of ek: public by design, and the matrix sampling branches on its stream.
  std::array<std::uint8_t, 32> rho{};
  std::copy_n(rho_sigma.value.begin(), 32, rho.begin());
  declassify(rho.data(), rho.size());
  const Seed sigma(rho_sigma.value.data() + 32, 32);

  Wiped<PolyVec<K>> s, e;
  for (std::size_t i = 0; i < K; ++i)
    sample_noise(sha3, sigma, static_cast<std::uint8_t>(i), s.value.p[i]);
  for (std::size_t i = 0; i < K; ++i)
    sample_noise(sha3, sigma, static_cast<std::uint8_t>(K + i), e.value.p[i]);
  for (std::size_t i = 0; i < K; ++i) {
    mlkem::ntt(s.value.p[i]);
    mlkem::ntt(e.value.p[i]);
  }
  PolyVec<K> row;
  Wiped<Poly> t;
  for (std::size_t i = 0; i < K; ++i) {
    // t-hat[i] = sum over j of A[i][j] s-hat[j], + e-hat[i]; to_montgomery undoes the product's
    // R^-1.
    expand_row<K>(sha3, rho, i, /*transposed=*/false, row);
    mlkem::ntt_multiply_accumulate(t.value, row, s.value);
    mlkem::to_montgomery(t.value);
    mlkem::poly_add(t.value, e.value.p[i]);
    mlkem::poly_reduce(t.value);
    mlkem::byte_encode12(t.value, ek.subspan(i * kPolyBytes).template first<kPolyBytes>());
  }
  std::copy(rho.begin(), rho.end(), ek.begin() + static_cast<std::ptrdiff_t>(Layout<K>::kVector));
  for (std::size_t i = 0; i < K; ++i) {
    mlkem::poly_reduce(s.value.p[i]);
    mlkem::byte_encode12(s.value.p[i], dk_pke.subspan(i * kPolyBytes).template first<kPolyBytes>());
  }
}

// The noise K-PKE.Encrypt samples from its coins r (Algorithm 14, steps 9-17): y-hat (already
// transformed), e1 and e2; e1 or e2 only when asked (the incremental halves need one each).
template <std::size_t K>
struct EncryptNoise {
  PolyVec<K> y_hat;
  PolyVec<K> e1;
  Poly e2;
};

template <std::size_t K>
void sample_encrypt_noise(Sha3& sha3, Seed r, bool with_e1, bool with_e2, EncryptNoise<K>& n) {
  for (std::size_t i = 0; i < K; ++i) {
    sample_noise(sha3, r, static_cast<std::uint8_t>(i), n.y_hat.p[i]);
    mlkem::ntt(n.y_hat.p[i]);
  }
  if (with_e1)
    for (std::size_t i = 0; i < K; ++i)
      sample_noise(sha3, r, static_cast<std::uint8_t>(K + i), n.e1.p[i]);
  if (with_e2) sample_noise(sha3, r, static_cast<std::uint8_t>(2 * K), n.e2);
}

// c1 = ByteEncode_du(Compress_du(u)), u = NTT^-1(A^T y-hat) + e1 (Algorithm 14, steps 18-19, 22).
template <std::size_t K>
void encrypt_u(Sha3& sha3, Seed rho, const EncryptNoise<K>& n, std::span<std::uint8_t> c1) {
  constexpr int kDu = Params<K>::kDu;
  PolyVec<K> row;
  Wiped<Poly> u;
  for (std::size_t i = 0; i < K; ++i) {
    expand_row<K>(sha3, rho, i, /*transposed=*/true, row);
    mlkem::ntt_multiply_accumulate(u.value, row, n.y_hat);
    mlkem::inverse_ntt(u.value);
    mlkem::poly_add(u.value, n.e1.p[i]);
    mlkem::poly_reduce(u.value);
    mlkem::compress_encode<kDu>(
        u.value, c1.subspan(i * Layout<K>::kPolyC1).template first<Layout<K>::kPolyC1>());
  }
}

// c2 = ByteEncode_dv(Compress_dv(v)), v = NTT^-1(t-hat^T y-hat) + e2 + Decompress_1(m)
// (Algorithm 14, steps 20-21, 23).
template <std::size_t K>
void encrypt_v(const PolyVec<K>& t_hat, const EncryptNoise<K>& n, Seed m,
               std::span<std::uint8_t, Layout<K>::kC2> c2) {
  Wiped<Poly> v, mu;
  mlkem::ntt_multiply_accumulate(v.value, t_hat, n.y_hat);
  mlkem::inverse_ntt(v.value);
  mlkem::poly_add(v.value, n.e2);
  mlkem::decode_decompress<1>(m, mu.value);
  mlkem::poly_add(v.value, mu.value);
  mlkem::poly_reduce(v.value);
  mlkem::compress_encode<Params<K>::kDv>(v.value, c2);
}

template <std::size_t K>
void decode_vector(std::span<const std::uint8_t> in, PolyVec<K>& out) {
  for (std::size_t i = 0; i < K; ++i)
    mlkem::byte_decode12(in.subspan(i * kPolyBytes).template first<kPolyBytes>(), out.p[i]);
}

// K-PKE.Encrypt (Algorithm 14) of m under ek with coins r, into c (which is kCt bytes).
template <std::size_t K>
void kpke_encrypt(Sha3& sha3, std::span<const std::uint8_t> ek, Seed m, Seed r,
                  std::span<std::uint8_t> c) {
  Wiped<EncryptNoise<K>> noise;
  sample_encrypt_noise<K>(sha3, r, /*with_e1=*/true, /*with_e2=*/true, noise.value);
  // rho is public (part of ek); in decapsulation ek comes out of the secret dk, so say so.
  std::array<std::uint8_t, 32> rho{};
  std::copy_n(ek.begin() + static_cast<std::ptrdiff_t>(Layout<K>::kVector), 32, rho.begin());
  declassify(rho.data(), rho.size());
  encrypt_u<K>(sha3, rho, noise.value, c.first(Layout<K>::kC1));
  PolyVec<K> t_hat;
  decode_vector<K>(ek, t_hat);
  encrypt_v<K>(t_hat, noise.value, m, c.subspan(Layout<K>::kC1).template first<Layout<K>::kC2>());
}

// K-PKE.Decrypt (Algorithm 15): m' from c under dk_pke.
template <std::size_t K>
void kpke_decrypt(std::span<const std::uint8_t> dk_pke, std::span<const std::uint8_t> c,
                  std::span<std::uint8_t, 32> m) {
  constexpr int kDu = Params<K>::kDu;
  Wiped<PolyVec<K>> s_hat;
  PolyVec<K> u;
  Poly v;
  Wiped<Poly> w;
  for (std::size_t i = 0; i < K; ++i) {
    mlkem::decode_decompress<kDu>(
        c.subspan(i * Layout<K>::kPolyC1).template first<Layout<K>::kPolyC1>(), u.p[i]);
    mlkem::ntt(u.p[i]);
  }
  mlkem::decode_decompress<Params<K>::kDv>(
      c.subspan(Layout<K>::kC1).template first<Layout<K>::kC2>(), v);
  decode_vector<K>(dk_pke, s_hat.value);
  // w = v' - NTT^-1(s-hat^T NTT(u')).
  mlkem::ntt_multiply_accumulate(w.value, s_hat.value, u);
  mlkem::inverse_ntt(w.value);
  Poly& difference = v;
  mlkem::poly_sub(difference, w.value);
  mlkem::poly_reduce(difference);
  mlkem::compress_encode<1>(difference, m);
  secure_wipe({reinterpret_cast<std::uint8_t*>(&v), sizeof v});
}

// ---- constant-time helpers ----

// Hides `x` from the optimiser, so that a mask built from a comparison stays arithmetic instead of
// becoming a branch.
inline std::uint32_t value_barrier(std::uint32_t x) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  __asm__("" : "+r"(x));
#endif
  return x;
}

// 0xFF when a == b (same length), else 0, reading every byte.
std::uint8_t equal_mask(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept {
  std::uint32_t diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<std::uint32_t>(a[i] ^ b[i]);
  // diff is at most 255, so diff - 1 wraps around (sets bit 31) exactly when diff == 0.
  const std::uint32_t equal = value_barrier((diff - 1) >> 31);
  return static_cast<std::uint8_t>(0U - equal);
}

bool is_reduced_vector(std::span<const std::uint8_t> encoded, std::size_t k) noexcept {
  bool ok = true;
  for (std::size_t i = 0; i < k; ++i)
    ok &= mlkem::encoded_poly_is_reduced(encoded.subspan(i * kPolyBytes).first<kPolyBytes>());
  return ok;
}

// ---- ML-KEM (§6, §7) ----

template <std::size_t K>
MlKemKeyPair generate(Seed d, Seed z, bool domain_separated) {
  using L = Layout<K>;
  Sha3 sha3;
  MlKemKeyPair out{Bytes(L::kEk), SecretBytes(L::kDk)};
  std::span<std::uint8_t> dk = out.decapsulation_key.expose_mut();
  kpke_keygen<K>(sha3, d, domain_separated, out.encapsulation_key, dk.first(L::kVector));
  // dk = dk_pke || ek || H(ek) || z (Algorithm 16).
  std::copy(out.encapsulation_key.begin(), out.encapsulation_key.end(),
            dk.begin() + static_cast<std::ptrdiff_t>(L::kDkEk));
  sha3.sha3_256({out.encapsulation_key}, dk.subspan(L::kDkH).template first<32>());
  std::copy(z.begin(), z.end(), dk.begin() + static_cast<std::ptrdiff_t>(L::kDkZ));
  return out;
}

template <std::size_t K>
Status check_encapsulation_key(ByteView ek) {
  if (ek.size() != Layout<K>::kEk)
    return Error(Errc::kInvalidKey, "ML-KEM: encapsulation key size");
  // ek is public: branching on the modulus check is fine.
  if (!is_reduced_vector(ek, K))
    return Error(Errc::kInvalidKey, "ML-KEM: encapsulation key not reduced mod q");
  return ok_status();
}

template <std::size_t K>
Status check_decapsulation_key(Sha3& sha3, ByteView dk) {
  using L = Layout<K>;
  if (dk.size() != L::kDk) return Error(Errc::kInvalidKey, "ML-KEM: decapsulation key size");
  std::array<std::uint8_t, 32> h{};
  sha3.sha3_256({dk.subspan(L::kDkEk, L::kEk)}, h);
  // A verdict on the key, public by design (a corrupted key is refused).
  if (!declassified(constant_time_equals(h, dk.subspan(L::kDkH, 32))))
    return Error(Errc::kInvalidKey, "ML-KEM: decapsulation key hash check");
  return ok_status();
}

// ML-KEM.Encaps_internal (Algorithm 17) on a checked ek whose H(ek) is `h`.
template <std::size_t K>
MlKemEncapsulation encapsulate(Sha3& sha3, ByteView ek, ByteView h, Seed m) {
  Wiped<std::array<std::uint8_t, 64>> k_r;  // (K, r) = G(m || H(ek))
  sha3.sha3_512({m, h}, k_r.value);
  MlKemEncapsulation out{Bytes(Layout<K>::kCt), {}};
  kpke_encrypt<K>(sha3, ek, m, Seed(k_r.value.data() + 32, 32), out.ciphertext);
  std::copy_n(k_r.value.begin(), 32, out.shared_secret.expose_mut().begin());
  return out;
}

// ML-KEM.Decaps_internal (Algorithm 18) on a checked dk and a ciphertext of the right size.
template <std::size_t K>
MlKemSecret decapsulate(Sha3& sha3, ByteView dk, ByteView c) {
  using L = Layout<K>;
  const ByteView dk_pke = dk.first(L::kVector);
  const ByteView ek = dk.subspan(L::kDkEk, L::kEk);
  const ByteView h = dk.subspan(L::kDkH, 32);
  const ByteView z = dk.subspan(L::kDkZ, 32);
  Wiped<std::array<std::uint8_t, 32>> m;
  kpke_decrypt<K>(dk_pke, c, m.value);
  Wiped<std::array<std::uint8_t, 64>> k_r;  // (K', r') = G(m' || h)
  sha3.sha3_512({m.value, h}, k_r.value);
  Wiped<std::array<std::uint8_t, 32>> k_bar;  // K-bar = J(z || c)
  sha3.shake256({z, c}, k_bar.value);
  Wiped<std::array<std::uint8_t, L::kCt>> c_prime;
  kpke_encrypt<K>(sha3, ek, m.value, Seed(k_r.value.data() + 32, 32), c_prime.value);
  // K' if c == c', else K-bar: a mask from a full comparison and a select, without branches.
  const std::uint8_t equal = equal_mask(c, c_prime.value);
  MlKemSecret out;
  for (std::size_t i = 0; i < 32; ++i)
    out.expose_mut()[i] =
        static_cast<std::uint8_t>(k_bar.value[i] ^ (equal & (k_r.value[i] ^ k_bar.value[i])));
  return out;
}

// The dispatch from the run-time parameter set to the templates.
template <class F>
decltype(auto) with_k(MlKemParameterSet set, F&& f) {
  if (set == MlKemParameterSet::kMlKem768) return f(std::integral_constant<std::size_t, 3>{});
  return f(std::integral_constant<std::size_t, 4>{});
}

// SHAKE256(K || SHA3-256(c), 32): the round-3 Kyber shared secret from ML-KEM's K (§2.1).
MlKemSecret kyber_shared_secret(const MlKemSecret& k, ByteView c) {
  Sha3 sha3;
  std::array<std::uint8_t, 32> hc{};
  sha3.sha3_256({c}, hc);
  MlKemSecret out;
  sha3.shake256({k.expose(), hc}, out.expose_mut());
  return out;
}

// r || m || rho || H(ek) in MlKem768EncapsState.
constexpr std::size_t kStateR = 0, kStateM = 32, kStateRho = 64, kStateH = 96;

}  // namespace

MlKemKeyPair mlkem_generate_from_seed(MlKemParameterSet set, const MlKemSecret& d,
                                      const MlKemSecret& z) {
  return with_k(set, [&](auto k) {
    return generate<decltype(k)::value>(d.expose(), z.expose(), /*domain_separated=*/true);
  });
}

Result<MlKemKeyPair> mlkem_generate_from_seed_form(MlKemParameterSet set, ByteView seed) {
  if (seed.size() != kMlKemSeedFormSize)
    return Error(Errc::kInvalidKey, "ML-KEM: a key seed is 64 bytes (d || z)");
  return with_k(set, [&](auto k) {
    return generate<decltype(k)::value>(seed.first<32>(), seed.subspan<32, 32>(),
                                        /*domain_separated=*/true);
  });
}

MlKemKeyPair mlkem_generate_from_seed_ipd(MlKemParameterSet set, const MlKemSecret& d,
                                          const MlKemSecret& z) {
  return with_k(set, [&](auto k) {
    return generate<decltype(k)::value>(d.expose(), z.expose(), /*domain_separated=*/false);
  });
}

Result<MlKemKeyPair> mlkem_generate(MlKemParameterSet set, RandomSource& random) {
  MlKemSecret d, z;
  if (auto st = random.fill(d.expose_mut()); !st) return st.error();
  if (auto st = random.fill(z.expose_mut()); !st) return st.error();
  return mlkem_generate_from_seed(set, d, z);
}

Status mlkem_check_encapsulation_key(MlKemParameterSet set, ByteView encapsulation_key) {
  return with_k(
      set, [&](auto k) { return check_encapsulation_key<decltype(k)::value>(encapsulation_key); });
}

Status mlkem_check_decapsulation_key(MlKemParameterSet set, ByteView decapsulation_key) {
  Sha3 sha3;
  return with_k(set, [&](auto k) {
    return check_decapsulation_key<decltype(k)::value>(sha3, decapsulation_key);
  });
}

Result<MlKemEncapsulation> mlkem_encapsulate_from_seed(MlKemParameterSet set,
                                                       ByteView encapsulation_key,
                                                       const MlKemSecret& m) {
  return with_k(set, [&](auto k) -> Result<MlKemEncapsulation> {
    constexpr std::size_t K = decltype(k)::value;
    if (auto st = check_encapsulation_key<K>(encapsulation_key); !st) return st.error();
    Sha3 sha3;
    std::array<std::uint8_t, 32> h{};
    sha3.sha3_256({encapsulation_key}, h);
    return encapsulate<K>(sha3, encapsulation_key, h, m.expose());
  });
}

Result<MlKemEncapsulation> mlkem_encapsulate(MlKemParameterSet set, RandomSource& random,
                                             ByteView encapsulation_key) {
  MlKemSecret m;
  if (auto st = random.fill(m.expose_mut()); !st) return st.error();
  return mlkem_encapsulate_from_seed(set, encapsulation_key, m);
}

Result<MlKemSecret> mlkem_decapsulate(MlKemParameterSet set, ByteView decapsulation_key,
                                      ByteView ciphertext) {
  return with_k(set, [&](auto k) -> Result<MlKemSecret> {
    constexpr std::size_t K = decltype(k)::value;
    Sha3 sha3;
    // The checks of §7.3, key first (as the ACVP and Wycheproof vectors expect either order, the
    // cheaper size checks of both come before the hash).
    if (decapsulation_key.size() != Layout<K>::kDk)
      return Error(Errc::kInvalidKey, "ML-KEM: decapsulation key size");
    if (ciphertext.size() != Layout<K>::kCt)
      return Error(Errc::kInvalidMessage, "ML-KEM: ciphertext size");
    if (auto st = check_decapsulation_key<K>(sha3, decapsulation_key); !st) return st.error();
    return decapsulate<K>(sha3, decapsulation_key, ciphertext);
  });
}

// ---- checked keys ----

Result<MlKemEncapsulationKey> MlKemEncapsulationKey::check(MlKemParameterSet set,
                                                           ByteView encapsulation_key) {
  if (auto st = mlkem_check_encapsulation_key(set, encapsulation_key); !st) return st.error();
  MlKemEncapsulationKey key;
  key.set_ = set;
  key.ek_.assign(encapsulation_key.begin(), encapsulation_key.end());
  Sha3().sha3_256({encapsulation_key}, key.hash_);
  return key;
}

Result<MlKemDecapsulationKey> MlKemDecapsulationKey::check(MlKemParameterSet set,
                                                           ByteView decapsulation_key) {
  if (auto st = mlkem_check_decapsulation_key(set, decapsulation_key); !st) return st.error();
  MlKemDecapsulationKey key;
  key.set_ = set;
  key.dk_ = SecretBytes::copy_of(decapsulation_key);
  return key;
}

MlKemEncapsulation mlkem_encapsulate_from_seed(const MlKemEncapsulationKey& encapsulation_key,
                                               const MlKemSecret& m) {
  return with_k(encapsulation_key.parameter_set(), [&](auto k) {
    Sha3 sha3;
    return encapsulate<decltype(k)::value>(sha3, encapsulation_key.bytes(),
                                           encapsulation_key.hash(), m.expose());
  });
}

Result<MlKemEncapsulation> mlkem_encapsulate(RandomSource& random,
                                             const MlKemEncapsulationKey& encapsulation_key) {
  MlKemSecret m;
  if (auto st = random.fill(m.expose_mut()); !st) return st.error();
  return mlkem_encapsulate_from_seed(encapsulation_key, m);
}

Result<MlKemSecret> mlkem_decapsulate(const MlKemDecapsulationKey& decapsulation_key,
                                      ByteView ciphertext) {
  return with_k(decapsulation_key.parameter_set(), [&](auto k) -> Result<MlKemSecret> {
    constexpr std::size_t K = decltype(k)::value;
    if (ciphertext.size() != Layout<K>::kCt)
      return Error(Errc::kInvalidMessage, "ML-KEM: ciphertext size");
    Sha3 sha3;
    return decapsulate<K>(sha3, decapsulation_key.expose(), ciphertext);
  });
}

// ---- incremental ML-KEM-768 ----

Result<std::array<std::uint8_t, kMlKem768HeaderSize>> mlkem768_header(ByteView encapsulation_key) {
  if (auto st = check_encapsulation_key<3>(encapsulation_key); !st) return st.error();
  std::array<std::uint8_t, kMlKem768HeaderSize> header{};
  std::copy_n(encapsulation_key.begin() + kMlKem768VectorSize, 32, header.begin());
  Sha3().sha3_256({encapsulation_key}, std::span<std::uint8_t, 64>(header).last<32>());
  return header;
}

Result<MlKem768Encaps1> mlkem768_encaps1_from_seed(ByteView header, const MlKemSecret& m) {
  if (header.size() != kMlKem768HeaderSize)
    return Error(Errc::kInvalidArgument, "ML-KEM-768 encaps1: header size");
  const Seed rho(header.data(), 32);
  const Seed h(header.data() + 32, 32);
  Sha3 sha3;
  Wiped<std::array<std::uint8_t, 64>> k_r;  // (K, r) = G(m || H(ek)), as in Encaps
  sha3.sha3_512({m.expose(), h}, k_r.value);
  Wiped<EncryptNoise<3>> noise;
  sample_encrypt_noise<3>(sha3, Seed(k_r.value.data() + 32, 32), /*with_e1=*/true,
                          /*with_e2=*/false, noise.value);
  MlKem768Encaps1 out;
  encrypt_u<3>(sha3, rho, noise.value, out.ciphertext1);
  std::copy_n(k_r.value.begin(), 32, out.shared_secret.expose_mut().begin());
  auto state = out.state.bytes.expose_mut();
  std::copy_n(k_r.value.begin() + 32, 32, state.begin() + kStateR);
  std::copy(m.expose().begin(), m.expose().end(), state.begin() + kStateM);
  std::copy(rho.begin(), rho.end(), state.begin() + kStateRho);
  std::copy(h.begin(), h.end(), state.begin() + kStateH);
  return out;
}

Result<MlKem768Encaps1> mlkem768_encaps1(RandomSource& random, ByteView header) {
  MlKemSecret m;
  if (auto st = random.fill(m.expose_mut()); !st) return st.error();
  return mlkem768_encaps1_from_seed(header, m);
}

Result<std::array<std::uint8_t, kMlKem768Ciphertext2Size>> mlkem768_encaps2(
    ByteView vector, const MlKem768EncapsState& state) {
  if (vector.size() != kMlKem768VectorSize)
    return Error(Errc::kInvalidKey, "ML-KEM-768 encaps2: key vector size");
  if (!is_reduced_vector(vector, 3))
    return Error(Errc::kInvalidKey, "ML-KEM-768 encaps2: key vector not reduced mod q");
  const auto s = state.bytes.expose();
  // ek = t-hat || rho must hash to the header's H(ek) (public values: ek and the header).
  Sha3 sha3;
  std::array<std::uint8_t, 32> h{};
  sha3.sha3_256({vector, s.subspan(kStateRho, 32)}, h);
  std::array<std::uint8_t, 32> expected{};
  std::copy_n(s.begin() + kStateH, 32, expected.begin());
  declassify(expected.data(), expected.size());  // H(ek), public, kept beside secrets
  if (!declassified(constant_time_equals(h, expected)))
    return Error(Errc::kInvalidKey, "ML-KEM-768 encaps2: key vector does not match the header");
  Wiped<EncryptNoise<3>> noise;
  sample_encrypt_noise<3>(sha3, s.subspan(kStateR).first<32>(), /*with_e1=*/false,
                          /*with_e2=*/true, noise.value);
  PolyVec<3> t_hat;
  decode_vector<3>(vector, t_hat);
  std::array<std::uint8_t, kMlKem768Ciphertext2Size> ct2{};
  encrypt_v<3>(t_hat, noise.value, s.subspan(kStateM).first<32>(), ct2);
  return ct2;
}

// ---- Kyber1024 ----

Result<MlKemKeyPair> kyber1024_generate(RandomSource& random) {
  return mlkem_generate(MlKemParameterSet::kMlKem1024, random);
}

Result<MlKemEncapsulation> kyber1024_encapsulate_from_seed(ByteView encapsulation_key,
                                                           const MlKemSecret& m) {
  auto e = mlkem_encapsulate_from_seed(MlKemParameterSet::kMlKem1024, encapsulation_key, m);
  if (!e) return e.error();
  e->shared_secret = kyber_shared_secret(e->shared_secret, e->ciphertext);
  return e;
}

Result<MlKemEncapsulation> kyber1024_encapsulate(RandomSource& random, ByteView encapsulation_key) {
  MlKemSecret m;
  if (auto st = random.fill(m.expose_mut()); !st) return st.error();
  return kyber1024_encapsulate_from_seed(encapsulation_key, m);
}

Result<MlKemSecret> kyber1024_decapsulate(ByteView decapsulation_key, ByteView ciphertext) {
  auto k = mlkem_decapsulate(MlKemParameterSet::kMlKem1024, decapsulation_key, ciphertext);
  if (!k) return k.error();
  return kyber_shared_secret(*k, ciphertext);
}

Result<MlKemEncapsulation> kyber1024_encapsulate(RandomSource& random,
                                                 const MlKemEncapsulationKey& encapsulation_key) {
  if (encapsulation_key.parameter_set() != MlKemParameterSet::kMlKem1024)
    return Error(Errc::kInvalidArgument, "Kyber1024: an ML-KEM-768 key");
  auto e = mlkem_encapsulate(random, encapsulation_key);
  if (!e) return e.error();
  e->shared_secret = kyber_shared_secret(e->shared_secret, e->ciphertext);
  return e;
}

Result<MlKemSecret> kyber1024_decapsulate(const MlKemDecapsulationKey& decapsulation_key,
                                          ByteView ciphertext) {
  if (decapsulation_key.parameter_set() != MlKemParameterSet::kMlKem1024)
    return Error(Errc::kInvalidArgument, "Kyber1024: an ML-KEM-768 key");
  auto k = mlkem_decapsulate(decapsulation_key, ciphertext);
  if (!k) return k.error();
  return kyber_shared_secret(*k, ciphertext);
}

namespace {
Bytes typed(ByteView raw, std::size_t raw_size) {
  if (raw.size() != raw_size) std::abort();  // a caller bug (documented), never input-driven
  Bytes out;
  out.reserve(raw.size() + 1);
  out.push_back(kKyber1024Type);
  out.insert(out.end(), raw.begin(), raw.end());
  return out;
}
}  // namespace

Bytes kyber1024_serialize_public_key(ByteView encapsulation_key) {
  return typed(encapsulation_key, kKyber1024PublicKeySize - 1);
}

Status kyber1024_check_public_key(ByteView serialized) {
  if (serialized.size() != kKyber1024PublicKeySize)
    return Error(Errc::kInvalidKey, "Kyber1024 public key: size");
  if (serialized[0] != kKyber1024Type)
    return Error(Errc::kInvalidKey, "Kyber1024 public key: type");
  return check_encapsulation_key<4>(serialized.subspan(1));
}

Result<MlKemEncapsulationKey> kyber1024_parse_public_key(ByteView serialized) {
  if (serialized.size() != kKyber1024PublicKeySize)
    return Error(Errc::kInvalidKey, "Kyber1024 public key: size");
  if (serialized[0] != kKyber1024Type)
    return Error(Errc::kInvalidKey, "Kyber1024 public key: type");
  return MlKemEncapsulationKey::check(MlKemParameterSet::kMlKem1024, serialized.subspan(1));
}

SecretBytes kyber1024_serialize_secret_key(ByteView decapsulation_key) {
  if (decapsulation_key.size() != kKyber1024SecretKeySize - 1) std::abort();  // a caller bug
  SecretBytes out(kKyber1024SecretKeySize);
  out.expose_mut()[0] = kKyber1024Type;
  std::copy(decapsulation_key.begin(), decapsulation_key.end(), out.expose_mut().begin() + 1);
  return out;
}

Result<MlKemDecapsulationKey> kyber1024_parse_secret_key(ByteView serialized) {
  if (serialized.size() != kKyber1024SecretKeySize)
    return Error(Errc::kInvalidKey, "Kyber1024 secret key: size");
  if (serialized[0] != kKyber1024Type)
    return Error(Errc::kInvalidKey, "Kyber1024 secret key: type");
  return MlKemDecapsulationKey::check(MlKemParameterSet::kMlKem1024, serialized.subspan(1));
}

Bytes kyber1024_serialize_ciphertext(ByteView ciphertext) {
  return typed(ciphertext, kKyber1024CiphertextSize - 1);
}

Result<Bytes> kyber1024_parse_ciphertext(ByteView serialized) {
  if (serialized.size() != kKyber1024CiphertextSize)
    return Error(Errc::kInvalidMessage, "Kyber1024 ciphertext: size");
  if (serialized[0] != kKyber1024Type)
    return Error(Errc::kInvalidMessage, "Kyber1024 ciphertext: type");
  return Bytes(serialized.begin() + 1, serialized.end());
}

}  // namespace hush::internal::crypto
