/**
 * SERVICE_ACTION_ALLOW: the compose services service actions may touch, as
 * `project/service` entries separated by commas (or whitespace), e.g. `myproj/api,myproj/web`.
 * Unset or empty allows nothing. Pure, so src/config.ts can validate it with the rest.
 */
import { UserError } from '../errors.js';
import { parseServiceKey } from './service-key.js';

export const ALLOW_ENV = 'SERVICE_ACTION_ALLOW';

/**
 * Parses the allow-list; throws a UserError naming SERVICE_ACTION_ALLOW and every bad entry.
 * The result is deduplicated and sorted.
 */
export function parseServiceAllowList(text: string | undefined): ReadonlySet<string> {
  const entries = (text ?? '').split(/[\s,]+/).filter((e) => e !== '');
  const bad = entries.filter((e) => !parseServiceKey(e));
  if (bad.length > 0) {
    throw new UserError(
      `${ALLOW_ENV}: ${bad.map((b) => JSON.stringify(b)).join(', ')} ${bad.length === 1 ? 'is' : 'are'} not <project>/<service>; ` +
        'expected a comma-separated list such as myproj/api,myproj/web',
    );
  }
  return new Set(entries.sort());
}

/** Why a service may not be acted on, or undefined when it may. */
export function refusalReason(allow: ReadonlySet<string>, service: string): string | undefined {
  if (allow.has(service)) return undefined;
  if (allow.size === 0) return `service ${service} is not on the allow-list: ${ALLOW_ENV} is empty, so no service may be acted on`;
  return `service ${service} is not on the allow-list (${ALLOW_ENV}: ${[...allow].join(', ')})`;
}
