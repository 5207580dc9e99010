// hush C API: SFrame senders and receivers (hush/sframe.h).
#include "c/c_internal.h"

static_assert(HUSH_SFRAME_MIN_BASE_KEY_SIZE == hush::kMinSframeBaseKeyBytes);
static_assert(HUSH_SFRAME_MAX_BASE_KEY_SIZE == hush::kMaxSframeBaseKeyBytes);
static_assert(HUSH_SFRAME_MAX_OVERHEAD == hush::kSframeMaxOverhead);
static_assert(HUSH_SFRAME_MAX_FRAME_BYTES == hush::kMaxSframeFrameBytes);
static_assert(HUSH_SFRAME_MAX_METADATA_BYTES == hush::kMaxSframeMetadataBytes);
static_assert(static_cast<int>(hush::SframeCipherSuite::kAes128CtrHmacSha256_80) ==
                  HUSH_SFRAME_AES_128_CTR_HMAC_SHA256_80 &&
              static_cast<int>(hush::SframeCipherSuite::kAes128CtrHmacSha256_64) ==
                  HUSH_SFRAME_AES_128_CTR_HMAC_SHA256_64 &&
              static_cast<int>(hush::SframeCipherSuite::kAes128CtrHmacSha256_32) ==
                  HUSH_SFRAME_AES_128_CTR_HMAC_SHA256_32 &&
              static_cast<int>(hush::SframeCipherSuite::kAes128GcmSha256_128) ==
                  HUSH_SFRAME_AES_128_GCM_SHA256_128 &&
              static_cast<int>(hush::SframeCipherSuite::kAes256GcmSha512_128) ==
                  HUSH_SFRAME_AES_256_GCM_SHA512_128);

using hush::c_api::Call;
using hush::c_api::present;
using hush::c_api::view;

namespace hush::c_api {
namespace {

/// The suite named by a C int; nullopt for a value that is none of the five.
std::optional<SframeCipherSuite> to_suite(int suite) noexcept {
  if (suite < HUSH_SFRAME_AES_128_CTR_HMAC_SHA256_80 || suite > HUSH_SFRAME_AES_256_GCM_SHA512_128)
    return std::nullopt;
  return static_cast<SframeCipherSuite>(suite);
}

}  // namespace
}  // namespace hush::c_api

extern "C" {

hush_status hush_sframe_sender_new(int suite, uint64_t key_id, const uint8_t* base_key,
                                   size_t base_key_len, uint64_t next_counter,
                                   hush_sframe_sender** out, hush_error* error) {
  const Call call("hush_sframe_sender_new", error);
  return call.run([&] {
    if (out == nullptr) return call.null_argument("out");
    *out = nullptr;
    if (!present(base_key, base_key_len)) return call.null_argument("base_key");
    auto s = hush::c_api::to_suite(suite);
    if (!s) return call.fail(HUSH_ERR_INVALID_ARGUMENT, "suite is not a hush_sframe_suite");
    auto sender = hush::SframeSender::create(
        *s, key_id, hush::SecretBytes::copy_of(view(base_key, base_key_len)), next_counter);
    if (!sender) return call.fail(sender.error());
    *out = new hush_sframe_sender{std::move(*sender)};
    return call.ok();
  });
}

hush_status hush_sframe_sender_encrypt(hush_sframe_sender* sender, const uint8_t* metadata,
                                       size_t metadata_len, const uint8_t* plaintext,
                                       size_t plaintext_len, hush_bytes** frame,
                                       hush_error* error) {
  const Call call("hush_sframe_sender_encrypt", error);
  return call.run([&] {
    if (frame == nullptr) return call.null_argument("frame");
    *frame = nullptr;
    if (sender == nullptr) return call.null_argument("sender");
    if (!present(metadata, metadata_len)) return call.null_argument("metadata");
    if (!present(plaintext, plaintext_len)) return call.null_argument("plaintext");
    auto encrypted =
        sender->sender.encrypt(view(metadata, metadata_len), view(plaintext, plaintext_len));
    if (!encrypted) return call.fail(encrypted.error());
    *frame = hush::c_api::new_bytes(hush::ByteView(*encrypted));
    return call.ok();
  });
}

hush_status hush_sframe_sender_next_counter(const hush_sframe_sender* sender, uint64_t* out,
                                            hush_error* error) {
  const Call call("hush_sframe_sender_next_counter", error);
  return call.run([&] {
    if (sender == nullptr) return call.null_argument("sender");
    if (out == nullptr) return call.null_argument("out");
    *out = sender->sender.next_counter();
    return call.ok();
  });
}

void hush_sframe_sender_free(hush_sframe_sender* sender) {
  delete sender;  // SframeSender wipes its derived key and salt
}

hush_status hush_sframe_receiver_new(int suite, hush_sframe_receiver** out, hush_error* error) {
  const Call call("hush_sframe_receiver_new", error);
  return call.run([&] {
    if (out == nullptr) return call.null_argument("out");
    *out = nullptr;
    auto s = hush::c_api::to_suite(suite);
    if (!s) return call.fail(HUSH_ERR_INVALID_ARGUMENT, "suite is not a hush_sframe_suite");
    *out = new hush_sframe_receiver{hush::SframeReceiver(*s)};
    return call.ok();
  });
}

hush_status hush_sframe_receiver_add_key(hush_sframe_receiver* receiver, uint64_t key_id,
                                         const uint8_t* base_key, size_t base_key_len,
                                         hush_error* error) {
  const Call call("hush_sframe_receiver_add_key", error);
  return call.run([&] {
    if (receiver == nullptr) return call.null_argument("receiver");
    if (!present(base_key, base_key_len)) return call.null_argument("base_key");
    if (auto st = receiver->receiver.add_key(
            key_id, hush::SecretBytes::copy_of(view(base_key, base_key_len)));
        !st)
      return call.fail(st.error());
    return call.ok();
  });
}

hush_status hush_sframe_receiver_remove_key(hush_sframe_receiver* receiver, uint64_t key_id,
                                            hush_error* error) {
  const Call call("hush_sframe_receiver_remove_key", error);
  return call.run([&] {
    if (receiver == nullptr) return call.null_argument("receiver");
    if (auto st = receiver->receiver.remove_key(key_id); !st) return call.fail(st.error());
    return call.ok();
  });
}

hush_status hush_sframe_receiver_decrypt(hush_sframe_receiver* receiver, const uint8_t* metadata,
                                         size_t metadata_len, const uint8_t* frame,
                                         size_t frame_len, hush_bytes** plaintext,
                                         hush_error* error) {
  const Call call("hush_sframe_receiver_decrypt", error);
  return call.run([&] {
    if (plaintext == nullptr) return call.null_argument("plaintext");
    *plaintext = nullptr;
    if (receiver == nullptr) return call.null_argument("receiver");
    if (!present(metadata, metadata_len)) return call.null_argument("metadata");
    if (!present(frame, frame_len)) return call.null_argument("frame");
    auto decrypted =
        receiver->receiver.decrypt(view(metadata, metadata_len), view(frame, frame_len));
    if (!decrypted) return call.fail(decrypted.error());
    *plaintext = hush::c_api::new_bytes(std::move(*decrypted));
    return call.ok();
  });
}

void hush_sframe_receiver_free(hush_sframe_receiver* receiver) {
  delete receiver;  // SframeReceiver wipes its keys
}

}  // extern "C"
