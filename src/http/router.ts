/**
 * A small router over node:http: exact segments and `:name` parameters, GET (and HEAD, which
 * node answers without a body) only. A path that matches no route is a 404; a path that matches
 * a route under another method is a 405 with an `Allow` header.
 */
import type { Store } from '../db/open.js';
import type { Logger } from '../log.js';
import { HttpError } from './errors.js';

export interface RouteContext {
  store: Store;
  logger: Logger;
  /** Epoch ms; tests pass a fake clock. */
  clock: () => number;
  url: URL;
  params: Record<string, string>;
}

export type RouteResult =
  | { status: number; json: unknown; headers?: Record<string, string> }
  | { status: number; text: string; contentType: string; headers?: Record<string, string> };

export interface Route {
  method: 'GET';
  /** `/api/runs/:id` */
  path: string;
  handler: (ctx: RouteContext) => Promise<RouteResult>;
}

interface CompiledRoute extends Route {
  segments: string[];
}

export type Match =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  | { kind: 'method_not_allowed'; allow: string[] }
  | { kind: 'not_found' };

export class Router {
  readonly #routes: CompiledRoute[];

  constructor(routes: readonly Route[]) {
    this.#routes = routes.map((r) => ({ ...r, segments: split(r.path) }));
  }

  get paths(): string[] {
    return this.#routes.map((r) => `${r.method} ${r.path}`);
  }

  match(method: string, pathname: string): Match {
    const segments = split(pathname);
    const allow = new Set<string>();
    for (const route of this.#routes) {
      const params = matchSegments(route.segments, segments);
      if (!params) continue;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return { kind: 'found', route, params };
      allow.add(route.method);
      if (route.method === 'GET') allow.add('HEAD');
    }
    return allow.size > 0 ? { kind: 'method_not_allowed', allow: [...allow] } : { kind: 'not_found' };
  }
}

function split(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

function matchSegments(pattern: string[], actual: string[]): Record<string, string> | undefined {
  if (pattern.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    let a: string;
    try {
      a = decodeURIComponent(actual[i]!);
    } catch {
      throw new HttpError(400, `path segment "${actual[i]}" is not valid percent-encoding`);
    }
    if (p.startsWith(':')) params[p.slice(1)] = a;
    else if (p !== a) return undefined;
  }
  return params;
}
