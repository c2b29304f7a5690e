// Hash routes (#/chat/ID, #/models, #/dashboard, #/prompts/ID), so that the server serves
// one page for every screen and a reload keeps the place.
export type Route =
  | { screen: "chat"; conversation: string | null }
  | { screen: "models" }
  | { screen: "dashboard" }
  | { screen: "prompts"; template: string | null };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "models") return { screen: "models" };
  if (parts[0] === "dashboard") return { screen: "dashboard" };
  if (parts[0] === "prompts") return { screen: "prompts", template: parts[1] ?? null };
  if (parts[0] === "chat" && parts[1]) return { screen: "chat", conversation: parts[1] };
  return { screen: "chat", conversation: null };
}

export function href(route: Route): string {
  if (route.screen === "chat") return route.conversation ? `#/chat/${encodeURIComponent(route.conversation)}` : "#/";
  if (route.screen === "prompts")
    return route.template ? `#/prompts/${encodeURIComponent(route.template)}` : "#/prompts";
  return `#/${route.screen}`;
}

export const router = $state({ route: parseRoute(typeof location === "undefined" ? "" : location.hash) });

if (typeof window !== "undefined") {
  window.addEventListener("hashchange", () => {
    router.route = parseRoute(location.hash);
  });
}

export function go(route: Route): void {
  const target = href(route);
  if (location.hash !== target) location.hash = target;
  router.route = route;
}
