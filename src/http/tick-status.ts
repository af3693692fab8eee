/** What the HTTP server knows about the scheduler's tick loop (SchedulerService provides it). */
export interface TickStatus {
  /** Epoch ms of the last completed tick, null before the first. */
  lastTickAt: number | null;
  tickIntervalMs: number;
  /** The scheduler's credentials lock (shown by /healthz and metrics; not a health failure). */
  credentials?: 'locked' | 'unlocked';
}

/** A fixed object (tests) or a callback read on every request (the running scheduler). */
export type TickStatusSource = TickStatus | (() => TickStatus);

export function readTickStatus(source: TickStatusSource): TickStatus {
  return typeof source === 'function' ? source() : source;
}
