// hush-chat: the client of the chat example, an interactive terminal chat over hush-relay, built
// on hush's public API alone (hush::Messenger, hush::SqliteStore), with libqrencode for link codes.
//
// People and devices: a person (a handle) may have several devices, each a hush-chat with its own
// state directory. A message to a person goes to every device on their signed device list, and a
// copy to every other device of ours, so that all devices of both people show the conversation.
// The first device registers the handle; `hush-chat --link` starts another: it shows a link code
// (as text and as a QR code) and waits at the relay; `/link CODE` on an existing device registers
// the new device at the relay and sends it, sealed, the person's identity, the device list, the
// trusted contacts and the new device's relay token (hush::Messenger::link_device). `/devices`
// lists a person's devices, `/unlink N` removes one of ours.
//
// State: DIR/hush.db (hush::SqliteStore) holds our identity, prekeys, sessions, peers' identities,
// device lists and the Messenger's outbox, and in its application table our handle, our device
// id, our relay account token, the conversation log (the newest 10000 messages, with their marks)
// and the held messages (held.h), the received files not saved yet (chat/file/N: their pointers,
// keys included) and those saved (chat/saved/N); DIR/files/ the files received. With
// HUSH_CHAT_STORAGE_KEY (64 hex digits) the database is sealed with that key
// (SqliteStoreOptions::storage_key): private keys, sessions and all of the application table (log
// included) are encrypted at rest (not the files in DIR/files/: they are the user's, saved
// plain, like a browser's downloads). A received plaintext is written to the log inside the
// transaction that commits the session it advanced (ReceiveOptions::before_commit + put_app_data),
// and only then acknowledged to the relay: a crash can never lose a message (the relay delivers it
// again; the library shows it once; it is already in the log). A database found restored from an
// older copy (rollback_check) is reported at start: the library has restarted every session.
//
// The relay is untrusted: it carries envelopes, device lists and link messages and hands out
// bundles, and hush checks all of them. It names the sender of each delivery by the device
// account it received the envelope from, and we pass that to the Messenger
// (ReceiveOptions::authenticated_name and authenticated_device): an envelope that names somebody
// else is dropped unread (sender_mismatch), so no account can pose as another. An identity key
// that differs from the trusted one (a peer that reinstalled, or a relay in the middle) stops
// sending to that peer, is shown in a box with both keys and both safety numbers, and holds that
// peer's incoming messages, durably and bounded (held.h), until the user types /trust. A forged
// message (one that does not authenticate) is invalid_message: dropped, never held.
//
// Groups and files: /group new|add|remove|leave and /g drive the Messenger's groups (sender keys;
// changes end to end, applied only from an admin; a removed member gets no later key). /send
// encrypts a file with hush::upload_attachment_file into the relay's blob store (RelayLink is the
// hush::BlobStore: BLOB_PUT, BLOB_CHUNK, BLOB_GET; BLOB_DELETE when the message was not sent)
// and sends the pointer inside the message; a received file's pointer is stored with the message
// (one transaction), then the file is fetched and checked by hush::download_and_decrypt into
// DIR/files/ from the main loop (synchronously, one at a time, at most --max-file-bytes unless
// /save asked; within --files-quota; a blob saved already is not fetched again). Receipts: the
// Messenger sends a delivery receipt when a message is stored (--receipts), hush-chat a read
// receipt when it prints one; receipts that come raise the mark of our message in the log
// (chat/mid/ID -> its entry; a group message's per recipient, chat/to/ID, from those it went to
// only) and print a line once per message, person and kind.
//
// Offline and healing: a message typed while the relay is unreachable stays in the Messenger's
// outbox and is sent when hush-chat reconnects (it flushes the outbox then, and every
// kFlushInterval). A device that cannot decrypt a message (its peer reinstalled, restored a copy)
// asks the sender's device to send it again; the sender's hush-chat does so without the user
// (after /trust, if the asking device has a new identity); each message shows once.
//
// Output lines (stable, for scripts and tests; colours only on a terminal):
//   * registered NAME at HOST:PORT | * connected to HOST:PORT as NAME[ (device N)]
//   * recovered NAME at HOST:PORT   (--recover: the handle is ours again, under our new identity)
//   * recovery code for NAME: XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX; write it down: ...
//   [me -> PEER] TEXT               a message we sent from this device (the relay has it on disk
//                                   for at least one of PEER's devices)
//   [me:N -> PEER] TEXT             a message we sent from our device N (its copy)
//   [PEER] TEXT                     a message we received from PEER's device 1
//   [PEER:N] TEXT                   a message we received from PEER's device N (N > 1)
//   * queued: [me -> PEER] TEXT (the relay is unreachable); it will be sent when the relay is back
//   * not yet delivered to PEER:N, me:M (REASON); kept, and sent later
//   * sent N queued deliveries      (the outbox was flushed: after a reconnect, a /trust...)
//   * safety number with PEER: DDDDD DDDDD ... (12 groups of 5 digits)
//   * link code: HUSHLINK1-...      (--link; a QR code of the same text is printed above it)
//   * linked: this is device N of NAME (...)          (--link, once the link message opened)
//   * linked device N of NAME: ...                    (/link CODE, on the existing device)
//   * NAME's devices: 1 (this device), 2 (signed list version V)
//   * unlinked device N of NAME: ...
//   !! ... WARNING: PEER's identity key has CHANGED ...   (a box of lines starting with "!!")
//   ! ...                           an error, in words with the library's name for it in
//                                   parentheses (e.g. "! message to bob not sent: their identity
//                                   key changed, and the new one is not trusted yet
//                                   (untrusted_identity); ...",
//                                   "! dropped a message from mallory: it names alice as its
//                                   sender (sender_mismatch)", "! another message from alice is
//                                   held until you /trust alice", "! this state was restored from
//                                   an older copy: ...", "! the relay refused alice: ...")
//   [me -> #GROUP] TEXT  (✓ 14:31)   a group message we sent; [#GROUP] PEER: TEXT  (14:31) one we
//   got Every message line ends with its send time (the sender's clock) in parentheses, and ours
//   with the mark: "queued", ✓ (the relay has it), ✓✓ (a device of the recipient stored it),
//   ✓✓ read. A receipt that raises a mark prints a line of its own:
//   ✓✓ delivered: "TEXT" to PEER | ✓✓ read: "TEXT" by PEER  (" in #GROUP" for group messages)
//   * [#GROUP] alice added carol | removed carol | carol left | ... (group changes, in words)
//   * file from PEER: "NAME" (N bytes) saved as DIR/files/NAME   (received files)
//   * file from PEER: "NAME" (N bytes) not fetched: larger than ... (--max-file-bytes); /save ID
//     fetches it                      (a file over the cap: it waits for /save ID)
//   * calling NAME... | * call from PEER rings: /answer or /hangup | * PEER rings
//   * call connected[ (PEER answered)] | * media flowing (...) through the relay
//   * PEER joined the call | * PEER left the call | * in the call: alice, bob:2, carol
//     (group calls: a later answer, at the host; someone hung up; the host's list changed)
//   * the call from NAME was answered on another device: stopped ringing
//   * call with NAME ended|hung up|declined[: sent N audio and M video frames, received ...]
// Exit status: 0; 1 usage, start-up or connection error (also: the relay no longer accepts this
// device); 2 a scripted command failed (the script went on); 3 a /wait timed out.
//
// Files: chat.cpp (this: commands, deliveries, linking, the Messenger's transport and directory),
// held.{h,cpp} (held messages), net.{h,cpp} (the I/O thread, keepalive pings),
// terminal.{h,cpp} (line editing, output), frame.{h,cpp} (wire), connection.{h,cpp} (framed Asio
// connection), media.{h,cpp} (a call's voice and video over UDP).
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <qrencode.h>

#include <hush/hush.h>

#include "frame.h"
#include "held.h"
#include "media.h"
#include "net.h"
#include "terminal.h"

namespace hush_chat {
namespace {

constexpr std::string_view kUsage =
    R"(usage: hush-chat --state DIR --relay HOST:PORT [--handle NAME] [--recover CODE]
                 [--script FILE] [--timeout S] [--receipts all|delivered|none]
                 [--max-file-bytes N] [--files-quota N]
       hush-chat --state DIR --relay HOST:PORT --link [--script FILE] [--timeout S]

An end-to-end encrypted chat client (hush, Signal protocol v4: post-quantum) over hush-relay. The
first start with a new DIR creates DIR/hush.db with a new identity, registers NAME at the relay
(as its device 1), shows NAME's recovery code once, and publishes our keys; later starts reuse DIR
(--handle may then be left out). A person may have several devices: what they send and receive
shows on all.

  --state DIR        our state directory (created if missing)
  --relay HOST:PORT  the relay: its host and port (hush-relay has no default port; it prints
                     "listening HOST:PORT" when it starts)
  --handle NAME      our handle: 1 to 32 of A-Z a-z 0-9 _ . - (case does not matter: handles
                     are kept in lowercase, so Bob and bob are one person)
  --link             make DIR a new device of a person who has hush-chat on another device:
                     shows a link code (text and QR code) and waits at the relay; type
                     /link CODE on the other device. Then goes on as that person's new device.
  --recover CODE     take NAME back after losing its state: with a new DIR, --handle NAME and the
                     recovery code shown when NAME was registered (or last recovered). The relay
                     then binds NAME's device 1 to this DIR, removes NAME's other devices, and
                     shows a new code; your contacts see your new identity as an identity change,
                     and send again (after /trust) what they wrote while you were away.
  --script FILE      run the commands in FILE (one per line; lines starting with # are comments
                     there), then quit; without it, commands come from standard input (edited
                     on the terminal if it is one)
  --timeout S        how long to wait for the relay's replies (default 10 seconds)
  --receipts WHICH   the receipts we send: all (default: delivered when a message is stored,
                     read when it is shown), delivered, or none. Receipts we get are shown
                     whatever this says.
  --max-file-bytes N received files of at most N bytes (default 104857600, 100 MiB) are
                     fetched and saved by themselves; a larger one is announced with an id,
                     and fetched by /save ID
  --files-quota N    DIR/files/ holds at most N bytes (default 4294967296, 4 GiB): a file that
                     would go beyond waits for /save ID (after you made room)
  --call-audio FILE  the voice our calls send: a WAV file of 16-bit PCM at 48 kHz (looped);
                     default a generated speech-like signal. (There is no microphone or camera:
                     video is a generated test pattern.)
  --call-seconds N   hang up a call N seconds after it connected (default: when /hangup)

environment:
  HUSH_CHAT_STORAGE_KEY  64 hex digits (a 32-byte key): DIR/hush.db is created sealed with it,
                     and must then always be opened with it (private keys, sessions, the
                     conversation log and held messages are encrypted at rest). Keep the key
                     somewhere else than DIR (a password manager, the OS keystore).

commands:
  /msg NAME TEXT     send TEXT to every device of NAME, and a copy to our other devices; once
                     sent, plain lines go to NAME too (the prompt shows "to NAME> "). Typed while
                     the relay is unreachable, it is kept and sent when hush-chat reconnects.
  TEXT               a line that is not a command goes to the person of the last /msg, as typed
                     (leading spaces kept; a line starting with # too). To send a text that
                     starts with /, double the slash: //TEXT sends /TEXT. A line longer than
                     81920 bytes is refused whole.
  /verify NAME       show the safety number with NAME: compare it with NAME's, in person;
                     and whether the conversation is post-quantum (Signal v4)
  /trust NAME        accept NAME's new identity key after an identity change (compare first!)
  /keep NAME         keep NAME's trusted key after an identity change you did not accept (the
                     change stays pending, across restarts, until /trust or /keep)
  /devices [NAME]    the devices on NAME's signed device list (ours without NAME)
  /link CODE         add the device that shows CODE (hush-chat --link) as a device of ours
  /unlink N          remove our device N (from our device list, and from the relay)
  /history [N]       show the last N (default 20) messages of the conversation log
  /history NAME [N]  ... of the conversation with NAME (a person, or #GROUP)
  /group new GROUP NAME...   make a group of us and the people NAME... (we are its admin); GROUP:
                     1 to 32 of A-Z a-z 0-9 _ . - (written #GROUP elsewhere)
  /group add GROUP NAME      add NAME to the group (admins only)
  /group remove GROUP NAME   remove NAME from the group (admins only): NAME gets nothing sent
                     to the group from then on
  /group leave GROUP         leave the group
  /groups            our groups, the start of their ids and their members (* an admin; groups
                     we left are marked). A name several groups have means the one we made;
                     #?ID (the start of a group's id, as /groups shows it) names any group
  /g GROUP TEXT      send TEXT to the group; shown as [#GROUP] NAME: TEXT at its members
  /send NAME FILE    send the file FILE to NAME (or to #GROUP): encrypted here, stored at the
                     relay as ciphertext, its key sent inside the message; at most 2 GiB.
                     Received files are saved in DIR/files/ (the sender's name for it, made
                     safe; never replacing a file: "name (1).ext"); a file saved already (the
                     same ciphertext) is not fetched again
  /save [ID]         fetch and save the received file ID (one over --max-file-bytes or the
                     quota, or one whose download failed); without ID: list those waiting
  /call NAME         call NAME (every device of NAME rings; the first to answer takes the call)
  /call #GROUP       call the members of GROUP
  /answer            answer the call that rings here (our other devices stop ringing)
  /hangup            leave the call, or decline the one that rings (the host's hangup ends it)
                     Calls carry Opus voice and VP8 video (160x120) through the relay over UDP,
                     encrypted with the call's keys (the relay cannot read them); what arrives
                     is written to DIR/calls/call-received-NAME-DEVICE.wav and .y4m
  /wait call ringing|connected|ended|left [S]   (scripts) wait until a call rings here, is
                     connected, has ended, or someone left ours (at most S seconds, default 30)
  /wait call video N [S]   (scripts) until N video frames of each other participant have been
                     decoded here since the participant list last changed
  /reset NAME        forget the sessions with NAME's devices (NAME's identity stays trusted); the
                     next message fetches new bundles. For demonstrations and tests.
  /wait N [S]        (scripts) wait until N messages have arrived since start (at most S
                     seconds, default 30)
  /sync              (scripts) show everything the relay has queued for us by now
  /help              this text
  /quit              leave (also Ctrl-D, Ctrl-C)
)";

constexpr std::string_view kHandleKey = "chat/handle";
constexpr std::string_view kTokenKey = "chat/token";
// Set once the relay has welcomed this state's account: --recover is for a new state only (a
// recovery drops the account's queued envelopes and keys).
constexpr std::string_view kRegisteredKey = "chat/registered";
constexpr std::string_view kLogNextKey = "chat/log/next";
// Our device id (u64; absent in a state from before devices, which is device 1).
constexpr std::string_view kDeviceKey = "chat/device";
// The ids of the groups we made (16 bytes each): a name another group has too means ours.
constexpr std::string_view kOwnGroupsKey = "chat/own-groups";
constexpr auto kConnectTimeout = std::chrono::seconds(10);
constexpr auto kMaintenanceInterval = std::chrono::hours(1);
// How often the outbox is flushed while connected (besides after every reconnect and /trust):
// what a transport refused in between (a relay that refused a moment, a device that had no keys
// yet) goes out within half a minute.
constexpr auto kFlushInterval = std::chrono::seconds(30);
// The longest wait between two attempts to reach the relay again.
constexpr auto kMaxBackoff = std::chrono::seconds(30);
constexpr auto kCloseTimeout = std::chrono::seconds(3);
constexpr std::size_t kMaxInputLine = std::size_t{80} << 10;

struct Options {
  std::string state;
  std::string host;
  std::string port;
  std::string handle;
  std::string script;
  std::optional<Bytes> recover;
  bool link = false;
  std::chrono::milliseconds timeout{10000};
  bool delivery_receipts = true;  // --receipts all|delivered|none
  bool read_receipts = true;
  // Received files: the largest saved without asking (--max-file-bytes), and the most DIR/files/
  // may hold (--files-quota).
  std::uint64_t max_file_bytes = std::uint64_t{100} << 20;
  std::uint64_t files_quota = std::uint64_t{4} << 30;
  std::string call_audio;          // --call-audio FILE.wav
  std::uint32_t call_seconds = 0;  // --call-seconds N (0: until /hangup)
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "hush-chat: %s\n(hush-chat --help for usage)\n", message.c_str());
  std::exit(1);
}

Options parse_options(int argc, char** argv) {
  Options o;
  std::string relay;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(std::string(arg) + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage.data(), stdout);
      std::exit(0);
    } else if (arg == "--state") {
      o.state = value();
    } else if (arg == "--relay") {
      relay = value();
    } else if (arg == "--handle") {
      // Handles are compared without regard to case: "Bob" is bob.
      o.handle = normalize_handle(value());
      if (!valid_handle(o.handle)) usage_error("--handle: 1 to 32 of A-Z a-z 0-9 _ . -");
    } else if (arg == "--recover") {
      o.recover = parse_recovery_code(value());
      if (!o.recover)
        usage_error("--recover: a recovery code is 32 of A-Z 2-7 (in groups, as it was shown)");
    } else if (arg == "--link") {
      o.link = true;
    } else if (arg == "--receipts") {
      const std::string v = value();
      if (v == "all") {
        o.delivery_receipts = o.read_receipts = true;
      } else if (v == "delivered") {
        o.delivery_receipts = true;
        o.read_receipts = false;
      } else if (v == "none") {
        o.delivery_receipts = o.read_receipts = false;
      } else {
        usage_error("--receipts: all, delivered or none");
      }
    } else if (arg == "--max-file-bytes" || arg == "--files-quota") {
      const std::string v = value();
      char* end = nullptr;
      const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || v[0] == '-' || n > (std::uint64_t{1} << 50))
        usage_error(std::string(arg) + ": a number of bytes");
      (arg == "--files-quota" ? o.files_quota : o.max_file_bytes) = n;
    } else if (arg == "--call-audio") {
      o.call_audio = value();
    } else if (arg == "--call-seconds") {
      const std::string v = value();
      char* end = nullptr;
      const long s = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || s < 1 || s > 86400)
        usage_error("--call-seconds: seconds, from 1 to 86400");
      o.call_seconds = static_cast<std::uint32_t>(s);
    } else if (arg == "--script") {
      o.script = value();
    } else if (arg == "--timeout") {
      const std::string v = value();
      char* end = nullptr;
      const long s = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || s < 1 || s > 3600)
        usage_error("--timeout: seconds, from 1 to 3600");
      o.timeout = std::chrono::seconds(s);
    } else {
      usage_error("unknown argument: " + std::string(arg));
    }
  }
  if (o.state.empty()) usage_error("--state DIR is required");
  if (o.recover && o.handle.empty()) usage_error("--recover needs --handle NAME");
  if (o.link && (o.recover || !o.handle.empty()))
    usage_error("--link takes no --handle or --recover: the link brings the handle");
  if (relay.empty()) usage_error("--relay HOST:PORT is required (hush-relay prints its port)");
  const auto colon = relay.rfind(':');
  if (colon == std::string::npos || colon + 1 == relay.size()) {
    usage_error("--relay " + relay + ": the port is missing; give HOST:PORT, e.g. " +
                (colon == std::string::npos ? relay : relay.substr(0, colon)) +
                ":7300 (hush-relay has no default port: it prints the one it listens on, "
                "'listening HOST:PORT', when it starts)");
  }
  if (colon == 0) usage_error("--relay " + relay + ": the host is missing; give HOST:PORT");
  o.host = relay.substr(0, colon);
  o.port = relay.substr(colon + 1);
  if (!std::all_of(o.port.begin(), o.port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      o.port.size() > 5)
    usage_error("--relay: the port must be a number");
  return o;
}

