// hush unit tests: linking a new device (link.h): the code's text form and its parsing, sealing
// and opening link messages (round trip, tampering, wrong request or secret, sizes), the rules of
// the contents on both sides (open's through plaintexts sealed with the internal hook), the kept
// form of a request, nothing secret in the clear, and import_link's transaction.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "envelope.pb.h"
#include "protocol/link_internal.h"
#include "support/forwarding_store.h"
#include "support/test_support.h"

using namespace hush;

namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

KeyPair make_key_pair(RandomSource& rng) {
  auto kp = KeyPair::generate(rng);
  REQUIRE(kp);
  return std::move(*kp);
}

LinkRequest make_request(RandomSource& rng) {
  auto r = LinkRequest::create(rng);
  REQUIRE(r);
  return std::move(*r);
}

LinkCode code_of(const LinkRequest& request) {
  auto c = LinkCode::parse(request.code());
  REQUIRE(c);
  return std::move(*c);
}

SignedDeviceList sign_list(RandomSource& rng, const KeyPair& identity, std::string name,
                           std::vector<std::uint32_t> devices, std::uint32_t next) {
  DeviceList list;
  list.name = std::move(name);
  list.identity = identity.public_key;
  list.version = 3;
  for (auto d : devices)
    list.devices.push_back(DeviceId{d});
  list.next_device_id = DeviceId{next};
  auto s = SignedDeviceList::sign(rng, std::move(list), identity);
  REQUIRE(s);
  return std::move(*s);
}

// What alice's existing device sends her new device 3.
struct Person {
  test::SeededRandom rng;
  KeyPair identity;
  KeyPair bob;
  KeyPair carol;

  explicit Person(std::uint64_t seed)
      : rng(seed),
        identity(make_key_pair(rng)),
        bob(make_key_pair(rng)),
        carol(make_key_pair(rng)) {}

  LinkContents contents() {
    return LinkContents{
        "alice",
        DeviceId{3},
        identity.clone(),
        sign_list(rng, identity, "alice", {1, 3}, 4),
        {{"bob-the-contact", bob.public_key}, {"carol-the-contact", carol.public_key}},
        SecretBytes::copy_of(as_bytes(std::string("app data: groups and tokens")))};
  }
};

LinkContents clone_contents(const LinkContents& c) {
  auto list = SignedDeviceList::parse(c.device_list.serialized());
  REQUIRE(list);
  return LinkContents{c.name,           c.device_id, c.identity.clone(),
                      std::move(*list), c.contacts,  c.application_data.clone()};
}

void check_same(const LinkContents& a, const LinkContents& b) {
  CHECK(a.name == b.name);
  CHECK(a.device_id == b.device_id);
  CHECK(a.identity.public_key == b.identity.public_key);
  CHECK(constant_time_equals(a.identity.private_key.expose(), b.identity.private_key.expose()));
  CHECK(a.device_list == b.device_list);
  CHECK(a.device_list.list() == b.device_list.list());
  CHECK(a.contacts == b.contacts);
  CHECK(constant_time_equals(a.application_data.expose(), b.application_data.expose()));
}

Errc seal_error(RandomSource& rng, const LinkCode& code, const LinkContents& c) {
  auto m = seal_link_message(rng, code, c);
  REQUIRE_FALSE(m);
  return m.error().code();
}

Errc open_error(const LinkRequest& request, ByteView message) {
  auto c = request.open(message);
  REQUIRE_FALSE(c);
  return c.error().code();
}

