// Property tests of `node --ui`'s WebSocket (fast-check, seeded; FUZZ_SCALE times more in `npm run fuzz`): arbitrary
// frames, text or binary, each get one typed refusal; a frame over the size limit closes that socket only; a wrong
// token or a wrong Origin never opens one. After all of it the server still answers, and nothing changed.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import WebSocket, { type RawData } from 'ws'
import { FUZZ_SEED, fuzzRuns } from '../../build/fuzz-settings.js'
import { FileVault } from '../vault/index.js'
import { AppCore } from './app-core.js'
import { validateCall } from './node-api.js'
import { startUiServer, type UiServer } from './ui-server.js'

const REFUSALS = new Set(['BAD_MESSAGE', 'BAD_CALL', 'BAD_ARGUMENTS', 'BAD_AMOUNT', 'AMOUNT_TOO_LARGE'])

interface Reply {
  id: unknown
  ok: boolean
  error?: { code: string; message: string }
}

/** A socket whose replies are read in order (events, which carry no id, are skipped). */
class Client {
  private readonly queue: Reply[] = []
  private waiter: ((r: Reply) => void) | undefined
  readonly closed: Promise<number>

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: RawData) => {
      const msg = JSON.parse(data.toString()) as Reply & { event?: unknown }
      if (msg.event !== undefined) return
      if (this.waiter) {
        const w = this.waiter
        this.waiter = undefined
        w(msg)
      } else this.queue.push(msg)
    })
    this.closed = new Promise((resolve) => ws.once('close', (code: number) => resolve(code)))
  }

  next(ms = 10_000): Promise<Reply> {
    const queued = this.queue.shift()
    if (queued) return Promise.resolve(queued)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no reply')), ms)
      this.waiter = (r) => {
        clearTimeout(timer)
        resolve(r)
      }
    })
  }
}

describe('node --ui WebSocket (property tests)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ui-fuzz-'))
  let core: AppCore
  let server: UiServer
  let token: string
  let origin: string
  let snapshot: string

  const stateOf = async (): Promise<string> => {
    const digest = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex')
    return JSON.stringify([await core.status(), digest(join(dir, 'data', 'settings.json')), digest(join(dir, 'v.vault'))])
  }

  const connect = (query: string, headers: Record<string, string>): Promise<WebSocket> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api${query}`, { headers, maxPayload: 1024 * 1024 })
      ws.once('open', () => resolve(ws))
      ws.once('error', reject)
    })

  before(async () => {
    const root = join(dir, 'dist')
    mkdirSync(root)
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>ui</title>')
    core = await AppCore.start({ dataDir: join(dir, 'data'), secretStore: await FileVault.create(join(dir, 'v.vault'), 'a passphrase', { preset: 'interactive' }) })
    await core.createAccount()
    server = await startUiServer(core, { root })
    token = new URL(server.url).hash.replace('#token=', '')
    origin = `http://127.0.0.1:${server.port}`
    snapshot = await stateOf()
  })
  after(async () => {
    await server.close()
    await core.close()
    rmSync(dir, { recursive: true, force: true })
  })

  async function stillServes(): Promise<void> {
    const client = new Client(await connect(`?token=${token}`, { origin }))
    client.ws.send(JSON.stringify({ id: 1, method: 'status', args: [] }))
    const reply = await client.next()
    assert.equal(reply.ok, true)
    client.ws.close()
    assert.equal(await stateOf(), snapshot, 'the state changed')
  }

  it('arbitrary frames each get one typed refusal on the same socket', async () => {
    const client = new Client(await connect(`?token=${token}`, { origin }))
    const call = fc.record({ id: fc.oneof(fc.integer(), fc.double(), fc.jsonValue()), method: fc.oneof(fc.string(), fc.jsonValue()), args: fc.jsonValue() }, { requiredKeys: [] })
    const frame = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 500 }).map((s) => ({ text: s })),
      fc.jsonValue().map((v) => ({ text: JSON.stringify(v) ?? 'null' })),
      call.map((c) => ({ text: JSON.stringify(c) })),
      fc.uint8Array({ maxLength: 500 }).map((b) => ({ binary: b })),
    )
    await fc.assert(
      fc.asyncProperty(frame, async (f) => {
        if ('text' in f) {
          // A frame that is a well-formed call the schemas accept would act: left out.
          let msg: unknown
          try {
            msg = JSON.parse(f.text)
          } catch {
            msg = undefined
          }
          const m = msg as { id?: unknown; method?: unknown; args?: unknown } | undefined
          if (typeof m === 'object' && m !== null && typeof m.id === 'number') {
            let valid = true
            try {
              validateCall(m.method, m.args ?? [])
            } catch {
              valid = false
            }
            fc.pre(!valid)
          }
          client.ws.send(f.text)
        } else client.ws.send(f.binary)
        const reply = await client.next()
        assert.equal(reply.ok, false)
        assert.ok(reply.error && REFUSALS.has(reply.error.code), JSON.stringify(reply))
      }),
      { seed: FUZZ_SEED, numRuns: fuzzRuns(1000) },
    )
    assert.equal(client.ws.readyState, WebSocket.OPEN, 'the socket was closed')
    client.ws.close()
    await stillServes()
  })

  it('a frame over the size limit closes that socket (1009) and nothing else', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 256 * 1024 + 1, max: 1024 * 1024 }), fc.boolean(), async (size, binary) => {
        const client = new Client(await connect(`?token=${token}`, { origin }))
        client.ws.send(binary ? Buffer.alloc(size, 1) : 'x'.repeat(size))
        assert.equal(await client.closed, 1009)
      }),
      { seed: FUZZ_SEED, numRuns: fuzzRuns(20) },
    )
    await stillServes()
  })

  it('a wrong token or a wrong Origin never opens a socket', async () => {
    const wrongToken = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.stringMatching(/^[0-9a-f]{48}$/),
      fc.constantFrom('', token.slice(1), `${token}0`, token.toUpperCase(), `${token}&token=${token}`),
    ).filter((t) => t !== token)
    const wrongOrigin = fc.oneof(
      fc.webUrl().map((u) => new URL(u).origin),
      fc.constantFrom('null', 'http://localhost:1', `http://127.0.0.1:${server.port + 1}`, `https://127.0.0.1:${server.port}`, `${origin}.evil.example`, ''),
    ).filter((o) => o !== origin)
    await fc.assert(
      fc.asyncProperty(fc.oneof(wrongToken.map((t) => ({ t, o: origin })), wrongOrigin.map((o) => ({ t: token, o }))), async ({ t, o }) => {
        const headers: Record<string, string> = o === '' ? {} : { origin: o }
        await assert.rejects(connect(`?token=${encodeURIComponent(t)}`, headers), /403/)
      }),
      { seed: FUZZ_SEED, numRuns: fuzzRuns(200) },
    )
    await stillServes()
  })
})
