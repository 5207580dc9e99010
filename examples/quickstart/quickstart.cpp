// hush quickstart: Bob publishes a prekey bundle, Alice starts a session from it and sends a
// message, Bob decrypts it and answers. Every call returns a Result or a Status: check it, and
// on failure its error code says why (hush::to_string(code): "duplicate_message", ...).
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include <hush/hush.h>

namespace {

// Prints what failed and why, e.g. "decrypt_message failed: duplicate_message".
int fail(const char* what, const hush::Error& error) {
  std::fprintf(stderr, "%s failed: %s\n", what, std::string(hush::to_string(error.code())).c_str());
  return 1;
}

// A new device: an identity key pair and a registration id, in a store. In memory here; an
// application keeps them in a hush::SqliteStore, which survives restarts.
hush::Result<std::unique_ptr<hush::InMemoryProtocolStore>> new_device(const hush::Context& ctx) {
  auto identity = hush::generate_identity_key_pair(ctx.random);
  if (!identity) return identity.error();
  auto registration_id = hush::generate_registration_id(ctx.random);
  if (!registration_id) return registration_id.error();
  return std::make_unique<hush::InMemoryProtocolStore>(std::move(*identity), *registration_id);
}

// Prints a decrypted message. The plaintext (SecretBytes) is wiped when it goes out of scope; the
// text copied out of it is ours to wipe once shown.
void show(const char* who, const hush::SecretBytes& plaintext) {
  std::string text = plaintext.expose_as_string();
  std::printf("%s reads: %s\n", who, text.c_str());
  hush::secure_wipe({reinterpret_cast<std::uint8_t*>(text.data()), text.size()});
}

// What a server carries from one device to another: the message type and the bytes.
struct Wire {
  hush::MessageType type;
  hush::Bytes bytes;
};

}  // namespace

int main() {
  const hush::Context ctx = hush::default_context();
  const hush::Address alice{"alice", hush::DeviceId{1}};
  const hush::Address bob{"bob", hush::DeviceId{1}};
  auto alice_device = new_device(ctx);
  if (!alice_device) return fail("new_device", alice_device.error());
  auto bob_device = new_device(ctx);
  if (!bob_device) return fail("new_device", bob_device.error());
  hush::ProtocolStore& alice_store = **alice_device;
  hush::ProtocolStore& bob_store = **bob_device;

  // Bob: a signed prekey and 100 one-time prekeys, published as a bundle.
  auto bob_identity = bob_store.identity_key_pair();
  if (!bob_identity) return fail("identity_key_pair", bob_identity.error());
  auto signed_pre_key = hush::generate_signed_pre_key(ctx, *bob_identity, hush::SignedPreKeyId{1});
  if (!signed_pre_key) return fail("generate_signed_pre_key", signed_pre_key.error());
  if (auto st = bob_store.store_signed_pre_key(*signed_pre_key); !st)
    return fail("store_signed_pre_key", st.error());
  auto pre_key_ids = hush::replenish_pre_keys(ctx, bob_store, /*count=*/100);
  if (!pre_key_ids) return fail("replenish_pre_keys", pre_key_ids.error());
  auto bundle =
      hush::make_bundle(bob_store, bob.device_id, hush::SignedPreKeyId{1}, pre_key_ids->front());
  if (!bundle) return fail("make_bundle", bundle.error());

  // Alice: fetches Bob's bundle, runs X3DH on it (checking its signature), and encrypts.
  if (auto st = hush::process_prekey_bundle(ctx, alice_store, bob, *bundle); !st)
    return fail("process_prekey_bundle", st.error());
  auto message = hush::encrypt_message(ctx, alice_store, bob, hush::as_bytes("Hi Bob!"));
  if (!message) return fail("encrypt_message", message.error());
  const Wire wire{message->type(),
                  hush::Bytes(message->serialized().begin(), message->serialized().end())};

  // Bob: parses what the server delivered, with the type it carried, and decrypts.
  auto received = hush::CiphertextMessage::parse(wire.type, wire.bytes);
  if (!received) return fail("parse", received.error());
  auto plaintext = hush::decrypt_message(ctx, bob_store, alice, *received);
  if (!plaintext) return fail("decrypt_message", plaintext.error());
  show("bob", *plaintext);

  // The same bytes again are refused: every message decrypts once.
  auto replayed = hush::decrypt_message(ctx, bob_store, alice, *received);
  if (replayed) {
    std::fprintf(stderr, "a replayed message was accepted\n");
    return 1;
  }
  std::printf("a replay is refused: %s\n",
              std::string(hush::to_string(replayed.error().code())).c_str());

  // Bob answers on the same session; Alice decrypts.
  auto answer = hush::encrypt_message(ctx, bob_store, alice, hush::as_bytes("Hi Alice."));
  if (!answer) return fail("encrypt_message", answer.error());
  auto answered = hush::decrypt_message(ctx, alice_store, bob, *answer);
  if (!answered) return fail("decrypt_message", answered.error());
  show("alice", *answered);
  return 0;
}
