// Uses an installed hush: one message from alice to bob, decrypted.
#include <cstdio>

#include <hush/hush.h>

int main() {
  hush::Context ctx = hush::default_context();
  auto make = [&](std::uint32_t reg) {
    auto id = hush::generate_identity_key_pair(ctx.random).value();
    auto spk = hush::generate_signed_pre_key(ctx, id, hush::SignedPreKeyId{1}).value();
    auto store = std::make_unique<hush::InMemoryProtocolStore>(std::move(id), reg);
    store->store_signed_pre_key(spk).value();
    return store;
  };
  auto alice = make(1), bob = make(2);
  const hush::Address a{"alice", hush::DeviceId{1}}, b{"bob", hush::DeviceId{1}};
  auto bundle = hush::make_bundle(*bob, hush::DeviceId{1}, hush::SignedPreKeyId{1}, std::nullopt);
  if (!bundle || !hush::process_prekey_bundle(ctx, *alice, b, *bundle)) return 1;
  auto m = hush::encrypt_message(ctx, *alice, b, hush::as_bytes("installed"));
  if (!m) return 1;
  auto p = hush::decrypt_message(ctx, *bob, a, *m);
  if (!p || std::string(p->expose().begin(), p->expose().end()) != "installed") return 1;
  std::printf("consumer: hush %s works when installed\n",
              std::string(hush::version_string()).c_str());
  return 0;
}