bool contains_bytes(ByteView haystack, ByteView needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

// The code with its data characters only (prefix and dashes removed).
std::string data_chars(const std::string& code) {
  std::string out;
  for (char c : code.substr(10))
    if (c != '-') out.push_back(c);
  return out;
}

std::string with_data(const std::string& data) {
  return "HUSHLINK1-" + data;
}

// The parsed protobuf of valid contents, for open's tests to break one rule at a time.
envelope::LinkContents contents_proto(const LinkContents& c) {
  const SecretBytes bytes = internal::serialize_link_contents(c);
  envelope::LinkContents p;
  REQUIRE(p.ParseFromArray(bytes.expose().data(), static_cast<int>(bytes.size())));
  return p;
}

Bytes seal_raw(RandomSource& rng, const LinkCode& code, const google::protobuf::MessageLite& p) {
  const std::string plaintext = p.SerializeAsString();
  auto m = internal::seal_link_plaintext(rng, code, as_bytes(plaintext));
  REQUIRE(m);
  return std::move(*m);
}

std::string field(ByteView b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

}  // namespace

TEST_CASE("a link code: its text form, and parse round trip", "[unit]") {
  test::SeededRandom rng(1001);
  const LinkRequest request = make_request(rng);
  const std::string code = request.code();
  // "HUSHLINK1-" + 103 characters in groups of 8 (the last one 7) separated by dashes.
  CHECK(code.size() == 10 + 103 + 12);
  CHECK(code.rfind("HUSHLINK1-", 0) == 0);
  std::size_t group = 0;
  for (std::size_t i = 10; i < code.size(); ++i) {
    if (code[i] == '-') {
      CHECK(group == 8);
      group = 0;
    } else {
      CHECK(kAlphabet.find(code[i]) != std::string_view::npos);
      ++group;
    }
  }
  CHECK(group == 7);
  CHECK(data_chars(code).size() == 103);

  auto parsed = LinkCode::parse(code);
  REQUIRE(parsed);
  CHECK(parsed->mailbox == request.mailbox());
  // The same code typed in lower case, with spaces instead of dashes, or run together.
  std::string lower = code;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  std::string spaced = code;
  std::replace(spaced.begin(), spaced.end(), '-', ' ');
  const std::string run_together = "HUSHLINK1" + data_chars(code);
  for (const auto& text : {lower, spaced, run_together, "  " + code + " "}) {
    auto again = LinkCode::parse(text);
    REQUIRE(again);
    CHECK(again->ephemeral == parsed->ephemeral);
    CHECK(again->mailbox == parsed->mailbox);
    CHECK(constant_time_equals(again->secret.expose(), parsed->secret.expose()));
  }
  // Another request, another code (fresh key, secret and mailbox).
  const LinkRequest other = make_request(rng);
  CHECK(other.code() != code);
  CHECK(other.mailbox() != request.mailbox());
}

TEST_CASE("a link code encodes its bytes in RFC 4648 base32", "[unit]") {
  // A known request: deserialize fixed bytes, and check the code against an independent encoding.
  test::SeededRandom rng(1002);
  const LinkRequest request = make_request(rng);
  const SecretBytes kept = request.serialize();
  const ByteView k = kept.expose();
  Bytes payload;  // ephemeral u (32) || secret (16) || mailbox (16)
  payload.insert(payload.end(), k.begin() + 33, k.begin() + 65);
  payload.insert(payload.end(), k.begin() + 65, k.begin() + 97);
  std::string expected;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::uint8_t b : payload) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      expected.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  expected.push_back(kAlphabet[(buffer << (5 - bits)) & 31]);
  CHECK(data_chars(request.code()) == expected);
}

TEST_CASE("mistyped link codes are refused", "[unit]") {
  test::SeededRandom rng(1003);
  const LinkRequest request = make_request(rng);
  const std::string data = data_chars(request.code());
  auto refused = [](const std::string& text) {
    auto c = LinkCode::parse(text);
    REQUIRE_FALSE(c);
    CHECK(c.error().code() == Errc::kInvalidArgument);
  };
  REQUIRE(LinkCode::parse(with_data(data)));

  SECTION("a character outside the alphabet") {
    for (char bad : {'0', '1', '8', '9', '=', '_', '.', '\n', '\0'}) {
      for (std::size_t at : {std::size_t{0}, std::size_t{50}, data.size() - 1}) {
        std::string d = data;
        d[at] = bad;
        INFO("char " << int(bad) << " at " << at);
        refused(with_data(d));
      }
    }
  }
  SECTION("the wrong length") {
    refused(with_data(data.substr(0, data.size() - 1)));
    refused(with_data(data + "A"));
    refused(with_data(data.substr(1)));
    refused(with_data(""));
    refused(with_data(data + data));
  }
  SECTION("a missing or different prefix") {
    refused(data);
    refused("HUSHLINK2-" + data);
    refused("HUSHLIN-" + data);
    refused("XHUSHLINK1-" + data);
    refused("");
    refused("HUSHLINK1");
  }
  SECTION("nonzero padding bits") {
    // The last character carries 2 data bits, then the 3 padding bits.
    const auto v = kAlphabet.find(data.back());
    REQUIRE((v & 7) == 0);
    for (std::size_t pad = 1; pad < 8; ++pad) {
      std::string d = data;
      d.back() = kAlphabet[v | pad];
      refused(with_data(d));
    }
  }
  SECTION("a changed character that still decodes gives another code, which opens nothing") {
    Person alice(1004);
    const LinkContents contents = alice.contents();
    for (std::size_t at : {std::size_t{3}, std::size_t{60}, std::size_t{90}}) {
      std::string d = data;
      d[at] = d[at] == 'Q' ? 'R' : 'Q';
      auto mistyped = LinkCode::parse(with_data(d));
      REQUIRE(mistyped);
      auto m = seal_link_message(alice.rng, *mistyped, contents);
      if (!m) {
        // A mistyped key can be low-order only by chance; never here.
        FAIL("seal failed");
      }
      CHECK(open_error(request, *m) == Errc::kInvalidMessage);
    }
  }
}

