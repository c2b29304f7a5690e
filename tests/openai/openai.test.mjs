// `rmm serve` through OpenAI's official Node client: if the SDK can use it,
// so can the applications built on it. Expected texts come from `rmm run`
// (greedy, so deterministic), which is verified against llama.cpp elsewhere.
//
// Environment: RMM_BIN (the rmm binary), RMM_SHARED_MODELS (the folder with
// stories260K.gguf); ctest passes its build's paths as RMM_BIN_DEFAULT and
// RMM_SHARED_MODELS_DEFAULT. Run: node --test (Node 18.19 or later).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';

const env = (name) => process.env[name] || process.env[`${name}_DEFAULT`] || '';
const bin = env('RMM_BIN');
const modelPath = path.join(env('RMM_SHARED_MODELS'), 'stories260K.gguf');
const modelId = 'stories260k:f32'; // its registry short name: the one id the server shows
const skip = !existsSync(bin)
  ? `RMM_BIN (${bin || 'unset'}) is not an rmm binary`
  : !existsSync(modelPath)
    ? `shared model ${modelPath} is absent`
    : false;

const prompt = 'Once upon a time';
const chatml = (text) => `<|im_start|>user\n${text}<|im_end|>\n<|im_start|>assistant\n`;

// What `rmm run MODEL PROMPT --raw -t 1 ARGS...` prints.
function cli(text, args) {
  return execFileSync(bin, ['run', modelPath, text, '--raw', '-t', '1', ...args], { encoding: 'utf8' });
}
const greedy = (text, n) => cli(text, ['--temp', '0', '-n', String(n)]);

// Starts `rmm serve --port 0` and resolves with the process and its port once
// it prints `rmm serve: listening on http://HOST:PORT` on stderr.
// A fresh database: tests never write to the user's $RMM_HOME.
const freshDatabase = () => path.join(mkdtempSync(path.join(os.tmpdir(), 'rmm-openai-')), 'rmm.db');

function startServer(extraArgs = [], db = freshDatabase()) {
  return new Promise((resolve, reject) => {
    const args = ['serve', '--model', modelPath, '--host', '127.0.0.1', '--port', '0', '-t', '1', '--database', db];
    const child = spawn(bin, [...args, '--parallel', '2', '--ctx-size', '2048', ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`rmm serve did not get ready in 30 s:\n${log}`));
    }, 30000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (data) => {
      log += data;
      const m = /rmm serve: listening on http:\/\/([^\s/]+):(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[2]), log: () => log });
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`rmm serve exited (${code ?? signal}) before listening:\n${log}`));
    });
  });
}

// SIGTERM, and the server must exit 0.
async function stopServer(server) {
  if (!server) return;
  const exited = new Promise((resolve) => server.child.once('exit', (code, signal) => resolve({ code, signal })));
  server.child.kill('SIGTERM');
  const { code, signal } = await exited;
  assert.equal(code, 0, `rmm serve exit: ${code ?? signal}\n${server.log()}`);
}

