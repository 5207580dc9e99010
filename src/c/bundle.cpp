// hush C API: prekeys, bundles, and the directory helpers (published keys, device list versions).
#include <cstring>

#include "c/c_internal.h"

static_assert(HUSH_MAX_BUNDLE_BYTES == hush::kMaxBundleBytes);
static_assert(HUSH_MAX_DEVICE_LIST_BYTES == hush::kMaxDeviceListBytes);
static_assert(HUSH_PUBLIC_KEY_SIZE == hush::PublicKey::kSerializedSize);

using hush::c_api::Call;
using hush::c_api::present;
using hush::c_api::view;

extern "C" {

hush_status hush_prekeys_generate(const hush_context* context, hush_store* store,
                                  uint32_t signed_pre_key_id, uint32_t one_time_count,
                                  uint32_t* first_pre_key_id, hush_error* error) {
  const Call call("hush_prekeys_generate", error);
  return call.run([&] {
    if (context == nullptr) return call.null_argument("context");
    if (store == nullptr) return call.null_argument("store");
    if (first_pre_key_id == nullptr) return call.null_argument("first_pre_key_id");
    *first_pre_key_id = 0;
    // A directory takes at most kMaxPublishedPreKeys at a time; more is a caller mistake, and
    // would make this call's work unbounded.
    if (one_time_count > hush::kMaxPublishedPreKeys)
      return call.fail(HUSH_ERR_LIMIT_EXCEEDED, "one_time_count above 1000");
    const hush::Context& ctx = context->ctx;
    hush::ProtocolStore& s = *store->store;
    std::uint32_t first = 0;
    // One transaction: the signed prekey and the one-time prekeys, or nothing.
    auto status = s.run_transaction([&]() -> hush::Status {
      auto identity = s.identity_key_pair();
      if (!identity) return identity.error();
      auto spk =
          hush::generate_signed_pre_key(ctx, *identity, hush::SignedPreKeyId{signed_pre_key_id});
      if (!spk) return spk.error();
      if (auto st = s.store_signed_pre_key(*spk); !st) return st;
      if (one_time_count == 0) return hush::ok_status();
      auto ids = hush::replenish_pre_keys(ctx, s, one_time_count);
      if (!ids) return ids.error();
      first = hush::to_uint(ids->front());
      return hush::ok_status();
    });
    if (!status) return call.fail(status.error());
    *first_pre_key_id = first;
    return call.ok();
  });
}

hush_status hush_bundle_make(hush_store* store, uint32_t device_id, uint32_t signed_pre_key_id,
                             uint32_t pre_key_id, hush_bytes** out, hush_error* error) {
  const Call call("hush_bundle_make", error);
  return call.run([&] {
    if (out == nullptr) return call.null_argument("out");
    *out = nullptr;
    if (store == nullptr) return call.null_argument("store");
    std::optional<hush::PreKeyId> one_time;
    if (pre_key_id != 0) one_time = hush::PreKeyId{pre_key_id};
    auto bundle = hush::make_bundle(*store->store, hush::DeviceId{device_id},
                                    hush::SignedPreKeyId{signed_pre_key_id}, one_time);
    if (!bundle) return call.fail(bundle.error());
    *out = hush::c_api::new_bytes(bundle->serialize());
    return call.ok();
  });
}

hush_status hush_published_keys_parse(const uint8_t* data, size_t data_len,
                                      hush_published_keys** out, hush_error* error) {
  const Call call("hush_published_keys_parse", error);
  return call.run([&] {
    if (out == nullptr) return call.null_argument("out");
    *out = nullptr;
    if (!present(data, data_len)) return call.null_argument("data");
    auto keys = hush::PublishedKeys::parse(view(data, data_len));
    if (!keys) return call.fail(keys.error());
    *out = new hush_published_keys{std::move(*keys)};
    return call.ok();
  });
}

size_t hush_published_keys_pre_key_count(const hush_published_keys* keys) {
  return keys == nullptr ? 0 : keys->keys.pre_keys.size();
}

hush_status hush_published_keys_identity_key(const hush_published_keys* keys, uint8_t* out,
                                             size_t out_cap, size_t* out_len, hush_error* error) {
  const Call call("hush_published_keys_identity_key", error);
  return call.run([&] {
    if (keys == nullptr) return call.null_argument("keys");
    const auto key = keys->keys.identity_key.serialize();
    return hush::c_api::write_out(call, key, out, out_cap, out_len);
  });
}

hush_status hush_published_keys_pre_key(const hush_published_keys* keys, size_t index, uint32_t* id,
                                        uint8_t* out, size_t out_cap, size_t* out_len,
                                        hush_error* error) {
  const Call call("hush_published_keys_pre_key", error);
  return call.run([&] {
    if (keys == nullptr) return call.null_argument("keys");
    if (id == nullptr) return call.null_argument("id");
    if (index >= keys->keys.pre_keys.size())
      return call.fail(HUSH_ERR_INVALID_ARGUMENT, "index is not below the prekey count");
    const auto& [pre_key_id, key] = keys->keys.pre_keys[index];
    const auto serialized = key.serialize();
    const hush_status status = hush::c_api::write_out(call, serialized, out, out_cap, out_len);
    if (status == HUSH_OK) *id = hush::to_uint(pre_key_id);
    return status;
  });
}

hush_status hush_published_keys_bundle(const hush_published_keys* keys, uint32_t pre_key_id,
                                       const uint8_t* pre_key, size_t pre_key_len, hush_bytes** out,
                                       hush_error* error) {
  const Call call("hush_published_keys_bundle", error);
  return call.run([&] {
    if (out == nullptr) return call.null_argument("out");
    *out = nullptr;
    if (keys == nullptr) return call.null_argument("keys");
    if (!present(pre_key, pre_key_len)) return call.null_argument("pre_key");
    std::optional<std::pair<hush::PreKeyId, hush::PublicKey>> one_time;
    if (pre_key_len != 0) {
      auto key = hush::PublicKey::parse(view(pre_key, pre_key_len));
      if (!key) return call.fail(key.error());
      one_time.emplace(hush::PreKeyId{pre_key_id}, *key);
    }
    *out = hush::c_api::new_bytes(keys->keys.bundle(one_time).serialize());
    return call.ok();
  });
}

}  // extern "C"