TEST_CASE("link messages round trip", "[unit]") {
  Person alice(1010);
  test::SeededRandom rng(1011);
  const LinkRequest request = make_request(rng);
  const LinkCode code = code_of(request);
  const LinkContents contents = alice.contents();
  auto message = seal_link_message(alice.rng, code, contents);
  REQUIRE(message);
  CHECK(message->size() <= kMaxLinkMessageBytes);
  CHECK((*message)[0] == 0x01);
  auto opened = request.open(*message);
  REQUIRE(opened);
  check_same(*opened, contents);
  // Opening does not use the request up (a second open gives the same), and sealing twice gives
  // two different messages (a fresh key each time) that both open.
  auto twice = request.open(*message);
  REQUIRE(twice);
  check_same(*twice, contents);
  auto second = seal_link_message(alice.rng, code, contents);
  REQUIRE(second);
  CHECK(*second != *message);
  auto opened2 = request.open(*second);
  REQUIRE(opened2);
  check_same(*opened2, contents);

  SECTION("without contacts or application data") {
    LinkContents bare = clone_contents(contents);
    bare.contacts.clear();
    bare.application_data = SecretBytes();
    auto m = seal_link_message(alice.rng, code, bare);
    REQUIRE(m);
    auto o = request.open(*m);
    REQUIRE(o);
    check_same(*o, bare);
  }
  SECTION("at the limits: 10000 contacts, 1 MiB of application data, the longest names") {
    LinkContents big = clone_contents(contents);
    big.contacts.clear();
    for (std::size_t i = 0; i < kMaxLinkContacts; ++i)
      big.contacts.emplace_back("contact " + std::to_string(i), alice.bob.public_key);
    big.contacts.back().first.assign(kMaxAddressNameBytes, 'c');
    big.application_data = SecretBytes(kMaxLinkApplicationDataBytes);
    auto m = seal_link_message(alice.rng, code, big);
    REQUIRE(m);
    CHECK(m->size() <= kMaxLinkMessageBytes);
    auto o = request.open(*m);
    REQUIRE(o);
    check_same(*o, big);
  }
}

TEST_CASE("a link message keeps its contents and the code's secret out of the clear", "[unit]") {
  Person alice(1020);
  test::SeededRandom rng(1021);
  const LinkRequest request = make_request(rng);
  const LinkCode code = code_of(request);
  const LinkContents contents = alice.contents();
  auto message = seal_link_message(alice.rng, code, contents);
  REQUIRE(message);
  CHECK_FALSE(contains_bytes(*message, contents.identity.private_key.expose()));
  CHECK_FALSE(contains_bytes(*message, code.secret.expose()));
  CHECK_FALSE(contains_bytes(*message, contents.application_data.expose()));
  CHECK_FALSE(contains_bytes(*message, as_bytes(std::string("bob-the-contact"))));
  CHECK_FALSE(contains_bytes(*message, as_bytes(std::string("carol-the-contact"))));
  CHECK_FALSE(contains_bytes(*message, as_bytes(std::string("alice"))));
  CHECK_FALSE(contains_bytes(*message, contents.device_list.serialized()));
  CHECK_FALSE(contains_bytes(*message, alice.bob.public_key.u()));
  // The contract of the check itself: the serialized plaintext does hold them.
  const SecretBytes plaintext = internal::serialize_link_contents(contents);
  CHECK(contains_bytes(plaintext.expose(), contents.identity.private_key.expose()));
  CHECK(contains_bytes(plaintext.expose(), as_bytes(std::string("bob-the-contact"))));
  CHECK(contains_bytes(plaintext.expose(), contents.application_data.expose()));
}

