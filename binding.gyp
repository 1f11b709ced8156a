{
  # The addon: N-API entry points in native/binding/ (one file per op family),
  # kernels in native/kernels/ (no N-API type there).
  # Each ISA's GEMM micro-kernel is its own static library with its own
  # flags, so the rest of the binary runs on any x86-64 and cpu.cc picks the
  # best kernel at load (CPUID + XGETBV).
  "variables": {
    # -fno-tree-loop-distribute-patterns: GCC would turn the short vector
    # copy loops of im2col (a few hundred bytes each) into memmove calls.
    "convkit_opt": ["-O3", "-fno-math-errno", "-fno-trapping-math", "-fno-tree-loop-distribute-patterns", "-fPIC", "-Wno-psabi"],
    "convkit_sanitize%": "0",
    # macOS: LLVM's OpenMP runtime where Homebrew has it, else a serial build.
    "libomp_prefix%": "<!(node scripts/find-libomp.cjs)"
  },
  "target_defaults": {
    "cflags!": ["-O2", "-fno-exceptions"],
    "cflags_cc!": ["-O2", "-fno-exceptions"],
    "cflags_cc": ["-std=c++17", "-fexceptions", "<@(convkit_opt)"],
    "include_dirs": ["native"],
    "conditions": [
      ["convkit_sanitize==1", {
        "cflags_cc": ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=undefined", "-O1", "-g"],
        "ldflags": ["-fsanitize=address,undefined"]
      }]
    ]
  },
  "targets": [
    {
      "target_name": "convkit",
      "sources": [
        "native/binding/args.cc",
        "native/binding/conv.cc",
        "native/binding/pool.cc",
        "native/binding/dense.cc",
        "native/binding/elementwise.cc",
        "native/binding/norm.cc",
        "native/binding/loss.cc",
        "native/binding/chain.cc",
        "native/binding/optim.cc",
        "native/binding/runtime.cc",
        "native/binding/exports.cc",
        "native/cpu.cc",
        "native/kernels/isa/kernel_table.cc",
        "native/kernels/gemm/gemm.cc",
        "native/kernels/isa/isa_generic.cc",
        "native/kernels/common/parallel.cc",
        "native/kernels/conv/conv2d.cc",
        "native/kernels/conv/conv2d_forward.cc",
        "native/kernels/conv/conv2d_filter_gradient.cc",
        "native/kernels/conv/conv2d_data_gradient.cc",
        "native/kernels/conv/conv2d_relu_pool_backward.cc",
        "native/kernels/conv/winograd.cc",
        "native/kernels/conv/pooled_backward.cc",
        "native/kernels/elementwise/convert.cc",
        "native/kernels/pool/pool.cc",
        "native/kernels/dense/dense.cc",
        "native/kernels/elementwise/elementwise.cc",
        "native/kernels/norm/batch_norm.cc",
        "native/kernels/loss/loss.cc",
        "native/kernels/optim/optim.cc",
        "native/kernels/chain/conv_chain.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "conditions": [
        ["target_arch=='x64'", {
          "dependencies": ["convkit_avx2", "convkit_avx512"]
        }],
        ["OS=='linux'", {
          "cflags_cc": ["-fopenmp"],
          "ldflags": ["-fopenmp"]
        }],
        ["OS=='mac'", {
          "xcode_settings": {
            "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "MACOSX_DEPLOYMENT_TARGET": "11.0",
            "OTHER_CPLUSPLUSFLAGS": ["-O3", "-fno-math-errno", "-fno-trapping-math"]
          }
        }],
        ["OS=='mac' and libomp_prefix!=''", {
          "include_dirs": ["<(libomp_prefix)/include"],
          "xcode_settings": {
            "OTHER_CPLUSPLUSFLAGS": ["-Xpreprocessor", "-fopenmp"],
            "OTHER_LDFLAGS": ["-L<(libomp_prefix)/lib", "-lomp", "-Wl,-rpath,<(libomp_prefix)/lib"]
          }
        }],
        # Windows: the kernels use GCC vector extensions, which MSVC lacks and
        # clang-cl has; OpenMP stays off (the kernels run serially).
        ["OS=='win'", {
          "msbuild_toolset": "ClangCL",
          "msvs_settings": {"VCCLCompilerTool": {"ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17", "/O2"]}}
        }]
      ]
    }
  ],
  # The x86-64 ISA variants exist only where their flags do; other
  # architectures run the portable kernels (auto-vectorised: NEON on arm64).
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "convkit_avx2",
          "type": "static_library",
          "sources": ["native/kernels/isa/isa_avx2.cc"],
          "cflags_cc": ["-mavx2", "-mfma"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma", "-O3"]},
          "msbuild_toolset": "ClangCL",
          "msvs_settings": {"VCCLCompilerTool": {"AdditionalOptions": ["/std:c++17", "/O2", "-mavx2", "-mfma"]}}
        },
        {
          "target_name": "convkit_avx512",
          "type": "static_library",
          "sources": ["native/kernels/isa/isa_avx512.cc"],
          "cflags_cc": ["-mavx512f", "-mavx512dq", "-mavx512bw", "-mavx512vl", "-mavx2", "-mfma"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-mavx512f", "-mavx512dq", "-mavx512bw", "-mavx512vl", "-mfma", "-O3"]},
          "msbuild_toolset": "ClangCL",
          "msvs_settings": {"VCCLCompilerTool": {"AdditionalOptions": ["/std:c++17", "/O2", "-mavx512f", "-mavx512dq", "-mavx512bw", "-mavx512vl", "-mavx2", "-mfma"]}}
        }
      ]
    }]
  ]
}
