#include "spat/evaluation.h"

#include <ATen/ATen.h>

#include "absl/strings/str_cat.h"
#include "spat/config.h"

namespace spat {

absl::StatusOr<EvalPlan> PlanEvaluation(const AttackConfig& a, int num_classes, uint64_t seed,
                                        c10::Device device, bool cuda_graphs) {
  if (absl::Status st = ValidateEvalAttack(a); !st.ok()) return st;
  const attacks::AttackInfo& info = *attacks::FindAttack(a.name());
  EvalPlan plan;
  // The evaluator's own name: pgd20, mim20, cw20, fgsm, fab, aa, ...
  const bool counted_name = info.kind == attacks::AttackKind::kPgd && info.name != "fgsm";
  absl::StatusOr<attacks::AttackSpec> spec =
      attacks::ParseAttack(counted_name ? absl::StrCat(info.name, a.num_steps()) : info.name);
  if (!spec.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("eval_attack: ", spec.status().message()));
  }
  plan.spec = *spec;
  if (info.loss) plan.spec.loss = a.loss();
  if (info.random_start) plan.spec.random_start = a.random_start();
  if (info.l2 && a.norm() == "l2") plan.spec.norm = attacks::Norm::kL2;
  attacks::EvaluatorOptions& o = plan.options;
  o.epsilon = a.epsilon();
  if (info.step_size) o.step_size = a.step_size();
  o.seed = seed;
  o.num_classes = num_classes;
  if (info.default_count > 0 && !counted_name) {
    o.apgd_iters = o.fab_iters = a.num_steps();
    if (info.kind == attacks::AttackKind::kSquare) o.square_queries = a.num_steps();
  }
  o.device = device;
  o.cuda_graphs = cuda_graphs;
  plan.label = info.default_count > 0 ? absl::StrCat(info.name, "-", a.num_steps()) : info.name;
  plan.settings = attacks::DescribeAttack(plan.spec, o);
  return plan;
}

EvalResult Evaluate(models::Classifier& model, const data::Dataset& data, const EvalPlan& plan) {
  model.eval();
  const attacks::ForwardFn forward = [&model](const at::Tensor& t) { return model.forward(t); };
  const attacks::AttackOutcome o = attacks::RunAttack(plan.spec, forward, nullptr, data.images,
                                                      data.labels, plan.options, nullptr);
  return {o.clean_accuracy, o.accuracy};
}

}  // namespace spat
