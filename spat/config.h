// Parsing and validation of TrainConfig (spat/config.proto) from protobuf
// text format. Validation rejects nonsense before any work starts, with a
// message that names the field and its allowed range.
//
//   SPAT_ASSIGN_OR_RETURN(TrainConfig c, LoadTrainConfig("run.textproto"));
//   SPAT_RETURN_IF_ERROR(ValidateTrainConfig(c));
#ifndef SPAT_SPAT_CONFIG_H_
#define SPAT_SPAT_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "spat/config.pb.h"

namespace spat {

// The norms of a threat model: linf, l2. (Method names: KnownMethods() in
// spat/method.h; attack names: attacks::KnownAttacks() in attacks/evaluator.h.)
const std::vector<std::string>& KnownNorms();

// Parses text format; errors carry `name` and the line:column.
absl::StatusOr<TrainConfig> ParseTrainConfig(const std::string& text,
                                             const std::string& name);

// Reads and parses a .textproto file.
absl::StatusOr<TrainConfig> LoadTrainConfig(const std::string& path);

// train_attack: the radius, step and steps of every method's inner PGD
// (name must be pgd; its loss is the method's own, so loss must be unset).
absl::Status ValidateTrainAttack(const AttackConfig& a);

// eval_attack: any attack of //attacks:evaluate by base name (pgd, fgsm, mim,
// cw, apgd_ce, apgd_t, fab, square, aa or autoattack, clean). A field the
// attack does not read, if set, is an error naming it: num_steps is the step
// count of pgd/mim/cw, the iterations of apgd_*/fab/aa, the queries of
// square; step_size and random_start only pgd/mim/cw; loss (ce | cw | dlr)
// only pgd/mim; l2 only pgd/mim/cw.
absl::Status ValidateEvalAttack(const AttackConfig& a);

// The lower-case names of the recipe options, as flags take them: step |
// cosine | one_cycle, reference | torch_default, nn_linear | normal_0_01.
// InvalidArgument "must be ...,
// got '<name>'" otherwise (the caller prefixes the flag).
absl::StatusOr<OptimizerConfig::Schedule> ParseLrSchedule(const std::string& name);
absl::StatusOr<ModelConfig::Init> ParseInit(const std::string& name);
absl::StatusOr<ModelConfig::PrototypeInit> ParsePrototypeInit(const std::string& name);

// Checks every field: names known, numbers finite and in range.
absl::Status ValidateTrainConfig(const TrainConfig& c);

// Validates `raw` and fills what the user left to defaults: the method's
// lambda, the head (NCE for SPAT with use_nce), the evaluation attack's
// radius (training's), step (epsilon/10) and count (the attack's default:
// 20 steps, 100 iterations, 5000 queries), the LR milestones (0.75, 0.9),
// the thread count (every core).
absl::StatusOr<TrainConfig> ResolveTrainConfig(const TrainConfig& raw);

}  // namespace spat

#endif  // SPAT_SPAT_CONFIG_H_
