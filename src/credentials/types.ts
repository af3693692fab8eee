/** What executors see of a credential (src/executors re-exports these). */

/** Fetches credential material by id while executing; nothing it returns is stored or logged. */
export interface CredentialProvider {
  /**
   * The credential, for an item of `scope.siteId`: a credential that belongs to another site is
   * refused (PermanentError); one without a site is usable everywhere. While locked, a credential
   * with secrets is refused with a retryable CredentialsLockedError.
   */
  get(credentialId: number, scope?: { siteId: number | null }): Promise<Credential | undefined>;
}

export interface Credential {
  id: number;
  name: string;
  username: string | null;
  /** Secret values, already decrypted; never put them in payloads, logs, rows or snippets. */
  secrets: Record<string, string>;
}
