// The per-epoch robustness evaluation of a run: its eval_attack (a config's
// AttackConfig) run by the attack suite's evaluator, the same code and
// vocabulary as //attacks:evaluate.
//
//   SPAT_ASSIGN_OR_RETURN(EvalPlan plan, PlanEvaluation(config.eval_attack(), 10, seed));
//   EvalResult r = Evaluate(model, test_set, plan);
#ifndef SPAT_SPAT_EVALUATION_H_
#define SPAT_SPAT_EVALUATION_H_

#include <string>

#include "absl/status/statusor.h"
#include "attacks/evaluator.h"
#include "data/dataset.h"
#include "models/classifier.h"
#include "spat/config.pb.h"

namespace spat {

struct EvalPlan {
  attacks::AttackSpec spec;
  attacks::EvaluatorOptions options;
  std::string label;     // for logs and tables: "pgd-20", "fab-100", "aa-100"
  std::string settings;  // the evaluator's description of the attack
};

// The evaluator's attack for a resolved `attack` (ResolveTrainConfig) on data
// of `num_classes` classes; InvalidArgument naming eval_attack's field for
// what the evaluator cannot run.
absl::StatusOr<EvalPlan> PlanEvaluation(const AttackConfig& attack, int num_classes,
                                        uint64_t seed, c10::Device device = c10::Device(c10::kCPU),
                                        bool cuda_graphs = true);

struct EvalResult {
  double clean = 0;        // percent
  double adversarial = 0;  // percent
};

// Accuracy of `model` (put in eval mode; on plan.options.device) on `data`,
// clean and under the plan's attack. `data` stays on the host.
EvalResult Evaluate(models::Classifier& model, const data::Dataset& data, const EvalPlan& plan);

}  // namespace spat

#endif  // SPAT_SPAT_EVALUATION_H_
