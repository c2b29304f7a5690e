// One open conversation: its message tree, the path shown, and the answer
// being generated. Answers stream over the token socket; the user's message
// and the finished answer (with its timings and token probabilities) are
// stored through the history API, each under its parent, so regenerating
// and editing add branches.
import { historyChanged, tokenSocket } from "./app.svelte";
import { ChatTree, draftId, isDraft } from "./chat-tree";
import {
  appendMessage,
  createConversation,
  getConversation,
  setCurrentLeaf,
  type StoredMessage,
} from "./history";
import { forkEvents, forkPrefix } from "./inspector";
import type { Alternative, GenerationResult, LoadedModel, TokenEvent } from "./socket.svelte";

export interface ChatMessage extends StoredMessage {
  error?: string;
  finish_reason?: string;
}

// How many alternatives each token keeps (the token inspector shows them).
const ALTERNATIVES = 5;

export class ChatSession {
  id: string | null = $state(null);
  title = $state("");
  leaf = $state(0);
  version = $state(0); // bumped when the tree changes (the tree itself is not reactive)
  error = $state("");
  loading = $state(false);
  // The answer being generated: its draft id, its text so far and its tokens.
  streaming: { id: number; text: string; tokens: number; startedAt: number; firstTokenAt: number } | null =
    $state(null);
  modelLoad: { model: string; progress: number } | null = $state(null);
  contextSizes: Record<string, number> = $state({});
  private tree = new ChatTree<ChatMessage>();
  private handle: { stop(): void } | null = null;
  // The streaming answer's token events, complete from its first token (a fork's prefix included).
  // Not reactive: `streaming.tokens` counts them, so the inspector renders only what is new.
  streamingEvents: TokenEvent[] = [];
  private renamed = new Map<number, number>(); // draft id -> stored id

  get path(): ChatMessage[] {
    void this.version;
    return this.tree.path(this.leaf);
  }

  siblings(id: number): { ids: number[]; index: number } {
    void this.version;
    return this.tree.siblings(id);
  }

  get busy(): boolean {
    return this.streaming !== null;
  }

  async open(id: string): Promise<void> {
    if (this.id === id) return;
    this.stop();
    this.loading = true;
    this.error = "";
    try {
      const c = await getConversation(id);
      this.id = c.id;
      this.title = c.title;
      this.tree = new ChatTree(c.messages);
      this.leaf = c.current_leaf && this.tree.get(c.current_leaf) ? c.current_leaf : this.tree.newestLeaf();
      this.version++;
    } catch (e) {
      this.error = (e as Error).message;
    } finally {
      this.loading = false;
    }
  }

  reset(): void {
    this.stop();
    this.id = null;
    this.title = "";
    this.tree = new ChatTree();
    this.leaf = 0;
    this.error = "";
    this.version++;
  }

  stop(): void {
    this.handle?.stop();
  }

  // Loads the model (if this page has not yet) and learns its context size.
  async ensureModel(model: string): Promise<LoadedModel> {
    this.modelLoad = { model, progress: 0 };
    try {
      const m = await tokenSocket().load(model, (p) => {
        if (this.modelLoad) this.modelLoad.progress = p;
      });
      this.contextSizes[model] = m.context_per_slot;
      return m;
    } finally {
      this.modelLoad = null;
    }
  }

  async send(text: string, opts: SendOptions): Promise<string | null> {
    this.error = "";
    let created: string | null = null;
    try {
      if (!this.id) {
        const c = await createConversation({ title: titleFrom(text), model: opts.model });
        this.id = c.id;
        this.title = c.title;
        created = c.id;
        historyChanged();
      }
      const user = await appendMessage(this.id, { role: "user", content: text }, this.leaf || null);
      this.tree.add(user);
      this.leaf = user.id;
      this.version++;
      void this.generate(user.id, opts);
    } catch (e) {
      this.error = (e as Error).message;
    }
    return created;
  }

  get(id: number): ChatMessage | undefined {
    void this.version;
    return this.tree.get(this.current(id));
  }

  // The id a message has now: a draft's stored id once it is saved.
  current(id: number): number {
    void this.version;
    for (let next = this.renamed.get(id); next !== undefined; next = this.renamed.get(id)) id = next;
    return id;
  }

  // The answers to the same message as `id` (itself included), oldest first.
  answersBeside(id: number): ChatMessage[] {
    void this.version;
    const m = this.tree.get(id);
    if (!m) return [];
    return this.tree.children(m.parent_id).map((c) => this.tree.get(c)!).filter((c) => c.role === "assistant");
  }

  // A new answer beside `sourceId` that keeps its first `at` tokens, takes `alt` at position `at`
  // and lets the model continue from there (the server's continue_from: the exact token ids).
  // Returns the new answer's (draft) id; it streams on.
  forkAt(sourceId: number, at: number, alt: Alternative, opts: SendOptions): number | null {
    const source = this.tree.get(sourceId);
    if (!source || !source.logprobs || this.busy) return null;
    const events = source.logprobs;
    void this.generate(source.parent_id, { ...opts, model: source.model || opts.model }, {
      source: sourceId,
      at,
      alt,
      prefix: forkPrefix(events, at, alt.token_id),
      events,
    });
    return this.leaf; // set to the draft before generate's first wait
  }

  async regenerate(assistantId: number, opts: SendOptions): Promise<void> {
    const m = this.tree.get(assistantId);
    if (!m || this.busy) return;
    if (isDraft(m.id)) this.dropDraft(m.id);
    await this.generate(m.parent_id, opts);
  }

