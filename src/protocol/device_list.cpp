// hush: device lists (device_list.h): the rules of a list, its canonical wire form
// (proto/envelope.proto DeviceList and SignedDeviceList), signing, and strict parsing of a signed
// list as untrusted input.
//
// One list has exactly one encoding: parse() rebuilds the list bytes from the parsed values and
// refuses any difference (reordered or repeated fields, unknown fields, an unpacked device field),
// and likewise the outer message, so two SignedDeviceLists are equal exactly when their lists and
// signatures are, and a relay cannot make one list look like two.
//
// Not responsible for: deciding whether the signing key is the person's, or whether a list is
// newer than one seen before (the Messenger keeps the newest seen list).
#include <hush/device_list.h>

#include <algorithm>
#include <array>
#include <string_view>

#include <hush/limits.h>

#include "envelope.pb.h"
#include "proto_util.h"

namespace hush {

namespace {

constexpr std::uint32_t kFormat = 1;
// The domain separation prefix of the signed message (followed by a 0x00 byte, then the list).
constexpr std::string_view kSignatureContext = "hush device list v1";

template <class Proto>
Bytes to_bytes(const Proto& p) {
  Bytes out(p.ByteSizeLong());
  if (!out.empty()) p.SerializeWithCachedSizesToArray(out.data());
  return out;
}

// The canonical DeviceList bytes for `list` (which has passed check()).
Bytes serialize_list(const DeviceList& list) {
  envelope::DeviceList p;
  p.set_format(kFormat);
  p.set_name(list.name);
  p.set_identity_key(internal::to_field(list.identity.serialize()));
  p.set_version(list.version);
  for (DeviceId d : list.devices)
    p.add_devices(to_uint(d));
  p.set_next_device_id(to_uint(list.next_device_id));
  return to_bytes(p);
}

Bytes serialize_signed(ByteView list_bytes, const Signature& signature) {
  envelope::SignedDeviceList p;
  p.set_list(internal::to_field(list_bytes));
  p.set_signature(internal::to_field(signature.view()));
  return to_bytes(p);
}

// "hush device list v1" || 0x00 || list.
Bytes signed_message(ByteView list_bytes) {
  Bytes m(kSignatureContext.size() + 1 + list_bytes.size(), 0x00);
  std::copy(kSignatureContext.begin(), kSignatureContext.end(), m.begin());
  std::copy(list_bytes.begin(), list_bytes.end(),
            m.begin() + static_cast<std::ptrdiff_t>(kSignatureContext.size() + 1));
  return m;
}

}  // namespace

bool DeviceList::contains(DeviceId device) const noexcept {
  return std::find(devices.begin(), devices.end(), device) != devices.end();
}

Status DeviceList::check() const {
  if (name.empty()) return Error(Errc::kInvalidArgument, "DeviceList: empty name");
  if (name.size() > kMaxAddressNameBytes)
    return Error(Errc::kLimitExceeded, "DeviceList: name too long");
  if (devices.empty()) return Error(Errc::kInvalidArgument, "DeviceList: no device");
  if (devices.size() > kMaxDevicesPerPerson)
    return Error(Errc::kLimitExceeded, "DeviceList: too many devices");
  if (version == 0) return Error(Errc::kInvalidArgument, "DeviceList: version 0");
  std::uint32_t previous = 0;  // device ids start at 1, so 0 is below every valid one
  for (DeviceId d : devices) {
    const std::uint32_t id = to_uint(d);
    if (id == 0) return Error(Errc::kInvalidArgument, "DeviceList: device id 0");
    if (id <= previous)
      return Error(Errc::kInvalidArgument, "DeviceList: devices out of order or repeated");
    if (id >= to_uint(next_device_id))
      return Error(Errc::kInvalidArgument, "DeviceList: device id not below next_device_id");
    previous = id;
  }
  return ok_status();
}

Result<SignedDeviceList> SignedDeviceList::sign(RandomSource& random, DeviceList list,
                                                const IdentityKeyPair& identity) {
  if (auto st = list.check(); !st) return st.error();
  if (!(identity.public_key == list.identity))
    return Error(Errc::kInvalidArgument, "SignedDeviceList::sign: not the list's identity");
  // A pair whose halves do not match would sign under another key than the list names.
  if (!(identity.private_key.public_key() == identity.public_key))
    return Error(Errc::kInvalidArgument, "SignedDeviceList::sign: inconsistent key pair");
  Bytes list_bytes = serialize_list(list);
  auto signature = identity.private_key.sign(random, signed_message(list_bytes));
  if (!signature) return signature.error();
  Bytes serialized = serialize_signed(list_bytes, *signature);
  // Cannot happen for a list that passed check() (about 1.2 KB at most); kept as a guard so that
  // sign() never makes what parse() refuses.
  if (serialized.size() > kMaxDeviceListBytes)
    return Error(Errc::kLimitExceeded, "SignedDeviceList::sign: too large");
  return SignedDeviceList(std::move(list), std::move(serialized));
}

Result<SignedDeviceList> SignedDeviceList::parse(ByteView serialized) {
  if (serialized.size() > kMaxDeviceListBytes)
    return Error(Errc::kLimitExceeded, "SignedDeviceList: too large");
  envelope::SignedDeviceList outer;
  if (!internal::parse_from(outer, serialized))
    return Error(Errc::kInvalidProtobuf, "SignedDeviceList: protobuf");
  if (!outer.has_list() || !outer.has_signature())
    return Error(Errc::kInvalidMessage, "SignedDeviceList: missing field");
  const ByteView list_bytes = as_bytes(outer.list());
  envelope::DeviceList p;
  if (!internal::parse_from(p, list_bytes))
    return Error(Errc::kInvalidProtobuf, "DeviceList: protobuf");
  if (!p.has_format() || !p.has_name() || !p.has_identity_key() || !p.has_version() ||
      !p.has_next_device_id())
    return Error(Errc::kInvalidMessage, "DeviceList: missing field");
  if (p.format() != kFormat) return Error(Errc::kInvalidMessage, "DeviceList: unknown format");
  if (static_cast<std::size_t>(p.devices_size()) > kMaxDevicesPerPerson)
    return Error(Errc::kLimitExceeded, "DeviceList: too many devices");

  DeviceList list;
  list.name = p.name();
  list.version = p.version();
  list.devices.reserve(static_cast<std::size_t>(p.devices_size()));
  for (std::uint32_t d : p.devices())
    list.devices.push_back(DeviceId{d});
  list.next_device_id = DeviceId{p.next_device_id()};
  if (auto st = list.check(); !st)
    return Error(Errc::kInvalidMessage, "DeviceList: breaks the list rules");
  auto identity = PublicKey::parse(as_bytes(p.identity_key()));
  if (!identity) return Error(Errc::kInvalidKey, "DeviceList: identity key");
  list.identity = *identity;

  // One encoding per list (and per signed list): what we would write must be what we read.
  const Bytes canonical = serialize_list(list);
  if (!std::equal(canonical.begin(), canonical.end(), list_bytes.begin(), list_bytes.end()))
    return Error(Errc::kInvalidMessage, "DeviceList: not in canonical form");

  auto signature = Signature::parse(as_bytes(outer.signature()));
  if (!signature) return Error(Errc::kInvalidSignature, "SignedDeviceList: signature length");
  const Bytes outer_canonical = serialize_signed(list_bytes, *signature);
  if (!std::equal(outer_canonical.begin(), outer_canonical.end(), serialized.begin(),
                  serialized.end()))
    return Error(Errc::kInvalidMessage, "SignedDeviceList: not in canonical form");

  if (!list.identity.verify_signature(signed_message(list_bytes), *signature))
    return Error(Errc::kInvalidSignature, "SignedDeviceList: signature");
  return SignedDeviceList(std::move(list), Bytes(serialized.begin(), serialized.end()));
}

}  // namespace hush
