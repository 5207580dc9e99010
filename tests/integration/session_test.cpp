// hush integration tests: two parties on in-memory stores, through the public API only.
//
// Every rejection also asserts that the rejecting party's store is byte-for-byte unchanged
// (InMemoryProtocolStore::serialize is deterministic), and where it matters that the genuine
// message still decrypts afterwards.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "support/test_support.h"
#include "wire.pb.h"

using namespace hush;
using hush::test::decrypt;
using hush::test::encrypt;
using hush::test::Party;

namespace {

// Decrypting `msg` at `to` must fail with `code` and change nothing at `to`.
void require_rejected(Party& to, const Party& from, const CiphertextMessage& msg, Errc code) {
  const Bytes before = to.snapshot();
  auto r = decrypt(to, from, msg);
  REQUIRE_FALSE(r);
  CHECK(to_string(r.error().code()) == to_string(code));
  REQUIRE(to.snapshot() == before);
}

// Decrypting raw bytes of `type` at `to` must fail (parse or decrypt) with `code`, changing
// nothing.
void require_bytes_rejected(Party& to, const Party& from, MessageType type, const Bytes& bytes,
                            Errc code) {
  const Bytes before = to.snapshot();
  auto parsed = CiphertextMessage::parse(type, bytes);
  Errc got;
  if (!parsed) {
    got = parsed.error().code();
  } else {
    auto r = decrypt(to, from, *parsed);
    REQUIRE_FALSE(r);
    got = r.error().code();
  }
  CHECK(to_string(got) == to_string(code));
  REQUIRE(to.snapshot() == before);
}

CiphertextMessage reparse(const CiphertextMessage& m) {
  auto p = CiphertextMessage::parse(m.type(), m.serialized());
  REQUIRE(p);
  return std::move(*p);
}

Bytes bytes_of(const CiphertextMessage& m) {
  return Bytes(m.serialized().begin(), m.serialized().end());
}

// Sets up alice -> bob with bob's bundle (one-time prekey 1) and one round trip, so both sides
// are on whisper messages.
void establish(Party& alice, Party& bob) {
  REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle()));
  auto first = encrypt(alice, bob, "hello bob");
  REQUIRE(first.type() == MessageType::kPreKey);
  REQUIRE(decrypt(bob, alice, first).value() == "hello bob");
  auto reply = encrypt(bob, alice, "hello alice");
  REQUIRE(reply.type() == MessageType::kWhisper);
  REQUIRE(decrypt(alice, bob, reply).value() == "hello alice");
}

// Re-encodes a PreKeySignalMessage after `edit` changes its protobuf.
template <class Edit>
Bytes edit_prekey(const CiphertextMessage& m, Edit edit) {
  const ByteView s = m.serialized();
  wire::PreKeySignalMessage pb;
  REQUIRE(pb.ParseFromArray(s.data() + 1, static_cast<int>(s.size() - 1)));
  edit(pb);
  std::string body;
  REQUIRE(pb.SerializeToString(&body));
  Bytes out{s[0]};
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

template <class Edit>
Bytes edit_signal(const Bytes& s, Edit edit) {
  wire::SignalMessage pb;
  REQUIRE(pb.ParseFromArray(s.data() + 1, static_cast<int>(s.size() - 1 - kMacSize)));
  edit(pb);
  std::string body;
  REQUIRE(pb.SerializeToString(&body));
  Bytes out{s[0]};
  out.insert(out.end(), body.begin(), body.end());
  out.insert(out.end(), s.end() - static_cast<std::ptrdiff_t>(kMacSize), s.end());
  return out;
}

std::string as_field(ByteView b) {
  return std::string(b.begin(), b.end());
}

}  // namespace

TEST_CASE("a session carries messages both ways in order", "[integration]") {
  auto alice = Party::create("alice", 1);
  auto bob = Party::create("bob", 2);
  REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle()));

  auto info = session_info(*alice.store, bob.address);
  REQUIRE(info);
  CHECK(info->exists);
  CHECK(info->version == 3);
  CHECK(info->has_unacknowledged_prekey);
  CHECK(info->remote_identity == bob.store->identity_key_pair()->public_key);

  for (int i = 0; i < 3; ++i) {
    auto m = encrypt(alice, bob, "a" + std::to_string(i));
    CHECK(m.type() == MessageType::kPreKey);  // until bob answers
    CHECK(m.serialized()[0] == 0x33);
    REQUIRE(decrypt(bob, alice, reparse(m)).value() == "a" + std::to_string(i));
  }
  CHECK_FALSE(bob.store->load_pre_key(PreKeyId{1})->has_value());  // the one-time prekey is used

  for (int round = 0; round < 20; ++round) {
    for (int k = 0; k <= round % 3; ++k) {
      auto m = encrypt(bob, alice, "b" + std::to_string(round) + "." + std::to_string(k));
      CHECK(m.type() == MessageType::kWhisper);
      REQUIRE(decrypt(alice, bob, reparse(m)).value() ==
              "b" + std::to_string(round) + "." + std::to_string(k));
    }
    auto m = encrypt(alice, bob, "a" + std::to_string(round));
    CHECK(m.type() == MessageType::kWhisper);
    REQUIRE(decrypt(bob, alice, reparse(m)).value() == "a" + std::to_string(round));
  }
  CHECK_FALSE(session_info(*alice.store, bob.address)->has_unacknowledged_prekey);
}

