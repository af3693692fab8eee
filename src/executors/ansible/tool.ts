/** Whether ansible-playbook is installed: the `command -v` lookup, in node (no shell). */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const NOT_INSTALLED = 'ansible-playbook not installed';

/** The absolute path of ansible-playbook on `path`, or null. */
export function findAnsiblePlaybook(path: string = process.env.PATH ?? ''): string | null {
  return findExecutable('ansible-playbook', path);
}

/** util-linux's setpriv (Debian: always installed), which makes ansible-playbook die with its worker; or null. */
export function findSetpriv(path: string = process.env.PATH ?? ''): string | null {
  return findExecutable('setpriv', path);
}

function findExecutable(name: string, path: string): string | null {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}
