/**
 * Compose service names and the service-action vocabulary, shared by the allow-list, the enqueue
 * function, the CLI and the consumer. Pure: no engine, no database.
 *
 * A service is named `<project>/<service>`: the values of the container labels
 * `com.docker.compose.project` and `com.docker.compose.service`.
 */

/** The work kind of service actions (priority 100, see src/queue/kinds.ts). */
export const SERVICE_ACTION_KIND = 'service_action';

export const SERVICE_ACTIONS = ['restart', 'stop', 'start'] as const;
export type ServiceAction = (typeof SERVICE_ACTIONS)[number];

/** Compose project names: lowercase letters, digits, dashes and underscores, starting with a letter or digit. */
const PROJECT_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;
/** Compose service names: letters, digits, dots, dashes and underscores, starting with a letter or digit. */
const SERVICE_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export interface ServiceKey {
  /** `<project>/<service>`. */
  key: string;
  project: string;
  service: string;
}

/** `myproj/api` → { project: 'myproj', service: 'api' }; undefined when it is not that shape. */
export function parseServiceKey(text: string): ServiceKey | undefined {
  const parts = text.split('/');
  if (parts.length !== 2) return undefined;
  const [project, service] = parts as [string, string];
  if (!PROJECT_PATTERN.test(project) || !SERVICE_PATTERN.test(service)) return undefined;
  return { key: `${project}/${service}`, project, service };
}

export function isServiceAction(value: unknown): value is ServiceAction {
  return typeof value === 'string' && (SERVICE_ACTIONS as readonly string[]).includes(value);
}

/** What one `service_action` work item asks for. */
export interface ServiceActionRequest {
  action: ServiceAction;
  /** `<project>/<service>`. */
  service: string;
  project: string;
  serviceName: string;
}

export type ServiceActionCheck = { ok: true; request: ServiceActionRequest } | { ok: false; error: string };

const FORMAT_HINT = 'expected <project>/<service> as in the compose labels, e.g. myproj/api';

/**
 * Checks a service-action request (a work item's payload, or the CLI's arguments). The error
 * names the field and what it accepts. Extra keys are ignored.
 */
export function checkServiceActionRequest(value: unknown): ServiceActionCheck {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, error: `service action: expected an object { action, service }, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}` };
  }
  const { action, service } = value as { action?: unknown; service?: unknown };
  if (!isServiceAction(action)) {
    const got = action === undefined ? 'nothing' : JSON.stringify(action);
    return { ok: false, error: `action: ${got} is not a service action; expected one of ${SERVICE_ACTIONS.join(', ')}` };
  }
  if (typeof service !== 'string') {
    const got = service === undefined ? 'nothing' : JSON.stringify(service);
    return { ok: false, error: `service: got ${got}; ${FORMAT_HINT}` };
  }
  const parsed = parseServiceKey(service);
  if (!parsed) return { ok: false, error: `service: ${JSON.stringify(service.slice(0, 200))} is not a compose service; ${FORMAT_HINT}` };
  return { ok: true, request: { action, service: parsed.key, project: parsed.project, serviceName: parsed.service } };
}
