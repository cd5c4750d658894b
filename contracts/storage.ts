/**
 * The single DynamoDB table's attribute names, shared by the stateful stack (which creates the table)
 * and the adapters (which read and write it). The key layout itself lives with the adapters
 * (lambdas/adapters/dynamodb-keys.ts): only these names cross the boundary.
 */

/** Partition key attribute (string). */
export const PARTITION_KEY = "pk";

/** Sort key attribute (string). */
export const SORT_KEY = "sk";

/** DynamoDB time-to-live attribute (epoch seconds): pending predictions, quarantine, decisions. */
export const TTL_ATTRIBUTE = "ttl";
