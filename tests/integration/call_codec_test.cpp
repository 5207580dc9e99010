// hush integration tests: real media through a call (call.h) — Opus audio and VP8 video, encoded
// by libopus and libvpx (linked into this test only), encrypted by CallMedia, carried by the
// in-process SFU that drops 5 % of the frames and reorders the rest (support/call_sfu.h),
// decrypted and decoded by every other participant, in a 1:1 call and a 3-person call.
//
// Thresholds, and why:
//  - Audio: the normalised cross-correlation between the sent and the decoded signal (best lag
//    within 10 ms: Opus delays by 6.5 ms) must exceed 0.9. A clean Opus decode of two tones at
//    32 kb/s correlates above 0.99; losing 5 % of the 20 ms frames costs at most
//    1 - sqrt(0.95) ≈ 0.025 even if the concealment were silence (7 % lost: 0.036). 0.9 leaves
//    room for the codec and the loss draw; a decryption that failed or gave other bytes leaves
//    silence or noise (correlation near 0).
//  - Video: every frame decoded must have a luma PSNR above 30 dB against the frame sent. Each
//    frame is a key frame (so a lost frame does not break the next: the application's NACK/PLI is
//    not this test's business), 160x120 at about 1.7 bits per pixel, which for this smooth
//    synthetic picture decodes at 40 dB or more; 30 dB is the usual line of good quality, and
//    bytes altered anywhere give a frame that does not decode or is far below 20 dB.
//  - At least 90 % of the frames arrive and decrypt (5 % are dropped on average).
#include <catch2/catch.hpp>

#include <opus/opus.h>
#include <vpx/vp8cx.h>
#include <vpx/vp8dx.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vpx_encoder.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "media_signal.h"  // examples/chat: the test pattern and the correlation
#include "support/call_sfu.h"
#include "support/loopback.h"
#include "support/messenger_user.h"
#include "support/test_support.h"

using namespace hush;
using hush::test::LoopbackNetwork;
using hush::test::Sfu;
using hush::test::User;