TEST_CASE("empty and large plaintexts", "[integration]") {
  auto alice = Party::create("alice", 3);
  auto bob = Party::create("bob", 4);
  establish(alice, bob);
  auto empty = encrypt(alice, bob, "");
  CHECK(empty.signal_message()->ciphertext().size() == 16);
  CHECK(decrypt(bob, alice, empty).value().empty());
  std::string big(100000, '\0');
  for (std::size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<char>(i * 7);
  CHECK(decrypt(bob, alice, encrypt(alice, bob, big)).value() == big);

  const Bytes before = alice.snapshot();
  std::vector<std::uint8_t> too_big(kMaxPlaintextBytes + 1);
  auto r = encrypt_message(*alice.ctx, *alice.store, bob.address, too_big);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::kLimitExceeded);
  CHECK(alice.snapshot() == before);
}

TEST_CASE("out-of-order delivery within and across ratchet steps", "[integration]") {
  auto alice = Party::create("alice", 5);
  auto bob = Party::create("bob", 6);
  REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle()));

  // Prekey messages out of order: the third one sets up the session.
  std::vector<CiphertextMessage> pre;
  for (int i = 0; i < 3; ++i)
    pre.push_back(encrypt(alice, bob, "p" + std::to_string(i)));
  REQUIRE(decrypt(bob, alice, pre[2]).value() == "p2");
  REQUIRE(decrypt(bob, alice, pre[0]).value() == "p0");
  REQUIRE(decrypt(bob, alice, pre[1]).value() == "p1");

  // Several ratchet steps, each leaving messages behind; deliver them all late, shuffled.
  std::vector<std::pair<std::string, CiphertextMessage>> late;
  for (int step = 0; step < 4; ++step) {
    auto from_bob = encrypt(bob, alice, "step" + std::to_string(step));
    REQUIRE(decrypt(alice, bob, from_bob).value() == "step" + std::to_string(step));
    for (int k = 0; k < 3; ++k) {
      const std::string text = "s" + std::to_string(step) + "m" + std::to_string(k);
      late.emplace_back(text, encrypt(alice, bob, text));
    }
    // One message of each step goes through at once, so bob sees every chain.
    const std::string now = "s" + std::to_string(step) + "now";
    REQUIRE(decrypt(bob, alice, encrypt(alice, bob, now)).value() == now);
  }
  std::reverse(late.begin(), late.end());
  std::swap(late[1], late[5]);
  for (auto& [text, msg] : late)
    REQUIRE(decrypt(bob, alice, msg).value() == text);
  // Every one of them is now a duplicate.
  for (auto& [text, msg] : late)
    require_rejected(bob, alice, msg, Errc::kDuplicateMessage);
}

TEST_CASE("duplicates are rejected and change nothing", "[integration]") {
  auto alice = Party::create("alice", 7);
  auto bob = Party::create("bob", 8);
  REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle()));
  auto p0 = encrypt(alice, bob, "first");
  REQUIRE(decrypt(bob, alice, p0).value() == "first");
  // A replayed prekey message takes the "already set up" path and is a duplicate.
  require_rejected(bob, alice, p0, Errc::kDuplicateMessage);

  auto r0 = encrypt(bob, alice, "reply");
  REQUIRE(decrypt(alice, bob, r0).value() == "reply");
  require_rejected(alice, bob, r0, Errc::kDuplicateMessage);

  auto w = encrypt(alice, bob, "whisper");
  REQUIRE(decrypt(bob, alice, w).value() == "whisper");
  require_rejected(bob, alice, w, Errc::kDuplicateMessage);
  require_rejected(bob, alice, p0, Errc::kDuplicateMessage);
}

TEST_CASE("every tampered byte of a whisper message is rejected", "[integration]") {
  auto alice = Party::create("alice", 9);
  auto bob = Party::create("bob", 10);
  establish(alice, bob);
  auto m = encrypt(alice, bob, "tamper with me");
  const Bytes good = bytes_of(m);
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (std::uint8_t bit : {std::uint8_t{0x01}, std::uint8_t{0x80}}) {
      Bytes bad = good;
      bad[i] ^= bit;
      const Bytes before = bob.snapshot();
      auto parsed = CiphertextMessage::parse(MessageType::kWhisper, bad);
      if (parsed) {
        auto r = decrypt(bob, alice, *parsed);
        INFO("byte " << i << " bit " << int(bit));
        REQUIRE_FALSE(r);
      }
      REQUIRE(bob.snapshot() == before);
    }
  }
  // Truncations and extensions.
  for (std::size_t len = 0; len < good.size(); ++len) {
    const Bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(len));
    const Bytes before = bob.snapshot();
    auto parsed = CiphertextMessage::parse(MessageType::kWhisper, cut);
    if (parsed) REQUIRE_FALSE(decrypt(bob, alice, *parsed));
    REQUIRE(bob.snapshot() == before);
  }
  Bytes longer = good;
  longer.push_back(0);
  auto parsed = CiphertextMessage::parse(MessageType::kWhisper, longer);
  if (parsed) REQUIRE_FALSE(decrypt(bob, alice, *parsed));
  // The genuine message still decrypts.
  REQUIRE(decrypt(bob, alice, m).value() == "tamper with me");
}

