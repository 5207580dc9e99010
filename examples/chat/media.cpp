// hush chat example: a call's media (see media.h).
#include "media.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <opus/opus.h>
#include <vpx/vp8cx.h>
#include <vpx/vp8dx.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vpx_encoder.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <span>
#include <tuple>

#include <hush/random.h>

#include "media_signal.h"
#include "sfu.h"

namespace hush_chat {

namespace {

// kind, stream, sequence, piece index, piece count
constexpr std::size_t kPieceHeaderBytes = 11;
constexpr double kPi = 3.14159265358979323846;

void put_u32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    p[i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}
std::uint32_t get_u32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
         static_cast<std::uint32_t>(p[2]) << 8 | p[3];
}
void put_le(std::string& out, std::uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out.push_back(static_cast<char>(v >> (8 * i)));
}
std::uint32_t get_le(const std::string& s, std::size_t at, int bytes) {
  std::uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i)
    v = v << 8 | static_cast<std::uint8_t>(s[at + static_cast<std::size_t>(i)]);
  return v;
}

// The authenticated metadata of a frame: kind || stream || sequence.
std::array<std::uint8_t, 9> metadata(char kind, std::uint32_t stream, std::uint32_t seq) {
  std::array<std::uint8_t, 9> m{static_cast<std::uint8_t>(kind)};
  put_u32(m.data() + 1, stream);
  put_u32(m.data() + 5, seq);
  return m;
}

// The test pattern (signal.h), with colour gradients.
void pattern(vpx_image_t& img, int frame) {
  for (int r = 0; r < kVideoHeight; ++r)
    for (int c = 0; c < kVideoWidth; ++c)
      img.planes[VPX_PLANE_Y][r * img.stride[VPX_PLANE_Y] + c] =
          pattern_luma(frame, r, c, kVideoWidth, kVideoHeight);
  for (int r = 0; r < kVideoHeight / 2; ++r)
    for (int c = 0; c < kVideoWidth / 2; ++c) {
      img.planes[VPX_PLANE_U][r * img.stride[VPX_PLANE_U] + c] = static_cast<std::uint8_t>(64 + c);
      img.planes[VPX_PLANE_V][r * img.stride[VPX_PLANE_V] + c] = static_cast<std::uint8_t>(64 + r);
    }
}

// A streamed WAV file whose sizes are written when it is closed.
class WavWriter {
 public:
  explicit WavWriter(const std::string& path) : f_(std::fopen(path.c_str(), "wb")) {
    if (f_) std::fwrite(header(0).data(), 1, 44, f_);
  }
  ~WavWriter() { close(); }
  void write(const std::int16_t* pcm, std::size_t n) {
    if (!f_) return;
    for (std::size_t i = 0; i < n; ++i) {
      const auto u = static_cast<std::uint16_t>(pcm[i]);
      const std::uint8_t b[2] = {static_cast<std::uint8_t>(u), static_cast<std::uint8_t>(u >> 8)};
      std::fwrite(b, 1, 2, f_);
    }
    samples_ += n;
  }
  void close() {
    if (!f_) return;
    std::fseek(f_, 0, SEEK_SET);
    std::fwrite(header(static_cast<std::uint32_t>(samples_ * 2)).data(), 1, 44, f_);
    std::fclose(f_);
    f_ = nullptr;
  }
  static std::string header(std::uint32_t data_bytes) {
    std::string h = "RIFF";
    put_le(h, 36 + data_bytes, 4);
    h += "WAVEfmt ";
    put_le(h, 16, 4);
    put_le(h, 1, 2);  // PCM
    put_le(h, 1, 2);  // mono
    put_le(h, kAudioRate, 4);
    put_le(h, kAudioRate * 2, 4);
    put_le(h, 2, 2);
    put_le(h, 16, 2);
    h += "data";
    put_le(h, data_bytes, 4);
    return h;
  }

 private:
  std::FILE* f_;
  std::size_t samples_ = 0;
};

}  // namespace

