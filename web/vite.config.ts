/**
 * Builds the UI into web/dist (served by the gateway from WEB_DIST_DIR). `npm run dev -w @crm/web`
 * serves it with hot reload and proxies the API to a running gateway (CRM_GATEWAY_URL, default
 * http://127.0.0.1:8080), so the session cookie and the live stream work as in production.
 */
import react from '@vitejs/plugin-react';
import { defineConfig, loadEnv } from 'vite';

const here = decodeURIComponent(new URL('.', import.meta.url).pathname);

export default defineConfig(({ mode }) => {
  const env = loadEnv(mode, here, 'CRM_');
  const gateway = env.CRM_GATEWAY_URL || 'http://127.0.0.1:8080';
  return {
    root: here,
    plugins: [react()],
    build: {
      outDir: 'dist',
      emptyOutDir: true,
      target: 'es2022',
      sourcemap: false,
      reportCompressedSize: false,
    },
    server: {
      host: '127.0.0.1',
      port: 5173,
      proxy: { '/v1': { target: gateway, changeOrigin: false } },
    },
  };
});
