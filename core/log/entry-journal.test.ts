// The entry journal on disk: records come back in order across segments, a record cut short by a crash (or
// damaged) ends what is read and nothing after it is taken, dropped segments stay dropped, another log's journal
// is refused.
import assert from 'node:assert/strict'
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { EntryJournal, JournalError } from './entry-journal.js'

const OWNER = Buffer.alloc(32, 1)
const bytes = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s))
const texts = (list: Uint8Array[]): string[] => list.map((e) => Buffer.from(e).toString())

describe('the entry journal', () => {
  const root = mkdtempSync(join(tmpdir(), 'entry-journal-'))
  after(() => rmSync(root, { recursive: true, force: true }))

  it('gives back every record in order, across segments, until they are dropped', () => {
    const dir = join(root, 'order')
    const j = new EntryJournal(dir)
    assert.deepEqual(j.open(OWNER), [])
    j.write({ first: 0, entries: [bytes('a'), bytes('b')] })
    const first = j.cut()
    j.write({ first: 2, entries: [bytes('c')] })
    j.close()

    const again = new EntryJournal(dir)
    const records = again.open(OWNER)
    assert.deepEqual(records.map((r) => [r.first, texts(r.entries)]), [[0, ['a', 'b']], [2, ['c']]])
    again.drop(first)
    again.close()
    assert.deepEqual(new EntryJournal(dir).open(OWNER).map((r) => [r.first, texts(r.entries)]), [[2, ['c']]])
  })

  it('stops at a record cut short or damaged, taking nothing after it', () => {
    const dir = join(root, 'torn')
    const j = new EntryJournal(dir)
    j.open(OWNER)
    j.write({ first: 0, entries: [bytes('kept')] })
    j.write({ first: 1, entries: [bytes('damaged')] })
    j.write({ first: 2, entries: [bytes('after')] })
    j.close()
    const [segment] = readdirSync(dir)
    const path = join(dir, segment!)
    const whole = readFileSync(path)
    const damaged = Buffer.from(whole)
    const at = whole.indexOf('damaged')
    damaged.writeUInt8(damaged.readUInt8(at) ^ 0xff, at) // one flipped byte: its hash no longer matches
    writeFileSync(path, damaged)
    assert.deepEqual(new EntryJournal(dir).open(OWNER).map((r) => texts(r.entries)), [['kept']])

    writeFileSync(path, whole.subarray(0, whole.indexOf('after') - 2)) // the last write cut short
    assert.deepEqual(new EntryJournal(dir).open(OWNER).map((r) => texts(r.entries)), [['kept'], ['damaged']])
    appendFileSync(path, Buffer.from([1, 2, 3])) // a few stray bytes where a length should be
    assert.deepEqual(new EntryJournal(dir).open(OWNER).map((r) => texts(r.entries)), [['kept'], ['damaged']])
  })

  it('refuses a journal another log left, and reads nothing of it', () => {
    const dir = join(root, 'other')
    const j = new EntryJournal(dir)
    j.open(OWNER)
    j.write({ first: 0, entries: [bytes('not yours')] })
    j.close()
    assert.throws(() => new EntryJournal(dir).open(Buffer.alloc(32, 2)), JournalError)
    assert.equal(new EntryJournal(dir).open(OWNER).length, 1)
  })
})
