"""@libtorch: Debian's LibTorch by default, or the one named by LIBTORCH.

  bazel build //...                                   # Debian's libtorch-dev (CPU)
  LIBTORCH=/opt/libtorch bazel build --config=cuda //...   # any other, e.g. CUDA

LIBTORCH is a folder with include/ and lib/: an unpacked libtorch archive of
pytorch.org, or the torch Python package's folder
(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))').
--config=cuda sets SPAT_CUDA=1: the LibTorch must then have CUDA
(lib/libtorch_cuda.so), and the CUDA toolkit's headers and libcudart come
from CUDA_HOME (default /usr/local/cuda), NCCL's header from NCCL_HOME, the
toolkit or the nvidia-nccl package beside torch.
"""

_DEBIAN_BUILD = """
# Debian's libtorch-dev: headers in /usr/include and /usr/include/torch/csrc/api/include
# (the latter added by .bazelrc as -isystem, so that Bazel does not stage thousands of
# headers per action); libraries on the default path.
package(default_visibility = ["//visibility:public"])

cc_library(
    name = "libtorch",
    linkopts = ["-ltorch", "-ltorch_cpu", "-lc10", "-pthread"],
)
{gloo}"""

# c10d's CPU collectives (spat/distributed.cc): its ProcessGroupGloo.hpp
# includes Gloo's headers, and only the Gloo that this LibTorch was built
# with may be used (Debian's libgloo-dev for Debian's LibTorch; the torch
# Python package ships none, so its build leaves them out).
_GLOO_ON = """
cc_library(
    name = "gloo",
    defines = ["USE_C10D_GLOO", "SPAT_WITH_GLOO=1"],
)
"""

_GLOO_OFF = """
cc_library(name = "gloo")  # no Gloo headers with this LibTorch
"""

_OTHER_BUILD = """
# LibTorch from LIBTORCH={root}{cuda_note}
package(default_visibility = ["//visibility:public"])

cc_library(
    name = "libtorch",
    hdrs = glob(["include/**"], allow_empty = False){cuda_hdrs},
    includes = ["include", "include/torch/csrc/api/include"{cuda_includes}],
    linkopts = [
        "-L{root}/lib",
        "-Wl,-rpath,{root}/lib",
        # Keep every library: CUDA kernels register themselves when loaded.
        "-Wl,--no-as-needed",
        "-ltorch",
        "-ltorch_cpu",
        "-lc10",{cuda_libs}
        "-Wl,--as-needed",
        "-pthread",
    ],
)
{gloo}"""

def _fail_not_libtorch(root, why):
    fail(("LIBTORCH={root} is not a LibTorch: {why}. Expected {root}/include/torch/csrc/api/" +
          "include/torch/torch.h and {root}/lib/libtorch.so: an unpacked libtorch archive of " +
          "pytorch.org, or the torch Python package's folder (python3 -c 'import torch, os; " +
          "print(os.path.dirname(torch.__file__))'); unset LIBTORCH for Debian's.").format(
        root = root,
        why = why,
    ))

def _libtorch_repository_impl(rctx):
    root = rctx.os.environ.get("LIBTORCH", "")
    cuda = rctx.os.environ.get("SPAT_CUDA", "") == "1"
    if not root:
        if cuda:
            fail("--config=cuda needs a CUDA LibTorch: set LIBTORCH to its folder " +
                 "(Debian's libtorch-dev has no CUDA); see README, \"Any LibTorch\"")
        has_gloo = rctx.path("/usr/include/gloo/algorithm.h").exists
        rctx.file("BUILD.bazel", _DEBIAN_BUILD.format(gloo = _GLOO_ON if has_gloo else _GLOO_OFF))
        return
    if not root.startswith("/"):
        fail("LIBTORCH={} must be an absolute path".format(root))
    p = rctx.path(root)
    if not p.exists:
        _fail_not_libtorch(root, "no such folder")
    if not rctx.path(root + "/include/torch/csrc/api/include/torch/torch.h").exists:
        _fail_not_libtorch(root, "include/torch/csrc/api/include/torch/torch.h is missing")
    if not rctx.path(root + "/lib/libtorch.so").exists:
        _fail_not_libtorch(root, "lib/libtorch.so is missing")
    has_cuda = rctx.path(root + "/lib/libtorch_cuda.so").exists
    # Every include/ entry but google/: the torch Python package ships an older
    # protobuf's headers there (3.13 in torch 2.11), which would shadow the
    # protobuf our .pb.h files are generated for (its symbols stay inside
    # libtorch_cpu).
    for entry in rctx.path(root + "/include").readdir():
        if entry.basename != "google":
            rctx.symlink(entry, "include/" + entry.basename)
    has_gloo = rctx.path(root + "/include/gloo/algorithm.h").exists
    cuda_hdrs = ""
    cuda_includes = ""
    cuda_libs = ""
    cuda_note = " (CPU)"
    if cuda:
        if not has_cuda:
            fail(("--config=cuda needs a CUDA LibTorch, but LIBTORCH={} has no " +
                  "lib/libtorch_cuda.so (a CPU-only build)").format(root))
        cuda_home = rctx.os.environ.get("CUDA_HOME", "/usr/local/cuda")
        if not rctx.path(cuda_home + "/include/cuda_runtime_api.h").exists:
            fail(("--config=cuda: no CUDA toolkit headers at CUDA_HOME={}/include " +
                  "(set CUDA_HOME)").format(cuda_home))
        rctx.symlink(cuda_home + "/include", "cuda_include")
        cuda_hdrs = ' + glob(["cuda_include/**"])'
        cuda_includes = ', "cuda_include"'
        # NCCL (spat/distributed.cc): the toolkit's nccl.h, NCCL_HOME's, or the
        # nvidia-nccl package beside the torch Python package.
        nccl = ""
        for d in [rctx.os.environ.get("NCCL_HOME", ""), cuda_home, root + "/../nvidia/nccl"]:
            if d and rctx.path(d + "/include/nccl.h").exists:
                nccl = d
                break
        if not nccl:
            fail("--config=cuda: no nccl.h in $NCCL_HOME/include, {}/include or {}/../nvidia/nccl/include (set NCCL_HOME)".format(cuda_home, root))
        if nccl != cuda_home:
            rctx.symlink(nccl + "/include", "nccl_include")
            cuda_hdrs += ' + glob(["nccl_include/**"])'
            cuda_includes += ', "nccl_include"'
        cuda_libs = """
        "-ltorch_cuda",
        "-lc10_cuda",
        "-L{cuda}/lib64",
        "-Wl,-rpath,{cuda}/lib64",
        "-lcudart",
        "-L{nccl_lib}",
        "-Wl,-rpath,{nccl_lib}",
        "-l:libnccl.so.2",""".format(
            cuda = cuda_home,
            nccl_lib = nccl + ("/lib64" if nccl == cuda_home else "/lib"),
        )
        cuda_note = " with CUDA (toolkit " + cuda_home + ")"
    rctx.file("BUILD.bazel", _OTHER_BUILD.format(
        root = root,
        cuda_note = cuda_note,
        cuda_hdrs = cuda_hdrs,
        cuda_includes = cuda_includes,
        cuda_libs = cuda_libs,
        gloo = _GLOO_ON if has_gloo else _GLOO_OFF,
    ))

libtorch_repository = repository_rule(
    implementation = _libtorch_repository_impl,
    environ = ["LIBTORCH", "SPAT_CUDA", "CUDA_HOME", "NCCL_HOME"],
    local = True,
)