TEST_CASE("a link message opens only under its request, unaltered", "[unit]") {
  Person alice(1030);
  test::SeededRandom rng(1031);
  const LinkRequest request = make_request(rng);
  const LinkCode code = code_of(request);
  const LinkContents contents = alice.contents();
  auto sealed = seal_link_message(alice.rng, code, contents);
  REQUIRE(sealed);
  const Bytes& message = *sealed;
  REQUIRE(request.open(message));

  SECTION("another request") {
    const LinkRequest other = make_request(rng);
    CHECK(open_error(other, message) == Errc::kInvalidMessage);
  }
  SECTION("every byte flipped in turn") {
    for (std::size_t i = 0; i < message.size(); ++i) {
      for (std::uint8_t mask : {std::uint8_t{0x01}, std::uint8_t{0x80}}) {
        Bytes m = message;
        m[i] = static_cast<std::uint8_t>(m[i] ^ mask);
        INFO("byte " << i << " mask " << int(mask));
        CHECK(open_error(request, m) == Errc::kInvalidMessage);
      }
    }
  }
  SECTION("truncated at every length, or extended") {
    for (std::size_t n = 0; n < message.size(); ++n) {
      INFO("length " << n);
      CHECK(open_error(request, ByteView(message.data(), n)) == Errc::kInvalidMessage);
    }
    Bytes longer = message;
    longer.push_back(0);
    CHECK(open_error(request, longer) == Errc::kInvalidMessage);
  }
  SECTION("sealed by someone who knows the public key and mailbox but not the secret") {
    // A relay that saw the mailbox (and even the ephemeral key) guesses the secret.
    LinkCode guessed{code.ephemeral, SecretArray<16>{}, code.mailbox};
    auto forged = seal_link_message(alice.rng, guessed, contents);
    REQUIRE(forged);
    CHECK(open_error(request, *forged) == Errc::kInvalidMessage);
    guessed.secret = code.secret.clone();
    guessed.secret.expose_mut()[15] ^= 1;
    forged = seal_link_message(alice.rng, guessed, contents);
    REQUIRE(forged);
    CHECK(open_error(request, *forged) == Errc::kInvalidMessage);
  }
  SECTION("sealed for another mailbox") {
    LinkCode moved{code.ephemeral, code.secret.clone(), code.mailbox};
    moved.mailbox[0] ^= 1;
    auto m = seal_link_message(alice.rng, moved, contents);
    REQUIRE(m);
    CHECK(open_error(request, *m) == Errc::kInvalidMessage);
  }
  SECTION("another version byte") {
    for (std::uint8_t v : {std::uint8_t{0x00}, std::uint8_t{0x02}, std::uint8_t{0xff}}) {
      Bytes m = message;
      m[0] = v;
      CHECK(open_error(request, m) == Errc::kInvalidMessage);
    }
  }
  SECTION("a low-order sealing key") {
    // u = 0 and u = 1 are low-order points: the X25519 output is all zeros.
    for (std::uint8_t u0 : {std::uint8_t{0}, std::uint8_t{1}}) {
      Bytes m = message;
      std::fill(m.begin() + 1, m.begin() + 33, 0);
      m[1] = u0;
      CHECK(open_error(request, m) == Errc::kInvalidMessage);
    }
  }
  SECTION("larger than the bound") {
    Bytes huge(kMaxLinkMessageBytes + 1, 0);
    huge[0] = 0x01;
    CHECK(open_error(request, huge) == Errc::kLimitExceeded);
  }
}

