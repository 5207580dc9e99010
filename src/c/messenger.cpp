// hush C API: the messenger over a transport and a key directory given as C callbacks.
#include <string>
#include <vector>

#include "c/c_internal.h"

namespace hush::c_api {
namespace {

/// A hush_address naming `address` (valid while `address` is).
hush_address c_address(const Address& address) noexcept {
  return hush_address{address.name.c_str(), address.name.size(), to_uint(address.device_id)};
}

class CallbackTransport final : public Transport {
 public:
  explicit CallbackTransport(const hush_transport& callbacks) : callbacks_(callbacks) {}
  Status send(const Address& recipient, ByteView envelope) override {
    const hush_address to = c_address(recipient);
    if (callbacks_.send(callbacks_.user_data, &to, envelope.data(), envelope.size()) !=
        HUSH_CALLBACK_OK)
      return Error(Errc::kTransportFailure, "transport send callback failed");
    return ok_status();
  }

 private:
  hush_transport callbacks_;
};

class CallbackDirectory final : public KeyDirectory {
 public:
  /// A directory of the 1.0 layout: it reports no one-time Kyber prekeys.
  explicit CallbackDirectory(const hush_key_directory& callbacks)
      : callbacks_{callbacks.user_data,
                   callbacks.publish,
                   nullptr,
                   callbacks.fetch_bundle,
                   callbacks.publish_device_list,
                   callbacks.fetch_device_list},
        available_v1_(callbacks.available_pre_keys) {}
  /// A directory of the 1.2 layout, with Kyber prekeys.
  explicit CallbackDirectory(const hush_key_directory_v2& callbacks) : callbacks_(callbacks) {}

  Status publish(const Address& self, const PublishedKeys& keys) override {
    const hush_address me = c_address(self);
    const Bytes bytes = keys.serialize();
    if (callbacks_.publish(callbacks_.user_data, &me, bytes.data(), bytes.size()) !=
        HUSH_CALLBACK_OK)
      return Error(Errc::kTransportFailure, "directory publish callback failed");
    return ok_status();
  }

  Result<AvailablePreKeys> available_pre_keys(const Address& self) override {
    const hush_address me = c_address(self);
    std::uint32_t count = 0;
    if (available_v1_ != nullptr) {
      if (available_v1_(callbacks_.user_data, &me, &count) != HUSH_CALLBACK_OK)
        return Error(Errc::kTransportFailure, "directory available_pre_keys callback failed");
      // A directory of the 1.0 layout serves no Kyber prekeys: say it holds plenty, so that the
      // messenger does not make one-time Kyber prekeys that nobody hands out.
      return AvailablePreKeys{count, UINT32_MAX};
    }
    std::uint32_t kyber = 0;
    if (callbacks_.available_pre_keys(callbacks_.user_data, &me, &count, &kyber) !=
        HUSH_CALLBACK_OK)
      return Error(Errc::kTransportFailure, "directory available_pre_keys callback failed");
    return AvailablePreKeys{count, kyber};
  }

  Result<PreKeyBundle> fetch(const Address& remote) override {
    const hush_address them = c_address(remote);
    Bytes buffer(kMaxBundleBytes);
    std::size_t len = 0;
    const int result =
        callbacks_.fetch_bundle(callbacks_.user_data, &them, buffer.data(), buffer.size(), &len);
    if (result == HUSH_CALLBACK_NOT_FOUND)
      return Error(Errc::kNoSession, "directory fetch_bundle callback: no keys for the device");
    if (result != HUSH_CALLBACK_OK)
      return Error(Errc::kTransportFailure, "directory fetch_bundle callback failed");
    if (len > buffer.size())
      return Error(Errc::kLimitExceeded, "directory fetch_bundle callback: length above capacity");
    return PreKeyBundle::parse(ByteView(buffer.data(), len));
  }

