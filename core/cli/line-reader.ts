// Lines from a stream, each at most `maxBytes` long: readline would hold a line of any length in memory until its
// newline came, so a supervisor (or anything writing to the pipe) could grow the node's memory without bound. A
// longer line is skipped up to its newline and reported by its length instead.
import type { Readable } from 'node:stream'

export type LineRead = { line: string } | { tooLong: number }

export async function* boundedLines(input: Readable, maxBytes: number): AsyncGenerator<LineRead> {
  let parts: Buffer[] = []
  let held = 0
  let skipping = 0 // bytes of an over-long line dropped so far; 0 while reading a normal one
  const finish = (): LineRead => {
    if (skipping > 0) {
      const tooLong = skipping
      skipping = 0
      return { tooLong }
    }
    // A newline byte never occurs inside a multi-byte UTF-8 character: each line decodes on its own.
    const line = Buffer.concat(parts).toString('utf8').replace(/\r$/, '')
    parts = []
    held = 0
    return { line }
  }
  for await (const chunk of input) {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
    for (;;) {
      const nl = buf.indexOf(0x0a)
      const piece = nl < 0 ? buf : buf.subarray(0, nl)
      if (skipping > 0) skipping += piece.length
      else if (held + piece.length > maxBytes) {
        skipping = held + piece.length
        parts = []
        held = 0
      } else {
        parts.push(Buffer.from(piece)) // a copy: the chunk's memory is not kept alive by a short line
        held += piece.length
      }
      if (nl < 0) break
      yield finish()
      buf = buf.subarray(nl + 1)
    }
  }
  if (held > 0 || skipping > 0) yield finish()
}