TEST_CASE("whisper tampering gets a distinct error for each kind", "[integration]") {
  auto alice = Party::create("alice", 11);
  auto bob = Party::create("bob", 12);
  establish(alice, bob);
  auto m = encrypt(alice, bob, "kinds");
  const Bytes good = bytes_of(m);
  auto other_key = KeyPair::generate(*alice.random)->public_key.serialize();

  Bytes bad_mac = good;
  bad_mac.back() ^= 1;
  require_bytes_rejected(bob, alice, MessageType::kWhisper, bad_mac, Errc::kInvalidMessage);

  Bytes bad_cipher = edit_signal(good, [](wire::SignalMessage& pb) {
    std::string c = pb.ciphertext();
    c[0] = static_cast<char>(c[0] ^ 1);
    pb.set_ciphertext(c);
  });
  require_bytes_rejected(bob, alice, MessageType::kWhisper, bad_cipher, Errc::kInvalidMessage);

  Bytes bad_counter =
      edit_signal(good, [](wire::SignalMessage& pb) { pb.set_counter(pb.counter() + 1); });
  require_bytes_rejected(bob, alice, MessageType::kWhisper, bad_counter, Errc::kInvalidMessage);

  Bytes far_counter =
      edit_signal(good, [](wire::SignalMessage& pb) { pb.set_counter(pb.counter() + 5000); });
  require_bytes_rejected(bob, alice, MessageType::kWhisper, far_counter, Errc::kTooFarInFuture);

  Bytes other_ratchet =
      edit_signal(good, [&](wire::SignalMessage& pb) { pb.set_ratchet_key(as_field(other_key)); });
  require_bytes_rejected(bob, alice, MessageType::kWhisper, other_ratchet, Errc::kInvalidMessage);

  Bytes short_key = edit_signal(
      good, [](wire::SignalMessage& pb) { pb.set_ratchet_key(pb.ratchet_key().substr(0, 32)); });
  require_bytes_rejected(bob, alice, MessageType::kWhisper, short_key, Errc::kInvalidKey);

  Bytes wrong_type = edit_signal(good, [](wire::SignalMessage& pb) {
    std::string k = pb.ratchet_key();
    k[0] = 0x06;
    pb.set_ratchet_key(k);
  });
  require_bytes_rejected(bob, alice, MessageType::kWhisper, wrong_type, Errc::kInvalidKey);

  Bytes no_counter = edit_signal(good, [](wire::SignalMessage& pb) { pb.clear_counter(); });
  require_bytes_rejected(bob, alice, MessageType::kWhisper, no_counter, Errc::kInvalidMessage);
  Bytes no_ciphertext = edit_signal(good, [](wire::SignalMessage& pb) { pb.clear_ciphertext(); });
  require_bytes_rejected(bob, alice, MessageType::kWhisper, no_ciphertext, Errc::kInvalidMessage);

  Bytes legacy = good;
  legacy[0] = 0x23;
  require_bytes_rejected(bob, alice, MessageType::kWhisper, legacy, Errc::kLegacyMessage);
  legacy[0] = 0x13;
  require_bytes_rejected(bob, alice, MessageType::kWhisper, legacy, Errc::kLegacyMessage);
  Bytes future = good;
  future[0] = 0x53;
  require_bytes_rejected(bob, alice, MessageType::kWhisper, future, Errc::kInvalidVersion);
  // Version 4 parses, but a version-3 session decrypts only version-3 messages.
  future[0] = 0x43;
  require_bytes_rejected(bob, alice, MessageType::kWhisper, future, Errc::kInvalidMessage);

  Bytes garbage = good;
  std::fill(garbage.begin() + 1, garbage.end() - 8, std::uint8_t{0xFF});
  require_bytes_rejected(bob, alice, MessageType::kWhisper, garbage, Errc::kInvalidProtobuf);
  require_bytes_rejected(bob, alice, MessageType::kWhisper, Bytes{0x33, 1, 2},
                         Errc::kInvalidMessage);

  // A prekey message given as a whisper message, and the other way round.
  REQUIRE(decrypt(bob, alice, m).value() == "kinds");
}