namespace {

constexpr int kRate = 48000;
constexpr int kFrameSamples = 960;  // 20 ms
constexpr int kAudioFrames = 100;   // 2 s
constexpr int kWidth = 160;
constexpr int kHeight = 120;
constexpr int kVideoFrames = 40;

void settle(LoopbackNetwork& net, const std::vector<User*>& users) {
  for (int round = 0; round < 8; ++round)
    for (User* u : users) {
      auto& q = net.queue(u->address());
      while (!q.empty()) {
        Bytes e = std::move(q.front());
        q.pop_front();
        auto r = u->messenger.receive(e);
        INFO(u->name() << ": " << (r ? "" : r.error().where()));
        REQUIRE(r);
      }
    }
}

// A call of `names` hosted by the first; every other one answers. Returns the users and the id.
std::pair<std::vector<std::unique_ptr<User>>, CallId> make_call(
    LoopbackNetwork& net, const std::vector<std::string>& names) {
  std::vector<std::unique_ptr<User>> users;
  std::vector<User*> all;
  std::uint64_t seed = 100;
  for (const std::string& n : names) {
    users.push_back(std::make_unique<User>(n, ++seed, net));
    REQUIRE(users.back()->messenger.maintain_keys());
    all.push_back(users.back().get());
  }
  const std::vector<std::string> callees(names.begin() + 1, names.end());
  auto call = users[0]->messenger.start_call(callees, as_bytes("offer"));
  REQUIRE(call);
  settle(net, all);
  for (std::size_t i = 1; i < users.size(); ++i)
    REQUIRE(users[i]->messenger.answer_call(*call, as_bytes("answer")));
  settle(net, all);
  for (User* u : all) {
    auto p = u->messenger.call_participants(*call);
    REQUIRE(p);
    REQUIRE(p->size() == names.size());
  }
  return {std::move(users), *call};
}

Bytes metadata(char kind, std::uint32_t seq) {
  return Bytes{static_cast<std::uint8_t>(kind), static_cast<std::uint8_t>(seq >> 24),
               static_cast<std::uint8_t>(seq >> 16), static_cast<std::uint8_t>(seq >> 8),
               static_cast<std::uint8_t>(seq)};
}

// Decrypts what the SFU has for `to`: the frames' plaintexts by sequence number (from the
// authenticated metadata, which the receiver tries for each sequence number the frame could
// carry: the metadata is not in the frame, so the application carries it beside, as RTP does; here
// the SFU's frames carry it as a 5-byte prefix).
std::map<std::uint32_t, Bytes> receive(Sfu& sfu, User& to, const CallId& call, char kind,
                                       std::size_t& refused) {
  std::map<std::uint32_t, Bytes> out;
  auto media = to.messenger.call_media(call);
  REQUIRE(media);
  for (const Bytes& packet : sfu.take(to.address())) {
    REQUIRE(packet.size() > 5);
    const ByteView meta(packet.data(), 5);
    if (static_cast<char>(meta[0]) != kind) continue;
    const std::uint32_t seq = static_cast<std::uint32_t>(meta[1]) << 24 |
                              static_cast<std::uint32_t>(meta[2]) << 16 |
                              static_cast<std::uint32_t>(meta[3]) << 8 | meta[4];
    auto d = media->decrypt_frame(meta, ByteView(packet).subspan(5));
    if (!d) {
      ++refused;
      continue;
    }
    out[seq] = Bytes(d->plaintext.expose().begin(), d->plaintext.expose().end());
  }
  return out;
}

// The application's transport: prefixes the metadata (as an RTP header would travel in clear).
class PrefixPort final : public MediaTransport {
 public:
  PrefixPort(Sfu& sfu, const Address& from, Bytes meta)
      : port_(sfu, from), meta_(std::move(meta)) {}
  Status send_frame(const CallId& call, ByteView frame) override {
    Bytes p = meta_;
    p.insert(p.end(), frame.begin(), frame.end());
    return port_.send_frame(call, p);
  }

 private:
  Sfu::Port port_;
  Bytes meta_;
};

std::vector<float> tones(int frames) {
  std::vector<float> x(static_cast<std::size_t>(frames * kFrameSamples));
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double t = static_cast<double>(i) / kRate;
    x[i] =
        static_cast<float>(0.4 * std::sin(2 * M_PI * 440 * t) + 0.2 * std::sin(2 * M_PI * 660 * t));
  }
  return x;
}

// The best normalised cross-correlation of y against x over lags 0..max_lag (y delayed): the
// chat example's (examples/chat/media_signal.h), which hush-callcheck uses too.
double correlation(const std::vector<float>& x, const std::vector<float>& y, int max_lag) {
  return hush_chat::best_correlation<float>(x, y, max_lag);
}

