// Before the first deposit: is the address a channel of this app's contract, and what does it let its members do?
// The runtime code must equal the compiled contract's, compared with the immutables masked out (each deployment
// writes its own settings and EIP-712 cache into the code). Equal code is not enough: anyone can deploy that code
// with initcode of their own and any immutables, skipping the constructor's bounds, so the settings read back must
// lie within those bounds too, the EIP-712 domain must be the one the app signs for, and the deployment block the
// channel claims (where its events start) must not be later than its real one.
import { Contract, getBytes, keccak256, type Provider } from 'ethers'
import { domainSeparator } from '../protocol/eip712.js'
import type { Hex } from '../protocol/types.js'
import { CHANNEL_LIMITS, settingsProblem } from './channel-limits.js'
import { ChannelClient } from './channel-client.js'
import { ChainError, toChainError } from './errors.js'
import { abi, deployedBytecode, immutableRanges } from './generated/Channel.js'

/** What a channel lets its members do, read from the chain after its code checked out. */
export interface ChannelSettings {
  address: string
  /** Seconds a challenged leader has to answer. */
  responseWindow: bigint
  /** Seconds a checkpoint signed by a majority waits for a challenge from a member without a vote. */
  challengeWindow: bigint
  /** Seconds without a checkpoint after which any member may close the channel and everyone withdraws. */
  staleAfter: bigint
  /** Transfers a member may make or receive per epoch. */
  txCap: number
  /** Wei a join must bring at least. */
  minDeposit: bigint
  /** Members now, and the most the channel holds. */
  members: number
  maxMembers: number
  /** Whether only the accounts the creator chose may join (else anyone with the address). */
  inviteOnly: boolean
  /** Whether `account` (when given) may join: invited, or the channel is open. */
  mayJoin: boolean | undefined
  closed: boolean
}

/** keccak256 of runtime code with every immutable's bytes zeroed. */
export function maskedCodeHash(code: string | Uint8Array): Hex {
  const bytes = getBytes(code).slice() // a copy: the caller's bytes stay as they were
  for (const { start, length } of immutableRanges) {
    if (start + length <= bytes.length) bytes.fill(0, start, start + length)
  }
  return keccak256(bytes) as Hex
}

const EXPECTED_LENGTH = getBytes(deployedBytecode).length
/** The compiled channel contract's runtime code hash, immutables masked. */
export const CHANNEL_CODE_HASH: Hex = maskedCodeHash(deployedBytecode)

/**
 * Refuses (ChainError UNKNOWN_CONTRACT) an address whose runtime code is not the compiled channel contract's:
 * no code (an account, a wrong address or network) or other code.
 */
export async function verifyChannelCode(provider: Provider, address: string): Promise<void> {
  let code: string
  try {
    code = await provider.getCode(address)
  } catch (err) {
    throw toChainError(err, new Contract(address, abi).interface)
  }
  if (code === '0x') {
    throw new ChainError(
      'UNKNOWN_CONTRACT',
      `There is no contract at ${address} on this network, so there is no channel to join: check the invite, and that the app is on the channel's network. Nothing was sent.`,
    )
  }
  if (getBytes(code).length !== EXPECTED_LENGTH || maskedCodeHash(code) !== CHANNEL_CODE_HASH) {
    throw new ChainError(
      'UNKNOWN_CONTRACT',
      `The contract at ${address} is not this app's channel contract (its code differs), so the app will not send money to it. Ask whoever sent the invite to check it; nothing was sent.`,
    )
  }
}

/**
 * Checks the code at `address` (verifyChannelCode), then reads its settings and refuses (ChainError
 * UNSAFE_SETTINGS) a channel this contract's constructor could not have made. `account`: whose right to join to
 * report in `mayJoin`.
 */
export async function readChannelSettings(provider: Provider, address: string, account?: string): Promise<ChannelSettings> {
  await verifyChannelCode(provider, address)
  const client = ChannelClient.at(address, provider)
  const contract = new Contract(address, abi, provider)
  const read = async <T>(name: string, ...args: unknown[]): Promise<T> => {
    try {
      return (await contract.getFunction(name).staticCall(...args)) as T
    } catch (err) {
      throw toChainError(err, contract.interface)
    }
  }
  const [params, members, status, inviteOnly, invited, deployedAt, separator, network, head] = await Promise.all([
    client.params(),
    client.memberCount(),
    client.status(),
    read<boolean>('inviteOnly'),
    account === undefined ? Promise.resolve(undefined) : read<boolean>('invited', account),
    read<bigint>('deployedAt'),
    client.domainSeparator(),
    provider.getNetwork(),
    provider.getBlockNumber(),
  ])
  const unsafe = (why: string): ChainError =>
    new ChainError(
      'UNSAFE_SETTINGS',
      `The channel at ${address} carries this app's contract code but was not set up by its constructor (${why}), so the app will not send money to it. Nothing was sent.`,
    )
  const challengeWindow = params.challengeWindow ?? 0n
  const minDeposit = params.minDeposit ?? 0n
  const problem = settingsProblem({ responseWindow: params.responseWindow, staleAfter: params.staleAfter, txCap: params.txCap, challengeWindow, minDeposit })
  if (problem) throw unsafe(problem)
  if (members > CHANNEL_LIMITS.maxMembers) throw unsafe(`it lists ${members} members`)
  if (separator.toLowerCase() !== domainSeparator({ chainId: network.chainId, verifyingContract: address }).toLowerCase()) {
    throw unsafe('its signing domain is not the one the app signs for')
  }
  if (deployedAt > BigInt(head)) throw unsafe(`it claims deployment in block ${deployedAt}, after the latest block ${head}`)
  if (deployedAt > 0n) {
    // A deployment block later than the real one would hide the channel's first events. A node that no longer has
    // the state of that block cannot say; one that has it must show no code there yet.
    const before = await provider.getCode(address, Number(deployedAt) - 1).catch(() => '0x')
    if (before !== '0x') throw unsafe(`it claims deployment in block ${deployedAt} but was there before`)
  }
  return {
    address,
    responseWindow: params.responseWindow,
    challengeWindow,
    staleAfter: params.staleAfter,
    txCap: params.txCap,
    minDeposit,
    members,
    maxMembers: CHANNEL_LIMITS.maxMembers,
    inviteOnly,
    mayJoin: account === undefined ? undefined : !inviteOnly || invited === true,
    closed: status.closed,
  }
}
