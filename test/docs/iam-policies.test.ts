import { describe, expect, it } from 'vitest'
import { codeBlocks, readRepoFile, section } from './markdown.js'
import { iamActionsOfPackage } from './sdk-commands.js'

interface Policy {
  Statement: { Effect: string; Action: string[] }[]
}

/** The root README's two policies, producer then consumer. */
function readmePolicies(): { producer: Policy; consumer: Policy } {
  const blocks = codeBlocks(section(readRepoFile('README.md'), '## Minimal IAM policies'), 'json')
  expect(blocks).toHaveLength(2)
  const [producer, consumer] = blocks.map((block) => JSON.parse(block) as Policy)
  return { producer: producer!, consumer: consumer! }
}

const actionsOf = (policy: Policy) => [...new Set(policy.Statement.flatMap((s) => s.Action))].sort()

describe('the README IAM policies grant exactly what the code calls', () => {
  it('the scan finds the calls it must (a broken scan would pass an empty policy)', () => {
    expect([...iamActionsOfPackage('producer').keys()]).toContain('kinesis:PutRecords')
    expect(iamActionsOfPackage('producer').get('cloudwatch:PutMetricData')).toEqual([
      'packages/shared/src/cloudwatch-metrics.ts',
    ])
    expect([...iamActionsOfPackage('consumer').keys()]).toContain('dynamodb:UpdateItem')
  })

  it('producer', () => {
    const { producer } = readmePolicies()
    expect(actionsOf(producer)).toEqual([...iamActionsOfPackage('producer').keys()].sort())
    expect(producer.Statement.every((s) => s.Effect === 'Allow')).toBe(true)
  })

  it('consumer', () => {
    const { consumer } = readmePolicies()
    expect(actionsOf(consumer)).toEqual([...iamActionsOfPackage('consumer').keys()].sort())
    expect(consumer.Statement.every((s) => s.Effect === 'Allow')).toBe(true)
  })
})
