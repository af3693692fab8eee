import type { ApiApp } from '../context.js';

export function registerServiceRoutes(_app: ApiApp): void {}
