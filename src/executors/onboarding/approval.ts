/**
 * Waiting for an onboarded device's approval: polls `device_approvals` for the row with the
 * target's approval_reference (or, failing that, one naming this run and address) until it is
 * decided, the timeout passes, or the signal aborts.
 */
import { sleep } from '../../sleep.js';
import { APPROVAL_POLL_MS, type Env } from './settings.js';

export type ApprovalKind = 'approved' | 'denied' | 'expired' | 'timeout';

/** The row status each decision leads to. */
export const APPROVAL_OUTCOMES: Record<ApprovalKind, string> = {
  approved: 'enrolled',
  denied: 'denied',
  expired: 'approval_expired',
  timeout: 'approval_timeout',
};

const APPROVAL_STATUS: Record<string, ApprovalKind> = {
  approved: 'approved',
  completed: 'approved',
  denied: 'denied',
  expired: 'expired',
};

export async function awaitApproval(
  env: Env,
  reference: string,
  address: string,
  targetInput: string | null,
): Promise<{ kind: ApprovalKind; detail: string; hostname: string | null } | 'aborted'> {
  const { ctx, refs, settings } = env;
  const deadline = performance.now() + settings.approvalTimeoutMs;
  for (;;) {
    if (ctx.signal.aborted) return 'aborted';
    const approval = await ctx.store.db
      .selectFrom('device_approvals')
      .select(['id', 'status', 'hostname_claimed'])
      .where((eb) =>
        eb.or([
          eb('approval_reference', '=', reference),
          eb.and([
            eb('onboarding_run_id', '=', refs.runId),
            eb('onboarding_target', 'in', targetInput ? [address, targetInput] : [address]),
          ]),
        ]),
      )
      // The reference match first, then the newest.
      .orderBy((eb) => eb.case().when('approval_reference', '=', reference).then(0).else(1).end())
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    const kind = approval ? APPROVAL_STATUS[approval.status.toLowerCase()] : undefined;
    if (approval && kind) {
      return { kind, detail: `approval ${approval.id} ${approval.status.toLowerCase()}`, hostname: approval.hostname_claimed };
    }
    const left = deadline - performance.now();
    if (left <= 0) {
      const seen = approval ? `approval ${approval.id} still ${approval.status.toLowerCase()}` : 'no approval request seen';
      return { kind: 'timeout', detail: `no decision within ${settings.approvalTimeoutMs / 1000} s (${seen})`, hostname: null };
    }
    await sleep(Math.min(APPROVAL_POLL_MS, left), ctx.signal);
  }
}
