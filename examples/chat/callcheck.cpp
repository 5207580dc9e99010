// hush chat example: hush-callcheck, the checks of the call demo (demo.sh) and tests.
//
//   hush-callcheck audio SENT.wav RECEIVED.wav [MIN [COVERED]]
//     Prints the normalised cross-correlation between the audio a caller sent and what the other
//     side decoded (at the lag within 20 ms that correlates best over the first second), and fails
//     (exit 1) below MIN (default 0.8), or when what was received covers less than the fraction
//     COVERED of what was sent (default 0.5), or, for COVERED given as Ns (1.5s, say), less than N
//     seconds (a group call's participant who joined late or left early heard only part of what
//     the others sent). Why 0.8: an Opus decode of this speech-like signal at 32 kb/s
//     correlates above 0.95 with what was encoded (Opus delays by 6.5 ms, inside the lag searched);
//     the received file starts at the first frame and conceals lost ones, and the last frames in
//     flight when the call ends are missing, which costs a few percent on loopback. Audio that was
//     not decrypted, or was decoded from other bytes, leaves silence or noise: a correlation near
//     0.
//
//   hush-callcheck capture PAYLOADS CAPTURE
//     PAYLOADS: the encoder outputs a sender dumped (call-sent-payloads.bin); CAPTURE: the
//     relay's --capture-udp file; both are 4-byte big-endian lengths each followed by that many
//     bytes. Fails (exit 1) if any 16-byte window of a payload (at offsets 0, 16, 32, ...; so a
//     payload cut into datagram-sized pieces would still be found) occurs in the capture. Payloads
//     shorter than 16 bytes (Opus silence frames) are skipped and counted: a short pattern may
//     occur by chance. Prints how many payloads and bytes it searched.
//
//   hush-callcheck rekeyed CAPTURE INDEX
//     What the relay sees of a group call's keys when participant INDEX (the host's index of
//     the one who left) hangs up: each media datagram's first piece starts with the SFrame header,
//     whose key id is epoch * 256 + the sender's index (hush/call.h). Fails (exit 1) unless the
//     capture holds frames of INDEX and of at least one other sender, and every other sender
//     with frames after INDEX's last one sent, after it, under a key epoch higher than any it
//     used up to then: keys drawn after the leaving, never sent to the one who left. Prints,
//     per sender, the epochs before and after.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <hush/sframe.h>

#include "media.h"
#include "sfu.h"