TEST_CASE("seal refuses contents that break a rule", "[unit]") {
  Person alice(1040);
  test::SeededRandom rng(1041);
  const LinkRequest request = make_request(rng);
  const LinkCode code = code_of(request);
  const LinkContents good = alice.contents();
  REQUIRE(seal_link_message(alice.rng, code, good));
  LinkContents c = clone_contents(good);

  SECTION("empty name") {
    c.name.clear();
    CHECK(seal_error(alice.rng, code, c) == Errc::kInvalidArgument);
  }
  SECTION("name too long") {
    c.name.assign(kMaxAddressNameBytes + 1, 'a');
    CHECK(seal_error(alice.rng, code, c) == Errc::kLimitExceeded);
  }
  SECTION("the list is another person's") {
    c.device_list = sign_list(alice.rng, alice.identity, "alicia", {1, 3}, 4);
    CHECK(seal_error(alice.rng, code, c) == Errc::kInvalidArgument);
  }
  SECTION("the device is not on the list") {
    c.device_id = DeviceId{2};
    CHECK(seal_error(alice.rng, code, c) == Errc::kInvalidArgument);
    c.device_id = DeviceId{4};
    CHECK(seal_error(alice.rng, code, c) == Errc::kInvalidArgument);
  }
  SECTION("the identity is not the list's") {
    c.device_list = sign_list(alice.rng, alice.bob, "alice", {1, 3}, 4);
    CHECK(seal_error(alice.rng, code, c) == Errc::kInvalidArgument);
    c.identity = alice.bob.clone();                // consistent with the list, but then...
    CHECK(seal_link_message(alice.rng, code, c));  // ...it is a valid link of bob's key
  }
  SECTION("the identity key pair does not match") {
    c.identity = KeyPair{alice.identity.public_key, alice.carol.private_key.clone()};
    CHECK(seal_error(alice.rng, code, c) == Errc::kInvalidArgument);
  }
  SECTION("contacts") {
    c.contacts.emplace_back("", alice.bob.public_key);
    CHECK(seal_error(alice.rng, code, c) == Errc::kInvalidArgument);
    c.contacts.back().first.assign(kMaxAddressNameBytes + 1, 'x');
    CHECK(seal_error(alice.rng, code, c) == Errc::kLimitExceeded);
    c.contacts.back().first = "bob-the-contact";  // a second bob, with another key
    c.contacts.back().second = alice.carol.public_key;
    CHECK(seal_error(alice.rng, code, c) == Errc::kInvalidArgument);
  }
  SECTION("too many contacts") {
    c.contacts.clear();
    for (std::size_t i = 0; i <= kMaxLinkContacts; ++i)
      c.contacts.emplace_back("c" + std::to_string(i), alice.bob.public_key);
    CHECK(seal_error(alice.rng, code, c) == Errc::kLimitExceeded);
  }
  SECTION("too much application data") {
    c.application_data = SecretBytes(kMaxLinkApplicationDataBytes + 1);
    CHECK(seal_error(alice.rng, code, c) == Errc::kLimitExceeded);
  }
  SECTION("a code with a low-order key") {
    const LinkCode low{PublicKey::from_u({}), code.secret.clone(), code.mailbox};
    CHECK(seal_error(alice.rng, low, c) == Errc::kInvalidArgument);
  }
}

