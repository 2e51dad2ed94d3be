#include "base/progress.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"

namespace spat {

std::string ProgressBar(double fraction, int width) {
  const double f = std::clamp(fraction, 0.0, 1.0);
  const int n = static_cast<int>(std::round(f * width));
  return "[" + std::string(n, '#') + std::string(width - n, '.') + "]";
}

std::string Hms(double seconds) {
  const int t = static_cast<int>(std::max(seconds, 0.0));
  return absl::StrFormat("%02d:%02d:%02d", t / 3600, (t / 60) % 60, t % 60);
}

ProgressLine::ProgressLine(std::ostream* out, bool tty)
    : out_(out), tty_(tty), last_print_(Clock::now()) {}

void ProgressLine::Update(const std::string& text, bool last) {
  if (out_ == nullptr) return;
  const Clock::time_point now = Clock::now();
  const double since = std::chrono::duration<double>(now - last_print_).count();
  if (!last && since <= (tty_ ? 0.5 : 30.0)) return;
  last_print_ = now;
  printed_ = true;
  *out_ << (tty_ ? "\r" : "") << text << (tty_ ? "" : "\n") << std::flush;
}

void ProgressLine::Finish() {
  if (out_ != nullptr && tty_ && printed_) *out_ << "\n";
  printed_ = false;
}

}  // namespace spat
