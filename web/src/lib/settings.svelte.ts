// What the user chose, kept in this browser (localStorage): theme, the
// generation parameters and the system prompt. Parameters left unset take
// the server's defaults.
export type Theme = "system" | "light" | "dark";

export interface GenerationSettings {
  temperature?: number;
  max_tokens?: number;
  top_p?: number;
  top_k?: number;
  min_p?: number;
  seed?: number;
  repeat_penalty?: number;
  stop?: string[];
}

interface Stored {
  theme: Theme;
  model: string;
  system: string;
  params: GenerationSettings;
  sidebar: boolean;
}

const STORAGE = "rmm.settings";
const defaults: Stored = { theme: "system", model: "", system: "", params: {}, sidebar: true };

function load(): Stored {
  try {
    const raw = localStorage.getItem(STORAGE);
    if (raw) return { ...defaults, ...JSON.parse(raw) };
  } catch {
    /* unreadable: defaults */
  }
  return { ...defaults };
}

export const settings: Stored = $state(load());

export function saveSettings(): void {
  try {
    localStorage.setItem(STORAGE, JSON.stringify(settings));
  } catch {
    /* private mode */
  }
}

export function applyTheme(theme: Theme): void {
  const dark =
    theme === "dark" || (theme === "system" && window.matchMedia?.("(prefers-color-scheme: dark)").matches);
  document.documentElement.dataset.theme = dark ? "dark" : "light";
}