TEST_CASE("prekey message tampering is rejected and changes nothing", "[integration]") {
  auto alice = Party::create("alice", 13);
  auto bob = Party::create("bob", 14);
  REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle()));
  auto m = encrypt(alice, bob, "prekey payload");
  auto other = KeyPair::generate(*alice.random)->public_key.serialize();

  require_bytes_rejected(bob, alice, MessageType::kPreKey,
                         edit_prekey(m, [&](auto& pb) { pb.set_base_key(as_field(other)); }),
                         Errc::kInvalidMessage);
  // A different identity key: bob has no identity for alice yet (TOFU would trust it), but the
  // X3DH secret differs, so the MAC fails and nothing (in particular no identity) is saved.
  require_bytes_rejected(bob, alice, MessageType::kPreKey,
                         edit_prekey(m, [&](auto& pb) { pb.set_identity_key(as_field(other)); }),
                         Errc::kInvalidMessage);
  CHECK_FALSE(bob.store->identity(alice.address.name)->has_value());
  require_bytes_rejected(bob, alice, MessageType::kPreKey,
                         edit_prekey(m, [&](auto& pb) { pb.set_pre_key_id(2); }),
                         Errc::kInvalidMessage);
  require_bytes_rejected(bob, alice, MessageType::kPreKey,
                         edit_prekey(m, [&](auto& pb) { pb.set_pre_key_id(999); }),
                         Errc::kInvalidKeyId);
  require_bytes_rejected(bob, alice, MessageType::kPreKey,
                         edit_prekey(m, [&](auto& pb) { pb.clear_pre_key_id(); }),
                         Errc::kInvalidMessage);
  require_bytes_rejected(bob, alice, MessageType::kPreKey,
                         edit_prekey(m, [&](auto& pb) { pb.set_signed_pre_key_id(7); }),
                         Errc::kInvalidKeyId);
  require_bytes_rejected(bob, alice, MessageType::kPreKey,
                         edit_prekey(m, [&](auto& pb) { pb.clear_base_key(); }),
                         Errc::kInvalidMessage);
  require_bytes_rejected(
      bob, alice, MessageType::kPreKey,
      edit_prekey(m, [&](auto& pb) { pb.set_base_key(pb.base_key().substr(1)); }),
      Errc::kInvalidKey);
  require_bytes_rejected(bob, alice, MessageType::kPreKey,
                         edit_prekey(m,
                                     [&](auto& pb) {
                                       std::string inner = pb.message();
                                       inner[inner.size() - 1] =
                                           static_cast<char>(inner.back() ^ 1);
                                       pb.set_message(inner);
                                     }),
                         Errc::kInvalidMessage);
  require_bytes_rejected(bob, alice, MessageType::kPreKey,
                         edit_prekey(m,
                                     [&](auto& pb) {
                                       std::string inner = pb.message();
                                       inner[0] = 0x43;
                                       pb.set_message(inner);
                                     }),
                         Errc::kInvalidVersion);
  Bytes legacy = bytes_of(m);
  legacy[0] = 0x22;
  require_bytes_rejected(bob, alice, MessageType::kPreKey, legacy, Errc::kLegacyMessage);
  Bytes future = bytes_of(m);
  future[0] = 0x43;
  require_bytes_rejected(bob, alice, MessageType::kPreKey, future, Errc::kInvalidVersion);
  // The whisper message inside, given as a prekey message: not a PreKeySignalMessage.
  require_bytes_rejected(bob, alice, MessageType::kPreKey,
                         Bytes(m.prekey_message()->message().serialized().begin(),
                               m.prekey_message()->message().serialized().end()),
                         Errc::kInvalidProtobuf);

  // Every single-bit flip fails, except inside the registration id and the low nibble of the
  // outer version byte, which the protocol does not authenticate and receivers do not read
  // (wire spec §2, §14; libsignal-protocol-c accepts both the same way).
  const Bytes good = bytes_of(m);
  for (std::size_t i = 1; i < good.size(); ++i) {
    Bytes bad = good;
    bad[i] ^= 0x01;
    auto parsed = PreKeySignalMessage::parse(bad);
    if (parsed && parsed->registration_id() != m.prekey_message()->registration_id() &&
        parsed->message().serialized().size() == m.prekey_message()->message().serialized().size())
      continue;
    const Bytes before = bob.snapshot();
    if (parsed) {
      INFO("byte " << i);
      REQUIRE_FALSE(decrypt(bob, alice, CiphertextMessage(std::move(*parsed))));
    }
    REQUIRE(bob.snapshot() == before);
  }

  // The registration id is only stored (wire spec §14).
  auto renumbered = edit_prekey(m, [&](auto& pb) { pb.set_registration_id(9999); });
  auto parsed = CiphertextMessage::parse(MessageType::kPreKey, renumbered);
  REQUIRE(parsed);
  REQUIRE(decrypt(bob, alice, *parsed).value() == "prekey payload");
  CHECK(session_info(*bob.store, alice.address)->remote_registration_id == 9999);
}

