// The headless node's commands, one JSON object a line on stdin, read strictly: anything that is not a known
// command with well-formed fields becomes a sentence for an `error` event, never a throw (a `null` line used to end
// the process).
import { z } from 'zod'
import { amountTextProblem } from '../node/amount-limit.js'
import { errorMessage } from '../util/error-message.js'

/** What a supervisor may tag a command with, echoed in its answer; anything else is not echoed. */
const id = z.union([z.string().max(200), z.number()]).optional()

/** Wei as a decimal string or a whole number (JSON numbers lose precision above 2^53, so strings are preferred). */
const amount = z
  .union([z.string(), z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)])
  .transform((v, ctx) => {
    const text = String(v)
    const problem = amountTextProblem(text)
    if (problem) {
      ctx.addIssue({ code: 'custom', message: problem.message })
      return z.NEVER
    }
    return BigInt(text)
  })

const COMMAND = z.discriminatedUnion('cmd', [
  z.object({ cmd: z.literal('send'), id, to: z.number().int().min(0).max(63), amount }),
  z.object({ cmd: z.literal('state'), id }),
  z.object({ cmd: z.literal('exit'), id }),
  /** As leader, close the running epoch now (benchmarks, a "checkpoint now" button). */
  z.object({ cmd: z.literal('close-epoch'), id }),
  z.object({ cmd: z.literal('quit'), id }),
])

export type StdinCommand = z.infer<typeof COMMAND>
export const COMMAND_NAMES = ['send', 'state', 'exit', 'close-epoch', 'quit'] as const

/** A line read: the command, or why it is none (with the id it carried, if one can be echoed). */
export type ParsedLine = { ok: true; command: StdinCommand } | { ok: false; message: string; id?: string | number }

export function parseCommandLine(line: string): ParsedLine {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    return { ok: false, message: 'not JSON: each line is one command, like {"cmd":"state"}' }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, message: 'not a command: each line is a JSON object, like {"cmd":"state"}' }
  }
  const given = (value as { id?: unknown }).id
  const echo = typeof given === 'number' || (typeof given === 'string' && given.length <= 200) ? { id: given } : {}
  const cmd = (value as { cmd?: unknown }).cmd
  if (typeof cmd !== 'string' || !(COMMAND_NAMES as readonly string[]).includes(cmd)) {
    const shown = typeof cmd === 'string' ? JSON.stringify(cmd.slice(0, 40)) : typeof cmd
    return { ok: false, message: `unknown command ${shown}: one of ${COMMAND_NAMES.join(', ')}`, ...echo }
  }
  try {
    const parsed = COMMAND.safeParse(value)
    if (parsed.success) return { ok: true, command: parsed.data }
    const issue = parsed.error.issues[0]
    return { ok: false, message: `${cmd}: ${issue ? `${issue.path.join('.') || 'command'}: ${issue.message}` : 'bad command'}`, ...echo }
  } catch (err) {
    return { ok: false, message: `${cmd}: ${errorMessage(err)}`, ...echo } // a schema never throws; if one did, still an answer
  }
}
