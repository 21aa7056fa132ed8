export { AggregateBuilder, encodeAggregated, type AggregationInput } from './aggregate-builder.js'
export { decodeAggregated, isAggregated, type DeaggregatedRecord, type OuterKeys } from './decode.js'
export { AGGREGATED_RECORD_PROTO, AGGREGATE_OVERHEAD, KPL_MAGIC, hasKplMagic } from './schema.js'
export { varintLength } from './varint.js'
