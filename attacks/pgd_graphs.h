// PGD's K steps as CUDA graphs: on a CUDA device the first call for a key and
// input shape runs eagerly (the warm-up) and then captures the steps into a
// graph; later calls copy x, the loss's targets and the start into the
// graph's static inputs and replay it, one launch for K forward/backward
// passes instead of hundreds of kernel launches. On the CPU, with graphs
// turned off (--cuda_graphs=false), or in a LibTorch built without CUDA,
// every call is plain Pgd.
//
//   PgdGraphs graphs(/*enabled=*/true);
//   at::Tensor adv = graphs.Run(absl::StrCat("madry@", &model), forward, x, y,
//       [](const at::Tensor& z, const at::Tensor& y) { return CrossEntropyPerExample(z, y); },
//       options, gen);
//
// What a graph replays is fixed at capture: the forward's module (its
// parameters and buffers are read at replay from the same storage, so
// in-place optimizer steps are seen; a model moved or reallocated is not),
// the loss and the options. A key must therefore always come with the same
// forward, loss function and options; include the model's address and the
// model's mode (train/eval) in it. Not thread-safe.
#ifndef SPAT_ATTACKS_PGD_GRAPHS_H_
#define SPAT_ATTACKS_PGD_GRAPHS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include "attacks/pgd.h"

namespace spat::attacks {

// Per-example loss of the logits and the loss's per-batch targets (labels
// [B] int64, or the clean logits [B, C] of TRADES' KL): logits [B, C] -> [B].
using TargetLossFn = std::function<at::Tensor(const at::Tensor& logits, const at::Tensor& targets)>;

// True if this binary was built with the CUDA graph code (SPAT_WITH_CUDA).
bool CudaGraphsCompiled();

class PgdGraphs {
 public:
  // enabled: use graphs where the input is on a CUDA device.
  explicit PgdGraphs(bool enabled = true);
  ~PgdGraphs();
  PgdGraphs(const PgdGraphs&) = delete;
  PgdGraphs& operator=(const PgdGraphs&) = delete;

  // Equal to Pgd(forward, x, [&](z) { return loss(z, targets); }, options, gen):
  // the same start (drawn from gen before the steps) and the same steps.
  // x: [B, C, H, W] in [0, 1]; targets: [B, ...]. Returns x' (no grad).
  at::Tensor Run(const std::string& key, const ForwardFn& forward, const at::Tensor& x,
                 const at::Tensor& targets, const TargetLossFn& loss,
                 const PgdOptions& options, at::Generator gen);

  bool enabled() const { return enabled_; }
  // Graphs captured and replays so far (0 and 0 on the CPU).
  int64_t captures() const { return captures_; }
  int64_t replays() const { return replays_; }

  struct Graph;  // defined where CUDA is compiled in

 private:
  bool enabled_;
  int64_t captures_ = 0;
  int64_t replays_ = 0;
  // key, x's shape, targets' shape and dtype -> graph.
  std::map<std::tuple<std::string, std::vector<int64_t>, std::vector<int64_t>, int>,
           std::unique_ptr<Graph>>
      graphs_;
};

// graphs->Run(...) where `graphs` is set; otherwise the same PGD, eagerly.
// For callers whose graphs are optional (MethodContext::graphs is null on the
// CPU).
at::Tensor RunPgd(PgdGraphs* graphs, const std::string& key, const ForwardFn& forward,
                  const at::Tensor& x, const at::Tensor& targets, const TargetLossFn& loss,
                  const PgdOptions& options, at::Generator gen);

}  // namespace spat::attacks

#endif  // SPAT_ATTACKS_PGD_GRAPHS_H_
