// Secrets in one encrypted file, for machines without a keychain: a key derived from the passphrase with Argon2id
// (libsodium crypto_pwhash) seals each entry with crypto_secretbox. A check value tells a wrong passphrase from a
// damaged file. Every write goes to a temporary file first and is renamed over the old one, so a crash or a
// failed write never leaves a half-written vault, and nothing is written unless the vault opened cleanly.
// New vaults use libsodium's MODERATE cost (256 MiB, 3 passes; about 0.7 s here); a vault keeps the factors it was
// made with, so older INTERACTIVE ones still open. The factors a file names are bounded before any hashing (a file
// could otherwise ask for hours of work), and the hashing runs on libuv's thread pool, off the event loop.
import { existsSync, readFileSync } from 'node:fs'
import sodium from 'sodium-native'
import { writeFileAtomic } from './atomic-file.js'
import { VaultError } from './errors.js'
import type { SecretStore } from './secret-store.js'

const FORMAT = 'offchain-vault'
const VERSION = 1
const CHECK = Buffer.from('offchain-vault-check')
export const MIN_PASSPHRASE = 8

/** libsodium's Argon2id cost presets. */
const PRESETS = {
  interactive: { opslimit: sodium.crypto_pwhash_OPSLIMIT_INTERACTIVE, memlimit: sodium.crypto_pwhash_MEMLIMIT_INTERACTIVE },
  moderate: { opslimit: sodium.crypto_pwhash_OPSLIMIT_MODERATE, memlimit: sodium.crypto_pwhash_MEMLIMIT_MODERATE },
} as const

/** The most a vault file may ask for: libsodium's SENSITIVE preset (4 passes over 1 GiB, about 4 s here). */
export const MAX_KDF = { opslimit: sodium.crypto_pwhash_OPSLIMIT_SENSITIVE, memlimit: sodium.crypto_pwhash_MEMLIMIT_SENSITIVE } as const

export interface FileVaultOptions {
  /** The Argon2id cost of a new vault: MODERATE unless a caller (a test) asks for the cheaper INTERACTIVE. */
  preset?: keyof typeof PRESETS
}

interface Sealed {
  nonce: string
  box: string
}

interface VaultFile {
  format: typeof FORMAT
  version: typeof VERSION
  kdf: { alg: 'argon2id13'; salt: string; opslimit: number; memlimit: number }
  check: Sealed
  entries: Record<string, Sealed>
}

const hex = /^[0-9a-f]*$/

function isSealed(v: unknown): v is Sealed {
  const s = v as Sealed
  return typeof s === 'object' && s !== null && typeof s.nonce === 'string' && typeof s.box === 'string' &&
    hex.test(s.nonce) && hex.test(s.box) && s.nonce.length === 2 * sodium.crypto_secretbox_NONCEBYTES &&
    s.box.length >= 2 * sodium.crypto_secretbox_MACBYTES
}

function parse(path: string): VaultFile {
  let raw: string
  try {
    raw = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new VaultError('VAULT_NOT_FOUND', `No vault file at ${path}.`)
    throw err
  }
  const corrupt = (why: string): VaultError =>
    new VaultError('CORRUPT_VAULT', `The vault file ${path} is damaged (${why}); it was left as it is. Restore it from a backup.`)
  let v: VaultFile
  try {
    v = JSON.parse(raw) as VaultFile
  } catch {
    throw corrupt('not JSON')
  }
  if (typeof v !== 'object' || v === null || v.format !== FORMAT) throw corrupt('not a vault file')
  if (v.version !== VERSION) throw corrupt(`version ${String(v.version)} is not supported`)
  const k = v.kdf
  if (typeof k !== 'object' || k === null || k.alg !== 'argon2id13' || typeof k.salt !== 'string' || !hex.test(k.salt) ||
    k.salt.length !== 2 * sodium.crypto_pwhash_SALTBYTES || !Number.isSafeInteger(k.opslimit) || !Number.isSafeInteger(k.memlimit) ||
    k.opslimit < 1 || k.memlimit < 8192) {
    throw corrupt('bad key derivation parameters')
  }
  if (k.opslimit > MAX_KDF.opslimit || k.memlimit > MAX_KDF.memlimit) {
    throw new VaultError(
      'WORK_FACTOR_TOO_HIGH',
      `The vault file ${path} asks for more key-derivation work (Argon2id, ${k.opslimit} passes over ${Math.round(k.memlimit / 2 ** 20)} MiB) ` +
        `than this app allows (${MAX_KDF.opslimit} passes over ${MAX_KDF.memlimit / 2 ** 20} MiB); it was not opened and was left as it is.`,
    )
  }
  if (!isSealed(v.check)) throw corrupt('no check value')
  if (typeof v.entries !== 'object' || v.entries === null || !Object.values(v.entries).every(isSealed)) throw corrupt('bad entries')
  return v
}

