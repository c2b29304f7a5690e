// State the screens share: the token socket, the list of conversations (its
// version bumps when one is added, renamed or deleted) and notices.
import { TokenSocket } from "./socket.svelte";

export const app = $state({
  historyVersion: 0,
  notice: "" as string,
});

let socket: TokenSocket | null = null;
export function tokenSocket(): TokenSocket {
  socket ??= new TokenSocket();
  return socket;
}

export function historyChanged(): void {
  app.historyVersion++;
}

let noticeTimer: ReturnType<typeof setTimeout> | undefined;
export function notify(text: string, ms = 4000): void {
  app.notice = text;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => (app.notice = ""), ms);
}
