// A Svelte action: calls `onvisible` once, the first time the element comes
// near the viewport, so that long chats render Markdown only for what is seen.
let observer: IntersectionObserver | null = null;
const callbacks = new WeakMap<Element, () => void>();

export function whenVisible(node: HTMLElement, onvisible: () => void) {
  if (typeof IntersectionObserver === "undefined") {
    onvisible();
    return {};
  }
  observer ??= new IntersectionObserver(
    (entries) => {
      for (const e of entries) {
        if (!e.isIntersecting) continue;
        callbacks.get(e.target)?.();
        callbacks.delete(e.target);
        observer?.unobserve(e.target);
      }
    },
    { rootMargin: "600px 0px" },
  );
  callbacks.set(node, onvisible);
  observer.observe(node);
  return {
    destroy() {
      callbacks.delete(node);
      observer?.unobserve(node);
    },
  };
}
