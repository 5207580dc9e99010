// hush chat example: a call's media in hush-chat — Opus voice and VP8 video, encrypted with the
// call's keys (hush::CallMedia, SFrame) and carried as UDP datagrams through hush-relay's switch
// (sfu.h), which forwards them without a key to read them.
//
// Sending: every 20 ms one Opus frame (48 kHz mono, 32 kb/s) of the audio source (a WAV file, or
// a generated speech-like signal), every 100 ms one VP8 frame (160x120, 10 fps, a key frame every
// second) of a generated test pattern. Each frame is encrypted whole with CallMedia under the
// authenticated metadata kind ('a' or 'v') || sequence number (u32), then cut into pieces that fit
// a datagram:
//
//   'M' || call id (16) || kind (1) || stream (u32) || sequence (u32) || piece index (1) ||
//   piece count (1) || piece of the SFrame frame (at most kMaxPieceBytes)
//
// (the stream is a random number each sender draws, as RTP's SSRC; the metadata authenticated
// is kind || stream || sequence.)
// Receiving: the pieces of a frame are put together (at most kMaxPendingFrames frames at once, at
// most kMaxPieces pieces each), the frame is decrypted (a frame that does not authenticate is
// refused and counted), decoded (each sender with its own decoders), and written per sender
// (NAME-DEVICE: the device the call's host listed for its key): audio to
// DIR/call-received-NAME-DEVICE.wav (48 kHz mono; a missing frame is concealed by Opus, frames
// that come late are dropped), video to DIR/call-received-NAME-DEVICE.y4m (YUV4MPEG2, playable
// with ffplay or mpv). What was sent is kept too, for
// checks: DIR/call-sent.wav (the audio encoded), and DIR/call-sent-payloads.bin (every Opus and
// VP8 encoder output, each as a 4-byte big-endian length and its bytes).
//
// Media start only once our key and another participant's are installed (the call is
// connected) and a datagram of another participant came (it joined the relay's switch; or after
// 3 s): until then a presence datagram (kind 'p', no content) goes every 100 ms. Frames of others
// that come before their key are refused (kUnknownKeyId) and counted.
//
// Thread-safety: a MediaSession runs two threads of its own (sender and receiver); its public
// members are called from one thread (hush-chat's main thread).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <hush/call.h>

namespace hush_chat {

/// The most bytes of an SFrame frame in one datagram (the datagram stays inside sfu.h's
/// kMaxDatagramBytes: 17 bytes of switch header and 11 of ours).
inline constexpr std::size_t kMaxPieceBytes = 1100;
/// The most pieces of one frame (so at most 70 KB a frame: a VP8 key frame at 160x120 is some
/// 2 KB).
inline constexpr std::size_t kMaxPieces = 64;
/// Frames being put together at once; an older one still incomplete is dropped.
inline constexpr std::size_t kMaxPendingFrames = 8;
/// Audio: 48 kHz, 20 ms frames.
inline constexpr int kAudioRate = 48000;
/// Samples in one 20 ms audio frame.
inline constexpr int kAudioFrameSamples = 960;
/// Video: 160x120 at 10 frames a second.
inline constexpr int kVideoWidth = 160;
/// Video height.
inline constexpr int kVideoHeight = 120;

/// Mono 16-bit PCM samples at kAudioRate.
using Pcm = std::vector<std::int16_t>;

/// Reads a WAV file of 16-bit PCM at 48 kHz (mono, or the first channel of several). Empty with
/// `why` set if it is not one.
Pcm read_wav(const std::string& path, std::string& why);
/// Writes `pcm` as a mono 16-bit 48 kHz WAV file; false on an I/O error.
bool write_wav(const std::string& path, const Pcm& pcm);
/// `seconds` of a generated speech-like signal: a voiced source with a gliding pitch, shaped by
/// moving formants and cut into syllables (deterministic). Each `voice` (0..7) has its own pitch
/// and formants, so that two people's generated voices do not correlate.
Pcm speech_like(double seconds, unsigned voice);
/// The normalised cross-correlation of `received` against `sent` over their common length, at
/// the lag of 0..max_lag samples (received later) that correlates best over the first second
/// (the best over all lags for a signal of a second or less).
double correlation(const Pcm& sent, const Pcm& received, int max_lag);

/// What to do for a call's media.
struct MediaConfig {
  /// The relay (its UDP switch listens on the TCP port's number).
  std::string host;
  /// The relay's port.
  std::string port;
  /// The call.
  hush::CallId call{};
  /// The token the relay gave for it (kCallToken).
  std::vector<std::uint8_t> token;
  /// The call's keys.
  std::shared_ptr<hush::CallMedia> media;
  /// Where the files go.
  std::string dir;
  /// The audio to send (empty: speech_like() of `voice`).
  Pcm audio;
  /// The generated voice, when `audio` is empty.
  unsigned voice = 0;
};

/// Counts of a session's frames.
struct MediaStats {
  /// Audio frames sent.
  std::uint64_t audio_sent = 0;
  /// Video frames sent.
  std::uint64_t video_sent = 0;
  /// Audio frames received and decrypted.
  std::uint64_t audio_received = 0;
  /// Video frames received, decrypted and decoded.
  std::uint64_t video_received = 0;
  /// Frames refused (not decrypted, or not decoded).
  std::uint64_t refused = 0;
};

/// One call's media (see the file comment).
class MediaSession {
 public:
  /// Opens the socket, joins the relay's switch and starts sending and receiving. Empty with `why`
  /// set on failure.
  static std::unique_ptr<MediaSession> start(MediaConfig config, std::string& why);
  ~MediaSession();
  MediaSession(const MediaSession&) = delete;
  MediaSession& operator=(const MediaSession&) = delete;
  /// Stops both threads and finishes the files (idempotent).
  void stop();
  /// The counts so far.
  MediaStats stats() const;
  /// Video frames of the participant with index `index` decoded so far (0 for an index over
  /// 255: hush/call.h's key ids hold indexes 0..254).
  std::uint64_t video_received_from(std::uint32_t index) const;

 private:
  explicit MediaSession(MediaConfig config) : config_(std::move(config)) {}
  void send_loop();
  void receive_loop();
  void send_join();
  struct Peer;

  MediaConfig config_;
  int socket_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<bool> heard_{false};  // a datagram of the call came: another participant joined
  std::atomic<std::uint64_t> audio_sent_{0}, video_sent_{0}, audio_received_{0}, video_received_{0},
      refused_{0};
  std::array<std::atomic<std::uint64_t>, 256> video_from_{};  // by the sender's index
  std::thread sender_;
  std::thread receiver_;
};

}  // namespace hush_chat
