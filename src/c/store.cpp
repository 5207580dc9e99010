// hush C API: hush_store (SqliteStore and InMemoryProtocolStore).
#include <cstring>
#include <string>

#include "c/c_internal.h"

namespace hush::c_api {
namespace {

/// The path as a std::string; nullopt when it holds a NUL (SQLite would read a shorter path).
std::optional<std::string> to_path(const char* path, std::size_t len) {
  if (len == 0 || std::memchr(path, '\0', len) != nullptr) return std::nullopt;
  return std::string(path, len);
}

hush_status sqlite_store(const Call& call, bool create, const hush_context* context,
                         const char* path, std::size_t path_len, const std::uint8_t* key,
                         std::size_t key_len, hush_store** out) {
  if (out == nullptr) return call.null_argument("out");
  *out = nullptr;
  if (context == nullptr) return call.null_argument("context");
  if (path == nullptr) return call.null_argument("path");
  if (!present(key, key_len)) return call.null_argument("storage_key");
  auto p = to_path(path, path_len);
  if (!p) return call.fail(HUSH_ERR_INVALID_ARGUMENT, "the path is empty or holds a NUL byte");
  SqliteStoreOptions options;
  options.storage_key = view(key, key_len);
  options.random = &context->ctx.random;
  Result<std::unique_ptr<SqliteStore>> store = Error(Errc::kInvalidArgument, "");
  if (create) {
    auto identity = generate_identity_key_pair(context->ctx.random);
    if (!identity) return call.fail(identity.error());
    auto registration_id = generate_registration_id(context->ctx.random);
    if (!registration_id) return call.fail(registration_id.error());
    store = SqliteStore::create(*p, std::move(*identity), *registration_id, options);
  } else {
    store = SqliteStore::open(*p, options);
  }
  if (!store) return call.fail(store.error());
  *out = new hush_store{std::move(*store)};
  return call.ok();
}

}  // namespace
}  // namespace hush::c_api

using hush::c_api::Call;

extern "C" {

hush_status hush_store_create_sqlite(const hush_context* context, const char* path, size_t path_len,
                                     const uint8_t* storage_key, size_t storage_key_len,
                                     hush_store** out, hush_error* error) {
  const Call call("hush_store_create_sqlite", error);
  return call.run([&] {
    return hush::c_api::sqlite_store(call, /*create=*/true, context, path, path_len, storage_key,
                                     storage_key_len, out);
  });
}

hush_status hush_store_open_sqlite(const hush_context* context, const char* path, size_t path_len,
                                   const uint8_t* storage_key, size_t storage_key_len,
                                   hush_store** out, hush_error* error) {
  const Call call("hush_store_open_sqlite", error);
  return call.run([&] {
    return hush::c_api::sqlite_store(call, /*create=*/false, context, path, path_len, storage_key,
                                     storage_key_len, out);
  });
}

hush_status hush_store_new_in_memory(const hush_context* context, hush_store** out,
                                     hush_error* error) {
  const Call call("hush_store_new_in_memory", error);
  return call.run([&] {
    if (out == nullptr) return call.null_argument("out");
    *out = nullptr;
    if (context == nullptr) return call.null_argument("context");
    auto identity = hush::generate_identity_key_pair(context->ctx.random);
    if (!identity) return call.fail(identity.error());
    auto registration_id = hush::generate_registration_id(context->ctx.random);
    if (!registration_id) return call.fail(registration_id.error());
    *out = new hush_store{
        std::make_unique<hush::InMemoryProtocolStore>(std::move(*identity), *registration_id)};
    return call.ok();
  });
}

hush_status hush_store_identity_key(hush_store* store, uint8_t* out, size_t out_cap,
                                    size_t* out_len, hush_error* error) {
  const Call call("hush_store_identity_key", error);
  return call.run([&] {
    if (store == nullptr) return call.null_argument("store");
    if (out_len == nullptr) return call.null_argument("out_len");
    auto identity = store->store->identity_key_pair();
    if (!identity) return call.fail(identity.error());
    const auto key = identity->public_key.serialize();
    return hush::c_api::write_out(call, key, out, out_cap, out_len);
  });
}

hush_status hush_store_registration_id(hush_store* store, uint32_t* out, hush_error* error) {
  const Call call("hush_store_registration_id", error);
  return call.run([&] {
    if (store == nullptr) return call.null_argument("store");
    if (out == nullptr) return call.null_argument("out");
    auto id = store->store->local_registration_id();
    if (!id) return call.fail(id.error());
    *out = *id;
    return call.ok();
  });
}

void hush_store_free(hush_store* store) {
  delete store;
}

}  // extern "C"
