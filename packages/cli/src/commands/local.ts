import { startBackends } from '../backends.js'
import type { Command } from '../command.js'

export const localCommand: Command = {
  name: 'local',
  summary: 'Start kinesis-local and dynalite on free loopback ports and print their endpoints; Ctrl-C stops both.',
  details: [
    'Point kinesis-ts (or any AWS SDK) at them with the printed variables, e.g.:',
    '  eval "$(kinesis-ts local --env)"   # in another shell: prints only the export lines',
  ].join('\n'),
  options: {
    env: { type: 'boolean', description: 'print only shell export lines', default: false },
  },
  async run(values, { signal, stdout }) {
    const backends = await startBackends()
    try {
      if (values.env) {
        stdout.write(`export KINESIS_ENDPOINT=${backends.kinesisEndpoint}\n`)
        stdout.write(`export DYNAMODB_ENDPOINT=${backends.dynamodbEndpoint}\n`)
      } else {
        stdout.write(`Kinesis   ${backends.kinesisEndpoint}  (kinesis-local, HTTP/1.1)\n`)
        stdout.write(`DynamoDB  ${backends.dynamodbEndpoint}  (dynalite)\n`)
        stdout.write(`\nexport KINESIS_ENDPOINT=${backends.kinesisEndpoint}\n`)
        stdout.write(`export DYNAMODB_ENDPOINT=${backends.dynamodbEndpoint}\n`)
        stdout.write('\nAny access key works against them. Ctrl-C to stop.\n')
      }
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve()
        else signal.addEventListener('abort', () => resolve(), { once: true })
      })
      return 0
    } finally {
      await backends.stop()
    }
  },
}
