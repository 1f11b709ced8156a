// The runtime's controls: what the addon runs on (ISA, threads, OpenMP),
// the ISA and thread count switches, the chain's schedule, the FMA peak.
#include "args.h"
#include "entries.h"

#include <string>
#include "cpu.h"
#include "kernels/gemm/gemm.h"
#include "kernels/common/parallel.h"
#include "kernels/common/share_queue.h"
#include "kernels/chain/conv_chain.h"
#include "kernels/pool/pool.h"
#include "kernels/conv/winograd.h"

namespace convkit::binding {

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("isa", convkit::isa_name(convkit::current_isa()));
  out.Set("gemmKernel", convkit::current_gemm_kernel().name);
  Napi::Array supported = Napi::Array::New(env);
  Napi::Array compiled = Napi::Array::New(env);
  uint32_t ns = 0, nc = 0;
  for (convkit::Isa isa : {convkit::Isa::Avx512, convkit::Isa::Avx2, convkit::Isa::Generic}) {
    if (convkit::cpu_supports(isa) && convkit::isa_compiled(isa)) supported.Set(ns++, convkit::isa_name(isa));
    if (convkit::isa_compiled(isa)) compiled.Set(nc++, convkit::isa_name(isa));
  }
  out.Set("supportedIsas", supported);
  out.Set("compiledIsas", compiled);
  out.Set("threads", convkit::kernel_threads());
  out.Set("openmp", convkit::openmp_enabled());
  out.Set("convAlgorithm", convkit::conv_algorithm_name(convkit::conv_algorithm()));
  // The numbers the TypeScript side must agree with (lib/backend/native-backend.ts checks them at load).
  Napi::Object limits = Napi::Object::New(env);
  limits.Set("geometryFields", static_cast<double>(kGeometryFields));
  limits.Set("maxTiledPoolWindow", convkit::kMaxTiledPoolWindow);
  limits.Set("maxChainBlocks", convkit::kMaxChainBlocks);
  out.Set("limits", limits);
  return out;
}

// The multiply-add peak of the current ISA here, on the current thread count (about 0.6 s).
Napi::Value MeasurePeak(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 0) type_error(env, "measurePeak takes no arguments");
  const convkit::PeakMeasurement m = convkit::measure_peak(convkit::kernel_threads());
  Napi::Object out = Napi::Object::New(env);
  out.Set("gflops", m.gflops);
  out.Set("threads", m.threads);
  out.Set("isa", convkit::isa_name(convkit::current_isa()));
  out.Set("flopsPerIteration", m.flops_per_iteration);
  return out;
}

Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsString()) type_error(env, "setIsa takes one string: 'avx512', 'avx2' or 'generic'");
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  convkit::Isa isa;
  if (!convkit::parse_isa(name.c_str(), &isa)) {
    range_error(env, "unknown ISA '" + name + "'; expected 'avx512', 'avx2' or 'generic'");
  }
  if (!convkit::set_isa(isa)) {
    std::string have;
    for (convkit::Isa i : {convkit::Isa::Avx512, convkit::Isa::Avx2, convkit::Isa::Generic}) {
      if (convkit::cpu_supports(i) && convkit::isa_compiled(i)) have += (have.empty() ? "" : ", ") + std::string(convkit::isa_name(i));
    }
    range_error(env, "this CPU or build cannot run '" + name + "' (it can run: " + have + ")");
  }
  return env.Undefined();
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  const int n = static_cast<int>(integer(info, 0, "threads", 1, 1024));
  convkit::set_kernel_threads(n);
  return info.Env().Undefined();
}

// setSchedule('balanced' | 'static' | 'take-first'): how the chain's threads share a batch (share_queue.h).
Napi::Value SetSchedule(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsString()) type_error(env, "setSchedule takes one string: 'balanced', 'static' or 'take-first'");
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  if (name == "balanced") convkit::set_share_schedule(convkit::ShareSchedule::Balanced);
  else if (name == "static") convkit::set_share_schedule(convkit::ShareSchedule::Static);
  else if (name == "take-first") convkit::set_share_schedule(convkit::ShareSchedule::TakeFirst);
  else range_error(env, "unknown schedule '" + name + "'; expected 'balanced', 'static' or 'take-first'");
  return env.Undefined();
}

// setConvAlgorithm('auto' | 'fast' | 'direct' | 'winograd'): how 3x3 and 5x5 stride-1 convolutions run (winograd.h).
Napi::Value SetConvAlgorithm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsString()) type_error(env, "setConvAlgorithm takes one string: 'auto', 'fast', 'direct' or 'winograd'");
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  convkit::ConvAlgorithm algorithm;
  if (!convkit::parse_conv_algorithm(name.c_str(), &algorithm)) {
    range_error(env, "unknown convolution algorithm '" + name + "'; expected 'auto', 'fast', 'direct' or 'winograd'");
  }
  convkit::set_conv_algorithm(algorithm);
  return env.Undefined();
}

}  // namespace convkit::binding
