// An entry whose handling throws must not take the rest of its batch with it: before, the rest of our own tick was
// never handed on, and a follower's read of a block stopped midway and later numbered that log's entries wrongly.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { createPeerKey } from './peer-key.js'
import type { TradeLogs } from './trade-logs.js'
import { followingPair } from '../testing/trade-log-pair.js'

describe('a handler that throws on one entry', () => {
  const dirs = [mkdtempSync(join(tmpdir(), 'handler-throws-')), mkdtempSync(join(tmpdir(), 'handler-throws-'))]
  const keys = [createPeerKey(), createPeerKey()]
  const opened: TradeLogs[] = []

  after(async () => {
    for (const l of opened) await l.close().catch(() => {})
    for (const d of dirs) for (const p of [d, `${d}.journal`]) rmSync(p, { recursive: true, force: true }) // TradeLogs journals beside its store
  })

  it('still gets every other entry, at the position its author gave it, ours and a followed log', async () => {
    const said: string[] = []
    const { writer, reader } = await followingPair(dirs, keys, (line) => said.push(line))
    opened.push(writer, reader)

    const handler = (got: Array<{ position: number; text: string }>) => (author: number, position: number, bytes: Uint8Array) => {
      const text = Buffer.from(bytes).toString()
      if (author !== 0) return
      if (text === 'bad') throw new Error('handler failed')
      got.push({ position, text })
    }
    const own: Array<{ position: number; text: string }> = []
    const followed: Array<{ position: number; text: string }> = []
    writer.subscribe(handler(own))
    reader.subscribe(handler(followed))
    // One tick, so one journal record and one block: the throw sits in the middle of both.
    await writer.append(['x0', 'bad', 'x2', 'x3'].map((t) => Buffer.from(t)), undefined, true)
    await writer.append([Buffer.from('y4')], undefined, true)

    const want = [
      { position: 0, text: 'x0' },
      { position: 2, text: 'x2' },
      { position: 3, text: 'x3' },
      { position: 4, text: 'y4' },
    ]
    const deadline = Date.now() + 15_000
    while (followed.length < want.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25))
    assert.deepEqual(own, want)
    assert.deepEqual(followed, want)
    assert.equal(said.filter((l) => l.includes('handler failed')).length, 2, said.join('\n'))
  })
})
