// hush: Messenger::link_device and unlink_device (see messenger.h and link.h): our device list's
// changes, published before anything else happens, and the link message for a new device.
#include <hush/limits.h>
#include <hush/messenger.h>

#include <algorithm>

#include "messenger/messenger_impl.h"

namespace hush {

namespace {

// Signs `list` (one version up) with our identity, publishes it, and keeps it.
Status publish_ours(const Context& ctx, ProtocolStore& store, KeyDirectory& directory,
                    internal::DeviceLists& lists, DeviceList list,
                    std::optional<SignedDeviceList>* published) {
  auto identity = store.identity_key_pair();
  if (!identity) return identity.error();
  list.version += 1;
  auto signed_list = SignedDeviceList::sign(ctx.random, std::move(list), *identity);
  if (!signed_list) return signed_list.error();
  if (auto st = directory.publish_device_list(signed_list->list().name, signed_list->serialized());
      !st)
    return st;
  if (auto st = lists.keep(*signed_list); !st) return st;
  lists.remember(*signed_list);
  if (published != nullptr) *published = std::move(*signed_list);
  return ok_status();
}

}  // namespace

Result<LinkResult> Messenger::link_device(std::string_view code, ByteView application_data) {
  auto parsed = LinkCode::parse(code);
  if (!parsed) return parsed.error();
  if (application_data.size() > kMaxLinkApplicationDataBytes)
    return Error(Errc::kLimitExceeded, "link_device: application data too large");
  auto ours = Impl::refresh_list(*this, self_.name);
  if (!ours) return ours.error();
  if (!ours->contains(self_.device_id))
    return Error(Errc::kUnknownDevice, "link_device: this device is not on our device list");
  if (ours->devices.size() >= kMaxDevicesPerPerson)
    return Error(Errc::kLimitExceeded, "link_device: the person has the most devices allowed");
  if (to_uint(ours->next_device_id) == UINT32_MAX)
    return Error(Errc::kLimitExceeded, "link_device: device ids exhausted");
  const DeviceId added = ours->next_device_id;
  DeviceList next = *ours;
  next.devices.push_back(added);
  std::sort(next.devices.begin(), next.devices.end());
  next.next_device_id = DeviceId{to_uint(added) + 1};
  std::optional<SignedDeviceList> published;
  if (auto st = publish_ours(ctx_, store_, directory_, *lists_, std::move(next), &published); !st)
    return st.error();

  auto identity = store_.identity_key_pair();
  if (!identity) return identity.error();
  auto contacts = store_.identities();
  if (!contacts) return contacts.error();
  // Our own name is pinned to our own identity on every device of ours; it is not a contact.
  std::erase_if(*contacts, [&](const auto& c) { return c.first == self_.name; });
  // Beyond the limit the new device learns the rest by trust on first use.
  if (contacts->size() > kMaxLinkContacts) contacts->resize(kMaxLinkContacts);
  LinkContents contents{self_.name,           added,
                        std::move(*identity), std::move(*published),
                        std::move(*contacts), SecretBytes::copy_of(application_data)};
  auto message = seal_link_message(ctx_.random, *parsed, contents);
  if (!message) return message.error();
  return LinkResult{added, parsed->mailbox, std::move(*message)};
}

Status Messenger::unlink_device(DeviceId device) {
  if (device == self_.device_id)
    return Error(Errc::kInvalidArgument, "unlink_device: this device itself");
  auto ours = Impl::refresh_list(*this, self_.name);
  if (!ours) return ours.error();
  if (!ours->contains(device))
    return Error(Errc::kInvalidArgument, "unlink_device: not on our device list");
  DeviceList next = *ours;
  next.devices.erase(std::find(next.devices.begin(), next.devices.end(), device));
  return publish_ours(ctx_, store_, directory_, *lists_, std::move(next), nullptr);
}

}  // namespace hush