// What a library error means, in words (with the library's name for it in parentheses, for
// searching and for bug reports).
std::string code_name(const hush::Error& e) {
  using hush::Errc;
  std::string words;
  switch (e.code()) {
    case Errc::kInvalidArgument:
      words = "the request was not valid";
      break;
    case Errc::kInvalidMessage:
      words = "the message is damaged or forged, or cannot be read with the keys we have";
      break;
    case Errc::kInvalidProtobuf:
      words = "the message is garbled";
      break;
    case Errc::kInvalidVersion:
      words = "the message is from a newer version";
      break;
    case Errc::kLegacyMessage:
      words = "the message is from an old, unsupported version";
      break;
    case Errc::kInvalidKey:
      words = "a key is malformed";
      break;
    case Errc::kInvalidKeyId:
      words = "the message uses one of our keys that is gone (already used, or replaced)";
      break;
    case Errc::kInvalidSignature:
      words = "a signature does not verify";
      break;
    case Errc::kNoSession:
      words = "no secure session, and no keys to start one";
      break;
    case Errc::kUntrustedIdentity:
      words = "their identity key changed, and the new one is not trusted yet";
      break;
    case Errc::kDuplicateMessage:
      words = "the message was already received";
      break;
    case Errc::kTooFarInFuture:
      words = "the message skips too many messages ahead";
      break;
    case Errc::kCorruptState:
      words = "our stored state is damaged";
      break;
    case Errc::kStoreFailure:
      words = "our state could not be read or written (disk full? permissions?)";
      break;
    case Errc::kCryptoFailure:
      words = "the cryptography library failed";
      break;
    case Errc::kTransportFailure:
      words = "the relay did not take it";
      break;
    case Errc::kLimitExceeded:
      words = "it is over a limit";
      break;
    case Errc::kUnsupported:
      words = "this version cannot do that";
      break;
    case Errc::kWrongStorageKey:
      words = "the state is sealed with another storage key";
      break;
    case Errc::kSenderMismatch:
      words = "it names another sender than the account that sent it";
      break;
    case Errc::kStoreRolledBack:
      words = "our state was put back to an older copy";
      break;
    case Errc::kStaleDeviceList:
      words = "the relay served an older device list than one already seen";
      break;
    case Errc::kUnknownDevice:
      words = "the device is not on its owner's signed device list";
      break;
    case Errc::kNotGroupAdmin:
      words = "only an admin of the group may change it";
      break;
    case Errc::kNotGroupMember:
      words = "not a member of the group";
      break;
    case Errc::kUnknownGroup:
      words = "no such group";
      break;
    case Errc::kStaleGroupRevision:
      words = "the group changed meanwhile (an older or repeated change)";
      break;
    case Errc::kAttachmentTooLarge:
      words = "the file is too large (at most " + std::to_string(hush::kMaxAttachmentBytes >> 30) +
              " GiB)";
      break;
    case Errc::kDigestMismatch:
      words = "the relay served other bytes than the file sent";
      break;
    case Errc::kAttachmentCorrupt:
      words = "the file does not decrypt (damaged by its sender)";
      break;
    default:
      words = "it failed";
      break;
  }
  return words + " (" + std::string(hush::to_string(e.code())) + ")";
}

std::string text_of(hush::ByteView b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

hush::Bytes u64_bytes(std::uint64_t v) {
  hush::Bytes out(8);
  for (int i = 0; i < 8; ++i)
    out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (56 - 8 * i));
  return out;
}

std::optional<std::uint64_t> read_u64(const hush::Bytes& b) {
  if (b.size() != 8) return std::nullopt;
  std::uint64_t v = 0;
  for (std::uint8_t x : b)
    v = v << 8 | x;
  return v;
}

// "12345 67890 ..." : the 60 digits in 12 groups of five, as Signal shows them.
std::string grouped(const std::string& digits) {
  return hush::group_safety_number(digits);
}

std::string key_hex(const hush::PublicKey& key) {
  const auto bytes = key.serialize();
  return hush::to_hex(bytes);
}

std::vector<std::string> split_words(std::string_view s, std::size_t max_words) {
  // The first max_words-1 words, then the rest of the line (trimmed) as the last.
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < s.size() && words.size() + 1 < max_words) {
    while (i < s.size() && s[i] == ' ')
      ++i;
    if (i == s.size()) break;
    const std::size_t end = std::min(s.find(' ', i), s.size());
    words.emplace_back(s.substr(i, end - i));
    i = end;
  }
  while (i < s.size() && s[i] == ' ')
    ++i;
  if (i < s.size()) words.emplace_back(s.substr(i));
  return words;
}

// ---- the state directory ----

// Locks DIR (so that one hush-chat at a time uses it) and opens or creates DIR/hush.db.
class StateDir {
 public:
  explicit StateDir(const std::string& path) {
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
      usage_error("cannot create '" + path + "': " + std::strerror(errno));
    fd_ = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_ < 0) usage_error("cannot open '" + path + "': " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0)
      usage_error("'" + path + "' is in use by another hush-chat");
  }
  ~StateDir() { ::close(fd_); }
  StateDir(const StateDir&) = delete;
  StateDir& operator=(const StateDir&) = delete;

 private:
  int fd_ = -1;
};

// HUSH_CHAT_STORAGE_KEY: the key DIR/hush.db is sealed with, if set. Our copy is wiped when done
// (the store keeps its own).
class StorageKey {
 public:
  StorageKey() {
    const char* hex = std::getenv("HUSH_CHAT_STORAGE_KEY");
    if (hex == nullptr || *hex == '\0') return;
    auto bytes = hush::from_hex(hex);
    if (!bytes || bytes->size() != 32) {
      if (bytes) hush::secure_wipe(*bytes);
      usage_error("HUSH_CHAT_STORAGE_KEY must be 64 hex digits (a 32-byte key)");
    }
    key_ = std::move(*bytes);
  }
  ~StorageKey() { hush::secure_wipe(key_); }
  StorageKey(const StorageKey&) = delete;
  StorageKey& operator=(const StorageKey&) = delete;
  bool set() const { return !key_.empty(); }
  hush::SqliteStoreOptions options() const {
    hush::SqliteStoreOptions o;
    o.storage_key = key_;
    return o;
  }

 private:
  hush::Bytes key_;
};

// What the relay's refusal reasons mean, for the user.
std::string describe_refusal(const std::string& reason) {
  if (reason == "rate_limited") return "the relay refused: too many bundle requests";
  if (reason == "queue_full") return "the relay refused: the recipient's mailbox is full";
  if (reason == "sender_share_full")
    return "the relay refused: too many of our messages already wait in the recipient's mailbox";
  if (reason == "identity_locked")
    return "the relay refused: another identity is published for our handle";
  if (reason == "wrong_recovery_code") return "the relay refused: wrong recovery code";
  if (reason == "unknown_device") return "the relay refused: no such device";
  if (reason == "stale_device_list")
    return "the relay refused: it holds a newer device list of ours";
  if (reason == "blob_too_large") return "the relay refused: the file is larger than it takes";
  if (reason == "blob_store_full") return "the relay refused: it stores no more files for us";
  if (reason == "unknown_blob") return "the relay has no such file (deleted, or expired)";
  if (reason == "blob_incomplete")
    return "the relay has that file only in part (its upload is unfinished)";
  if (reason == "invalid_blob_offset" || reason == "invalid_blob_chunk" ||
      reason == "blob_complete")
    return "the relay refused a piece of the file (" + reason + ")";
  if (reason == "mailbox_busy") return "the relay refused: that link mailbox is in use";
  if (reason == "relay_busy" || reason == "too_many_links")
    return "the relay refused: too many links waiting; try again later";
  return "the relay refused: " + printable(reason);
}

// ---- the conversation log (in the store's application table) ----
//
// chat/log/next: the number of entries ever written (u64); chat/log/N: entry N. The newest
// kMaxLogEntries are kept: writing entry N erases entry N - kMaxLogEntries (and its id's index).
// An entry: the format byte 'M', the direction ('i' in, 'o' out), the conversation (one length
// byte, then a person's name, or '#' and a group id in hex), the sender (length byte and name;
// a group message's author, else empty), the message id (length byte, 16 bytes), the send time
// (u64, milliseconds since the epoch, the sender's clock), the mark (one byte: Mark), the text.
// Entries of the first format (no 'M': direction, name, text) are still read.
// chat/mid/HEX (u64): the entry of our message with that id, for its receipts.

constexpr std::uint64_t kMaxLogEntries = 10000;

// A message's mark: what the sender knows of it.
enum class Mark : std::uint8_t { kNone = 0, kSent = 1, kDelivered = 2, kRead = 3 };

struct LogEntry {
  char direction = 'i';
  std::string conversation;  // "bob", or "#" + hex group id
  std::string sender;        // a group message's author (empty otherwise)
  Bytes message_id;
  std::uint64_t sent_ms = 0;
  Mark mark = Mark::kNone;
  std::string text;
};

Bytes encode_entry(const LogEntry& e) {
  Bytes out{static_cast<std::uint8_t>('M'), static_cast<std::uint8_t>(e.direction)};
  auto field = [&](std::string_view v) {
    const std::size_t len = std::min<std::size_t>(v.size(), 255);
    out.push_back(static_cast<std::uint8_t>(len));
    out.insert(out.end(), v.begin(), v.begin() + static_cast<std::ptrdiff_t>(len));
  };
  field(e.conversation);
  field(e.sender);
  field(std::string_view(reinterpret_cast<const char*>(e.message_id.data()), e.message_id.size()));
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<std::uint8_t>(e.sent_ms >> shift));
  out.push_back(static_cast<std::uint8_t>(e.mark));
  out.insert(out.end(), e.text.begin(), e.text.end());
  return out;
}

// An entry as stored (our own data, but a damaged file must not crash us: nullopt then).
std::optional<LogEntry> decode_entry(const Bytes& b) {
  LogEntry e;
  std::size_t at = 0;
  auto field = [&](std::string& v) {
    if (at >= b.size() || b.size() - at - 1 < b[at]) return false;
    v.assign(reinterpret_cast<const char*>(b.data()) + at + 1, b[at]);
    at += std::size_t{1} + b[at];
    return true;
  };
  if (b.size() >= 2 && (b[0] == 'i' || b[0] == 'o')) {  // the first format
    e.direction = static_cast<char>(b[0]);
    at = 1;
    if (!field(e.conversation)) return std::nullopt;
    e.text.assign(b.begin() + static_cast<std::ptrdiff_t>(at), b.end());
    return e;
  }
  if (b.size() < 2 || b[0] != 'M' || (b[1] != 'i' && b[1] != 'o')) return std::nullopt;
  e.direction = static_cast<char>(b[1]);
  at = 2;
  std::string id;
  if (!field(e.conversation) || !field(e.sender) || !field(id) || b.size() - at < 9)
    return std::nullopt;
  e.message_id.assign(id.begin(), id.end());
  for (int i = 0; i < 8; ++i)
    e.sent_ms = e.sent_ms << 8 | b[at++];
  e.mark = static_cast<Mark>(std::min<std::uint8_t>(b[at++], 3));
  e.text.assign(b.begin() + static_cast<std::ptrdiff_t>(at), b.end());
  return e;
}

std::string mid_key(hush::ByteView id) {
  return "chat/mid/" + hush::to_hex(id);
}

// chat/to/HEX: the people a group message of ours (id HEX) went to, each with their mark: per
// person one length byte, the name, and the mark (Mark). Only their receipts count.
std::string to_key(hush::ByteView id) {
  return "chat/to/" + hush::to_hex(id);
}

using Recipients = std::vector<std::pair<std::string, Mark>>;

Bytes encode_recipients(const Recipients& r) {
  Bytes out;
  for (const auto& [name, mark] : r) {
    const std::size_t len = std::min<std::size_t>(name.size(), 255);
    out.push_back(static_cast<std::uint8_t>(len));
    out.insert(out.end(), name.begin(), name.begin() + static_cast<std::ptrdiff_t>(len));
    out.push_back(static_cast<std::uint8_t>(mark));
  }
  return out;
}

std::optional<Recipients> decode_recipients(const Bytes& b) {
  Recipients r;
  for (std::size_t at = 0; at < b.size();) {
    const std::size_t len = b[at];
    if (b.size() - at < len + 2) return std::nullopt;
    r.emplace_back(std::string(reinterpret_cast<const char*>(b.data()) + at + 1, len),
                   static_cast<Mark>(std::min<std::uint8_t>(b[at + 1 + len], 3)));
    at += len + 2;
  }
  return r;
}

// "  read by 1 of 2": how many of a group message's recipients read it (or got it).
std::string group_marks(const Recipients& r) {
  std::size_t delivered = 0, read = 0;
  for (const auto& [name, mark] : r) {
    delivered += mark >= Mark::kDelivered ? 1 : 0;
    read += mark >= Mark::kRead ? 1 : 0;
  }
  if (read > 0) return " read by " + std::to_string(read) + " of " + std::to_string(r.size());
  return " delivered to " + std::to_string(delivered) + " of " + std::to_string(r.size());
}

// Appends an entry (inside the caller's transaction, or as its own statements) and forgets the
// one kMaxLogEntries older.
hush::Status log_append(hush::SqliteStore& store, const LogEntry& e) {
  auto next = store.app_data(kLogNextKey);
  if (!next) return next.error();
  const std::uint64_t n = *next ? read_u64(**next).value_or(0) : 0;
  if (n >= kMaxLogEntries) {
    const std::string old_key = "chat/log/" + std::to_string(n - kMaxLogEntries);
    if (auto old = store.app_data(old_key); old && *old) {
      if (auto entry = decode_entry(**old);
          entry && entry->direction == 'o' && !entry->message_id.empty()) {
        if (auto st = store.erase_app_data(mid_key(entry->message_id)); !st) return st;
        if (auto st = store.erase_app_data(to_key(entry->message_id)); !st) return st;
      }
      if (auto st = store.erase_app_data(old_key); !st) return st;
    }
  }
  if (auto st = store.put_app_data("chat/log/" + std::to_string(n), encode_entry(e)); !st)
    return st;
  if (e.direction == 'o' && !e.message_id.empty()) {
    if (auto st = store.put_app_data(mid_key(e.message_id), u64_bytes(n)); !st) return st;
  }
  return store.put_app_data(kLogNextKey, u64_bytes(n + 1));
}

// "14:31" (local time) for a time in milliseconds since the epoch; with the date if not today.
std::string clock_time(std::uint64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  const std::time_t now = std::time(nullptr);
  std::tm when{};
  std::tm today{};
  localtime_r(&t, &when);
  localtime_r(&now, &today);
  char buf[32];
  if (when.tm_year == today.tm_year && when.tm_yday == today.tm_yday) {
    std::strftime(buf, sizeof buf, "%H:%M", &when);
  } else {
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &when);
  }
  return buf;
}

// What follows a message line: its mark (our messages) and its send time, "  (✓ 14:31)".
std::string stamp(std::uint64_t ms, std::optional<Mark> mark) {
  std::string m;
  if (mark) {
    switch (*mark) {
      case Mark::kNone:
        m = "queued ";
        break;
      case Mark::kSent:
        m = "\u2713 ";
        break;
      case Mark::kDelivered:
        m = "\u2713\u2713 ";
        break;
      case Mark::kRead:
        m = "\u2713\u2713 read ";
        break;
    }
  }
  return "  (" + m + clock_time(ms) + ")";
}

std::uint64_t now_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

// A conversation's log key for a group.
std::string group_key(const hush::GroupId& id) {
  return "#" + hush::to_hex(id);
}

// A short quote of a message text, for receipt lines.
std::string short_quote(const std::string& text) {
  std::string t = printable(text);
  if (t.size() > 40) {
    std::size_t cut = 37;
    while (cut > 0 && (static_cast<unsigned char>(t[cut]) & 0xC0) == 0x80)
      --cut;  // (not inside a UTF-8 character)
    t = t.substr(0, cut) + "...";
  }
  return "\"" + t + "\"";
}

// ---- received files ----
//
// chat/file/N: a received file not saved yet, written in the transaction that logs its message (so
// that a failed download, a crash or a full disk never loses it) and erased once the file is
// saved: 'F', a flags byte (1: waits for /save), the sender (one length byte, then the name), and
// the pointer (AttachmentPointer::serialize: the blob id, its key, digest, size and name). It
// holds the file's key: in a sealed database it is sealed like the rest of the application table.
// chat/file/next (u64): the next N. chat/saved/N: a file saved (the blob's SHA-256, then the
// path), the newest kMaxSavedFiles of them, so that a blob saved once is not fetched again;
// chat/saved/next (u64).
constexpr std::string_view kFileNextKey = "chat/file/next";
constexpr std::string_view kSavedNextKey = "chat/saved/next";
constexpr std::string_view kFilePrefix = "chat/file/";
constexpr std::string_view kSavedPrefix = "chat/saved/";
// Files waiting at once (each a few hundred bytes): more are announced and not kept.
constexpr std::size_t kMaxPendingFiles = 1000;
constexpr std::uint64_t kMaxSavedFiles = 10000;

struct PendingFile {
  bool manual = false;  // waits for /save
  std::string from;
  hush::AttachmentPointer pointer;
};

hush::SecretBytes encode_pending(bool manual, const std::string& from,
                                 const hush::AttachmentPointer& p) {
  const hush::SecretBytes pointer = p.serialize();
  const std::size_t len = std::min<std::size_t>(from.size(), 255);
  hush::SecretBytes out(3 + len + pointer.expose().size());
  auto w = out.expose_mut();
  w[0] = 'F';
  w[1] = manual ? 1 : 0;
  w[2] = static_cast<std::uint8_t>(len);
  std::copy(from.begin(), from.begin() + static_cast<std::ptrdiff_t>(len), w.begin() + 3);
  const auto ptr = pointer.expose();
  std::copy(ptr.begin(), ptr.end(), w.begin() + 3 + static_cast<std::ptrdiff_t>(len));
  return out;
}

// A stored record (our own, but a damaged one must not crash us: nullopt then). Wipes `b` (it
// holds the file's key).
std::optional<PendingFile> decode_pending(Bytes& b) {
  std::optional<PendingFile> out;
  if (b.size() >= 3 && b[0] == 'F' && b[1] <= 1 && b.size() - 3 >= b[2]) {
    PendingFile f;
    f.manual = b[1] == 1;
    f.from.assign(reinterpret_cast<const char*>(b.data()) + 3, b[2]);
    auto p = hush::AttachmentPointer::parse(hush::ByteView(b).subspan(3 + std::size_t{b[2]}));
    if (p) {
      f.pointer = std::move(*p);
      out = std::move(f);
    }
  }
  hush::secure_wipe(b);
  return out;
}

// The N of "PREFIX" + N, if `key` is one.
std::optional<std::uint64_t> key_number(std::string_view key, std::string_view prefix) {
  if (key.size() <= prefix.size() || key.substr(0, prefix.size()) != prefix) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : key.substr(prefix.size())) {
    if (c < '0' || c > '9' || n > (std::uint64_t{1} << 60)) return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

// Takes the next number of the counter `key` (inside the caller's transaction).
hush::Result<std::uint64_t> take_number(hush::SqliteStore& store, std::string_view key) {
  auto next = store.app_data(key);
  if (!next) return next.error();
  const std::uint64_t n = *next ? read_u64(**next).value_or(0) : 0;
  if (auto st = store.put_app_data(key, u64_bytes(n + 1)); !st) return st.error();
  return n;
}

// The bytes of the regular files in `dir` (not its subdirectories).
std::uint64_t directory_bytes(const std::filesystem::path& dir) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code e2;
    if (it->is_regular_file(e2)) {
      const auto size = it->file_size(e2);
      if (!e2) total += size;
    }
  }
  return total;
}

// ---- link messages' application data ----
//
// What hush-chat puts in a link message for the new device (LinkContents::application_data,
// sealed with the rest): a format byte (1), the handle's length (one byte), the handle, and the
// new device's relay token (kTokenBytes). Untrusted when it arrives (though it opened under our
// own code): parsed strictly.

constexpr std::uint8_t kLinkDataFormat = 1;

hush::SecretBytes link_data(const std::string& handle, const Bytes& token) {
  hush::Bytes out;
  out.push_back(kLinkDataFormat);
  out.push_back(static_cast<std::uint8_t>(handle.size()));  // valid handles are <= 32 bytes
  out.insert(out.end(), handle.begin(), handle.end());
  out.insert(out.end(), token.begin(), token.end());
  hush::SecretBytes secret = hush::SecretBytes::copy_of(out);
  hush::secure_wipe(out);
  return secret;
}

// The handle and token in a link message's application data, or nullopt.
std::optional<std::pair<std::string, Bytes>> parse_link_data(hush::ByteView data) {
  if (data.size() < 2 || data[0] != kLinkDataFormat) return std::nullopt;
  const std::size_t len = data[1];
  if (data.size() != 2 + len + kTokenBytes) return std::nullopt;
  std::string handle = text_of(data.subspan(2, len));
  if (!valid_handle(handle)) return std::nullopt;
  const auto token = data.subspan(2 + len);
  return std::make_pair(std::move(handle), Bytes(token.begin(), token.end()));
}

