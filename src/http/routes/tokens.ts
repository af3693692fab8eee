import type { ApiApp } from '../context.js';

export function registerTokenRoutes(_app: ApiApp): void {}