TEST_CASE("open refuses contents that break a rule", "[unit]") {
  Person alice(1050);
  test::SeededRandom rng(1051);
  const LinkRequest request = make_request(rng);
  const LinkCode code = code_of(request);
  const LinkContents good = alice.contents();
  const envelope::LinkContents p = contents_proto(good);
  // The crafted plaintext of valid contents opens: each case below changes one thing.
  {
    auto o = request.open(seal_raw(alice.rng, code, p));
    REQUIRE(o);
    check_same(*o, good);
  }
  auto refused = [&](const envelope::LinkContents& q, Errc expected) {
    CHECK(open_error(request, seal_raw(alice.rng, code, q)) == expected);
  };
  auto q = p;

  SECTION("not a protobuf") {
    const Bytes junk = {0xff, 0xff, 0xff, 0xff};
    auto m = internal::seal_link_plaintext(alice.rng, code, junk);
    REQUIRE(m);
    CHECK(open_error(request, *m) == Errc::kInvalidMessage);
  }
  SECTION("missing fields") {
    for (int f = 0; f < 8; ++f) {
      q = p;
      if (f == 0) q.clear_format();
      if (f == 1) q.clear_name();
      if (f == 2) q.clear_device_id();
      if (f == 3) q.clear_identity_public_key();
      if (f == 4) q.clear_identity_private_key();
      if (f == 5) q.clear_device_list();
      if (f == 6) q.clear_application_data();
      if (f == 7) q.mutable_contacts(0)->clear_identity_key();
      INFO("field " << f);
      refused(q, Errc::kInvalidMessage);
    }
    q = p;
    q.mutable_contacts(1)->clear_name();
    refused(q, Errc::kInvalidMessage);
  }
  SECTION("unknown format") {
    q.set_format(2);
    refused(q, Errc::kInvalidMessage);
  }
  SECTION("malformed keys") {
    q.set_identity_public_key(p.identity_public_key().substr(0, 32));
    refused(q, Errc::kInvalidMessage);
    q = p;
    q.set_identity_private_key(p.identity_private_key().substr(0, 31));
    refused(q, Errc::kInvalidMessage);
    q = p;
    std::string key = p.contacts(0).identity_key();
    key[0] = 0x06;
    q.mutable_contacts(0)->set_identity_key(key);
    refused(q, Errc::kInvalidMessage);
  }
  SECTION("the identity key pair does not match") {
    q.set_identity_private_key(field(alice.carol.private_key.expose()));
    refused(q, Errc::kInvalidMessage);
  }
  SECTION("the identity is not the list's") {
    // bob's consistent key pair, with alice's list (signed by alice).
    q.set_identity_public_key(field(alice.bob.public_key.serialize()));
    q.set_identity_private_key(field(alice.bob.private_key.expose()));
    refused(q, Errc::kInvalidMessage);
  }
  SECTION("the device is not on the list") {
    q.set_device_id(2);
    refused(q, Errc::kInvalidMessage);
  }
  SECTION("the list is another person's") {
    q.set_device_list(
        field(sign_list(alice.rng, alice.identity, "alicia", {1, 3}, 4).serialized()));
    refused(q, Errc::kInvalidMessage);
    q = p;
    q.set_name("alicia");
    refused(q, Errc::kInvalidMessage);
  }
  SECTION("empty names, or a contact named twice") {
    q.set_name("");
    refused(q, Errc::kInvalidMessage);
    q = p;
    q.mutable_contacts(1)->set_name("");
    refused(q, Errc::kInvalidMessage);
    q = p;
    q.mutable_contacts(1)->set_name(p.contacts(0).name());
    refused(q, Errc::kInvalidMessage);
  }
  SECTION("the device list's own errors") {
    Bytes list(good.device_list.serialized());
    list.back() ^= 1;  // the signature's last byte
    q.set_device_list(field(list));
    refused(q, Errc::kInvalidSignature);
    q.set_device_list("\xff\xff");
    refused(q, Errc::kInvalidProtobuf);
    q.set_device_list(std::string(kMaxDeviceListBytes + 1, 'x'));
    refused(q, Errc::kLimitExceeded);
  }
  SECTION("limits") {
    q.set_name(std::string(kMaxAddressNameBytes + 1, 'a'));
    refused(q, Errc::kLimitExceeded);
    q = p;
    q.mutable_contacts(0)->set_name(std::string(kMaxAddressNameBytes + 1, 'b'));
    refused(q, Errc::kLimitExceeded);
    q = p;
    q.set_application_data(std::string(kMaxLinkApplicationDataBytes + 1, 'd'));
    refused(q, Errc::kLimitExceeded);
    q = p;
    q.clear_contacts();
    for (std::size_t i = 0; i <= kMaxLinkContacts; ++i) {
      auto* contact = q.add_contacts();
      contact->set_name("c" + std::to_string(i));
      contact->set_identity_key(p.contacts(0).identity_key());
    }
    refused(q, Errc::kLimitExceeded);
    q.mutable_contacts()->RemoveLast();  // exactly the limit opens
    auto o = request.open(seal_raw(alice.rng, code, q));
    REQUIRE(o);
    CHECK(o->contacts.size() == kMaxLinkContacts);
  }
}

