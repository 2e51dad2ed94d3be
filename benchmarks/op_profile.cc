#include "benchmarks/op_profile.h"

#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace spat::benchmarks {

namespace prof = torch::autograd::profiler;

void OpProfile::Start() {
  prof::enableProfilerLegacy(torch::profiler::impl::ProfilerConfig(
      torch::profiler::impl::ProfilerState::CPU, /*report_input_shapes=*/false,
      /*profile_memory=*/false));
}

std::string OpProfile::StopAndFormat(int rows) {
  prof::thread_event_lists lists = prof::disableProfilerLegacy();
  struct Open {
    const prof::LegacyEvent* push;
    double child_us = 0;
    bool user_scope;
  };
  struct Total {
    int64_t calls = 0;
    double self_us = 0;
  };
  std::map<std::pair<std::string, std::string>, Total> totals;
  double all_us = 0;
  for (const auto& events : lists) {
    std::vector<Open> stack;
    std::vector<std::string> scopes;
    for (const prof::LegacyEvent& e : events) {
      if (e.kind() == prof::EventKind::PushRange) {
        // Our scopes (RECORD_USER_SCOPE) are named "spat.<what>".
        const std::string name = e.name();
        const bool user = name.rfind("spat.", 0) == 0;
        stack.push_back({&e, 0, user});
        if (user) scopes.push_back(name);
      } else if (e.kind() == prof::EventKind::PopRange && !stack.empty()) {
        Open o = stack.back();
        stack.pop_back();
        const double us = o.push->cpuElapsedUs(e);
        if (o.user_scope) {
          scopes.pop_back();
        } else {
          const std::string scope = scopes.empty() ? "-" : scopes.back();
          Total& t = totals[{scope, o.push->name()}];
          ++t.calls;
          t.self_us += us - o.child_us;
          all_us += us - o.child_us;
        }
        if (!stack.empty()) stack.back().child_us += o.user_scope ? o.child_us : us;
      }
    }
  }
  std::vector<std::pair<std::pair<std::string, std::string>, Total>> sorted(totals.begin(),
                                                                            totals.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.second.self_us > b.second.self_us; });
  std::string out = "| scope | op | calls | self ms | share |\n| --- | --- | --- | --- | --- |\n";
  for (int i = 0; i < rows && i < static_cast<int>(sorted.size()); ++i) {
    const auto& [key, t] = sorted[i];
    absl::StrAppend(&out, absl::StrFormat("| %s | %s | %d | %.1f | %.1f%% |\n", key.first,
                                          key.second, t.calls, t.self_us / 1000,
                                          100 * t.self_us / std::max(all_us, 1e-9)));
  }
  // Shares per scope.
  std::map<std::string, double> per_scope;
  for (const auto& [key, t] : totals) per_scope[key.first] += t.self_us;
  absl::StrAppend(&out, "\n| scope | self ms | share |\n| --- | --- | --- |\n");
  for (const auto& [scope, us] : per_scope) {
    absl::StrAppend(&out, absl::StrFormat("| %s | %.1f | %.1f%% |\n", scope, us / 1000,
                                          100 * us / std::max(all_us, 1e-9)));
  }
  absl::StrAppend(&out, absl::StrFormat("\nTotal op self time: %.1f ms\n", all_us / 1000));
  return out;
}

}  // namespace spat::benchmarks
