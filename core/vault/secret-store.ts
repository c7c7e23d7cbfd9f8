// Where secrets live: the OS keychain (keytar) or an encrypted file. The rest of the product sees only this
// interface, so another store (Electron's safeStorage) can replace keytar without touching it.

export interface SecretStore {
  /** 'keychain' or 'file', for the settings screen. */
  readonly kind: 'keychain' | 'file'
  get(name: string): Promise<string | undefined>
  /** Stores a secret under a name not in use; never replaces one (VaultError ACCOUNT_EXISTS otherwise). */
  add(name: string, secret: string): Promise<void>
  delete(name: string): Promise<boolean>
  names(): Promise<string[]>
}
