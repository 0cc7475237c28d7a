// Which partition of `mq_gps` a user's points go to. It must be the mq's own
// partitioner (the message key is the user id), because `latest(user)` is
// routed straight to the owner of that partition without asking anyone.
export { partitionOf } from '../../mq/src/partitioner.js';
