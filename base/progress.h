// The progress line of long runs: a bar, counts, rate and time left, on one
// terminal line (redrawn with '\r') or as plain lines in a log file.
//
//   ProgressLine line(&std::cerr, /*tty=*/::isatty(2));
//   line.Update(absl::StrFormat("epoch 1/10 %s 3/157 ...", ProgressBar(3 / 157.0)));
//   line.Finish();
#ifndef SPAT_BASE_PROGRESS_H_
#define SPAT_BASE_PROGRESS_H_

#include <chrono>
#include <ostream>
#include <string>

namespace spat {

// "[#####...]" of `width` cells for a fraction in [0, 1] (clamped).
std::string ProgressBar(double fraction, int width = 24);

// "HH:MM:SS" for a duration in seconds (negative: 00:00:00).
std::string Hms(double seconds);

// Prints progress at most every `interval` (0.5 s on a terminal, 30 s in a
// log), and always the last update of a loop. `out` may be null (silent).
class ProgressLine {
 public:
  ProgressLine(std::ostream* out, bool tty);
  // Prints `text` if the interval has passed since the last print or `last`.
  void Update(const std::string& text, bool last = false);
  // Ends the terminal line (a newline after '\r' updates); no-op in a log.
  void Finish();

 private:
  using Clock = std::chrono::steady_clock;
  std::ostream* out_;
  bool tty_;
  Clock::time_point last_print_;
  bool printed_ = false;
};

}  // namespace spat

#endif  // SPAT_BASE_PROGRESS_H_
