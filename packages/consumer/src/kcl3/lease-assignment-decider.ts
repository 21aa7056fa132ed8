import { shuffled } from '../leases/lease-taker.js'
import type { Lease } from '../leases/lease.js'
import {
  type AssignmentThresholds,
  type ObservedLease,
  Plan,
  type Worker,
  expiredOrUnassigned,
  isShardEnd,
} from './assignment-plan.js'
import type { WorkerMetricStats } from './contracts.js'

/*
 * The Java KCL 3.x leader's assignment algorithm as pure functions: one call plans one run of the
 * LeaseAssignmentManager (J/coordinator/assignment/LeaseAssignmentManager.java and
 * VarianceBasedLeaseAssignmentDecider.java). Nothing here reads a clock or the table.
 */

export {
  type AssignmentThresholds,
  DEFAULT_ASSIGNMENT_THRESHOLDS,
  type ObservedLease,
  actualOwner,
  emaOf,
} from './assignment-plan.js'

export interface PlannedMove {
  readonly observed: ObservedLease
  readonly toWorker: string
}

export interface AssignmentWrite {
  readonly lease: Lease
  readonly toWorker: string
  readonly kind: 'assign' | 'handoff'
}

/** Step 1, Java assignExpiredOrUnassignedLeases: oldest counter change first, each to the top worker. */
function assignExpiredOrUnassigned(plan: Plan, leases: readonly ObservedLease[]): void {
  const candidates = leases.filter(expiredOrUnassigned).sort((a, b) => a.lastCounterChangeAt - b.lastCounterChangeAt)
  for (const observed of candidates) {
    const worker = plan.poll()
    if (worker === undefined) return
    plan.assign(observed, worker, true)
  }
}

/** Java getWorkersToTakeLeasesFromIfRequired: donors for one metric, empty when all are within bounds. */
function donorsFor(plan: Plan, workers: readonly Worker[], name: string, average: number): Worker[] {
  const threshold = plan.limits.reBalanceThresholdPercentage / 100
  const upper = average * (1 + threshold)
  const lower = average * (1 - threshold)
  const donors: Worker[] = []
  let mostLoaded: Worker | undefined
  let trigger = false
  for (const worker of workers) {
    const value = worker.values.get(name)!
    const aboveRange = value > worker.maxUtilization.get(name)!
    if (value > upper || value < lower || aboveRange) trigger = true
    if (value >= upper || aboveRange) donors.push(worker)
    if (mostLoaded === undefined || mostLoaded.values.get(name)! < value) mostLoaded = worker
  }
  if (donors.length === 0 && mostLoaded !== undefined) donors.push(mostLoaded)
  return trigger ? donors : []
}

/** Java getLeasesToTake / getLeasesCombiningToThroughput. */
function leasesToTake(plan: Plan, workerId: string, throughputToTake: number, random: () => number): ObservedLease[] {
  const held = shuffled([...(plan.leasesOf.get(workerId) ?? [])], random)
  if (held.length === 0) return []
  // Nothing measured: throughput cannot choose, so one lease moves per run.
  if (plan.throughput(workerId) === 0) return held.slice(0, 1)
  const taken: ObservedLease[] = []
  let remaining = throughputToTake
  for (const observed of held) {
    const throughput = plan.leaseThroughput.get(observed)!
    if (remaining - throughput <= 0) continue
    remaining -= throughput
    taken.push(observed)
  }
  if (taken.length === 0 && plan.limits.allowThroughputOvershoot) {
    let smallest = held[0]!
    for (const o of held) if (plan.leaseThroughput.get(o)! < plan.leaseThroughput.get(smallest)!) smallest = o
    taken.push(smallest)
  }
  return taken
}

/** Step 2, Java balanceWorkerVariance: the metric needing the most throughput moved wins. */
function balanceWorkerVariance(plan: Plan, random: () => number): void {
  let toTake = new Map<string, number>()
  let largest = -1
  for (const [name, average] of [...plan.fleetAverage].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const withMetric = plan.workers.filter((w) => w.metricNames.includes(name))
    const forMetric = new Map<string, number>()
    let total = 0
    for (const donor of donorsFor(plan, withMetric, name, average)) {
      const value = donor.values.get(name)!
      const share = ((value - average) / value) * (plan.limits.dampeningPercentage / 100)
      const throughput = plan.throughput(donor.id) * share
      total += throughput
      forMetric.set(donor.id, throughput)
    }
    if (largest < total) {
      largest = total
      toTake = forMetric
    }
  }
  for (const [donorId, throughput] of [...toTake].sort(([, a], [, b]) => b - a)) {
    for (const observed of leasesToTake(plan, donorId, throughput, random)) {
      const receiver = plan.poll()
      // Java drops this receiver from the queue for the rest of the run, and this donor keeps the rest.
      if (receiver !== undefined && plan.wouldOverfill(receiver, plan.leaseThroughput.get(observed)!)) break
      if (receiver !== undefined) plan.assign(observed, receiver, false)
    }
  }
}

export interface PlanInput {
  readonly leases: readonly ObservedLease[]
  /** The active workers (activeWorkerMetrics): others neither give nor receive. */
  readonly workers: readonly WorkerMetricStats[]
  /** Run step 2 too (Java: every varianceBalancingFrequency runs, the first after taking leadership included). */
  readonly balance: boolean
  readonly thresholds: AssignmentThresholds
  readonly random?: (() => number) | undefined
}

/** One run of the Java decider: every lease that changes worker, with its new worker. */
export function planAssignments(input: PlanInput): PlannedMove[] {
  const plan = new Plan(input.leases, input.workers, input.thresholds)
  assignExpiredOrUnassigned(plan, input.leases)
  if (input.balance) balanceWorkerVariance(plan, input.random ?? Math.random)
  return [...plan.moves].map(([observed, toWorker]) => ({ observed, toWorker }))
}

/**
 * Java Lease.blockedOnPendingCheckpoint: a lease already in a graceful handoff waits for its old
 * owner until the handoff times out, unless it expired, was unassigned or reached SHARD_END.
 */
export function blockedOnPendingCheckpoint(observed: ObservedLease, nowMs: number): boolean {
  if (expiredOrUnassigned(observed) || isShardEnd(observed.lease)) return false
  if (observed.lease.checkpointOwner === undefined) return false
  return observed.handoffTimeoutAt === undefined || nowMs < observed.handoffTimeoutAt
}

/** Java Lease.isEligibleForGracefulShutdown: a live lease with work left and no handoff under way. */
export function eligibleForGracefulHandoff(observed: ObservedLease): boolean {
  return !expiredOrUnassigned(observed) && !isShardEnd(observed.lease) && observed.lease.checkpointOwner === undefined
}

/** Java parallelyAssignLeases' choice per move: skip the blocked, hand off the eligible, assign the rest. */
export function writesFor(
  moves: readonly PlannedMove[],
  nowMs: number,
  isGracefulLeaseHandoffEnabled: boolean,
): AssignmentWrite[] {
  return moves
    .filter(({ observed }) => !blockedOnPendingCheckpoint(observed, nowMs))
    .map(({ observed, toWorker }) => ({
      lease: observed.lease,
      toWorker,
      kind: isGracefulLeaseHandoffEnabled && eligibleForGracefulHandoff(observed) ? 'handoff' : 'assign',
    }))
}