TEST_CASE("the forward jump limit at N-1, N and N+1", "[integration][limits]") {
  for (std::uint32_t jump : {kMaxForwardJump - 1, kMaxForwardJump, kMaxForwardJump + 1}) {
    DYNAMIC_SECTION("jump " << jump) {
      auto alice = Party::create("alice", 15);
      auto bob = Party::create("bob", 16);
      establish(alice, bob);
      REQUIRE(decrypt(bob, alice, encrypt(alice, bob, "c0")).value() == "c0");  // chain at 1
      std::vector<CiphertextMessage> held;
      for (std::uint32_t i = 0; i < jump; ++i)
        held.push_back(encrypt(alice, bob, "x"));
      auto far = encrypt(alice, bob, "far");  // counter 1 + jump
      if (jump <= kMaxForwardJump) {
        REQUIRE(decrypt(bob, alice, far).value() == "far");
        REQUIRE(decrypt(bob, alice, held.front()).value() == "x");
        REQUIRE(decrypt(bob, alice, held.back()).value() == "x");
      } else {
        require_rejected(bob, alice, far, Errc::kTooFarInFuture);
        REQUIRE(decrypt(bob, alice, held.front()).value() == "x");
      }
    }
  }
}

TEST_CASE("the forward jump limit on a new chain", "[integration][limits]") {
  for (std::uint32_t counter : {kMaxForwardJump, kMaxForwardJump + 1}) {
    DYNAMIC_SECTION("first counter " << counter) {
      auto alice = Party::create("alice", 17);
      auto bob = Party::create("bob", 18);
      establish(alice, bob);
      for (std::uint32_t i = 0; i < counter; ++i)
        (void)encrypt(alice, bob, "skip");
      auto m = encrypt(alice, bob, "first seen");
      REQUIRE(m.signal_message()->counter() == counter);
      if (counter <= kMaxForwardJump)
        REQUIRE(decrypt(bob, alice, m).value() == "first seen");
      else
        require_rejected(bob, alice, m, Errc::kTooFarInFuture);
    }
  }
}

TEST_CASE("skipped keys per chain are capped, oldest dropped", "[integration][limits]") {
  // A jump of J keeps J keys; one more skipped key beyond 2000 drops the oldest.
  for (std::uint32_t extra : {0u, 1u}) {
    DYNAMIC_SECTION("skipped " << kMaxSkippedKeysPerChain + extra) {
      auto alice = Party::create("alice", 19);
      auto bob = Party::create("bob", 20);
      establish(alice, bob);
      REQUIRE(decrypt(bob, alice, encrypt(alice, bob, "c0")).value() == "c0");
      std::vector<CiphertextMessage> held;
      for (std::size_t i = 0; i < kMaxSkippedKeysPerChain; ++i)
        held.push_back(encrypt(alice, bob, "h" + std::to_string(i)));
      REQUIRE(decrypt(bob, alice, encrypt(alice, bob, "jump")).value() == "jump");  // 2000 kept
      if (extra == 1) {
        (void)encrypt(alice, bob, "skipped once more");
        REQUIRE(decrypt(bob, alice, encrypt(alice, bob, "again")).value() == "again");
        // The oldest key was dropped: that message now reads as a duplicate (wire spec §4.5).
        require_rejected(bob, alice, held.front(), Errc::kDuplicateMessage);
      } else {
        REQUIRE(decrypt(bob, alice, held.front()).value() == "h0");
      }
      REQUIRE(decrypt(bob, alice, held[1]).value() == "h1");
      REQUIRE(decrypt(bob, alice, held.back()).value() ==
              "h" + std::to_string(kMaxSkippedKeysPerChain - 1));
    }
  }
}

TEST_CASE("receiver chains are capped at 5", "[integration][limits]") {
  // A message withheld on one chain still decrypts after 4 newer peer chains, not after 5.
  for (int newer : {3, 4, 5}) {
    DYNAMIC_SECTION(newer << " newer chains") {
      auto alice = Party::create("alice", 21);
      auto bob = Party::create("bob", 22);
      establish(alice, bob);
      auto late = encrypt(alice, bob, "late");
      REQUIRE(decrypt(bob, alice, encrypt(alice, bob, "same chain")).value() == "same chain");
      for (int i = 0; i < newer; ++i) {
        REQUIRE(decrypt(alice, bob, encrypt(bob, alice, "turn")).value() == "turn");
        REQUIRE(decrypt(bob, alice, encrypt(alice, bob, "next chain")).value() == "next chain");
      }
      if (newer <= static_cast<int>(kMaxReceiverChains) - 1)
        REQUIRE(decrypt(bob, alice, late).value() == "late");
      else
        require_rejected(bob, alice, late, Errc::kInvalidMessage);
    }
  }
}

TEST_CASE("archived states are capped at 40", "[integration][limits]") {
  auto alice = Party::create("alice", 23, 0);
  auto bob = Party::create("bob", 24, 0);
  for (int i = 1; i <= 42; ++i) {
    REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle()));
    CHECK(session_info(*alice.store, bob.address)->previous_states ==
          std::min<std::size_t>(static_cast<std::size_t>(i - 1), kMaxArchivedStates));
  }
}