  async editAndResend(userId: number, text: string, opts: SendOptions): Promise<void> {
    const m = this.tree.get(userId);
    if (!m || !this.id || this.busy) return;
    this.error = "";
    try {
      const user = await appendMessage(this.id, { role: "user", content: text }, m.parent_id || null);
      this.tree.add(user);
      this.leaf = user.id;
      this.version++;
      await this.generate(user.id, opts);
    } catch (e) {
      this.error = (e as Error).message;
    }
  }

  // Shows the branch of `siblingId` (down to its newest leaf).
  async switchTo(siblingId: number): Promise<void> {
    if (this.busy) return;
    this.leaf = this.tree.leafOf(siblingId);
    this.version++;
    if (this.id && !isDraft(this.leaf)) {
      try {
        await setCurrentLeaf(this.id, this.leaf);
      } catch (e) {
        this.error = (e as Error).message;
      }
    }
  }

  // A new conversation holding the path shown now.
  async fork(model: string): Promise<string | null> {
    const path = this.path.filter((m) => !isDraft(m.id));
    if (!path.length) return null;
    try {
      const c = await createConversation({
        title: `${this.title || "Chat"} (fork)`,
        model,
        messages: path.map(({ role, content, model, prompt_tokens, completion_tokens, timings, logprobs }) => ({
          role,
          content,
          model,
          prompt_tokens,
          completion_tokens,
          timings,
          logprobs,
        })),
      });
      historyChanged();
      return c.id;
    } catch (e) {
      this.error = (e as Error).message;
      return null;
    }
  }

  private dropDraft(id: number): void {
    const m = this.tree.get(id);
    if (!m) return;
    this.tree.remove(id);
    this.version++;
  }

  private async generate(parentId: number, opts: SendOptions, fork: Fork | null = null): Promise<void> {
    const conversation = this.id;
    if (!conversation) return;
    const history = this.tree.path(parentId).map((m) => ({ role: m.role, content: m.content }));
    const messages = opts.system.trim() ? [{ role: "system", content: opts.system }, ...history] : history;
    const draft: ChatMessage = {
      id: draftId(),
      parent_id: parentId,
      role: "assistant",
      content: "",
      model: opts.model,
      fork: fork ? { of: fork.source, at: fork.at } : null,
    };
    this.tree.add(draft);
    this.leaf = draft.id;
    // A fork's text starts with its prefix: the server sends events for the new tokens only. A chosen
    // token that ends inside a character is completed by the next token's text.
    const prefixEvents = fork ? forkEvents(fork.events, fork.at, fork.alt, []) : [];
    const prefixText = prefixEvents.map((e) => e.text).join("").replace(/\uFFFD+$/, "");
    this.streamingEvents = prefixEvents;
    this.streaming = { id: draft.id, text: prefixText, tokens: prefixEvents.length, startedAt: performance.now(), firstTokenAt: 0 };
    this.version++;

    if (!(opts.model in this.contextSizes)) {
      try {
        await this.ensureModel(opts.model);
      } catch (e) {
        this.fail(draft, (e as Error).message);
        return;
      }
    }

    const tokens = this.streamingEvents;
    await new Promise<void>((done) => {
      this.handle = tokenSocket().generate(
        {
          model: opts.model,
          messages,
          params: opts.params,
          alternatives: ALTERNATIVES,
          ...(fork ? { continue_from: { tokens: fork.prefix } } : {}),
        },
        {
          onToken: (e) => {
            tokens.push(e);
            const s = this.streaming;
            if (s && s.id === draft.id) {
              if (!s.firstTokenAt) s.firstTokenAt = performance.now();
              s.text += e.text;
              s.tokens++;
            }
          },
          onComplete: async (r: GenerationResult) => {
            const text = this.streaming?.id === draft.id ? this.streaming.text : "";
            this.handle = null;
            if (r.finish_reason === "error") {
              this.fail(draft, r.message ?? "the generation failed", text);
              done();
              return;
            }
            try {
              const stored = await appendMessage(
                conversation,
                {
                  role: "assistant",
                  content: text,
                  model: opts.model,
                  prompt_tokens: r.usage.prompt_tokens,
                  completion_tokens: r.usage.completion_tokens,
                  timings: r.timings,
                  logprobs: tokens,
                  fork: fork ? { of: fork.source, at: fork.at } : null,
                },
                parentId,
              );
              if (this.id === conversation) {
                this.tree.replace(draft.id, { ...stored, finish_reason: r.finish_reason });
                this.renamed.set(draft.id, stored.id);
                if (this.leaf === draft.id) this.leaf = stored.id;
              }
              historyChanged();
            } catch (e) {
              this.fail(draft, `the answer could not be saved: ${(e as Error).message}`, text);
            }
            if (this.streaming?.id === draft.id) this.streaming = null;
            this.version++;
            done();
          },
          onError: (message) => {
            this.handle = null;
            this.fail(draft, message, this.streaming?.id === draft.id ? this.streaming.text : "");
            done();
          },
        },
      );
    });
  }

  private fail(draft: ChatMessage, message: string, text = ""): void {
    if (this.tree.get(draft.id)) this.tree.replace(draft.id, { ...draft, content: text, error: message });
    if (this.streaming?.id === draft.id) this.streaming = null;
    this.handle = null;
    this.version++;
  }
}

interface Fork {
  source: number; // the answer forked from
  at: number; // the position of the chosen token
  alt: Alternative;
  prefix: number[]; // the token ids the server continues from
  events: TokenEvent[]; // the source's token events
}

export interface SendOptions {
  model: string;
  system: string;
  params: Record<string, unknown>;
}

export function titleFrom(text: string): string {
  const line = text.trim().split("\n")[0].replace(/\s+/g, " ");
  return line.length > 60 ? `${line.slice(0, 57)}…` : line || "New chat";
}
