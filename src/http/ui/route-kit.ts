/**
 * What the dashboard's route modules share with app.ts: the request variables set by its
 * middleware, the role check, the safe "back" address of an action, page rendering, and path ids.
 */
import type { Context, Hono } from 'hono';
import type { Store } from '../../db/open.js';
import { UserError, ValidationError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { roleAtLeast, type Role } from './deps.js';
import { page, type Html, type View } from './layout.js';
import type { UiSession } from './sessions.js';

export type Env = { Variables: { base: string; session: UiSession; view: View; form: Record<string, string | string[]> } };
export type UiContext = Context<Env>;

/** A role too low for the action: 403 whatever the page showed. */
export class Forbidden extends UserError {}

export interface RouteKit {
  store: Store;
  clock: () => number;
  logger: Logger;
}

export function need(c: UiContext, role: Role): void {
  if (!roleAtLeast(c.var.session.role, role)) throw new Forbidden(`this needs the ${role} role; you are ${c.var.session.role}`);
}

/** The posted `_back` address when it stays under the dashboard, else the fallback. */
export function back(c: UiContext, fallback: string): string {
  const b = c.var.form._back;
  return typeof b === 'string' && (b === c.var.base || b.startsWith(`${c.var.base}/`) || b.startsWith(`${c.var.base}?`)) && !b.startsWith('//') ? b : fallback;
}

export function render(c: UiContext, title: string, section: string, body: Html, extra: { live?: boolean; refreshSeconds?: number; status?: 200 | 400 } = {}) {
  const { status = 200, ...rest } = extra;
  return c.html(page(c.var.view, { title, section, body, ...rest }), status);
}

export function positiveId(text: string, name: string): number {
  if (!/^\d{1,15}$/.test(text) || Number(text) <= 0) throw new ValidationError([`${name}: "${text}" is not a positive integer`]);
  return Number(text);
}

export type UiHono = Hono<Env>;
