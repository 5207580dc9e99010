/// @file
/// Calls: signalling inside the encryption, per-call media keys, and the media interface.
///
/// Signalling. A call's messages (offer, answer, ringing, busy, the application's signals such as
/// ICE candidates, hangup, the participant list, the participants' keys) travel as contents of
/// Messenger envelopes over the 1:1 sessions (proto/content.proto CallMessage), so they are
/// authenticated and encrypted like messages: a forged or altered offer does not decrypt and
/// rings nobody. Calls are addressed by person (a name) and device; there is no phone number. The
/// application's own signalling (an SDP offer or answer, ICE candidates) travels as an opaque
/// payload of at most kMaxCallPayloadBytes.
///
/// Flow. The caller (the call's host) sends an offer to every device of every person it calls;
/// each device rings (CallEventType::kIncoming) and tells the host it rings. The first device of a
/// person to answer wins: it tells its own other devices, which stop ringing
/// (kAnsweredElsewhere), and the host, which admits it to the call and tells any later device of
/// the same person that the call was answered elsewhere. A device that is already in a call
/// answers an offer with busy and does not ring (kMissed); so does one for an offer from a person
/// whose identity change is unresolved (Messenger::identity_change: it could not be answered).
/// One call rings per caller (a person, any of its devices): a newer offer from the same person
/// ends the older one here (kEnded; its host hears busy), as a person who calls again has most
/// likely given up the first call. Calling out (start_call) ends every call ringing here (their
/// callers hear busy), as a phone stops ringing when its user dials instead. The host keeps the
/// participant list (one device per person, each with an index the host never reuses in the
/// call) and sends it to every participant whenever it changes; participants accept a list only
/// from the host's device.
/// Hanging up leaves the call; when the host hangs up, or only one participant is left, the call
/// ends for everyone. The host can remove a person (remove_from_call).
///
/// Keys. Each participant draws a fresh random base key (kCallBaseKeyBytes) whenever the
/// participant list changes (it joins, someone joins, someone leaves or is removed), numbers it
/// with its next epoch, and sends it end to end, over the sessions, only to the participants then
/// listed. The media are encrypted with SFrame (sframe.h, AES_128_GCM_SHA256_128) under that key;
/// the SFrame key id packs the sender and the key generation:
///
///     key_id = epoch * 256 + index      (index: the sender's participant index, 0..254;
///                                        epoch: the sender's key generation, from 0)
///
/// so a newcomer holds no key that encrypted what was sent before it joined, and one who left (or
/// was removed) holds no key that encrypts what is sent after the others applied the change. A
/// receiver keeps a sender's previous key for frames still in flight: until kCallOldKeyFrames
/// frames under the new one or kCallOldKeyMs (by the Messenger's clock) have passed, whichever
/// comes first; when someone left or was removed, not at all. All keys of a call are wiped when it
/// ends. The host numbers its participant lists (a rising version): a list not newer than the one
/// applied, or one listing again someone who left, is ignored, and the host's key drawn for a list
/// is used only once that list arrived. A person with an
/// unresolved identity change (Messenger::identity_change) cannot be called, cannot be admitted
/// and is sent no key (kCallPartyUntrusted).
///
/// Calls are ephemeral: their state is in memory only (at most kMaxCalls at once; when full, a new
/// offer ends the oldest one still ringing, with kEnded, and its caller hears busy), never in the
/// store; a restart forgets every call (the application hangs up and calls again).
///
/// Keys that arrive before their sender is listed here (the relay reordered a newcomer's key and
/// the host's list) are held until the list comes: one per person (its newest), at most
/// kMaxCallParticipants, and only from whom may still join: at the host, the people it invited; at
/// a participant (which does not know whom the host invited), anyone not listed and not gone.
/// Keys from a person who left, from another device of a listed person, or (at the host) from
/// someone not invited are taken and ignored.
///
/// What a server (the relay carrying the signalling and the SFU forwarding frames) can still do:
/// see that devices exchange call messages (their sizes and timing), drop or delay them (a call
/// that does not connect, a key that does not arrive: frames under it are refused as
/// kUnknownKeyId), see every frame's size, timing, sender index, epoch and counter, drop, reorder
/// or replay frames (replays are refused), and keep forwarding frames to one who left (who
/// decrypts none sent under the new keys). Dropping a participant list leaves its receivers on
/// the list before (they do not take the host's next key until the list arrives). It cannot read
/// signalling or media, ring a device with an offer of its own, bring back a removed participant by
/// delivering an old list late, or join a call; an offer it holds back for longer than
/// kMaxCallOfferAgeMs, or delivers after the call's hangup, is reported missed and does not ring.
/// Call messages that arrive after the call ended here are taken (their ratchet step committed)
/// and ignored. Withholding a caller's hangups leaves at most one of its calls ringing.
///
/// What a participant can still do: forge frames under any key it holds (SFrame has no per-sender
/// authentication, RFC 9605 §7.2), and, as host, admit or remove whom it likes. One who left or
/// was removed can forge frames only until the others applied the change: then every key it held
/// is gone (previous keys are not kept across a leaving). What anyone told a call's id can do:
/// kMaxCallParticipants people (not one person's devices) sending keys for it can push a
/// newcomer's early key out at a participant (not at the host), which then reads that newcomer only
/// from its next key; several people calling can keep up to kMaxCalls calls ringing.
///
/// Not responsible for: sockets, codecs, audio or video devices, jitter buffers, NAT traversal
/// (the application's media stack; its signalling travels in the payload), or ringing timeouts
/// (hang up after a while).
///
/// Thread-safety: CallMedia is synchronised (a mutex): media threads may encrypt and decrypt while
/// the Messenger's thread changes its keys. A MediaTransport is called from the thread that calls
/// CallMedia::send_frame. Everything else is a plain value.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include <hush/address.h>
#include <hush/bytes.h>
#include <hush/result.h>
#include <hush/secret.h>
#include <hush/sframe.h>

