// hush fuzz target: the chat example's wire codec (examples/chat/frame.h), which hush-relay and
// hush-chat run on every frame a peer sends. The first four bytes go through read_length (which
// must accept exactly 1..kMaxFrameBytes); the rest through decode. Whatever decodes must encode
// to the very same bytes (the format has one encoding per message), and a decoded name or body
// never exceeds the frame.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "frame.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hush_chat;
  if (size < 4) return 0;
  const std::uint32_t announced = (std::uint32_t{data[0]} << 24) | (std::uint32_t{data[1]} << 16) |
                                  (std::uint32_t{data[2]} << 8) | std::uint32_t{data[3]};
  const auto length = read_length(data);
  hush::fuzz::check(length.has_value() == (announced >= 1 && announced <= kMaxFrameBytes),
                    "read_length accepts the wrong lengths");
  if (length) hush::fuzz::check(*length == announced, "read_length changed the length");

  const std::uint8_t* payload = data + 4;
  const std::size_t payload_size = size - 4;
  const auto message = decode(payload, payload_size);
  if (!message) return 0;
  hush::fuzz::check(message->name.size() <= payload_size && message->body.size() <= payload_size,
                    "a decoded field is larger than the payload");
  const Bytes again = encode(*message);
  hush::fuzz::check(again.size() == payload_size && std::equal(again.begin(), again.end(), payload),
                    "a decoded message does not encode to the same bytes");
  return 0;
}
