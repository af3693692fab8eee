/**
 * A process's credentials lock: the derived key once unlocked, nothing while locked. The daemon
 * holds one (unlocked at start from CREDENTIALS_KEY_FILE or CREDENTIALS_UNLOCK_COMMAND, or later),
 * a site worker holds one filled from its stdin. `state` is what status, /healthz and metrics show.
 */
import type { CredentialKey } from './envelope.js';

export type LockState = 'locked' | 'unlocked';

/** Where a provider gets the key from at the moment it needs it. */
export interface CredentialKeySource {
  current(): CredentialKey | undefined;
}

export class CredentialLock implements CredentialKeySource {
  #key: CredentialKey | undefined;

  constructor(key?: CredentialKey) {
    this.#key = key;
  }

  current(): CredentialKey | undefined {
    return this.#key;
  }

  unlock(key: CredentialKey): void {
    this.#key = key;
  }

  lock(): void {
    this.#key = undefined;
  }

  get state(): LockState {
    return this.#key ? 'unlocked' : 'locked';
  }
}