  Status publish_device_list(std::string_view name, ByteView signed_list) override {
    const std::string n(name);
    if (callbacks_.publish_device_list(callbacks_.user_data, n.c_str(), n.size(),
                                       signed_list.data(), signed_list.size()) != HUSH_CALLBACK_OK)
      return Error(Errc::kTransportFailure, "directory publish_device_list callback failed");
    return ok_status();
  }

  Result<std::optional<Bytes>> fetch_device_list(std::string_view name) override {
    const std::string n(name);
    Bytes buffer(kMaxDeviceListBytes);
    std::size_t len = 0;
    const int result = callbacks_.fetch_device_list(callbacks_.user_data, n.c_str(), n.size(),
                                                    buffer.data(), buffer.size(), &len);
    if (result == HUSH_CALLBACK_NOT_FOUND) return std::optional<Bytes>();
    if (result != HUSH_CALLBACK_OK)
      return Error(Errc::kTransportFailure, "directory fetch_device_list callback failed");
    if (len > buffer.size())
      return Error(Errc::kLimitExceeded,
                   "directory fetch_device_list callback: length above capacity");
    buffer.resize(len);
    return std::optional<Bytes>(std::move(buffer));
  }

 private:
  hush_key_directory_v2 callbacks_;
  int (*available_v1_)(void* user_data, const hush_address* self, std::uint32_t* count) = nullptr;
};

}  // namespace
}  // namespace hush::c_api

struct hush_messenger {
  hush::c_api::CallbackTransport transport;
  hush::c_api::CallbackDirectory directory;
  std::unique_ptr<hush::Messenger> messenger;
};

using hush::c_api::Call;
using hush::c_api::present;
using hush::c_api::view;

namespace {

// hush_messenger_new and hush_messenger_new_v2: `Directory` is hush_key_directory or _v2.
template <class Directory>
hush_status new_messenger(const Call& call, const hush_context* context, hush_store* store,
                          const hush_transport* transport, const Directory* directory,
                          const hush_address* self, std::uint32_t flags, hush_messenger** out) {
  return call.run([&] {
    if (out == nullptr) return call.null_argument("out");
    *out = nullptr;
    if (context == nullptr) return call.null_argument("context");
    if (store == nullptr) return call.null_argument("store");
    if (transport == nullptr) return call.null_argument("transport");
    if (directory == nullptr) return call.null_argument("directory");
    auto address = hush::c_api::to_address(self);
    if (!address) return call.null_argument("self");
    if (transport->send == nullptr)
      return call.fail(HUSH_ERR_INVALID_ARGUMENT, "transport->send is NULL");
    if (directory->publish == nullptr || directory->available_pre_keys == nullptr ||
        directory->fetch_bundle == nullptr || directory->publish_device_list == nullptr ||
        directory->fetch_device_list == nullptr)
      return call.fail(HUSH_ERR_INVALID_ARGUMENT, "a directory callback is NULL");
    if ((flags & ~HUSH_MESSENGER_REQUIRE_POST_QUANTUM) != 0)
      return call.fail(HUSH_ERR_INVALID_ARGUMENT, "unknown flags");
    if (address->name.empty()) return call.fail(HUSH_ERR_INVALID_ARGUMENT, "self has no name");
    if (address->device_id == hush::DeviceId{0})
      return call.fail(HUSH_ERR_INVALID_ARGUMENT, "self has device id 0");
    hush::MessengerOptions options;
    options.require_post_quantum = (flags & HUSH_MESSENGER_REQUIRE_POST_QUANTUM) != 0;
    auto m = std::unique_ptr<hush_messenger>(
        new hush_messenger{hush::c_api::CallbackTransport(*transport),
                           hush::c_api::CallbackDirectory(*directory), nullptr});
    m->messenger = std::make_unique<hush::Messenger>(context->ctx, *store->store, m->transport,
                                                     m->directory, std::move(*address), options);
    *out = m.release();
    return call.ok();
  });
}

}  // namespace

