#include "models/load_model.h"

#include <ATen/ATen.h>

#include "absl/strings/match.h"
#include "base/status_macros.h"
#include "models/checkpoint.h"

namespace spat::models {

absl::StatusOr<std::shared_ptr<Classifier>> LoadModel(const std::string& path,
                                                      ModelSpec spec) {
  SPAT_ASSIGN_OR_RETURN(StateDict state, LoadStateDict(path));
  spec.head = {HeadType::kLinear, spec.head.s};
  for (const auto& [k, t] : state) {
    if (absl::EndsWith(k, ".s") && t.dim() == 0 && t.is_floating_point()) {
      spec.head = {HeadType::kNce, t.item<double>()};
    }
  }
  SPAT_ASSIGN_OR_RETURN(std::shared_ptr<Classifier> model, CreateModel(spec));
  SPAT_RETURN_IF_ERROR(
      ApplyStateDict(state, *model, model->IgnoredCheckpointPrefixes(), path));
  model->eval();
  return model;
}

}  // namespace spat::models
