import { resolve } from 'node:path';
import { defineConfig } from 'vite';

/**
 * The SMART app: two pages (launch.html starts the OAuth flow, index.html is the app), built into
 * dist/smart-app/ and served by the service under /smart-app/. Relative asset URLs (base './'), so the
 * service may be mounted under any path.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: './',
  publicDir: false,
  build: {
    outDir: resolve(import.meta.dirname, '..', 'dist', 'smart-app'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 3000,
    rolldownOptions: {
      // isomorphic-webcrypto (a fhirclient dependency) probes for CommonJS `module` in an ES module;
      // in the browser it takes the WebCrypto branch. The warning is about that probe only.
      checks: { commonJsVariableInEsm: false },
      input: {
        index: resolve(import.meta.dirname, 'index.html'),
        launch: resolve(import.meta.dirname, 'launch.html'),
      },
    },
  },
});
