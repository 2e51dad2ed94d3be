// Per-example losses that attacks ascend: cross-entropy, the C&W margin and
// AutoAttack's DLR. Each maps logits [B, C] and labels [B] to a loss [B];
// larger means "more adversarial".
//
//   at::Tensor l = CwMarginLoss(model(x_adv), y);   // [B]
#ifndef SPAT_ATTACKS_ADV_LOSSES_H_
#define SPAT_ATTACKS_ADV_LOSSES_H_

#include <ATen/core/Tensor.h>

namespace spat::attacks {

// -log softmax(logits)[y]. logits: [B, C]; y: [B] int64. Returns [B].
at::Tensor CrossEntropyPerExample(const at::Tensor& logits, const at::Tensor& y);

// max_{j != y} z_j - z_y (the C&W margin without confidence). Returns [B].
at::Tensor CwMarginLoss(const at::Tensor& logits, const at::Tensor& y);

// -(z_y - max_{j != y} z_j) / (z_pi1 - z_pi3 + 1e-12), z sorted descending
// (Croce & Hein 2020). Needs C >= 3. Returns [B].
at::Tensor DlrLoss(const at::Tensor& logits, const at::Tensor& y);

}  // namespace spat::attacks

#endif  // SPAT_ATTACKS_ADV_LOSSES_H_