// ---- QR codes ----

// `text` as a QR code (libqrencode, error correction level L, a quiet zone of kQuietZone modules)
// drawn with Unicode half blocks, two rows of modules per line of text. Light modules are drawn,
// dark ones left blank: right for a terminal with light text on a dark background (as
// `qrencode -t UTF8` does). Empty if it cannot be encoded.
std::string qr_text(const std::string& text) {
  constexpr int kQuietZone = 2;  // the standard asks 4; phone scanners read 2 on a screen
  QRcode* qr = QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_L, QR_MODE_8, 1);
  if (qr == nullptr) return {};
  const int width = qr->width;
  auto dark = [&](int x, int y) {
    if (x < 0 || y < 0 || x >= width || y >= width) return false;
    return (qr->data[static_cast<std::size_t>(y) * static_cast<std::size_t>(width) +
                     static_cast<std::size_t>(x)] &
            1) != 0;
  };
  std::string out;
  for (int y = -kQuietZone; y < width + kQuietZone; y += 2) {
    if (!out.empty()) out += '\n';
    for (int x = -kQuietZone; x < width + kQuietZone; ++x) {
      const bool top = !dark(x, y);
      const bool bottom = y + 1 < width + kQuietZone && !dark(x, y + 1);
      out += top && bottom ? "\u2588" : top ? "\u2580" : bottom ? "\u2584" : " ";
    }
  }
  QRcode_free(qr);
  return out;
}

// ---- the client ----

class Client;

// The Messenger's transport and key directory, and the attachments' blob store: requests to the
// relay.
class RelayLink final : public hush::Transport, public hush::KeyDirectory, public hush::BlobStore {
 public:
  explicit RelayLink(Client& client) : client_(client) {}
  hush::Status send(const hush::Address& recipient, hush::ByteView envelope) override;
  std::vector<hush::Status> send_batch(
      const std::vector<hush::OutgoingEnvelope>& envelopes) override;
  hush::Status publish(const hush::Address& self, const hush::PublishedKeys& keys) override;
  hush::Result<hush::AvailablePreKeys> available_pre_keys(const hush::Address& self) override;
  hush::Result<hush::PreKeyBundle> fetch(const hush::Address& remote) override;
  hush::Status publish_device_list(std::string_view name, hush::ByteView signed_list) override;
  hush::Result<std::optional<hush::Bytes>> fetch_device_list(std::string_view name) override;
  hush::Result<std::string> put(hush::ByteSource& blob, std::uint64_t size) override;
  hush::Status get(std::string_view id, hush::ByteSink& out) override;

 private:
  Client& client_;
};

class Client {
 public:
  explicit Client(Options options)
      : options_(std::move(options)),
        term_(options_.script.empty() && ::isatty(STDIN_FILENO)),
        net_(events_),
        ctx_(hush::default_context()),
        link_(*this) {}

  int run();
  // Sends a request and waits for its reply (setting other events aside); a refusal is returned
  // as the kError reply, its reason also kept in last_refusal_.
  hush::Result<Message> request(Message m);
  // Sends several requests at once (pipelined on the one connection) and waits for every reply.
  std::vector<hush::Result<Message>> request_all(std::vector<Message> ms);
  // Deletes a blob we uploaded (BLOB_DELETE), saying so if the relay does not.
  void delete_blob(const std::string& id);

 private:
  // An envelope as the relay delivered it: its delivery id and the device it came from.
  struct Delivery {
    std::uint64_t id = 0;
    std::string from;
    std::uint32_t from_device = 1;
    Bytes envelope;
  };

  // Start-up.
  bool open_state();
  bool link_here();
  bool finish_state(const std::string& path);
  bool open_connection();
  bool connect_to_relay(bool first);
  // Events and timers.
  std::optional<Event> next_event(std::optional<Clock::time_point> deadline);
  void handle_event(Event ev);
  void handle_frame(const Bytes& payload);
  void on_disconnect(const std::string& why);
  void schedule_reconnect();
  std::optional<Clock::time_point> next_timer() const;
  void run_timers();
  void flush_outbox(bool quiet);
  void protocol_violation(const std::string& what);
  void take_input(const Bytes& data);
  // Deliveries.
  void on_deliver(const Delivery& d);
  void process(const Delivery& d);
  bool names_its_sender(const Delivery& d);
  void hold(const Delivery& d, bool first);
  void release_held(const std::string& peer, bool at_start);
  void show_message(const hush::ReceivedMessage& m);
  hush::Status log_received(const hush::ReceivedMessage& m);
  hush::ReceiveOptions receive_options();
  void on_receipt(const hush::Receipt& r);
  void on_group_change(const hush::GroupChangeEvent& e);
  void load_files();
  void pump_downloads();
  bool save_file(std::uint64_t n, bool asked);
  bool cmd_save(const std::string& arg);

  std::string group_label(const hush::GroupId& id) const;
  std::optional<hush::GroupId> find_group(const std::string& name, bool members_only);
  bool log_sent(const std::string& conversation, const Bytes& message_id, const std::string& text,
                Mark mark, const hush::GroupSendResult* group = nullptr);
  void ack(std::uint64_t id);
  // Commands.
  void execute(const std::string& line);
  bool cmd_msg(const std::string& to, const std::string& text);
  bool cmd_verify(const std::string& who);
  std::string protocol_version(const std::string& who);
  bool cmd_trust(const std::string& who);
  bool cmd_keep(const std::string& who);
  bool cmd_reset(const std::string& who);
  bool cmd_history(const std::vector<std::string>& args);
  bool cmd_group(const std::vector<std::string>& args);
  bool cmd_groups();
  bool cmd_group_send(const std::string& name, const std::string& text);
  bool cmd_send_file(const std::string& to, const std::string& path);
  bool report_group_send(const std::string& label, const hush::GroupSendResult& r);
  bool known_person(const std::string& who, const std::string& what);
  bool cmd_wait(const std::vector<std::string>& args);
  bool cmd_sync();
  bool cmd_link(const std::string& code);
  bool cmd_devices(const std::string& who);
  bool cmd_unlink(const std::string& device);
  void show_identity_change(const hush::IdentityChangeEvent& change, bool incoming);
  // Calls (media.h).
  bool cmd_call(const std::string& who);
  bool cmd_answer();
  bool cmd_hangup();
  bool cmd_wait_call(const std::vector<std::string>& args);
  void on_call(const hush::CallEvent& e);
  void say_participants(const std::vector<hush::CallParticipant>& participants);
  void note_participants(const std::vector<hush::CallParticipant>& participants);
  bool video_from_each(std::uint64_t n) const;
  void handle_call_events();
  void start_media(const hush::CallId& id);
  void end_call(const std::string& why);
  void quit();
  // Output.
  void info(const std::string& s) { term_.print("* " + s, Terminal::Style::kInfo); }
  void refuse_long_line() {
    error("input line longer than " + std::to_string(kMaxInputLine) +
          " bytes: refused whole, nothing of it sent");
    if (!term_.interactive() && exit_code_ == 0) exit_code_ = 2;
  }
  void error(const std::string& s) { term_.print("! " + s, Terminal::Style::kError); }
  std::string device_label(const std::string& name, std::uint32_t device) const {
    return device == 1 ? name : name + ":" + std::to_string(device);
  }
  std::string self_label() const { return device_label(handle_, device_); }

  Options options_;
  Terminal term_;
  EventQueue events_;
  Net net_;
  hush::Context ctx_;
  RelayLink link_;
  std::unique_ptr<StateDir> dir_;
  std::unique_ptr<hush::SqliteStore> store_;
  std::unique_ptr<hush::Messenger> messenger_;
  std::string handle_;
  std::uint32_t device_ = 1;
  Bytes token_;

  std::uint64_t generation_ = 0;
  bool connected_ = false;
  std::uint64_t disconnect_handled_ = 0;
  std::uint32_t next_req_ = 0;
  std::string last_refusal_;      // why the last request failed, for the user
  std::string last_error_code_;   // the relay's reason, if it answered kError
  bool recover_pending_ = false;  // --recover: the first connection says kRecover, not kHello
  bool registered_ = false;       // the relay has welcomed this state's account (kRegisteredKey)
  std::deque<Event> deferred_;

  std::deque<std::string> lines_;
  std::string input_;
  bool input_ended_ = false;
  bool quit_ = false;
  int exit_code_ = 0;
  std::uint64_t received_ = 0;    // messages read
  std::uint64_t deliveries_ = 0;  // envelopes the relay delivered
  std::string current_peer_;
  bool discarding_ = false;  // the rest of an over-long input line is being dropped
  void set_current_peer(const std::string& peer) {
    current_peer_ = peer;
    term_.set_prompt("to " + peer + "> ");
  }
  std::unique_ptr<HeldMessages> held_;
  // Received files not saved yet (chat/file/N): N -> waits for /save. Those that do not are
  // fetched from the main loop, one at a time (synchronously: each at most --max-file-bytes);
  // after a download that failed for the connection's sake, only once reconnected.
  std::map<std::uint64_t, bool> pending_files_;
  std::vector<std::pair<std::uint64_t, bool>> logged_files_;  // by the last log_received
  bool downloads_paused_ = false;
  bool downloading_ = false;
  // The blobs saved (SHA-256 hex -> path), from chat/saved/N.
  std::map<std::string, std::string> saved_files_;
  // The groups as last seen (to say what a change changed), by id.
  std::map<hush::GroupId, hush::GroupInfo> groups_;
  // The groups we made (chat/own-groups: their ids, 16 bytes each).
  std::set<hush::GroupId> own_groups_;
  // Receipts already shown this run: message id (hex), person, type (a person's devices each send
  // one). Bounded: cleared when it reaches kMaxShownReceipts.
  std::set<std::string> receipts_shown_;
  static constexpr std::size_t kMaxShownReceipts = 10000;
  // Calls: the one we are in, are calling, or that rings here.
  struct Call {
    hush::CallId id{};
    bool ringing = false;    // it rings here (not answered yet)
    bool connected = false;  // media flow
    bool host = false;       // we placed it
    std::string label;       // who: the caller, or the people called
    std::unique_ptr<MediaSession> media;
    // The host's list as last heard, and each one's video frames decoded here before it changed
    // (for /wait call video).
    std::vector<hush::CallParticipant> participants;
    std::map<std::uint32_t, std::uint64_t> video_before;
  };
  std::optional<Call> call_;
  std::deque<hush::CallEvent> call_events_;     // reported inside a receive, handled after it
  std::optional<Clock::time_point> hangup_at_;  // --call-seconds
  std::uint64_t calls_rung_ = 0, calls_connected_ = 0, calls_ended_ = 0,  // for /wait call
      calls_left_ = 0;
  Clock::time_point next_maintenance_{};
  Clock::time_point next_flush_{};
  std::optional<Clock::time_point> reconnect_at_;
  std::chrono::seconds backoff_{1};
};

// ---- RelayLink ----

hush::Status RelayLink::send(const hush::Address& recipient, hush::ByteView envelope) {
  return send_batch(
             {hush::OutgoingEnvelope{recipient, hush::Bytes(envelope.begin(), envelope.end())}})
      .front();
}

// One SEND per device, all written before the first reply is awaited: a message to a person with
// three devices and a copy for two of ours costs one round trip, not five.
std::vector<hush::Status> RelayLink::send_batch(
    const std::vector<hush::OutgoingEnvelope>& envelopes) {
  std::vector<Message> requests;
  requests.reserve(envelopes.size());
  std::vector<std::size_t> index;  // envelopes[i] -> its request, if it has one
  for (const hush::OutgoingEnvelope& e : envelopes) {
    // A name from a peer (a group member) that is no handle is never sent to the relay (it
    // would close the connection on a malformed frame): no such person.
    if (!valid_handle(e.recipient.name)) {
      index.push_back(SIZE_MAX);
      continue;
    }
    index.push_back(requests.size());
    Message m;
    m.kind = Kind::kSend;
    m.name = e.recipient.name;
    m.device = hush::to_uint(e.recipient.device_id);
    m.body = e.envelope;
    requests.push_back(std::move(m));
  }
  std::vector<hush::Status> replies;
  if (!requests.empty()) {
    for (auto& reply : client_.request_all(std::move(requests))) {
      if (!reply) {
        replies.push_back(reply.error());
      } else if (reply->kind != Kind::kOk) {
        replies.push_back(hush::Error(hush::Errc::kTransportFailure, "relay: refused"));
      } else {
        replies.push_back(hush::ok_status());
      }
    }
  }
  std::vector<hush::Status> out;
  for (std::size_t i : index)
    out.push_back(i == SIZE_MAX ? hush::Status(hush::Error(hush::Errc::kNoSession,
                                                           "relay: not a valid handle"))
                                : replies[i]);
  return out;
}

hush::Status RelayLink::publish(const hush::Address&, const hush::PublishedKeys& keys) {
  Message m;
  m.kind = Kind::kPublish;
  m.body = keys.serialize();
  auto reply = client_.request(std::move(m));
  if (!reply) return reply.error();
  if (reply->kind != Kind::kOk) return hush::Error(hush::Errc::kTransportFailure, "relay: refused");
  return hush::ok_status();
}

hush::Result<hush::AvailablePreKeys> RelayLink::available_pre_keys(const hush::Address&) {
  Message m;
  m.kind = Kind::kCount;
  auto reply = client_.request(std::move(m));
  if (!reply) return reply.error();
  if (reply->kind != Kind::kCountIs)
    return hush::Error(hush::Errc::kTransportFailure, "relay: refused");
  return hush::AvailablePreKeys{reply->number, reply->kyber_count};
}

hush::Result<hush::PreKeyBundle> RelayLink::fetch(const hush::Address& remote) {
  const std::uint32_t device = hush::to_uint(remote.device_id);
  if (device < 1 || device > kMaxDeviceId)
    return hush::Error(hush::Errc::kNoSession, "relay: no such device");
  if (!valid_handle(remote.name))  // (a peer's word, e.g. a group member: never sent)
    return hush::Error(hush::Errc::kNoSession, "relay: not a valid handle");
  Message m;
  m.kind = Kind::kFetch;
  m.name = remote.name;
  m.device = device;
  auto reply = client_.request(std::move(m));
  if (!reply) return reply.error();
  if (reply->kind == Kind::kError && (reply->name == "unknown_handle" || reply->name == "no_keys"))
    return hush::Error(hush::Errc::kNoSession, "relay: no keys for that device");
  // (rate_limited and the rest: transport_failure, with the reason in last_refusal_.)
  if (reply->kind != Kind::kBundle)
    return hush::Error(hush::Errc::kTransportFailure, "relay: refused");
  return hush::PreKeyBundle::parse(reply->body);  // untrusted: checked by the library
}

hush::Status RelayLink::publish_device_list(std::string_view, hush::ByteView signed_list) {
  Message m;
  m.kind = Kind::kPublishList;
  m.body.assign(signed_list.begin(), signed_list.end());
  if (m.body.size() > kMaxListBytes)
    return hush::Error(hush::Errc::kLimitExceeded, "relay: device list too large");
  auto reply = client_.request(std::move(m));
  if (!reply) return reply.error();
  if (reply->kind == Kind::kError && reply->name == "stale_device_list")
    return hush::Error(hush::Errc::kStaleDeviceList, "relay: a newer list is held");
  if (reply->kind != Kind::kOk) return hush::Error(hush::Errc::kTransportFailure, "relay: refused");
  return hush::ok_status();
}

hush::Result<std::optional<hush::Bytes>> RelayLink::fetch_device_list(std::string_view name) {
  if (!valid_handle(name))  // (a peer's word, e.g. a group member: never sent)
    return hush::Error(hush::Errc::kNoSession, "relay: not a valid handle");
  Message m;
  m.kind = Kind::kFetchList;
  m.name = std::string(name);
  auto reply = client_.request(std::move(m));
  if (!reply) return reply.error();
  if (reply->kind != Kind::kList)
    return hush::Error(hush::Errc::kTransportFailure, "relay: refused");
  if (reply->body.empty()) return std::optional<hush::Bytes>();
  return std::optional<hush::Bytes>(std::move(reply->body));  // untrusted: checked by the library
}

// A blob goes up in kBlobChunkBytes pieces, kBlobWindow of them written before their replies are
// awaited (so a file costs one round trip per kBlobWindow pieces, not per piece).
constexpr std::size_t kBlobWindow = 4;

hush::Result<std::string> RelayLink::put(hush::ByteSource& blob, std::uint64_t size) {
  Message begin;
  begin.kind = Kind::kBlobPut;
  begin.id = size;
  auto started = client_.request(std::move(begin));
  if (!started) return started.error();
  if (started->kind == Kind::kError && started->name == "blob_too_large")
    return hush::Error(hush::Errc::kAttachmentTooLarge, "relay: blob too large");
  if (started->kind != Kind::kBlobId || !valid_blob_id(started->name))
    return hush::Error(hush::Errc::kTransportFailure, "relay: refused the upload");
  const std::string id = started->name;
  std::uint64_t sent = 0;
  while (sent < size) {
    std::vector<Message> pieces;
    while (pieces.size() < kBlobWindow && sent < size) {
      Message m;
      m.kind = Kind::kBlobChunk;
      m.name = id;
      m.body.resize(
          static_cast<std::size_t>(std::min<std::uint64_t>(kBlobChunkBytes, size - sent)));
      std::size_t got = 0;
      while (got < m.body.size()) {
        auto n = blob.read(std::span<std::uint8_t>(m.body).subspan(got));
        if (!n) return n.error();
        if (*n == 0) return hush::Error(hush::Errc::kInvalidArgument, "the blob ended early");
        got += *n;
      }
      sent += got;
      pieces.push_back(std::move(m));
    }
    for (auto& reply : client_.request_all(std::move(pieces))) {
      if (!reply) return reply.error();
      if (reply->kind != Kind::kOk) {
        client_.delete_blob(id);  // (what it has of it: it would wait an hour to expire)
        return hush::Error(hush::Errc::kTransportFailure, "relay: refused a piece of the blob");
      }
    }
  }
  return id;
}

hush::Status RelayLink::get(std::string_view id, hush::ByteSink& out) {
  if (!valid_blob_id(id)) return hush::Error(hush::Errc::kTransportFailure, "relay: no such blob");
  std::uint64_t offset = 0;
  for (;;) {
    Message m;
    m.kind = Kind::kBlobGet;
    m.name = std::string(id);
    m.id = offset;
    auto reply = client_.request(std::move(m));
    if (!reply) return reply.error();
    if (reply->kind != Kind::kBlobData)
      return hush::Error(hush::Errc::kTransportFailure, "relay: no such blob");
    if (reply->body.empty()) return hush::ok_status();
    if (auto st = out.write(reply->body); !st) return st;
    offset += reply->body.size();
  }
}

// ---- requests and events ----

hush::Result<Message> Client::request(Message m) {
  std::vector<Message> one;
  one.push_back(std::move(m));
  return std::move(request_all(std::move(one)).front());
}

