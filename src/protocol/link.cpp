// hush: linking a new device (link.h): the link code's text form, the link message (sealing and
// opening), the rules its contents obey, the kept form of a LinkRequest, and import_link.
//
// Link message = 0x01 || f (32: the sealing device's fresh X25519 public u) || AES-256-GCM
// ciphertext and tag of a LinkContents protobuf (proto/envelope.proto), under
//   key (32) || nonce (12) = HKDF-SHA256(ikm = X25519(f, e) || secret, salt = mailbox,
//                                       info = "hush link v1" || f || e)
// with e the code's ephemeral public u, and associated data 0x01 || f || e || mailbox. The key is
// fresh for every message (f is), so the derived nonce is never used twice under one key. Without
// the code's secret nobody derives the key: a relay that learns e and the mailbox can neither read
// a link message nor make one that opens.
//
// Kept form of a LinkRequest (serialize/deserialize, 97 bytes): 0x01 || private scalar (32,
// clamped) || public u (32) || secret (16) || mailbox (16).
//
// Not responsible for: carrying codes or messages, choosing device ids or publishing the device
// list (the application and the Messenger), the crypto itself (src/crypto).
#include <hush/link.h>

#include <algorithm>
#include <array>
#include <string_view>

#include <hush/limits.h>

#include "crypto/aead.h"
#include "crypto/kdf.h"
#include "crypto/x25519.h"
#include "envelope.pb.h"
#include "proto_util.h"
#include "protocol/link_internal.h"

