// hush fuzz target: SignedDeviceList::parse on untrusted bytes (a device list as a directory
// serves it). A failure must carry one of the documented error codes. Whatever parses must be in
// the one canonical encoding (serialized() is the input, and parses again to an equal value), obey
// DeviceList::check, and contain exactly its listed devices.
//
// Not responsible for: signing (the seeds are lists signed by real keys; a mutated list fails its
// signature, which is the point: what gets past it must still satisfy every rule).
#include <cstddef>
#include <cstdint>

#include <hush/hush.h>

#include "fuzz_common.h"

using namespace hush;

namespace {

bool documented(Errc code) {
  return code == Errc::kLimitExceeded || code == Errc::kInvalidProtobuf ||
         code == Errc::kInvalidMessage || code == Errc::kInvalidKey ||
         code == Errc::kInvalidSignature;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input(data, size);
  auto parsed = SignedDeviceList::parse(input);
  if (!parsed) {
    fuzz::check(documented(parsed.error().code()), "SignedDeviceList::parse: undocumented error");
    fuzz::check(size <= kMaxDeviceListBytes || parsed.error().code() == Errc::kLimitExceeded,
                "an oversized list was not refused for its size");
    return 0;
  }
  fuzz::check(size <= kMaxDeviceListBytes, "a list above kMaxDeviceListBytes parsed");
  fuzz::check(parsed->serialized() == Bytes(input.begin(), input.end()),
              "serialized() is not the input");
  const DeviceList& list = parsed->list();
  fuzz::check(list.check().has_value(), "a parsed list breaks DeviceList::check");
  fuzz::check(list.devices.size() <= kMaxDevicesPerPerson, "more devices than the limit");
  for (DeviceId d : list.devices)
    fuzz::check(list.contains(d), "a listed device is not contained");
  fuzz::check(!list.contains(DeviceId{0}), "device 0 is contained");
  fuzz::check(!list.contains(list.next_device_id), "next_device_id is contained");
  auto again = SignedDeviceList::parse(parsed->serialized());
  fuzz::check(again.has_value(), "a parsed list does not parse again");
  fuzz::check(*again == *parsed && again->list() == list, "a list changed in a round trip");
  return 0;
}
