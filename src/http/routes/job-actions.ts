import type { ApiApp } from '../context.js';

export function registerJobActionRoutes(_app: ApiApp): void {}
