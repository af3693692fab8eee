/** Pure formatting for the dashboard: capped counts, ages, times and schedules in words. */
import { COUNT_CAP } from '../../db/capped-count.js';

/** The count cap every page uses: counting stops here, so a count costs at most this many index entries. */
export { COUNT_CAP };

/** "1,234", or "10,000+" when the count reached the cap. */
export function cappedCount(n: number, cap: number = COUNT_CAP): string {
  return n > cap ? `${cap.toLocaleString('en-US')}+` : n.toLocaleString('en-US');
}

/** A duration in the largest unit that keeps it readable: "850 ms", "42 s", "7 min", "3 h 5 min", "2 d 4 h". */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const a = Math.abs(ms);
  const sign = ms < 0 ? '−' : '';
  if (a < 1000) return `${sign}${Math.round(a)} ms`;
  const s = Math.floor(a / 1000);
  if (s < 60) return `${sign}${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${sign}${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${sign}${h} h${m % 60 ? ` ${m % 60} min` : ''}`;
  const d = Math.floor(h / 24);
  return `${sign}${d} d${h % 24 ? ` ${h % 24} h` : ''}`;
}

/** Epoch ms as "2026-12-02 06:51:04Z" (UTC, so two operators in different zones read the same text). */
export function timestamp(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

/** "3 min ago" / "in 5 min" relative to now. */
export function relative(ms: number | null | undefined, now: number): string {
  if (ms === null || ms === undefined) return '—';
  const d = now - ms;
  return d >= 0 ? `${duration(d)} ago` : `in ${duration(-d)}`;
}

const WORDS: Record<string, string> = {
  immediately: 'once, as soon as it is created',
  once: 'once, at its start time',
  every_5_minutes: 'every 5 minutes',
  every_10_minutes: 'every 10 minutes',
  every_15_minutes: 'every 15 minutes',
  every_30_minutes: 'every 30 minutes',
  every_hour: 'every hour',
  daily: 'every day at its start time',
  weekly: 'every week on its start day and time',
  monthly: 'every month on its start day and time',
  yearly: 'every year on its start date and time',
};

const DOW = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** A job's schedule in plain words; cron expressions of the common shapes are spelt out. */
export function scheduleInWords(job: { schedule_type: string; cron_expression: string | null; time_zone: string }): string {
  if (job.schedule_type !== 'cron') return WORDS[job.schedule_type] ?? job.schedule_type.replaceAll('_', ' ');
  const expr = (job.cron_expression ?? '').trim();
  return `${cronInWords(expr)} (${job.time_zone})`;
}

/** The common five-field shapes in words; anything else is shown as "cron <expr>". */
export function cronInWords(expr: string): string {
  const f = expr.split(/\s+/);
  if (f.length !== 5) return `cron ${expr}`;
  const [min, hour, dom, mon, dow] = f as [string, string, string, string, string];
  const num = (x: string) => /^\d+$/.test(x);
  const at = () => `${hour.padStart(2, '0')}:${min.padStart(2, '0')}`;
  const step = /^\*\/(\d+)$/.exec(min);
  if (step && hour === '*' && dom === '*' && mon === '*' && dow === '*') return `every ${step[1]} minutes`;
  if (min === '*' && hour === '*' && dom === '*' && mon === '*' && dow === '*') return 'every minute';
  if (num(min) && hour === '*' && dom === '*' && mon === '*' && dow === '*') return `every hour at minute ${min}`;
  if (num(min) && num(hour) && dom === '*' && mon === '*') {
    if (dow === '*') return `every day at ${at()}`;
    if (dow === '1-5') return `every weekday at ${at()}`;
    if (num(dow) && Number(dow) <= 7) return `every ${DOW[Number(dow) % 7]} at ${at()}`;
  }
  if (num(min) && num(hour) && num(dom) && mon === '*' && dow === '*') return `on day ${dom} of every month at ${at()}`;
  return `cron ${expr}`;
}

/** Why a run ended Skipped or Expired, in words an operator can act on. */
export function explainRunStatus(run: { status: string; skip_reason: string | null; error: string | null }): string | null {
  if (run.status === 'Skipped') {
    return `Skipped: this occurrence was not run${run.skip_reason ? ` (${run.skip_reason})` : ''}. A missed-run policy or an earlier occurrence still running decides this; nothing was sent to any device.`;
  }
  if (run.status === 'Expired') {
    return `Expired: the occurrence reached its expiry before its targets could run${run.error ? ` (${run.error})` : ''}, or every target was offline when it was due.`;
  }
  return null;
}