namespace hush {

namespace {

using internal::crypto::Aes256Gcm;

constexpr std::uint8_t kMessageVersion = 0x01;
constexpr std::uint32_t kContentsFormat = 1;
constexpr std::uint8_t kRequestFormat = 0x01;

constexpr std::size_t kSecretSize = 16;
constexpr std::size_t kMailboxSize = 16;
// The message header: version byte and f.
constexpr std::size_t kHeaderSize = 1 + 32;

// ---- the code's text form ----

// The prefix as compared (dashes and spaces are ignored, so its dash is not part of it).
constexpr std::string_view kCodePrefix = "HUSHLINK1";
// ephemeral u (32) || secret (16) || mailbox (16).
constexpr std::size_t kCodeBytes = 32 + kSecretSize + kMailboxSize;
// ceil(64 * 8 / 5) = 103 characters; the last one carries 2 data bits and 3 padding bits.
constexpr std::size_t kCodeChars = (kCodeBytes * 8 + 4) / 5;
constexpr std::size_t kCodeGroup = 8;

// The base32 character (RFC 4648: A-Z, 2-7) for v in 0..31, without a branch or table lookup on v
// (the code carries the secret): 'A' + v, or '2' + (v - 26) = 'A' + v - 41 for v > 25.
char base32_char(std::uint32_t v) noexcept {
  const int x = static_cast<int>(v);
  const int above_25 = (25 - x) >> 8;  // -1 (all ones) when x > 25, else 0
  return static_cast<char>('A' + x + (above_25 & -41));
}

// All ones when lo <= x <= hi, else 0, for x in 0..255 (no branch).
int in_range(int x, int lo, int hi) noexcept {
  return ((lo - 1 - x) & (x - (hi + 1))) >> 8;
}

// The value of a base32 character, either case, without a branch or table lookup on it; `bad`
// gets 1 when it is not in the alphabet.
std::uint32_t base32_value(char c, int& bad) noexcept {
  int x = static_cast<unsigned char>(c);
  x -= in_range(x, 'a', 'z') & ('a' - 'A');
  const int upper = in_range(x, 'A', 'Z');
  const int digit = in_range(x, '2', '7');
  bad |= ~(upper | digit) & 1;
  return static_cast<std::uint32_t>((upper & (x - 'A')) | (digit & (x - '2' + 26)));
}

char ascii_upper(char c) noexcept {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - ('a' - 'A')) : c;
}

// ---- keys ----

struct LinkKeys {
  SecretArray<Aes256Gcm::kKeySize + Aes256Gcm::kNonceSize> okm;
  ByteView key() const noexcept { return okm.expose().first(Aes256Gcm::kKeySize); }
  ByteView nonce() const noexcept { return okm.expose().last(Aes256Gcm::kNonceSize); }
};

LinkKeys derive_keys(const SecretArray<32>& dh, const SecretArray<kSecretSize>& secret,
                     const LinkMailbox& mailbox, const std::array<std::uint8_t, 32>& f,
                     const std::array<std::uint8_t, 32>& e) {
  static constexpr std::string_view kInfo = "hush link v1";
  SecretArray<32 + kSecretSize> ikm;
  std::copy(dh.expose().begin(), dh.expose().end(), ikm.expose_mut().begin());
  std::copy(secret.expose().begin(), secret.expose().end(), ikm.expose_mut().begin() + 32);
  std::array<std::uint8_t, kInfo.size() + 64> info{};
  std::copy(kInfo.begin(), kInfo.end(), info.begin());
  std::copy(f.begin(), f.end(), info.begin() + kInfo.size());
  std::copy(e.begin(), e.end(), info.begin() + kInfo.size() + 32);
  LinkKeys keys;
  internal::crypto::HmacSha256 hmac;
  internal::crypto::hkdf_sha256(hmac, ikm.expose(), mailbox, info, keys.okm.expose_mut());
  return keys;
}

std::array<std::uint8_t, 1 + 32 + 32 + kMailboxSize> associated_data(
    const std::array<std::uint8_t, 32>& f, const std::array<std::uint8_t, 32>& e,
    const LinkMailbox& mailbox) {
  std::array<std::uint8_t, 1 + 32 + 32 + kMailboxSize> aad{};
  aad[0] = kMessageVersion;
  std::copy(f.begin(), f.end(), aad.begin() + 1);
  std::copy(e.begin(), e.end(), aad.begin() + 33);
  std::copy(mailbox.begin(), mailbox.end(), aad.begin() + 65);
  return aad;
}

// ---- contents ----

// The rules of LinkContents (what seal refuses and open refuses). Limits give kLimitExceeded,
// broken rules kInvalidArgument (open reports those as kInvalidMessage). `check_key_pair` false
// skips the key pair's consistency (a scalar multiplication) when the caller built the pair with
// KeyPair::from_parts already.
Status check_contents(const LinkContents& c, bool check_key_pair) {
  if (c.name.empty()) return Error(Errc::kInvalidArgument, "link contents: empty name");
  if (c.name.size() > kMaxAddressNameBytes)
    return Error(Errc::kLimitExceeded, "link contents: name too long");
  if (c.contacts.size() > kMaxLinkContacts)
    return Error(Errc::kLimitExceeded, "link contents: too many contacts");
  if (c.application_data.size() > kMaxLinkApplicationDataBytes)
    return Error(Errc::kLimitExceeded, "link contents: application data too large");
  std::vector<std::string_view> names;
  names.reserve(c.contacts.size());
  for (const auto& [name, key] : c.contacts) {
    if (name.empty()) return Error(Errc::kInvalidArgument, "link contents: empty contact name");
    if (name.size() > kMaxAddressNameBytes)
      return Error(Errc::kLimitExceeded, "link contents: contact name too long");
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  if (std::adjacent_find(names.begin(), names.end()) != names.end())
    return Error(Errc::kInvalidArgument, "link contents: a contact named twice");
  const DeviceList& list = c.device_list.list();
  if (list.name != c.name)
    return Error(Errc::kInvalidArgument, "link contents: the list is another person's");
  if (!list.contains(c.device_id))
    return Error(Errc::kInvalidArgument, "link contents: the device is not on the list");
  if (!(c.identity.public_key == list.identity))
    return Error(Errc::kInvalidArgument, "link contents: identity is not the list's");
  if (check_key_pair && !(c.identity.private_key.public_key() == c.identity.public_key))
    return Error(Errc::kInvalidArgument, "link contents: identity key pair does not match");
  return ok_status();
}

// Wipes the secret fields of a LinkContents protobuf when it goes out of scope (best effort; see
// proto_util.h).
struct ContentsWiper {
  envelope::LinkContents& p;
  ~ContentsWiper() {
    internal::wipe(p.mutable_identity_private_key());
    internal::wipe(p.mutable_application_data());
  }
};

void assign_bytes(std::string* field, ByteView bytes) {
  field->assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

SecretBytes serialize_contents(const LinkContents& c) {
  envelope::LinkContents p;
  ContentsWiper wiper{p};
  p.set_format(kContentsFormat);
  p.set_name(c.name);
  p.set_device_id(to_uint(c.device_id));
  p.set_identity_public_key(internal::to_field(c.identity.public_key.serialize()));
  // Straight into the field: no temporary string holds the key.
  assign_bytes(p.mutable_identity_private_key(), c.identity.private_key.expose());
  p.set_device_list(internal::to_field(c.device_list.serialized()));
  for (const auto& [name, key] : c.contacts) {
    auto* contact = p.add_contacts();
    contact->set_name(name);
    contact->set_identity_key(internal::to_field(key.serialize()));
  }
  assign_bytes(p.mutable_application_data(), c.application_data.expose());
  return internal::serialize_to_secret(p);
}

Result<LinkContents> parse_contents(ByteView data) {
  envelope::LinkContents p;
  const bool parsed = internal::parse_from(p, data);
  ContentsWiper wiper{p};
  if (!parsed) return Error(Errc::kInvalidMessage, "link contents: protobuf");
  if (!p.has_format() || !p.has_name() || !p.has_device_id() || !p.has_identity_public_key() ||
      !p.has_identity_private_key() || !p.has_device_list() || !p.has_application_data())
    return Error(Errc::kInvalidMessage, "link contents: missing field");
  if (p.format() != kContentsFormat)
    return Error(Errc::kInvalidMessage, "link contents: unknown format");
  // Limits before anything is built from the fields.
  if (static_cast<std::size_t>(p.contacts_size()) > kMaxLinkContacts)
    return Error(Errc::kLimitExceeded, "link contents: too many contacts");
  if (p.application_data().size() > kMaxLinkApplicationDataBytes)
    return Error(Errc::kLimitExceeded, "link contents: application data too large");
  if (p.name().size() > kMaxAddressNameBytes)
    return Error(Errc::kLimitExceeded, "link contents: name too long");
  for (const auto& contact : p.contacts()) {
    if (!contact.has_name() || !contact.has_identity_key())
      return Error(Errc::kInvalidMessage, "link contents: contact missing field");
    if (contact.name().size() > kMaxAddressNameBytes)
      return Error(Errc::kLimitExceeded, "link contents: contact name too long");
  }

  auto public_key = PublicKey::parse(as_bytes(p.identity_public_key()));
  if (!public_key) return Error(Errc::kInvalidMessage, "link contents: identity public key");
  auto private_key = PrivateKey::parse(as_bytes(p.identity_private_key()));
  if (!private_key) return Error(Errc::kInvalidMessage, "link contents: identity private key");
  auto identity = KeyPair::from_parts(*public_key, std::move(*private_key));
  if (!identity) return Error(Errc::kInvalidMessage, "link contents: identity key pair mismatch");
  auto device_list = SignedDeviceList::parse(as_bytes(p.device_list()));
  if (!device_list) return device_list.error();

  std::vector<std::pair<std::string, IdentityKey>> contacts;
  contacts.reserve(static_cast<std::size_t>(p.contacts_size()));
  for (const auto& contact : p.contacts()) {
    auto key = PublicKey::parse(as_bytes(contact.identity_key()));
    if (!key) return Error(Errc::kInvalidMessage, "link contents: contact identity key");
    contacts.emplace_back(contact.name(), *key);
  }
  LinkContents c{p.name(),
                 DeviceId{p.device_id()},
                 std::move(*identity),
                 std::move(*device_list),
                 std::move(contacts),
                 SecretBytes::copy_of(as_bytes(p.application_data()))};
  if (auto st = check_contents(c, /*check_key_pair=*/false); !st) {
    if (st.error().code() == Errc::kInvalidArgument)
      return Error(Errc::kInvalidMessage, st.error().where());
    return st.error();
  }
  return c;
}

}  // namespace

namespace internal {

SecretBytes serialize_link_contents(const LinkContents& contents) {
  return serialize_contents(contents);
}

Result<Bytes> seal_link_plaintext(RandomSource& random, const LinkCode& code, ByteView plaintext) {
  if (plaintext.size() > kMaxLinkMessageBytes - kHeaderSize - Aes256Gcm::kTagSize)
    return Error(Errc::kLimitExceeded, "seal_link_message: too large");
  auto fresh = KeyPair::generate(random);
  if (!fresh) return fresh.error();
  auto dh = crypto::x25519(fresh->private_key.expose(), code.ephemeral.u());
  if (!dh) return Error(Errc::kInvalidArgument, "seal_link_message: unusable code key");
  const auto& f = fresh->public_key.u();
  const auto& e = code.ephemeral.u();
  const LinkKeys keys = derive_keys(*dh, code.secret, code.mailbox, f, e);
  const auto aad = associated_data(f, e, code.mailbox);
  Aes256Gcm gcm;
  auto sealed = gcm.seal(keys.key(), keys.nonce(), aad, plaintext);
  if (!sealed) return sealed.error();
  Bytes out;
  out.reserve(kHeaderSize + sealed->size());
  out.push_back(kMessageVersion);
  out.insert(out.end(), f.begin(), f.end());
  out.insert(out.end(), sealed->begin(), sealed->end());
  return out;
}

}  // namespace internal

Result<LinkCode> LinkCode::parse(std::string_view text) {
  // The decoded bits, MSB first: 103 characters give 515 bits, the last 3 being padding (zero),
  // which land in the extra 65th byte.
  SecretArray<kCodeBytes + 1> raw;
  std::size_t prefix = 0;
  std::size_t chars = 0;
  int bad = 0;
  for (const char c : text) {
    if (c == ' ' || c == '-') continue;
    if (prefix < kCodePrefix.size()) {
      if (ascii_upper(c) != kCodePrefix[prefix])
        return Error(Errc::kInvalidArgument, "LinkCode::parse: missing prefix");
      ++prefix;
      continue;
    }
    if (chars == kCodeChars) return Error(Errc::kInvalidArgument, "LinkCode::parse: too long");
    const std::uint32_t v = base32_value(c, bad);
    const std::size_t bit = chars * 5;
    const std::size_t byte = bit / 8;
    // The 5 bits placed in a 16-bit window over bytes `byte` and `byte + 1`.
    const std::uint32_t window = v << (11 - bit % 8);
    raw.expose_mut()[byte] |= static_cast<std::uint8_t>(window >> 8);
    raw.expose_mut()[byte + 1] |= static_cast<std::uint8_t>(window);
    ++chars;
  }
  if (prefix < kCodePrefix.size())
    return Error(Errc::kInvalidArgument, "LinkCode::parse: missing prefix");
  if (chars != kCodeChars) return Error(Errc::kInvalidArgument, "LinkCode::parse: too short");
  if (bad != 0) return Error(Errc::kInvalidArgument, "LinkCode::parse: not in the base32 alphabet");
  if (raw.expose()[kCodeBytes] != 0)
    return Error(Errc::kInvalidArgument, "LinkCode::parse: nonzero padding bits");

  const auto bytes = raw.expose();
  std::array<std::uint8_t, 32> u{};
  std::copy(bytes.begin(), bytes.begin() + 32, u.begin());
  LinkCode code{PublicKey::from_u(u), SecretArray<kSecretSize>{}, LinkMailbox{}};
  std::copy(bytes.begin() + 32, bytes.begin() + 48, code.secret.expose_mut().begin());
  std::copy(bytes.begin() + 48, bytes.begin() + 64, code.mailbox.begin());
  return code;
}

Result<LinkRequest> LinkRequest::create(RandomSource& random) {
  auto ephemeral = KeyPair::generate(random);
  if (!ephemeral) return ephemeral.error();
  SecretArray<kSecretSize> secret;
  if (auto st = random.fill(secret.expose_mut()); !st) return st.error();
  LinkMailbox mailbox{};
  if (auto st = random.fill(mailbox); !st) return st.error();
  return LinkRequest(std::move(*ephemeral), std::move(secret), mailbox);
}

std::string LinkRequest::code() const {
  SecretArray<kCodeBytes + 1> raw;  // one zero byte beyond, for the last character's window
  const auto& u = ephemeral_.public_key.u();
  std::copy(u.begin(), u.end(), raw.expose_mut().begin());
  std::copy(secret_.expose().begin(), secret_.expose().end(), raw.expose_mut().begin() + 32);
  std::copy(mailbox_.begin(), mailbox_.end(), raw.expose_mut().begin() + 48);
  std::string out;
  out.reserve(kCodePrefix.size() + 1 + kCodeChars + (kCodeChars - 1) / kCodeGroup);
  out.append(kCodePrefix);
  out.push_back('-');
  const auto bytes = raw.expose();
  for (std::size_t i = 0; i < kCodeChars; ++i) {
    if (i > 0 && i % kCodeGroup == 0) out.push_back('-');
    const std::size_t bit = i * 5;
    const std::uint32_t window =
        (std::uint32_t{bytes[bit / 8]} << 8) | std::uint32_t{bytes[bit / 8 + 1]};
    out.push_back(base32_char((window >> (11 - bit % 8)) & 31));
  }
  return out;
}

Result<LinkContents> LinkRequest::open(ByteView link_message) const {
  if (link_message.size() > kMaxLinkMessageBytes)
    return Error(Errc::kLimitExceeded, "LinkRequest::open: too large");
  if (link_message.size() < kHeaderSize + Aes256Gcm::kTagSize)
    return Error(Errc::kInvalidMessage, "LinkRequest::open: too short");
  if (link_message[0] != kMessageVersion)
    return Error(Errc::kInvalidMessage, "LinkRequest::open: unknown version");
  std::array<std::uint8_t, 32> f{};
  std::copy(link_message.begin() + 1, link_message.begin() + kHeaderSize, f.begin());
  auto dh = internal::crypto::x25519(ephemeral_.private_key.expose(), f);
  if (!dh) return Error(Errc::kInvalidMessage, "LinkRequest::open: low-order key");
  const auto& e = ephemeral_.public_key.u();
  const LinkKeys keys = derive_keys(*dh, secret_, mailbox_, f, e);
  const auto aad = associated_data(f, e, mailbox_);
  Aes256Gcm gcm;
  auto plaintext = gcm.open(keys.key(), keys.nonce(), aad, link_message.subspan(kHeaderSize));
  if (!plaintext) return Error(Errc::kInvalidMessage, "LinkRequest::open: does not open");
  return parse_contents(plaintext->expose());
}

SecretBytes LinkRequest::serialize() const {
  SecretBytes out(1 + 32 + 32 + kSecretSize + kMailboxSize);
  auto w = out.expose_mut();
  w[0] = kRequestFormat;
  const auto scalar = ephemeral_.private_key.expose();
  const auto& u = ephemeral_.public_key.u();
  std::copy(scalar.begin(), scalar.end(), w.begin() + 1);
  std::copy(u.begin(), u.end(), w.begin() + 33);
  std::copy(secret_.expose().begin(), secret_.expose().end(), w.begin() + 65);
  std::copy(mailbox_.begin(), mailbox_.end(), w.begin() + 81);
  return out;
}

Result<LinkRequest> LinkRequest::deserialize(ByteView data) {
  if (data.size() != 1 + 32 + 32 + kSecretSize + kMailboxSize || data[0] != kRequestFormat)
    return Error(Errc::kInvalidArgument, "LinkRequest::deserialize: not a link request");
  const ByteView scalar = data.subspan(1, 32);
  // Only clamped scalars are written; anything else is not ours (one request, one encoding).
  const int unclamped = (scalar[0] & 7) | (scalar[31] & 0x80) | ((scalar[31] & 0x40) ^ 0x40);
  if (unclamped != 0)
    return Error(Errc::kInvalidArgument, "LinkRequest::deserialize: private key not clamped");
  auto private_key = PrivateKey::parse(scalar);
  if (!private_key) return Error(Errc::kInvalidArgument, "LinkRequest::deserialize: private key");
  std::array<std::uint8_t, 32> u{};
  std::copy(data.begin() + 33, data.begin() + 65, u.begin());
  auto ephemeral = KeyPair::from_parts(PublicKey::from_u(u), std::move(*private_key));
  if (!ephemeral)
    return Error(Errc::kInvalidArgument, "LinkRequest::deserialize: keys do not match");
  SecretArray<kSecretSize> secret;
  std::copy(data.begin() + 65, data.begin() + 81, secret.expose_mut().begin());
  LinkMailbox mailbox{};
  std::copy(data.begin() + 81, data.end(), mailbox.begin());
  return LinkRequest(std::move(*ephemeral), std::move(secret), mailbox);
}

Result<Bytes> seal_link_message(RandomSource& random, const LinkCode& code,
                                const LinkContents& contents) {
  if (auto st = check_contents(contents, /*check_key_pair=*/true); !st) return st.error();
  const SecretBytes plaintext = serialize_contents(contents);
  return internal::seal_link_plaintext(random, code, plaintext.expose());
}

Status import_link(ProtocolStore& store, const LinkContents& contents) {
  if (auto st = check_contents(contents, /*check_key_pair=*/false); !st) return st.error();
  return store.run_transaction([&]() -> Status {
    auto ours = store.identity_key_pair();
    if (!ours) return ours.error();
    if (!(ours->public_key == contents.identity.public_key))
      return Error(Errc::kInvalidArgument, "import_link: the store has another identity");
    for (const auto& [name, key] : contents.contacts) {
      auto saved = store.save_identity(name, key);
      if (!saved) return saved.error();
    }
    return store.store_messenger_record(MessengerRecordKind::kDeviceList, contents.name,
                                        contents.device_list.serialized());
  });
}

}  // namespace hush
