/**
 * How executors use a credential: its variables for a component's environment and the values
 * every stored output masks. Fetching and decrypting live in src/credentials (the provider).
 */
import type { Credential } from './types.js';

export { createDatabaseCredentialProvider, CredentialsLockedError } from '../credentials/provider.js';

/** `JOBYARD_CREDENTIAL_<NAME>` variables for a credential: its secrets and, when set, its username. */
export function credentialEnvironment(credential: Credential | undefined): Record<string, string> {
  if (!credential) return {};
  const env: Record<string, string> = {};
  if (credential.username) env.JOBYARD_CREDENTIAL_USERNAME = credential.username;
  for (const [name, value] of Object.entries(credential.secrets)) {
    env[`JOBYARD_CREDENTIAL_${name.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`] = value;
  }
  return env;
}

/** The values to mask in every stored output. */
export function secretValues(credential: Credential | undefined): string[] {
  return credential ? Object.values(credential.secrets).filter((v) => v.length > 0) : [];
}
