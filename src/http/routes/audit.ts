import type { ApiApp } from '../context.js';

export function registerAuditRoutes(_app: ApiApp): void {}