describe('rmm serve with the openai client', { skip }, () => {
  let server;
  let client;

  before(async () => {
    server = await startServer();
    client = new OpenAI({ baseURL: `http://127.0.0.1:${server.port}/v1`, apiKey: 'none', maxRetries: 0, timeout: 30000 });
  });

  after(() => stopServer(server));

  test('models.list names the loaded model', async () => {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    assert.deepEqual(ids, [modelId]);
  });

  test('chat completion equals the CLI on the ChatML prompt', async () => {
    const res = await client.chat.completions.create({
      model: modelId,
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 20,
      temperature: 0,
    });
    assert.equal(res.object, 'chat.completion');
    assert.equal(res.choices.length, 1);
    assert.equal(res.choices[0].message.role, 'assistant');
    assert.equal(res.choices[0].message.content, greedy(chatml('Hi'), 20));
    assert.equal(res.choices[0].finish_reason, 'length');
    assert.equal(res.usage.completion_tokens, 20);
    assert.equal(res.usage.total_tokens, res.usage.prompt_tokens + 20);
  });

  test('streamed chat chunks join to the same text, with a usage chunk', async () => {
    const stream = await client.chat.completions.create({
      model: modelId,
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 20,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let role;
    let finish;
    let usage;
    for await (const chunk of stream) {
      assert.equal(chunk.object, 'chat.completion.chunk');
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        role ??= c.delta.role;
        text += c.delta.content ?? '';
        if (c.finish_reason) finish = c.finish_reason;
      }
    }
    assert.equal(role, 'assistant');
    assert.equal(text, greedy(chatml('Hi'), 20));
    assert.equal(finish, 'length');
    assert.equal(usage?.completion_tokens, 20);
  });

  test("the SDK's stream helper assembles the final message", async () => {
    const runner = client.chat.completions.stream({
      model: modelId,
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 12,
      temperature: 0,
    });
    const final = await runner.finalChatCompletion();
    assert.equal(final.choices[0].message.content, greedy(chatml('Hi'), 12));
    assert.equal(final.choices[0].finish_reason, 'length');
  });

  test('completions, plain and streamed, equal the CLI', async () => {
    const expected = greedy(prompt, 20);
    const res = await client.completions.create({ model: modelId, prompt, max_tokens: 20, temperature: 0 });
    assert.equal(res.object, 'text_completion');
    assert.equal(res.choices[0].text, expected);
    assert.equal(res.choices[0].finish_reason, 'length');
    assert.deepEqual([res.usage.prompt_tokens, res.usage.completion_tokens], [5, 20]);

    const stream = await client.completions.create({ model: modelId, prompt, max_tokens: 20, temperature: 0, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    assert.equal(text, expected);
  });

  test('logprobs: the chosen token leads its alternatives under greedy decoding', async () => {
    const res = await client.chat.completions.create({
      model: modelId,
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 8,
      temperature: 0,
      logprobs: true,
      top_logprobs: 3,
    });
    const content = res.choices[0].logprobs.content;
    assert.equal(content.length, 8);
    assert.equal(content.map((t) => t.token).join(''), res.choices[0].message.content);
    for (const t of content) {
      assert.ok(t.logprob <= 0);
      assert.deepEqual(t.bytes, [...Buffer.from(t.token, 'utf8')]);
      assert.equal(t.top_logprobs.length, 3);
      assert.equal(t.top_logprobs[0].token, t.token);
      assert.equal(t.top_logprobs[0].logprob, t.logprob);
      for (let i = 1; i < 3; i++) assert.ok(t.top_logprobs[i - 1].logprob >= t.top_logprobs[i].logprob);
    }

    const legacy = await client.completions.create({ model: modelId, prompt, max_tokens: 4, temperature: 0, logprobs: 2 });
    const lp = legacy.choices[0].logprobs;
    assert.equal(lp.tokens.join(''), legacy.choices[0].text);
    assert.equal(lp.token_logprobs.length, 4);
    assert.equal(lp.top_logprobs.length, 4);
    lp.tokens.forEach((tok, i) => assert.equal(lp.top_logprobs[i][tok], lp.token_logprobs[i]));
  });

  test('stop strings end the answer with finish_reason stop', async () => {
    const res = await client.completions.create({ model: modelId, prompt, max_tokens: 40, temperature: 0, stop: ['Lily'] });
    assert.equal(res.choices[0].text, ', there was a little girl named ');
    assert.equal(res.choices[0].text, cli(prompt, ['--temp', '0', '-n', '40', '--stop', 'Lily']));
    assert.equal(res.choices[0].finish_reason, 'stop');

    const chat = await client.chat.completions.create({
      model: modelId,
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 30,
      temperature: 0,
      stop: 'Anna',
    });
    assert.equal(chat.choices[0].message.content, cli(chatml('Hi'), ['--temp', '0', '-n', '30', '--stop', 'Anna']));
    assert.equal(chat.choices[0].finish_reason, 'stop');
  });

  test('json_schema response_format yields JSON matching the schema', async () => {
    const schema = {
      type: 'object',
      properties: { color: { type: 'string', enum: ['red', 'green', 'blue'] } },
      required: ['color'],
      additionalProperties: false,
    };
    const res = await client.chat.completions.create({
      model: modelId,
      messages: [{ role: 'user', content: 'Pick a color.' }],
      max_tokens: 60,
      temperature: 0,
      response_format: { type: 'json_schema', json_schema: { name: 'pick', schema, strict: true } },
    });
    const parsed = JSON.parse(res.choices[0].message.content);
    assert.deepEqual(Object.keys(parsed), ['color']);
    assert.ok(['red', 'green', 'blue'].includes(parsed.color), res.choices[0].message.content);
    assert.equal(res.choices[0].finish_reason, 'stop');
  });

  test('errors surface as the SDK error classes', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] }),
      (e) => {
        assert.ok(e instanceof OpenAI.NotFoundError, `got ${e?.constructor?.name}: ${e?.message}`);
        assert.equal(e.status, 404);
        assert.equal(typeof e.error?.message, 'string');
        return true;
      },
    );
    await assert.rejects(
      client.completions.create({ model: modelId, prompt, max_tokens: 2, n: 2 }),
      (e) => e instanceof OpenAI.BadRequestError && e.status === 400,
    );
    // This model has no template and chatml cannot show tools: refused rather than dropped silently.
    await assert.rejects(
      client.chat.completions.create({
        model: modelId,
        messages: [{ role: 'user', content: 'Hi' }],
        tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }],
      }),
      (e) => e instanceof OpenAI.BadRequestError && /tools/.test(e.message),
    );
  });
});

