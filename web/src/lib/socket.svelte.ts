// The WebSocket token stream (/api/ws): every token with its probability and
// alternatives, the timings, stop. One socket carries every generation of
// the page; it reconnects by itself after a server restart, and the
// generations it carried end with an error saying the connection was lost.
import { apiKey } from "./api";

export interface Alternative {
  token_id: number;
  text: string;
  logprob: number | null;
}
export interface TokenEvent {
  index: number;
  token_id: number;
  text: string;
  logprob: number | null;
  // Nats, over the whole vocabulary; absent when log-probabilities were not asked for.
  entropy?: number;
  alternatives: Alternative[];
  t_ms: number;
}
export interface Timings {
  prompt_tokens: number;
  cached_tokens: number;
  generated_tokens: number;
  queue_ms: number;
  prompt_ms: number;
  generation_ms: number;
  prompt_tokens_per_second: number;
  generation_tokens_per_second: number;
}
export interface GenerationResult {
  finish_reason: "stop" | "length" | "cancelled" | "error";
  stop_reason: string;
  seed: number;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  timings: Timings;
  message?: string;
  code?: string;
}
export interface LoadedModel {
  id: string;
  path: string;
  description: string;
  context_size: number;
  context_per_slot: number;
  slots: number;
}

export interface GenerateRequest {
  model?: string;
  messages: { role: string; content: string }[];
  params?: Record<string, unknown>;
  alternatives?: number;
  // Continue an answer from these token ids (the inspector's fork from an alternative).
  continue_from?: { tokens: number[] };
}

interface Pending {
  onToken(e: TokenEvent): void;
  onComplete(r: GenerationResult): void;
  onError(message: string, type: string): void;
}

// "refused": the server answers HTTP but would not open the socket (an API key is needed or wrong).
export type SocketState = "connecting" | "open" | "reconnecting" | "refused";

export class TokenSocket {
  state: SocketState = $state("connecting");
  // Set after a reconnect, so the page can say the server came back.
  reconnectedAt = $state(0);
  private ws: WebSocket | null = null;
  private generations = new Map<string, Pending>();
  private loads = new Map<string, { resolve(m: LoadedModel): void; reject(e: Error): void; progress?(p: number): void }>();
  private queue: string[] = [];
  private retryMs = 500;
  private wasOpen = false;
  private counter = 0;

  constructor(private url = TokenSocket.defaultUrl()) {
    this.connect();
  }

  static defaultUrl(): string {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    return `${proto}//${location.host}/api/ws`;
  }

  private connect(): void {
    const key = apiKey();
    const protocols = key ? ["rmm", `rmm-key.${key}`] : ["rmm"];
    const ws = new WebSocket(this.url, protocols);
    this.ws = ws;
    ws.onopen = () => {
      this.state = "open";
      this.retryMs = 500;
      if (this.wasOpen) this.reconnectedAt = Date.now();
      this.wasOpen = true;
      for (const m of this.queue.splice(0)) ws.send(m);
    };
    ws.onmessage = (ev) => this.receive(typeof ev.data === "string" ? ev.data : "");
    let opened = false;
    ws.addEventListener("open", () => (opened = true));
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.state = "reconnecting";
      // A socket closed before it opened, by a server that answers: refused, not gone.
      if (!opened)
        fetch("/health")
          .then((r) => {
            if (r.status < 500 && this.ws === ws && this.state === "reconnecting") this.state = "refused";
          })
          .catch(() => {});
      for (const [, g] of this.generations) g.onError("the connection to the server was lost", "disconnected");
      this.generations.clear();
      for (const [, l] of this.loads) l.reject(new Error("the connection to the server was lost"));
      this.loads.clear();
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 5000);
    };
  }

  // After the API key changed.
  reconnect(): void {
    const old = this.ws;
    this.ws = null;
    old?.close();
    this.connect();
  }

  private send(msg: object): void {
    const text = JSON.stringify(msg);
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
    else this.queue.push(text);
  }

  private receive(text: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    const id = typeof msg.id === "string" ? msg.id : "";
    switch (msg.type) {
      case "token":
        this.generations.get(id)?.onToken(msg as unknown as TokenEvent);
        break;
      case "complete": {
        const g = this.generations.get(id);
        this.generations.delete(id);
        g?.onComplete(msg as unknown as GenerationResult);
        break;
      }
      case "load_progress":
        this.loads.get(id)?.progress?.(Number(msg.progress));
        break;
      case "load_complete": {
        const l = this.loads.get(id);
        this.loads.delete(id);
        l?.resolve(msg.metadata as LoadedModel);
        break;
      }
      case "error": {
        const message = String(msg.message ?? "error");
        const type = String(msg.error_type ?? "server_error");
        const g = this.generations.get(id);
        if (g) {
          this.generations.delete(id);
          g.onError(message, type);
        }
        const l = this.loads.get(id);
        if (l) {
          this.loads.delete(id);
          l.reject(new Error(message));
        }
        break;
      }
    }
  }

  nextId(prefix: string): string {
    return `${prefix}-${Date.now().toString(36)}-${++this.counter}`;
  }

  generate(req: GenerateRequest, handlers: Pending): { id: string; stop(): void } {
    const id = this.nextId("g");
    this.generations.set(id, handlers);
    this.send({ type: "generate", id, ...req });
    return { id, stop: () => this.send({ type: "stop", id }) };
  }

  load(model: string, progress?: (p: number) => void): Promise<LoadedModel> {
    const id = this.nextId("l");
    return new Promise((resolve, reject) => {
      this.loads.set(id, { resolve, reject, progress });
      this.send({ type: "load", id, model });
    });
  }
}
