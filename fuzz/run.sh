#!/usr/bin/env bash
# Builds the libFuzzer target with clang in its own build directory and runs
# it. Usage: fuzz/run.sh [SECONDS] [more libFuzzer flags...]
#   SECONDS          how long to fuzz (default 60)
#   RMM_FUZZ_TARGET  fuzz_gguf (default), fuzz_openai_request, fuzz_ws_message, fuzz_prompt_template, fuzz_hub_names
#                    or fuzz_worker_wire
#   RMM_FUZZ_BUILD   build directory (default build-fuzz at the repository root)
#   RMM_LLAMA_DIR    llama.cpp source (default: what scripts/fetch-llama.sh prints)
#   RMM_SHARED_MODELS  seed models (default ../shared/models beside the repository)
# The corpus and any crash files stay under the build directory, never in the
# repository. Exit status: libFuzzer's (0 when no bug was found).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
[ $# -gt 0 ] && shift
build=${RMM_FUZZ_BUILD:-$root/build-fuzz}
llama=${RMM_LLAMA_DIR:-$("$root/scripts/fetch-llama.sh")}
models=${RMM_SHARED_MODELS:-$root/../shared/models}

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S "$root/fuzz" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DRMM_LLAMA_DIR="$llama" "${launcher[@]}" >/dev/null
target=${RMM_FUZZ_TARGET:-fuzz_gguf}
# Runs the target on $corpus with the common limits; extra libFuzzer flags pass through.
fuzz() {
  exec "$build/$target" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
    -artifact_prefix="$build/artifacts/" -print_final_stats=1 "$@" "$corpus"
}
cmake --build "$build" --target "$target"

if [ "$target" = fuzz_openai_request ]; then
  # Seeds: request bodies that exercise every field.
  corpus=$build/corpus-openai
  mkdir -p "$corpus" "$build/artifacts"
  printf '%s' '{"model":"m","prompt":"Hi","max_tokens":8,"temperature":0.5,"top_p":0.9,"stop":["a","b"],"seed":3,"logit_bias":{"12":-100},"stream":true,"stream_options":{"include_usage":true}}' >"$corpus/completion.json"
  printf '%s' '{"messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"x"}]},{"role":"assistant"}],"n":1,"frequency_penalty":1,"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"}}}}' >"$corpus/chat.json"
  # Nesting at and past kMaxJsonDepth (64): 65, 1000 and 100,000 levels, bare and in a request.
  python3 "$root/fuzz/make_seeds.py" --deep-json openai "$corpus"
  fuzz "$@"
fi

if [ "$target" = fuzz_ws_message ]; then
  # Seeds: every command type with every field, then nesting past the bound.
  corpus=$build/corpus-ws
  mkdir -p "$corpus" "$build/artifacts"
  printf '%s' '{"type":"generate","id":"g1","messages":[{"role":"system","content":"s"},{"role":"user","content":"hi"}],"params":{"temperature":0.7,"top_p":0.9,"top_k":40,"min_p":0.05,"max_tokens":16,"seed":1,"stop":["x"],"repeat_penalty":1.1,"presence_penalty":0,"frequency_penalty":0},"alternatives":5,"model":"m","cache":false}' >"$corpus/generate.json"
  printf '%s' '{"type":"generate","id":"g2","prompt":"Once upon a time","params":{"max_tokens":4}}' >"$corpus/prompt.json"
  printf '%s' '{"type":"load","model":"stories260K","id":"L"}' >"$corpus/load.json"
  printf '%s' '{"type":"pause","id":"g1"}' >"$corpus/pause.json"
  python3 "$root/fuzz/make_seeds.py" --deep-json ws "$corpus"
  fuzz "$@"
fi

if [ "$target" = fuzz_prompt_template ]; then
  # Seeds: the starter templates' shapes, with values.
  corpus=$build/corpus-prompts
  mkdir -p "$corpus" "$build/artifacts"
  printf '%s' '{"template":{"name":"T","blocks":[{"type":"system","text":"Be {{tone}}."},{"type":"examples","pairs":[{"user":"u","assistant":"a"}]},{"type":"user","text":"{{q}} in {{lang}}"},{"type":"parameters","temperature":0.2,"max_tokens":64,"stop":["x"]}],"variables":[{"name":"tone","type":"select","options":["kind","terse"],"default":"kind"},{"name":"q","type":"multiline","required":true},{"name":"lang","type":"text","default":"{{tone}} English"},{"name":"n","type":"number","min":1,"max":5,"default":2},{"name":"b","type":"boolean","default":false}]},"values":{"q":"hi","n":3}}' >"$corpus/template.json"
  # Nesting at and past kMaxJsonDepth (64): 65, 1000 and 100,000 levels, bare and in a template.
  python3 "$root/fuzz/make_seeds.py" --deep-json template "$corpus"
  fuzz "$@"
fi

if [ "$target" = fuzz_hub_names ]; then
  # Seeds: a pull spec and a listing with quants, a split set, an mmproj and hostile paths.
  corpus=$build/corpus-hub
  mkdir -p "$corpus" "$build/artifacts"
  printf '%s\n' 'owner/Model-GGUF:q4_k_m' 'model-Q4_K_M.gguf' 'model-Q8_0.gguf' \
    'big/model-Q4_K_M-00001-of-00002.gguf' 'big/model-Q4_K_M-00002-of-00002.gguf' 'mmproj-model-f16.gguf' \
    '../etc/passwd' 'a/../../b.gguf' '/abs.gguf' >"$corpus/listing.txt"
  fuzz "$@"
fi

if [ "$target" = fuzz_worker_wire ]; then
  # Seeds: a stream of a submit, a token with alternatives and a result, in
  # src/worker/wire.hpp's layout (first byte: the chunk size of the stream).
  corpus=$build/corpus-worker
  mkdir -p "$corpus" "$build/artifacts"
  python3 - "$corpus/stream.bin" <<'PY'
import struct, sys
def s(b): return struct.pack("<I", len(b)) + b
def toks(t): return struct.pack("<I", len(t)) + b"".join(struct.pack("<i", x) for x in t)
def frame(kind, p): return struct.pack("<IB", len(p), kind) + p
submit = (struct.pack("<Q", 7) + toks([1, 2, 3]) + struct.pack("<i", 16) + struct.pack("<I", 1) + s(b"\n")
          + b"\x01" + toks([]) + b"\x01" + struct.pack("<i", 2) + struct.pack("<7f", 0.8, .95, .05, 1, 1, 0, 0)
          + struct.pack("<iiq", 40, 64, -1) + struct.pack("<I", 1) + struct.pack("<if", 5, -1.5)
          + s(b"root ::= \"a\"") + s(b"") + b"\x00" + struct.pack("<I", 0) + toks([]) + s(b""))
token = (struct.pack("<Qii", 7, 0, 403) + s(b" Once") + s(b" Once") + struct.pack("<fd", -0.1, 1.5)
         + struct.pack("<I", 2) + struct.pack("<i", 403) + s(b" Once") + struct.pack("<f", -0.1)
         + struct.pack("<i", 2) + s(b"") + struct.pack("<f", -4))
done = (struct.pack("<QB", 7, 0) + s(b" Once") + toks([403]) + struct.pack("<iii", 3, 0, 1)
        + struct.pack("<ddd", 0, 1, 2) + struct.pack("<I", 9) + s(b"") + s(b"") + b"\x06")
open(sys.argv[1], "wb").write(b"\x05" + frame(2, submit) + frame(23, token) + frame(24, done) + frame(4, b""))
PY
  fuzz "$@"
fi

# Seeds: the shared models and small crafted files covering what they lack
# (version 2, every value type, nested arrays, per-layer arrays, a split part).
corpus=$build/corpus
mkdir -p "$corpus" "$build/artifacts"
if [ -d "$models" ]; then
  for m in "$models"/*.gguf; do
    [ -e "$m" ] && cp -n "$m" "$corpus/" 2>/dev/null || true
  done
fi
python3 "$root/fuzz/make_seeds.py" "$corpus"

# -max_len: the shared models are up to 1.7 MB and libFuzzer would cut them at 1 MB.
exec "$build/fuzz_gguf" -max_total_time="$seconds" -max_len=4194304 -timeout=20 -rss_limit_mb=2048 \
  -artifact_prefix="$build/artifacts/" -print_final_stats=1 "$@" "$corpus"
