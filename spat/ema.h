// Exponential moving average of a model's weights: the self-ensemble of SEAT
// (Wang & Wang 2022). Parameters are averaged; buffers (BatchNorm statistics)
// are copied from the live model.
//
//   UpdateEma(*ema_model, *model, EmaDecay(step, 0.999));
#ifndef SPAT_SPAT_EMA_H_
#define SPAT_SPAT_EMA_H_

#include <cstdint>

#include <torch/nn/module.h>

namespace spat {

// SEAT's warm-up: min(decay, (1 + step) / (10 + step)).
double EmaDecay(int64_t step, double decay);

// ema <- decay · ema + (1 - decay) · model, parameter by parameter; buffers
// copied. The two modules must have the same structure.
void UpdateEma(torch::nn::Module& ema, const torch::nn::Module& model, double decay);

}  // namespace spat

#endif  // SPAT_SPAT_EMA_H_
