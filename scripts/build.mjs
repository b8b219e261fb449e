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

/**
 * Dependencies only some modes use are required at run time, outside the start-up bundle (V8 drops
 * the import() callback of code-cached scripts, so they must be require()d, not imported).
 */
const SIGSTORE = "require('node:path').join(__dirname, 'sigstore.cjs')";
/** Each name's file to require (an expression, so that esbuild leaves it alone) and, for a shared bundle, the export. */
const LAZY = {
  execa: ["require('node:path').join(__dirname, 'execa.cjs')"],
  'azure-devops-node-api': ["'azure-devops-node-api'"],
  // Keyless signing only: sigstore's libraries, bundled apart (dist/sigstore.cjs) so that start-up does not parse them.
  '@sigstore/sign': [SIGSTORE, 'sign'],
  '@sigstore/sign/dist/signer/fulcio/ca.js': [SIGSTORE, 'fulcio'],
  '@sigstore/verify': [SIGSTORE, 'verify'],
  '@sigstore/protobuf-specs': [SIGSTORE, 'specs'],
};
/** The LAZY names as one regular expression of exact names. */
const lazyNames = new RegExp(`^(${Object.keys(LAZY).map((name) => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`);
const lazyDependencies = {
  name: 'lazy-dependencies',
  setup(b) {
    b.onResolve({ filter: lazyNames }, (args) =>
      args.namespace === 'file' && args.importer.includes('/src/') ? { path: args.path, namespace: 'lazy' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, (args) => ({
      contents: `const id = ${LAZY[args.path][0]};\nmodule.exports = require(id)${LAZY[args.path][1] ? `.${LAZY[args.path][1]}` : ''};`,
      loader: 'js',
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
  plugins: [zodEnglishOnly, lazyDependencies],
  alias: { 'string-width': './src/support/text-width.ts', 'source-map': './src/support/no-source-map.ts' },
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
  // The ADO log extraction alone, and the Secrets it masks, for scripts/bench-ado.mjs.
  build({
    ...common,
    stdin: { contents: "export { processLog } from './src/backends/ado/logs.ts';\nexport { Secrets } from './src/support/secrets.ts';", resolveDir: process.cwd(), loader: 'ts' },
    outfile: 'dist/ado-logs.cjs',
    format: 'cjs',
  }),
  build({
    ...common,
    stdin: {
      contents: [
        "export * as sign from '@sigstore/sign';",
        "export * as fulcio from '@sigstore/sign/dist/signer/fulcio/ca.js';",
        "export * as verify from '@sigstore/verify';",
        "export * as specs from '@sigstore/protobuf-specs';",
      ].join('\n'),
      resolveDir: process.cwd(),
      loader: 'js',
    },
    outfile: 'dist/sigstore.cjs',
    format: 'cjs',
  }),
  build({ ...common, entryPoints: ['execa'], outfile: 'dist/execa.cjs', format: 'cjs', define: { 'import.meta.url': '__importMetaUrl' }, banner: { js: "var __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" } }),
]);

// One run of the fast path leaves V8's code cache beside the bundle (bin/run.cjs writes it).
const { spawnSync } = await import('node:child_process');
const { mkdtempSync, writeFileSync } = await import('node:fs');
const { join } = await import('node:path');
const { tmpdir } = await import('node:os');
const warm = mkdtempSync(join(tmpdir(), 'image-builder-build-'));
writeFileSync(join(warm, 'config.yaml'), 'registry: example.com/prod\n');
const r = spawnSync(process.execPath, ['bin/run.cjs', '--parse-tags-only', `--config=${join(warm, 'config.yaml')}`, '--tag', 'latest'], {
  env: { PATH: process.env.PATH, PULL_BASE_SHA: '0000000000000000000000000000000000000000' },
  encoding: 'utf8',
});
rmSync(warm, { recursive: true, force: true });
if (r.status !== 0) throw new Error(`the built CLI does not start: ${r.stderr}`);
