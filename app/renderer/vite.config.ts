// Builds the Svelte renderer into app/renderer/dist: loaded from the app:// protocol in Electron and served by
// `node --ui`. Relative asset paths work for both.
import { svelte } from '@sveltejs/vite-plugin-svelte'
import { defineConfig } from 'vite'

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [svelte()],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 1024 },
})
