/**
 * Reading ansible-playbook's default (text) output: the PLAY RECAP lines per host and the reason
 * of a host's `fatal:` line. Pure.
 *
 *   PLAY RECAP *********************************************************************
 *   web-1   : ok=2    changed=1    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0
 */

export const RECAP_FIELDS = ['ok', 'changed', 'unreachable', 'failed', 'skipped', 'rescued', 'ignored'] as const;
export type RecapCounts = Record<(typeof RECAP_FIELDS)[number], number>;

const RECAP_LINE = /^(\S+)\s+:\s+((?:[a-z]+=\d+\s*)+)$/;

/** host → counts from the last PLAY RECAP block of `output`. */
export function parseRecap(output: string): Map<string, RecapCounts> {
  const recaps = new Map<string, RecapCounts>();
  const at = output.lastIndexOf('PLAY RECAP');
  if (at < 0) return recaps;
  for (const raw of output.slice(at).split('\n').slice(1)) {
    const m = RECAP_LINE.exec(raw.trim());
    if (!m) continue;
    const counts: RecapCounts = { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 };
    for (const pair of m[2]!.trim().split(/\s+/)) {
      const [key, value] = pair.split('=');
      if ((RECAP_FIELDS as readonly string[]).includes(key!)) counts[key as keyof RecapCounts] = Number(value);
    }
    recaps.set(m[1]!, counts);
  }
  return recaps;
}

/** The `msg` of each host's last `fatal: [host]: UNREACHABLE! => {…}` or `FAILED!` line. */
export function fatalReasons(output: string): Map<string, string> {
  const reasons = new Map<string, string>();
  for (const m of output.matchAll(/^fatal: \[([^\]]+)\]: (UNREACHABLE|FAILED)! => (.*)$/gm)) {
    let msg = m[3]!;
    try {
      const parsed = JSON.parse(m[3]!) as { msg?: unknown };
      if (typeof parsed.msg === 'string') msg = parsed.msg;
    } catch {
      // not one line of JSON: keep the text
    }
    reasons.set(m[1]!, `${m[2]!.toLowerCase()}: ${msg.replace(/\s+/g, ' ').trim().slice(0, 300)}`);
  }
  return reasons;
}

export type HostOutcome = { status: 'Success' } | { status: 'Failed'; detail: string };

/** A target's outcome from its recap line (missing line: failed). Pure. */
export function hostOutcome(counts: RecapCounts | undefined, reason: string | undefined): HostOutcome {
  if (!counts) return { status: 'Failed', detail: reason ?? 'no PLAY RECAP line for this host (the playbook did not run on it)' };
  if (counts.unreachable > 0) return { status: 'Failed', detail: hostKeyHint(reason ?? 'unreachable') };
  if (counts.failed > 0) return { status: 'Failed', detail: reason ?? `${counts.failed} task(s) failed` };
  return { status: 'Success' };
}

/** OpenSSH's refusal of a key that is not the pinned one, said plainly. */
function hostKeyHint(reason: string): string {
  return /host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/i.test(reason)
    ? `host key changed: the host presented a key other than the pinned one (${reason})`
    : reason;
}

/** Success when every host succeeded, Failed when none did, else Partial. Pure. */
export function componentStatus(outcomes: readonly HostOutcome[]): 'Success' | 'Partial' | 'Failed' {
  const ok = outcomes.filter((o) => o.status === 'Success').length;
  if (ok === outcomes.length && ok > 0) return 'Success';
  return ok === 0 ? 'Failed' : 'Partial';
}
