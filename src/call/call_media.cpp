// hush: CallMedia (see call.h): one call's SFrame sender and receiver, behind one mutex, with the
// keys the Messenger installs as the participant list changes. Nothing here logs: frames are many,
// and their failures are an attacker's to cause.
#include <hush/call.h>

#include <algorithm>

#include <hush/limits.h>

namespace hush {

CallMedia::CallMedia(const CallId& call) : call_(call) {}

CallMedia::~CallMedia() = default;

bool CallMedia::active() const {
  std::lock_guard lock(mutex_);
  return !ended_;
}

std::optional<std::uint64_t> CallMedia::own_key_id() const {
  std::lock_guard lock(mutex_);
  if (!sender_) return std::nullopt;
  return sender_->key_id();
}

std::size_t CallMedia::key_count() const {
  std::lock_guard lock(mutex_);
  return receiver_.key_count();
}

Result<Bytes> CallMedia::encrypt_frame(ByteView metadata, ByteView plaintext) {
  std::lock_guard lock(mutex_);
  if (ended_ || !sender_) return Error(Errc::kCallEnded, "CallMedia: no key (ended, or not in)");
  return sender_->encrypt(metadata, plaintext);
}

Status CallMedia::send_frame(MediaTransport& transport, ByteView metadata, ByteView plaintext) {
  auto frame = encrypt_frame(metadata, plaintext);
  if (!frame) return frame.error();
  return transport.send_frame(call_, *frame);
}

void CallMedia::retire_previous(Peer& peer) {
  if (!peer.previous_epoch) return;
  (void)receiver_.remove_key(call_key_id(peer.who.index, *peer.previous_epoch));
  peer.previous_epoch.reset();
}

void CallMedia::retire_expired() {
  if (!now_ms_) return;
  const std::uint64_t now = now_ms_();
  for (Peer& p : peers_)
    if (p.previous_epoch && now >= p.previous_until_ms) retire_previous(p);
}

void CallMedia::set_clock(std::function<std::uint64_t()> now_ms) {
  std::lock_guard lock(mutex_);
  if (!ended_) now_ms_ = std::move(now_ms);
}

Result<DecryptedFrame> CallMedia::decrypt_frame(ByteView metadata, ByteView frame) {
  std::lock_guard lock(mutex_);
  if (ended_) return Error(Errc::kCallEnded, "CallMedia: the call ended");
  retire_expired();  // (no state a caller relies on: keys past their time go either way)
  auto plaintext = receiver_.decrypt(metadata, frame);
  if (!plaintext) return plaintext.error();
  // The receiver held the key id, so the header parses and names a listed participant.
  auto header = parse_sframe_header(frame);
  if (!header) return header.error();
  const std::uint64_t kid = header->header.key_id;
  const auto index = static_cast<std::uint32_t>(kid % 256);
  const std::uint64_t epoch = kid / 256;
  auto peer = std::find_if(peers_.begin(), peers_.end(),
                           [&](const Peer& p) { return p.who.index == index; });
  if (peer == peers_.end()) return Error(Errc::kUnknownKeyId, "CallMedia: no such participant");
  if (epoch == peer->epoch && peer->previous_epoch &&
      ++peer->frames_since_rekey >= kCallOldKeyFrames)
    retire_previous(*peer);
  return DecryptedFrame{peer->who, epoch, std::move(*plaintext)};
}

Status CallMedia::set_own_key(const CallParticipant& self, std::uint64_t epoch, SecretBytes key) {
  std::lock_guard lock(mutex_);
  if (ended_) return Error(Errc::kCallEnded, "CallMedia: the call ended");
  auto sender =
      SframeSender::create(kCallCipherSuite, call_key_id(self.index, epoch), std::move(key));
  if (!sender) return sender.error();
  sender_ = std::move(*sender);
  self_ = self;
  return ok_status();
}

Status CallMedia::add_key(const CallParticipant& who, std::uint64_t epoch, SecretBytes key) {
  std::lock_guard lock(mutex_);
  if (ended_) return Error(Errc::kCallEnded, "CallMedia: the call ended");
  if (who.index >= kMaxCallIndices || epoch > (~std::uint64_t{0}) / 256 - 1)
    return Error(Errc::kInvalidArgument, "CallMedia: index or epoch out of range");
  auto peer = std::find_if(peers_.begin(), peers_.end(),
                           [&](const Peer& p) { return p.who.index == who.index; });
  if (peer != peers_.end() && peer->who.device != who.device)
    return Error(Errc::kInvalidArgument, "CallMedia: the index belongs to another device");
  if (peer != peers_.end() && epoch <= peer->epoch) return ok_status();  // old news
  if (auto st = receiver_.add_key(call_key_id(who.index, epoch), std::move(key)); !st) return st;
  if (peer == peers_.end()) {
    peers_.push_back(Peer{who, epoch, std::nullopt, 0});
    return ok_status();
  }
  // The key before the current one goes now; the current one stays for frames in flight (a short
  // while), unless the change was a removal: then the one removed holds it, and it goes too.
  retire_previous(*peer);
  if (peer->drop_previous) {
    (void)receiver_.remove_key(call_key_id(peer->who.index, peer->epoch));
    peer->drop_previous = false;
  } else {
    peer->previous_epoch = peer->epoch;
    peer->previous_until_ms = now_ms_ ? now_ms_() + kCallOldKeyMs : 0;
  }
  peer->epoch = epoch;
  peer->frames_since_rekey = 0;
  return ok_status();
}

void CallMedia::remove_participant(std::uint32_t index) {
  std::lock_guard lock(mutex_);
  auto peer = std::find_if(peers_.begin(), peers_.end(),
                           [&](const Peer& p) { return p.who.index == index; });
  if (peer == peers_.end()) return;
  retire_previous(*peer);
  (void)receiver_.remove_key(call_key_id(peer->who.index, peer->epoch));
  peers_.erase(peer);
  // The one removed holds every other sender's current and previous keys: previous ones go now,
  // and each sender's current one goes as soon as its next key arrives.
  for (Peer& p : peers_) {
    retire_previous(p);
    p.drop_previous = true;
  }
}

void CallMedia::end() {
  std::lock_guard lock(mutex_);
  ended_ = true;
  sender_.reset();
  now_ms_ = nullptr;
  for (Peer& p : peers_) {
    retire_previous(p);
    (void)receiver_.remove_key(call_key_id(p.who.index, p.epoch));
  }
  peers_.clear();
  receiver_ = SframeReceiver(kCallCipherSuite);
}

}  // namespace hush
