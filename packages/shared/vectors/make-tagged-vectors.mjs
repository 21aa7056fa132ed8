// Makes the `tagged-*` vectors of kpl-aggregated.json with protobufjs from the proto2 schema, not with
// this project's encoder (see README.md). Run from the repository root:
//   node packages/shared/vectors/make-tagged-vectors.mjs
// It prints the vectors as JSON; they were pasted into kpl-aggregated.json once.
import { createHash } from 'node:crypto'
import protobuf from 'protobufjs'

const SCHEMA = `
syntax = "proto2";
message AggregatedRecord {
  repeated string partition_key_table = 1;
  repeated string explicit_hash_key_table = 2;
  repeated Record records = 3;
}
message Tag {
  required string key = 1;
  optional string value = 2;
}
message Record {
  required uint64 partition_key_index = 1;
  optional uint64 explicit_hash_key_index = 2;
  required bytes data = 3;
  repeated Tag tags = 4;
}
`
const AggregatedRecord = protobuf.parse(SCHEMA).root.lookupType('AggregatedRecord')
const MAGIC = Buffer.from([0xf3, 0x89, 0x9a, 0xc2])

function aggregate(message) {
  const body = Buffer.from(AggregatedRecord.encode(AggregatedRecord.fromObject(message)).finish())
  return Buffer.concat([MAGIC, body, createHash('md5').update(body).digest()]).toString('base64')
}

const cases = [
  {
    name: 'tagged-single-record',
    message: {
      partitionKeyTable: ['order-17'],
      records: [
        {
          partitionKeyIndex: 0,
          data: Buffer.from('{"id":17}'),
          tags: [
            { key: 'traceparent', value: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
            { key: 'content-type', value: 'application/json' },
          ],
        },
      ],
    },
  },
  {
    name: 'tagged-mixed',
    message: {
      partitionKeyTable: ['k1', 'k2'],
      explicitHashKeyTable: ['42'],
      records: [
        { partitionKeyIndex: 0, data: Buffer.from('no tags') },
        {
          partitionKeyIndex: 1,
          explicitHashKeyIndex: 0,
          data: Buffer.from([0, 1, 2, 255]),
          tags: [{ key: 'clé', value: 'värde 🔑' }, { key: 'empty', value: '' }, { key: 'no-value' }],
        },
        { partitionKeyIndex: 0, data: Buffer.from('one tag'), tags: [{ key: 'x-retry', value: '3' }] },
      ],
    },
  },
]

const vectors = cases.map(({ name, message }) => ({
  name,
  userRecords: message.records.map((r) => ({
    partitionKey: message.partitionKeyTable[r.partitionKeyIndex],
    ...(r.explicitHashKeyIndex === undefined ? {} : { explicitHashKey: message.explicitHashKeyTable[r.explicitHashKeyIndex] }),
    data: Buffer.from(r.data).toString('base64'),
    // A tag without a value reads as the empty string.
    headers: Object.fromEntries((r.tags ?? []).map((t) => [t.key, t.value ?? ''])),
  })),
  aggregated: { partitionKey: 'a', data: aggregate(message) },
  source: 'protobufjs 7 encode() from the proto2 schema (make-tagged-vectors.mjs)',
}))
console.log(JSON.stringify(vectors, null, 1))
