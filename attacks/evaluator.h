// Robustness evaluation by attack name, as the evaluator CLI, the trainer's
// per-epoch evaluation and the table binaries use it. Names:
//
//   clean            no attack
//   fgsm             one step of eps, no random start
//   pgdK             K steps of --step_size (default eps/10), CE, random start
//   mimK             K momentum steps (decay 1.0) of eps/10, no random start
//   cw, cwK          PGD on the C&W margin (default 20 steps), random start
//   apgd_ce, apgd_t  APGD with CE / targeted DLR (9 targets), 100 iterations
//   fab              FAB-T, 9 targets, 100 iterations
//   square           Square, 5000 queries
//   aa (autoattack)  AutoAttack standard
//   transfer_<name>  any attack above but clean, crafted on a source model
//                    and scored on the target (black-box)
//
// Only points the target classifies correctly are attacked (the others are
// already errors); each outcome carries the true -> predicted confusion.
//
//   absl::StatusOr<AttackSpec> s = ParseAttack("pgd20");
//   AttackOutcome o = RunAttack(*s, target, source, x, y, options, &std::cerr);
#ifndef SPAT_ATTACKS_EVALUATOR_H_
#define SPAT_ATTACKS_EVALUATOR_H_

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "absl/status/statusor.h"
#include "attacks/pgd.h"

namespace spat::attacks {

enum class AttackKind { kClean, kPgd, kApgdCe, kApgdT, kFab, kSquare, kAutoAttack };

// The suite's attacks by base name, and what each reads of a configuration
// (spat/config.proto's AttackConfig validates against this list): the one
// meaning of an attack name wherever one is accepted.
struct AttackInfo {
  std::string name;  // base name: "pgd", "aa", ...
  AttackKind kind = AttackKind::kClean;
  // A count: PGD/MIM/C&W steps (the K of pgdK), APGD/FAB/AutoAttack
  // iterations, Square queries; 0 if the attack takes none (clean, fgsm).
  int default_count = 0;
  bool step_size = false;     // reads a step size (PGD, MIM, C&W)
  bool random_start = false;  // its random start can be switched (PGD, MIM, C&W)
  bool loss = false;          // its loss can be chosen (PGD, MIM: ce | cw | dlr)
  bool l2 = false;            // has an l2 version (PGD, MIM, C&W); all have l-inf
};
const std::vector<AttackInfo>& KnownAttacks();
// Null if `base_name` is none of KnownAttacks(); "autoattack" is "aa".
const AttackInfo* FindAttack(const std::string& base_name);
// The losses a PGD-family attack can ascend.
const std::vector<std::string>& KnownPgdLosses();

struct AttackSpec {
  std::string name;
  AttackKind kind = AttackKind::kClean;
  int steps = 0;
  std::string loss = "ce";  // pgd family: ce | cw | dlr
  bool random_start = true;
  double momentum = 0.0;
  bool fgsm = false;        // step = eps
  bool transfer = false;
  Norm norm = Norm::kLinf;  // pgd family only
};

absl::StatusOr<AttackSpec> ParseAttack(const std::string& name);

struct EvaluatorOptions {
  double epsilon = 0.3;
  double step_size = 0.0;  // 0: eps / 10
  int64_t batch_size = kAttackBatchSize;
  uint64_t seed = 0;
  int num_classes = 10;
  // AutoAttack / component budgets (the reference's by default).
  int apgd_iters = 100;
  int fab_iters = 100;
  int square_queries = 5000;
  // Where the models and the attacks run; x and y stay on the host and are
  // sent over batch by batch (the models must already be on this device).
  c10::Device device = c10::Device(c10::kCPU);
  // CUDA graphs for the PGD-family attacks (pgdK, mimK, cw[K], fgsm) on CUDA.
  bool cuda_graphs = true;
  // AutoAttack only: AutoAttackOptions::resume_file (empty: not resumable).
  std::string autoattack_resume_file;
};

struct AttackOutcome {
  double accuracy = 0;        // percent, under the attack
  double clean_accuracy = 0;  // percent, of the target on the clean points
  double seconds = 0;  // of a resumed AutoAttack, with its time before the kill
  at::Tensor confusion;  // [C, C] int64: true class -> predicted class
  std::string settings;
  std::vector<std::pair<std::string, double>> components;  // aa only
};

// What `spec` runs under `options`, in words (AttackOutcome::settings).
std::string DescribeAttack(const AttackSpec& spec, const EvaluatorOptions& options);

// target/source: logits of a batch. `source` is used by transfer attacks
// only (may be null otherwise).
AttackOutcome RunAttack(const AttackSpec& spec, const ForwardFn& target,
                        const ForwardFn& source, const at::Tensor& x, const at::Tensor& y,
                        const EvaluatorOptions& options, std::ostream* log);

}  // namespace spat::attacks

#endif  // SPAT_ATTACKS_EVALUATOR_H_
