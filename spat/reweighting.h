// Instance reweighting of GAIRAT (Zhang et al. 2021) and MAIL-AT (Wang et
// al. 2021). Both return weights normalized to mean 1 over the batch, used as
// mean_b(w_b · CE(z'_b, y_b)).
//
//   at::Tensor w = GairatWeights(kappa, /*num_steps=*/10, /*lambda=*/-1.0);
//   at::Tensor w = MailWeights(logits_adv, y, /*bias=*/-1.5, /*slope=*/1.0);
#ifndef SPAT_SPAT_REWEIGHTING_H_
#define SPAT_SPAT_REWEIGHTING_H_

#include <ATen/core/Tensor.h>

namespace spat {

// GAIRAT's Tanh weights from the geometry value kappa (number of PGD steps a
// point stayed correctly classified, 0..K):
//   w = (1 + tanh(lambda + 5 (1 - 2 kappa / K))) / 2, normalized to mean 1.
// kappa: [B] (any real dtype). Returns [B] float, no grad.
at::Tensor GairatWeights(const at::Tensor& kappa, int num_steps, double lambda);

// MAIL's weights from the probabilistic margin PM = p_y(x') - max_{k≠y} p_k(x'):
//   w = sigmoid(slope · (-PM + bias)), normalized to mean 1.
// logits_adv: [B, C]; y: [B]. Returns [B] float, no grad.
at::Tensor MailWeights(const at::Tensor& logits_adv, const at::Tensor& y,
                       double bias, double slope);

}  // namespace spat

#endif  // SPAT_SPAT_REWEIGHTING_H_