TEST_CASE("a late message from an archived session decrypts until 40 newer sessions",
          "[integration][limits]") {
  // The late message rides a receiving chain bob already has: it is found in whichever archived
  // state holds that chain.
  for (int newer : {40, 41}) {
    DYNAMIC_SECTION(newer << " newer sessions") {
      auto alice = Party::create("alice", 25, 0);
      auto bob = Party::create("bob", 26, 0);
      establish(alice, bob);
      REQUIRE(decrypt(bob, alice, encrypt(alice, bob, "same chain")).value() == "same chain");
      auto late = encrypt(alice, bob, "from the first session");
      for (int i = 0; i < newer; ++i) {
        REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle()));
        REQUIRE(decrypt(bob, alice, encrypt(alice, bob, "new session")).value() == "new session");
      }
      CHECK(session_info(*bob.store, alice.address)->previous_states ==
            std::min<std::size_t>(static_cast<std::size_t>(newer), kMaxArchivedStates));
      if (newer <= static_cast<int>(kMaxArchivedStates)) {
        REQUIRE(decrypt(bob, alice, late).value() == "from the first session");
        // The archived state that decrypted is promoted to current.
        CHECK(session_info(*bob.store, alice.address)->previous_states == kMaxArchivedStates);
      } else {
        require_rejected(bob, alice, late, Errc::kInvalidMessage);
      }
    }
  }
}

TEST_CASE("a late message that starts a chain is tried on the newest states only",
          "[integration][limits]") {
  // The late message carries a ratchet key bob has not seen (alice ratcheted after bob's reply):
  // it can only be tried on every state in turn, which kMaxDecryptTrials bounds (a forged message
  // must not cost 41 trials).
  const int limit = static_cast<int>(kMaxDecryptTrials);
  for (int newer : {limit - 1, limit}) {
    DYNAMIC_SECTION(newer << " newer sessions") {
      auto alice = Party::create("alice", 125, 0);
      auto bob = Party::create("bob", 126, 0);
      establish(alice, bob);
      auto late = encrypt(alice, bob, "a new chain of the first session");
      for (int i = 0; i < newer; ++i) {
        REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle()));
        REQUIRE(decrypt(bob, alice, encrypt(alice, bob, "new session")).value() == "new session");
      }
      if (newer < limit)
        REQUIRE(decrypt(bob, alice, late).value() == "a new chain of the first session");
      else
        require_rejected(bob, alice, late, Errc::kInvalidMessage);
    }
  }
}

TEST_CASE("trials share a budget of chain steps", "[integration][limits]") {
  // A message that starts a new chain on the third state (two newer sessions), far ahead: the
  // current and the next state each spend its counter in chain steps before their MACs fail, so
  // a counter of 1300 (3 x 1300 <= kMaxDecryptChainSteps) reaches it and one of 2000 does not.
  for (std::uint32_t ahead : {1300u, 2000u}) {
    DYNAMIC_SECTION("counter " << ahead) {
      auto alice = Party::create("alice", 127, 0);
      auto bob = Party::create("bob", 128, 0);
      establish(alice, bob);
      for (std::uint32_t i = 0; i < ahead; ++i)
        (void)encrypt(alice, bob, "lost");
      auto late = encrypt(alice, bob, "far ahead on a new chain");
      for (int i = 0; i < 2; ++i) {
        REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle()));
        REQUIRE(decrypt(bob, alice, encrypt(alice, bob, "new session")).value() == "new session");
      }
      if (3 * std::uint64_t{ahead} <= kMaxDecryptChainSteps)
        REQUIRE(decrypt(bob, alice, late).value() == "far ahead on a new chain");
      else
        require_rejected(bob, alice, late, Errc::kInvalidMessage);
    }
  }
}

TEST_CASE("simultaneous initiation converges on one session", "[integration]") {
  auto alice = Party::create("alice", 27);
  auto bob = Party::create("bob", 28);
  REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle()));
  REQUIRE(process_prekey_bundle(*bob.ctx, *bob.store, alice.address, alice.bundle()));
  auto from_alice = encrypt(alice, bob, "hi from alice");
  auto from_bob = encrypt(bob, alice, "hi from bob");
  REQUIRE(from_alice.type() == MessageType::kPreKey);
  REQUIRE(from_bob.type() == MessageType::kPreKey);
  REQUIRE(decrypt(bob, alice, from_alice).value() == "hi from alice");
  REQUIRE(decrypt(alice, bob, from_bob).value() == "hi from bob");
  // Each side's current state is now the session the other side started (wire spec §5.4).
  for (int i = 0; i < 5; ++i) {
    auto a = encrypt(alice, bob, "a" + std::to_string(i));
    CHECK(a.type() == MessageType::kWhisper);
    REQUIRE(decrypt(bob, alice, a).value() == "a" + std::to_string(i));
    auto b = encrypt(bob, alice, "b" + std::to_string(i));
    CHECK(b.type() == MessageType::kWhisper);
    REQUIRE(decrypt(alice, bob, b).value() == "b" + std::to_string(i));
  }
  CHECK_FALSE(session_info(*alice.store, bob.address)->has_unacknowledged_prekey);
  CHECK_FALSE(session_info(*bob.store, alice.address)->has_unacknowledged_prekey);
}

