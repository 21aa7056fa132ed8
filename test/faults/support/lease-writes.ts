import { stringAt } from '../../support/fault-proxy.js'

/** What a lease-table UpdateItem of the consumer does, read from its request body. */
export type LeaseWriteKind = 'renew' | 'take' | 'checkpoint' | 'prepareCheckpoint' | 'evict' | 'other'

export interface LeaseWrite {
  readonly kind: LeaseWriteKind
  readonly leaseKey: string | undefined
  /** The worker the write is for: the owner it sets (take) or the one its condition names. */
  readonly owner: string | undefined
  /** The checkpoint it sets (checkpoint writes only). */
  readonly checkpoint: string | undefined
}

type Names = Record<string, string>

/** `#a1 = :v2, #a3 = :v4` → attribute name → value placeholder. */
function assignments(clause: string | undefined, names: Names): Map<string, string> {
  const out = new Map<string, string>()
  for (const match of (clause ?? '').matchAll(/(#\w+)\s*=\s*(:\w+)/g)) {
    const name = names[match[1]!]
    if (name !== undefined) out.set(name, match[2]!)
  }
  return out
}

function clause(expression: string, keyword: string): string | undefined {
  const match = new RegExp(`\\b${keyword}\\s+(.*?)(?=\\s+(?:SET|ADD|REMOVE|DELETE)\\s|$)`).exec(expression)
  return match?.[1]
}

/**
 * Reads an UpdateItem body as the consumer's LeaseStore writes it: a renewal sets only
 * leaseCounter; a take sets leaseOwner; a checkpoint sets checkpoint; an eviction removes leaseOwner.
 */
export function leaseWriteOf(body: Readonly<Record<string, unknown>>): LeaseWrite {
  const names = (body.ExpressionAttributeNames ?? {}) as Names
  const values = body.ExpressionAttributeValues ?? {}
  const expression = typeof body.UpdateExpression === 'string' ? body.UpdateExpression : ''
  const set = assignments(clause(expression, 'SET'), names)
  const removed = (clause(expression, 'REMOVE') ?? '').split(',').map((placeholder) => names[placeholder.trim()])
  const condition = assignments(typeof body.ConditionExpression === 'string' ? body.ConditionExpression : '', names)
  const stringValue = (placeholder: string | undefined) =>
    placeholder === undefined ? undefined : stringAt(values, placeholder, 'S')
  const leaseKey = stringAt(body, 'Key', 'leaseKey', 'S')

  let kind: LeaseWriteKind = 'other'
  if (set.has('checkpoint')) kind = 'checkpoint'
  else if (set.has('pendingCheckpoint')) kind = 'prepareCheckpoint'
  else if (set.has('leaseOwner')) kind = 'take'
  else if (removed.includes('leaseOwner')) kind = 'evict'
  else if (set.size === 1 && set.has('leaseCounter') && condition.has('leaseOwner')) kind = 'renew'

  const owner = kind === 'take' ? stringValue(set.get('leaseOwner')) : stringValue(condition.get('leaseOwner'))
  return { kind, leaseKey, owner, checkpoint: stringValue(set.get('checkpoint')) }
}