// Sends 2 s of audio from users[0] and checks every other participant's decoded signal.
void audio_through_call(const std::vector<std::unique_ptr<User>>& users, const CallId& call) {
  int err = 0;
  std::unique_ptr<OpusEncoder, void (*)(OpusEncoder*)> enc(
      opus_encoder_create(kRate, 1, OPUS_APPLICATION_AUDIO, &err), opus_encoder_destroy);
  REQUIRE(err == OPUS_OK);
  REQUIRE(opus_encoder_ctl(enc.get(), OPUS_SET_BITRATE(32000)) == OPUS_OK);
  const std::vector<float> x = tones(kAudioFrames);
  Sfu sfu(7);
  for (const auto& u : users)
    sfu.subscribe(u->address());
  auto media = users[0]->messenger.call_media(call);
  REQUIRE(media);
  for (int f = 0; f < kAudioFrames; ++f) {
    std::uint8_t packet[1500];
    const opus_int32 n = opus_encode_float(enc.get(), x.data() + f * kFrameSamples, kFrameSamples,
                                           packet, sizeof packet);
    REQUIRE(n > 0);
    const Bytes meta = metadata('a', static_cast<std::uint32_t>(f));
    PrefixPort port(sfu, users[0]->address(), meta);
    REQUIRE(media->send_frame(port, meta, ByteView(packet, static_cast<std::size_t>(n))));
  }
  for (std::size_t r = 1; r < users.size(); ++r) {
    std::size_t refused = 0;
    auto got = receive(sfu, *users[r], call, 'a', refused);
    CHECK(refused == 0);
    CHECK(got.size() >= kAudioFrames * 9 / 10);
    std::unique_ptr<OpusDecoder, void (*)(OpusDecoder*)> dec(opus_decoder_create(kRate, 1, &err),
                                                             opus_decoder_destroy);
    REQUIRE(err == OPUS_OK);
    std::vector<float> y;
    for (int f = 0; f < kAudioFrames; ++f) {
      float pcm[kFrameSamples];
      auto it = got.find(static_cast<std::uint32_t>(f));
      const int n = it == got.end() ? opus_decode_float(dec.get(), nullptr, 0, pcm, kFrameSamples,
                                                        0)  // concealment
                                    : opus_decode_float(dec.get(), it->second.data(),
                                                        static_cast<opus_int32>(it->second.size()),
                                                        pcm, kFrameSamples, 0);
      REQUIRE(n == kFrameSamples);
      y.insert(y.end(), pcm, pcm + n);
    }
    const double c = correlation(x, y, kRate / 100);
    INFO("at " << users[r]->name() << ": " << got.size() << " frames, correlation " << c);
    CHECK(c > 0.9);
  }
}

// A synthetic picture: the chat example's test pattern (examples/chat/media_signal.h), a diagonal
// gradient with a bright square moving across it.
std::vector<std::uint8_t> picture(int frame) {
  std::vector<std::uint8_t> y(static_cast<std::size_t>(kWidth * kHeight));
  for (int r = 0; r < kHeight; ++r)
    for (int c = 0; c < kWidth; ++c)
      y[static_cast<std::size_t>(r * kWidth + c)] =
          hush_chat::pattern_luma(frame, r, c, kWidth, kHeight);
  return y;
}

double psnr(const std::vector<std::uint8_t>& a, const vpx_image_t& img) {
  double se = 0;
  for (int r = 0; r < kHeight; ++r)
    for (int c = 0; c < kWidth; ++c) {
      const double d = static_cast<double>(a[static_cast<std::size_t>(r * kWidth + c)]) -
                       img.planes[VPX_PLANE_Y][r * img.stride[VPX_PLANE_Y] + c];
      se += d * d;
    }
  const double mse = se / (kWidth * kHeight);
  return mse == 0 ? 99.0 : 10 * std::log10(255.0 * 255.0 / mse);
}

