// Our own entries between their decision and their Hypercore block. An entry is written here (one write call, no
// Hypercore batch) before it is pushed or acted on, and goes into the trade log's Hypercore in larger blocks
// later: every block costs each reader a request, a proof and a verified write, so blocks, not entries, are what
// replication costs. After a crash the journal's entries that no block holds yet are appended at the next open.
// A directory of numbered segment files; a segment is deleted once a block holds all its entries. Record layout:
// body length (u32 LE), BLAKE2b-128 of the body, body = compact-encoding { first position, entries }.
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import c from 'compact-encoding'
import sodium from 'sodium-native'

const HEAD_BYTES = 4 + 16
const SUFFIX = '.entries'
/** Names the log the journal belongs to (its Hypercore key, hex): another log's journal is refused, not replayed. */
const OWNER_FILE = 'log-key'

export interface JournalRecord {
  /** Position (in the whole log) of the first entry. */
  first: number
  entries: Uint8Array[]
}

const entryList = c.array(c.uint8array)
const record: c.Encoder<JournalRecord> = {
  preencode(state, r) {
    c.uint.preencode(state, r.first)
    entryList.preencode(state, r.entries)
  },
  encode(state, r) {
    c.uint.encode(state, r.first)
    entryList.encode(state, r.entries)
  },
  decode(state) {
    return { first: c.uint.decode(state), entries: entryList.decode(state) }
  },
}

export class JournalError extends Error {
  override readonly name = 'JournalError'
}

export class EntryJournal {
  private fd: number | undefined
  private segment = 0
  /** Bytes in the current segment. */
  private bytes = 0

  constructor(readonly directory: string) {}

  /**
   * Reads every complete record, oldest first, and starts a new segment for what follows. A record cut short by a
   * crash (its write never returned, so its entries were never pushed or acted on) ends its segment's records.
   * `owner` is the key of the log the journal belongs to: a journal left by another log is a JournalError.
   */
  open(owner: Buffer): JournalRecord[] {
    mkdirSync(this.directory, { recursive: true })
    const ownerPath = join(this.directory, OWNER_FILE)
    if (!existsSync(ownerPath)) writeFileSync(ownerPath, owner.toString('hex'))
    else if (readFileSync(ownerPath, 'utf8').trim() !== owner.toString('hex')) {
      throw new JournalError(`the entry journal in ${this.directory} belongs to another trade log`)
    }
    const records: JournalRecord[] = []
    for (const n of this.segments()) {
      this.segment = Math.max(this.segment, n)
      records.push(...readSegment(join(this.directory, segmentName(n))))
    }
    return records
  }

  /**
   * Appends one record; returns once the operating system holds it (a killed process does not lose it). A write
   * that fails (a full disk) leaves no part of the record behind to be read as one, and later records start a
   * new segment.
   */
  write(r: JournalRecord): void {
    const encoded = c.encode(record, r)
    const body = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength)
    const out = Buffer.allocUnsafe(HEAD_BYTES + body.byteLength)
    out.writeUInt32LE(body.byteLength, 0)
    sodium.crypto_generichash(out.subarray(4, HEAD_BYTES), body)
    body.copy(out, HEAD_BYTES)
    if (this.fd === undefined) {
      this.fd = openSync(join(this.directory, segmentName(++this.segment)), 'a')
      this.bytes = 0
    }
    try {
      for (let at = 0; at < out.byteLength; ) at += writeSync(this.fd, out, at)
      this.bytes += out.byteLength
    } catch (err) {
      try {
        ftruncateSync(this.fd, this.bytes)
      } catch {
        // a torn record left at the end of this segment ends its reading; the next records are in a new one
      }
      this.cut()
      throw err
    }
  }

  /** Ends the current segment: later records go to a new one. Returns the last segment written so far. */
  cut(): number {
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
    return this.segment
  }

  /** Deletes the segments up to `last` (a block now holds their entries). */
  drop(last: number): void {
    for (const n of this.segments()) if (n <= last) unlinkSync(join(this.directory, segmentName(n)))
  }

  close(): void {
    this.cut()
  }

  private segments(): number[] {
    return readdirSync(this.directory)
      .filter((f) => f.endsWith(SUFFIX))
      .map((f) => Number(f.slice(0, -SUFFIX.length)))
      .filter((n) => Number.isSafeInteger(n))
      .sort((a, b) => a - b)
  }
}

const segmentName = (n: number): string => `${String(n).padStart(10, '0')}${SUFFIX}`

function readSegment(path: string): JournalRecord[] {
  const bytes = readFileSync(path)
  const records: JournalRecord[] = []
  const hash = Buffer.alloc(16)
  for (let at = 0; at + HEAD_BYTES <= bytes.byteLength; ) {
    const length = bytes.readUInt32LE(at)
    const body = bytes.subarray(at + HEAD_BYTES, at + HEAD_BYTES + length)
    if (body.byteLength < length) break // cut short
    sodium.crypto_generichash(hash, body)
    if (!hash.equals(bytes.subarray(at + 4, at + HEAD_BYTES))) break
    try {
      records.push(c.decode(record, body))
    } catch {
      break
    }
    at += HEAD_BYTES + length
  }
  return records
}
