// Accounts and per-channel peer keys on top of a SecretStore. Keys leave this module only as signers inside the
// core, or as an encrypted JSON keystore the person asked for; addresses and public keys are all the rest sees.
import { Wallet, getAddress, isHexString } from 'ethers'
import { randomBytes } from 'node:crypto'
import { createPeerKey, type PeerKeyPair } from '../log/peer-key.js'
import type { Hex } from '../protocol/types.js'
import { VaultError } from './errors.js'
import { decryptKeystore, encryptKeystore } from './keystore.js'
import type { SecretStore } from './secret-store.js'

const ACCOUNT = 'account:'
const PEER = 'peer:'

export class AccountVault {
  constructor(readonly store: SecretStore) {}

  /** Addresses of the accounts held, checksummed. */
  async accounts(): Promise<string[]> {
    return (await this.store.names()).filter((n) => n.startsWith(ACCOUNT)).map((n) => getAddress(n.slice(ACCOUNT.length)))
  }

  async create(): Promise<string> {
    const wallet = Wallet.createRandom()
    await this.store.add(ACCOUNT + wallet.address, wallet.privateKey)
    return wallet.address
  }

  async importPrivateKey(privateKey: string): Promise<string> {
    const key = privateKey.trim().startsWith('0x') ? privateKey.trim() : `0x${privateKey.trim()}`
    let wallet: Wallet
    try {
      if (!isHexString(key, 32)) throw new Error('length')
      wallet = new Wallet(key)
    } catch {
      throw new VaultError('BAD_PRIVATE_KEY', 'That is not a private key: expected 64 hexadecimal characters.')
    }
    return this.keep(wallet)
  }

  /**
   * Imports an ethers/geth JSON keystore (V3), decrypted with its own password in a worker thread; one asking for
   * more key-derivation work than KEYSTORE_LIMITS is refused (WORK_FACTOR_TOO_HIGH) before any.
   */
  async importKeystore(json: string, password: string): Promise<string> {
    return this.keep(new Wallet(await decryptKeystore(json, password)))
  }

  /** The account as an encrypted JSON keystore (V3) under `password`, made in a worker thread. */
  async exportKeystore(address: string, password: string): Promise<string> {
    if (password.length < 8) throw new VaultError('WEAK_PASSPHRASE', 'Choose a keystore password of at least 8 characters.')
    return encryptKeystore((await this.signer(address)).privateKey, password)
  }

  /** The account's key as a signer, for the core only. */
  async signer(address: string): Promise<Wallet> {
    const key = await this.store.get(ACCOUNT + getAddress(address))
    if (!key) throw new VaultError('ACCOUNT_NOT_FOUND', `No key for account ${getAddress(address)} in the ${this.store.kind}.`)
    return new Wallet(key)
  }

  /** The account's private key, for the core's own signing (never to a UI). */
  async privateKey(address: string): Promise<Hex> {
    return (await this.signer(address)).privateKey as Hex
  }

  /** The account's peer key for one channel, made on first use. */
  async peerKey(address: string, chainId: bigint, channel: string): Promise<PeerKeyPair> {
    const name = peerKeyName(address, chainId, channel)
    let seed = await this.store.get(name)
    if (!seed) {
      seed = randomBytes(32).toString('hex')
      await this.store.add(name, seed)
    }
    return createPeerKey(Buffer.from(seed, 'hex'))
  }

  /**
   * A new peer key for the account in one channel, in place of one someone else registered first (a stranger who
   * copies our key into a join of its own would otherwise keep us out of the channel for ever).
   */
  async replacePeerKey(address: string, chainId: bigint, channel: string): Promise<PeerKeyPair> {
    await this.store.delete(peerKeyName(address, chainId, channel))
    return this.peerKey(address, chainId, channel)
  }

  private async keep(wallet: Wallet): Promise<string> {
    const name = ACCOUNT + wallet.address
    if ((await this.store.get(name)) !== undefined) {
      throw new VaultError('ACCOUNT_EXISTS', `Account ${wallet.address} is already here; nothing was changed.`)
    }
    await this.store.add(name, wallet.privateKey)
    return wallet.address
  }
}

const peerKeyName = (address: string, chainId: bigint, channel: string): string =>
  `${PEER}${chainId}:${getAddress(channel)}:${getAddress(address)}`
