// Optimizer step entry points.
#include "args.h"
#include "entries.h"

#include "kernels/optim/optim.h"

namespace convkit::binding {

// sgdStep(param, velocity | null, grad, lr, momentum, weightDecay, nesterov)
Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  expect_args_between(info, 6, 7, "sgdStep");
  Floats p = floats(info, 0, "param");
  Floats g = floats_of(info, 2, "grad", p.length);
  Floats v = optional_floats_of(info, 1, "velocity", p.length);
  convkit::sgd_step(p.data, v.data, g.data, static_cast<float>(number(info, 3, "lr")),
                    static_cast<float>(number(info, 4, "momentum")), static_cast<float>(number(info, 5, "weightDecay")), optional_flag(info, 6, "nesterov"), p.length);
  return info.Env().Undefined();
}

// adamStep(param, m, v, grad, lr, beta1, beta2, eps, step, weightDecay)
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  expect_args(info, 10, "adamStep");
  Floats p = floats(info, 0, "param");
  Floats g = floats_of(info, 3, "grad", p.length);
  Floats m = floats_of(info, 1, "m", p.length);
  Floats v = floats_of(info, 2, "v", p.length);
  const double step = static_cast<double>(integer(info, 8, "step", 1, INT64_C(1) << 52));
  convkit::adam_step(p.data, m.data, v.data, g.data, static_cast<float>(number(info, 4, "lr")),
                     static_cast<float>(number(info, 5, "beta1")), static_cast<float>(number(info, 6, "beta2")),
                     static_cast<float>(number(info, 7, "eps")), step, static_cast<float>(number(info, 9, "weightDecay")), p.length);
  return info.Env().Undefined();
}

}  // namespace convkit::binding
