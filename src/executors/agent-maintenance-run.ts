/**
 * `agent_maintenance_run`: agent update and branch/channel switch requests. Same execution as a
 * scheduled run (components per frozen target, activity rows, per-target status; see
 * scheduled-run.ts); its own kind so logs and results say which it was.
 */
import { createScheduledRunExecutor } from './scheduled-run.js';
import type { Executor } from './types.js';

export const executeAgentMaintenanceRun: Executor = createScheduledRunExecutor('agent_maintenance_run');