TEST_CASE("a bad signed prekey signature is refused", "[integration]") {
  auto alice = Party::create("alice", 29);
  auto bob = Party::create("bob", 30);
  auto bundle = bob.bundle();
  bundle.signed_pre_key_signature.bytes[5] ^= 1;
  const Bytes before = alice.snapshot();
  auto st = process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bundle);
  REQUIRE_FALSE(st);
  CHECK(st.error().code() == Errc::kInvalidSignature);
  CHECK(alice.snapshot() == before);
  // A signature by another identity, and a signed prekey that is not the one signed.
  auto mallory = Party::create("mallory", 31);
  auto forged = bob.bundle();
  forged.identity_key = mallory.store->identity_key_pair()->public_key;
  CHECK(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, forged).error().code() ==
        Errc::kInvalidSignature);
  auto swapped = bob.bundle();
  swapped.signed_pre_key = mallory.bundle().signed_pre_key;
  CHECK(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, swapped).error().code() ==
        Errc::kInvalidSignature);
  CHECK(alice.snapshot() == before);
  CHECK_FALSE(encrypt_message(*alice.ctx, *alice.store, bob.address, as_bytes("x")));
}

TEST_CASE("low-order keys are refused", "[integration]") {
  auto alice = Party::create("alice", 32);
  auto bob = Party::create("bob", 33);
  // A bundle whose signed prekey is a low-order point (validly signed by its identity).
  std::array<std::uint8_t, 32> zero{};
  auto bundle = bob.bundle();
  bundle.signed_pre_key = PublicKey::from_u(zero);
  bundle.signed_pre_key_signature = *bob.store->identity_key_pair()->private_key.sign(
      *bob.random, bundle.signed_pre_key.serialize());
  const Bytes before = alice.snapshot();
  CHECK(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bundle).error().code() ==
        Errc::kInvalidKey);
  CHECK(alice.snapshot() == before);

  // A prekey message whose base key is low-order.
  REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle()));
  auto m = encrypt(alice, bob, "x");
  Bytes zero_key(33, 0);
  zero_key[0] = 0x05;
  require_bytes_rejected(bob, alice, MessageType::kPreKey,
                         edit_prekey(m, [&](auto& pb) { pb.set_base_key(as_field(zero_key)); }),
                         Errc::kInvalidKey);
}

TEST_CASE("a changed identity is untrusted until trusted", "[integration]") {
  auto alice = Party::create("alice", 34);
  auto bob = Party::create("bob", 35);
  establish(alice, bob);

  // Alice reinstalls: same address, new identity. Bob refuses her prekey messages...
  auto alice2 = Party::create("alice", 36);
  REQUIRE(process_prekey_bundle(*alice2.ctx, *alice2.store, bob.address, bob.bundle()));
  auto m = encrypt(alice2, bob, "it is me, really");
  require_rejected(bob, alice2, m, Errc::kUntrustedIdentity);
  // ...and Alice2's bundle, when Bob tries to start a session with it.
  {
    const Bytes before = bob.snapshot();
    auto st = process_prekey_bundle(*bob.ctx, *bob.store, alice2.address, alice2.bundle());
    REQUIRE_FALSE(st);
    CHECK(st.error().code() == Errc::kUntrustedIdentity);
    CHECK(bob.snapshot() == before);
  }
  // Bob can still talk to the old session (the identity he trusts).
  REQUIRE(decrypt(alice, bob, encrypt(bob, alice, "old session")).value() == "old session");

  // Bob verifies and trusts the new identity: the old session is archived.
  const IdentityKey new_identity = alice2.store->identity_key_pair()->public_key;
  REQUIRE(trust_identity(*bob.store, alice.address.name, new_identity));
  {
    const Bytes before = bob.snapshot();
    auto r = encrypt_message(*bob.ctx, *bob.store, alice.address, as_bytes("x"));
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::kNoSession);
    CHECK(bob.snapshot() == before);
  }
  REQUIRE(decrypt(bob, alice2, m).value() == "it is me, really");
  REQUIRE(decrypt(alice2, bob, encrypt(bob, alice2, "welcome back")).value() == "welcome back");
  // The old identity's whisper messages are now refused: a late one from the archived session.
  auto old = encrypt(alice, bob, "from the old phone");
  require_rejected(bob, alice, old, Errc::kUntrustedIdentity);
}