// A tool template written for these tests (the tiny models have none): tools
// in the system turn, a call is the bare JSON {"name", "arguments"}. llama.cpp
// common derives the call grammar and the reply parser from the template.
const toolTemplate = `{%- if tools %}<|im_start|>system
You may call functions. Signatures:
{%- for tool in tools %}
{{ tool | tojson }}
{%- endfor %}
To call one, answer with {"name": NAME, "arguments": ARGS} alone.<|im_end|>
{% endif %}
{%- for message in messages %}
{%- if message.role == 'assistant' and message.tool_calls %}<|im_start|>assistant
{%- for tc in message.tool_calls %}
{"name": "{{ tc.function.name }}", "arguments": {{ tc.function.arguments | tojson }}}
{%- endfor %}<|im_end|>
{% elif message.role == 'tool' %}<|im_start|>tool
{{ message.content }}<|im_end|>
{% else %}<|im_start|>{{ message.role }}
{{ message.content }}<|im_end|>
{% endif %}
{%- endfor %}
{%- if add_generation_prompt %}<|im_start|>assistant
{% endif %}
`;

// An enum keeps the grammar-forced arguments short, so a tiny story model
// always completes the call within the token budget.
const cities = ['Paris', 'London', 'Tokyo'];
const tools = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather in a city',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string', enum: cities } },
        required: ['city'],
        additionalProperties: false,
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'get_time',
      description: 'Local time in a city',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string', enum: cities } },
        required: ['city'],
        additionalProperties: false,
      },
    },
  },
];
const question = [{ role: 'user', content: 'What is the weather in Paris?' }];

function checkCall(call, name) {
  assert.equal(call.type, 'function');
  assert.equal(typeof call.id, 'string');
  assert.ok(call.id.length > 0);
  if (name) assert.equal(call.function.name, name);
  else assert.ok(['get_weather', 'get_time'].includes(call.function.name), call.function.name);
  const args = JSON.parse(call.function.arguments);
  assert.deepEqual(Object.keys(args), ['city']);
  assert.ok(cities.includes(args.city), call.function.arguments);
}

