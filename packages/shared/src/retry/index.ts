export { backoffDelay, sleep, type BackoffOptions } from './backoff.js'
export { awsErrorCode, classifyError, toAwsCallError, type ErrorClassification } from './classify.js'
