import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'
import type { PutMetricDataInput } from '@kinesis-ts/shared'

/**
 * A loopback stand-in for the CloudWatch endpoint (no local CloudWatch server exists): it answers
 * PutMetricData as the service does in the AWS JSON 1.0 protocol and keeps what the SDK sent.
 */
export async function startCloudWatchCapture(): Promise<{
  endpoint: string
  requests: PutMetricDataInput[]
  sum(metric: string, dimensions?: Record<string, string>): number
  close(): Promise<void>
}> {
  const requests: PutMetricDataInput[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      if (String(req.headers['x-amz-target']).endsWith('.PutMetricData')) {
        // The SDK gzips PutMetricData bodies over 10 KiB (request compression), as the service accepts.
        const body = Buffer.concat(chunks)
        const json = req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body
        requests.push(JSON.parse(json.toString()) as PutMetricDataInput)
      }
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' })
      res.end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    sum(metric, dimensions = {}) {
      let total = 0
      for (const request of requests) {
        for (const datum of request.MetricData) {
          const dims = Object.fromEntries((datum.Dimensions ?? []).map((d) => [d.Name, d.Value]))
          const same =
            Object.keys(dims).length === Object.keys(dimensions).length &&
            Object.entries(dimensions).every(([k, v]) => dims[k] === v)
          if (datum.MetricName === metric && same) total += datum.StatisticValues.Sum
        }
      }
      return total
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
