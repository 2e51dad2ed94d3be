#include "attacks/adv_losses.h"

#include <ATen/ATen.h>

namespace spat::attacks {
namespace {

void CheckShapes(const at::Tensor& logits, const at::Tensor& y) {
  TORCH_CHECK(logits.dim() == 2, "logits must be [B, C], got ", logits.sizes());
  TORCH_CHECK(y.dim() == 1 && y.size(0) == logits.size(0),
              "y must be [", logits.size(0), "], got ", y.sizes());
}

// Largest logit among the classes other than y: [B].
at::Tensor MaxOther(const at::Tensor& logits, const at::Tensor& y) {
  at::Tensor mask = at::zeros_like(logits, at::kBool).scatter_(1, y.unsqueeze(1), true);
  return logits.masked_fill(mask, -std::numeric_limits<float>::infinity())
      .amax(/*dim=*/1);
}

}  // namespace

at::Tensor CrossEntropyPerExample(const at::Tensor& logits, const at::Tensor& y) {
  CheckShapes(logits, y);
  return -at::log_softmax(logits, /*dim=*/1).gather(1, y.unsqueeze(1)).squeeze(1);
}

at::Tensor CwMarginLoss(const at::Tensor& logits, const at::Tensor& y) {
  CheckShapes(logits, y);
  return MaxOther(logits, y) - logits.gather(1, y.unsqueeze(1)).squeeze(1);
}

at::Tensor DlrLoss(const at::Tensor& logits, const at::Tensor& y) {
  CheckShapes(logits, y);
  TORCH_CHECK(logits.size(1) >= 3, "DLR needs at least 3 classes, got ",
              logits.size(1));
  at::Tensor sorted = std::get<0>(logits.sort(/*dim=*/1, /*descending=*/true));
  at::Tensor denom = sorted.select(1, 0) - sorted.select(1, 2) + 1e-12;
  return CwMarginLoss(logits, y) / denom;
}

}  // namespace spat::attacks
