// Money is shown in ether with its unit, never as raw wei; amounts typed in ether are checked before they leave.
import { formatEther, parseEther } from 'ethers'

export function ether(wei: string | undefined): string {
  if (wei === undefined) return '…'
  const [whole, frac = ''] = formatEther(BigInt(wei)).split('.')
  const shown = frac.slice(0, 6).replace(/0+$/, '')
  return `${whole}${shown ? `.${shown}` : ''} ETH`
}

/** Ether typed by a person as wei, or an error sentence. */
export function toWei(text: string): { wei: string } | { error: string } {
  const t = text.trim()
  if (!/^\d+(\.\d{1,18})?$/.test(t)) return { error: 'Enter an amount in ether, like 0.5' }
  const wei = parseEther(t)
  if (wei <= 0n) return { error: 'The amount must be more than zero' }
  return { wei: wei.toString() }
}

export function short(address: string): string {
  return `${address.slice(0, 6)}…${address.slice(-4)}`
}
