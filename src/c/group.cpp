// hush C API: groups with sender keys (hush::SenderKeyGroup and the operations of hush/group.h).
#include <cstring>
#include <string_view>

#include "c/c_internal.h"

static_assert(HUSH_MAX_GROUP_NAME_BYTES == hush::kMaxGroupNameBytes);

using hush::c_api::Call;
using hush::c_api::present;
using hush::c_api::view;

namespace hush::c_api {
namespace {

/// Creates or rotates our chain and hands out its distribution message.
template <class Operation>
hush_status distribution(const Call& call, Operation operation, const hush_context* context,
                         hush_store* store, const hush_address* self, const hush_group* group,
                         hush_bytes** out) {
  if (out == nullptr) return call.null_argument("distribution");
  *out = nullptr;
  if (context == nullptr) return call.null_argument("context");
  if (store == nullptr) return call.null_argument("store");
  auto address = to_address(self);
  if (!address) return call.null_argument("self");
  if (group == nullptr) return call.null_argument("group");
  auto message = operation(context->ctx, *store->store, *address, group->group);
  if (!message) return call.fail(message.error());
  *out = new_bytes(message->serialized());  // a copy in SecretBytes, wiped on free
  return call.ok();
}

}  // namespace
}  // namespace hush::c_api

extern "C" {

hush_status hush_group_new_legacy(const char* name, size_t name_len, hush_group** out,
                                  hush_error* error) {
  const Call call("hush_group_new_legacy", error);
  return call.run([&] {
    if (out == nullptr) return call.null_argument("out");
    *out = nullptr;
    if (!present(name, name_len)) return call.null_argument("name");
    auto group = hush::SenderKeyGroup::legacy(std::string_view(name, name_len));
    if (!group) return call.fail(group.error());
    *out = new hush_group{std::move(*group)};
    return call.ok();
  });
}

hush_status hush_group_new_current(const char* distribution_id, size_t distribution_id_len,
                                   hush_group** out, hush_error* error) {
  const Call call("hush_group_new_current", error);
  return call.run([&] {
    if (out == nullptr) return call.null_argument("out");
    *out = nullptr;
    if (!present(distribution_id, distribution_id_len))
      return call.null_argument("distribution_id");
    auto id = hush::DistributionId::parse(std::string_view(distribution_id, distribution_id_len));
    if (!id) return call.fail(id.error());
    *out = new hush_group{hush::SenderKeyGroup::current(*id)};
    return call.ok();
  });
}

hush_status hush_group_new_random(const hush_context* context, hush_group** out,
                                  hush_error* error) {
  const Call call("hush_group_new_random", error);
  return call.run([&] {
    if (out == nullptr) return call.null_argument("out");
    *out = nullptr;
    if (context == nullptr) return call.null_argument("context");
    auto id = hush::DistributionId::generate(context->ctx.random);
    if (!id) return call.fail(id.error());
    *out = new hush_group{hush::SenderKeyGroup::current(*id)};
    return call.ok();
  });
}

hush_status hush_group_name(const hush_group* group, char* out, size_t out_cap, size_t* out_len,
                            int* is_legacy, hush_error* error) {
  const Call call("hush_group_name", error);
  return call.run([&] {
    if (group == nullptr) return call.null_argument("group");
    if (out_len == nullptr) return call.null_argument("out_len");
    const std::string& name = group->group.name();
    if (is_legacy != nullptr)
      *is_legacy = group->group.format() == hush::SenderKeyFormat::kLegacy ? 1 : 0;
    *out_len = name.size();
    if (out == nullptr || out_cap <= name.size())
      return call.fail(HUSH_ERR_BUFFER_TOO_SMALL, "needs *out_len + 1 bytes");
    std::memcpy(out, name.c_str(), name.size() + 1);
    return call.ok();
  });
}

void hush_group_free(hush_group* group) {
  delete group;
}

hush_status hush_group_create_distribution(const hush_context* context, hush_store* store,
                                           const hush_address* self, const hush_group* group,
                                           hush_bytes** distribution, hush_error* error) {
  const Call call("hush_group_create_distribution", error);
  return call.run([&] {
    return hush::c_api::distribution(
        call,
        [](const hush::Context& ctx, hush::ProtocolStore& s, const hush::Address& a,
           const hush::SenderKeyGroup& g) {
          return hush::create_sender_key_distribution(ctx, s, a, g);
        },
        context, store, self, group, distribution);
  });
}

hush_status hush_group_rotate_sender_key(const hush_context* context, hush_store* store,
                                         const hush_address* self, const hush_group* group,
                                         hush_bytes** distribution, hush_error* error) {
  const Call call("hush_group_rotate_sender_key", error);
  return call.run([&] {
    return hush::c_api::distribution(
        call,
        [](const hush::Context& ctx, hush::ProtocolStore& s, const hush::Address& a,
           const hush::SenderKeyGroup& g) { return hush::rotate_sender_key(ctx, s, a, g); },
        context, store, self, group, distribution);
  });
}

hush_status hush_group_process_distribution(hush_store* store, const hush_address* sender,
                                            const hush_group* group, const uint8_t* distribution,
                                            size_t distribution_len, hush_error* error) {
  const Call call("hush_group_process_distribution", error);
  return call.run([&] {
    if (store == nullptr) return call.null_argument("store");
    auto address = hush::c_api::to_address(sender);
    if (!address) return call.null_argument("sender");
    if (group == nullptr) return call.null_argument("group");
    if (!present(distribution, distribution_len)) return call.null_argument("distribution");
    auto message = hush::SenderKeyDistributionMessage::parse(group->group.format(),
                                                             view(distribution, distribution_len));
    if (!message) return call.fail(message.error());
    if (auto st =
            hush::process_sender_key_distribution(*store->store, *address, group->group, *message);
        !st)
      return call.fail(st.error());
    return call.ok();
  });
}

hush_status hush_group_encrypt(const hush_context* context, hush_store* store,
                               const hush_address* self, const hush_group* group,
                               const uint8_t* plaintext, size_t plaintext_len,
                               hush_bytes** ciphertext, hush_error* error) {
  const Call call("hush_group_encrypt", error);
  return call.run([&] {
    if (ciphertext == nullptr) return call.null_argument("ciphertext");
    *ciphertext = nullptr;
    if (context == nullptr) return call.null_argument("context");
    if (store == nullptr) return call.null_argument("store");
    auto address = hush::c_api::to_address(self);
    if (!address) return call.null_argument("self");
    if (group == nullptr) return call.null_argument("group");
    if (!present(plaintext, plaintext_len)) return call.null_argument("plaintext");
    auto message = hush::group_encrypt(context->ctx, *store->store, *address, group->group,
                                       view(plaintext, plaintext_len));
    if (!message) return call.fail(message.error());
    *ciphertext = hush::c_api::new_bytes(message->serialized());
    return call.ok();
  });
}

hush_status hush_group_decrypt(const hush_context* context, hush_store* store,
                               const hush_address* sender, const hush_group* group,
                               const uint8_t* ciphertext, size_t ciphertext_len,
                               hush_bytes** plaintext, hush_error* error) {
  const Call call("hush_group_decrypt", error);
  return call.run([&] {
    if (plaintext == nullptr) return call.null_argument("plaintext");
    *plaintext = nullptr;
    if (context == nullptr) return call.null_argument("context");
    if (store == nullptr) return call.null_argument("store");
    auto address = hush::c_api::to_address(sender);
    if (!address) return call.null_argument("sender");
    if (group == nullptr) return call.null_argument("group");
    if (!present(ciphertext, ciphertext_len)) return call.null_argument("ciphertext");
    auto message =
        hush::SenderKeyMessage::parse(group->group.format(), view(ciphertext, ciphertext_len));
    if (!message) return call.fail(message.error());
    auto decrypted =
        hush::group_decrypt(context->ctx, *store->store, *address, group->group, *message);
    if (!decrypted) return call.fail(decrypted.error());
    *plaintext = hush::c_api::new_bytes(std::move(*decrypted));
    return call.ok();
  });
}

}  // extern "C"
