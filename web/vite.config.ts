/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// `npm run dev` proxies the API to a running `rmm serve` (RMM_URL, default
// http://127.0.0.1:5000); the production build is embedded into the binary.
const target = process.env.RMM_URL ?? "http://127.0.0.1:5000";

export default defineConfig({
  plugins: [svelte()],
  base: "/",
  build: {
    outDir: process.env.RMM_WEB_OUT ?? "dist",
    emptyOutDir: true,
    // The server gzips nothing at run time: sizes matter, source maps stay out.
    sourcemap: false,
    target: "es2022",
    assetsInlineLimit: 0, // inline data: URLs would need a looser CSP
    chunkSizeWarningLimit: 400,
  },
  server: {
    proxy: {
      "/api/ws": { target, ws: true },
      "/api": target,
      "/v1": target,
      "/health": target,
    },
  },
  test: {
    environment: "happy-dom",
    include: ["src/**/*.test.ts"],
  },
});
