// Projected gradient ascent (Madry et al.) in [0, 1] pixel space, l-inf or
// l2, on any per-example loss of the logits. The trainer's inner
// maximizations and the PGD/MIM/C&W evaluations are all this routine.
//
//   PgdOptions o{.epsilon = 0.3, .step_size = 0.01, .num_steps = 40};
//   at::Tensor x_adv = Pgd(forward, x, [&](const at::Tensor& z) {
//     return CrossEntropyPerExample(z, y); }, o, gen);
#ifndef SPAT_ATTACKS_PGD_H_
#define SPAT_ATTACKS_PGD_H_

#include <cstdint>
#include <functional>

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

namespace spat::attacks {

enum class Norm { kLinf, kL2 };

// Points the evaluations attack at once by default (EvaluatorOptions,
// AutoAttackOptions, attacks/evaluate --batch_size). 128 keeps a SmallCNN's
// activations near the cache: PGD-20 on 1,000 MNIST points 4.7 s at 128 vs
// 17.0 s at 500, AutoAttack 36.0 s vs 42.4 s (2-core machine,
// docs/performance.md).
inline constexpr int64_t kAttackBatchSize = 128;

enum class StartMode {
  kNone,      // start at x
  kUniform,   // uniform in the l-inf ball (l2: Gaussian direction, radius eps)
  kGaussian,  // x + start_std * N(0, 1) (TRADES-style)
};

struct PgdOptions {
  double epsilon = 0.3;
  double step_size = 0.01;
  int num_steps = 40;
  Norm norm = Norm::kLinf;
  StartMode start = StartMode::kUniform;
  double start_std = 0.001;
  // The start draw is projected onto the ball and [0, 1]; false: onto the
  // ball only (the authors' SPAT script and TRADES' reference: the first step's
  // projection then clamps to [0, 1]).
  bool clamp_start = true;
  // Momentum decay of MIM (Dong et al.); 0 is plain PGD.
  double momentum = 0.0;
  // Forward passes (and so their backward) under bfloat16 autocast of x's
  // device (CPU or CUDA); the loss, the step and x' stay fp32. Training's
  // opt-in --bf16.
  bool bf16 = false;
  // If defined ([B, C, H, W] like x): the attack starts here (projected onto
  // the ball and [0, 1]) instead of at a `start` draw, e.g. to continue an
  // earlier attack, or to replay a reference implementation's iterate.
  at::Tensor init = {};
};

// True if this process can run bfloat16 convolutions and matrix products on
// the CPU, as PgdOptions::bf16 needs: oneDNN's bf16 kernels need AVX-512
// (absent on AVX2-only CPUs, or capped by DNNL_MAX_CPU_ISA). Tried once, on
// tiny tensors; the answer is cached.
bool CpuBf16Supported();

// True if the CPU computes bfloat16 natively (AVX512-BF16 or AMX-BF16 in
// /proc/cpuinfo); elsewhere bf16 kernels run, but slower than fp32.
bool CpuHasNativeBf16();

// Why bf16 is refused where CpuBf16Supported() is false (for error messages).
inline constexpr char kNoCpuBf16[] =
    "this CPU has no bfloat16 kernels (oneDNN needs AVX-512, or DNNL_MAX_CPU_ISA caps it)";

// logits = forward(x): [B, ...] -> [B, C].
using ForwardFn = std::function<at::Tensor(const at::Tensor&)>;
// Per-example loss to ascend: logits [B, C] -> [B].
using AdvLossFn = std::function<at::Tensor(const at::Tensor&)>;
// Called before every step with the step index and the current logits
// (no grad); e.g. GAIRAT counts how long each point stays correct.
using StepObserver = std::function<void(int, const at::Tensor&)>;

// x: [B, C, H, W] float in [0, 1]. Returns x_adv (no grad) with
// ||x_adv - x|| <= epsilon in the chosen norm and x_adv in [0, 1].
// Input gradients only: parameter gradients are left untouched.
at::Tensor Pgd(const ForwardFn& forward, const at::Tensor& x,
               const AdvLossFn& loss, const PgdOptions& options,
               at::Generator gen, const StepObserver& observer = nullptr);

// Pgd in two halves, for callers that replay the steps (attacks/pgd_graphs.h):
// PgdStart is x'_0, options.init or a draw of options.start around x (drawn
// on the host from `gen`, so a seed gives the same start on every device),
// projected; PgdSteps runs the num_steps steps on x_adv in place (its
// storage is kept). Pgd(...) == PgdSteps on PgdStart(x, options, gen).
at::Tensor PgdStart(const at::Tensor& x, const PgdOptions& options, at::Generator gen);
void PgdSteps(const ForwardFn& forward, const at::Tensor& x, const at::Tensor& x_adv,
              const AdvLossFn& loss, const PgdOptions& options,
              const StepObserver& observer = nullptr);

// d(loss)/d(leaf), or zeros where the loss does not depend on the input
// (a constant or fully gradient-masked model). loss: a scalar.
at::Tensor InputGradient(const at::Tensor& loss, const at::Tensor& leaf);

// Projects x_adv onto {||x_adv - x|| <= eps} ∩ [0, 1] (l-inf exactly; l2 by
// radial scaling, then clamping, which can only shrink the norm).
at::Tensor Project(const at::Tensor& x_adv, const at::Tensor& x, double eps,
                   Norm norm);

}  // namespace spat::attacks

#endif  // SPAT_ATTACKS_PGD_H_
