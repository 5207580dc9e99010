// hush fuzz target: LinkRequest::open on untrusted bytes (a link message as the relay delivers
// it), with the fixed request of fuzz_common.h. The first byte's bit 0 picks the input's kind
// (layout in fuzz_common.h): a link message, or a plaintext that the harness seals for the fixed
// code first, so that fuzzed contents reach the contents parser (AES-GCM would refuse nearly every
// mutated message).
//
// Checks: a failure carries a documented code, and a sealed plaintext never fails to decrypt;
// opened contents obey every rule seal_link_message checks (the list is the person's, the device
// is on it, the identity is the list's and its key pair matches, limits, no contact twice), seal
// accepts them, and sealing them again gives a message that opens to the same contents.
//
// Not responsible for: the device list inside beyond what open checks (device_list_fuzzer).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include <hush/hush.h>

#include "fuzz_common.h"
#include "protocol/link_internal.h"

using namespace hush;

namespace {

const LinkRequest& request() {
  static const LinkRequest r = fuzz::fixed_link_request();
  return r;
}

const LinkCode& code() {
  static const LinkCode c = fuzz::fixed_link_code();
  return c;
}

bool documented(Errc code) {
  return code == Errc::kLimitExceeded || code == Errc::kInvalidMessage ||
         code == Errc::kInvalidProtobuf || code == Errc::kInvalidKey ||
         code == Errc::kInvalidSignature;
}

void check_rules(const LinkContents& c) {
  fuzz::check(!c.name.empty() && c.name.size() <= kMaxAddressNameBytes, "name");
  const DeviceList& list = c.device_list.list();
  fuzz::check(list.check().has_value(), "the device list breaks its rules");
  fuzz::check(list.name == c.name, "the list is another person's");
  fuzz::check(list.contains(c.device_id), "the device is not on the list");
  fuzz::check(c.identity.public_key == list.identity, "the identity is not the list's");
  fuzz::check(c.identity.private_key.public_key() == c.identity.public_key,
              "the identity key pair does not match");
  fuzz::check(c.contacts.size() <= kMaxLinkContacts, "too many contacts");
  fuzz::check(c.application_data.size() <= kMaxLinkApplicationDataBytes,
              "too much application data");
  std::vector<std::string_view> names;
  for (const auto& [name, key] : c.contacts) {
    fuzz::check(!name.empty() && name.size() <= kMaxAddressNameBytes, "contact name");
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  fuzz::check(std::adjacent_find(names.begin(), names.end()) == names.end(),
              "a contact named twice");
  auto reparsed = SignedDeviceList::parse(c.device_list.serialized());
  fuzz::check(reparsed.has_value() && *reparsed == c.device_list, "the list does not reparse");
}

bool same(const LinkContents& a, const LinkContents& b) {
  return a.name == b.name && a.device_id == b.device_id &&
         a.identity.public_key == b.identity.public_key &&
         constant_time_equals(a.identity.private_key.expose(), b.identity.private_key.expose()) &&
         a.device_list == b.device_list && a.contacts == b.contacts &&
         constant_time_equals(a.application_data.expose(), b.application_data.expose());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const ByteView input(data + 1, size - 1);
  const bool plaintext = (data[0] & 1) != 0;
  Bytes sealed;
  ByteView message = input;
  if (plaintext) {
    fuzz::FuzzRandom random(fuzz::kLinkSealSeed);
    auto m = internal::seal_link_plaintext(random, code(), input);
    if (!m) {
      fuzz::check(m.error().code() == Errc::kLimitExceeded, "seal_link_plaintext failed");
      return 0;
    }
    sealed = std::move(*m);
    message = sealed;
  }
  auto contents = request().open(message);
  if (!contents) {
    fuzz::check(documented(contents.error().code()), "LinkRequest::open: undocumented error");
    fuzz::check(!plaintext ||
                    std::strcmp(contents.error().where(), "LinkRequest::open: does not open") != 0,
                "a message sealed for the fixed code does not open");
    return 0;
  }
  check_rules(*contents);
  fuzz::FuzzRandom random(fuzz::kLinkSealSeed + 1);
  auto again = seal_link_message(random, code(), *contents);
  fuzz::check(again.has_value(), "seal_link_message refuses contents that open accepted");
  auto reopened = request().open(*again);
  fuzz::check(reopened.has_value(), "resealed contents do not open");
  fuzz::check(same(*reopened, *contents), "contents changed in a seal/open round trip");
  return 0;
}
