// Secrets in the OS keychain through keytar (libsecret on Linux, Keychain on macOS, Credential Vault on Windows).
// One keychain service per app; entry names are ours (see accounts.ts).
import { VaultError } from './errors.js'
import type { SecretStore } from './secret-store.js'
import { errorMessage } from '../util/error-message.js'

type Keytar = typeof import('keytar')

/** keytar's own failures, as our codes; its messages name the service at most, never a secret. */
function keychainError(err: unknown): VaultError {
  const message = errorMessage(err)
  if (/locked|prompt|dismissed|user canceled|interaction/i.test(message)) {
    return new VaultError('KEYCHAIN_LOCKED', `The OS keychain is locked: unlock it and try again (${message}).`)
  }
  return new VaultError(
    'KEYCHAIN_UNAVAILABLE',
    `The OS keychain cannot be reached (${message}). Start the keychain service, or use a passphrase-protected vault file.`,
  )
}

export class KeytarStore implements SecretStore {
  readonly kind = 'keychain'

  private constructor(
    private readonly keytar: Keytar,
    private readonly service: string,
  ) {}

  /** Loads keytar and checks the keychain answers; a VaultError saying why not otherwise. */
  static async open(service: string): Promise<KeytarStore> {
    let keytar: Keytar
    try {
      keytar = ((await import('keytar')) as { default: Keytar }).default
    } catch (err) {
      throw keychainError(err)
    }
    const store = new KeytarStore(keytar, service)
    await store.names()
    return store
  }

  async get(name: string): Promise<string | undefined> {
    try {
      return (await this.keytar.getPassword(this.service, name)) ?? undefined
    } catch (err) {
      throw keychainError(err)
    }
  }

  async add(name: string, secret: string): Promise<void> {
    if ((await this.get(name)) !== undefined) throw new VaultError('ACCOUNT_EXISTS', `${name} is already in the keychain.`)
    try {
      await this.keytar.setPassword(this.service, name, secret)
    } catch (err) {
      throw keychainError(err)
    }
  }

  async delete(name: string): Promise<boolean> {
    try {
      return await this.keytar.deletePassword(this.service, name)
    } catch (err) {
      throw keychainError(err)
    }
  }

  async names(): Promise<string[]> {
    try {
      return (await this.keytar.findCredentials(this.service)).map((c) => c.account)
    } catch (err) {
      throw keychainError(err)
    }
  }
}