std::vector<hush::Result<Message>> Client::request_all(std::vector<Message> ms) {
  last_refusal_.clear();
  last_error_code_.clear();
  std::vector<hush::Result<Message>> out(
      ms.size(), hush::Error(hush::Errc::kTransportFailure, "relay: no reply"));
  if (!connected_) {
    last_refusal_ = "not connected to the relay";
    for (auto& r : out)
      r = hush::Error(hush::Errc::kTransportFailure, "relay: not connected");
    return out;
  }
  std::map<std::uint32_t, std::size_t> waiting;  // req -> index
  for (std::size_t i = 0; i < ms.size(); ++i) {
    ms[i].req = ++next_req_;
    if (next_req_ == 0) ms[i].req = ++next_req_;  // 0 is the pings'
    waiting[ms[i].req] = i;
    net_.send(generation_, encode(ms[i]));
  }
  const auto deadline = Clock::now() + options_.timeout;
  while (!waiting.empty()) {
    auto ev = events_.pop(deadline);
    if (!ev) {
      last_refusal_ = "the relay did not answer in time";
      return out;
    }
    const bool current = ev->generation == generation_;
    if (ev->type == Event::Type::kFrame && current) {
      auto reply = decode(ev->data);
      if (!reply || from_client(reply->kind)) {
        protocol_violation("a malformed frame");
        for (auto& [req, i] : waiting)
          out[i] = hush::Error(hush::Errc::kTransportFailure, "relay: protocol violation");
        return out;
      }
      if (reply->kind == Kind::kDeliver) {
        deferred_.push_back(std::move(*ev));
        continue;
      }
      auto it = waiting.find(reply->req);
      if (it == waiting.end()) continue;  // a late reply to a request that timed out, or a ping's
      const std::size_t i = it->second;
      waiting.erase(it);
      if (reply->kind == Kind::kError) {
        last_error_code_ = reply->name;
        last_refusal_ = describe_refusal(reply->name);
        out[i] = std::move(*reply);
        continue;
      }
      const Kind asked = ms[i].kind;
      const bool expected =
          ((asked == Kind::kHello || asked == Kind::kRecover || asked == Kind::kLinkWait) &&
           reply->kind == Kind::kWelcome) ||
          (asked == Kind::kCount && reply->kind == Kind::kCountIs) ||
          (asked == Kind::kFetch && reply->kind == Kind::kBundle) ||
          (asked == Kind::kFetchList && reply->kind == Kind::kList) ||
          (asked == Kind::kBlobPut && reply->kind == Kind::kBlobId) ||
          (asked == Kind::kBlobGet && reply->kind == Kind::kBlobData) ||
          (asked == Kind::kCallJoin && reply->kind == Kind::kCallToken) ||
          ((asked == Kind::kPublish || asked == Kind::kSend || asked == Kind::kPing ||
            asked == Kind::kPublishList || asked == Kind::kAddDevice ||
            asked == Kind::kRemoveDevice || asked == Kind::kLinkPost || asked == Kind::kBlobChunk ||
            asked == Kind::kBlobDelete) &&
           reply->kind == Kind::kOk);
      if (!expected) {
        protocol_violation("a reply of the wrong kind");
        out[i] = hush::Error(hush::Errc::kTransportFailure, "relay: protocol violation");
        for (auto& [req, j] : waiting)
          out[j] = hush::Error(hush::Errc::kTransportFailure, "relay: protocol violation");
        return out;
      }
      out[i] = std::move(*reply);
      continue;
    }
    if (ev->type == Event::Type::kClosed && current) {
      connected_ = false;
      last_refusal_ = "lost the connection to the relay";
      deferred_.push_back(std::move(*ev));
      for (auto& [req, i] : waiting)
        out[i] = hush::Error(hush::Errc::kTransportFailure, "relay: connection lost");
      return out;
    }
    if (ev->type == Event::Type::kFrame || ev->type == Event::Type::kClosed ||
        ev->type == Event::Type::kConnected || ev->type == Event::Type::kConnectFailed)
      continue;  // an old connection's
    deferred_.push_back(std::move(*ev));
  }
  return out;
}

std::optional<Event> Client::next_event(std::optional<Clock::time_point> deadline) {
  if (!deferred_.empty()) {
    Event e = std::move(deferred_.front());
    deferred_.pop_front();
    return e;
  }
  return events_.pop(deadline);
}

void Client::protocol_violation(const std::string& what) {
  error("the relay sent " + what + "; disconnecting");
  net_.close(generation_, false);
  connected_ = false;
}

void Client::handle_event(Event ev) {
  switch (ev.type) {
    case Event::Type::kFrame:
      if (ev.generation == generation_ && connected_) handle_frame(ev.data);
      handle_call_events();
      return;
    case Event::Type::kClosed:
      if (ev.generation == generation_ && disconnect_handled_ != generation_) {
        disconnect_handled_ = generation_;
        connected_ = false;
        on_disconnect(ev.text);
      }
      return;
    case Event::Type::kInput:
      take_input(ev.data);
      return;
    case Event::Type::kInputEnd:
      // (The tail of an over-long line is not a line.)
      if (!input_.empty() && !discarding_) lines_.push_back(std::move(input_));
      input_.clear();
      input_ended_ = true;
      return;
    case Event::Type::kSignal:
      quit_ = true;
      return;
    default:
      return;  // an old connection attempt's
  }
}

void Client::take_input(const Bytes& data) {
  if (term_.interactive()) {
    std::vector<std::string> lines;
    if (!term_.feed(data.data(), data.size(), lines)) quit_ = true;
    for (auto& l : lines)
      lines_.push_back(std::move(l));
    return;
  }
  input_.append(data.begin(), data.end());
  std::size_t nl = 0;
  while ((nl = input_.find('\n')) != std::string::npos) {
    std::string line = input_.substr(0, nl);
    input_.erase(0, nl + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    // A line over the limit is refused whole: neither its head nor its tail is sent.
    if (discarding_ || line.size() > kMaxInputLine) {
      if (!discarding_) refuse_long_line();
      discarding_ = false;
      continue;
    }
    lines_.push_back(std::move(line));
  }
  if (input_.size() > kMaxInputLine) {
    // No end of line yet, and already too long: drop what came, and the rest up to the newline.
    if (!discarding_) refuse_long_line();
    discarding_ = true;
    input_.clear();
  }
}

void Client::handle_frame(const Bytes& payload) {
  auto m = decode(payload);
  if (!m || from_client(m->kind)) {
    protocol_violation("a malformed frame");
    return;
  }
  if (m->kind != Kind::kDeliver) return;  // a late reply to a request that timed out
  if (!valid_handle(m->name)) {
    protocol_violation("a delivery with an invalid sender");
    return;
  }
  on_deliver(Delivery{m->id, m->name, m->device, std::move(m->body)});
}

// The relay went away: what the user types meanwhile is kept (the Messenger's outbox) and sent
// when we are back.
void Client::on_disconnect(const std::string& why) {
  error("lost the connection to the relay (" + printable(why) + ")");
  schedule_reconnect();
}

void Client::schedule_reconnect() {
  info("reconnecting in " + std::to_string(backoff_.count()) +
       " s; messages typed meanwhile are kept and sent then");
  reconnect_at_ = Clock::now() + backoff_;
  backoff_ = std::min(backoff_ * 2, kMaxBackoff);
}

std::optional<Clock::time_point> Client::next_timer() const {
  std::optional<Clock::time_point> t;
  if (connected_) t = std::min(next_maintenance_, next_flush_);
  if (reconnect_at_) t = t ? std::min(*t, *reconnect_at_) : *reconnect_at_;
  if (hangup_at_) t = t ? std::min(*t, *hangup_at_) : *hangup_at_;
  return t;
}

// Reconnects, maintains our keys and flushes the outbox when each is due.
void Client::run_timers() {
  const auto now = Clock::now();
  if (hangup_at_ && now >= *hangup_at_) {
    hangup_at_.reset();
    if (call_) cmd_hangup();
  }
  if (reconnect_at_ && now >= *reconnect_at_) {
    reconnect_at_.reset();
    if (!connect_to_relay(false) && !quit_) schedule_reconnect();
  }
  if (connected_ && now >= next_maintenance_) {
    if (auto st = messenger_->maintain_keys(); !st)
      error("key maintenance failed: " + code_name(st.error()));
    next_maintenance_ = now + kMaintenanceInterval;
  }
  if (connected_ && now >= next_flush_) flush_outbox(true);
}

// Sends what the outbox holds (messages typed while the relay was unreachable, resends asked
// for, retry requests). `quiet`: say nothing if nothing went.
void Client::flush_outbox(bool quiet) {
  next_flush_ = Clock::now() + kFlushInterval;
  auto flushed = messenger_->flush();
  if (!flushed) {
    error("cannot send the queued messages: " + code_name(flushed.error()));
    return;
  }
  if (flushed->sent > 0 || !quiet)
    info("sent " + std::to_string(flushed->sent) + " queued deliveries" +
         (flushed->queued > 0 ? "; " + std::to_string(flushed->queued) + " still queued" : ""));
}

// ---- start-up ----

bool Client::open_state() {
  dir_ = std::make_unique<StateDir>(options_.state);
  const std::string path = options_.state + "/hush.db";
  const StorageKey key;  // (exits with a usage error if HUSH_CHAT_STORAGE_KEY is malformed)
  struct stat st {};
  const bool exists = ::stat(path.c_str(), &st) == 0;
  if (exists) {
    auto store = hush::SqliteStore::open(path, key.options());
    if (!store) {
      // Said in words, with the library's name for it in parentheses.
      std::string why = code_name(store.error());
      if (store.error().code() == hush::Errc::kWrongStorageKey)
        why = key.set() ? "HUSH_CHAT_STORAGE_KEY is not the key it was sealed with"
                        : "it is sealed: set HUSH_CHAT_STORAGE_KEY to its key";
      else if (store.error().code() == hush::Errc::kInvalidArgument && key.set())
        why = "it is not sealed: unset HUSH_CHAT_STORAGE_KEY, or start a new state with it";
      if (why != code_name(store.error()))
        why += " (" + std::string(hush::to_string(store.error().code())) + ")";
      std::fprintf(stderr, "hush-chat: cannot open '%s': %s\n", path.c_str(), why.c_str());
      return false;
    }
    store_ = std::move(*store);
  } else {
    auto identity = hush::generate_identity_key_pair(ctx_.random);
    auto registration_id = hush::generate_registration_id(ctx_.random);
    if (!identity || !registration_id) {
      std::fprintf(stderr, "hush-chat: cannot generate an identity\n");
      return false;
    }
    auto store =
        hush::SqliteStore::create(path, std::move(*identity), *registration_id, key.options());
    if (!store) {
      std::fprintf(stderr, "hush-chat: cannot create '%s': %s\n", path.c_str(),
                   code_name(store.error()).c_str());
      return false;
    }
    store_ = std::move(*store);
  }
  if (store_->rollback_check().rolled_back)
    error(
        "this state was restored from an older copy: every session was restarted; messages "
        "read since that copy are missing from /history, and the next message to each "
        "contact starts a new session");
  auto handle = store_->app_data(kHandleKey);
  auto token = store_->app_data(kTokenKey);
  auto registered = store_->app_data(kRegisteredKey);
  auto device = store_->app_data(kDeviceKey);
  if (!handle || !token || !registered || !device) {
    std::fprintf(stderr, "hush-chat: cannot read '%s'\n", path.c_str());
    return false;
  }
  if (*handle && *token) {
    handle_ = text_of(**handle);
    token_ = **token;
    if (*device) {  // (absent in a state from before devices: device 1)
      const auto d = read_u64(**device);
      if (!d || *d < 1 || *d > kMaxDeviceId) {
        std::fprintf(stderr, "hush-chat: '%s' has damaged chat data\n", path.c_str());
        return false;
      }
      device_ = static_cast<std::uint32_t>(*d);
    }
    if (!options_.handle.empty() && options_.handle != handle_) {
      std::fprintf(stderr, "hush-chat: '%s' belongs to %s, not %s\n", options_.state.c_str(),
                   printable(handle_).c_str(), options_.handle.c_str());
      return false;
    }
    if (!valid_handle(handle_) || token_.size() != kTokenBytes) {
      std::fprintf(stderr, "hush-chat: '%s' has damaged chat data\n", path.c_str());
      return false;
    }
    if (options_.recover && *registered) {
      std::fprintf(stderr,
                   "hush-chat: '%s' is %s's working state: --recover is for a new state, after "
                   "losing the old one (it would remove %s's other devices)\n",
                   options_.state.c_str(), handle_.c_str(), handle_.c_str());
      return false;
    }
  } else {
    // A new state (or one whose creation was interrupted before this point).
    if (options_.handle.empty()) {
      std::fprintf(stderr, "hush-chat: a new state needs --handle NAME (or --link)\n");
      return false;
    }
    handle_ = options_.handle;
    token_.assign(kTokenBytes, 0);
    if (!ctx_.random.fill(token_)) {
      std::fprintf(stderr, "hush-chat: no randomness\n");
      return false;
    }
    const auto st2 = store_->run_transaction([&]() -> hush::Status {
      if (auto s = store_->put_app_data(kHandleKey, hush::as_bytes(handle_)); !s) return s;
      if (auto s = store_->put_app_data(kDeviceKey, u64_bytes(1)); !s) return s;
      return store_->put_app_data(kTokenKey, token_);
    });
    if (!st2) {
      std::fprintf(stderr, "hush-chat: cannot write '%s': %s\n", path.c_str(),
                   code_name(st2.error()).c_str());
      return false;
    }
  }
  recover_pending_ = options_.recover.has_value();
  registered_ = registered->has_value();
  return finish_state(path);
}

// What every start does once the store is open and our handle, device and token are known.
bool Client::finish_state(const std::string& path) {
  held_ = std::make_unique<HeldMessages>(*store_);
  if (auto st = held_->load(); !st) {
    std::fprintf(stderr, "hush-chat: cannot read the held messages in '%s': %s\n", path.c_str(),
                 code_name(st.error()).c_str());
    return false;
  }
  // Delivery receipts (✓✓) unless --receipts none; read receipts are sent when a message is shown.
  hush::MessengerOptions options;
  options.delivery_receipts = options_.delivery_receipts;
  messenger_ = std::make_unique<hush::Messenger>(
      ctx_, *store_, link_, link_, hush::Address{handle_, hush::DeviceId{device_}}, options);
  auto ids = messenger_->groups();
  if (!ids) {
    std::fprintf(stderr, "hush-chat: cannot read the groups in '%s': %s\n", path.c_str(),
                 code_name(ids.error()).c_str());
    return false;
  }
  for (const hush::GroupId& id : *ids) {
    if (auto g = messenger_->group(id)) groups_[id] = std::move(*g);
  }
  if (auto own = store_->app_data(kOwnGroupsKey); own && *own) {
    for (std::size_t at = 0; at + 16 <= (*own)->size(); at += 16) {
      hush::GroupId g{};
      std::copy((*own)->begin() + static_cast<std::ptrdiff_t>(at),
                (*own)->begin() + static_cast<std::ptrdiff_t>(at + 16), g.begin());
      own_groups_.insert(g);
    }
  }
  if (::mkdir((options_.state + "/calls").c_str(), 0700) != 0 && errno != EEXIST) {
    std::fprintf(stderr, "hush-chat: cannot create '%s/calls': %s\n", options_.state.c_str(),
                 std::strerror(errno));
    return false;
  }
  if (::mkdir((options_.state + "/files").c_str(), 0700) != 0 && errno != EEXIST) {
    std::fprintf(stderr, "hush-chat: cannot create '%s/files': %s\n", options_.state.c_str(),
                 std::strerror(errno));
    return false;
  }
  load_files();
  return true;
}

// --link: a new state for a new device of a person who already has one. Shows a link code (text
// and QR code), waits at the code's mailbox at the relay for the link message, opens it, and makes
// the state from what it brought: the person's identity (with a registration id of our own), the
// device id, the device list and the trusted contacts, and the relay token the other device
// registered for us.
bool Client::link_here() {
  dir_ = std::make_unique<StateDir>(options_.state);
  const std::string path = options_.state + "/hush.db";
  const StorageKey key;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    std::fprintf(stderr, "hush-chat: '%s' has a state already: --link makes a new one\n",
                 options_.state.c_str());
    return false;
  }
  auto request = hush::LinkRequest::create(ctx_.random);
  if (!request) {
    std::fprintf(stderr, "hush-chat: cannot make a link code: %s\n",
                 code_name(request.error()).c_str());
    return false;
  }
  if (!open_connection()) return false;
  Message wait;
  wait.kind = Kind::kLinkWait;
  wait.mailbox.assign(request->mailbox().begin(), request->mailbox().end());
  auto waiting = this->request(std::move(wait));
  if (!waiting || waiting->kind != Kind::kWelcome) {
    error("the relay refused to wait for the link message: " +
          (!last_error_code_.empty() ? printable(last_error_code_) : last_refusal_));
    return false;
  }
  const std::uint32_t wait_req = waiting->req;
  if (waiting->idle_seconds > 0)
    net_.keep_alive(
        generation_,
        std::max<std::chrono::milliseconds>(
            std::chrono::milliseconds(500),
            std::chrono::milliseconds(std::uint64_t{waiting->idle_seconds} * 1000 / 3)));
  const std::string code = request->code();
  if (const std::string qr = qr_text(code); !qr.empty()) term_.print(qr);
  info("link code: " + code);
  info("on a device of yours that has hush-chat, type: /link " + code +
       " (or scan the QR code); waiting at the relay...");
  // Commands typed meanwhile are kept for after the link.
  Bytes message;
  std::deque<Event> later;
  for (;;) {
    std::optional<Event> ev;
    if (!deferred_.empty()) {
      ev = std::move(deferred_.front());
      deferred_.pop_front();
    } else {
      ev = events_.pop(std::nullopt);
    }
    if (!ev) continue;
    if (ev->type == Event::Type::kSignal) return false;
    if (ev->type == Event::Type::kInput || ev->type == Event::Type::kInputEnd) {
      later.push_back(std::move(*ev));
      continue;
    }
    if (ev->generation != generation_) continue;
    if (ev->type == Event::Type::kClosed) {
      error("lost the connection to the relay while waiting for the link message (" +
            printable(ev->text) + ")");
      return false;
    }
    if (ev->type != Event::Type::kFrame) continue;
    auto m = decode(ev->data);
    if (!m || from_client(m->kind) || (m->kind == Kind::kLinkMessage && m->req != wait_req)) {
      protocol_violation("a malformed frame");
      return false;
    }
    if (m->kind != Kind::kLinkMessage) continue;  // a ping's reply
    message = std::move(m->body);
    break;
  }
  for (Event& e : later)
    deferred_.push_back(std::move(e));
  auto contents = request->open(message);
  if (!contents) {
    error("the link message does not open: " + code_name(contents.error()) +
          " (not made for this code, or altered on the way)");
    return false;
  }
  auto account = parse_link_data(contents->application_data.expose());
  if (!account || account->first != contents->name) {
    error("the link message carries no hush-chat account for " + printable(contents->name));
    return false;
  }
  const std::uint32_t device = hush::to_uint(contents->device_id);
  if (device < 2 || device > kMaxDeviceId) {
    error("the link message names a device id hush-chat cannot use");
    return false;
  }
  auto registration_id = hush::generate_registration_id(ctx_.random);
  if (!registration_id) {
    error("cannot generate a registration id");
    return false;
  }
  auto store =
      hush::SqliteStore::create(path, contents->identity.clone(), *registration_id, key.options());
  if (!store) {
    error("cannot create '" + path + "': " + code_name(store.error()));
    return false;
  }
  store_ = std::move(*store);
  handle_ = contents->name;
  device_ = device;
  token_ = std::move(account->second);
  auto saved = hush::import_link(*store_, *contents);
  if (saved)
    saved = store_->run_transaction([&]() -> hush::Status {
      if (auto s = store_->put_app_data(kHandleKey, hush::as_bytes(handle_)); !s) return s;
      if (auto s = store_->put_app_data(kDeviceKey, u64_bytes(device_)); !s) return s;
      return store_->put_app_data(kTokenKey, token_);
    });
  if (!saved) {
    error("cannot write '" + path + "': " + code_name(saved.error()));
    return false;
  }
  const std::size_t contacts = contents->contacts.size();
  info("linked: this is device " + std::to_string(device_) + " of " + handle_ + " (" +
       std::to_string(contacts) + (contacts == 1 ? " trusted contact" : " trusted contacts") +
       " came with the link)");
  return finish_state(path);
}

// Opens a connection to the relay (nothing said yet).
bool Client::open_connection() {
  const std::string where = options_.host + ":" + options_.port;
  generation_ = net_.connect(options_.host, options_.port, kConnectTimeout);
  connected_ = false;
  const auto deadline = Clock::now() + kConnectTimeout + std::chrono::seconds(1);
  for (;;) {
    auto ev = events_.pop(deadline);
    if (!ev) {
      error("cannot connect to the relay at " + where + ": timed out");
      return false;
    }
    if (ev->generation == generation_ && ev->type == Event::Type::kConnected) break;
    if (ev->generation == generation_ && ev->type == Event::Type::kConnectFailed) {
      error("cannot connect to the relay at " + where + ": " + printable(ev->text));
      return false;
    }
    if (ev->type == Event::Type::kInput || ev->type == Event::Type::kInputEnd ||
        ev->type == Event::Type::kSignal)
      deferred_.push_back(std::move(*ev));
  }
  connected_ = true;
  return true;
}

