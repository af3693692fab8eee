/**
 * The dashboard's static files, built once at start: a content hash in each name (so they can be
 * cached forever: `immutable`), and a gzip copy made once rather than per request.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { UI_CSS } from './assets/ui-css.js';
import { UI_JS } from './assets/ui-js.js';

export interface Asset {
  name: string;
  type: string;
  body: Buffer;
  gzip: Buffer;
}

function asset(base: string, ext: string, type: string, text: string): Asset {
  const body = Buffer.from(text.trim() + '\n', 'utf8');
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { name: `${base}.${hash}.${ext}`, type, body, gzip: gzipSync(body, { level: 9 }) };
}

export interface AssetSet {
  css: Asset;
  js: Asset;
  byName: Map<string, Asset>;
}

export function buildAssets(): AssetSet {
  const css = asset('ui', 'css', 'text/css; charset=utf-8', UI_CSS);
  const js = asset('ui', 'js', 'text/javascript; charset=utf-8', UI_JS);
  return { css, js, byName: new Map([css, js].map((a) => [a.name, a])) };
}

export const IMMUTABLE = 'public, max-age=31536000, immutable';
