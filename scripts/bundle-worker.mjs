// The site worker's entry as one file: dist/worker/jobyard-worker.mjs (run by `npm run build`
// after tsc, from tsc's output). A worker's boot is on the path from a work item becoming
// claimable to its start, and most of that boot was Node resolving, opening and compiling a few
// hundred module files; one ES module file costs a fraction (docs/benchmarks.md, "Round two:
// worker start"). bin/jobyard.js runs it for `jobyard worker …`.
//
// Kept out (loaded from node_modules at run time, as before): native addons and their optional
// companions, and what the worker loads only when a job needs it (ssh2, pino-pretty).
// jobyard loads kysely and pg with createRequire(import.meta.url)(…) (src/db), which a bundler
// does not follow; here those calls become plain require(…) so both are bundled (still
// evaluated only on first use, as esbuild wraps CommonJS modules in lazy initialisers).
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLED_REQUIRES = ['kysely', 'pg'];
const EXTERNAL = ['better-sqlite3', 'pg-native', 'cpu-features', 'ssh2', 'pino-pretty'];

const seen = new Set();
/** createRequire(import.meta.url)('kysely') → require('kysely'), for the packages to bundle. */
const bundleCreateRequire = {
  name: 'bundle-create-require',
  setup(b) {
    b.onLoad({ filter: /[\\/]dist[\\/]src[\\/]db[\\/][^\\/]+\.js$/ }, async (args) => {
      let text = await readFile(args.path, 'utf8');
      text = text.replace(/createRequire\(import\.meta\.url\)\('([^']+)'\)/g, (call, name) => {
        if (!BUNDLED_REQUIRES.includes(name)) return call;
        seen.add(name);
        return `require('${name}')`;
      });
      return { contents: text, loader: 'js' };
    });
  },
};

await build({
  entryPoints: [join(root, 'dist/src/cli/worker-main.js')],
  outfile: join(root, 'dist/worker/jobyard-worker.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: EXTERNAL,
  // External require(…) calls (pg's optional pg-native, …) need a real require in an ES module.
  banner: { js: "import { createRequire as __jyCreateRequire } from 'node:module'; const require = __jyCreateRequire(import.meta.url);" },
  plugins: [bundleCreateRequire],
  logLevel: 'warning',
  legalComments: 'none',
});

// The rewrite depends on src/db's spelling: fail the build rather than ship an unbundled worker.
const missing = BUNDLED_REQUIRES.filter((name) => !seen.has(name));
if (missing.length > 0) throw new Error(`bundle-worker: no createRequire(import.meta.url)('${missing.join("'|'")}') found in dist/src/db`);
