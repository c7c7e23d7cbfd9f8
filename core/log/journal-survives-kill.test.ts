// kill -9 right after an entry is journaled, before any block holds it: the entry was pushed and acted on, so the
// log must hold it after the restart, at the position it was pushed with. Real process, real Hypercore on disk.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, describe, it } from 'node:test'
import { createPeerKey } from './peer-key.js'
import { TradeLogs } from './trade-logs.js'

const WRITER = new URL('../testing/journal-writer.ts', import.meta.url).pathname

describe('a trade log killed with entries only in its journal', () => {
  const root = mkdtempSync(join(tmpdir(), 'journal-kill-'))
  after(() => rmSync(root, { recursive: true, force: true }))

  it('holds them after the restart, in order, at the positions they had', async () => {
    const dir = join(root, 'logs')
    const seed = randomBytes(32)
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir, seed.toString('hex')], { stdio: ['pipe', 'pipe', 'inherit'] })
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
    const next = async (): Promise<string> => String((await lines.next()).value)
    assert.equal(await next(), 'ready')
    // The first entry's block is written at once; the next ones wait for the store interval (at least 250 ms),
    // so the kill comes while they are in the journal only.
    for (let i = 0; i < 4; i++) {
      child.stdin!.write(`entry ${i}\n`)
      assert.equal(await next(), `journaled ${i + 1}`)
    }
    child.kill('SIGKILL')
    await once(child, 'exit')
    const segments = (): string[] => readdirSync(`${dir}.journal`).filter((f) => f.endsWith('.entries'))
    assert.ok(segments().length > 0, 'the killed process left journaled entries behind')

    const logs = new TradeLogs(dir, createPeerKey(seed), 0)
    await logs.open()
    const got: Array<[number, string]> = []
    logs.subscribe((_author, position, entry) => void got.push([position, Buffer.from(entry).toString()]))
    await logs.append([Buffer.from('after restart')])
    await logs.close()
    assert.deepEqual(got, [[0, 'entry 0'], [1, 'entry 1'], [2, 'entry 2'], [3, 'entry 3'], [4, 'after restart']])
    assert.deepEqual(segments(), [], 'a clean close leaves the journal empty')
  })
})
