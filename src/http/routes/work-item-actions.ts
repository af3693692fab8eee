import type { ApiApp } from '../context.js';

export function registerWorkItemActionRoutes(_app: ApiApp): void {}
