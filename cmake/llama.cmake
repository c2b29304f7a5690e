# llama.cpp is built from the source tree that scripts/fetch-llama.sh unpacks
# into the user cache. It is added as a SYSTEM subdirectory so its headers do
# not trip our warning flags, and EXCLUDE_FROM_ALL so only what we link (plus
# the peer tools below) is built.
if(NOT RMM_LLAMA_DIR OR NOT EXISTS "${RMM_LLAMA_DIR}/include/llama.h")
  message(FATAL_ERROR "RMM_LLAMA_DIR must point at the llama.cpp source; run scripts/fetch-llama.sh")
endif()

set(LLAMA_BUILD_COMMON ON CACHE BOOL "" FORCE)
set(LLAMA_BUILD_TOOLS ON CACHE BOOL "" FORCE)      # peers: llama-completion, llama-bench, ...
set(LLAMA_BUILD_TESTS OFF CACHE BOOL "" FORCE)     # some fixtures download models
set(LLAMA_BUILD_EXAMPLES OFF CACHE BOOL "" FORCE)
set(LLAMA_BUILD_SERVER ON CACHE BOOL "" FORCE)     # peer: llama-server (its UI stays empty, below)
set(LLAMA_BUILD_UI OFF CACHE BOOL "" FORCE)        # would run npm
set(LLAMA_BUILD_APP OFF CACHE BOOL "" FORCE)
set(LLAMA_USE_PREBUILT_UI OFF CACHE BOOL "" FORCE) # would download a web UI
set(LLAMA_OPENSSL OFF CACHE BOOL "" FORCE)
set(LLAMA_SUBPROCESS OFF CACHE BOOL "" FORCE)
set(BUILD_SHARED_LIBS OFF CACHE BOOL "" FORCE)
set(GGML_CUDA ${RMM_CUDA} CACHE BOOL "" FORCE)

add_subdirectory(${RMM_LLAMA_DIR} llama.cpp EXCLUDE_FROM_ALL SYSTEM)

# llama.cpp's own tools, built from the same tree: the references our tests
# and benchmarks compare against.
set(RMM_PEER_TOOLS llama-completion llama-bench llama-batched-bench llama-server)
add_custom_target(peer-tools ALL)
add_dependencies(peer-tools ${RMM_PEER_TOOLS})

# ggml's AMX matmul kernels crash (SIGSEGV in ggml_backend_amx_mul_mat) on the
# Sapphire Rapids VMs here, in llama.cpp's own tools too, for Q8_0 and Q4_K
# models. -march=native turns them on wherever the CPU has AMX, so they are
# compiled out unless asked for; the peer tools are built the same way, so
# comparisons stay fair.
option(RMM_GGML_AMX "Keep ggml's AMX kernels (known to crash on some CPUs)" OFF)
if(NOT RMM_GGML_AMX AND TARGET ggml-cpu AND CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang"
   AND CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  target_compile_options(ggml-cpu PRIVATE -mno-amx-tile -mno-amx-int8 -mno-amx-bf16)
endif()
