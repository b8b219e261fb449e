// Bundles the CLI into one CommonJS file so start-up compiles one script, which V8 can then cache.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

/** zod's namespace re-exports every locale (1.6 MB); we use English only, so give it just that. */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      args.importer.includes('/zod/') ? { path: 'zod-locales', namespace: 'zod-locales', pluginData: args.resolveDir } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: 'export { default as en } from "../locales/en.js";',
      resolveDir: args.pluginData,
    }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  minify: true,
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [zodEnglishOnly],
  alias: { 'string-width': './src/support/text-width.ts' },
};

rmSync('dist', { recursive: true, force: true });
await Promise.all([
  build({
    ...common,
    entryPoints: ['src/entry.ts'],
    outfile: 'dist/cli.cjs',
    format: 'cjs',
    // ESM dependencies ask import.meta.url for their own location.
    define: { __VERSION__: JSON.stringify(pkg.version), 'import.meta.url': '__importMetaUrl' },
    banner: { js: "var __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  }),
  build({ ...common, entryPoints: ['src/config/json-schema.ts'], outfile: 'dist/json-schema.js', format: 'esm' }),
]);