namespace {

using Blob = std::vector<std::uint8_t>;

bool read_records(const std::string& path, std::vector<Blob>& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  const std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t at = 0;
  while (at + 4 <= s.size()) {
    std::size_t n = 0;
    for (int i = 0; i < 4; ++i)
      n = n << 8 | static_cast<std::uint8_t>(s[at + static_cast<std::size_t>(i)]);
    at += 4;
    if (n > s.size() - at) return false;
    out.emplace_back(s.begin() + static_cast<std::ptrdiff_t>(at),
                     s.begin() + static_cast<std::ptrdiff_t>(at + n));
    at += n;
  }
  return at == s.size();
}

// COVERED: a fraction of what was sent, or "Ns": N seconds.
int audio(const std::string& sent_path, const std::string& received_path, double min,
          const std::string& min_covered) {
  const bool in_seconds = !min_covered.empty() && min_covered.back() == 's';
  const double need = std::strtod(min_covered.c_str(), nullptr);
  std::string why;
  const hush_chat::Pcm sent = hush_chat::read_wav(sent_path, why);
  if (sent.empty()) {
    std::fprintf(stderr, "hush-callcheck: %s\n", why.c_str());
    return 2;
  }
  const hush_chat::Pcm received = hush_chat::read_wav(received_path, why);
  if (received.empty()) {
    std::fprintf(stderr, "hush-callcheck: %s\n", why.c_str());
    return 2;
  }
  // The received file is aligned with the sent one (frame n at n x 20 ms), with silence for what
  // came before the receiver joined: compare from its first sound on, and require that to cover
  // at least half of what was sent.
  std::size_t start = 0;
  while (start < received.size() && received[start] == 0)
    ++start;
  const hush_chat::Pcm sent_part(
      sent.begin() + static_cast<std::ptrdiff_t>(std::min(start, sent.size())), sent.end());
  const hush_chat::Pcm received_part(received.begin() + static_cast<std::ptrdiff_t>(start),
                                     received.end());
  const double seconds = static_cast<double>(received_part.size()) / hush_chat::kAudioRate;
  const double covered =
      in_seconds ? seconds
                 : static_cast<double>(received_part.size()) / static_cast<double>(sent.size());
  const double c = hush_chat::correlation(sent_part, received_part, hush_chat::kAudioRate / 50);
  char over[64];
  if (in_seconds)
    std::snprintf(over, sizeof over, "%.2f s", need);
  else
    std::snprintf(over, sizeof over, "%.0f%% of what was sent", 100 * need);
  std::printf(
      "audio: %.2f s sent, %.2f s received (from %.2f s on), correlation %.4f (at least %.2f "
      "required, over at least %s)\n",
      static_cast<double>(sent.size()) / hush_chat::kAudioRate, seconds,
      static_cast<double>(start) / hush_chat::kAudioRate, c, min, over);
  return c >= min && covered >= need ? 0 : 1;
}

int capture(const std::string& payloads_path, const std::string& capture_path) {
  std::vector<Blob> payloads, datagrams;
  if (!read_records(payloads_path, payloads) || !read_records(capture_path, datagrams)) {
    std::fprintf(stderr, "hush-callcheck: cannot read %s or %s\n", payloads_path.c_str(),
                 capture_path.c_str());
    return 2;
  }
  Blob all;
  for (const Blob& d : datagrams) {
    all.insert(all.end(), d.begin(), d.end());
    all.push_back(0);  // no window spans two datagrams by accident... nor on purpose
  }
  constexpr std::size_t kWindow = 16;
  std::size_t searched = 0, skipped = 0, found = 0, bytes = 0;
  for (const Blob& p : payloads) {
    if (p.size() < kWindow) {
      ++skipped;
      continue;
    }
    ++searched;
    bytes += p.size();
    for (std::size_t at = 0; at + kWindow <= p.size(); at += kWindow) {
      const std::boyer_moore_horspool_searcher s(
          p.begin() + static_cast<std::ptrdiff_t>(at),
          p.begin() + static_cast<std::ptrdiff_t>(at + kWindow));
      if (std::search(all.begin(), all.end(), s) != all.end()) {
        ++found;
        break;
      }
    }
  }
  std::printf(
      "capture: %zu datagrams (%zu bytes); %zu payloads searched (%zu bytes, %zu shorter than %zu "
      "skipped); %zu found in the capture\n",
      datagrams.size(), all.size() - datagrams.size(), searched, bytes, skipped, kWindow, found);
  return found == 0 && searched > 0 ? 0 : 1;
}

// The sender index and key epoch of a media datagram's frame (its first piece), if it is one.
struct FrameKey {
  std::uint32_t index = 0;
  std::uint64_t epoch = 0;
};
std::optional<FrameKey> frame_key(const Blob& d) {
  // 'M' || call id || kind || stream (4) || sequence (4) || piece index || piece count || piece
  constexpr std::size_t kPiece = hush_chat::kMediaHeaderBytes + 11;
  if (d.size() <= kPiece || d[0] != 'M') return std::nullopt;
  const std::uint8_t kind = d[hush_chat::kMediaHeaderBytes];
  if ((kind != 'a' && kind != 'v') || d[kPiece - 2] != 0) return std::nullopt;
  auto h = hush::parse_sframe_header(hush::ByteView(d.data() + kPiece, d.size() - kPiece));
  if (!h) return std::nullopt;
  return FrameKey{static_cast<std::uint32_t>(h->header.key_id % 256), h->header.key_id / 256};
}

int rekeyed(const std::string& capture_path, std::uint32_t left) {
  std::vector<Blob> datagrams;
  if (!read_records(capture_path, datagrams)) {
    std::fprintf(stderr, "hush-callcheck: cannot read %s\n", capture_path.c_str());
    return 2;
  }
  std::vector<FrameKey> frames;
  for (const Blob& d : datagrams)
    if (auto k = frame_key(d)) frames.push_back(*k);
  std::size_t last = frames.size();  // the position of the last frame of `left`
  for (std::size_t i = 0; i < frames.size(); ++i)
    if (frames[i].index == left) last = i;
  if (last == frames.size()) {
    std::printf("rekeyed: %zu frames; none of sender %u\n", frames.size(), left);
    return 1;
  }
  struct Epochs {
    std::uint64_t before = 0;  // the highest up to `last`
    bool any_before = false;
    std::uint64_t after = 0;  // the highest after `last`
    std::size_t frames_after = 0;
  };
  std::map<std::uint32_t, Epochs> senders;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (frames[i].index == left) continue;
    Epochs& e = senders[frames[i].index];
    if (i < last) {
      e.before = std::max(e.before, frames[i].epoch);
      e.any_before = true;
    } else {
      e.after = std::max(e.after, frames[i].epoch);
      ++e.frames_after;
    }
  }
  bool ok = false;  // (at least one other sender moved on; none stayed)
  bool stayed = false;
  std::printf("rekeyed: %zu frames; sender %u's last is frame %zu", frames.size(), left, last + 1);
  for (const auto& [index, e] : senders) {
    if (e.frames_after == 0) {
      std::printf("; sender %u: nothing after", index);
      continue;
    }
    const bool moved = e.any_before && e.after > e.before;
    ok = ok || moved;
    stayed = stayed || !moved;
    std::printf("; sender %u: epochs up to %llu before%s, up to %llu after (%zu frames)%s", index,
                static_cast<unsigned long long>(e.before), e.any_before ? "" : " (no frame)",
                static_cast<unsigned long long>(e.after), e.frames_after,
                moved ? "" : " NOT REKEYED");
  }
  std::printf("\n");
  return ok && !stayed ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() >= 3 && a.size() <= 5 && a[0] == "audio")
    return audio(a[1], a[2], a.size() >= 4 ? std::strtod(a[3].c_str(), nullptr) : 0.8,
                 a.size() == 5 ? a[4] : std::string("0.5"));
  if (a.size() == 3 && a[0] == "capture") return capture(a[1], a[2]);
  if (a.size() == 3 && a[0] == "rekeyed")
    return rekeyed(a[1], static_cast<std::uint32_t>(std::strtoul(a[2].c_str(), nullptr, 10)));
  std::fprintf(stderr,
               "usage: hush-callcheck audio SENT.wav RECEIVED.wav [MIN [COVERED]]\n"
               "       hush-callcheck capture PAYLOADS CAPTURE\n"
               "       hush-callcheck rekeyed CAPTURE INDEX\n");
  return 2;
}
