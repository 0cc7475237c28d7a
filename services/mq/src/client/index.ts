// EasyMQ client: the public surface other services import.
export { MqClient, MqAdmin, toMessage, partitionOf, type MessageInput, type MqClientOptions } from './mq-client.js';
export { Subscription, type Delivery, type Handler, type SubscribeOptions } from './subscription.js';
export { MqConnection, isRetryable, type ConnectionOptions } from './connection.js';
export type { GroupInfo, GroupMember, PublishResult, QueueSpec, QueueStats } from '../../../../proto/gen/ts/mq.js';