TEST_CASE("a link request is kept and restored", "[unit]") {
  test::SeededRandom rng(1060);
  const LinkRequest request = make_request(rng);
  const SecretBytes kept = request.serialize();
  CHECK(kept.size() == 97);
  auto restored = LinkRequest::deserialize(kept.expose());
  REQUIRE(restored);
  CHECK(restored->code() == request.code());
  CHECK(restored->mailbox() == request.mailbox());
  CHECK(constant_time_equals(restored->serialize().expose(), kept.expose()));
  // It opens what was sealed for the original.
  Person alice(1061);
  const LinkContents contents = alice.contents();
  auto m = seal_link_message(alice.rng, code_of(request), contents);
  REQUIRE(m);
  auto o = restored->open(*m);
  REQUIRE(o);
  check_same(*o, contents);

  auto refused = [](ByteView data) {
    auto r = LinkRequest::deserialize(data);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::kInvalidArgument);
  };
  const Bytes good(kept.expose().begin(), kept.expose().end());
  refused({});
  refused(ByteView(good.data(), good.size() - 1));
  Bytes longer = good;
  longer.push_back(0);
  refused(longer);
  Bytes format = good;
  format[0] = 0x02;
  refused(format);
  Bytes public_key = good;
  public_key[40] ^= 1;  // the public key no longer matches the private key
  refused(public_key);
  Bytes unclamped = good;
  unclamped[1] |= 1;  // the scalar's low bits are cleared by clamping
  refused(unclamped);
  unclamped = good;
  unclamped[32] |= 0x80;
  refused(unclamped);
  // Random garbage of the right length and format byte.
  for (int i = 0; i < 50; ++i) {
    Bytes junk(97);
    REQUIRE(rng.fill(junk));
    junk[0] = 0x01;
    refused(junk);
  }
}

namespace {

// A store that keeps the Messenger records written through it (or fails them), and forwards the
// rest to an in-memory store, which rolls the whole transaction back on failure.
class RecordingStore final : public test::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Status store_messenger_record(MessengerRecordKind kind, std::string_view key,
                                ByteView value) override {
    if (fail) return Error(Errc::kStoreFailure, "RecordingStore: told to fail");
    records.push_back({kind, std::string(key), Bytes(value.begin(), value.end())});
    return ok_status();
  }
  struct Record {
    MessengerRecordKind kind;
    std::string key;
    Bytes value;
  };
  std::vector<Record> records;
  bool fail = false;
};

}  // namespace

TEST_CASE("import_link stores the contacts and the device list in one transaction", "[unit]") {
  Person alice(1070);
  const LinkContents contents = alice.contents();

  SECTION("into a store of the person's identity") {
    InMemoryProtocolStore inner(alice.identity.clone(), 77);
    RecordingStore store(inner);
    REQUIRE(import_link(store, contents));
    for (const auto& [name, key] : contents.contacts) {
      auto stored = inner.identity(name);
      REQUIRE(stored);
      REQUIRE(*stored);
      CHECK(**stored == key);
    }
    REQUIRE(store.records.size() == 1);
    CHECK(store.records[0].kind == MessengerRecordKind::kDeviceList);
    CHECK(store.records[0].key == "alice");
    CHECK(store.records[0].value == contents.device_list.serialized());
  }
  SECTION("into a store of another identity: refused, nothing written") {
    InMemoryProtocolStore inner(alice.bob.clone(), 77);
    RecordingStore store(inner);
    const SecretBytes before = inner.serialize();
    auto st = import_link(store, contents);
    REQUIRE_FALSE(st);
    CHECK(st.error().code() == Errc::kInvalidArgument);
    CHECK(constant_time_equals(inner.serialize().expose(), before.expose()));
    CHECK(store.records.empty());
  }
  SECTION("a failing write undoes the contacts") {
    InMemoryProtocolStore inner(alice.identity.clone(), 77);
    RecordingStore store(inner);
    store.fail = true;
    const SecretBytes before = inner.serialize();
    auto st = import_link(store, contents);
    REQUIRE_FALSE(st);
    CHECK(st.error().code() == Errc::kStoreFailure);
    CHECK(constant_time_equals(inner.serialize().expose(), before.expose()));
    auto stored = inner.identity("bob-the-contact");
    REQUIRE(stored);
    CHECK_FALSE(*stored);
  }
}