// Sends kVideoFrames VP8 key frames from users[0] and checks every other participant's decoding.
void video_through_call(const std::vector<std::unique_ptr<User>>& users, const CallId& call) {
  vpx_codec_enc_cfg_t cfg;
  REQUIRE(vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &cfg, 0) == VPX_CODEC_OK);
  cfg.g_w = kWidth;
  cfg.g_h = kHeight;
  cfg.g_timebase = {1, 25};
  cfg.rc_target_bitrate = 800;
  cfg.g_lag_in_frames = 0;
  cfg.g_threads = 1;
  vpx_codec_ctx_t enc;
  REQUIRE(vpx_codec_enc_init(&enc, vpx_codec_vp8_cx(), &cfg, 0) == VPX_CODEC_OK);
  vpx_image_t raw;
  REQUIRE(vpx_img_alloc(&raw, VPX_IMG_FMT_I420, kWidth, kHeight, 1));
  Sfu sfu(11);
  for (const auto& u : users)
    sfu.subscribe(u->address());
  auto media = users[0]->messenger.call_media(call);
  REQUIRE(media);
  std::vector<std::vector<std::uint8_t>> sent;
  for (int f = 0; f < kVideoFrames; ++f) {
    sent.push_back(picture(f));
    for (int r = 0; r < kHeight; ++r)
      std::copy_n(sent.back().data() + r * kWidth, kWidth,
                  raw.planes[VPX_PLANE_Y] + r * raw.stride[VPX_PLANE_Y]);
    for (int p : {VPX_PLANE_U, VPX_PLANE_V})
      for (int r = 0; r < kHeight / 2; ++r)
        std::fill_n(raw.planes[p] + r * raw.stride[p], kWidth / 2, 128);
    REQUIRE(vpx_codec_encode(&enc, &raw, f, 1, VPX_EFLAG_FORCE_KF, VPX_DL_REALTIME) ==
            VPX_CODEC_OK);
    vpx_codec_iter_t iter = nullptr;
    int packets = 0;
    while (const vpx_codec_cx_pkt_t* pkt = vpx_codec_get_cx_data(&enc, &iter)) {
      if (pkt->kind != VPX_CODEC_CX_FRAME_PKT) continue;
      ++packets;
      const Bytes meta = metadata('v', static_cast<std::uint32_t>(f));
      PrefixPort port(sfu, users[0]->address(), meta);
      REQUIRE(media->send_frame(
          port, meta,
          ByteView(static_cast<const std::uint8_t*>(pkt->data.frame.buf), pkt->data.frame.sz)));
    }
    REQUIRE(packets == 1);
  }
  vpx_img_free(&raw);
  vpx_codec_destroy(&enc);
  for (std::size_t r = 1; r < users.size(); ++r) {
    std::size_t refused = 0;
    auto got = receive(sfu, *users[r], call, 'v', refused);
    CHECK(refused == 0);
    CHECK(got.size() >= kVideoFrames * 9 / 10);
    double worst = 99;
    for (const auto& [seq, frame] : got) {
      vpx_codec_ctx_t dec;
      REQUIRE(vpx_codec_dec_init(&dec, vpx_codec_vp8_dx(), nullptr, 0) == VPX_CODEC_OK);
      REQUIRE(vpx_codec_decode(&dec, frame.data(), static_cast<unsigned int>(frame.size()), nullptr,
                               0) == VPX_CODEC_OK);
      vpx_codec_iter_t iter = nullptr;
      const vpx_image_t* img = vpx_codec_get_frame(&dec, &iter);
      REQUIRE(img);
      REQUIRE(static_cast<int>(img->d_w) == kWidth);
      worst = std::min(worst, psnr(sent[seq], *img));
      vpx_codec_destroy(&dec);
    }
    INFO("at " << users[r]->name() << ": " << got.size() << " frames, worst PSNR " << worst);
    CHECK(worst > 30.0);
  }
}

}  // namespace

TEST_CASE("call media: Opus and VP8 through a lossy SFU in a 1:1 call", "[calls][codecs]") {
  LoopbackNetwork net;
  auto [users, call] = make_call(net, {"alice", "bob"});
  audio_through_call(users, call);
  video_through_call(users, call);
}

TEST_CASE("call media: Opus and VP8 through a lossy SFU in a 3-person call", "[calls][codecs]") {
  LoopbackNetwork net;
  auto [users, call] = make_call(net, {"alice", "bob", "carol"});
  audio_through_call(users, call);
  video_through_call(users, call);
  // Altered on the way: a frame that does not authenticate is refused, nothing is decoded.
  auto media = users[0]->messenger.call_media(call);
  const Bytes meta = metadata('a', 1000);
  auto frame = media->encrypt_frame(meta, as_bytes("an opus packet"));
  REQUIRE(frame);
  (*frame)[frame->size() - 1] ^= 1;
  CHECK(users[1]->messenger.call_media(call)->decrypt_frame(meta, *frame).error().code() ==
        Errc::kAuthenticationFailed);
}
