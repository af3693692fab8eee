import { openDatabase } from '/work/wt/h12c/dist/src/db/open.js';
import { sql } from 'kysely';
import os from 'node:os';
const [backend, ...queries] = process.argv.slice(2);
const url = backend === 'sqlite' ? `sqlite:${os.tmpdir()}/jy-bench-ui-1000000-100000.db` : 'postgres://postgres@127.0.0.1:5432/bench_ui_h12c';
const store = openDatabase(url);
for (const q of queries) {
  const prefix = backend === 'sqlite' ? 'explain query plan ' : 'explain (analyze, buffers off, costs off) ';
  const r = await sql.raw(prefix + q).execute(store.db);
  console.log('## ' + q);
  for (const row of r.rows) console.log('   ' + (row.detail ?? row['QUERY PLAN']));
  const t = performance.now(); await sql.raw(q).execute(store.db); console.log('   time', Math.round(performance.now() - t), 'ms');
}
await store.close();