namespace {

// key || signature, as HUSH_SIGNED_KYBER_PRE_KEY_SIZE says.
hush::Bytes signed_kyber_bytes(const hush::SignedKyberPreKey& k) {
  const hush::ByteView key = k.key.serialize();
  const hush::ByteView signature = k.signature.view();
  hush::Bytes out(key.begin(), key.end());
  out.insert(out.end(), signature.begin(), signature.end());
  return out;
}

static_assert(HUSH_SIGNED_KYBER_PRE_KEY_SIZE ==
              hush::KyberPublicKey::kSize + hush::Signature::kSize);

}  // namespace

extern "C" {

size_t hush_published_keys_kyber_pre_key_count(const hush_published_keys* keys) {
  return keys == nullptr ? 0 : keys->keys.kyber_pre_keys.size();
}

hush_status hush_published_keys_kyber_pre_key(const hush_published_keys* keys, size_t index,
                                              uint32_t* id, uint8_t* out, size_t out_cap,
                                              size_t* out_len, hush_error* error) {
  const Call call("hush_published_keys_kyber_pre_key", error);
  return call.run([&] {
    if (keys == nullptr) return call.null_argument("keys");
    if (id == nullptr) return call.null_argument("id");
    if (index >= keys->keys.kyber_pre_keys.size())
      return call.fail(HUSH_ERR_INVALID_ARGUMENT, "index is not below the Kyber prekey count");
    const hush::SignedKyberPreKey& k = keys->keys.kyber_pre_keys[index];
    const hush_status status =
        hush::c_api::write_out(call, signed_kyber_bytes(k), out, out_cap, out_len);
    if (status == HUSH_OK) *id = hush::to_uint(k.id);
    return status;
  });
}

hush_status hush_published_keys_last_resort_kyber_pre_key(const hush_published_keys* keys,
                                                          uint32_t* id, uint8_t* out,
                                                          size_t out_cap, size_t* out_len,
                                                          hush_error* error) {
  const Call call("hush_published_keys_last_resort_kyber_pre_key", error);
  return call.run([&] {
    if (keys == nullptr) return call.null_argument("keys");
    if (id == nullptr) return call.null_argument("id");
    if (out_len == nullptr) return call.null_argument("out_len");
    *id = 0;
    const auto& k = keys->keys.last_resort_kyber_pre_key;
    if (!k) {
      *out_len = 0;
      return call.ok();
    }
    const hush_status status =
        hush::c_api::write_out(call, signed_kyber_bytes(*k), out, out_cap, out_len);
    if (status == HUSH_OK) *id = hush::to_uint(k->id);
    return status;
  });
}

hush_status hush_published_keys_bundle_v2(const hush_published_keys* keys, uint32_t pre_key_id,
                                          const uint8_t* pre_key, size_t pre_key_len,
                                          uint32_t kyber_pre_key_id, const uint8_t* kyber_pre_key,
                                          size_t kyber_pre_key_len, hush_bytes** out,
                                          hush_error* error) {
  const Call call("hush_published_keys_bundle_v2", error);
  return call.run([&] {
    if (out == nullptr) return call.null_argument("out");
    *out = nullptr;
    if (keys == nullptr) return call.null_argument("keys");
    if (!present(pre_key, pre_key_len)) return call.null_argument("pre_key");
    if (!present(kyber_pre_key, kyber_pre_key_len)) return call.null_argument("kyber_pre_key");
    std::optional<std::pair<hush::PreKeyId, hush::PublicKey>> one_time;
    if (pre_key_len != 0) {
      auto key = hush::PublicKey::parse(view(pre_key, pre_key_len));
      if (!key) return call.fail(key.error());
      one_time.emplace(hush::PreKeyId{pre_key_id}, *key);
    }
    std::optional<hush::SignedKyberPreKey> kyber;
    if (kyber_pre_key_len != 0) {
      if (kyber_pre_key_len != HUSH_SIGNED_KYBER_PRE_KEY_SIZE)
        return call.fail(HUSH_ERR_INVALID_KEM_KEY,
                         "kyber_pre_key is not HUSH_SIGNED_KYBER_PRE_KEY_SIZE bytes");
      const hush::ByteView all = view(kyber_pre_key, kyber_pre_key_len);
      auto key = hush::KyberPublicKey::parse(all.first(hush::KyberPublicKey::kSize));
      if (!key) return call.fail(key.error());
      auto signature = hush::Signature::parse(all.subspan(hush::KyberPublicKey::kSize));
      if (!signature) return call.fail(signature.error());
      kyber = hush::SignedKyberPreKey{hush::KyberPreKeyId{kyber_pre_key_id}, std::move(*key),
                                      *signature};
    }
    *out = hush::c_api::new_bytes(keys->keys.bundle(one_time, std::move(kyber)).serialize());
    return call.ok();
  });
}

void hush_published_keys_free(hush_published_keys* keys) {
  delete keys;
}

hush_status hush_device_list_version(const uint8_t* list, size_t list_len, uint64_t* version,
                                     char* name_out, size_t name_cap, size_t* name_len,
                                     hush_error* error) {
  const Call call("hush_device_list_version", error);
  return call.run([&] {
    if (!present(list, list_len)) return call.null_argument("list");
    if (version == nullptr) return call.null_argument("version");
    if (name_len == nullptr) return call.null_argument("name_len");
    auto parsed = hush::SignedDeviceList::parse(view(list, list_len));
    if (!parsed) return call.fail(parsed.error());
    const std::string& name = parsed->list().name;
    *name_len = name.size();
    if (name_out == nullptr || name_cap < name.size())
      return call.fail(HUSH_ERR_BUFFER_TOO_SMALL, "the name's size is in *name_len");
    if (!name.empty()) std::memcpy(name_out, name.data(), name.size());
    *version = parsed->list().version;
    return call.ok();
  });
}

}  // extern "C"
