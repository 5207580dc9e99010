// hush fuzz target: ML-KEM (src/crypto/mlkem.h) with hostile ciphertexts, keys and key vectors.
// The input layout is in mlkem_fixed.h. Checked:
//   - a ciphertext of the right length always decapsulates (never an error): to J(z || c), unless
//     it is the fixed genuine ciphertext, which gives its K; any other length is kInvalidMessage;
//     Kyber1024's decapsulation is ML-KEM-1024's plus the round-3 post-processing;
//   - arbitrary decapsulation key material (with a consistent H(ek)) passes the checks and
//     decapsulates without a crash; keys of the wrong length are kInvalidKey, and
//     mlkem_check_decapsulation_key agrees with mlkem_decapsulate;
//   - an encapsulation key is accepted by encapsulation exactly when it passes the modulus check
//     (else kInvalidKey, also from the header and Kyber1024's parser); an accepted ML-KEM-768 key's
//     incremental encapsulation equals the one-shot one;
//   - encaps2 accepts exactly the t-hat that is reduced and hashes (with rho) to the header's
//   H(ek),
//     and then completes the one-shot ciphertext; everything else is kInvalidKey.
#include <cstddef>
#include <cstdint>

#include <hush/bytes.h>
#include <hush/result.h>
#include <hush/secret.h>

#include "crypto/hash.h"
#include "crypto/mlkem.h"
#include "fuzz_common.h"
#include "mlkem_fixed.h"

using namespace hush;
namespace crypto = hush::internal::crypto;

