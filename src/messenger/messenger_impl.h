// hush internal: the Messenger's private steps, shared by its source files (messenger.cpp: send,
// receive, flush, identity; key_upkeep.cpp: maintain_keys; linking.cpp: link and unlink).
//
// Not responsible for: anything the public header does not promise.
// Thread-safety: as Messenger (not synchronised).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <hush/messenger.h>

#include "messenger/content.h"
#include "messenger/device_lists.h"
#include "messenger/envelope.h"
#include "messenger/groups.h"
#include "messenger/outbox.h"

namespace hush {

struct Messenger::Impl {
  /// The person's newest device list (fetched; the newest seen if the directory is down), noting
  /// an identity change.
  static Result<DeviceList> refresh_list(Messenger& m, std::string_view person);

  /// Makes sure there is a session that can encrypt to `device` (fetching its bundle if not),
  /// noting an identity change.
  static Status ensure_session(Messenger& m, const Address& device);

  /// Starts a new session with `device` from its bundle (archiving the current one).
  static Status new_session(Messenger& m, const Address& device);

  /// Encrypts the entry for the deliveries at `indices` (queued ones), hands them to the
  /// transport and records what happened. Returns the outcome per index. Nothing goes to a person
  /// whose identity change is pending, unless `despite_change` (a call's busy reply to the device
  /// whose offer just came over the session kept from before the change: calls.cpp).
  static Result<std::vector<DeviceDelivery>> deliver(Messenger& m, internal::OutboxEntry& entry,
                                                     const std::vector<std::size_t>& indices,
                                                     bool despite_change = false);

  /// Records that envelope `id` from `device` did not decrypt, and asks the device to send it
  /// again if the interval allows (else the next flush asks).
  static void request_retry(Messenger& m, const Address& device, const internal::EnvelopeId& id);

  /// Sends `device` a retry request for the envelopes waiting to be asked for, if any and if the
  /// interval allows.
  static Status send_retry_request(Messenger& m, const Address& device);

  /// Marks for sending again, to `device`, the outbox message that went out in one of `ids` and
  /// every later one (joins the caller's transaction). Returns how many were marked.
  static Result<std::size_t> mark_resends(Messenger& m, const Address& device,
                                          const std::vector<internal::EnvelopeId>& ids);

  /// Publishes our person's first device list (device 1), or ours again where the directory lost
  /// it or serves an older one; kUnknownDevice if we are not on it.
  static Status maintain_own_list(Messenger& m);

  /// Makes sure the store trusts our own identity for our own name (our other devices hold it), so
  /// that no bundle or message under another key is ever taken for one of our devices by trust on
  /// first use. Writes only the first time.
  static Status pin_self(Messenger& m);

  /// Records an identity change for the person of `device`.
  static void note_identity_change(Messenger& m, const Address& device, const IdentityKey& offered);

  /// The identity change pending for the person `name` (noted in this run, or kept in the store
  /// by an earlier one), with the identity trusted now; nullopt if none, or if the offered
  /// identity has been trusted since.
  static Result<std::optional<IdentityChangeEvent>> pending_change(const Messenger& m,
                                                                   std::string_view name);

  /// Keeps in the outbox and sends `content` (and `copy`, when set, to our other devices) to every
  /// device of the person `person`, as send() does with a message.
  static Result<SendResult> send_to_person(Messenger& m, std::string_view person,
                                           const internal::MessageId& id, SecretBytes content,
                                           std::optional<SecretBytes> copy);

  /// Sends a receipt of `type` for `ids` to the person `person` (chunks of kMaxReceiptMessageIds).
  static Status send_receipt(Messenger& m, std::string_view person, std::uint32_t type,
                             const std::vector<internal::MessageId>& ids);

  /// Every listed device of the people `persons` but this one, ascending. A person whose list
  /// cannot be had is skipped, and named in `*unreached` if given.
  static std::vector<Address> devices_of(Messenger& m, const std::vector<std::string>& persons,
                                         std::vector<std::string>* unreached = nullptr);

  /// Sends `content` now, over 1:1 sessions, to `devices`. With `keep`, what does not go is kept
  /// in the outbox (one entry per person, the devices that did not get it) for flush() to send,
  /// and reported kQueued; without (or when the outbox has no room) it is kFailed.
  static Result<std::vector<DeviceDelivery>> send_now(Messenger& m,
                                                      const std::vector<Address>& devices,
                                                      const SecretBytes& content, bool keep = false,
                                                      bool despite_change = false);

  /// Sends the group's state as a change (with our current sender key to its members' devices,
  /// alone to the devices of `removed`), and records which devices got the key.
  static Result<GroupSendResult> send_group_change(Messenger& m, internal::GroupRecord& group,
                                                   const std::vector<std::string>& removed);

  /// Applies a group update received from `sender` (inside the receive's transaction). Sets
  /// `changed` to the group after a change.
  static Status apply_group_update(Messenger& m, const Address& sender,
                                   internal::GroupUpdateParts& update,
                                   std::optional<GroupChangeEvent>& changed);

  /// Receives a group message (the envelope names a group).
  static Result<std::optional<ReceivedMessage>> receive_group(Messenger& m,
                                                              const internal::EnvelopeParts& parts,
                                                              const ReceiveOptions& options);

  /// What the application is shown of a message (kMessage or kSentCopy content) from `sender`:
  /// takes the content's text and attachments.
  static ReceivedMessage shown_message(const Address& sender, std::string conversation,
                                       bool sent_by_us, internal::ContentParts& content);

  /// Checks a call message from `sender` against the calls held (inside the receive's
  /// transaction: changes nothing). Errors: kUnknownCall, kInvalidCallState, kInvalidCallMessage.
  static Status check_call(const Messenger& m, const Address& sender,
                           const internal::CallMessageParts& call);

  /// Applies a call message check_call passed, once the receive committed (sends what it answers:
  /// ringing, busy, the participant list, keys). Returns the events to report.
  static std::vector<CallEvent> apply_call(Messenger& m, const Address& sender,
                                           internal::CallMessageParts& call);

  /// The call steps (calls.cpp).
  struct CallSteps;

  /// A fresh random message or envelope id.
  template <std::size_t N>
  static Result<std::array<std::uint8_t, N>> random_id(Messenger& m) {
    std::array<std::uint8_t, N> id{};
    if (auto st = m.ctx_.random.fill(id); !st) return st.error();
    return id;
  }
};

}  // namespace hush
