// Location unit: owns partitions of `mq_gps`, indexes latest positions in
// memory, persists GPS to MongoDB and answers map-reduce queries (docs/location.md).
import { mainOf, runService } from '../../runtime/src/run.js';
import { locationUnitSchema } from './config.js';
import { startLocationUnit } from './location-unit.js';

mainOf(() => runService('location-unit', locationUnitSchema, startLocationUnit));
