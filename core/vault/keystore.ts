// JSON keystores (V3, as geth and ethers write them) opened and made off the main thread. A keystore names its own
// key-derivation work factor, and ethers runs whatever it names: pbkdf2 synchronously (3 million iterations held
// the event loop for 0.93 s; 10^12 would stall every channel past its dispute windows), scrypt in 10 ms slices of
// the main thread. So the work a file asks for is bounded first, before any derivation, and the derivation runs in
// a worker thread, leaving the core's event loop free.
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import { VaultError } from './errors.js'

/**
 * The most work a keystore may ask for. scrypt: N a power of two up to 2^18, r up to 16, p up to 16, memory
 * 128·N·r up to 256 MiB and N·r·p up to 2^22 (twice geth's standard keystore, N 2^18, r 8, p 1; ethers writes
 * N 2^17). pbkdf2: up to 2^20 iterations (four times the 262,144 geth writes). About 4 s of one core at most here.
 */
export const KEYSTORE_LIMITS = {
  scryptMaxN: 2 ** 18,
  scryptMaxR: 16,
  scryptMaxP: 16,
  scryptMaxMemoryBytes: 256 * 1024 * 1024,
  scryptMaxWork: 2 ** 22,
  pbkdf2MaxIterations: 2 ** 20,
} as const

/** A derivation that takes longer than this (a machine far slower than expected) is given up, the worker ended. */
const WORKER_TIMEOUT_MS = 120_000

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/**
 * A field as ethers' keystore reader finds it (`spelunk`): each path step matches the first key, in the object's
 * own order, equal to it ignoring case. Reading the same fields the same way is what makes the bound hold for the
 * file ethers then decrypts.
 */
function field(data: Json, path: string): Json | undefined {
  let cur: Json | undefined = data
  for (const step of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined
    const obj: { [key: string]: Json } = cur
    const key: string | undefined = Object.keys(obj).find((k) => k.toLowerCase() === step)
    cur = key === undefined ? undefined : obj[key]
  }
  return cur ?? undefined
}

/** An integer field as ethers reads one (a safe integer, or a string of digits); undefined for anything else. */
function intField(data: Json, path: string): number | undefined {
  const v = field(data, path)
  if (typeof v === 'string' && /^-?[0-9]+$/.test(v)) return parseInt(v, 10)
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined
}

const tooCostly = (what: string): VaultError =>
  new VaultError(
    'WORK_FACTOR_TOO_HIGH',
    `That keystore asks for more key-derivation work than this app allows (${what}). ` +
      'Export it again from its wallet with standard settings (scrypt N up to 2^18, or pbkdf2 up to 2^20 iterations).',
  )

const malformed = (): VaultError => new VaultError('BAD_KEYSTORE', 'That keystore could not be opened: check the file and its password.')

/**
 * Throws WORK_FACTOR_TOO_HIGH when the keystore asks for more work than KEYSTORE_LIMITS, BAD_KEYSTORE when it is
 * not a keystore at all; no key derivation is done. (A pre-launch crowdsale wallet has a fixed, small work factor.)
 */
export function checkKeystoreWork(json: string): void {
  let data: Json
  try {
    data = JSON.parse(json) as Json
  } catch {
    throw malformed()
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw malformed()
  const version = data.version
  const v3 = version !== null && version !== undefined && parseInt(String(version), 10) === 3 // ethers' isKeystoreJson
  if (!v3) {
    if (data.encseed) return // ethers' isCrowdsaleJson: pbkdf2 with 2,000 iterations, always
    throw malformed()
  }
  const kdf = field(data, 'crypto.kdf')
  const name = typeof kdf === 'string' ? kdf.toLowerCase() : undefined
  const L = KEYSTORE_LIMITS
  if (name === 'scrypt') {
    const N = intField(data, 'crypto.kdfparams.n')
    const r = intField(data, 'crypto.kdfparams.r')
    const p = intField(data, 'crypto.kdfparams.p')
    if (N === undefined || r === undefined || p === undefined || N < 1 || r < 1 || p < 1) throw malformed()
    if (N > L.scryptMaxN) throw tooCostly(`scrypt N is ${N}, above ${L.scryptMaxN}`)
    if (r > L.scryptMaxR) throw tooCostly(`scrypt r is ${r}, above ${L.scryptMaxR}`)
    if (p > L.scryptMaxP) throw tooCostly(`scrypt p is ${p}, above ${L.scryptMaxP}`)
    if (128 * N * r > L.scryptMaxMemoryBytes) throw tooCostly(`scrypt would need ${(128 * N * r) / 2 ** 20} MiB, above 256 MiB`)
    if (N * r * p > L.scryptMaxWork) throw tooCostly(`scrypt N·r·p is ${N * r * p}, above 2^22`)
    return
  }
  if (name === 'pbkdf2') {
    const c = intField(data, 'crypto.kdfparams.c')
    if (c === undefined || c < 1) throw malformed()
    if (c > L.pbkdf2MaxIterations) throw tooCostly(`pbkdf2 runs ${c} iterations, above ${L.pbkdf2MaxIterations}`)
    return
  }
  throw malformed() // ethers knows no other derivation
}

// The worker's code: plain CommonJS given as a string, loading ethers by the path resolved here, so it runs the
// same under tsx, from the installed command and from Electron's bundle (which keeps npm packages external).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { Wallet } = require(workerData.ethers)
const run = workerData.op === 'decrypt'
  ? Wallet.fromEncryptedJson(workerData.json, workerData.password).then((w) => w.privateKey)
  : new Wallet(workerData.privateKey).encrypt(workerData.password)
run.then((result) => parentPort.postMessage({ ok: true, result }), () => parentPort.postMessage({ ok: false }))
`

type WorkerJob = { op: 'decrypt'; json: string; password: string } | { op: 'encrypt'; privateKey: string; password: string }

const ethersPath = createRequire(import.meta.url).resolve('ethers')

/** Runs one derivation in its own worker thread; rejects (with nothing of the input in it) when it fails. */
function inWorker(job: WorkerJob): Promise<string> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ethers: ethersPath, ...job } })
    let settled = false
    const finish = (err: Error | undefined, result?: string): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      void worker.terminate()
      if (err) reject(err)
      else resolve(result ?? '')
    }
    const timer = setTimeout(() => finish(new Error('key derivation took too long')), WORKER_TIMEOUT_MS)
    worker.once('message', (m: { ok: boolean; result?: unknown }) => {
      if (m.ok && typeof m.result === 'string') finish(undefined, m.result)
      else finish(new Error('keystore operation failed'))
    })
    worker.once('error', () => finish(new Error('keystore worker failed')))
    worker.once('exit', () => finish(new Error('keystore worker ended')))
  })
}

/** The private key in a keystore: its work factor checked first, then decrypted in a worker thread. */
export async function decryptKeystore(json: string, password: string): Promise<string> {
  checkKeystoreWork(json)
  try {
    return await inWorker({ op: 'decrypt', json, password })
  } catch {
    throw malformed()
  }
}

/** The key as a V3 keystore under `password` (ethers' standard scrypt), made in a worker thread. */
export function encryptKeystore(privateKey: string, password: string): Promise<string> {
  return inWorker({ op: 'encrypt', privateKey, password })
}
