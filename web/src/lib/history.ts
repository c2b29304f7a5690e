// The chat history API (/api/chat/history): conversations whose messages
// form a tree (parent_id) with a current leaf.
import { getJson, request, sendJson } from "./api";
import type { Timings, TokenEvent } from "./socket.svelte";

export interface StoredMessage {
  id: number;
  parent_id: number;
  role: "system" | "user" | "assistant" | "tool";
  content: string;
  model?: string;
  prompt_tokens?: number;
  completion_tokens?: number;
  timings?: Partial<Timings> | null;
  logprobs?: TokenEvent[] | null;
  // An answer forked from another at a token: that answer, and the first token that differs.
  fork?: { of: number; at: number } | null;
  created_at?: number;
}

export interface ConversationSummary {
  id: string;
  title: string;
  model: string;
  created_at: number;
  updated_at: number;
  message_count: number;
}

export interface ConversationDetail extends ConversationSummary {
  current_leaf: number;
  messages: StoredMessage[];
}

export async function listConversations(q = "", limit = 200): Promise<{ items: ConversationSummary[]; total: number }> {
  const params = new URLSearchParams({ limit: String(limit) });
  if (q) params.set("q", q);
  return getJson(`/api/chat/history?${params}`);
}

export async function getConversation(id: string): Promise<ConversationDetail> {
  const c = await getJson<ConversationDetail>(`/api/chat/history/${encodeURIComponent(id)}`);
  for (const m of c.messages) m.parent_id = m.parent_id ?? 0;
  return c;
}

export async function createConversation(body: {
  title?: string;
  model?: string;
  messages?: Omit<StoredMessage, "id" | "parent_id">[];
}): Promise<ConversationDetail> {
  return sendJson("POST", "/api/chat/history", body);
}

// Appends one message under `parent` (null: a new root) and returns it as stored.
export async function appendMessage(
  conversation: string,
  message: Omit<StoredMessage, "id" | "parent_id">,
  parent: number | null,
): Promise<StoredMessage> {
  const res = await sendJson<StoredMessage | { messages: StoredMessage[] }>(
    "POST",
    `/api/chat/history/${encodeURIComponent(conversation)}/messages`,
    { ...message, parent },
  );
  const stored = "messages" in res ? res.messages[res.messages.length - 1] : res;
  return { ...message, ...stored, parent_id: stored.parent_id ?? parent ?? 0 };
}

export async function setCurrentLeaf(conversation: string, leaf: number): Promise<void> {
  await sendJson("PATCH", `/api/chat/history/${encodeURIComponent(conversation)}`, { current_leaf: leaf });
}

export async function renameConversation(id: string, title: string): Promise<void> {
  await sendJson("PATCH", `/api/chat/history/${encodeURIComponent(id)}`, { title });
}

export async function deleteConversation(id: string): Promise<void> {
  await request(`/api/chat/history/${encodeURIComponent(id)}`, { method: "DELETE" });
}

// Downloads the export (the server writes it) as a file.
export async function exportConversation(id: string, format: "json" | "markdown", title: string): Promise<void> {
  const res = await request(`/api/chat/history/${encodeURIComponent(id)}/export?format=${format}`);
  const blob = await res.blob();
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  const safe = (title || "conversation").replace(/[^\w.-]+/g, "_").slice(0, 60);
  a.download = `${safe}.${format === "json" ? "json" : "md"}`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}