extern "C" {

hush_status hush_messenger_new(const hush_context* context, hush_store* store,
                               const hush_transport* transport, const hush_key_directory* directory,
                               const hush_address* self, hush_messenger** out, hush_error* error) {
  const Call call("hush_messenger_new", error);
  return new_messenger(call, context, store, transport, directory, self, 0, out);
}

hush_status hush_messenger_new_v2(const hush_context* context, hush_store* store,
                                  const hush_transport* transport,
                                  const hush_key_directory_v2* directory, const hush_address* self,
                                  uint32_t flags, hush_messenger** out, hush_error* error) {
  const Call call("hush_messenger_new_v2", error);
  return new_messenger(call, context, store, transport, directory, self, flags, out);
}

hush_status hush_messenger_maintain_keys(hush_messenger* messenger, hush_error* error) {
  const Call call("hush_messenger_maintain_keys", error);
  return call.run([&] {
    if (messenger == nullptr) return call.null_argument("messenger");
    if (auto st = messenger->messenger->maintain_keys(); !st) return call.fail(st.error());
    return call.ok();
  });
}

hush_status hush_messenger_send(hush_messenger* messenger, const char* person, size_t person_len,
                                const uint8_t* plaintext, size_t plaintext_len, size_t* sent,
                                size_t* queued, hush_error* error) {
  const Call call("hush_messenger_send", error);
  return call.run([&] {
    if (sent != nullptr) *sent = 0;
    if (queued != nullptr) *queued = 0;
    if (messenger == nullptr) return call.null_argument("messenger");
    if (!present(person, person_len)) return call.null_argument("person");
    if (!present(plaintext, plaintext_len)) return call.null_argument("plaintext");
    auto result = messenger->messenger->send(std::string_view(person, person_len),
                                             view(plaintext, plaintext_len));
    if (!result) return call.fail(result.error());
    std::size_t n_sent = 0;
    std::size_t n_queued = 0;
    for (const auto& d : result->deliveries)
      ++(d.state == hush::DeliveryState::kSent ? n_sent : n_queued);
    if (sent != nullptr) *sent = n_sent;
    if (queued != nullptr) *queued = n_queued;
    return call.ok();
  });
}

hush_status hush_messenger_flush(hush_messenger* messenger, size_t* sent, size_t* queued,
                                 hush_error* error) {
  const Call call("hush_messenger_flush", error);
  return call.run([&] {
    if (sent != nullptr) *sent = 0;
    if (queued != nullptr) *queued = 0;
    if (messenger == nullptr) return call.null_argument("messenger");
    auto result = messenger->messenger->flush();
    if (!result) return call.fail(result.error());
    if (sent != nullptr) *sent = result->sent;
    if (queued != nullptr) *queued = result->queued;
    return call.ok();
  });
}

hush_status hush_messenger_receive(hush_messenger* messenger, const uint8_t* envelope,
                                   size_t envelope_len, hush_received** out, hush_error* error) {
  const Call call("hush_messenger_receive", error);
  return call.run([&] {
    if (out == nullptr) return call.null_argument("out");
    *out = nullptr;
    if (messenger == nullptr) return call.null_argument("messenger");
    if (!present(envelope, envelope_len)) return call.null_argument("envelope");
    auto received = messenger->messenger->receive(view(envelope, envelope_len));
    if (!received) return call.fail(received.error());
    if (*received) *out = new hush_received{std::move(**received)};
    return call.ok();
  });
}

hush_status hush_messenger_identity_change(hush_messenger* messenger, const char* name,
                                           size_t name_len, int* pending, uint8_t* offered,
                                           size_t offered_cap, size_t* offered_len,
                                           hush_error* error) {
  const Call call("hush_messenger_identity_change", error);
  return call.run([&] {
    if (messenger == nullptr) return call.null_argument("messenger");
    if (!present(name, name_len)) return call.null_argument("name");
    if (pending == nullptr) return call.null_argument("pending");
    if (offered_len == nullptr) return call.null_argument("offered_len");
    *pending = 0;
    *offered_len = 0;
    auto change = messenger->messenger->identity_change(std::string_view(name, name_len));
    if (!change) return call.ok();
    const auto key = change->offered.serialize();
    const hush_status status = hush::c_api::write_out(call, key, offered, offered_cap, offered_len);
    if (status == HUSH_OK) *pending = 1;
    return status;
  });
}

hush_status hush_messenger_approve_identity(hush_messenger* messenger, const char* name,
                                            size_t name_len, hush_error* error) {
  const Call call("hush_messenger_approve_identity", error);
  return call.run([&] {
    if (messenger == nullptr) return call.null_argument("messenger");
    if (!present(name, name_len)) return call.null_argument("name");
    const std::string_view person(name, name_len);
    auto change = messenger->messenger->identity_change(person);
    if (!change)
      return call.fail(HUSH_ERR_INVALID_ARGUMENT, "no identity change is pending for that name");
    if (auto st = messenger->messenger->approve_identity(person, change->offered); !st)
      return call.fail(st.error());
    return call.ok();
  });
}

hush_status hush_messenger_dismiss_identity_change(hush_messenger* messenger, const char* name,
                                                   size_t name_len, hush_error* error) {
  const Call call("hush_messenger_dismiss_identity_change", error);
  return call.run([&] {
    if (messenger == nullptr) return call.null_argument("messenger");
    if (!present(name, name_len)) return call.null_argument("name");
    if (auto st = messenger->messenger->dismiss_identity_change(std::string_view(name, name_len));
        !st)
      return call.fail(st.error());
    return call.ok();
  });
}

hush_status hush_messenger_safety_number(hush_messenger* messenger, const char* name,
                                         size_t name_len, hush_fingerprint** out,
                                         hush_error* error) {
  const Call call("hush_messenger_safety_number", error);
  return call.run([&] {
    if (out == nullptr) return call.null_argument("out");
    *out = nullptr;
    if (messenger == nullptr) return call.null_argument("messenger");
    if (!present(name, name_len)) return call.null_argument("name");
    auto fingerprint = messenger->messenger->safety_number(std::string_view(name, name_len));
    if (!fingerprint) return call.fail(fingerprint.error());
    *out = new hush_fingerprint{std::move(*fingerprint)};
    return call.ok();
  });
}

void hush_messenger_free(hush_messenger* messenger) {
  delete messenger;
}

void hush_received_sender(const hush_received* message, hush_address* sender) {
  if (sender == nullptr) return;
  if (message == nullptr) {
    *sender = hush_address{"", 0, 0};
    return;
  }
  *sender = hush::c_api::c_address(message->message.sender);
}

const char* hush_received_conversation(const hush_received* message, size_t* len) {
  if (message == nullptr) {
    if (len != nullptr) *len = 0;
    return "";
  }
  if (len != nullptr) *len = message->message.conversation.size();
  return message->message.conversation.c_str();
}

int hush_received_sent_by_us(const hush_received* message) {
  return message != nullptr && message->message.sent_by_us ? 1 : 0;
}

uint64_t hush_received_sent_ms(const hush_received* message) {
  return message == nullptr ? 0 : message->message.sent_ms;
}

const uint8_t* hush_received_message_id(const hush_received* message, size_t* len) {
  if (len != nullptr) *len = message == nullptr ? 0 : message->message.message_id.size();
  if (message == nullptr || message->message.message_id.empty()) return nullptr;
  return message->message.message_id.data();
}

const uint8_t* hush_received_plaintext(const hush_received* message, size_t* len) {
  if (len != nullptr) *len = message == nullptr ? 0 : message->message.plaintext.size();
  if (message == nullptr || message->message.plaintext.empty()) return nullptr;
  return message->message.plaintext.expose().data();
}

void hush_received_free(hush_received* message) {
  delete message;  // the plaintext is SecretBytes: wiped
}

}  // extern "C"
