#!/usr/bin/env python3
"""Writes small, valid GGUF files into a fuzz corpus directory: quick inputs
that reach every part of the reader (the shared models are large and all
version 3). Usage: make_seeds.py CORPUS_DIR

With --deep-json KIND CORPUS_DIR it writes JSON nested past the product's
bound (kMaxJsonDepth, 64) instead: 64 (the limit), 65, 1000 and 100,000
levels of arrays and of objects, bare and inside a document of KIND
(openai: a chat request, template: a Prompt Architect template)."""
import struct
import sys
from pathlib import Path

U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
FMT = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f",
       BOOL: "<?", U64: "<Q", I64: "<q", F64: "<d"}


def string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def value(t, v):
    if t == STR:
        return string(v)
    if t == ARR:
        elem_type, items = v
        return struct.pack("<IQ", elem_type, len(items)) + b"".join(value(elem_type, x) for x in items)
    return struct.pack(FMT[t], v)


def gguf(version, kvs, tensors, alignment=32):
    """kvs: [(key, type, value)]; tensors: [(name, shape, ggml_type, nbytes)]."""
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for key, t, v in kvs:
        out += string(key) + struct.pack("<I", t) + value(t, v)
    offset = 0
    layout = []
    for name, shape, ggml_type, nbytes in tensors:
        out += string(name) + struct.pack("<I", len(shape)) + b"".join(struct.pack("<Q", d) for d in shape)
        out += struct.pack("<IQ", ggml_type, offset)
        layout.append(offset)
        offset += (nbytes + alignment - 1) // alignment * alignment
    out += b"\0" * (-len(out) % alignment)
    return out + b"\0" * offset


def llama(arch, n_layer, heads, kv_heads, ffn, split=None, version=3):
    embd, vocab = 16, 8
    kvs = [
        ("general.architecture", STR, arch),
        ("general.name", STR, "seed"),
        ("general.file_type", U32, 1),
        (f"{arch}.context_length", U32, 256),
        (f"{arch}.embedding_length", U32, embd),
        (f"{arch}.block_count", U32, n_layer),
        (f"{arch}.feed_forward_length", U32, ffn),
        (f"{arch}.attention.head_count", ARR if isinstance(heads, list) else U32,
         (U32, heads) if isinstance(heads, list) else heads),
        (f"{arch}.attention.head_count_kv", ARR if isinstance(kv_heads, list) else U32,
         (I32, kv_heads) if isinstance(kv_heads, list) else kv_heads),
        ("tokenizer.ggml.model", STR, "llama"),
        ("tokenizer.ggml.tokens", ARR, (STR, [f"t{i}" for i in range(vocab)])),
        ("tokenizer.ggml.scores", ARR, (F32, [0.0] * vocab)),
        ("tokenizer.ggml.bos_token_id", U32, 1),
        ("tokenizer.ggml.eos_token_id", U32, 2),
        ("tokenizer.ggml.padding_token_id", U32, 0xFFFFFFFF),
        ("tokenizer.chat_template", STR, "{{ messages }}"),
    ]
    if split:
        kvs += [("split.no", U16, split[0]), ("split.count", U16, split[1]), ("split.tensors.count", I32, 9)]
    f16 = 1
    tensors = [("token_embd.weight", [embd, vocab], f16, embd * vocab * 2)]
    for il in range(n_layer):
        tensors += [(f"blk.{il}.attn_q.weight", [embd, embd], f16, embd * embd * 2),
                    (f"blk.{il}.ffn_up.weight", [embd, ffn], f16, embd * ffn * 2),
                    (f"blk.{il}.attn_norm.weight", [embd], 0, embd * 4)]
    tensors += [("output_norm.weight", [embd], 0, embd * 4)]
    return gguf(version, kvs, tensors)


def every_type():
    kvs = [("u8", U8, 7), ("i8", I8, -7), ("u16", U16, 700), ("i16", I16, -700), ("u32", U32, 7 << 20),
           ("i32", I32, -(7 << 20)), ("f32", F32, 0.5), ("bool", BOOL, True), ("str", STR, "h\u00e9"),
           ("u64", U64, 1 << 40), ("i64", I64, -(1 << 40)), ("f64", F64, 2.5),
           ("nested", ARR, (ARR, [(U8, [1, 2]), (STR, ["a"])])), ("empty", ARR, (U32, [])),
           ("general.alignment", U32, 64)]
    q8_0 = 8
    return gguf(2, kvs, [("q", [32, 2], q8_0, 68), ("scalar", [], 0, 4)], alignment=64)


def deep(depth, kind):
    if kind == "arrays":
        return "[" * depth + "1" + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


def deep_json(kind, corpus):
    corpus.mkdir(parents=True, exist_ok=True)
    for depth in (64, 65, 1000, 100000):
        for shape in ("arrays", "objects"):
            d = deep(depth, shape)
            (corpus / f"deep-{shape}-{depth}.json").write_text(d)
            if kind == "ws":
                doc = '{"type":"generate","id":"g","messages":[{"role":"user","content":"x"}],"params":' + d + '}'
            elif kind == "openai":
                doc = ('{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema",'
                       '"json_schema":{"name":"x","schema":' + d + '}}}')
            else:
                doc = ('{"template":{"name":"T","blocks":[{"type":"user","text":"x"},{"type":"parameters",'
                       '"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":' + d + '}}}]}}')
            (corpus / f"deep-{kind}-{shape}-{depth}.json").write_text(doc)
    # Brackets and escaped quotes inside strings are text, not nesting.
    (corpus / "deep-in-string.json").write_text('{"messages":[{"role":"user","content":"\\\"' + "[" * 1000 + '"}]}')


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--deep-json":
        deep_json(sys.argv[2], Path(sys.argv[3]))
        return
    corpus = Path(sys.argv[1])
    corpus.mkdir(parents=True, exist_ok=True)
    seeds = {
        "seed-llama-v3.gguf": llama("llama", 2, 4, 2, 32),
        "seed-llama-v2.gguf": llama("llama", 1, 2, 2, 24, version=2),
        "seed-per-layer.gguf": llama("toy", 3, [4, 2, 4], [2, 1, 0], 32),
        "seed-split.gguf": llama("llama", 1, 2, 1, 16, split=(1, 3)),
        "seed-every-type.gguf": every_type(),
    }
    for name, data in seeds.items():
        (corpus / name).write_bytes(data)


if __name__ == "__main__":
    main()
