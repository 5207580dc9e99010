// hush: SFrame senders and receivers (RFC 9605 §4.4), on the keyed AEADs of sframe_aead.h.
//
// Each key is derived once (add_key, create) into a keyed AEAD and a salt; a frame then costs a
// header, a nonce (salt XOR counter, §4.4.3) and the AEAD. Nothing here logs: frames are many, and
// their failures are an attacker's to cause (the caller counts them if it wants to).
#include <hush/sframe.h>

#include <algorithm>
#include <array>
#include <limits>
#include <unordered_map>

#include <hush/limits.h>

#include "call/replay_window.h"
#include "call/sframe_aead.h"
#include "call/sframe_keys.h"
#include "call/sframe_suite.h"

namespace hush {

namespace call = internal::call;

namespace {

// nonce = sframe_salt XOR encode_big_endian(CTR, Nn) (§4.4.3).
std::array<std::uint8_t, call::kSframeNonceSize> make_nonce(
    const SecretArray<call::kSframeNonceSize>& salt, std::uint64_t counter) noexcept {
  std::array<std::uint8_t, call::kSframeNonceSize> nonce{};
  std::copy(salt.expose().begin(), salt.expose().end(), nonce.begin());
  for (std::size_t i = 0; i < 8; ++i)
    nonce[call::kSframeNonceSize - 1 - i] ^= static_cast<std::uint8_t>(counter >> (8 * i));
  return nonce;
}

bool base_key_size_ok(const SecretBytes& base_key) noexcept {
  return base_key.size() >= kMinSframeBaseKeyBytes && base_key.size() <= kMaxSframeBaseKeyBytes;
}

}  // namespace

// ---- SframeSender ----

struct SframeSender::Impl {
  Impl(SframeCipherSuite s, const call::SuiteParams& p, std::uint64_t kid,
       call::SframeKeyMaterial&& m, std::uint64_t next)
      : suite(s),
        key_id(kid),
        next_counter(next),
        salt(std::move(m.salt)),
        aead(p, m.key.expose(), call::SframeAead::Direction::kSeal) {}

