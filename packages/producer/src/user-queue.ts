import type { PendingUserRecord } from './pending.js'

/**
 * User records in order, oldest first: a FIFO that can also take records back at its head (a failed
 * try goes back before everything that came after it). Counts their bytes.
 */
export class UserQueue {
  #users: (PendingUserRecord | undefined)[] = []
  #head = 0
  #bytes = 0

  get size(): number {
    return this.#users.length - this.#head
  }

  /** data + partition key bytes of the records held. */
  get bytes(): number {
    return this.#bytes
  }

  /** The record `index` places behind the head (0: the head). */
  peek(index = 0): PendingUserRecord | undefined {
    return this.#users[this.#head + index]
  }

  push(user: PendingUserRecord): void {
    this.#users.push(user)
    this.#bytes += user.bytes
  }

  shift(): PendingUserRecord | undefined {
    const user = this.#users[this.#head]
    if (user === undefined) return undefined
    this.#users[this.#head++] = undefined
    this.#bytes -= user.bytes
    if (this.#head === this.#users.length) {
      this.#users.length = 0
      this.#head = 0
    } else if (this.#head > 1024 && this.#head * 2 > this.#users.length) {
      // Compact now and then so a long-lived queue does not keep a long dead prefix.
      this.#users = this.#users.slice(this.#head)
      this.#head = 0
    }
    return user
  }

  /** Puts `users` back at the head, in their order, before everything held. */
  unshiftAll(users: readonly PendingUserRecord[]): void {
    if (users.length === 0) return
    for (const user of users) this.#bytes += user.bytes
    if (this.#head >= users.length) {
      // Usually they were just taken from the head: their slots are still free.
      this.#head -= users.length
      for (let i = 0; i < users.length; i++) this.#users[this.#head + i] = users[i]
      return
    }
    this.#users = [...users, ...this.#users.slice(this.#head)]
    this.#head = 0
  }

  /** Takes every record out, oldest first. */
  takeAll(): PendingUserRecord[] {
    const users = this.#users.slice(this.#head) as PendingUserRecord[]
    this.#users = []
    this.#head = 0
    this.#bytes = 0
    return users
  }
}