Pcm read_wav(const std::string& path, std::string& why) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    why = "cannot open " + path;
    return {};
  }
  const std::size_t limit = std::size_t{64} << 20;  // ten minutes of stereo is 110 MB: 64 MiB
  std::string s;
  s.resize(limit + 1);
  in.read(s.data(), static_cast<std::streamsize>(s.size()));
  s.resize(static_cast<std::size_t>(in.gcount()));
  if (s.size() > limit) {
    why = path + " is larger than 64 MiB";
    return {};
  }
  if (s.size() < 12 || s.compare(0, 4, "RIFF") != 0 || s.compare(8, 4, "WAVE") != 0) {
    why = path + " is not a WAV file";
    return {};
  }
  std::uint32_t channels = 0, rate = 0, bits = 0, format = 0;
  for (std::size_t at = 12; at + 8 <= s.size();) {
    const std::string id = s.substr(at, 4);
    const std::size_t size = get_le(s, at + 4, 4);
    const std::size_t body = at + 8;
    if (size > s.size() - body) break;
    if (id == "fmt " && size >= 16) {
      format = get_le(s, body, 2);
      channels = get_le(s, body + 2, 2);
      rate = get_le(s, body + 4, 4);
      bits = get_le(s, body + 14, 2);
    } else if (id == "data") {
      if (format != 1 || bits != 16 || rate != kAudioRate || channels == 0) {
        why = path + ": only 16-bit PCM at 48000 Hz is read (convert it with sox or ffmpeg)";
        return {};
      }
      Pcm pcm;
      const std::size_t frame = 2 * channels;
      for (std::size_t i = body; i + frame <= body + size; i += frame)
        pcm.push_back(static_cast<std::int16_t>(get_le(s, i, 2)));
      if (pcm.empty()) why = path + " holds no samples";
      return pcm;
    }
    at = body + size + (size & 1);
  }
  why = path + ": no fmt and data chunks";
  return {};
}

bool write_wav(const std::string& path, const Pcm& pcm) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  std::fclose(f);
  WavWriter w(path);
  w.write(pcm.data(), pcm.size());
  return true;
}

Pcm speech_like(double seconds, unsigned voice) {
  const double base = 100 + 17 * (voice % 8);   // pitch, Hz
  const double shift = 1 + 0.09 * (voice % 8);  // formants
  const auto n = static_cast<std::size_t>(seconds * kAudioRate);
  Pcm out(n);
  double phase = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / kAudioRate;
    // Pitch glides between 100 and 160 Hz; syllables of 250 ms with short gaps.
    const double f0 = base + 30 * std::sin(2 * kPi * 0.7 * t);
    phase += 2 * kPi * f0 / kAudioRate;
    const double syllable = std::fmod(t, 0.25) / 0.25;
    const double envelope = syllable < 0.8 ? std::sin(kPi * syllable / 0.8) : 0.0;
    // Two formants that move from syllable to syllable.
    const double k = std::floor(t / 0.25);
    const double f1 = shift * (500 + 200 * std::sin(k * 1.3));
    const double f2 = shift * (1500 + 600 * std::sin(k * 0.7));
    double x = 0;
    for (int h = 1; h * f0 < 4000; ++h) {
      const double f = h * f0;
      const double gain =
          1.0 / (1 + std::pow((f - f1) / 150, 2)) + 0.5 / (1 + std::pow((f - f2) / 200, 2)) + 0.02;
      x += gain * std::sin(h * phase) / h;
    }
    out[i] = static_cast<std::int16_t>(std::clamp(9000 * envelope * x, -32767.0, 32767.0));
  }
  return out;
}