bool Client::connect_to_relay(bool first) {
  const std::string where = options_.host + ":" + options_.port;
  if (!open_connection()) return false;
  Message hello;
  hello.kind = recover_pending_ ? Kind::kRecover : Kind::kHello;
  hello.name = handle_;
  hello.device = device_;
  hello.body = token_;
  if (recover_pending_) hello.code = *options_.recover;
  auto reply = request(std::move(hello));
  if (!reply || reply->kind != Kind::kWelcome) {
    error("the relay refused " + handle_ + ": " +
          (!last_error_code_.empty() ? printable(last_error_code_)
           : last_refusal_.empty()   ? std::string("no welcome")
                                     : last_refusal_));
    if (last_error_code_ == "handle_taken")
      error(handle_ + " is registered at this relay by another client (if it is yours and you " +
            "lost its state, start a new state with --handle " + handle_ + " --recover CODE)");
    if (last_error_code_ == "wrong_recovery_code")
      error("that is not " + handle_ + "'s recovery code (only the latest one works)");
    if (last_error_code_ == "unknown_device" || last_error_code_ == "wrong_token")
      error("the relay no longer knows this device (" + self_label() +
            "): it was unlinked, or its handle recovered elsewhere");
    net_.close(generation_, false);
    connected_ = false;
    if (!last_error_code_.empty() && !first) {
      // The relay will not take us back: trying again would not help.
      exit_code_ = 1;
      quit_ = true;
    }
    return false;
  }
  const std::string as =
      device_ == 1 ? handle_ : handle_ + " (device " + std::to_string(device_) + ")";
  if (reply->number == 1) {
    info("registered " + handle_ + " at " + where);
  } else if (reply->number == 2) {
    info("recovered " + handle_ + " at " + where);
  } else {
    info("connected to " + where + " as " + as);
  }
  recover_pending_ = false;
  if (reply->code.size() == kRecoveryCodeBytes) {
    // Shown once and not kept: whoever has it can take the handle.
    info("recovery code for " + handle_ + ": " + format_recovery_code(reply->code) +
         "; write it down: it is the only way to take " + handle_ +
         " back after losing this device");
    hush::secure_wipe(reply->code);
  }
  if (!registered_) {
    if (auto st = store_->put_app_data(kRegisteredKey, u64_bytes(1)); !st) {
      error("cannot write our state: " + code_name(st.error()));
    } else {
      registered_ = true;
    }
  }
  if (reply->idle_seconds > 0) {
    // A third of the relay's idle timeout: two pings may be late before it gives up on us.
    const auto interval = std::max<std::chrono::milliseconds>(
        std::chrono::milliseconds(500),
        std::chrono::milliseconds(std::uint64_t{reply->idle_seconds} * 1000 / 3));
    net_.keep_alive(generation_, interval);
  }
  backoff_ = std::chrono::seconds(1);
  reconnect_at_.reset();
  downloads_paused_ = false;  // (files whose download failed: tried again now)
  if (auto st = messenger_->maintain_keys(); !st) {
    if (st.error().code() == hush::Errc::kUnknownDevice) {
      error("this device (" + self_label() + ") is no longer on " + handle_ +
            "'s device list: it was unlinked");
    } else {
      error("cannot publish our keys: " + code_name(st.error()) +
            (last_refusal_.empty() ? "" : " (" + last_refusal_ + ")"));
    }
    if (first && !connected_) return false;
  }
  next_maintenance_ = Clock::now() + kMaintenanceInterval;
  // What was typed while the relay was away, and what waits for a resend.
  if (connected_) flush_outbox(true);
  return true;
}

// ---- deliveries ----

void Client::ack(std::uint64_t id) {
  if (!connected_) return;
  Message m;
  m.kind = Kind::kAck;
  m.id = id;
  net_.send(generation_, encode(m));
}

void Client::on_deliver(const Delivery& d) {
  ++deliveries_;
  if (held_->count(d.from) > 0) {
    // Behind a held message: keep the order, read them in turn after /trust.
    if (held_->contains(d.from, d.id)) {
      ack(d.id);  // held already; our acknowledgement was lost
      return;
    }
    if (names_its_sender(d)) hold(d, false);
    return;
  }
  process(d);
}

// An envelope that names another sender than the device the relay received it from is dropped
// (and acknowledged) unread: hush would refuse it anyway (sender_mismatch), and it must never
// show as anyone's message or raise an identity change.
bool Client::names_its_sender(const Delivery& d) {
  const std::string from = device_label(d.from, d.from_device);
  auto named = hush::Messenger::envelope_sender(d.envelope);
  if (!named) {
    ack(d.id);
    error("dropped a message from " + from + ": " + code_name(named.error()));
    return false;
  }
  if (named->name != d.from || hush::to_uint(named->device_id) != d.from_device) {
    ack(d.id);
    error("dropped a message from " + from + ": it names " +
          printable(device_label(named->name, hush::to_uint(named->device_id))) +
          " as its sender (sender_mismatch)");
    return false;
  }
  return true;
}

void Client::show_message(const hush::ReceivedMessage& m) {
  ++received_;
  const std::string text = printable(text_of(m.plaintext.expose()));
  const std::uint32_t device = hush::to_uint(m.sender.device_id);
  const std::string when = stamp(m.sent_ms, std::nullopt);
  const std::string where = m.group ? group_label(*m.group) : printable(m.conversation);
  if (m.sent_by_us) {
    term_.print("[me:" + std::to_string(device) + " -> " + where + "] " + text + when,
                Terminal::Style::kOutgoing);
  } else if (m.group) {
    term_.print(
        "[" + where + "] " + printable(device_label(m.sender.name, device)) + ": " + text + when,
        Terminal::Style::kIncoming);
  } else {
    term_.print("[" + printable(device_label(m.sender.name, device)) + "] " + text + when,
                Terminal::Style::kIncoming);
  }
  // Its files: recorded (log_received); fetched from the main loop, or announced for /save.
  const std::string from = printable(m.sent_by_us ? "me" : m.sender.name);
  for (std::size_t i = 0; i < m.attachments.size(); ++i) {
    const hush::AttachmentPointer& a = m.attachments[i];
    const std::string what = "file from " + from + ": \"" + printable(a.file_name) + "\" (" +
                             std::to_string(a.size) + " bytes)";
    if (i >= logged_files_.size()) {
      error(what + " not kept: " + std::to_string(kMaxPendingFiles) +
            " files wait already (/save lists them)");
      continue;
    }
    const auto [n, manual] = logged_files_[i];
    pending_files_[n] = manual;
    if (manual)
      info(what + " not fetched: larger than " + std::to_string(options_.max_file_bytes) +
           " bytes (--max-file-bytes); /save " + std::to_string(n) + " fetches it");
  }
  logged_files_.clear();
  // Shown to the user: read (a read receipt to the sender's person, if they are on).
  if (!m.sent_by_us && options_.read_receipts && m.message_id.size() == 16) {
    const std::vector<Bytes> ids{m.message_id};
    if (auto st = messenger_->mark_read(m.sender.name, ids); !st && connected_)
      error("cannot send the read receipt to " + m.sender.name + ": " + code_name(st.error()));
  }
}

// A received message goes into the log: ours (a copy from another of our devices) as outgoing.
// Its files go into chat/file/N in the same transaction, to be fetched after it committed.
hush::Status Client::log_received(const hush::ReceivedMessage& m) {
  logged_files_.clear();
  std::size_t waiting = pending_files_.size();
  for (const hush::AttachmentPointer& a : m.attachments) {
    if (waiting >= kMaxPendingFiles) break;  // (show_message says so)
    const bool manual = a.size > options_.max_file_bytes;
    auto n = take_number(*store_, kFileNextKey);
    if (!n) return n.error();
    const hush::SecretBytes record = encode_pending(manual, m.sent_by_us ? "me" : m.sender.name, a);
    if (auto st =
            store_->put_app_data(std::string(kFilePrefix) + std::to_string(*n), record.expose());
        !st)
      return st;
    logged_files_.emplace_back(*n, manual);
    ++waiting;
  }
  LogEntry e;
  e.direction = m.sent_by_us ? 'o' : 'i';
  e.conversation = m.group ? group_key(*m.group) : m.conversation;
  if (m.group && !m.sent_by_us) e.sender = m.sender.name;
  e.message_id = m.message_id;
  e.sent_ms = m.sent_ms;
  e.mark = m.sent_by_us ? Mark::kSent : Mark::kNone;
  e.text = text_of(m.plaintext.expose());
  if (e.text.empty()) {  // (hush-chat names the file in the text; another sender may not)
    for (const auto& a : m.attachments)
      e.text += (e.text.empty() ? "" : " ") + std::string("[file: ") +
                hush::sanitized_attachment_file_name(a.file_name) + ", " + std::to_string(a.size) +
                " bytes]";
  }
  return log_append(*store_, e);
}

// Our own message (to a person, or "#" group), with its id and mark.
bool Client::log_sent(const std::string& conversation, const Bytes& message_id,
                      const std::string& text, Mark mark, const hush::GroupSendResult* group) {
  // A group message: the people it reached (their receipts only count).
  Recipients to;
  if (group) {
    for (const hush::DeviceDelivery& d : group->deliveries) {
      if (d.state != hush::DeliveryState::kSent || d.device.name == handle_) continue;
      if (std::none_of(to.begin(), to.end(),
                       [&](const auto& p) { return p.first == d.device.name; }))
        to.emplace_back(d.device.name, Mark::kSent);
    }
  }
  LogEntry e;
  e.direction = 'o';
  e.conversation = conversation;
  e.message_id = message_id;
  e.sent_ms = now_ms();
  e.mark = mark;
  e.text = text;
  if (auto st = store_->run_transaction([&]() -> hush::Status {
        if (auto a = log_append(*store_, e); !a) return a;
        if (!group || message_id.empty()) return hush::ok_status();
        return store_->put_app_data(to_key(message_id), encode_recipients(to));
      });
      !st) {
    error("sent, but cannot write the log: " + code_name(st.error()));
    return false;
  }
  return true;
}

// What receive() is told: who sent it (the relay's word, checked), and where receipts and group
// changes go. The caller adds before_commit.
hush::ReceiveOptions Client::receive_options() {
  hush::ReceiveOptions o;
  o.on_receipt = [this](const hush::Receipt& r) { on_receipt(r); };
  o.on_group_change = [this](const hush::GroupChangeEvent& e) { on_group_change(e); };
  o.on_call = [this](const hush::CallEvent& e) { call_events_.push_back(e); };
  return o;
}

// A receipt for messages of ours: raise each one's mark in the log, and say so once per message,
// person and kind.
void Client::on_receipt(const hush::Receipt& r) {
  if (r.from.name == handle_) return;  // (our own devices' receipts say nothing new)
  const bool read = r.type == hush::ReceiptType::kRead;
  for (const Bytes& id : r.message_ids) {
    auto index = store_->app_data(mid_key(id));
    if (!index || !*index) continue;  // not one of ours (or long gone from the log)
    const auto n = read_u64(**index);
    if (!n) continue;
    const std::string key = "chat/log/" + std::to_string(*n);
    auto stored = store_->app_data(key);
    if (!stored || !*stored) continue;
    auto entry = decode_entry(**stored);
    if (!entry) continue;
    // A group message's receipts come from the people it went to; a 1:1 message's from its
    // person only.
    const bool group = !entry->conversation.empty() && entry->conversation[0] == '#';
    if (!group && r.from.name != entry->conversation) continue;
    const Mark mark = read ? Mark::kRead : Mark::kDelivered;
    std::string count;  // (groups) " (read by 1 of 2)"
    if (group) {
      auto stored_to = store_->app_data(to_key(id));
      std::optional<Recipients> to;
      if (stored_to && *stored_to) to = decode_recipients(**stored_to);
      if (!to) continue;  // (a message of ours from another device: its recipients unknown)
      auto person = std::find_if(to->begin(), to->end(),
                                 [&](const auto& p) { return p.first == r.from.name; });
      if (person == to->end()) continue;  // not one it went to
      if (mark > person->second) {
        person->second = mark;
        // The message's own mark: the lowest of its recipients'.
        Mark lowest = Mark::kRead;
        for (const auto& p : *to)
          lowest = std::min(lowest, p.second);
        auto st = store_->run_transaction([&]() -> hush::Status {
          if (auto a = store_->put_app_data(to_key(id), encode_recipients(*to)); !a) return a;
          if (lowest <= entry->mark) return hush::ok_status();
          entry->mark = lowest;
          return store_->put_app_data(key, encode_entry(*entry));
        });
        if (!st) error("cannot record a receipt: " + code_name(st.error()));
      }
      count = " (" + group_marks(*to).substr(1) + ")";
    } else if (mark > entry->mark) {
      entry->mark = mark;
      if (auto st = store_->put_app_data(key, encode_entry(*entry)); !st)
        error("cannot record a receipt: " + code_name(st.error()));
    }
    const std::string seen = hush::to_hex(id) + "/" + r.from.name + (read ? "/r" : "/d");
    if (!receipts_shown_.insert(seen).second) continue;
    if (receipts_shown_.size() >= kMaxShownReceipts) receipts_shown_.clear();
    std::string in;
    if (group) {
      auto gid = hush::from_hex(entry->conversation.substr(1));
      if (gid && gid->size() == 16) {
        hush::GroupId g{};
        std::copy(gid->begin(), gid->end(), g.begin());
        in = " in " + group_label(g);
      }
    }
    term_.print(std::string("\u2713\u2713 ") + (read ? "read: " : "delivered: ") +
                    short_quote(entry->text) + (read ? " by " : " to ") + printable(r.from.name) +
                    in + count,
                Terminal::Style::kInfo);
  }
}

// "#family"; "#?0123abcd" (the start of its id) for a group we do not hold, or whose name another
// group has too (and that is not the one we made of them).
std::string Client::group_label(const hush::GroupId& id) const {
  auto it = groups_.find(id);
  if (it == groups_.end()) return "#?" + hush::to_hex(id).substr(0, 8);
  if (own_groups_.count(id) == 0) {
    for (const auto& [other, g] : groups_)
      if (other != id && g.name == it->second.name) return "#?" + hush::to_hex(id).substr(0, 8);
  }
  return "#" + printable(it->second.name);
}

// A group change someone made: said in words, by comparing with the state seen before.
void Client::on_group_change(const hush::GroupChangeEvent& e) {
  const hush::GroupInfo& now = e.group;
  const std::string who =
      printable(e.author.name == handle_ ? "me:" + std::to_string(hush::to_uint(e.author.device_id))
                                         : e.author.name);
  auto it = groups_.find(now.id);
  const std::optional<hush::GroupInfo> before =
      it == groups_.end() ? std::nullopt : std::optional<hush::GroupInfo>(it->second);
  groups_[now.id] = now;
  // ("#?0123abcd" for a group whose name another group has too: what /g takes for it.)
  const std::string shown = group_label(now.id);
  const std::string label = "[" + shown + "] ";
  const std::string typed = shown.rfind("#?", 0) == 0 ? shown : printable(now.name);
  auto list = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& x : v)
      out += (out.empty() ? "" : ", ") + printable(x);
    return out;
  };
  if (!before) {
    std::vector<std::string> others;
    for (const auto& m : now.members)
      if (m != e.author.name) others.push_back(m);
    // (Revision 1 is the group as made; a later one reaches us first when we are added.)
    info(label + who + (now.revision <= 1 ? " made the group, with " : " added you; with ") +
         list(others) + " (/g " + typed + " TEXT writes to it)");
    return;
  }
  std::vector<std::string> added, removed;
  std::set_difference(now.members.begin(), now.members.end(), before->members.begin(),
                      before->members.end(), std::back_inserter(added));
  std::set_difference(before->members.begin(), before->members.end(), now.members.begin(),
                      now.members.end(), std::back_inserter(removed));
  bool said = false;
  if (!added.empty()) {
    info(label + who + " added " + list(added));
    said = true;
  }
  for (const auto& r : removed) {
    if (r == e.author.name) {
      info(label + printable(r) + " left the group");
    } else if (r == handle_) {
      info(label + who + " removed you: you get nothing more sent to " + shown);
    } else {
      info(label + who + " removed " + printable(r));
    }
    said = true;
  }
  if (before->name != now.name) {
    info(label + who + " renamed the group (it was #" + printable(before->name) + ")");
    said = true;
  }
  std::vector<std::string> promoted;
  std::set_difference(now.admins.begin(), now.admins.end(), before->admins.begin(),
                      before->admins.end(), std::back_inserter(promoted));
  for (const auto& p : promoted) {
    if (std::find(added.begin(), added.end(), p) != added.end()) continue;
    info(label + who + " made " + printable(p) + " an admin");
    said = true;
  }
  if (!said)
    info(label + who + " changed the group (revision " + std::to_string(now.revision) + ")");
}

// At start: the files waiting (chat/file/N) and saved (chat/saved/N); removes what a download
// killed midway left in DIR/files/ (the library's private spool and part files).
void Client::load_files() {
  const std::filesystem::path dir = options_.state + "/files";
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(".hush-spool-", 0) == 0 || name.rfind(".hush-part-", 0) == 0) {
      std::error_code e2;
      std::filesystem::remove(it->path(), e2);
    }
  }
  auto keys = store_->app_data_keys();
  if (!keys) {
    error("cannot read the files waiting: " + code_name(keys.error()));
    return;
  }
  for (const std::string& key : *keys) {
    if (auto n = key_number(key, kFilePrefix)) {
      auto record = store_->app_data(key);
      if (!record || !*record) continue;
      auto f = decode_pending(**record);
      if (!f) {
        error("a stored file record does not parse; dropped");
        (void)store_->erase_app_data(key);
        continue;
      }
      pending_files_[*n] = f->manual;
    } else if (key_number(key, kSavedPrefix)) {
      auto record = store_->app_data(key);
      if (!record || !*record || (*record)->size() < hush::kAttachmentDigestBytes) continue;
      const Bytes& r = **record;
      saved_files_[hush::to_hex(hush::ByteView(r).first(hush::kAttachmentDigestBytes))] =
          std::string(r.begin() + hush::kAttachmentDigestBytes, r.end());
    }
  }
  std::size_t manual = 0;
  for (const auto& [n, waits] : pending_files_)
    manual += waits ? 1 : 0;
  if (manual > 0)
    info(std::to_string(manual) + " received file(s) wait for /save (/save lists them)");
}

// Fetches the files that need no /save, one after the other (each download is synchronous, and
// at most --max-file-bytes). Called from the main loop; stops when the connection fails (the rest
// wait for the next connection).
void Client::pump_downloads() {
  if (downloading_) return;
  downloading_ = true;
  while (connected_ && !downloads_paused_ && !quit_) {
    auto next = std::find_if(pending_files_.begin(), pending_files_.end(),
                             [](const auto& p) { return !p.second; });
    if (next == pending_files_.end()) break;
    save_file(next->first, false);
  }
  downloading_ = false;
}

