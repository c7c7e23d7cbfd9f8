// Property tests of the NodeApi's door (fast-check, seeded; FUZZ_SCALE times more in `npm run fuzz`): any method
// name and any JSON arguments the schemas refuse get a typed error reply (a code the UI knows, a sentence), never a
// throw, an INTERNAL error or a change of state. Calls are made up from scratch and from each method's valid
// arguments with one part replaced; the few that come out valid are left out (they would act).
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { FUZZ_SEED, fuzzRuns } from '../../build/fuzz-settings.js'
import { FileVault } from '../vault/index.js'
import { MAX_AMOUNT_WEI } from './amount-limit.js'
import { dispatch } from './api-dispatch.js'
import { METHOD_NAMES } from './api-methods.js'
import { AppCore } from './app-core.js'
import { validateCall } from './node-api.js'

/** The codes a refused call may carry: the schema's own. */
const REFUSALS = new Set(['BAD_CALL', 'BAD_ARGUMENTS', 'BAD_AMOUNT', 'AMOUNT_TOO_LARGE'])
const ADDRESS = '0x9023d322fA513F93C1f8f6c6d533C907Faf804EE'

/** One valid argument list per method: the starting point of the mutated calls. */
const VALID: Record<(typeof METHOD_NAMES)[number], unknown[]> = {
  status: [],
  unlockVault: ['a passphrase'],
  createAccount: [],
  importPrivateKey: [`0x${'11'.repeat(32)}`],
  importKeystore: ['{"version":3}', 'password'],
  exportKeystore: ['long enough password'],
  selectAccount: [ADDRESS],
  useNetwork: [{ kind: 'sandbox' }],
  sandboxFund: [],
  createChannel: [{ depositWei: '1000' }],
  channelSettings: [`offchain:31337:${ADDRESS}`],
  joinChannel: [{ invite: `offchain:31337:${ADDRESS}`, depositWei: '1000' }],
  deposit: [ADDRESS, '1000'],
  channel: [ADDRESS],
  send: [ADDRESS, 1, '1000'],
  exit: [ADDRESS],
  withdraw: [ADDRESS],
  closeChannel: [ADDRESS],
  dismissResumed: [ADDRESS, [`0x${'ab'.repeat(16)}`]],
}

/** Amounts at and past every edge the schema has. */
const amount = fc.oneof(
  fc.bigInt({ min: MAX_AMOUNT_WEI + 1n, max: 2n ** 300n }).map(String),
  fc.constantFrom('0', '-1', '', '1e3', '0x10', ' 1', '1 ', '1.5', '١٢٣', `${MAX_AMOUNT_WEI + 1n}`, `${2n ** 256n}`, '9'.repeat(100_000)),
  fc.string({ maxLength: 30 }),
  fc.jsonValue(),
)

/** A part of an argument list replaced: a whole argument, or a field of an object argument. */
const mutated = fc
  .tuple(fc.constantFrom(...METHOD_NAMES), fc.nat(), fc.oneof(fc.jsonValue(), amount), fc.string({ maxLength: 12 }))
  .map(([method, at, value, key]): [string, unknown] => {
    const args = structuredClone(VALID[method]) as unknown[]
    const i = args.length === 0 ? 0 : at % (args.length + 1) // one past the end: an extra argument
    const target = args[i]
    if (typeof target === 'object' && target !== null && at % 2 === 0) {
      const fields = Object.keys(target)
      ;(target as Record<string, unknown>)[at % 3 === 0 ? key : (fields[at % fields.length] ?? key)] = value
    } else args[i] = value
    return [method, args]
  })

const fromScratch = fc.tuple(
  fc.oneof(fc.constantFrom(...METHOD_NAMES), fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'close', 'emit', 'on', ''), fc.string(), fc.jsonValue()),
  fc.oneof(fc.jsonValue(), fc.array(fc.jsonValue(), { maxLength: 4 })),
)

describe('NodeApi dispatcher (property tests)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'api-fuzz-'))
  let core: AppCore
  let snapshot: string

  /** Everything a call could change: what status reports, the settings file and the vault file. */
  const stateOf = async (): Promise<string> => {
    const digest = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex')
    return JSON.stringify([await core.status(), digest(join(dir, 'data', 'settings.json')), digest(join(dir, 'keys.vault'))])
  }

  before(async () => {
    core = await AppCore.start({ dataDir: join(dir, 'data'), secretStore: await FileVault.create(join(dir, 'keys.vault'), 'a passphrase', { preset: 'interactive' }) })
    await core.importPrivateKey(`0x${'22'.repeat(32)}`)
    snapshot = await stateOf()
  })
  after(async () => {
    await core.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const refusedWithoutChange = async ([method, args]: [unknown, unknown]): Promise<void> => {
    const name = typeof method === 'string' ? method : `(${typeof method})` // String() of {"toString":0} throws
    let valid = true
    try {
      validateCall(method, args)
    } catch {
      valid = false
    }
    fc.pre(!valid)
    const reply = await dispatch(core, method, args)
    assert.equal(reply.ok, false)
    if (reply.ok) return
    assert.ok(REFUSALS.has(reply.error.code), `${name}: ${reply.error.code}: ${reply.error.message}`)
    assert.equal(typeof reply.error.message, 'string')
    assert.ok(reply.error.message.length > 0 && reply.error.message.length < 2000, reply.error.message.slice(0, 200))
    assert.doesNotThrow(() => JSON.stringify(reply)) // it crosses IPC and the WebSocket as JSON
    assert.equal(await stateOf(), snapshot, `${name} changed the state`)
  }

  it('each method\'s valid arguments with one part replaced: a typed refusal, nothing changed', async () => {
    await fc.assert(fc.asyncProperty(mutated, refusedWithoutChange), { seed: FUZZ_SEED, numRuns: fuzzRuns(1500) })
  })

  it('arbitrary method names and arguments: a typed refusal, nothing changed', async () => {
    await fc.assert(fc.asyncProperty(fromScratch, refusedWithoutChange), { seed: FUZZ_SEED, numRuns: fuzzRuns(1500) })
  })

  it('amounts above 2^88 - 1 wei are AMOUNT_TOO_LARGE in every method that takes one', async () => {
    const tooLarge = fc.bigInt({ min: MAX_AMOUNT_WEI + 1n, max: 10n ** 78n }).map(String)
    await fc.assert(
      fc.asyncProperty(tooLarge, fc.constantFrom('send', 'deposit', 'createChannel', 'joinChannel'), async (wei, method) => {
        const args = method === 'send' ? [ADDRESS, 1, wei] : method === 'deposit' ? [ADDRESS, wei] : [{ ...(VALID[method][0] as object), depositWei: wei }]
        const reply = await dispatch(core, method, args)
        assert.equal(!reply.ok && reply.error.code, 'AMOUNT_TOO_LARGE')
      }),
      { seed: FUZZ_SEED, numRuns: fuzzRuns(200) },
    )
    assert.equal(await stateOf(), snapshot)
  })
})
