/**
 * The files an ansible_playbook run needs, built from the occurrence's frozen targets. Pure: the
 * caller writes them into a 0700 temp dir (files 0600) and removes it after.
 *
 * - inventory.json (YAML accepts JSON): one alias per target with ansible_host/ansible_port from
 *   the ssh path's endpoint rule (ssh/endpoint.ts).
 * - known_hosts: the pinned key of each target, so OpenSSH checks it with StrictHostKeyChecking=yes.
 * - vars.json: the credential (ansible_user, ansible_password, ansible_become_password,
 *   ansible_ssh_private_key_file), passed as `-e @vars.json`: never on argv or in the environment.
 */

export interface InventoryHost {
  alias: string;
  host: string;
  port: number;
  /** Pinned key (ssh_host_keys.key_type, base64 public_key). */
  keyType: string;
  publicKey: string;
}

/** An inventory alias for a target: its hostname when it is a safe name, else `target-<id>`. */
export function inventoryAlias(hostname: string | null, targetId: number, taken: ReadonlySet<string>): string {
  const name = hostname !== null && /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(hostname) ? hostname : `target-${targetId}`;
  return taken.has(name) ? `${name}-${targetId}` : name;
}

export function inventoryJson(hosts: readonly InventoryHost[]): string {
  const entries = Object.fromEntries(hosts.map((h) => [h.alias, { ansible_host: h.host, ansible_port: h.port }]));
  return `${JSON.stringify({ all: { hosts: entries } }, null, 2)}\n`;
}

/** OpenSSH known_hosts lines (`[host]:port` unless the port is 22). */
export function knownHostsText(hosts: readonly InventoryHost[]): string {
  return hosts.map((h) => `${h.port === 22 ? h.host : `[${h.host}]:${h.port}`} ${h.keyType} ${h.publicKey}\n`).join('');
}

export interface AnsibleLogin {
  username: string;
  password?: string;
  becomePassword?: string;
  privateKeyFile?: string;
}

export function varsJson(login: AnsibleLogin): string {
  return `${JSON.stringify({
    ansible_user: login.username,
    ...(login.password !== undefined ? { ansible_password: login.password } : {}),
    ...(login.becomePassword !== undefined ? { ansible_become_password: login.becomePassword } : {}),
    ...(login.privateKeyFile !== undefined ? { ansible_ssh_private_key_file: login.privateKeyFile } : {}),
  })}\n`;
}

/**
 * The environment of ansible-playbook: PATH and a private HOME/temp under the run's dir, fast
 * settings (no fact gathering, pipelining), strict host-key checking against our known_hosts
 * only, and nothing of the worker's own environment (no secret can leak through it).
 */
export function ansibleEnvironment(dir: string, options: { path: string; forks: number; connectTimeoutSeconds: number }): Record<string, string> {
  const ssh = `-o StrictHostKeyChecking=yes -o UserKnownHostsFile=${dir}/known_hosts -o GlobalKnownHostsFile=/dev/null -o ControlMaster=no -o BatchMode=no -o PreferredAuthentications=publickey,password`;
  return {
    PATH: options.path,
    HOME: dir,
    LANG: 'C.UTF-8',
    ANSIBLE_CONFIG: `${dir}/ansible.cfg`,
    ANSIBLE_HOME: `${dir}/ansible-home`,
    ANSIBLE_LOCAL_TEMP: `${dir}/tmp`,
    ANSIBLE_HOST_KEY_CHECKING: 'True',
    ANSIBLE_SSH_ARGS: ssh,
    ANSIBLE_GATHERING: 'explicit',
    ANSIBLE_PIPELINING: 'True',
    ANSIBLE_FORKS: String(options.forks),
    ANSIBLE_TIMEOUT: String(options.connectTimeoutSeconds),
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_RETRY_FILES_ENABLED: 'False',
    ANSIBLE_STDOUT_CALLBACK: 'default',
    ANSIBLE_LOAD_CALLBACK_PLUGINS: 'False',
    ANSIBLE_DEPRECATION_WARNINGS: 'False',
    ANSIBLE_SYSTEM_WARNINGS: 'False',
    ANSIBLE_PYTHON_INTERPRETER: 'auto_silent',
    ANSIBLE_REMOTE_TMP: '/tmp',
  };
}