export class FileVault implements SecretStore {
  readonly kind = 'file'

  private constructor(
    private readonly path: string,
    private readonly file: VaultFile,
    private readonly key: Buffer,
  ) {}

  /** Creates a new vault; refuses to replace an existing file. */
  static async create(path: string, passphrase: string, options: FileVaultOptions = {}): Promise<FileVault> {
    if (passphrase.length < MIN_PASSPHRASE) {
      throw new VaultError('WEAK_PASSPHRASE', `Choose a passphrase of at least ${MIN_PASSPHRASE} characters.`)
    }
    if (existsSync(path)) throw new VaultError('VAULT_EXISTS', `A vault already exists at ${path}; open it instead.`)
    const salt = Buffer.alloc(sodium.crypto_pwhash_SALTBYTES)
    sodium.randombytes_buf(salt)
    const kdf = {
      alg: 'argon2id13' as const,
      salt: salt.toString('hex'),
      ...PRESETS[options.preset ?? 'moderate'],
    }
    const key = await derive(passphrase, kdf)
    if (existsSync(path)) throw new VaultError('VAULT_EXISTS', `A vault already exists at ${path}; open it instead.`) // made meanwhile
    const vault = new FileVault(path, { format: FORMAT, version: VERSION, kdf, check: seal(key, CHECK), entries: {} }, key)
    vault.save()
    return vault
  }

  /** Opens a vault: VAULT_NOT_FOUND, CORRUPT_VAULT or WRONG_PASSPHRASE otherwise, the file untouched. */
  static async open(path: string, passphrase: string): Promise<FileVault> {
    const file = parse(path)
    const key = await derive(passphrase, file.kdf)
    const check = unseal(key, file.check)
    if (!check || !check.equals(CHECK)) {
      sodium.sodium_memzero(key)
      throw new VaultError('WRONG_PASSPHRASE', 'That passphrase does not open this vault.')
    }
    return new FileVault(path, file, key)
  }

  async get(name: string): Promise<string | undefined> {
    const sealed = this.file.entries[name]
    if (!sealed) return undefined
    const plain = unseal(this.key, sealed)
    // An entry is sealed with its name, so entries swapped inside the file are caught too.
    const prefix = Buffer.from(`${name}\n`)
    if (!plain || !plain.subarray(0, prefix.length).equals(prefix)) {
      throw new VaultError('CORRUPT_VAULT', `The vault entry ${name} is damaged; restore the vault file from a backup.`)
    }
    return plain.subarray(prefix.length).toString('utf8')
  }

  async add(name: string, secret: string): Promise<void> {
    if (this.file.entries[name]) throw new VaultError('ACCOUNT_EXISTS', `${name} is already in the vault.`)
    this.file.entries[name] = seal(this.key, Buffer.from(`${name}\n${secret}`))
    this.save()
  }

  async delete(name: string): Promise<boolean> {
    if (!this.file.entries[name]) return false
    delete this.file.entries[name]
    this.save()
    return true
  }

  async names(): Promise<string[]> {
    return Object.keys(this.file.entries)
  }

  /** Forgets the derived key. */
  close(): void {
    sodium.sodium_memzero(this.key)
  }

  private save(): void {
    writeFileAtomic(this.path, `${JSON.stringify(this.file, null, 2)}\n`)
  }
}

async function derive(passphrase: string, kdf: VaultFile['kdf']): Promise<Buffer> {
  const key = sodium.sodium_malloc(sodium.crypto_secretbox_KEYBYTES)
  const salt = Buffer.from(kdf.salt, 'hex')
  await sodium.crypto_pwhash_async(key, Buffer.from(passphrase, 'utf8'), salt, kdf.opslimit, kdf.memlimit, sodium.crypto_pwhash_ALG_ARGON2ID13)
  return key
}

function seal(key: Buffer, plain: Buffer): Sealed {
  const nonce = Buffer.alloc(sodium.crypto_secretbox_NONCEBYTES)
  sodium.randombytes_buf(nonce)
  const box = Buffer.alloc(plain.length + sodium.crypto_secretbox_MACBYTES)
  sodium.crypto_secretbox_easy(box, plain, nonce, key)
  return { nonce: nonce.toString('hex'), box: box.toString('hex') }
}

function unseal(key: Buffer, sealed: Sealed): Buffer | undefined {
  const box = Buffer.from(sealed.box, 'hex')
  const plain = Buffer.alloc(box.length - sodium.crypto_secretbox_MACBYTES)
  return sodium.crypto_secretbox_open_easy(plain, box, Buffer.from(sealed.nonce, 'hex'), key) ? plain : undefined
}
