// HTTP calls to the rmm server (same origin). Errors carry the server's own
// message; a 401 asks the user for an API key once and retries.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

const KEY_STORAGE = "rmm.apiKey";

export function apiKey(): string {
  try {
    return localStorage.getItem(KEY_STORAGE) ?? "";
  } catch {
    return "";
  }
}

export function setApiKey(key: string): void {
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
  } catch {
    /* private mode: the key lasts for this page only */
  }
}

// Set by the app: shows the key dialog and resolves with the key entered
// (or null when the user cancels).
let askForKey: ((reason: string) => Promise<string | null>) | null = null;
export function onKeyNeeded(fn: (reason: string) => Promise<string | null>): void {
  askForKey = fn;
}

// One question at a time: requests refused together all wait for the same answer.
let pendingKey: Promise<string | null> | null = null;
function keyFromUser(reason: string): Promise<string | null> {
  pendingKey ??= askForKey!(reason).finally(() => {
    pendingKey = null;
  });
  return pendingKey;
}

export function authHeaders(): Record<string, string> {
  const key = apiKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

// The error body of every rmm route: {error: {message, type, code, param}}.
export async function errorFrom(res: Response): Promise<ApiError> {
  let message = `${res.status} ${res.statusText}`;
  let code: string | undefined;
  let param: string | undefined;
  try {
    const body = await res.json();
    if (body?.error?.message) {
      message = String(body.error.message);
      code = body.error.code ?? body.error.type ?? undefined;
      param = body.error.param ?? undefined;
    }
  } catch {
    /* not JSON: the status line says it */
  }
  return new ApiError(res.status, message, code, param);
}

export async function request(path: string, init: RequestInit = {}, retried = false): Promise<Response> {
  const headers = new Headers(init.headers);
  for (const [k, v] of Object.entries(authHeaders())) headers.set(k, v);
  if (init.body && typeof init.body === "string" && !headers.has("Content-Type"))
    headers.set("Content-Type", "application/json");
  let res: Response;
  try {
    res = await fetch(path, { ...init, headers });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new ApiError(0, "the server does not answer (is rmm serve running?)", "offline");
  }
  if (res.status === 401 && !retried && askForKey) {
    const err = await errorFrom(res);
    const key = await keyFromUser(err.message);
    if (key !== null) {
      setApiKey(key);
      return request(path, init, true);
    }
    throw err;
  }
  if (!res.ok) throw await errorFrom(res);
  return res;
}

export async function getJson<T>(path: string, init: RequestInit = {}): Promise<T> {
  return (await request(path, init)).json() as Promise<T>;
}

export async function sendJson<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await request(path, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return (text ? JSON.parse(text) : {}) as T;
}
