// Queue declarations in MongoDB (collection mq_queues): spec, password hash and
// the queue's incarnation id (uid). Stored records carry the uid, so records of
// a deleted queue never come back when a queue of the same name is created again.
import type { Collection, Db } from 'mongodb';
import type { QueueDeclaration } from '../queue-spec.js';

export interface StoredQueue {
  _id: string;
  uid: string;
  spec: QueueDeclaration;
  hash: string;
  createdAt: number;
}

export const QUEUES_COLLECTION = 'mq_queues';

export class Declarations {
  private readonly col: Collection<StoredQueue>;

  constructor(db: Db) {
    this.col = db.collection<StoredQueue>(QUEUES_COLLECTION);
  }

  async list(): Promise<StoredQueue[]> {
    return this.col.find({}).toArray();
  }

  async put(q: StoredQueue): Promise<void> {
    await this.col.replaceOne({ _id: q._id }, q, { upsert: true });
  }

  async remove(name: string): Promise<void> {
    await this.col.deleteOne({ _id: name });
  }
}