namespace hush {

/// A call's id: 16 random bytes chosen by its host.
using CallId = std::array<std::uint8_t, 16>;

/// The size of a participant's base key for a call.
inline constexpr std::size_t kCallBaseKeyBytes = 32;

/// The cipher suite of call media.
inline constexpr SframeCipherSuite kCallCipherSuite = SframeCipherSuite::kAes128GcmSha256_128;

/// The SFrame key id of participant `index`'s key of generation `epoch` (see the header comment).
constexpr std::uint64_t call_key_id(std::uint32_t index, std::uint64_t epoch) noexcept {
  return epoch * 256 + index;
}

/// One participant of a call, as its host lists it.
struct CallParticipant {
  /// The participant's device (the one that answered; the host's for the host).
  Address device;
  /// Its index in the call (0 for the host; never reused within a call).
  std::uint32_t index = 0;
  /// Participants are equal when device and index are.
  friend bool operator==(const CallParticipant&, const CallParticipant&) = default;
};

/// What happened to a call, as Messenger::receive reports it (ReceiveOptions::on_call).
enum class CallEventType : std::uint8_t {
  kIncoming,           ///< An offer: ring (payload: the caller's offer). Answer or hang up.
  kRinging,            ///< A device of a callee rings (for the caller).
  kAnswered,           ///< For the host: `from` answered and was admitted (payload: its answer).
                       ///< For a callee: the host admitted us; the call is connected.
  kAnsweredElsewhere,  ///< Another device of ours answered (or the host took another of our
                       ///< devices): stop ringing; the call is forgotten here.
  kBusy,               ///< A callee's device will not ring (in a call, or it ended ours).
  kMissed,             ///< An offer that did not ring: we are in another call, it arrived
                       ///< after its hangup, it was sent more than kMaxCallOfferAgeMs ago, or
                       ///< the caller's identity change is unresolved (see
                       ///< Messenger::identity_change; the caller hears busy).
  kSignal,             ///< The application's signalling (payload), e.g. ICE candidates.
  kParticipants,       ///< The participant list changed (`participants`); keys move on.
  kEnded,              ///< The call ended for us: the host hung up, we were removed, or we were
                       ///< the last one left. Its keys are wiped.
  kLeft,               ///< `from` left the call (hung up, or declined before answering).
};

/// A call event.
struct CallEvent {
  /// What happened.
  CallEventType type = CallEventType::kIncoming;
  /// The call.
  CallId call{};
  /// The device whose message it was (authenticated by the session).
  Address from;
  /// The application's payload it carried (an SDP, ICE candidates), if any.
  Bytes payload;
  /// The participant list after the event (the host's list as last received).
  std::vector<CallParticipant> participants;
};

/// A frame decrypted by CallMedia.
struct DecryptedFrame {
  /// The participant whose key encrypted it (its index and device, as the host listed it).
  CallParticipant sender;
  /// The generation of that key.
  std::uint64_t epoch = 0;
  /// The frame's plaintext.
  SecretBytes plaintext;
};

/// Carries encrypted frames to the call's other participants (through an SFU, say). Supplied by
/// the application; the library opens no sockets. Frames coming back are handed to
/// CallMedia::decrypt_frame by the application.
class MediaTransport {
 public:
  virtual ~MediaTransport() = default;
  /// Sends one encrypted frame of `call` (`header || ciphertext || tag`, RFC 9605). Errors are
  /// the transport's (kTransportFailure); a lost frame is just missing.
  virtual Status send_frame(const CallId& call, ByteView frame) = 0;
};

/// The media keys of one call at one device: encrypts our frames under our current key and
/// decrypts the others' under theirs. Made and kept up to date by the Messenger (call_media());
/// the application holds it through a shared pointer and uses it from its media threads.
/// Synchronised (one mutex).
class CallMedia {
 public:
  /// Media for `call` with no keys yet (the Messenger installs them).
  explicit CallMedia(const CallId& call);
  ~CallMedia();
  CallMedia(const CallMedia&) = delete;
  CallMedia& operator=(const CallMedia&) = delete;