TEST_CASE("encrypt refuses an untrusted identity", "[integration]") {
  auto alice = Party::create("alice", 37);
  auto bob = Party::create("bob", 38);
  establish(alice, bob);
  // Alice's store learns (through some other path) a different identity for bob.
  auto bob2 = Party::create("bob", 39);
  REQUIRE(
      alice.store->save_identity(bob.address.name, bob2.store->identity_key_pair()->public_key));
  const Bytes before = alice.snapshot();
  auto r = encrypt_message(*alice.ctx, *alice.store, bob.address, as_bytes("x"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::kUntrustedIdentity);
  CHECK(alice.snapshot() == before);
}

TEST_CASE("a one-time prekey is used once", "[integration]") {
  auto alice = Party::create("alice", 40);
  auto carol = Party::create("carol", 41);
  auto bob = Party::create("bob", 42);
  auto bundle = bob.bundle(PreKeyId{1});
  REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bundle));
  REQUIRE(process_prekey_bundle(*carol.ctx, *carol.store, bob.address, bundle));
  REQUIRE(decrypt(bob, alice, encrypt(alice, bob, "from alice")).value() == "from alice");
  require_rejected(bob, carol, encrypt(carol, bob, "from carol"), Errc::kInvalidKeyId);
  // With a fresh prekey, carol gets through.
  REQUIRE(process_prekey_bundle(*carol.ctx, *carol.store, bob.address, bob.bundle()));
  REQUIRE(decrypt(bob, carol, encrypt(carol, bob, "again")).value() == "again");
}

TEST_CASE("sessions without a one-time prekey", "[integration]") {
  auto alice = Party::create("alice", 43);
  auto bob = Party::create("bob", 44, 0);
  auto bundle = bob.bundle();
  REQUIRE_FALSE(bundle.pre_key_id.has_value());
  REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bundle));
  auto m = encrypt(alice, bob, "no opk");
  CHECK_FALSE(m.prekey_message()->pre_key_id().has_value());
  REQUIRE(decrypt(bob, alice, m).value() == "no opk");
  REQUIRE(decrypt(alice, bob, encrypt(bob, alice, "ok")).value() == "ok");
}

TEST_CASE("decrypt without a session", "[integration]") {
  auto alice = Party::create("alice", 45);
  auto bob = Party::create("bob", 46);
  establish(alice, bob);
  auto eve = Party::create("eve", 47);
  auto m = encrypt(alice, bob, "not for eve");
  require_rejected(eve, alice, m, Errc::kNoSession);
  CHECK(encrypt_message(*eve.ctx, *eve.store, bob.address, as_bytes("x")).error().code() ==
        Errc::kNoSession);
}

TEST_CASE("the before_commit hook runs inside the commit", "[integration]") {
  auto alice = Party::create("alice", 48);
  auto bob = Party::create("bob", 49);
  establish(alice, bob);
  auto m = encrypt(alice, bob, "hooked");
  std::string seen;
  DecryptOptions failing;
  failing.before_commit = [&](ByteView p) -> Status {
    seen.assign(p.begin(), p.end());
    return Error(Errc::kStoreFailure, "test: app storage failed");
  };
  const Bytes before = bob.snapshot();
  auto r = decrypt_message(*bob.ctx, *bob.store, alice.address, m, failing);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::kStoreFailure);
  CHECK(seen == "hooked");
  CHECK(bob.snapshot() == before);  // the message can be decrypted again
  DecryptOptions ok;
  ok.before_commit = [&](ByteView p) -> Status {
    seen = "stored:" + std::string(p.begin(), p.end());
    return ok_status();
  };
  REQUIRE(decrypt_message(*bob.ctx, *bob.store, alice.address, m, ok));
  CHECK(seen == "stored:hooked");
}

TEST_CASE("stores survive a reopen mid-conversation", "[integration]") {
  auto alice = Party::create("alice", 50);
  auto bob = Party::create("bob", 51);
  establish(alice, bob);
  auto held = encrypt(alice, bob, "held");
  REQUIRE(decrypt(bob, alice, encrypt(alice, bob, "later")).value() == "later");
  const Bytes before = bob.snapshot();
  bob.reopen();
  CHECK(bob.snapshot() == before);
  REQUIRE(decrypt(bob, alice, held).value() == "held");
  REQUIRE(decrypt(alice, bob, encrypt(bob, alice, "after restore")).value() == "after restore");
}

TEST_CASE("a prekey message is not accepted again after its session left the archive",
          "[integration][limits]") {
  // Without a one-time prekey, the X3DH of a replayed prekey message can be run again; once the
  // state it made has been dropped from the archive (41 newer sessions), only the record's list of
  // retired base keys stops the replay.
  auto alice = Party::create("alice", 60, 0);
  auto bob = Party::create("bob", 61, 0);
  REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle()));
  auto first = encrypt(alice, bob, "only once");
  REQUIRE_FALSE(first.prekey_message()->pre_key_id());
  REQUIRE(decrypt(bob, alice, first).value() == "only once");
  for (std::size_t i = 0; i <= kMaxArchivedStates; ++i) {
    REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle()));
    REQUIRE(decrypt(bob, alice, encrypt(alice, bob, "newer")).value() == "newer");
  }
  CHECK(session_info(*bob.store, alice.address)->previous_states == kMaxArchivedStates);
  require_rejected(bob, alice, first, Errc::kDuplicateMessage);
}