double correlation(const Pcm& sent, const Pcm& received, int max_lag) {
  // The lag (the codec's delay: it does not change) is the best one over the first second, and
  // the correlation is taken at that lag over the whole common length: never more than the best
  // over every lag, at a fraction of the cost of searching every lag over everything (the tests
  // run this on sanitizer builds).
  const std::size_t window = kAudioRate;
  if (sent.size() <= window) return best_correlation<std::int16_t>(sent, received, max_lag);
  const std::span<const std::int16_t> x(sent), y(received);
  int lag = 0;
  double best = -2;
  for (int l = 0; l <= max_lag; ++l) {
    const auto ul = static_cast<std::size_t>(l);
    if (ul >= y.size()) break;
    const double c = best_correlation<std::int16_t>(
        x.first(window), y.subspan(ul, std::min(window, y.size() - ul)), 0);
    if (c > best) {
      best = c;
      lag = l;
    }
  }
  const auto ul = static_cast<std::size_t>(lag);
  return ul < y.size() ? best_correlation<std::int16_t>(x, y.subspan(ul), 0) : -1;
}

std::unique_ptr<MediaSession> MediaSession::start(MediaConfig config, std::string& why) {
  if (!config.media || config.token.size() != kCallTokenBytes) {
    why = "no keys or token for the call";
    return nullptr;
  }
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(config.host.c_str(), config.port.c_str(), &hints, &found) != 0 || !found) {
    why = "cannot resolve " + config.host;
    return nullptr;
  }
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  const bool connected = fd >= 0 && ::connect(fd, found->ai_addr, found->ai_addrlen) == 0;
  ::freeaddrinfo(found);
  if (!connected) {
    if (fd >= 0) ::close(fd);
    why = std::string("cannot open a UDP socket to the relay: ") + std::strerror(errno);
    return nullptr;
  }
  timeval tv{0, 100000};  // the receiver checks for stop() every 100 ms
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (config.audio.empty()) config.audio = speech_like(10, config.voice);
  std::unique_ptr<MediaSession> s(new MediaSession(std::move(config)));
  s->socket_ = fd;
  s->send_join();
  s->receiver_ = std::thread([p = s.get()] { p->receive_loop(); });
  s->sender_ = std::thread([p = s.get()] { p->send_loop(); });
  return s;
}

MediaSession::~MediaSession() {
  stop();
}

void MediaSession::stop() {
  stop_ = true;
  if (sender_.joinable()) sender_.join();
  if (receiver_.joinable()) receiver_.join();
  if (socket_ >= 0) ::close(socket_);
  socket_ = -1;
}

MediaStats MediaSession::stats() const {
  return {audio_sent_, video_sent_, audio_received_, video_received_, refused_};
}

std::uint64_t MediaSession::video_received_from(std::uint32_t index) const {
  return index < video_from_.size() ? video_from_[index].load() : 0;
}

void MediaSession::send_join() {
  std::array<std::uint8_t, kJoinDatagramBytes> d{'J'};
  std::copy(config_.call.begin(), config_.call.end(), d.begin() + 1);
  std::copy(config_.token.begin(), config_.token.end(), d.begin() + 17);
  ::send(socket_, d.data(), d.size(), 0);
}