  /// Encrypts one frame under our current key, authenticating `metadata` (the receivers must pass
  /// the same bytes). Errors: kCallEnded (the call ended, or we are not admitted yet: no key),
  /// kFrameTooLarge, kCounterExhausted.
  Result<Bytes> encrypt_frame(ByteView metadata, ByteView plaintext);

  /// encrypt_frame, then hands the frame to `transport`. Errors: encrypt_frame's, the transport's.
  Status send_frame(MediaTransport& transport, ByteView metadata, ByteView plaintext);

  /// Decrypts a frame another participant sent (untrusted input). Errors: kCallEnded,
  /// kFrameTooLarge, kMalformedHeader, kUnknownKeyId (no key for it: not yet arrived, wiped
  /// because its sender left or moved on, or never given to us), kReplayedFrame,
  /// kAuthenticationFailed (altered, or forged). Only a success changes state.
  Result<DecryptedFrame> decrypt_frame(ByteView metadata, ByteView frame);

  /// The call.
  const CallId& call() const noexcept { return call_; }
  /// False once the call ended (keys wiped).
  bool active() const;
  /// Our current key's SFrame key id, if we have one.
  std::optional<std::uint64_t> own_key_id() const;
  /// How many keys of others are held (current and previous ones).
  std::size_t key_count() const;

  /// Messenger use: our new key (replaces the previous one).
  Status set_own_key(const CallParticipant& self, std::uint64_t epoch, SecretBytes key);
  /// Messenger use: participant `who`'s key of `epoch`; its previous key is kept for
  /// kCallOldKeyFrames frames under the new one or kCallOldKeyMs (set_clock), whichever is first,
  /// and not at all after a removal. Keys of an older epoch than held are ignored.
  Status add_key(const CallParticipant& who, std::uint64_t epoch, SecretBytes key);
  /// Messenger use: wipes every key of the participant with index `index` (it left), and every
  /// other sender's previous key; each sender's current key goes when its next one arrives.
  void remove_participant(std::uint32_t index);
  /// Messenger use: wipes every key; later calls fail with kCallEnded.
  void end();
  /// Messenger use: the clock previous keys are retired by (kCallOldKeyMs; the Messenger's). Until
  /// set, previous keys are retired only by kCallOldKeyFrames. end() forgets it.
  void set_clock(std::function<std::uint64_t()> now_ms);

 private:
  struct Peer {
    CallParticipant who;
    std::uint64_t epoch = 0;
    std::optional<std::uint64_t> previous_epoch;
    std::uint64_t frames_since_rekey = 0;
    std::uint64_t previous_until_ms = 0;  // with a clock: when the previous key goes
    bool drop_previous = false;           // someone was removed: the next key replaces at once
  };
  void retire_expired();
  void retire_previous(Peer& peer);

  CallId call_;
  mutable std::mutex mutex_;
  bool ended_ = false;
  std::optional<SframeSender> sender_;
  CallParticipant self_;
  SframeReceiver receiver_{kCallCipherSuite};
  std::vector<Peer> peers_;
  std::function<std::uint64_t()> now_ms_;
};

}  // namespace hush