describe('tool calls through the openai client', { skip }, () => {
  let server;
  let client;
  // A story model never starts a JSON call by itself; a logit bias on '{' makes it open one and
  // the grammar then holds it to the tool schema, as it would hold a real model.
  let openCall;

  before(async () => {
    server = await startServer(['--chat-template', toolTemplate]);
    client = new OpenAI({ baseURL: `http://127.0.0.1:${server.port}/v1`, apiKey: 'none', maxRetries: 0, timeout: 30000 });
    const res = await fetch(`http://127.0.0.1:${server.port}/api/tokenize`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ content: '{', with_pieces: true }),
    });
    const brace = (await res.json()).tokens.find((t) => t.piece === '{');
    assert.ok(brace, 'the vocabulary has a token for {');
    openCall = { [String(brace.id)]: 100 };
  });

  after(() => stopServer(server));

  test("tool_choice 'required' yields a parsed call with finish_reason tool_calls", async () => {
    const res = await client.chat.completions.create({
      model: modelId, messages: question, tools, tool_choice: 'required', max_tokens: 80, temperature: 0, logit_bias: openCall,
    });
    const choice = res.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls', JSON.stringify(choice));
    assert.equal(choice.message.role, 'assistant');
    assert.ok(choice.message.tool_calls.length >= 1, JSON.stringify(choice));
    for (const call of choice.message.tool_calls) checkCall(call);
    assert.ok(!(choice.message.content ?? '').includes('<tool_call>'), choice.message.content);
  });

  test('a named tool_choice calls that function', async () => {
    const res = await client.chat.completions.create({
      model: modelId, messages: question, tools, max_tokens: 80, temperature: 0, logit_bias: openCall,
      tool_choice: { type: 'function', function: { name: 'get_time' } },
    });
    const choice = res.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls', JSON.stringify(choice));
    for (const call of choice.message.tool_calls) checkCall(call, 'get_time');
  });

  test('a streamed call assembles through the SDK stream helper', async () => {
    const stream = client.chat.completions.stream({
      model: modelId, messages: question, tools, tool_choice: 'required', max_tokens: 80, temperature: 0, logit_bias: openCall,
    });
    const final = await stream.finalChatCompletion();
    const choice = final.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls', JSON.stringify(choice));
    assert.ok(choice.message.tool_calls.length >= 1);
    for (const call of choice.message.tool_calls) checkCall(call);
    // The same request unstreamed gives the same calls (greedy).
    const plain = await client.chat.completions.create({
      model: modelId, messages: question, tools, tool_choice: 'required', max_tokens: 80, temperature: 0, logit_bias: openCall,
    });
    const names = (c) => c.message.tool_calls.map((t) => [t.function.name, JSON.parse(t.function.arguments)]);
    assert.deepEqual(names(choice), names(plain.choices[0]));
  });

  test('a tool result goes back in and tool_choice none answers in text', async () => {
    const first = await client.chat.completions.create({
      model: modelId, messages: question, tools, tool_choice: 'required', max_tokens: 80, temperature: 0, logit_bias: openCall,
    });
    const call = first.choices[0].message.tool_calls[0];
    const res = await client.chat.completions.create({
      model: modelId,
      tools,
      tool_choice: 'none',
      max_tokens: 12,
      temperature: 0,
      messages: [
        ...question,
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: '18 C and sunny' },
      ],
    });
    const choice = res.choices[0];
    assert.ok(['stop', 'length'].includes(choice.finish_reason), choice.finish_reason);
    assert.equal(typeof choice.message.content, 'string');
    assert.ok(!choice.message.tool_calls || choice.message.tool_calls.length === 0);
    assert.ok(res.usage.prompt_tokens > first.usage.prompt_tokens, 'the tool turn is part of the prompt');
  });

  test('an unknown tool_choice function is a 400', async () => {
    await assert.rejects(
      client.chat.completions.create({
        model: modelId, messages: question, tools, max_tokens: 8,
        tool_choice: { type: 'function', function: { name: 'nope' } },
      }),
      (e) => e instanceof OpenAI.BadRequestError && e.status === 400,
    );
  });
});

// API keys as OpenAI's own API takes them: the SDK's apiKey option is sent as a
// bearer token; a wrong one is the SDK's AuthenticationError, a rate limit its
// RateLimitError with OpenAI's headers.
describe('rmm serve with API keys, through the openai client', { skip }, () => {
  let server;
  let key;
  let base;

  before(async () => {
    const db = freshDatabase();
    const keys = (name, args) =>
      execFileSync(bin, ['keys', 'create', name, '--database', db, ...args], { encoding: 'utf8' }).trim();
    key = keys('app', ['--scope', 'generate', '--requests-per-minute', '4']);
    server = await startServer([], db);
    base = `http://127.0.0.1:${server.port}/v1`;
  });
  after(() => stopServer(server));

  test('the key given as apiKey is accepted', async () => {
    assert.match(key, /^rmm-[0-9A-Za-z]{43}$/);
    const client = new OpenAI({ baseURL: base, apiKey: key, maxRetries: 0 });
    const res = await client.chat.completions.create({
      model: modelId, messages: [{ role: 'user', content: prompt }], max_tokens: 8, temperature: 0,
    });
    assert.equal(res.choices[0].message.content, greedy(chatml(prompt), 8));
  });

  test('a wrong key is an AuthenticationError', async () => {
    const client = new OpenAI({ baseURL: base, apiKey: 'rmm-not-a-key', maxRetries: 0 });
    await assert.rejects(client.models.list(), (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
  });

  test('past the rate limit: RateLimitError with retry-after and x-ratelimit headers', async () => {
    const client = new OpenAI({ baseURL: base, apiKey: key, maxRetries: 0 });
    let error;
    for (let i = 0; i < 6 && !error; i++) {
      try {
        await client.models.list();
      } catch (e) {
        error = e;
      }
    }
    assert.ok(error instanceof OpenAI.RateLimitError, String(error));
    assert.equal(error.status, 429);
    assert.equal(error.headers.get('x-ratelimit-limit-requests'), '4');
    assert.equal(error.headers.get('x-ratelimit-remaining-requests'), '0');
    assert.ok(Number(error.headers.get('retry-after')) >= 1);
  });
});
