// What can go wrong with keys, as codes the UI can act on and sentences a person can follow. No message ever
// carries a key, a seed or a passphrase.

export type VaultErrorCode =
  | 'KEYCHAIN_UNAVAILABLE'
  | 'KEYCHAIN_LOCKED'
  | 'VAULT_NOT_FOUND'
  | 'VAULT_EXISTS'
  | 'WRONG_PASSPHRASE'
  | 'WEAK_PASSPHRASE'
  | 'CORRUPT_VAULT'
  | 'ACCOUNT_EXISTS'
  | 'ACCOUNT_NOT_FOUND'
  | 'BAD_PRIVATE_KEY'
  | 'BAD_KEYSTORE'
  /** A keystore or vault file asks for more key-derivation work than the app allows (a file can freeze a node so). */
  | 'WORK_FACTOR_TOO_HIGH'

export class VaultError extends Error {
  override readonly name = 'VaultError'
  constructor(
    readonly code: VaultErrorCode,
    message: string,
  ) {
    super(message)
  }
}
