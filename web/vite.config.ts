/**
 * The console's build (`npm run build:web` → web/dist, served by `ncr serve` at /) and dev server (`npm run dev`:
 * hot reload, with /api, /v2 and /service proxied to a running ncr, http://127.0.0.1:5000 unless NCR_DEV_API says;
 * the Host header is rewritten to the server's, so the addresses the console shows are the server's).
 */
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const target = process.env.NCR_DEV_API ?? 'http://127.0.0.1:5000';
const proxy = Object.fromEntries(['/api', '/v2', '/service'].map((p) => [p, { target, changeOrigin: true }]));

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
  server: { host: '127.0.0.1', port: 5173, strictPort: false, proxy },
  preview: { proxy },
});