// Fetches and saves the file chat/file/N (the library checks the blob's size and digest before
// writing anything, and saves under a safe name, never replacing a file). `asked`: by /save.
bool Client::save_file(std::uint64_t n, bool asked) {
  const std::string key = std::string(kFilePrefix) + std::to_string(n);
  auto record = store_->app_data(key);
  std::optional<PendingFile> f;
  if (record && *record) f = decode_pending(**record);
  if (!f) {
    error("file " + std::to_string(n) + ": " +
          (record && !*record ? "no such file waits" : "its record cannot be read; dropped"));
    if (record && *record) (void)store_->erase_app_data(key);
    pending_files_.erase(n);
    return false;
  }
  const hush::AttachmentPointer& a = f->pointer;
  const std::string what = "file from " + printable(f->from) + ": \"" + printable(a.file_name) +
                           "\" (" + std::to_string(a.size) + " bytes)";
  // Waits for /save from now on (a refusal below that a later /save may overcome).
  auto wait = [&](const std::string& why) {
    if (!f->manual) {
      const hush::SecretBytes again = encode_pending(true, f->from, a);
      if (auto st = store_->put_app_data(key, again.expose()); !st)
        error("cannot write our state: " + code_name(st.error()));
    }
    pending_files_[n] = true;
    error(what + " not saved: " + why + "; /save " + std::to_string(n) + " tries again");
    return false;
  };
  // Saved already (the same ciphertext): not fetched again.
  const std::string digest = hush::to_hex(a.digest);
  if (auto it = saved_files_.find(digest); it != saved_files_.end()) {
    if (auto st = store_->erase_app_data(key); !st) return wait(code_name(st.error()));
    pending_files_.erase(n);
    info(what + " is the file saved already as " + printable(it->second) + ": not fetched again");
    return true;
  }
  const std::filesystem::path dir = options_.state + "/files";
  const std::uint64_t used = directory_bytes(dir);
  if (used + a.size > options_.files_quota)
    return wait(options_.state + "/files holds " + std::to_string(used) + " bytes, and " +
                std::to_string(options_.files_quota) + " is its quota (--files-quota)");
  if (!connected_) return wait("the relay is unreachable");
  auto saved = hush::download_and_decrypt(link_, a, dir);
  if (!saved) {
    const hush::Errc code = saved.error().code();
    const std::string why =
        code_name(saved.error()) + (last_refusal_.empty() ? "" : " (" + last_refusal_ + ")");
    if (code == hush::Errc::kTransportFailure && last_error_code_ != "unknown_blob") {
      // The connection's fault (or the relay's): tried again once reconnected.
      if (!asked) {
        downloads_paused_ = true;
        error(what + " not saved yet: " + why + "; tried again when reconnected (or /save " +
              std::to_string(n) + ")");
        return false;
      }
      return wait(why);
    }
    // The relay no longer has it, or served other bytes, or it does not decrypt: never will.
    // Anything else (a full disk, DIR/files gone, too many files of that name) may pass later.
    if (code != hush::Errc::kTransportFailure && code != hush::Errc::kDigestMismatch &&
        code != hush::Errc::kAttachmentCorrupt && code != hush::Errc::kAttachmentTooLarge)
      return wait(why);
    if (auto st = store_->erase_app_data(key); !st) return wait(code_name(st.error()));
    pending_files_.erase(n);
    error(what + " not saved: " + why);
    return false;
  }
  const std::string path = saved->string();
  auto st = store_->run_transaction([&]() -> hush::Status {
    if (auto e = store_->erase_app_data(key); !e) return e;
    auto s = take_number(*store_, kSavedNextKey);
    if (!s) return s.error();
    if (*s >= kMaxSavedFiles) {
      if (auto e = store_->erase_app_data(std::string(kSavedPrefix) +
                                          std::to_string(*s - kMaxSavedFiles));
          !e)
        return e;
    }
    Bytes r(a.digest.begin(), a.digest.end());
    r.insert(r.end(), path.begin(), path.end());
    return store_->put_app_data(std::string(kSavedPrefix) + std::to_string(*s), r);
  });
  pending_files_.erase(n);
  saved_files_[digest] = path;
  if (!st) error("cannot write our state: " + code_name(st.error()));
  info(what + " saved as " + printable(path));
  return true;
}

// /save: the files waiting; /save N: fetch and save file N.
bool Client::cmd_save(const std::string& arg) {
  if (arg.empty()) {
    std::size_t shown = 0;
    for (const auto& [n, waits] : pending_files_) {
      auto record = store_->app_data(std::string(kFilePrefix) + std::to_string(n));
      if (!record || !*record) continue;
      auto f = decode_pending(**record);
      if (!f) continue;
      info("file " + std::to_string(n) + " from " + printable(f->from) + ": \"" +
           printable(f->pointer.file_name) + "\" (" + std::to_string(f->pointer.size) + " bytes)" +
           (waits ? "" : " (being fetched)"));
      ++shown;
    }
    if (shown == 0) info("no received file waits");
    return true;
  }
  const auto n = key_number(std::string(kFilePrefix) + arg, kFilePrefix);
  if (!n || pending_files_.count(*n) == 0) {
    error("/save " + printable(arg) + ": no such file waits (/save lists them)");
    return false;
  }
  return save_file(*n, true);
}

void Client::process(const Delivery& d) {
  const std::string from = device_label(d.from, d.from_device);
  hush::ReceiveOptions options = receive_options();
  // Who sent it is what the relay says (the device of the connection it came on), not what the
  // envelope says: an envelope naming another sender is refused before anything is decrypted.
  options.authenticated_name = d.from;
  options.authenticated_device = hush::DeviceId{d.from_device};
  // The message goes into the log in the transaction that commits the session.
  options.before_commit = [&](const hush::ReceivedMessage& m) { return log_received(m); };
  auto r = messenger_->receive(d.envelope, options);
  if (r) {
    ack(d.id);
    if (*r) show_message(**r);  // (nothing to show: a resend already shown, a retry request)
    return;
  }
  const hush::Errc code = r.error().code();
  if (code == hush::Errc::kDuplicateMessage) {
    ack(d.id);
    info("a message from " + from + " came twice; the copy was ignored");
    return;
  }
  if (code == hush::Errc::kSenderMismatch) {
    names_its_sender(d);  // says so, and acknowledges
    return;
  }
  if (code == hush::Errc::kUntrustedIdentity) {
    // The message authenticated under another identity key than the one we trust for d.from.
    if (auto change = messenger_->identity_change(d.from)) {
      show_identity_change(*change, true);
      hold(d, true);
      return;
    }
  }
  if (code == hush::Errc::kStoreFailure) {
    error("cannot store a message from " + from + " (store_failure); it will come again");
    return;
  }
  ack(d.id);
  error("dropped a message from " + from + ": " + code_name(r.error()));
}

// Keeps `d` in the store until /trust, then acknowledges it: a held message never occupies the
// relay's window of unacknowledged deliveries.
void Client::hold(const Delivery& d, bool first) {
  auto dropped = held_->hold(d.from, d.from_device, d.id, d.envelope);
  if (!dropped) {
    error("cannot keep a held message from " + d.from + " (" + code_name(dropped.error()) +
          "); it will come again");
    return;  // not acknowledged: the relay delivers it again on the next connection
  }
  ack(d.id);
  for (const auto& x : *dropped) {
    if (x.per_peer) {
      error("too many messages held from " + x.entry.peer + ": dropped the oldest (at most " +
            std::to_string(HeldMessages::kMaxPerPeer) + " per person wait for /trust)");
    } else {
      error("too many held messages: dropped the oldest, from " + x.entry.peer + " (at most " +
            std::to_string(HeldMessages::kMaxTotal) + " wait for /trust)");
    }
  }
  if (!first) error("another message from " + d.from + " is held until you /trust " + d.from);
}

// Reads the messages held from `peer`, oldest first, until one meets an identity change again (it
// and the rest stay held). At start, that re-raises the change the held messages wait for (the
// Messenger forgets pending changes on restart).
void Client::release_held(const std::string& peer, bool at_start) {
  while (auto entry = held_->oldest(peer)) {
    auto envelope = held_->envelope(*entry);
    if (!envelope) {
      error("cannot read a message held from " + peer + ": " + code_name(envelope.error()));
      return;
    }
    hush::ReceiveOptions options = receive_options();
    options.authenticated_name = peer;
    options.authenticated_device = hush::DeviceId{entry->device};
    // Logged, and no longer held, in the transaction that commits the session.
    options.before_commit = [&](const hush::ReceivedMessage& m) -> hush::Status {
      if (auto st = log_received(m); !st) return st;
      return held_->remove(entry->seq);
    };
    auto r = messenger_->receive(*envelope, options);
    if (r) {
      if (*r) {
        show_message(**r);
      } else if (auto st = held_->remove(entry->seq); !st) {
        // Nothing to show (a retry request, now answered; a resend already shown): not held.
        error("cannot forget a message held from " + peer + ": " + code_name(st.error()));
        return;
      }
      continue;
    }
    (void)held_->load();  // the transaction rolled back: what remove() did in memory too
    const hush::Errc code = r.error().code();
    if (code == hush::Errc::kUntrustedIdentity) {
      if (auto change = messenger_->identity_change(peer)) {
        show_identity_change(*change, true);
        if (at_start)
          info(std::to_string(held_->count(peer)) + " message(s) from " + peer +
               " are held, unread, until you /trust " + peer);
        return;
      }
    }
    if (code == hush::Errc::kStoreFailure) {
      error("cannot store a message held from " + peer + " (store_failure); it stays held");
      return;
    }
    // Anything else will never decrypt: let it go.
    if (auto st = held_->remove(entry->seq); !st) {
      error("cannot forget a message held from " + peer + ": " + code_name(st.error()));
      return;
    }
    if (code == hush::Errc::kDuplicateMessage) {
      info("a message held from " + peer + " came twice; the copy was ignored");
    } else {
      error("dropped a message held from " + peer + ": " + code_name(r.error()));
    }
  }
}

void Client::show_identity_change(const hush::IdentityChangeEvent& change, bool incoming) {
  const std::string& who = change.person;
  auto ours = store_->identity_key_pair();
  std::string old_number = "(none)";
  std::string new_number = "(unknown)";
  if (auto n = messenger_->safety_number(change.person)) old_number = grouped(n->displayable);
  if (ours) {
    if (auto n = hush::make_fingerprint(hush::kFingerprintIterations, handle_, ours->public_key,
                                        who, change.offered))
      new_number = grouped(n->displayable);
  }
  const std::string bar(78, '=');
  std::vector<std::string> lines = {
      bar,
      "WARNING: " + who + "'s identity key has CHANGED",
      "  trusted key:        " + (change.trusted ? key_hex(*change.trusted) : "(none)"),
      "  offered key:        " + key_hex(change.offered),
      "  old safety number:  " + old_number,
      "  new safety number:  " + new_number,
      incoming ? "A message from " + who + " came with the new key; it is held, unread."
               : "The relay handed out the new key for " + who + ".",
      "Either " + who + " reinstalled, or someone in the middle (the relay?) substitutes keys.",
      "Nothing is sent to " + who + " now. Compare the new safety number with " + who,
      "in person (or on a call you trust); only if it matches, type /trust " + who + ".",
      "If it does not, type /keep " + who + " to go on with the trusted key.",
      bar,
  };
  std::string box;
  for (const auto& l : lines) {
    if (!box.empty()) box += '\n';
    box += "!! " + l;
  }
  term_.print(box, Terminal::Style::kAlarm);
}

// ---- commands ----

void Client::execute(const std::string& raw) {
  // (Lines from a --script file come here unchecked; typed ones were checked in take_input.)
  if (raw.size() > kMaxInputLine) {
    refuse_long_line();
    return;
  }
  // A message is sent as typed, leading spaces included; only trailing blanks (and a '\r' left
  // by a CRLF line end) go.
  const std::string_view typed = [&] {
    std::string_view v = raw;
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r'))
      v.remove_suffix(1);
    return v;
  }();
  const std::string_view line =
      typed.substr(std::min(typed.find_first_not_of(" \t"), typed.size()));
  if (line.empty()) return;
  // In a --script file, a line starting with '#' is a comment; typed, it is a message.
  if (!options_.script.empty() && line.front() == '#') return;
  bool ok = true;
  // "/cmd ..." is a command; "//text" sends "/text" (the first slash escapes the second).
  const bool command = line.front() == '/' && !(line.size() > 1 && line[1] == '/');
  if (!command) {
    std::string text(typed);
    if (line.front() == '/') text.erase(typed.size() - line.size(), 1);
    if (current_peer_.empty()) {
      error("to send, type /msg NAME TEXT (/help for the commands)");
      ok = false;
    } else {
      ok = cmd_msg(current_peer_, text);
    }
  } else {
    const auto words = split_words(line, 3);
    const std::string& cmd = words[0];
    const auto arg = [&](std::size_t i) { return i < words.size() ? words[i] : std::string(); };
    // A person's handle, as typed: handles are compared without regard to case.
    const auto who = [&] { return normalize_handle(arg(1)); };
    if (cmd == "/msg" || cmd == "/m") {
      ok = cmd_msg(who(), arg(2));
    } else if (cmd == "/verify" && words.size() == 2) {
      ok = cmd_verify(who());
    } else if (cmd == "/trust" && words.size() == 2) {
      ok = cmd_trust(who());
    } else if (cmd == "/keep" && words.size() == 2) {
      ok = cmd_keep(who());
    } else if (cmd == "/reset" && words.size() == 2) {
      ok = cmd_reset(who());
    } else if (cmd == "/history") {
      ok = cmd_history(split_words(line, 4));
    } else if (cmd == "/group") {
      ok = cmd_group(split_words(line, 2 + hush::kMaxGroupMembers));
    } else if (cmd == "/groups" && words.size() == 1) {
      ok = cmd_groups();
    } else if (cmd == "/g" && words.size() == 3) {
      ok = cmd_group_send(arg(1), arg(2));
    } else if (cmd == "/send" && words.size() == 3) {
      ok = cmd_send_file(arg(1), arg(2));
    } else if (cmd == "/save" && words.size() <= 2) {
      ok = cmd_save(arg(1));
    } else if (cmd == "/sync" && words.size() == 1) {
      ok = cmd_sync();
    } else if (cmd == "/call" && words.size() == 2) {
      ok = cmd_call(arg(1));
    } else if (cmd == "/answer" && words.size() == 1) {
      ok = cmd_answer();
    } else if (cmd == "/hangup" && words.size() == 1) {
      ok = cmd_hangup();
    } else if (cmd == "/wait" && words.size() >= 2 && words[1].rfind("call", 0) == 0) {
      ok = cmd_wait_call(split_words(line, 5));
    } else if (cmd == "/wait") {
      ok = cmd_wait(split_words(line, 4));
    } else if (cmd == "/link" && words.size() >= 2) {
      ok = cmd_link(std::string(line.substr(line.find(' ') + 1)));
    } else if (cmd == "/devices" && words.size() <= 2) {
      ok = cmd_devices(who());
    } else if (cmd == "/unlink" && words.size() == 2) {
      ok = cmd_unlink(arg(1));
    } else if ((cmd == "/quit" || cmd == "/exit") && words.size() == 1) {
      quit_ = true;
    } else if (cmd == "/help") {
      term_.print(std::string(kUsage.substr(kUsage.find("commands:"))));
    } else {
      error("unknown command or wrong arguments: " + printable(line.substr(0, 80)) +
            " (/help for the commands)");
      ok = false;
    }
  }
  if (!ok && !term_.interactive() && exit_code_ == 0) exit_code_ = 2;
}

bool Client::cmd_msg(const std::string& to, const std::string& text) {
  if (!valid_handle(to)) {
    error("usage: /msg NAME TEXT (NAME: 1 to 32 of A-Z a-z 0-9 _ . -)");
    return false;
  }
  if (text.empty()) {
    error("usage: /msg NAME TEXT");
    return false;
  }
  if (text.size() > kMaxTextBytes) {
    error("message too long (at most " + std::to_string(kMaxTextBytes) + " bytes)");
    return false;
  }
  if (to == handle_) {
    error("message to " + to + " not sent: that is us (what we send shows on all our devices)");
    return false;
  }
  // An identity change seen on a message from the peer is pending: the session we have is with
  // the old key, and nothing may go out until the user decided.
  if (auto change = messenger_->identity_change(to)) {
    show_identity_change(*change, false);
    error("message to " + to + " not sent: " +
          code_name(hush::Error(hush::Errc::kUntrustedIdentity, "identity change pending")) +
          "; compare safety numbers, then /trust " + to);
    return false;
  }
  auto sent = messenger_->send(to, hush::as_bytes(text));
  if (!sent) {
    if (sent.error().code() == hush::Errc::kUntrustedIdentity) {
      if (auto change = messenger_->identity_change(to)) show_identity_change(*change, false);
    }
    const hush::Errc code = sent.error().code();
    std::string why = code_name(sent.error());
    if (code == hush::Errc::kNoSession && !connected_)
      why = "we have never written to " + to + ", and the relay is unreachable (no_session)";
    else if (code == hush::Errc::kNoSession)
      why = to + " is not registered at the relay (no_session)";
    else if (code == hush::Errc::kUntrustedIdentity)
      why += "; compare safety numbers, then /trust " + to;
    else if (!last_refusal_.empty())
      why += " (" + last_refusal_ + ")";
    error("message to " + to + " not sent: " + why);
    return false;
  }
  // Sent (or kept for sending): plain lines go to this person from now on. A /msg that failed
  // (a handle nobody registered, a typo) leaves the current recipient as it was.
  set_current_peer(to);
  // What happened per device: sent (the relay has it on disk), queued (kept in the outbox, sent
  // by a later flush), or failed.
  std::size_t sent_to_them = 0;
  std::vector<std::string> queued, failed;
  std::optional<hush::Errc> queued_why;
  for (const hush::DeviceDelivery& d : sent->deliveries) {
    const std::string label =
        d.device.name == handle_
            ? "me:" + std::to_string(hush::to_uint(d.device.device_id))
            : printable(device_label(d.device.name, hush::to_uint(d.device.device_id)));
    const std::string why = d.error ? code_name(*d.error) : "?";
    if (d.state == hush::DeliveryState::kSent) {
      if (d.device.name == to) ++sent_to_them;
    } else if (d.state == hush::DeliveryState::kQueued) {
      queued.push_back(label);
      if (d.error) queued_why = d.error->code();
    } else {
      failed.push_back(label + " (" + why + ")");
    }
  }
  const std::string shown = "[me -> " + to + "] " + printable(text);
  const bool unreachable = !connected_;
  std::string reason = last_refusal_.empty() ? "the relay did not take it" : last_refusal_;
  if (unreachable) {
    reason = "the relay is unreachable";
  } else if (queued_why == hush::Errc::kNoSession) {
    reason = "no keys published yet";
  } else if (queued_why == hush::Errc::kUntrustedIdentity) {
    reason = "an identity change waits for /trust";
  }
  log_sent(to, sent->message_id, text, sent_to_them > 0 ? Mark::kSent : Mark::kNone);
  if (sent_to_them == 0 && failed.empty() && !queued.empty()) {
    info("queued: " + shown + " (" + reason + "); it will be sent " +
         (unreachable ? std::string("when the relay is back") : std::string("later")));
  } else {
    term_.print(shown + stamp(now_ms(), sent_to_them > 0 ? Mark::kSent : Mark::kNone),
                Terminal::Style::kOutgoing);
    std::string list;
    for (const auto& q : queued)
      list += (list.empty() ? "" : ", ") + q;
    if (!queued.empty())
      info("not yet delivered to " + list + " (" + reason + "); kept, and sent later");
  }
  for (const auto& f : failed)
    error("message to " + to + " not delivered to " + f);
  return true;
}

// Which protocol our sessions with the devices of `who` use: "post-quantum (Signal v4)" when every
// one is version 4 (PQXDH and SPQR), else says which are not.
std::string Client::protocol_version(const std::string& who) {
  auto list = messenger_->devices(who);
  if (!list) return "unknown (" + code_name(list.error()) + ")";
  std::size_t v4 = 0;
  std::size_t v3 = 0;
  for (const hush::DeviceId d : list->devices) {
    const hush::Address device{who, d};
    if (device == hush::Address{handle_, hush::DeviceId{device_}}) continue;
    auto session = hush::session_info(*store_, device);
    if (!session || !session->exists) continue;
    if (session->version >= 4)
      ++v4;
    else
      ++v3;
  }
  if (v4 == 0 && v3 == 0) return "no session yet (exchange a message first)";
  if (v3 == 0) return "post-quantum (Signal v4)";
  if (v4 == 0) return "Signal v3, not post-quantum (their app publishes no Kyber prekeys)";
  return "post-quantum (Signal v4) with " + std::to_string(v4) + " of their devices, Signal v3 " +
         "(not post-quantum) with " + std::to_string(v3);
}

bool Client::cmd_verify(const std::string& who) {
  if (!valid_handle(who)) {
    error("usage: /verify NAME");
    return false;
  }
  auto number = messenger_->safety_number(who);
  if (!number) {
    if (number.error().code() == hush::Errc::kNoSession) {
      error("no identity known for " + who + " yet: exchange a message first");
    } else {
      error("cannot compute the safety number: " + code_name(number.error()));
    }
    return false;
  }
  info("safety number with " + who + ": " + grouped(number->displayable));
  info("encryption with " + who + ": " + protocol_version(who));
  if (messenger_->identity_change(who))
    error(who + " has offered another identity key since: see the warning, and /trust " + who +
          " only after comparing the new number");
  return true;
}

