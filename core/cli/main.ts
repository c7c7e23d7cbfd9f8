#!/usr/bin/env node
// The command-line entry. Commands: devnet (the embedded local chain with a channel on it).
import { parseArgs } from 'node:util'
import { runDevnetCommand } from './devnet-command.js'

const USAGE = `usage: offchain-channel devnet [--members N] [--deposit ETH] [--once]

  devnet   start a local chain (anvil on 127.0.0.1), deploy a channel, have N dev accounts join
           and land the first checkpoint; keeps running until Ctrl-C (--once: exit when done)`

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === undefined || command === '--help' || command === '-h') {
    console.log(USAGE)
    return command === undefined ? 2 : 0
  }
  if (command !== 'devnet') {
    console.error(`unknown command: ${command}\n${USAGE}`)
    return 2
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      members: { type: 'string', default: '4' },
      deposit: { type: 'string', default: '10' },
      once: { type: 'boolean', default: false },
    },
  })
  await runDevnetCommand({
    members: Number(values.members),
    depositEth: values.deposit,
    once: values.once,
    log: (line) => console.log(line),
  })
  return 0
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // A person reads this: the message, not a stack.
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  },
)
