// hush unit tests: device lists (device_list.h): the rules of DeviceList::check, signing, and
// SignedDeviceList::parse on untrusted input (every rule, canonical encoding, signatures, sizes),
// each refusal with the code the header documents.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "envelope.pb.h"
#include "support/test_support.h"

using namespace hush;

namespace {

constexpr std::string_view kContext = "hush device list v1";

KeyPair make_identity(test::SeededRandom& rng) {
  auto kp = KeyPair::generate(rng);
  REQUIRE(kp);
  return std::move(*kp);
}

DeviceList make_list(const IdentityKey& identity, std::vector<std::uint32_t> devices = {1, 2},
                     std::uint32_t next = 3) {
  DeviceList list;
  list.name = "alice";
  list.identity = identity;
  list.version = 7;
  for (auto d : devices)
    list.devices.push_back(DeviceId{d});
  list.next_device_id = DeviceId{next};
  return list;
}

Bytes to_bytes(const google::protobuf::MessageLite& m) {
  Bytes out(m.ByteSizeLong());
  REQUIRE(m.SerializeToArray(out.data(), static_cast<int>(out.size())));
  return out;
}

std::string field(ByteView b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

// The protobuf of a valid list (as the library writes it), for tests to break one rule at a time.
envelope::DeviceList list_proto(const IdentityKey& identity, std::vector<std::uint32_t> devices,
                                std::uint32_t next) {
  envelope::DeviceList p;
  p.set_format(1);
  p.set_name("alice");
  p.set_identity_key(field(identity.serialize()));
  p.set_version(7);
  for (auto d : devices)
    p.add_devices(d);
  p.set_next_device_id(next);
  return p;
}

// Signs arbitrary list bytes as sign() signs a list, and wraps them: what a holder of the identity
// key can make, whatever the bytes are.
Bytes sign_raw(test::SeededRandom& rng, const KeyPair& identity, ByteView list_bytes) {
  Bytes message(kContext.begin(), kContext.end());
  message.push_back(0);
  message.insert(message.end(), list_bytes.begin(), list_bytes.end());
  auto sig = identity.private_key.sign(rng, message);
  REQUIRE(sig);
  envelope::SignedDeviceList outer;
  outer.set_list(field(list_bytes));
  outer.set_signature(field(sig->view()));
  return to_bytes(outer);
}

// A raw protobuf writer, for encodings the generated code would not produce.
struct RawProto {
  Bytes b;
  RawProto& varint(std::uint64_t v) {
    while (v >= 0x80) {
      b.push_back(static_cast<std::uint8_t>(v | 0x80));
      v >>= 7;
    }
    b.push_back(static_cast<std::uint8_t>(v));
    return *this;
  }
  RawProto& uint(std::uint32_t number, std::uint64_t v) { return varint(number << 3).varint(v); }
  RawProto& bytes(std::uint32_t number, ByteView v) {
    varint((number << 3) | 2).varint(v.size());
    b.insert(b.end(), v.begin(), v.end());
    return *this;
  }
  RawProto& packed(std::uint32_t number, const std::vector<std::uint32_t>& vs) {
    RawProto inner;
    for (auto v : vs)
      inner.varint(v);
    return bytes(number, inner.b);
  }
};

Errc parse_error(ByteView bytes) {
  auto r = SignedDeviceList::parse(bytes);
  REQUIRE_FALSE(r);
  return r.error().code();
}

}  // namespace

TEST_CASE("device lists sign and parse round trip", "[unit]") {
  test::SeededRandom rng(901);
  const KeyPair identity = make_identity(rng);
  const DeviceList list = make_list(identity.public_key);
  REQUIRE(list.check());
  auto signed_list = SignedDeviceList::sign(rng, list, identity);
  REQUIRE(signed_list);
  CHECK(signed_list->list() == list);
  CHECK(signed_list->serialized().size() <= kMaxDeviceListBytes);
  auto parsed = SignedDeviceList::parse(signed_list->serialized());
  REQUIRE(parsed);
  CHECK(parsed->list() == list);
  CHECK(parsed->serialized() == signed_list->serialized());
  CHECK(*parsed == *signed_list);
  // The signature is over the list bytes inside: the outer message holds them verbatim, and they
  // are what the library's own writer makes.
  envelope::SignedDeviceList outer;
  REQUIRE(outer.ParseFromArray(signed_list->serialized().data(),
                               static_cast<int>(signed_list->serialized().size())));
  const Bytes list_bytes(outer.list().begin(), outer.list().end());
  CHECK(list_bytes == to_bytes(list_proto(identity.public_key, {1, 2}, 3)));
  Bytes message(kContext.begin(), kContext.end());
  message.push_back(0);
  message.insert(message.end(), list_bytes.begin(), list_bytes.end());
  auto sig = Signature::parse(as_bytes(outer.signature()));
  REQUIRE(sig);
  CHECK(identity.public_key.verify_signature(message, *sig));
  // Two signatures of one list differ (fresh nonces), and both parse.
  auto again = SignedDeviceList::sign(rng, list, identity);
  REQUIRE(again);
  CHECK_FALSE(*again == *signed_list);
  CHECK(SignedDeviceList::parse(again->serialized()));
}

TEST_CASE("DeviceList::contains", "[unit]") {
  test::SeededRandom rng(902);
  const DeviceList list = make_list(make_identity(rng).public_key, {1, 4, 9}, 10);
  CHECK(list.contains(DeviceId{1}));
  CHECK(list.contains(DeviceId{4}));
  CHECK(list.contains(DeviceId{9}));
  CHECK_FALSE(list.contains(DeviceId{0}));
  CHECK_FALSE(list.contains(DeviceId{2}));
  CHECK_FALSE(list.contains(DeviceId{10}));
}

TEST_CASE("DeviceList::check refuses each broken rule with its code; sign refuses it too",
          "[unit]") {
  test::SeededRandom rng(903);
  const KeyPair identity = make_identity(rng);
  auto refused = [&](const DeviceList& list, Errc code) {
    auto st = list.check();
    REQUIRE_FALSE(st);
    CHECK(st.error().code() == code);
    auto s = SignedDeviceList::sign(rng, list, identity);
    REQUIRE_FALSE(s);
    CHECK(s.error().code() == code);
  };
  DeviceList list = make_list(identity.public_key);
  REQUIRE(list.check());

  SECTION("empty name") {
    list.name.clear();
    refused(list, Errc::kInvalidArgument);
  }
  SECTION("name length") {
    list.name.assign(kMaxAddressNameBytes, 'n');
    CHECK(list.check());
    CHECK(SignedDeviceList::sign(rng, list, identity));
    list.name.push_back('n');
    refused(list, Errc::kLimitExceeded);
  }
  SECTION("no device") {
    list.devices.clear();
    refused(list, Errc::kInvalidArgument);
  }
  SECTION("devices out of order") {
    list.devices = {DeviceId{2}, DeviceId{1}};
    refused(list, Errc::kInvalidArgument);
  }
  SECTION("a device repeated") {
    list.devices = {DeviceId{1}, DeviceId{1}};
    refused(list, Errc::kInvalidArgument);
  }
  SECTION("device id 0") {
    list.devices = {DeviceId{0}, DeviceId{1}};
    refused(list, Errc::kInvalidArgument);
  }
  SECTION("a device not below next_device_id") {
    list.devices = {DeviceId{1}, DeviceId{3}};
    refused(list, Errc::kInvalidArgument);
    list.devices = {DeviceId{1}, DeviceId{4}};
    refused(list, Errc::kInvalidArgument);
  }
  SECTION("version 0") {
    list.version = 0;
    refused(list, Errc::kInvalidArgument);
  }
  SECTION("32 devices accepted, 33 refused") {
    list.devices.clear();
    for (std::uint32_t d = 1; d <= kMaxDevicesPerPerson; ++d)
      list.devices.push_back(DeviceId{d * 3});
    list.next_device_id = DeviceId{1000};
    CHECK(list.check());
    auto s = SignedDeviceList::sign(rng, list, identity);
    REQUIRE(s);
    auto parsed = SignedDeviceList::parse(s->serialized());
    REQUIRE(parsed);
    CHECK(parsed->list().devices.size() == kMaxDevicesPerPerson);
    list.devices.push_back(DeviceId{999});
    refused(list, Errc::kLimitExceeded);
  }
}

TEST_CASE("sign refuses a key that is not the list's", "[unit]") {
  test::SeededRandom rng(904);
  const KeyPair identity = make_identity(rng);
  const KeyPair other = make_identity(rng);
  const DeviceList list = make_list(identity.public_key);
  auto s = SignedDeviceList::sign(rng, list, other);
  REQUIRE_FALSE(s);
  CHECK(s.error().code() == Errc::kInvalidArgument);
  // A pair whose public half is the list's but whose private half is another key's.
  const KeyPair mixed{identity.public_key, other.private_key.clone()};
  s = SignedDeviceList::sign(rng, list, mixed);
  REQUIRE_FALSE(s);
  CHECK(s.error().code() == Errc::kInvalidArgument);
}

TEST_CASE("parse refuses signed lists that break a rule", "[unit]") {
  test::SeededRandom rng(905);
  const KeyPair identity = make_identity(rng);
  // The crafted encoding of a valid list parses: each case below differs in one thing only.
  REQUIRE(SignedDeviceList::parse(
      sign_raw(rng, identity, to_bytes(list_proto(identity.public_key, {1, 2}, 3)))));
  auto refused = [&](const envelope::DeviceList& p, Errc code) {
    CHECK(parse_error(sign_raw(rng, identity, to_bytes(p))) == code);
  };
  auto p = list_proto(identity.public_key, {1, 2}, 3);

  SECTION("missing fields") {
    for (int f = 0; f < 5; ++f) {
      auto q = p;
      if (f == 0) q.clear_format();
      if (f == 1) q.clear_name();
      if (f == 2) q.clear_identity_key();
      if (f == 3) q.clear_version();
      if (f == 4) q.clear_next_device_id();
      INFO("field " << f);
      refused(q, Errc::kInvalidMessage);
    }
  }
  SECTION("unknown format") {
    p.set_format(2);
    refused(p, Errc::kInvalidMessage);
  }
  SECTION("empty name") {
    p.set_name("");
    refused(p, Errc::kInvalidMessage);
  }
  SECTION("name too long") {
    p.set_name(std::string(kMaxAddressNameBytes + 1, 'n'));
    refused(p, Errc::kInvalidMessage);
  }
  SECTION("no device") {
    p.clear_devices();
    refused(p, Errc::kInvalidMessage);
  }
  SECTION("out of order, repeated, 0, not below next") {
    for (const auto& devices :
         std::vector<std::vector<std::uint32_t>>{{2, 1}, {1, 1}, {0, 1}, {1, 3}, {1, 2, 5}}) {
      auto q = list_proto(identity.public_key, devices, 3);
      refused(q, Errc::kInvalidMessage);
    }
  }
  SECTION("version 0") {
    p.set_version(0);
    refused(p, Errc::kInvalidMessage);
  }
  SECTION("too many devices") {
    std::vector<std::uint32_t> devices;
    for (std::uint32_t d = 1; d <= kMaxDevicesPerPerson + 1; ++d)
      devices.push_back(d);
    refused(list_proto(identity.public_key, devices, 100), Errc::kLimitExceeded);
  }
  SECTION("identity key malformed") {
    const auto serialized = identity.public_key.serialize();
    Bytes key(serialized.begin(), serialized.end());
    key[0] = 0x06;
    p.set_identity_key(field(key));
    refused(p, Errc::kInvalidKey);
    key[0] = 0x05;
    key.pop_back();
    p.set_identity_key(field(key));
    refused(p, Errc::kInvalidKey);
  }
}

TEST_CASE("parse refuses altered signed lists", "[unit]") {
  test::SeededRandom rng(906);
  const KeyPair identity = make_identity(rng);
  const KeyPair other = make_identity(rng);
  auto good = SignedDeviceList::sign(rng, make_list(identity.public_key), identity);
  REQUIRE(good);
  const Bytes& bytes = good->serialized();

  SECTION("a flipped signature bit") {
    // The signature is the last field: its 64 bytes end the message.
    for (std::size_t i : {bytes.size() - 1, bytes.size() - 33, bytes.size() - 64}) {
      Bytes b = bytes;
      b[i] ^= 0x01;
      CHECK(parse_error(b) == Errc::kInvalidSignature);
    }
  }
  SECTION("a flipped list byte (the name)") {
    envelope::SignedDeviceList outer;
    REQUIRE(outer.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
    std::string list = outer.list();
    const auto at = list.find("alice");
    REQUIRE(at != std::string::npos);
    list[at] = 'A';
    outer.set_list(list);
    CHECK(parse_error(to_bytes(outer)) == Errc::kInvalidSignature);
  }
  SECTION("every byte flipped in turn") {
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      for (std::uint8_t mask : {std::uint8_t{0x01}, std::uint8_t{0x80}}) {
        Bytes b = bytes;
        b[i] ^= mask;
        auto r = SignedDeviceList::parse(b);
        INFO("byte " << i << " mask " << int(mask));
        REQUIRE_FALSE(r);
        const Errc c = r.error().code();
        CHECK((c == Errc::kInvalidProtobuf || c == Errc::kInvalidMessage ||
               c == Errc::kInvalidKey || c == Errc::kInvalidSignature ||
               c == Errc::kLimitExceeded));
      }
    }
  }
  SECTION("a list signed by another key parses under that key") {
    // Nothing in a list says whose key should sign it: the embedded key is the signer, and the
    // caller decides whether it is the person's.
    auto s = SignedDeviceList::sign(rng, make_list(other.public_key), other);
    REQUIRE(s);
    auto parsed = SignedDeviceList::parse(s->serialized());
    REQUIRE(parsed);
    CHECK(parsed->list().identity == other.public_key);
  }
  SECTION("a list whose identity was swapped for another key") {
    // The identity's signature, with the list's identity field replaced by another key: the
    // signature no longer verifies under the key the list names.
    envelope::SignedDeviceList outer;
    REQUIRE(outer.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
    envelope::DeviceList list;
    REQUIRE(list.ParseFromString(outer.list()));
    list.set_identity_key(field(other.public_key.serialize()));
    outer.set_list(list.SerializeAsString());
    CHECK(parse_error(to_bytes(outer)) == Errc::kInvalidSignature);
  }
  SECTION("a signature of the wrong length, or none") {
    envelope::SignedDeviceList outer;
    REQUIRE(outer.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
    auto short_sig = outer;
    short_sig.set_signature(outer.signature().substr(0, 63));
    CHECK(parse_error(to_bytes(short_sig)) == Errc::kInvalidSignature);
    auto no_sig = outer;
    no_sig.clear_signature();
    CHECK(parse_error(to_bytes(no_sig)) == Errc::kInvalidMessage);
    auto no_list = outer;
    no_list.clear_list();
    CHECK(parse_error(to_bytes(no_list)) == Errc::kInvalidMessage);
  }
  SECTION("not a protobuf") {
    CHECK(parse_error(Bytes{0xff, 0xff, 0xff}) == Errc::kInvalidProtobuf);
    envelope::SignedDeviceList outer;
    outer.set_list("\xff\xff\xff");
    outer.set_signature(std::string(64, 'x'));
    CHECK(parse_error(to_bytes(outer)) == Errc::kInvalidProtobuf);
  }
}

TEST_CASE("parse refuses non-canonical encodings, even when validly signed", "[unit]") {
  test::SeededRandom rng(907);
  const KeyPair identity = make_identity(rng);
  const auto key = identity.public_key.serialize();
  const Bytes name = {'a', 'l', 'i', 'c', 'e'};
  auto canonical = [&] {
    RawProto r;
    r.uint(1, 1).bytes(2, name).bytes(3, key).uint(4, 7).packed(5, {1, 2}).uint(6, 3);
    return r;
  };
  // The raw writer makes exactly the library's encoding, which parses.
  REQUIRE(canonical().b == to_bytes(list_proto(identity.public_key, {1, 2}, 3)));
  REQUIRE(SignedDeviceList::parse(sign_raw(rng, identity, canonical().b)));

  SECTION("an unknown field appended") {
    RawProto r = canonical();
    r.uint(15, 1);
    CHECK(parse_error(sign_raw(rng, identity, r.b)) == Errc::kInvalidMessage);
  }
  SECTION("fields reordered") {
    RawProto r;
    r.bytes(2, name).uint(1, 1).bytes(3, key).uint(4, 7).packed(5, {1, 2}).uint(6, 3);
    CHECK(parse_error(sign_raw(rng, identity, r.b)) == Errc::kInvalidMessage);
  }
  SECTION("devices not packed") {
    RawProto r;
    r.uint(1, 1).bytes(2, name).bytes(3, key).uint(4, 7).uint(5, 1).uint(5, 2).uint(6, 3);
    CHECK(parse_error(sign_raw(rng, identity, r.b)) == Errc::kInvalidMessage);
  }
  SECTION("a field repeated (the last one wins in protobuf)") {
    RawProto r;
    r.uint(1, 1).bytes(2, Bytes{'b', 'o', 'b'}).bytes(2, name).bytes(3, key).uint(4, 7);
    r.packed(5, {1, 2}).uint(6, 3);
    CHECK(parse_error(sign_raw(rng, identity, r.b)) == Errc::kInvalidMessage);
  }
  SECTION("a varint with a redundant byte") {
    RawProto r;
    r.uint(1, 1).bytes(2, name).bytes(3, key).uint(4, 7).packed(5, {1, 2});
    r.varint(6 << 3);
    r.b.push_back(0x83);
    r.b.push_back(0x00);  // 3, in two bytes
    CHECK(parse_error(sign_raw(rng, identity, r.b)) == Errc::kInvalidMessage);
  }
  SECTION("the outer message with an unknown field, or reordered") {
    const Bytes good = sign_raw(rng, identity, canonical().b);
    Bytes extra = good;
    RawProto tail;
    tail.uint(3, 1);
    extra.insert(extra.end(), tail.b.begin(), tail.b.end());
    CHECK(parse_error(extra) == Errc::kInvalidMessage);
    envelope::SignedDeviceList outer;
    REQUIRE(outer.ParseFromArray(good.data(), static_cast<int>(good.size())));
    RawProto swapped;
    swapped.bytes(2, as_bytes(outer.signature())).bytes(1, as_bytes(outer.list()));
    CHECK(parse_error(swapped.b) == Errc::kInvalidMessage);
  }
}

TEST_CASE("parse refuses truncated and oversized input", "[unit]") {
  test::SeededRandom rng(908);
  const KeyPair identity = make_identity(rng);
  auto good = SignedDeviceList::sign(rng, make_list(identity.public_key), identity);
  REQUIRE(good);
  const Bytes& bytes = good->serialized();
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto r = SignedDeviceList::parse(ByteView(bytes.data(), n));
    INFO("length " << n);
    REQUIRE_FALSE(r);
    const Errc c = r.error().code();
    CHECK((c == Errc::kInvalidProtobuf || c == Errc::kInvalidMessage));
  }
  Bytes huge(kMaxDeviceListBytes + 1, 0);
  CHECK(parse_error(huge) == Errc::kLimitExceeded);
  // Even a well-formed list beyond the bound (padded with an unknown field) is refused for its
  // size first.
  Bytes padded = bytes;
  RawProto pad;
  pad.bytes(9, Bytes(kMaxDeviceListBytes, 0x41));
  padded.insert(padded.end(), pad.b.begin(), pad.b.end());
  CHECK(parse_error(padded) == Errc::kLimitExceeded);
}
