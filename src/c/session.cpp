// hush C API: one-to-one sessions.
#include "c/c_internal.h"

using hush::c_api::Call;
using hush::c_api::present;
using hush::c_api::view;

extern "C" {

hush_status hush_session_process_bundle(const hush_context* context, hush_store* store,
                                        const hush_address* remote, const uint8_t* bundle,
                                        size_t bundle_len, hush_error* error) {
  const Call call("hush_session_process_bundle", error);
  return call.run([&] {
    if (context == nullptr) return call.null_argument("context");
    if (store == nullptr) return call.null_argument("store");
    auto address = hush::c_api::to_address(remote);
    if (!address) return call.null_argument("remote");
    if (!present(bundle, bundle_len)) return call.null_argument("bundle");
    auto parsed = hush::PreKeyBundle::parse(view(bundle, bundle_len));
    if (!parsed) return call.fail(parsed.error());
    if (auto st = hush::process_prekey_bundle(context->ctx, *store->store, *address, *parsed); !st)
      return call.fail(st.error());
    return call.ok();
  });
}

hush_status hush_session_encrypt(const hush_context* context, hush_store* store,
                                 const hush_address* remote, const uint8_t* plaintext,
                                 size_t plaintext_len, hush_message_type* type,
                                 hush_bytes** ciphertext, hush_error* error) {
  const Call call("hush_session_encrypt", error);
  return call.run([&] {
    if (ciphertext == nullptr) return call.null_argument("ciphertext");
    *ciphertext = nullptr;
    if (type == nullptr) return call.null_argument("type");
    if (context == nullptr) return call.null_argument("context");
    if (store == nullptr) return call.null_argument("store");
    auto address = hush::c_api::to_address(remote);
    if (!address) return call.null_argument("remote");
    if (!present(plaintext, plaintext_len)) return call.null_argument("plaintext");
    auto message = hush::encrypt_message(context->ctx, *store->store, *address,
                                         view(plaintext, plaintext_len));
    if (!message) return call.fail(message.error());
    *ciphertext = hush::c_api::new_bytes(message->serialized());
    *type =
        message->type() == hush::MessageType::kPreKey ? HUSH_MESSAGE_PREKEY : HUSH_MESSAGE_WHISPER;
    return call.ok();
  });
}

hush_status hush_session_decrypt(const hush_context* context, hush_store* store,
                                 const hush_address* remote, int type, const uint8_t* ciphertext,
                                 size_t ciphertext_len, hush_bytes** plaintext, hush_error* error) {
  const Call call("hush_session_decrypt", error);
  return call.run([&] {
    if (plaintext == nullptr) return call.null_argument("plaintext");
    *plaintext = nullptr;
    if (context == nullptr) return call.null_argument("context");
    if (store == nullptr) return call.null_argument("store");
    auto address = hush::c_api::to_address(remote);
    if (!address) return call.null_argument("remote");
    if (!present(ciphertext, ciphertext_len)) return call.null_argument("ciphertext");
    if (type != HUSH_MESSAGE_WHISPER && type != HUSH_MESSAGE_PREKEY)
      return call.fail(HUSH_ERR_INVALID_ARGUMENT, "type is not a hush_message_type");
    auto message = hush::CiphertextMessage::parse(static_cast<hush::MessageType>(type),
                                                  view(ciphertext, ciphertext_len));
    if (!message) return call.fail(message.error());
    auto decrypted = hush::decrypt_message(context->ctx, *store->store, *address, *message);
    if (!decrypted) return call.fail(decrypted.error());
    *plaintext = hush::c_api::new_bytes(std::move(*decrypted));
    return call.ok();
  });
}

hush_status hush_session_exists(hush_store* store, const hush_address* remote, int* exists,
                                hush_error* error) {
  const Call call("hush_session_exists", error);
  return call.run([&] {
    if (store == nullptr) return call.null_argument("store");
    if (exists == nullptr) return call.null_argument("exists");
    auto address = hush::c_api::to_address(remote);
    if (!address) return call.null_argument("remote");
    auto info = hush::session_info(*store->store, *address);
    if (!info) return call.fail(info.error());
    *exists = info->exists ? 1 : 0;
    return call.ok();
  });
}

hush_status hush_session_version(hush_store* store, const hush_address* remote, uint32_t* version,
                                 hush_error* error) {
  const Call call("hush_session_version", error);
  return call.run([&] {
    if (store == nullptr) return call.null_argument("store");
    if (version == nullptr) return call.null_argument("version");
    auto address = hush::c_api::to_address(remote);
    if (!address) return call.null_argument("remote");
    auto info = hush::session_info(*store->store, *address);
    if (!info) return call.fail(info.error());
    *version = info->exists ? info->version : 0;
    return call.ok();
  });
}

hush_status hush_session_trust_identity(hush_store* store, const char* name, size_t name_len,
                                        const uint8_t* identity_key, size_t identity_key_len,
                                        hush_error* error) {
  const Call call("hush_session_trust_identity", error);
  return call.run([&] {
    if (store == nullptr) return call.null_argument("store");
    if (!present(name, name_len)) return call.null_argument("name");
    if (!present(identity_key, identity_key_len)) return call.null_argument("identity_key");
    auto key = hush::PublicKey::parse(view(identity_key, identity_key_len));
    if (!key) return call.fail(key.error());
    if (auto st = hush::trust_identity(*store->store, std::string_view(name, name_len), *key); !st)
      return call.fail(st.error());
    return call.ok();
  });
}

}  // extern "C"
