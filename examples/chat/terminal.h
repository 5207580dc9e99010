// hush chat example: hush-chat's screen and keyboard.
//
// Interactive (standard input is a terminal): the terminal is put in non-canonical, no-echo mode
// and hush-chat edits the input line itself, so that an incoming message can be printed above
// the line being typed without disturbing it: the line is cleared, the message printed, and the
// prompt and the typed text drawn again. Keys: printable text (UTF-8), Backspace, Ctrl-U (clear),
// Ctrl-W (delete a word), Ctrl-L (redraw), Enter (submit), Ctrl-D on an empty line (quit);
// Ctrl-C arrives as SIGINT; other control keys and escape sequences (arrows...) are ignored. The
// terminal's settings are restored on destruction.
//
// Otherwise (scripts, tests) lines are printed as they are, without colour or prompt.
//
// A line is kept up to one byte past the longest line hush-chat takes (kMaxLine), so that the
// caller sees it is too long and refuses it whole rather than send a cut line.
//
// Everything printed that came from the network goes through `printable()` first, so that a
// peer cannot send escape sequences to the user's terminal.
//
// Thread-safety: none; the main thread only.
#pragma once

#include <termios.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hush_chat {

/// `text` with control characters and invalid UTF-8 replaced by '?' byte by byte, and each
/// invisible or bidirectional formatting character (U+200B-200F, U+202A-202E, U+2066-2069) by one
/// '?' (the rest of valid UTF-8 is kept).
std::string printable(std::string_view text);

class Terminal {
 public:
  enum class Style { kPlain, kIncoming, kOutgoing, kInfo, kError, kAlarm };

  /// `interactive`: edit lines on the terminal on standard input (raw mode, from start()).
  explicit Terminal(bool interactive) : interactive_(interactive) {}
  ~Terminal();
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  bool interactive() const { return interactive_; }
  /// Prints one line (several if `text` has newlines), above the input line if interactive.
  void print(std::string_view text, Style style = Style::kPlain);
  /// Feeds bytes typed on the keyboard; appends each submitted line to `lines`. Returns false
  /// when the user asked to quit (Ctrl-D on an empty line).
  bool feed(const std::uint8_t* data, std::size_t size, std::vector<std::string>& lines);
  /// Switches the terminal to raw mode and draws the prompt (after start-up messages).
  void start();
  /// The prompt drawn before the input line (interactive only; "> " at first), redrawn at once.
  void set_prompt(std::string prompt);

 private:
  void redraw();
  void write_out(std::string_view s);

  bool interactive_ = false;
  bool color_ = false;
  bool raw_ = false;
  bool prompt_shown_ = false;
  termios saved_{};
  std::string prompt_ = "> ";
  std::string line_;
  int escape_ = 0;  // 0: none, 1: after ESC, 2: in a CSI/SS3 sequence
  bool after_cr_ = false;
};

}  // namespace hush_chat