bool Client::cmd_trust(const std::string& who) {
  if (!valid_handle(who)) {
    error("usage: /trust NAME");
    return false;
  }
  auto change = messenger_->identity_change(who);
  if (!change) {
    error("no identity change is pending for " + who + " (one shows when a message to or from " +
          who + " meets a new key)");
    return false;
  }
  if (auto st = messenger_->approve_identity(who, change->offered); !st) {
    error("cannot trust the new key: " + code_name(st.error()));
    return false;
  }
  std::string number;
  if (auto n = messenger_->safety_number(who)) number = grouped(n->displayable);
  info(who + "'s new identity key " + key_hex(change->offered) +
       " is trusted now; safety number: " + number);
  // The messages held for this moment, in order (one may meet yet another change); a retry
  // request among them makes the Messenger send its messages again.
  release_held(who, false);
  if (connected_) flush_outbox(true);
  return true;
}

// /keep NAME: the user compared safety numbers and keeps the key trusted for NAME: the pending
// change is forgotten (it is kept across restarts until then), and sending to NAME resumes with
// the trusted key. The offered key stays refused: a message under it is held again.
bool Client::cmd_keep(const std::string& who) {
  if (!valid_handle(who)) {
    error("usage: /keep NAME");
    return false;
  }
  auto change = messenger_->identity_change(who);
  if (!change) {
    error("no identity change is pending for " + who);
    return false;
  }
  if (auto st = messenger_->dismiss_identity_change(who); !st) {
    error("cannot forget the identity change: " + code_name(st.error()));
    return false;
  }
  info("kept " + who + "'s trusted identity key " +
       (change->trusted ? key_hex(*change->trusted) : std::string("(none)")) +
       "; the offered key " + key_hex(change->offered) + " stays refused");
  return true;
}

bool Client::cmd_reset(const std::string& who) {
  if (!valid_handle(who)) {
    error("usage: /reset NAME");
    return false;
  }
  // The current sessions (with each of the person's devices) are archived (late messages still
  // decrypt); the person's identity stays stored, and trusted.
  auto devices = store_->session_devices(who);
  if (!devices) {
    error("cannot reset: " + code_name(devices.error()));
    return false;
  }
  for (hush::DeviceId d : *devices) {
    if (auto st = messenger_->reset_session(hush::Address{who, d}); !st) {
      error("cannot reset: " + code_name(st.error()));
      return false;
    }
  }
  info("forgot the session with " + who + " (" + who +
       "'s identity stays trusted); the next message fetches a new bundle");
  return true;
}

// /history [NAME|#GROUP] [N]: the last N entries of the log (of one conversation), with marks.
bool Client::cmd_history(const std::vector<std::string>& args) {
  std::size_t n = 20;
  std::string filter;  // a log conversation key, or empty for all
  std::string shown_as;
  std::size_t at = 1;
  // (A count is all digits; a handle that is all digits reads as a count: /history 42 20.)
  const auto all_digits = [](const std::string& w) {
    return std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (args.size() > at && !all_digits(args[at])) {
    const std::string& who = args[at];
    if (who[0] == '#') {
      auto id = find_group(who, false);
      if (!id) return false;
      filter = group_key(*id);
      shown_as = group_label(*id);
    } else {
      filter = normalize_handle(who);
      shown_as = filter;
      if (!valid_handle(filter)) {
        error("usage: /history [NAME|#GROUP] [N]");
        return false;
      }
    }
    ++at;
  }
  if (args.size() > at) {
    char* end = nullptr;
    const long v = std::strtol(args[at].c_str(), &end, 10);
    if (*end != '\0' || v < 1 || v > static_cast<long>(kMaxLogEntries) || args.size() > at + 1) {
      error("usage: /history [NAME|#GROUP] [N]");
      return false;
    }
    n = static_cast<std::size_t>(v);
  }
  auto next = store_->app_data(kLogNextKey);
  if (!next) {
    error("cannot read the log: " + code_name(next.error()));
    return false;
  }
  const std::uint64_t total = *next ? read_u64(**next).value_or(0) : 0;
  const std::uint64_t oldest = total > kMaxLogEntries ? total - kMaxLogEntries : 0;
  std::vector<LogEntry> found;  // newest first
  for (std::uint64_t i = total; i > oldest && found.size() < n; --i) {
    auto stored = store_->app_data("chat/log/" + std::to_string(i - 1));
    if (!stored || !*stored) continue;
    auto e = decode_entry(**stored);
    if (!e || (!filter.empty() && e->conversation != filter)) continue;
    found.push_back(std::move(*e));
  }
  info(filter.empty()
           ? "the last " + std::to_string(found.size()) + " messages:"
           : "the last " + std::to_string(found.size()) + " messages with " + shown_as + ":");
  for (auto it = found.rbegin(); it != found.rend(); ++it) {
    const LogEntry& e = *it;
    std::string where = printable(e.conversation);
    if (!e.conversation.empty() && e.conversation[0] == '#') {
      auto gid = hush::from_hex(e.conversation.substr(1));
      hush::GroupId g{};
      if (gid && gid->size() == g.size()) std::copy(gid->begin(), gid->end(), g.begin());
      where = group_label(g);
    }
    const std::string text = printable(e.text);
    const std::string when =
        e.sent_ms
            ? stamp(e.sent_ms, e.direction == 'o' ? std::optional<Mark>(e.mark) : std::nullopt)
            : std::string();
    if (e.direction == 'o' && !e.conversation.empty() && e.conversation[0] == '#' &&
        !e.message_id.empty()) {
      auto stored_to = store_->app_data(to_key(e.message_id));
      std::optional<Recipients> to;
      if (stored_to && *stored_to) to = decode_recipients(**stored_to);
      term_.print("  [me -> " + where + "] " + text + when + (to ? "," + group_marks(*to) : ""));
    } else if (e.direction == 'o') {
      term_.print("  [me -> " + where + "] " + text + when);
    } else if (!e.sender.empty()) {
      term_.print("  [" + where + "] " + printable(e.sender) + ": " + text + when);
    } else {
      term_.print("  [" + where + "] " + text + when);
    }
  }
  return true;
}

// A group by its name ("family" or "#family") or by the start of its id ("#?0123abcd", as
// group_label shows a group whose name is not enough): among those we are in (members_only), or
// all we hold. Names are their creator's choice, so several groups may share one: then the one we
// made wins (a group someone else names like ours never makes ours unusable), else it says which
// ids there are.
std::optional<hush::GroupId> Client::find_group(const std::string& typed, bool members_only) {
  const std::string name = !typed.empty() && typed[0] == '#' ? typed.substr(1) : typed;
  const bool by_id = !name.empty() && name[0] == '?';
  const std::string prefix = by_id ? name.substr(1) : std::string();
  if (by_id && (prefix.size() < 4 || prefix.size() > 32 ||
                !std::all_of(prefix.begin(), prefix.end(), [](char c) {
                  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                }))) {
    error("#?ID: 4 to 32 of the group id's hex digits (/groups shows them)");
    return std::nullopt;
  }
  std::vector<hush::GroupId> found;
  bool left = false;
  for (const auto& [id, g] : groups_) {
    if (by_id ? hush::to_hex(id).rfind(prefix, 0) != 0 : g.name != name) continue;
    if (members_only && !g.member) {
      left = true;
      continue;
    }
    found.push_back(id);
  }
  if (found.size() > 1 && !by_id) {
    std::vector<hush::GroupId> ours;
    for (const auto& id : found)
      if (own_groups_.count(id) > 0) ours.push_back(id);
    if (ours.size() == 1) return ours.front();
  }
  if (found.size() == 1) return found.front();
  const std::string shown = by_id ? "#?" + prefix : "#" + printable(name);
  if (found.empty()) {
    error(left ? "we are no longer in " + shown + " (left, or removed)"
               : "no group " + shown + " (/groups lists ours)");
  } else {
    std::string ids;
    for (const auto& id : found)
      ids += (ids.empty() ? "" : ", ") + std::string("#?") + hush::to_hex(id).substr(0, 8);
    error("several groups are " + shown + ": " + ids + "; name one by its id (/g #?ID TEXT)");
  }
  return std::nullopt;
}

// What a group operation did, for the user: kFailed devices are named (the change or message did
// not reach them; a change reaches them with the next one).
bool Client::report_group_send(const std::string& label, const hush::GroupSendResult& r) {
  std::string failed;
  for (const hush::DeviceDelivery& d : r.deliveries) {
    if (d.state == hush::DeliveryState::kSent) continue;
    failed += (failed.empty() ? "" : ", ") +
              printable(device_label(d.device.name, hush::to_uint(d.device.device_id))) +
              (d.error ? " (" + code_name(*d.error) + ")" : "");
  }
  if (!failed.empty()) error(label + " not delivered to " + failed);
  return true;
}

// True if `who` has a device list at the relay (is registered and has published keys); says why
// not otherwise. A group member without one would get nothing.
bool Client::known_person(const std::string& who, const std::string& what) {
  auto list = messenger_->devices(who);
  if (list) return true;
  if (list.error().code() == hush::Errc::kNoSession) {
    error(what + ": " + who + " is not registered at the relay (no_session)");
  } else {
    error(what + ": cannot get " + who + "'s devices: " + code_name(list.error()) +
          (last_refusal_.empty() ? "" : " (" + last_refusal_ + ")"));
  }
  return false;
}

bool Client::cmd_group(const std::vector<std::string>& args) {
  const std::string usage =
      "usage: /group new GROUP NAME... | /group add GROUP NAME | /group remove GROUP NAME | "
      "/group leave GROUP";
  if (args.size() < 3) {
    error(usage);
    return false;
  }
  const std::string& sub = args[1];
  const std::string name = args[2][0] == '#' ? args[2].substr(1) : args[2];
  auto fail = [&](const std::string& what, const hush::Error& e) {
    std::string why = code_name(e);
    if (e.code() == hush::Errc::kNotGroupAdmin) why = "only an admin may (not_group_admin)";
    if (!last_refusal_.empty() && e.code() == hush::Errc::kTransportFailure)
      why += " (" + last_refusal_ + ")";
    error(what + ": " + why);
    return false;
  };
  auto remember = [&](const hush::GroupId& id) {
    if (auto g = messenger_->group(id)) groups_[id] = std::move(*g);
  };
  if (sub == "new") {
    if (!valid_handle(name)) {
      error("a group's name is 1 to 32 of A-Z a-z 0-9 _ . - (" + usage + ")");
      return false;
    }
    for (const auto& [id, g] : groups_) {
      if (g.member && g.name == name && own_groups_.count(id) > 0) {
        error("we made a group called #" + name + " already");
        return false;
      }
    }
    std::vector<std::string> members;
    for (std::size_t i = 3; i < args.size(); ++i) {
      const std::string who = normalize_handle(args[i]);
      if (!valid_handle(who) || who == handle_) {
        error("/group new: '" + printable(args[i]) + "' is not someone else's handle");
        return false;
      }
      if (std::find(members.begin(), members.end(), who) != members.end()) continue;
      if (!known_person(who, "cannot make #" + name)) return false;
      members.push_back(who);
    }
    if (members.empty()) {
      error(usage);
      return false;
    }
    auto made = messenger_->create_group(name, members);
    if (!made) return fail("cannot make #" + name, made.error());
    remember(made->group);
    own_groups_.insert(made->group);
    Bytes ids;
    for (const auto& id : own_groups_)
      ids.insert(ids.end(), id.begin(), id.end());
    if (auto st = store_->put_app_data(kOwnGroupsKey, ids); !st)
      error("cannot write our state: " + code_name(st.error()));
    std::string list;
    for (const auto& m : members)
      list += (list.empty() ? "" : ", ") + m;
    info("[#" + name + "] made the group, with " + list + " (/g " + name + " TEXT writes to it)");
    return report_group_send("the group", *made);
  }
  if (sub == "leave" && args.size() == 3) {
    auto id = find_group(name, true);
    if (!id) return false;
    auto left = messenger_->leave_group(*id);
    if (!left) return fail("cannot leave #" + name, left.error());
    remember(*id);
    info("[#" + name + "] left the group");
    return report_group_send("the change", *left);
  }
  if ((sub == "add" || sub == "remove") && args.size() == 4) {
    const std::string who = normalize_handle(args[3]);
    if (!valid_handle(who)) {
      error(usage);
      return false;
    }
    auto id = find_group(name, true);
    if (!id) return false;
    if (sub == "add" && !known_person(who, "cannot add " + who + " to #" + name)) return false;
    auto done =
        sub == "add" ? messenger_->add_member(*id, who) : messenger_->remove_member(*id, who);
    if (!done) {
      if (done.error().code() == hush::Errc::kInvalidArgument) {
        error(
            "cannot " + sub + " " + who + (sub == "add" ? " to #" : " from #") + name + ": " + who +
            (sub == "add" ? " is a member already" : " is not a member (or is us: /group leave)"));
        return false;
      }
      return fail("cannot " + sub + " " + who + (sub == "add" ? " to #" : " from #") + name,
                  done.error());
    }
    remember(*id);
    info("[#" + name + "] " + (sub == "add" ? "added " : "removed ") + who +
         (sub == "add" ? ": they get what is sent to #" + name + " from now on"
                       : ": they get nothing sent to #" + name + " from now on"));
    return report_group_send("the change", *done);
  }
  error(usage);
  return false;
}

bool Client::cmd_groups() {
  std::size_t shown = 0;
  for (const auto& [id, g] : groups_) {
    std::string members;
    for (const auto& m : g.members) {
      members += (members.empty() ? "" : ", ") + printable(m);
      if (std::find(g.admins.begin(), g.admins.end(), m) != g.admins.end()) members += "*";
    }
    info("#" + printable(g.name) + " (#?" + hush::to_hex(id).substr(0, 8) +
         (own_groups_.count(id) > 0 ? ", ours" : "") + ")" + (g.member ? "" : " (left)") + ": " +
         members);
    ++shown;
  }
  if (shown == 0) info("no groups yet (/group new GROUP NAME... makes one)");
  return true;
}

bool Client::cmd_group_send(const std::string& name, const std::string& text) {
  if (text.size() > kMaxTextBytes) {
    error("message too long (at most " + std::to_string(kMaxTextBytes) + " bytes)");
    return false;
  }
  auto id = find_group(name, true);
  if (!id) return false;
  const std::string label = group_label(*id);
  auto sent = messenger_->send_to_group(*id, hush::as_bytes(text));
  if (!sent) {
    error("message to " + label + " not sent: " + code_name(sent.error()) +
          (last_refusal_.empty() ? "" : " (" + last_refusal_ + ")"));
    return false;
  }
  // Group messages are not kept for later (the library's outbox is for 1:1 messages): one that
  // reached no device is not sent at all, and says so.
  if (!sent->deliveries.empty() &&
      std::none_of(sent->deliveries.begin(), sent->deliveries.end(),
                   [](const auto& d) { return d.state == hush::DeliveryState::kSent; })) {
    error("message to " + label + " not sent: " +
          (connected_
               ? (last_refusal_.empty() ? std::string("the relay did not take it") : last_refusal_)
               : std::string("the relay is unreachable")) +
          " (group messages are not kept: send it again)");
    return false;
  }
  log_sent(group_key(*id), sent->message_id, text, Mark::kSent, &*sent);
  term_.print("[me -> " + label + "] " + printable(text) + stamp(now_ms(), Mark::kSent),
              Terminal::Style::kOutgoing);
  return report_group_send("message to " + label, *sent);
}

// /send NAME FILE, /send #GROUP FILE: the file is encrypted and uploaded to the relay (which
// stores ciphertext), then its pointer (with the key) goes inside a message.
bool Client::cmd_send_file(const std::string& to_typed, const std::string& path) {
  const bool group = !to_typed.empty() && to_typed[0] == '#';
  std::optional<hush::GroupId> gid;
  std::string to;
  if (group) {
    gid = find_group(to_typed, true);
    if (!gid) return false;
    to = group_label(*gid);
  } else {
    to = normalize_handle(to_typed);
    if (!valid_handle(to) || to == handle_) {
      error("usage: /send NAME FILE or /send #GROUP FILE");
      return false;
    }
  }
  // The recipient first: nothing is uploaded for a person who is not there (a typo), or while an
  // identity change waits.
  if (!group) {
    if (!known_person(to, "file not sent")) return false;
    if (auto change = messenger_->identity_change(to)) {
      show_identity_change(*change, false);
      error("file not sent: " +
            code_name(hush::Error(hush::Errc::kUntrustedIdentity, "identity change pending")) +
            "; compare safety numbers, then /trust " + to);
      return false;
    }
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    error("file not sent: '" + printable(path) + "': " + std::strerror(errno));
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    error("file not sent: '" + printable(path) + "' is not a regular file");
    return false;
  }
  if (static_cast<std::uint64_t>(st.st_size) > hush::kMaxAttachmentBytes) {
    error("file not sent: '" + printable(path) + "' is " + std::to_string(st.st_size) +
          " bytes; at most " + std::to_string(hush::kMaxAttachmentBytes) +
          " (2 GiB) go (attachment_too_large)");
    return false;
  }
  auto pointer = hush::upload_attachment_file(ctx_, link_, path, "application/octet-stream");
  if (!pointer) {
    error("file not sent: " + (last_error_code_.empty()
                                   ? code_name(pointer.error()) +
                                         (last_refusal_.empty() ? "" : " (" + last_refusal_ + ")")
                                   : last_refusal_ + " (" + printable(last_error_code_) + ")"));
    return false;
  }
  const std::string name = pointer->file_name;
  const std::string blob = pointer->id;
  const std::string text = "file: " + name + " (" + std::to_string(pointer->size) + " bytes)";
  std::vector<hush::AttachmentPointer> files;
  files.push_back(std::move(*pointer));
  hush::SendOptions options;
  options.attachments = files;
  if (group) {
    auto sent = messenger_->send_to_group(*gid, hush::as_bytes(text), options);
    if (!sent) {
      error("file to " + to + " not sent: " + code_name(sent.error()));
      delete_blob(blob);
      return false;
    }
    // Group messages are not kept for later: one that reached no device is not sent at all.
    if (std::none_of(sent->deliveries.begin(), sent->deliveries.end(),
                     [](const auto& d) { return d.state == hush::DeliveryState::kSent; })) {
      error("file to " + to + " not sent: " +
            (connected_ ? (last_refusal_.empty() ? std::string("no device of the group took it")
                                                 : last_refusal_)
                        : std::string("the relay is unreachable")) +
            " (group messages are not kept: send it again)");
      delete_blob(blob);
      return false;
    }
    log_sent(group_key(*gid), sent->message_id, text, Mark::kSent, &*sent);
    term_.print("[me -> " + to + "] " + printable(text) + stamp(now_ms(), Mark::kSent),
                Terminal::Style::kOutgoing);
    return report_group_send("file to " + to, *sent);
  }
  auto sent = messenger_->send(to, hush::as_bytes(text), options);
  if (!sent) {
    error("file to " + to + " not sent: " + code_name(sent.error()) +
          (last_refusal_.empty() ? "" : " (" + last_refusal_ + ")"));
    delete_blob(blob);
    return false;
  }
  const bool any = std::any_of(
      sent->deliveries.begin(), sent->deliveries.end(),
      [&](const auto& d) { return d.state == hush::DeliveryState::kSent && d.device.name == to; });
  log_sent(to, sent->message_id, text, any ? Mark::kSent : Mark::kNone);
  term_.print(
      "[me -> " + to + "] " + printable(text) + stamp(now_ms(), any ? Mark::kSent : Mark::kNone),
      Terminal::Style::kOutgoing);
  return true;
}

// Deletes a blob we uploaded for a message that was not sent (it would stay at the relay, taking
// our quota, until it expires).
void Client::delete_blob(const std::string& id) {
  if (!valid_blob_id(id) || !connected_) return;
  // (The refusal that made us delete it stays the one to tell.)
  const std::string refusal = last_refusal_, code = last_error_code_;
  Message m;
  m.kind = Kind::kBlobDelete;
  m.name = id;
  auto reply = request(std::move(m));
  if (!reply || reply->kind != Kind::kOk)
    error("the relay did not delete our upload of the file (" +
          (last_refusal_.empty() ? std::string("no answer") : last_refusal_) +
          "): it expires there");
  last_refusal_ = refusal;
  last_error_code_ = code;
}

bool Client::cmd_wait(const std::vector<std::string>& args) {
  auto number = [](const std::string& s, long max) -> std::optional<long> {
    char* end = nullptr;
    const long v = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || v < 0 || v > max) return std::nullopt;
    return v;
  };
  const auto n = args.size() >= 2 ? number(args[1], 1000000) : std::nullopt;
  const auto s = args.size() == 3 ? number(args[2], 3600) : std::optional<long>(30);
  if (!n || !s || args.size() > 3) {
    error("usage: /wait N [SECONDS]");
    return false;
  }
  const auto deadline = Clock::now() + std::chrono::seconds(*s);
  while (received_ < static_cast<std::uint64_t>(*n) && !quit_) {
    const auto timer = next_timer();
    auto ev = next_event(timer ? std::min(*timer, deadline) : deadline);
    if (ev) {
      handle_event(std::move(*ev));
      pump_downloads();
      continue;
    }
    if (Clock::now() < deadline) {
      run_timers();  // (the relay may be away: we reconnect meanwhile)
      continue;
    }
    error("/wait " + std::to_string(*n) + ": timed out after " + std::to_string(*s) + " s with " +
          std::to_string(received_) + " messages");
    if (!term_.interactive()) {
      exit_code_ = 3;
      quit_ = true;
    }
    return false;
  }
  return true;
}

