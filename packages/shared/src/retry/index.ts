export { backoffDelay, sleep, type BackoffOptions } from './backoff.js'
export {
  awsErrorCode,
  classifyError,
  errorVerdict,
  toAwsCallError,
  type ErrorClassification,
  type ErrorVerdict,
} from './classify.js'
export { retry, type RetryOptions } from './retry.js'
