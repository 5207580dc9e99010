// hush-cli: device lists (hush/device_list.h) as a state directory keeps them, and the rules for
// accepting one.
//
// A state keeps, as the Messenger does (MessengerRecordKind::kDeviceList: the signed bytes under
// the person's name), the newest signed device list of our own person and of each peer whose list
// was imported. A list is accepted for a person by the Messenger's rules: its signature verifies
// under the identity it names (SignedDeviceList::parse); it names that person (else
// invalid_message); its identity is ours for our own name, or the one trusted for the peer (with
// none trusted yet it becomes the trusted one: trust on first use), else untrusted_identity; under
// the identity of the stored list it is not older, and a list of the same version has the same
// bytes (else stale_device_list: a rollback). A list under another identity than the stored one
// (the peer's new identity was trusted since) replaces it. The sessions with devices that left the
// list are closed (hush::reset_session), as the Messenger closes them.
//
// Once a list is stored for a person, the session commands refuse a device of that person that is
// not on it (unknown_device); without one, any device id goes, as before device lists.
//
// Not responsible for: reading lists from the user and printing them (main.cpp), how the state is
// stored (state.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <hush/hush.h>

namespace hush_cli {

/// The list stored for `person`, or nullopt. Throws Failure (corrupt_state) if the stored bytes do
/// not parse or name another person.
std::optional<hush::SignedDeviceList> stored_device_list(hush::SqliteStore& store,
                                                         std::string_view person);

/// The first list of a person whose device 1 is being set up: version 1, devices {1}, next 2,
/// signed with `identity`. Throws Failure (invalid_argument, limit_exceeded) for a name a list
/// cannot carry (empty, or longer than kMaxAddressNameBytes).
hush::SignedDeviceList first_device_list(const std::string& name,
                                         const hush::IdentityKeyPair& identity);

/// Checks `list` by the rules above as the list of `person` (our own person when it is
/// `self.name`), then stores it and closes the sessions of devices that left it, in one
/// transaction (or a savepoint of the caller's). Throws Failure with the library's error name.
void import_device_list(hush::SqliteStore& store, const hush::Address& self,
                        std::string_view person, const hush::SignedDeviceList& list);

/// Our list as it stands, to be changed: the stored one, or for device 1 of a state made before
/// device lists the first list (unsigned, not stored). Throws Failure: unknown_device if this
/// device is not on it (it was unlinked), exit 1 if there is none (a state made with
/// `init --device-id N`, N > 1).
hush::DeviceList own_list_to_change(hush::SqliteStore& store, const hush::Address& self);

/// Signs `next` (our list changed, its version one up) with our identity and stores it, closing
/// the sessions of devices that left it; one transaction (or a savepoint of the caller's).
hush::SignedDeviceList store_own_list(hush::SqliteStore& store, const hush::Address& self,
                                      hush::DeviceList next);

/// Refuses (unknown_device) a device that is not on the list stored for its person, if one is.
void check_listed(hush::SqliteStore& store, const hush::Address& device, std::string_view what);

}  // namespace hush_cli