// Round trips to the relay: it sends what it has queued for us (up to its window of unacknowledged
// deliveries) before it answers a later request on the same ordered stream. So after a round trip
// that brought no delivery, everything it had is here, and has been shown.
bool Client::cmd_sync() {
  for (;;) {
    const std::uint64_t before = deliveries_;
    Message m;
    m.kind = Kind::kCount;
    auto reply = request(std::move(m));
    if (!reply || reply->kind != Kind::kCountIs) {
      error("/sync: " + (last_refusal_.empty() ? std::string("failed") : last_refusal_));
      return false;
    }
    while (!quit_) {
      auto ev = next_event(Clock::now());
      if (!ev) break;
      handle_event(std::move(*ev));
    }
    pump_downloads();
    if (quit_ || deliveries_ == before) return true;
  }
}

// /link CODE: the code a new device of ours shows (hush-chat --link). Gives it a device id and
// publishes our new device list (Messenger::link_device), registers a relay token for it, and
// posts the sealed link message (with the token and our handle inside) to the code's mailbox.
bool Client::cmd_link(const std::string& code) {
  Bytes token(kTokenBytes);
  if (!ctx_.random.fill(token)) {
    error("cannot link: no randomness");
    return false;
  }
  const hush::SecretBytes data = link_data(handle_, token);
  auto linked = messenger_->link_device(code, data.expose());
  if (!linked) {
    hush::secure_wipe(token);
    if (linked.error().code() == hush::Errc::kInvalidArgument) {
      error("cannot link: that is not a link code (mistyped?)");
    } else {
      error("cannot link: " + code_name(linked.error()) +
            (last_refusal_.empty() ? "" : " (" + last_refusal_ + ")"));
    }
    return false;
  }
  const std::uint32_t device = hush::to_uint(linked->device_id);
  // Undoes the link when the new device cannot be reached: off our list, and off the relay.
  auto undo = [&](bool registered) {
    if (auto st = messenger_->unlink_device(linked->device_id); !st)
      error("and cannot take device " + std::to_string(device) + " off our list again: " +
            code_name(st.error()) + " (/unlink " + std::to_string(device) + " later)");
    if (!registered) return;
    Message remove;
    remove.kind = Kind::kRemoveDevice;
    remove.device = device;
    (void)request(std::move(remove));
  };
  if (device > kMaxDeviceId) {
    hush::secure_wipe(token);
    error("cannot link: device ids are used up at this relay");
    undo(false);
    return false;
  }
  Message add;
  add.kind = Kind::kAddDevice;
  add.device = device;
  add.body = token;
  hush::secure_wipe(token);
  auto added = request(std::move(add));
  if (!added || added->kind != Kind::kOk) {
    error("cannot link: the relay did not register device " + std::to_string(device) + " (" +
          (last_refusal_.empty() ? std::string("no answer") : last_refusal_) + ")");
    undo(false);
    return false;
  }
  Message post;
  post.kind = Kind::kLinkPost;
  post.mailbox.assign(linked->mailbox.begin(), linked->mailbox.end());
  post.body = std::move(linked->message);
  if (post.body.size() > kMaxLinkMessageBytes) {
    error("cannot link: the link message is too large for the relay (too many contacts)");
    undo(true);
    return false;
  }
  auto posted = request(std::move(post));
  if (!posted || posted->kind != Kind::kOk) {
    error("cannot link: the relay did not take the link message (" +
          (last_refusal_.empty() ? std::string("no answer") : last_refusal_) + ")");
    undo(true);
    return false;
  }
  info("linked device " + std::to_string(device) + " of " + handle_ +
       ": it shows our conversations from now on (/devices lists them, /unlink " +
       std::to_string(device) + " removes it)");
  return true;
}

// /devices [NAME]: the devices on a person's signed list (ours by default).
bool Client::cmd_devices(const std::string& who_arg) {
  const std::string who = who_arg.empty() ? handle_ : who_arg;
  if (!valid_handle(who)) {
    error("usage: /devices [NAME]");
    return false;
  }
  auto list = messenger_->devices(who);
  if (!list) {
    if (list.error().code() == hush::Errc::kUntrustedIdentity) {
      if (auto change = messenger_->identity_change(who)) show_identity_change(*change, false);
    }
    error(
        "cannot list " + who + "'s devices: " + code_name(list.error()) +
        (list.error().code() == hush::Errc::kNoSession ? " (" + who + " has published none)" : ""));
    return false;
  }
  std::string ids;
  for (hush::DeviceId d : list->devices) {
    ids += (ids.empty() ? "" : ", ") + std::to_string(hush::to_uint(d));
    if (who == handle_ && hush::to_uint(d) == device_) ids += " (this device)";
  }
  info(who + "'s devices: " + ids + " (signed list version " + std::to_string(list->version) + ")");
  return true;
}

// /unlink N: takes device N of ours off our signed list (senders stop encrypting to it) and off
// the relay (its token revoked, its keys and queue dropped).
bool Client::cmd_unlink(const std::string& arg) {
  char* end = nullptr;
  const long n = std::strtol(arg.c_str(), &end, 10);
  if (arg.empty() || *end != '\0' || n < 1 || n > static_cast<long>(kMaxDeviceId)) {
    error("usage: /unlink N (a device id: /devices lists them)");
    return false;
  }
  const auto device = static_cast<std::uint32_t>(n);
  if (device == device_) {
    error("cannot unlink this device itself: do it from another device of " + handle_);
    return false;
  }
  if (auto st = messenger_->unlink_device(hush::DeviceId{device}); !st) {
    error("cannot unlink device " + arg + ": " + code_name(st.error()) +
          (st.error().code() == hush::Errc::kInvalidArgument ? " (not on our device list)"
           : last_refusal_.empty()                           ? ""
                                                             : " (" + last_refusal_ + ")"));
    return false;
  }
  Message remove;
  remove.kind = Kind::kRemoveDevice;
  remove.device = device;
  auto removed = request(std::move(remove));
  if (!removed || removed->kind != Kind::kOk) {
    error("device " + arg + " is off our device list, but the relay did not remove it (" +
          (last_refusal_.empty() ? std::string("no answer") : last_refusal_) + ")");
    return false;
  }
  info("unlinked device " + arg + " of " + handle_ +
       ": off our device list, and the relay no longer accepts it");
  return true;
}

// ---- Calls ----

// /call NAME or /call #GROUP: rings every device of the people called.
bool Client::cmd_call(const std::string& who) {
  if (call_) {
    error("already in a call (or one rings here): /hangup first");
    return false;
  }
  std::vector<std::string> people;
  std::string label;
  if (!who.empty() && who.front() == '#') {
    auto id = find_group(who, true);
    if (!id) return false;
    auto group = messenger_->group(*id);
    if (!group) {
      error("no group " + who);
      return false;
    }
    for (const std::string& m : group->members)
      if (m != handle_) people.push_back(m);
    label = group_label(*id);
  } else {
    const std::string name = normalize_handle(who);
    if (!known_person(name, "call")) return false;
    people.push_back(name);
    label = name;
  }
  if (people.empty()) {
    error("nobody to call in " + label);
    return false;
  }
  auto id = messenger_->start_call(people, {});
  if (!id) {
    error("cannot call " + label + ": " + code_name(id.error()));
    return false;
  }
  call_ = Call{*id, false, false, true, label, nullptr, {}, {}};
  info("calling " + label + "...");
  return true;
}

bool Client::cmd_answer() {
  if (!call_ || !call_->ringing) {
    error("no call rings here");
    return false;
  }
  if (auto st = messenger_->answer_call(call_->id, {}); !st) {
    error("cannot answer: " + code_name(st.error()));
    return false;
  }
  call_->ringing = false;
  info("answered the call from " + call_->label + "; connecting...");
  return true;
}

bool Client::cmd_hangup() {
  if (!call_) {
    error("no call to hang up");
    return false;
  }
  if (auto st = messenger_->hangup(call_->id); !st)
    error("the hangup may not have reached everyone: " + code_name(st.error()));
  end_call(call_->ringing ? "declined" : "hung up");
  return true;
}

// /wait call ringing|connected|ended|left [S]: (scripts) until that has happened since the start.
// /wait call video N [S]: until N video frames of each other participant of our call have been
// decoded since its participant list last changed.
bool Client::cmd_wait_call(const std::vector<std::string>& args) {
  const std::string what = args.size() >= 3 ? args[2] : std::string();
  const bool video = what == "video";
  long frames = 0;
  const auto number = [](const std::string& a, long max) {
    char* end = nullptr;
    const long v = std::strtol(a.c_str(), &end, 10);
    return a.empty() || *end != '\0' || v < 1 || v > max ? -1 : v;
  };
  if (video && args.size() >= 4) frames = number(args[3], 100000);
  const std::size_t at = video ? 4 : 3;  // where SECONDS is
  long seconds = args.size() == at + 1 ? number(args[at], 3600) : 30;
  if (args[1] != "call" ||
      (what != "ringing" && what != "connected" && what != "ended" && what != "left" && !video) ||
      args.size() > at + 1 || seconds < 0 || (video && frames < 1)) {
    error("usage: /wait call ringing|connected|ended|left [SECONDS], /wait call video N [SECONDS]");
    return false;
  }
  if (video && !call_) {
    error("/wait call " + what + ": not in a call");
    return false;
  }
  const auto done = [&] {
    if (video) return call_ && video_from_each(static_cast<std::uint64_t>(frames));
    return what == "ringing"     ? calls_rung_ > 0
           : what == "connected" ? calls_connected_ > 0
           : what == "left"      ? calls_left_ > 0
                                 : calls_ended_ > 0;
  };
  const auto deadline = Clock::now() + std::chrono::seconds(seconds);
  while (!done() && !quit_) {
    if (video && !call_) {
      error("/wait call video: the call ended first");
      return false;
    }
    const auto timer = next_timer();
    auto limit = timer ? std::min(*timer, deadline) : deadline;
    // (The media threads count frames without an event: look again every 20 ms.)
    if (video) limit = std::min(limit, Clock::now() + std::chrono::milliseconds(20));
    auto ev = next_event(limit);
    if (ev) {
      handle_event(std::move(*ev));
      continue;
    }
    if (Clock::now() < deadline) {
      run_timers();
      continue;
    }
    error("/wait call " + what + ": timed out after " + std::to_string(seconds) + " s");
    if (!term_.interactive()) {
      exit_code_ = 3;
      quit_ = true;
    }
    return false;
  }
  return true;
}

// Whether our call's media decoded `n` video frames of each other participant since the host's
// list last changed.
bool Client::video_from_each(std::uint64_t n) const {
  if (!call_ || !call_->media) return false;
  bool others = false;
  for (const auto& p : call_->participants) {
    if (p.device.name == handle_ && hush::to_uint(p.device.device_id) == device_) continue;
    others = true;
    const auto before = call_->video_before.find(p.index);
    const std::uint64_t base = before == call_->video_before.end() ? 0 : before->second;
    if (call_->media->video_received_from(p.index) < base + n) return false;
  }
  return others;
}

// The host's list changed: kept, with the counts so far (for /wait call video).
void Client::note_participants(const std::vector<hush::CallParticipant>& participants) {
  if (!call_->participants.empty() && participants == call_->participants)
    return;  // (one who declined: the list is the same)
  call_->participants = participants;
  call_->video_before.clear();
  if (call_->media)
    for (const auto& p : participants)
      call_->video_before[p.index] = call_->media->video_received_from(p.index);
}

// "in the call: alice, bob:2, carol" (ourselves included), whenever the host's list changes.
void Client::say_participants(const std::vector<hush::CallParticipant>& participants) {
  std::string list;
  for (const auto& p : participants)
    list +=
        (list.empty() ? "" : ", ") + device_label(p.device.name, hush::to_uint(p.device.device_id));
  info("in the call: " + printable(list));
}

void Client::handle_call_events() {
  while (!call_events_.empty()) {
    const hush::CallEvent e = std::move(call_events_.front());
    call_events_.pop_front();
    on_call(e);
  }
}

void Client::on_call(const hush::CallEvent& e) {
  const std::string from = device_label(e.from.name, hush::to_uint(e.from.device_id));
  const bool ours = call_ && call_->id == e.call;
  switch (e.type) {
    case hush::CallEventType::kIncoming:
      if (call_) return;  // (the library answers busy when we are in a call)
      call_ = Call{e.call, true, false, false, e.from.name, nullptr, {}, {}};
      ++calls_rung_;
      info("call from " + from + " rings: /answer or /hangup");
      return;
    case hush::CallEventType::kRinging:
      if (ours) info(from + " rings");
      return;
    case hush::CallEventType::kAnswered:
      if (!ours) return;
      if (call_->host && call_->connected)
        info(from + " joined the call");  // (a group call: the first answer connected it)
      else
        info(call_->host ? "call connected (" + from + " answered)" : "call connected");
      say_participants(e.participants);
      note_participants(e.participants);
      if (!call_->connected) start_media(e.call);
      return;
    case hush::CallEventType::kAnsweredElsewhere:
      if (!ours) return;
      info("the call from " + call_->label + " was answered on another device: stopped ringing");
      call_.reset();
      ++calls_ended_;
      return;
    case hush::CallEventType::kBusy:
      if (ours) info(from + " is busy in another call");
      return;
    case hush::CallEventType::kMissed:
      // Why it did not ring: we are in a call, their identity changed and is not trusted yet
      // (the library answers busy and never rings such a call), or it came late / was hung up.
      if (messenger_->identity_change(e.from.name))
        info("missed a call from " + from +
             ": their safety number changed; /verify or /trust first");
      else if (call_)
        info("missed a call from " + from + " (we are in another call)");
      else
        info("missed a call from " + from + " (it was hung up, or came too late to ring)");
      return;
    case hush::CallEventType::kSignal:
      return;
    case hush::CallEventType::kParticipants:
      if (!ours) return;
      // One the host's list drops whose own hangup has not come (first): said the same way.
      for (const auto& was : call_->participants)
        if (std::none_of(e.participants.begin(), e.participants.end(),
                         [&](const hush::CallParticipant& p) { return p.index == was.index; })) {
          info(printable(device_label(was.device.name, hush::to_uint(was.device.device_id))) +
               " left the call");
          ++calls_left_;
        }
      say_participants(e.participants);
      note_participants(e.participants);
      return;
    case hush::CallEventType::kLeft:
      if (!ours) return;
      info(from + " left the call");
      ++calls_left_;
      // (At the host the list is the new one; the others hear it from the host. With one left,
      // kEnded follows.)
      if (call_->host && e.participants.size() > 1) say_participants(e.participants);
      note_participants(e.participants);
      return;
    case hush::CallEventType::kEnded:
      if (ours) end_call("ended");
      return;
  }
}

// The call is connected: our media through the relay's switch (a token asked over TCP first).
void Client::start_media(const hush::CallId& id) {
  call_->connected = true;
  ++calls_connected_;
  Message m;
  m.kind = Kind::kCallJoin;
  m.mailbox.assign(id.begin(), id.end());
  auto reply = request(std::move(m));
  if (!reply || reply->kind != Kind::kCallToken) {
    error("the relay gave no media token for the call: " + last_refusal_);
    return;
  }
  MediaConfig config;
  config.host = options_.host;
  config.port = options_.port;
  config.call = id;
  config.token = reply->body;
  config.media = messenger_->call_media(id);
  config.dir = options_.state + "/calls";
  // Each person's generated voice is their own (by the sum of their handle's bytes: alice's and
  // bob's differ, which the tests rely on).
  unsigned sum = 0;
  for (const char c : handle_)
    sum += static_cast<unsigned char>(c);
  config.voice = sum % 8;
  if (!options_.call_audio.empty()) {
    std::string why;
    config.audio = read_wav(options_.call_audio, why);
    if (config.audio.empty()) error("--call-audio: " + why + "; sending a generated voice");
  }
  std::string why;
  call_->media = MediaSession::start(std::move(config), why);
  if (!call_->media) {
    error("no media for the call: " + why);
    return;
  }
  info("media flowing (Opus voice, VP8 video) through the relay");
  if (options_.call_seconds > 0)
    hangup_at_ = Clock::now() + std::chrono::seconds(options_.call_seconds);
}

void Client::end_call(const std::string& why) {
  if (!call_) return;
  std::string said = "call with " + call_->label + " " + why;
  if (call_->media) {
    call_->media->stop();
    const MediaStats st = call_->media->stats();
    said += ": sent " + std::to_string(st.audio_sent) + " audio and " +
            std::to_string(st.video_sent) + " video frames, received " +
            std::to_string(st.audio_received) + " audio and " + std::to_string(st.video_received) +
            " video frames (" + std::to_string(st.refused) + " refused); written to " +
            options_.state + "/calls/";
  }
  info(said);
  call_.reset();
  hangup_at_.reset();
  ++calls_ended_;
}

void Client::quit() {
  if (call_) cmd_hangup();
  if (!connected_) return;
  // Write what is queued (acknowledgements), then wait for the relay to close its side.
  net_.close(generation_, true);
  const auto deadline = Clock::now() + kCloseTimeout;
  for (;;) {
    auto ev = events_.pop(deadline);
    if (!ev) return;
    if (ev->type == Event::Type::kClosed && ev->generation == generation_) return;
  }
}

int Client::run() {
  ::signal(SIGPIPE, SIG_IGN);
  if (!options_.script.empty()) {
    std::ifstream in(options_.script);
    if (!in) {
      std::fprintf(stderr, "hush-chat: cannot read '%s'\n", options_.script.c_str());
      return 1;
    }
    std::string line;
    while (std::getline(in, line))
      lines_.push_back(line);
    input_ended_ = true;
  }
  if (options_.link) {
    net_.start(options_.script.empty());
    if (!link_here()) {
      net_.stop();
      return 1;
    }
  } else {
    if (!open_state()) return 1;
    net_.start(options_.script.empty());
  }
  if (!connect_to_relay(true)) {
    net_.stop();
    return 1;
  }
  // Messages held since an earlier run: read what can be read now, and show again the identity
  // change the others wait for.
  for (const std::string& peer : held_->peers())
    release_held(peer, true);
  if (term_.interactive()) info("type /help for the commands; /msg NAME TEXT to write to NAME");
  term_.start();
  while (!quit_) {
    while (!quit_ && !lines_.empty()) {
      // What has already arrived is shown first.
      while (!quit_) {
        auto ev = next_event(Clock::now());
        if (!ev) break;
        handle_event(std::move(*ev));
      }
      if (quit_) break;
      pump_downloads();
      const std::string line = std::move(lines_.front());
      lines_.pop_front();
      execute(line);
    }
    if (quit_ || (input_ended_ && lines_.empty())) break;
    pump_downloads();
    auto ev = next_event(next_timer());  // none: wait for input
    if (ev) {
      handle_event(std::move(*ev));
      continue;
    }
    run_timers();
  }
  quit();
  net_.stop();
  return exit_code_;
}

}  // namespace
}  // namespace hush_chat

int main(int argc, char** argv) {
  // Asio makes standard input non-blocking, and that flag is shared with whoever else uses the
  // terminal (the shell, after us): put it back as it was.
  const int stdin_flags = ::fcntl(STDIN_FILENO, F_GETFL);
  int code = 1;
  try {
    hush_chat::Client client(hush_chat::parse_options(argc, argv));
    code = client.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hush-chat: %s\n", e.what());
  }
  if (stdin_flags != -1) ::fcntl(STDIN_FILENO, F_SETFL, stdin_flags);
  std::fflush(stdout);
  return code;
}
