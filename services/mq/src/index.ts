// EasyMQ: the broker's public pieces for other code (the client lives in ./client).
export {
  MqClient,
  MqAdmin,
  Subscription,
  partitionOf,
  type Delivery,
  type SubscribeOptions,
  type MessageInput,
} from './client/index.js';
export { runMqCommand, MQ_USAGE, type CliIo } from './cli/mq-command.js';
export { mqSchema, type MqConfig } from './config.js';
export { BusChannel, type BusChannelOptions } from './rpc/bus-channel.js';
export { serveOnQueue, type BusServeOptions } from './rpc/bus-server.js';
