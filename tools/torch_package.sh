# The torch Python package that tools/setup.sh installs as the project's
# second LibTorch, in one place for every script that looks for it:
#   source tools/torch_package.sh
#   "$SPAT_TORCH_PACKAGE_PYTHON" -c 'import torch'
# SPAT_TORCH_VENV overrides the folder (setup.sh: "none" skips the install).
SPAT_TORCH_PACKAGE_VERSION=2.11.0   # the GPU machine's version
SPAT_TORCH_PACKAGE_CUDA=13.0        # the CUDA it is built for (torch.version.cuda)
SPAT_TORCH_PACKAGE_VENV=${SPAT_TORCH_VENV:-$HOME/.cache/spat/torch-$SPAT_TORCH_PACKAGE_VERSION}
SPAT_TORCH_PACKAGE_PYTHON=$SPAT_TORCH_PACKAGE_VENV/bin/python
