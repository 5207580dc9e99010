// hush-demo: two parties in one process set up a session and talk, printing what happens.
//
// Uses only the public API (<hush/hush.h>): Bob publishes a prekey bundle, Alice runs X3DH on it
// and sends a PreKeySignalMessage, Bob answers, and the Double Ratchet takes over. Messages travel
// as bytes, as they would through a server that sees only ciphertext.
#include <cstdio>
#include <cstdlib>
#include <string>

#include <hush/hush.h>

namespace {

struct Device {
  std::string label;
  hush::Address address;
  std::unique_ptr<hush::InMemoryProtocolStore> store;
};

[[noreturn]] void fail(const char* what, const hush::Error& e) {
  std::fprintf(stderr, "demo: %s failed: %s (%s)\n", what,
               std::string(hush::to_string(e.code())).c_str(), e.where());
  std::exit(1);
}

Device make_device(const hush::Context& ctx, const std::string& name) {
  auto identity = hush::generate_identity_key_pair(ctx.random);
  if (!identity) fail("generate_identity_key_pair", identity.error());
  auto registration_id = hush::generate_registration_id(ctx.random);
  if (!registration_id) fail("generate_registration_id", registration_id.error());
  auto signed_pre_key = hush::generate_signed_pre_key(ctx, *identity, hush::SignedPreKeyId{1});
  if (!signed_pre_key) fail("generate_signed_pre_key", signed_pre_key.error());
  Device d{name, hush::Address{name, hush::DeviceId{1}},
           std::make_unique<hush::InMemoryProtocolStore>(std::move(*identity), *registration_id)};
  if (auto st = d.store->store_signed_pre_key(*signed_pre_key); !st) fail("store", st.error());
  if (auto ids = hush::replenish_pre_keys(ctx, *d.store, /*count=*/5); !ids)
    fail("replenish_pre_keys", ids.error());
  return d;
}

std::string short_hex(hush::ByteView b) {
  std::string h = hush::to_hex(b);
  return h.size() > 24 ? h.substr(0, 24) + "..." : h;
}

// Encrypts at `from`, "sends" the bytes, parses and decrypts them at `to`.
void send(const hush::Context& ctx, Device& from, Device& to, const std::string& text) {
  auto message = hush::encrypt_message(ctx, *from.store, to.address, hush::as_bytes(text));
  if (!message) fail("encrypt_message", message.error());
  const hush::ByteView wire = message->serialized();
  const bool prekey = message->type() == hush::MessageType::kPreKey;
  std::printf("%s -> %s: %-10s %4zu bytes on the wire: %s\n", from.label.c_str(), to.label.c_str(),
              prekey ? "prekey" : "whisper", wire.size(), short_hex(wire).c_str());
  auto received = hush::CiphertextMessage::parse(message->type(), wire);
  if (!received) fail("parse", received.error());
  auto plaintext = hush::decrypt_message(ctx, *to.store, from.address, *received);
  if (!plaintext) fail("decrypt_message", plaintext.error());
  std::printf("   %s reads: \"%.*s\"\n", to.label.c_str(), static_cast<int>(plaintext->size()),
              reinterpret_cast<const char*>(plaintext->expose().data()));
}

}  // namespace

int main() {
  const hush::Context ctx = hush::default_context();
  std::printf("hush %s demo: two parties, one process, Signal protocol v3\n\n",
              std::string(hush::version_string()).c_str());

  Device alice = make_device(ctx, "alice");
  Device bob = make_device(ctx, "bob");
  std::printf("alice identity %s\n",
              short_hex(alice.store->identity_key_pair()->public_key.serialize()).c_str());
  std::printf("bob   identity %s\n\n",
              short_hex(bob.store->identity_key_pair()->public_key.serialize()).c_str());

  // Bob publishes a bundle; Alice fetches it (here: directly) and runs X3DH.
  auto bundle = hush::make_bundle(*bob.store, bob.address.device_id, hush::SignedPreKeyId{1},
                                  hush::PreKeyId{1});
  if (!bundle) fail("make_bundle", bundle.error());
  std::printf("bob publishes a bundle: signed prekey %u, one-time prekey %u\n",
              hush::to_uint(bundle->signed_pre_key_id), hush::to_uint(*bundle->pre_key_id));
  if (auto st = hush::process_prekey_bundle(ctx, *alice.store, bob.address, *bundle); !st)
    fail("process_prekey_bundle", st.error());
  std::printf("alice verifies the signature and runs X3DH: session ready\n\n");

  send(ctx, alice, bob, "Hi Bob! This is end-to-end encrypted.");
  send(ctx, alice, bob, "(still a prekey message until you answer)");
  send(ctx, bob, alice, "Hi Alice, got both.");
  send(ctx, alice, bob, "Now every reply ratchets the keys forward.");
  send(ctx, bob, alice, "Forward secrecy and post-compromise security.");

  auto info = hush::session_info(*alice.store, bob.address);
  if (!info) fail("session_info", info.error());
  auto used = bob.store->load_pre_key(hush::PreKeyId{1});
  std::printf("\nsession version %u, unacknowledged prekey: %s; bob's one-time prekey 1 %s\n",
              info->version, info->has_unacknowledged_prekey ? "yes" : "no",
              used && !used->has_value() ? "was used and deleted" : "is still there");

  // A replayed message is refused and changes nothing.
  auto m = hush::encrypt_message(ctx, *alice.store, bob.address, hush::as_bytes("once"));
  if (!m) fail("encrypt_message", m.error());
  (void)hush::decrypt_message(ctx, *bob.store, alice.address, *m);
  auto replay = hush::decrypt_message(ctx, *bob.store, alice.address, *m);
  std::printf("a replayed message is refused: %s\n",
              replay ? "NO (bug!)" : std::string(hush::to_string(replay.error().code())).c_str());
  return replay ? 1 : 0;
}