namespace {

struct Setup {
  fuzz::MlKemFixed small = fuzz::make_mlkem_fixed(crypto::MlKemParameterSet::kMlKem768);
  fuzz::MlKemFixed big = fuzz::make_mlkem_fixed(crypto::MlKemParameterSet::kMlKem1024);
};

const Setup& setup() {
  static const Setup* s = new Setup();
  return *s;
}

Bytes rejection_key(ByteView z, ByteView c) {
  Bytes out(32);
  crypto::Sha3().shake256({z, c}, out);
  return out;
}

bool same(ByteView a, ByteView b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

void decapsulate(const fuzz::MlKemFixed& f, ByteView c) {
  const ByteView dk = f.keys.decapsulation_key.expose();
  auto k = crypto::mlkem_decapsulate(f.set, dk, c);
  auto kyber = f.set == crypto::MlKemParameterSet::kMlKem1024
                   ? crypto::kyber1024_decapsulate(dk, c)
                   : Result<crypto::MlKemSecret>(Error(Errc::kInvalidArgument, "unused"));
  if (c.size() != crypto::mlkem_sizes(f.set).ciphertext) {
    fuzz::check(!k && k.error().code() == Errc::kInvalidMessage, "wrong-size ciphertext");
    if (f.set == crypto::MlKemParameterSet::kMlKem1024)
      fuzz::check(!kyber && kyber.error().code() == Errc::kInvalidMessage,
                  "Kyber1024: wrong-size ciphertext");
    return;
  }
  fuzz::check(k.has_value(), "a ciphertext of the right size must decapsulate");
  if (same(c, f.ciphertext))
    fuzz::check(same(k->expose(), f.shared_secret), "the genuine ciphertext gives its K");
  else
    fuzz::check(same(k->expose(), rejection_key(dk.last(32), c)),
                "any other ciphertext is implicitly rejected to J(z || c)");
  if (f.set == crypto::MlKemParameterSet::kMlKem1024) {
    fuzz::check(kyber.has_value(), "Kyber1024 decapsulates");
    Bytes expected(32);
    crypto::Sha3().shake256({k->expose(), crypto::sha3_256(c)}, expected);
    fuzz::check(same(kyber->expose(), expected), "Kyber1024 = ML-KEM-1024 + round-3 KDF");
  }
}

void hostile_key(const fuzz::MlKemFixed& f, ByteView operand) {
  const std::size_t dk_size = crypto::mlkem_sizes(f.set).decapsulation_key;
  const std::size_t ek_size = crypto::mlkem_sizes(f.set).encapsulation_key;
  const std::size_t vector = ek_size - 32;
  Bytes dk;
  if (operand.size() == dk_size - 32) {
    // dk_pke || ek || z: insert H(ek) before z.
    dk.assign(operand.begin(), operand.end() - 32);
    const auto h = crypto::sha3_256(operand.subspan(vector, ek_size));
    dk.insert(dk.end(), h.begin(), h.end());
    dk.insert(dk.end(), operand.end() - 32, operand.end());
  } else {
    dk.assign(operand.begin(), operand.end());
  }
  const auto st = crypto::mlkem_check_decapsulation_key(f.set, dk);
  auto k = crypto::mlkem_decapsulate(f.set, dk, f.ciphertext);
  fuzz::check(st.has_value() == k.has_value(), "the dk check agrees with decapsulation");
  if (dk.size() != dk_size) {
    fuzz::check(!k && k.error().code() == Errc::kInvalidKey, "wrong-size dk is kInvalidKey");
    return;
  }
  if (operand.size() == dk_size - 32) fuzz::check(k.has_value(), "a consistent dk is accepted");
  if (!k) fuzz::check(k.error().code() == Errc::kInvalidKey, "a bad dk is kInvalidKey");
}

void hostile_encapsulation_key(const fuzz::MlKemFixed& f, ByteView ek) {
  const auto st = crypto::mlkem_check_encapsulation_key(f.set, ek);
  auto enc = crypto::mlkem_encapsulate_from_seed(f.set, ek, fuzz::mlkem_fixed_seed(0x33));
  fuzz::check(st.has_value() == enc.has_value(), "the ek check agrees with encapsulation");
  if (!enc) fuzz::check(enc.error().code() == Errc::kInvalidKey, "a bad ek is kInvalidKey");
  if (f.set == crypto::MlKemParameterSet::kMlKem1024) {
    Bytes typed{crypto::kKyber1024Type};
    typed.insert(typed.end(), ek.begin(), ek.end());
    auto parsed = crypto::kyber1024_parse_public_key(typed);
    fuzz::check(parsed.has_value() == enc.has_value(), "Kyber1024's parser agrees");
    if (!parsed) fuzz::check(parsed.error().code() == Errc::kInvalidKey, "Kyber1024 parse error");
    return;
  }
  auto header = crypto::mlkem768_header(ek);
  fuzz::check(header.has_value() == enc.has_value(), "the header agrees with encapsulation");
  if (!header) {
    fuzz::check(header.error().code() == Errc::kInvalidKey, "header error");
    return;
  }
  auto first = crypto::mlkem768_encaps1_from_seed(*header, fuzz::mlkem_fixed_seed(0x33));
  fuzz::check(first.has_value(), "encaps1 on a valid header");
  auto second = crypto::mlkem768_encaps2(ek.first(crypto::kMlKem768VectorSize), first->state);
  fuzz::check(second.has_value(), "encaps2 on the header's own key");
  Bytes joined(first->ciphertext1.begin(), first->ciphertext1.end());
  joined.insert(joined.end(), second->begin(), second->end());
  fuzz::check(same(joined, enc->ciphertext), "encaps1 || encaps2 == Encaps");
  fuzz::check(same(first->shared_secret.expose(), enc->shared_secret.expose()), "same K");
}

void encaps2(ByteView header, ByteView t_hat) {
  auto first = crypto::mlkem768_encaps1_from_seed(header, fuzz::mlkem_fixed_seed(0x44));
  if (header.size() != crypto::kMlKem768HeaderSize) {
    fuzz::check(!first && first.error().code() == Errc::kInvalidArgument, "header size");
    return;
  }
  fuzz::check(first.has_value(), "encaps1 takes any 64-byte header");
  auto second = crypto::mlkem768_encaps2(t_hat, first->state);
  Bytes ek(t_hat.begin(), t_hat.end());
  ek.insert(ek.end(), header.begin(), header.begin() + 32);
  const bool matches =
      t_hat.size() == crypto::kMlKem768VectorSize &&
      crypto::mlkem_check_encapsulation_key(crypto::MlKemParameterSet::kMlKem768, ek).has_value() &&
      same(crypto::sha3_256(ek), header.last(32));
  fuzz::check(second.has_value() == matches, "encaps2 accepts exactly the matching t-hat");
  if (!second) {
    fuzz::check(second.error().code() == Errc::kInvalidKey, "encaps2 error");
    return;
  }
  auto whole = crypto::mlkem_encapsulate_from_seed(crypto::MlKemParameterSet::kMlKem768, ek,
                                                   fuzz::mlkem_fixed_seed(0x44));
  fuzz::check(whole.has_value(), "the matching ek encapsulates");
  Bytes joined(first->ciphertext1.begin(), first->ciphertext1.end());
  joined.insert(joined.end(), second->begin(), second->end());
  fuzz::check(same(joined, whole->ciphertext), "encaps1 || encaps2 == Encaps");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Setup& s = setup();
  const fuzz::MlKemFixed& f = (data[0] & 1) != 0 ? s.big : s.small;
  const ByteView operand(data + 1, size - 1);
  switch ((data[0] >> 1) % 5) {
    case 0:
      decapsulate(f, operand);
      break;
    case 1:
      hostile_key(f, operand);
      break;
    case 2:
      hostile_encapsulation_key(f, operand);
      break;
    case 3: {
      auto header = crypto::mlkem768_header(s.small.keys.encapsulation_key);
      fuzz::check(header.has_value(), "fixed header");
      encaps2(*header, operand);
      break;
    }
    default:
      encaps2(operand.first(std::min<std::size_t>(operand.size(), 64)),
              operand.size() > 64 ? operand.subspan(64) : ByteView{});
      break;
  }
  return 0;
}
