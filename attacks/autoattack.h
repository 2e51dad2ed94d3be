// AutoAttack `standard` (Croce & Hein 2020): APGD-CE -> APGD-T (9 targets)
// -> FAB-T (9 targets) -> Square (5000 queries), each run only on the points
// still robust, keeping the first success per point. Each sub-attack reseeds
// from `seed` at its start, so a run is reproducible (and resumable after each
// component, with options.resume_file).
//
//   AutoAttackResult r = RunAutoAttack(forward, x, y, {.epsilon = 0.3}, &std::cerr);
//   // r.robust: [N] bool; r.after["apgd_t"]: robust accuracy (%) after APGD-T.
#ifndef SPAT_ATTACKS_AUTOATTACK_H_
#define SPAT_ATTACKS_AUTOATTACK_H_

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "attacks/pgd.h"

namespace spat::attacks {

struct AutoAttackOptions {
  double epsilon = 0.3;
  int apgd_iters = 100;
  int fab_iters = 100;
  int square_queries = 5000;
  int num_targets = 9;
  int64_t batch_size = kAttackBatchSize;
  uint64_t seed = 0;
  // Run only these components, in the standard order (empty: all four).
  std::vector<std::string> components = {};
  // If set: after each component the run's state (the points still robust,
  // the adversarial points, each finished component's accuracy and time) is
  // saved to this file, and a run that finds it for the same points, labels,
  // options and model (its logits on the points) resumes after the
  // components it holds, with the result an uninterrupted run gives; the file
  // is removed when the run ends. A killed run loses at most the component in
  // progress. A file for other points, options or model, or one that cannot
  // be read, is ignored with a line to `log`.
  std::string resume_file = "";
};

struct AutoAttackResult {
  at::Tensor x_adv;   // [N, ...]: the successful adversarial point, else x
  at::Tensor robust;  // [N] bool: correctly classified and no attack succeeded
  // Robust accuracy (%) after each component, cumulative, in run order.
  std::vector<std::pair<std::string, double>> after;
  std::map<std::string, double> seconds;
  // Of `seconds`: the components an interrupted run had finished (resume_file).
  double resumed_seconds = 0;
};

// The components of `standard`, in order.
const std::vector<std::string>& AutoAttackComponents();

// x: [N, C, H, W] in [0, 1]; y: [N]. `log` (may be null) gets progress.
AutoAttackResult RunAutoAttack(const ForwardFn& forward, const at::Tensor& x,
                               const at::Tensor& y, const AutoAttackOptions& options,
                               std::ostream* log);

}  // namespace spat::attacks

#endif  // SPAT_ATTACKS_AUTOATTACK_H_