void MediaSession::send_loop() {
  int err = 0;
  std::unique_ptr<OpusEncoder, void (*)(OpusEncoder*)> opus(
      opus_encoder_create(kAudioRate, 1, OPUS_APPLICATION_VOIP, &err), opus_encoder_destroy);
  if (err != OPUS_OK) return;
  opus_encoder_ctl(opus.get(), OPUS_SET_BITRATE(32000));
  vpx_codec_enc_cfg_t cfg;
  if (vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &cfg, 0) != VPX_CODEC_OK) return;
  cfg.g_w = kVideoWidth;
  cfg.g_h = kVideoHeight;
  cfg.g_timebase = {1, 10};
  cfg.rc_target_bitrate = 200;
  cfg.g_lag_in_frames = 0;
  cfg.g_threads = 1;
  cfg.kf_max_dist = 10;
  vpx_codec_ctx_t vp8;
  if (vpx_codec_enc_init(&vp8, vpx_codec_vp8_cx(), &cfg, 0) != VPX_CODEC_OK) return;
  vpx_image_t raw;
  vpx_img_alloc(&raw, VPX_IMG_FMT_I420, kVideoWidth, kVideoHeight, 1);
  WavWriter sent_wav(config_.dir + "/call-sent.wav");
  std::FILE* payloads = std::fopen((config_.dir + "/call-sent-payloads.bin").c_str(), "wb");

  // Our stream id (as RTP's SSRC): receivers put pieces together by it.
  std::uint32_t stream = 0;
  {
    std::array<std::uint8_t, 4> r{};
    (void)hush::system_random().fill(r);
    stream = get_u32(r.data());
  }
  auto send_frame = [&](char kind, std::uint32_t seq, const std::uint8_t* data, std::size_t n) {
    if (payloads) {
      std::uint8_t len[4];
      put_u32(len, static_cast<std::uint32_t>(n));
      std::fwrite(len, 1, 4, payloads);
      std::fwrite(data, 1, n, payloads);
    }
    const auto meta = metadata(kind, stream, seq);
    auto frame = config_.media->encrypt_frame(meta, hush::ByteView(data, n));
    if (!frame) return;
    const std::size_t pieces = (frame->size() + kMaxPieceBytes - 1) / kMaxPieceBytes;
    if (pieces > kMaxPieces) return;
    for (std::size_t i = 0; i < pieces; ++i) {
      std::vector<std::uint8_t> d{'M'};
      d.insert(d.end(), config_.call.begin(), config_.call.end());
      d.insert(d.end(), meta.begin(), meta.end());
      d.push_back(static_cast<std::uint8_t>(i));
      d.push_back(static_cast<std::uint8_t>(pieces));
      const std::size_t from = i * kMaxPieceBytes;
      const std::size_t to = std::min(frame->size(), from + kMaxPieceBytes);
      d.insert(d.end(), frame->begin() + static_cast<std::ptrdiff_t>(from),
               frame->begin() + static_cast<std::ptrdiff_t>(to));
      ::send(socket_, d.data(), d.size(), 0);
    }
  };

  // Media start when the call is connected: our key is there, and another participant's (so
  // that it has ours too), and another participant has joined the relay's switch (we heard a
  // datagram of the call), or 3 s after the keys (a lost datagram does not stop the call).
  // Meanwhile a presence datagram (kind 'p', no content) every 100 ms says that we are there.
  while (!stop_ && (!config_.media->own_key_id() || config_.media->key_count() == 0))
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const auto keyed = std::chrono::steady_clock::now();
  for (int i = 0;
       !stop_ && !heard_ && std::chrono::steady_clock::now() - keyed < std::chrono::seconds(3);
       ++i) {
    if (i % 10 == 0) {
      std::vector<std::uint8_t> p{'M'};
      p.insert(p.end(), config_.call.begin(), config_.call.end());
      p.resize(kMediaHeaderBytes + kPieceHeaderBytes + 1, 0);
      p[kMediaHeaderBytes] = 'p';
      p[kMediaHeaderBytes + kPieceHeaderBytes - 1] = 1;  // one piece (of nothing)
      ::send(socket_, p.data(), p.size(), 0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto next = std::chrono::steady_clock::now();
  std::size_t at = 0;
  for (std::uint32_t seq = 0; !stop_; ++seq) {
    if (seq % 50 == 0) send_join();  // again each second: a lost join is not fatal
    std::int16_t pcm[kAudioFrameSamples];
    for (int i = 0; i < kAudioFrameSamples; ++i) {
      pcm[i] = config_.audio[at];
      at = (at + 1) % config_.audio.size();  // a short file loops
    }
    sent_wav.write(pcm, kAudioFrameSamples);
    std::uint8_t packet[1500];
    const opus_int32 n = opus_encode(opus.get(), pcm, kAudioFrameSamples, packet, sizeof packet);
    if (n > 0) {
      send_frame('a', seq, packet, static_cast<std::size_t>(n));
      ++audio_sent_;
    }
    if (seq % 5 == 0) {
      const std::uint32_t vseq = seq / 5;
      pattern(raw, static_cast<int>(vseq));
      // A key frame every second, and each of the first three (a receiver that starts late or
      // loses the first decodes from the next key frame on).
      const vpx_enc_frame_flags_t flags = vseq < 3 ? VPX_EFLAG_FORCE_KF : 0;
      if (vpx_codec_encode(&vp8, &raw, vseq, 1, flags, VPX_DL_REALTIME) == VPX_CODEC_OK) {
        vpx_codec_iter_t iter = nullptr;
        while (const vpx_codec_cx_pkt_t* pkt = vpx_codec_get_cx_data(&vp8, &iter)) {
          if (pkt->kind != VPX_CODEC_CX_FRAME_PKT) continue;
          send_frame('v', vseq, static_cast<const std::uint8_t*>(pkt->data.frame.buf),
                     pkt->data.frame.sz);
          ++video_sent_;
        }
      }
    }
    next += std::chrono::milliseconds(20);
    std::this_thread::sleep_until(next);
  }
  if (payloads) std::fclose(payloads);
  vpx_img_free(&raw);
  vpx_codec_destroy(&vp8);
}

// One sender's decoding state and files, at the receiver.
struct MediaSession::Peer {
  explicit Peer(const std::string& base) : opus(nullptr, opus_decoder_destroy), wav(base + ".wav") {
    int err = 0;
    opus.reset(opus_decoder_create(kAudioRate, 1, &err));
    if (err != OPUS_OK) opus.reset();
    vp8_ok = vpx_codec_dec_init(&vp8, vpx_codec_vp8_dx(), nullptr, 0) == VPX_CODEC_OK;
    y4m = std::fopen((base + ".y4m").c_str(), "wb");
    if (y4m)
      std::fprintf(y4m, "YUV4MPEG2 W%d H%d F10:1 Ip A1:1 C420jpeg\n", kVideoWidth, kVideoHeight);
  }
  ~Peer() {
    if (y4m) std::fclose(y4m);
    if (vp8_ok) vpx_codec_destroy(&vp8);
  }
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  std::unique_ptr<OpusDecoder, void (*)(OpusDecoder*)> opus;
  vpx_codec_ctx_t vp8{};
  bool vp8_ok = false;
  WavWriter wav;
  std::FILE* y4m = nullptr;
  std::uint32_t next_audio = 0;  // the next audio sequence number to write
};

void MediaSession::receive_loop() {
  // Per sender (by participant index; at most kMaxCallMembers).
  std::map<std::uint32_t, std::unique_ptr<Peer>> peers;
  struct Pending {
    std::uint8_t count = 0;
    std::size_t have = 0;
    std::vector<std::vector<std::uint8_t>> pieces;
  };
  // Frames being put together, by (stream, kind, sequence): at most kMaxPendingFrames.
  std::map<std::tuple<std::uint32_t, char, std::uint32_t>, Pending> pending;
  std::array<std::uint8_t, kMaxDatagramBytes + 1> d{};

  auto on_frame = [&](std::uint32_t stream, char kind, std::uint32_t seq,
                      const std::vector<std::uint8_t>& frame) {
    const auto meta = metadata(kind, stream, seq);
    auto plain = config_.media->decrypt_frame(meta, frame);
    if (!plain) {
      ++refused_;
      return;
    }
    auto it = peers.find(plain->sender.index);
    if (it == peers.end()) {
      if (peers.size() >= kMaxCallMembers) return;
      // Files named after the sender's device (a handle: [a-z0-9_.-], safe in a file name).
      const std::string base = config_.dir + "/call-received-" + plain->sender.device.name + "-" +
                               std::to_string(hush::to_uint(plain->sender.device.device_id));
      it = peers.emplace(plain->sender.index, std::make_unique<Peer>(base)).first;
    }
    Peer& peer = *it->second;
    const auto bytes = plain->plaintext.expose();
    if (kind == 'a') {
      if (!peer.opus || seq < peer.next_audio) return;  // late: already concealed
      // Conceal what is missing before it (at most 5 s: a longer gap is just skipped).
      std::int16_t pcm[kAudioFrameSamples];
      for (std::uint32_t gap = 0; seq > peer.next_audio && gap < 250; ++gap, ++peer.next_audio)
        if (opus_decode(peer.opus.get(), nullptr, 0, pcm, kAudioFrameSamples, 0) ==
            kAudioFrameSamples)
          peer.wav.write(pcm, kAudioFrameSamples);
      peer.next_audio = seq + 1;
      const int n = opus_decode(peer.opus.get(), bytes.data(),
                                static_cast<opus_int32>(bytes.size()), pcm, kAudioFrameSamples, 0);
      if (n != kAudioFrameSamples) {
        ++refused_;
        return;
      }
      peer.wav.write(pcm, kAudioFrameSamples);
      ++audio_received_;
      return;
    }
    if (!peer.vp8_ok ||
        vpx_codec_decode(&peer.vp8, bytes.data(), static_cast<unsigned int>(bytes.size()), nullptr,
                         0) != VPX_CODEC_OK) {
      ++refused_;
      return;
    }
    vpx_codec_iter_t iter = nullptr;
    while (const vpx_image_t* img = vpx_codec_get_frame(&peer.vp8, &iter)) {
      if (static_cast<int>(img->d_w) != kVideoWidth || static_cast<int>(img->d_h) != kVideoHeight)
        continue;
      ++video_received_;
      if (plain->sender.index < video_from_.size()) ++video_from_[plain->sender.index];
      if (!peer.y4m) continue;
      std::fputs("FRAME\n", peer.y4m);
      for (int p = 0; p < 3; ++p) {
        const int w = p == 0 ? kVideoWidth : kVideoWidth / 2;
        const int h = p == 0 ? kVideoHeight : kVideoHeight / 2;
        for (int r = 0; r < h; ++r)
          std::fwrite(img->planes[p] + r * img->stride[p], 1, static_cast<std::size_t>(w),
                      peer.y4m);
      }
    }
  };

  while (!stop_) {
    const ssize_t got = ::recv(socket_, d.data(), d.size(), 0);
    if (got < 0) continue;  // the timeout: look at stop_
    const auto n = static_cast<std::size_t>(got);
    if (n <= kMediaHeaderBytes + kPieceHeaderBytes || n > kMaxDatagramBytes || d[0] != 'M' ||
        !std::equal(config_.call.begin(), config_.call.end(), d.begin() + 1))
      continue;
    const std::uint8_t* h = d.data() + kMediaHeaderBytes;
    const char kind = static_cast<char>(h[0]);
    const std::uint32_t stream = get_u32(h + 1);
    const std::uint32_t seq = get_u32(h + 5);
    const std::uint8_t index = h[9], count = h[10];
    heard_ = true;  // another participant is there
    if ((kind != 'a' && kind != 'v') || count == 0 || count > kMaxPieces || index >= count)
      continue;
    const std::vector<std::uint8_t> piece(d.begin() + kMediaHeaderBytes + kPieceHeaderBytes,
                                          d.begin() + static_cast<std::ptrdiff_t>(n));
    if (count == 1) {
      on_frame(stream, kind, seq, piece);
      continue;
    }
    const auto key = std::make_tuple(stream, kind, seq);
    auto it = pending.find(key);
    if (it == pending.end()) {
      if (pending.size() >= kMaxPendingFrames) pending.erase(pending.begin());
      it = pending.emplace(key, Pending{count, 0, std::vector<std::vector<std::uint8_t>>(count)})
               .first;
    }
    Pending& p = it->second;
    if (p.count != count || !p.pieces[index].empty()) continue;
    p.pieces[index] = piece;
    if (++p.have < count) continue;
    std::vector<std::uint8_t> frame;
    for (const auto& x : p.pieces)
      frame.insert(frame.end(), x.begin(), x.end());
    pending.erase(it);
    on_frame(stream, kind, seq, frame);
  }
}

}  // namespace hush_chat
