// The parts of the Holepunch modules this project uses; they ship no TypeScript declarations.

declare module 'hypercore' {
  import type { EventEmitter } from 'node:events'
  import type { Readable } from 'node:stream'

  export interface KeyPair {
    publicKey: Buffer
    secretKey: Buffer
  }

  export interface Manifest {
    version: number
    signers: Array<{ publicKey: Buffer }>
  }

  export default class Hypercore extends EventEmitter {
    static key(manifest: Manifest): Buffer
    readonly key: Buffer
    readonly discoveryKey: Buffer
    readonly length: number
    readonly writable: boolean
    readonly closed: boolean
    ready(): Promise<void>
    append(blocks: Buffer | Buffer[]): Promise<{ length: number; byteLength: number }>
    get(index: number, opts?: { wait?: boolean; timeout?: number }): Promise<Buffer | null>
    update(opts?: { wait?: boolean }): Promise<boolean>
    createReadStream(opts?: { start?: number; end?: number; live?: boolean }): Readable
    download(range?: { start?: number; end?: number; linear?: boolean }): { done(): Promise<void>; destroy(): void }
    /** The peers replicating this core with us now. */
    readonly peers: ReadonlyArray<{ remotePublicKey: Buffer }>
    /** Whether this session wants the core replicated (an inactive one lets idle channels close). */
    setActive(active: boolean): void
    close(): Promise<void>
  }
}

declare module 'corestore' {
  import type { Duplex } from 'node:stream'
  import type Hypercore from 'hypercore'
  import type { KeyPair, Manifest } from 'hypercore'

  export default class Corestore {
    constructor(storage: string, opts?: Record<string, unknown>)
    ready(): Promise<void>
    get(opts: { keyPair?: KeyPair; manifest?: Manifest; key?: Buffer; name?: string; active?: boolean; notDownloadingLinger?: number }): Hypercore
    replicate(stream: Duplex | boolean): Duplex
    close(): Promise<void>
  }
}

declare module 'hyperdht' {
  export interface KeyPair {
    publicKey: Buffer
    secretKey: Buffer
  }
  export default class HyperDHT {
    constructor(opts?: {
      bootstrap?: Array<string | { host: string; port: number }>
      host?: string
      ephemeral?: boolean
      firewalled?: boolean
      port?: number
    })
    static keyPair(seed?: Buffer): KeyPair
    ready(): Promise<void>
    destroy(): Promise<void>
  }
}

declare module 'hyperdht/testnet.js' {
  import type HyperDHT from 'hyperdht'
  export interface Testnet {
    nodes: HyperDHT[]
    bootstrap: Array<{ host: string; port: number }>
    createNode(opts?: Record<string, unknown>): HyperDHT
    destroy(): Promise<void>
  }
  export default function createTestnet(size?: number, opts?: { host?: string; port?: number }): Promise<Testnet>
}

declare module 'hyperswarm' {
  import type { EventEmitter } from 'node:events'
  import type { Duplex } from 'node:stream'
  import type HyperDHT from 'hyperdht'
  import type { KeyPair } from 'hyperdht'

  export interface PeerInfo {
    publicKey: Buffer
  }

  export interface Connection extends Duplex {
    remotePublicKey: Buffer
    /** streamx: set as soon as destroy() is called (writes from then on are dropped). */
    readonly destroying?: boolean
  }

  export interface Discovery {
    flushed(): Promise<void>
    refresh(opts?: { server?: boolean; client?: boolean }): Promise<void>
    destroy(): Promise<void>
  }

  export default class Hyperswarm extends EventEmitter {
    constructor(opts?: {
      keyPair?: KeyPair
      dht?: HyperDHT
      bootstrap?: Array<string | { host: string; port: number }>
      firewall?: (remotePublicKey: Buffer) => boolean
      maxPeers?: number
    })
    readonly connections: Set<Connection>
    readonly keyPair: KeyPair
    /** Known peers by hex public key; a firewalled peer is banned here for good unless unbanned. */
    readonly peers: Map<string, { banned: boolean; ban(value: boolean): void }>
    join(topic: Buffer, opts?: { server?: boolean; client?: boolean }): Discovery
    flush(): Promise<void>
    destroy(): Promise<void>
    on(event: 'connection', listener: (conn: Connection, info: PeerInfo) => void): this
    on(event: string, listener: (...args: unknown[]) => void): this
  }
}

declare module 'sodium-native' {
  export const crypto_sign_PUBLICKEYBYTES: number
  export const crypto_sign_SECRETKEYBYTES: number
  export const crypto_sign_SEEDBYTES: number
  export function crypto_sign_keypair(pk: Buffer, sk: Buffer): void
  export function crypto_sign_seed_keypair(pk: Buffer, sk: Buffer, seed: Buffer): void
  export function randombytes_buf(buf: Buffer): void
  export const crypto_pwhash_SALTBYTES: number
  export const crypto_pwhash_OPSLIMIT_INTERACTIVE: number
  export const crypto_pwhash_MEMLIMIT_INTERACTIVE: number
  export const crypto_pwhash_OPSLIMIT_MODERATE: number
  export const crypto_pwhash_MEMLIMIT_MODERATE: number
  export const crypto_pwhash_OPSLIMIT_SENSITIVE: number
  export const crypto_pwhash_MEMLIMIT_SENSITIVE: number
  export const crypto_pwhash_ALG_ARGON2ID13: number
  export function crypto_pwhash(out: Buffer, passwd: Buffer, salt: Buffer, opslimit: number, memlimit: number, alg: number): void
  /** The same on libuv's thread pool: the event loop stays free. */
  export function crypto_pwhash_async(out: Buffer, passwd: Buffer, salt: Buffer, opslimit: number, memlimit: number, alg: number): Promise<void>
  export const crypto_secretbox_KEYBYTES: number
  export const crypto_secretbox_NONCEBYTES: number
  export const crypto_secretbox_MACBYTES: number
  export function crypto_secretbox_easy(c: Buffer, m: Buffer, n: Buffer, k: Buffer): void
  export function crypto_secretbox_open_easy(m: Buffer, c: Buffer, n: Buffer, k: Buffer): boolean
  export function sodium_malloc(size: number): Buffer
  export function sodium_memzero(buf: Buffer): void
  /** BLAKE2b of `input` into `out` (its length is the digest's, 16 to 64 bytes). */
  export function crypto_generichash(out: Buffer, input: Buffer): void
}

declare module 'protomux' {
  import type { Duplex } from 'node:stream'
  import type { Encoder } from 'compact-encoding'

  export interface Message<T> {
    send(data: T): boolean
  }

  export interface Channel {
    /** Set once the channel closes (a message sent then is dropped). */
    readonly closed: boolean
    addMessage<T>(opts: { encoding: Encoder<T>; onmessage?: (message: T) => void }): Message<T>
    open(handshake?: unknown): void
    close(): void
  }

  export default class Protomux {
    /** The stream's muxer (the one Hypercore replication already made, if any). */
    static from(stream: Duplex | Protomux): Protomux
    createChannel(opts: {
      protocol: string
      id?: Buffer
      unique?: boolean
      onopen?: () => void
      onclose?: () => void
    }): Channel | null
  }
}