  SframeCipherSuite suite;
  std::uint64_t key_id;
  std::uint64_t next_counter;
  bool exhausted = false;  // counter 2^64-1 was used
  SecretArray<call::kSframeNonceSize> salt;
  call::SframeAead aead;
};

SframeSender::SframeSender(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
SframeSender::~SframeSender() = default;
SframeSender::SframeSender(SframeSender&&) noexcept = default;
SframeSender& SframeSender::operator=(SframeSender&&) noexcept = default;

Result<SframeSender> SframeSender::create(SframeCipherSuite suite, std::uint64_t key_id,
                                          SecretBytes base_key, std::uint64_t next_counter) {
  const auto params = call::suite_params(suite);
  if (!params) return Error(Errc::kInvalidArgument, "SframeSender::create: unknown cipher suite");
  if (!base_key_size_ok(base_key))
    return Error(Errc::kInvalidKey, "SframeSender::create: base key must be 16 to 64 bytes");
  call::SframeKeyMaterial material =
      call::derive_sframe_key_salt(suite, *params, key_id, base_key.expose());
  return SframeSender(
      std::make_unique<Impl>(suite, *params, key_id, std::move(material), next_counter));
}

Result<Bytes> SframeSender::encrypt(ByteView metadata, ByteView plaintext) {
  if (plaintext.size() > kMaxSframeFrameBytes || metadata.size() > kMaxSframeMetadataBytes)
    return Error(Errc::kFrameTooLarge, "SframeSender::encrypt: frame or metadata too large");
  Bytes out(plaintext.size() + kSframeMaxOverhead);
  auto n = encrypt_into(metadata, plaintext, out);
  if (!n) return n.error();
  out.resize(*n);
  return out;
}

Result<std::size_t> SframeSender::encrypt_into(ByteView metadata, ByteView plaintext,
                                               std::span<std::uint8_t> out) {
  Impl& d = *impl_;
  if (plaintext.size() > kMaxSframeFrameBytes || metadata.size() > kMaxSframeMetadataBytes)
    return Error(Errc::kFrameTooLarge, "SframeSender::encrypt: frame or metadata too large");
  if (out.size() < plaintext.size() + kSframeMaxOverhead)
    return Error(Errc::kInvalidArgument, "SframeSender::encrypt_into: output buffer too small");
  if (d.exhausted)
    return Error(Errc::kCounterExhausted,
                 "SframeSender::encrypt: every counter of this key was used; use a new key");
  // The counter is used up before the frame is made (RFC 9605 §9.1: store before use), so that
  // no failure past this point can ever let a (key, nonce) pair be used twice.
  const std::uint64_t counter = d.next_counter;
  if (counter == std::numeric_limits<std::uint64_t>::max()) {
    d.exhausted = true;
  } else {
    d.next_counter = counter + 1;
  }
  std::array<std::uint8_t, kSframeMaxHeaderSize> header_buf{};
  const std::size_t header_size = encode_sframe_header({d.key_id, counter}, header_buf);
  const ByteView header(header_buf.data(), header_size);
  std::copy(header.begin(), header.end(), out.begin());
  const auto nonce = make_nonce(d.salt, counter);
  d.aead.seal(nonce, header, metadata, plaintext, out.data() + header_size);
  return header_size + plaintext.size() + d.aead.tag_size();
}

std::uint64_t SframeSender::next_counter() const noexcept {
  return impl_->next_counter;
}
std::uint64_t SframeSender::key_id() const noexcept {
  return impl_->key_id;
}
SframeCipherSuite SframeSender::suite() const noexcept {
  return impl_->suite;
}

// ---- SframeReceiver ----

namespace {

struct ReceiveKey {
  ReceiveKey(const call::SuiteParams& p, call::SframeKeyMaterial&& m)
      : salt(std::move(m.salt)), aead(p, m.key.expose(), call::SframeAead::Direction::kOpen) {}
  SecretArray<call::kSframeNonceSize> salt;
  call::SframeAead aead;
  call::ReplayWindow window;
};

}  // namespace

struct SframeReceiver::Impl {
  SframeCipherSuite suite;
  std::optional<call::SuiteParams> params;
  // unique_ptr: a key's AEAD (OpenSSL contexts) stays where it is while the map rehashes.
  std::unordered_map<std::uint64_t, std::unique_ptr<ReceiveKey>> keys;
};

SframeReceiver::SframeReceiver(SframeCipherSuite suite)
    : impl_(std::make_unique<Impl>(Impl{suite, call::suite_params(suite), {}})) {}
SframeReceiver::~SframeReceiver() = default;
SframeReceiver::SframeReceiver(SframeReceiver&&) noexcept = default;
SframeReceiver& SframeReceiver::operator=(SframeReceiver&&) noexcept = default;

Status SframeReceiver::add_key(std::uint64_t key_id, SecretBytes base_key) {
  Impl& d = *impl_;
  if (!d.params) return Error(Errc::kInvalidArgument, "SframeReceiver::add_key: unknown suite");
  if (!base_key_size_ok(base_key))
    return Error(Errc::kInvalidKey, "SframeReceiver::add_key: base key must be 16 to 64 bytes");
  if (d.keys.count(key_id) != 0)
    return Error(Errc::kInvalidArgument,
                 "SframeReceiver::add_key: key id already has a key; remove it first");
  if (d.keys.size() >= kMaxSframeReceiverKeys)
    return Error(Errc::kLimitExceeded, "SframeReceiver::add_key: too many key ids");
  auto key = std::make_unique<ReceiveKey>(
      *d.params, call::derive_sframe_key_salt(d.suite, *d.params, key_id, base_key.expose()));
  d.keys.emplace(key_id, std::move(key));
  return ok_status();
}

Status SframeReceiver::remove_key(std::uint64_t key_id) {
  if (impl_->keys.erase(key_id) == 0)
    return Error(Errc::kUnknownKeyId, "SframeReceiver::remove_key: no key for that key id");
  return ok_status();
}

bool SframeReceiver::has_key(std::uint64_t key_id) const noexcept {
  return impl_->keys.count(key_id) != 0;
}
std::size_t SframeReceiver::key_count() const noexcept {
  return impl_->keys.size();
}
SframeCipherSuite SframeReceiver::suite() const noexcept {
  return impl_->suite;
}

Result<SecretBytes> SframeReceiver::decrypt(ByteView metadata, ByteView frame) {
  if (frame.size() > kMaxSframeFrameBytes + kSframeMaxOverhead ||
      metadata.size() > kMaxSframeMetadataBytes)
    return Error(Errc::kFrameTooLarge, "SframeReceiver::decrypt: frame or metadata too large");
  SecretBytes out(frame.size());
  auto n = decrypt_into(metadata, frame, out.expose_mut());
  if (!n) return n.error();
  out.truncate(*n);
  return out;
}

Result<std::size_t> SframeReceiver::decrypt_into(ByteView metadata, ByteView frame,
                                                 std::span<std::uint8_t> out) {
  Impl& d = *impl_;
  if (frame.size() > kMaxSframeFrameBytes + kSframeMaxOverhead ||
      metadata.size() > kMaxSframeMetadataBytes)
    return Error(Errc::kFrameTooLarge, "SframeReceiver::decrypt: frame or metadata too large");
  if (out.size() < frame.size())
    return Error(Errc::kInvalidArgument, "SframeReceiver::decrypt_into: output buffer too small");
  auto parsed = parse_sframe_header(frame);
  if (!parsed) return parsed.error();
  const auto it = d.keys.find(parsed->header.key_id);
  if (it == d.keys.end())
    return Error(Errc::kUnknownKeyId, "SframeReceiver::decrypt: no key for the frame's key id");
  ReceiveKey& key = *it->second;
  const std::uint64_t counter = parsed->header.counter;
  // The window is checked before the (costlier) AEAD and updated only after it authenticated.
  if (!key.window.check(counter))
    return Error(Errc::kReplayedFrame,
                 "SframeReceiver::decrypt: counter already seen or older than the window");
  const ByteView header = frame.first(parsed->size);
  const ByteView body = frame.subspan(parsed->size);
  if (body.size() < key.aead.tag_size())
    return Error(Errc::kAuthenticationFailed, "SframeReceiver::decrypt: shorter than a tag");
  const auto nonce = make_nonce(key.salt, counter);
  if (!key.aead.open(nonce, header, metadata, body, out.data()))
    return Error(Errc::kAuthenticationFailed,
                 "SframeReceiver::decrypt: frame does not authenticate");
  key.window.accept(counter);
  return body.size() - key.aead.tag_size();
}

}  // namespace hush
